import { useEffect, useState } from "react";
import { useParams } from "react-router";
import { api } from "../api/client";
import type { NamingRule, ProjectSettings } from "../api/types";
import { ErrorBox } from "../components/common";
import { useAsync } from "../hooks";
import { forgetLegacyKeyMetrics, type KeyMetric, legacyKeyMetrics } from "../util";

export function SettingsView() {
  const { project = "" } = useParams();
  const settings = useAsync(() => api.settings(project), [project]);
  const [naming, setNaming] = useState<NamingRule>({ pattern: "", parent_from: "explicit", enforce: false });
  const [saveError, setSaveError] = useState<Error>();
  const [saved, setSaved] = useState(false);
  // the settings as the server last answered; each form saves only its own field (PATCH)
  const [current, setCurrent] = useState<ProjectSettings>({});
  const keys: KeyMetric[] = current.key_metrics ?? [];
  const [keyError, setKeyError] = useState<Error>();
  const [newKey, setNewKey] = useState("");
  const legacy = legacyKeyMetrics(project);

  useEffect(() => {
    if (!settings.data) return;
    setCurrent(settings.data);
    if (settings.data.naming) setNaming(settings.data.naming);
  }, [settings.data]);

  async function save(e: React.FormEvent) {
    e.preventDefault();
    setSaveError(undefined);
    setSaved(false);
    try {
      setCurrent(await api.patchSettings(project, { naming: naming.pattern.trim() ? naming : null }));
      setSaved(true);
    } catch (err) {
      setSaveError(err as Error);
    }
  }

  /** Saves the key metrics on the server; its error is shown under the list. */
  async function updateKeys(next: KeyMetric[]) {
    setKeyError(undefined);
    try {
      setCurrent(await api.patchSettings(project, { key_metrics: next }));
      return true;
    } catch (err) {
      setKeyError(err as Error);
      return false;
    }
  }

  return (
    <div style={{ maxWidth: 760 }}>
      <h1>Settings of {project}</h1>
      <ErrorBox error={settings.error} />
      <form className="card" onSubmit={save}>
        <h2 style={{ marginTop: 0 }}>Run naming rule</h2>
        <p className="muted">
          A regex with named groups matched against the whole run name. With “parent from group”, the
          <code> parent</code> group names the parent run's <code>id</code> group.
        </p>
        <div className="row">
          <input
            aria-label="naming pattern"
            className="mono"
            style={{ flex: 1 }}
            placeholder="(?P<id>\d+)_from_(?P<parent>\d+)_.*"
            value={naming.pattern}
            onChange={(e) => setNaming({ ...naming, pattern: e.target.value })}
          />
          <select
            aria-label="parent from"
            value={naming.parent_from}
            onChange={(e) => setNaming({ ...naming, parent_from: e.target.value as NamingRule["parent_from"] })}
          >
            <option value="explicit">parent: explicit</option>
            <option value="group">parent from group</option>
            <option value="none">no parent</option>
          </select>
          <label>
            <input
              type="checkbox"
              checked={naming.enforce}
              onChange={(e) => setNaming({ ...naming, enforce: e.target.checked })}
            />{" "}
            enforce
          </label>
          <button className="primary" type="submit">
            Save
          </button>
        </div>
        {saved && <p style={{ color: "var(--good)" }}>Saved.</p>}
        <ErrorBox error={saveError} />
      </form>

      <div className="card" style={{ marginTop: 16 }}>
        <h2 style={{ marginTop: 0 }}>Key metrics</h2>
        <p className="muted">
          Shown first in the runs table, judged against the baseline in their direction, and aggregated over each
          run's history as chosen: the last value, the best (lowest or highest) or the average. Saved in the
          project's settings on the server, so everyone sees the same.
        </p>
        <table className="plain">
          <tbody>
            {keys.map((k, i) => (
              <tr key={k.key}>
                <td className="mono">{k.key}</td>
                <td>
                  <select
                    aria-label={`direction of ${k.key}`}
                    value={k.direction}
                    onChange={(e) =>
                      updateKeys(keys.map((x, j) => (j === i ? { ...x, direction: e.target.value as "min" | "max" } : x)))
                    }
                  >
                    <option value="min">lower is better</option>
                    <option value="max">higher is better</option>
                  </select>
                </td>
                <td>
                  <select
                    aria-label={`aggregation of ${k.key}`}
                    value={k.aggregation}
                    onChange={(e) =>
                      updateKeys(
                        keys.map((x, j) => (j === i ? { ...x, aggregation: e.target.value as KeyMetric["aggregation"] } : x)),
                      )
                    }
                  >
                    <option value="last">last</option>
                    <option value="best">best</option>
                    <option value="average">average</option>
                  </select>
                </td>
                <td>
                  <button onClick={() => updateKeys(keys.filter((_, j) => j !== i))}>remove</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <form
          className="row"
          style={{ marginTop: 8 }}
          onSubmit={(e) => {
            e.preventDefault();
            const key = newKey.trim();
            if (key && !keys.some((k) => k.key === key))
              updateKeys([...keys, { key, direction: /acc|auc|f1|precision|recall|score/i.test(key) ? "max" : "min", aggregation: "last" }]).then(
                (ok) => ok && setNewKey(""),
              );
          }}
        >
          <input aria-label="key metric" placeholder="metric key, e.g. val_loss" value={newKey} onChange={(e) => setNewKey(e.target.value)} />
          <button type="submit">Add key metric</button>
        </form>
        <div data-testid="key-metric-error">
          <ErrorBox error={keyError} />
        </div>
        {settings.data && keys.length === 0 && legacy.length > 0 && (
          <p>
            This browser kept {legacy.length} key metric{legacy.length > 1 ? "s" : ""} from an earlier version (
            {legacy.map((k) => k.key).join(", ")}).{" "}
            <button
              onClick={async () => {
                if (await updateKeys(legacy)) forgetLegacyKeyMetrics(project);
              }}
            >
              Move them to the server
            </button>
          </p>
        )}
      </div>
    </div>
  );
}
