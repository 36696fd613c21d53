// One run: overview, params, features (tree with the diff against its
// parent), metrics (charts), logs (live while running), artifacts, media by
// step, lineage and the generated report. The tab is in the URL.

import { useState } from "react";
import { Link, useParams } from "react-router";
import { api, num } from "../api/client";
import { ArtifactBrowser } from "../components/Artifacts";
import { ErrorBox, Num, Status } from "../components/common";
import { FeatureTree } from "../components/FeatureTree";
import { RunMedia } from "../components/Media";
import { Provenance } from "../components/Provenance";
import { RunLogs } from "../components/RunLogs";
import { RunReport } from "../components/RunReport";
import { type ChartOptions, ChartControls, MetricChart } from "../components/MetricChart";
import { useAsync } from "../hooks";
import { fmtDuration, fmtTime, shortId, useQueryParam } from "../util";

const TABS = ["overview", "params", "features", "metrics", "logs", "artifacts", "media", "lineage", "report"] as const;

export function RunView() {
  const { id = "" } = useParams();
  const [tab, setTab] = useQueryParam("tab", "overview");
  const run = useAsync(() => api.run(id), [id]);
  const r = run.data;
  return (
    <div>
      <ErrorBox error={run.error} />
      {r && (
        <>
          <div className="row" style={{ marginBottom: 8 }}>
            <Link to={`/projects/${encodeURIComponent(r.project)}`}>{r.project}</Link>
            <span className="muted">/ {r.experiment} /</span>
          </div>
          <h1 className="row">
            {r.name} <Status status={r.status} />
            <span className="muted mono" style={{ fontSize: 12 }}>
              {r.id}
            </span>
          </h1>
          <div className="tabs" role="tablist">
            {TABS.map((t) => (
              <button key={t} role="tab" aria-selected={tab === t} className={tab === t ? "on" : ""} onClick={() => setTab(t)}>
                {t}
              </button>
            ))}
          </div>
          {tab === "overview" && <Overview id={id} />}
          {tab === "params" && <KeyValues values={r.params} empty="No params." />}
          {tab === "features" && <Features id={id} />}
          {tab === "metrics" && <Metrics id={id} name={r.name} status={r.status} />}
          {tab === "logs" && <RunLogs runId={id} />}
          {tab === "artifacts" && <ArtifactBrowser runId={id} project={r.project} />}
          {tab === "media" && <RunMedia runId={id} />}
          {tab === "lineage" && <Provenance runId={id} />}
          {tab === "report" && <RunReport runId={id} />}
        </>
      )}
    </div>
  );
}

function Overview({ id }: { id: string }) {
  const run = useAsync(() => api.run(id), [id]);
  const features = useAsync(() => api.features(id), [id]);
  const children = useAsync(() => api.descendants(id, 1), [id]);
  const r = run.data;
  if (!r) return null;
  const tags = Object.entries(r.tags).filter(
    ([k]) => !["runlore.environment", "runlore.progress", "runlore.error"].includes(k) && !k.startsWith("mlflow.log-model"),
  );
  const env = parseEnvironment(r.tags["runlore.environment"]);
  const progress = Number(r.tags["runlore.progress"]);
  const commit = env?.git?.commit ?? r.tags["mlflow.source.git.commit"];
  return (
    <div className="row" style={{ alignItems: "flex-start", gap: 16 }}>
      <table className="plain card" data-testid="run-overview">
        <tbody>
          <tr><th>Status</th><td><Status status={r.status} /></td></tr>
          {Number.isFinite(progress) && r.tags["runlore.progress"] !== undefined && (
            <tr>
              <th>Progress</th>
              <td>
                <progress max={100} value={progress} /> {progress}%
              </td>
            </tr>
          )}
          <tr><th>Started</th><td>{fmtTime(r.start_time)}</td></tr>
          <tr><th>Ended</th><td>{fmtTime(r.end_time)}</td></tr>
          <tr><th>Duration</th><td>{fmtDuration(r)}</td></tr>
          <tr><th>Experiment</th><td>{r.experiment} <span className="muted">#{r.experiment_id}</span></td></tr>
          <tr><th>User</th><td>{r.user || "—"}</td></tr>
          <tr>
            <th>Parents</th>
            <td>
              {features.data?.parents.length
                ? features.data.parents.map((p) => (
                    <div key={p.run_id}>
                      <Link to={`/runs/${p.run_id}`}>{shortId(p.run_id)}</Link> <span className="muted">{p.kind}</span>
                    </div>
                  ))
                : "—"}
            </td>
          </tr>
          <tr>
            <th>Children</th>
            <td data-testid="run-children">
              {children.data?.nodes.filter((n) => n.id !== id).length
                ? children.data.nodes
                    .filter((n) => n.id !== id)
                    .map((n) => (
                      <div key={n.id}>
                        <Link to={`/runs/${n.id}`}>{n.name}</Link> <Status status={n.status} />
                      </div>
                    ))
                : "—"}
            </td>
          </tr>
          {r.parent_run_id && (
            <tr><th>Contained in</th><td><Link to={`/runs/${r.parent_run_id}`}>{shortId(r.parent_run_id)}</Link></td></tr>
          )}
          {commit && (
            <tr>
              <th>Code</th>
              <td className="mono" data-testid="run-commit">
                {commit.slice(0, 12)}
                {env?.git?.branch ? ` (${env.git.branch})` : ""}
                {env?.git?.dirty ? <span className="worse"> dirty</span> : env?.git ? <span className="muted"> clean</span> : null}
              </td>
            </tr>
          )}
          {env?.command && (
            <tr>
              <th>Command</th>
              <td className="mono" style={{ maxWidth: 420, wordBreak: "break-all" }} data-testid="run-command">
                {Array.isArray(env.command) ? env.command.join(" ") : String(env.command)}
              </td>
            </tr>
          )}
          {env && (
            <tr>
              <th>Environment</th>
              <td>
                {[env.hostname, env.os, env.python && `Python ${env.python}`, env.cpu_count && `${env.cpu_count} CPUs`, env.gpus?.length && `${env.gpus.length} GPU${env.gpus.length > 1 ? "s" : ""}`]
                  .filter(Boolean)
                  .join(" · ")}
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <div>
        {r.tags["runlore.error"] && (
          <div className="error" role="alert" style={{ marginBottom: 8, whiteSpace: "pre-wrap", maxWidth: 600 }}>
            {r.tags["runlore.error"]}
          </div>
        )}
        <h2 style={{ marginTop: 0 }}>Latest metrics</h2>
        <table className="plain" data-testid="latest-metrics">
          <thead><tr><th>key</th><th>value</th><th>step</th></tr></thead>
          <tbody>
            {r.metrics.map((m) => (
              <tr key={m.key}>
                <td className="mono">{m.key}</td>
                <td><Num value={num(m.value)} /></td>
                <td>{m.step}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {r.components.length > 0 && (
          <>
            <h2>Components</h2>
            <table className="plain">
              <tbody>
                {r.components.map((c) => (
                  <tr key={c.name}>
                    <td>{c.name}</td>
                    <td className={c.status === "failed" ? "worse" : c.status === "success" ? "better" : "muted"}>{c.status}</td>
                    <td>{c.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </div>
      <div>
        <h2 style={{ marginTop: 0 }}>Tags</h2>
        <KeyValues values={Object.fromEntries(tags)} empty="No tags." />
      </div>
    </div>
  );
}

function KeyValues({ values, empty }: { values: Record<string, string>; empty: string }) {
  const entries = Object.entries(values).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return <p className="muted">{empty}</p>;
  return (
    <table className="plain">
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}>
            <td className="mono">{k}</td>
            <td className="mono" style={{ whiteSpace: "pre-wrap", maxWidth: 600 }}>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Features({ id }: { id: string }) {
  const features = useAsync(async () => {
    const f = await api.features(id);
    const parent = f.parents[0] ? await api.features(f.parents[0].run_id).catch(() => undefined) : undefined;
    return { f, parent };
  }, [id]);
  const d = features.data;
  return (
    <div>
      <ErrorBox error={features.error} />
      {d && (
        <>
          <p className="muted">
            {d.f.parents[0] ? (
              <>
                Diff against parent <Link to={`/runs/${d.f.parents[0].run_id}?tab=features`}>{shortId(d.f.parents[0].run_id)}</Link>:{" "}
                {d.f.diff.length} change{d.f.diff.length === 1 ? "" : "s"} (<span className="tree"><span className="added">added</span>,{" "}
                <span className="changed">changed</span>, <span className="removed">removed</span></span>).
              </>
            ) : (
              "A root run: no parent to diff against."
            )}
          </p>
          <FeatureTree full={d.f.full} diff={d.f.diff} parentFull={d.parent?.full} />
        </>
      )}
    </div>
  );
}

function Metrics({ id, name, status }: { id: string; name: string; status: string }) {
  const keys = useAsync(() => api.metricKeys(id), [id]);
  const [options, setOptions] = useState<ChartOptions>({ xMode: "step", log: false, smoothing: 0 });
  return (
    <div>
      <ErrorBox error={keys.error} />
      <ChartControls options={options} onChange={setOptions} />
      {keys.data?.keys.length === 0 && <p className="muted">No metrics logged.</p>}
      <div className="charts">
        {keys.data?.keys.slice(0, 24).map((k) => (
          <MetricChart key={k} metricKey={k} runs={[{ id, name, status }]} options={options} />
        ))}
      </div>
    </div>
  );
}

interface Environment {
  command?: string[] | string;
  cwd?: string;
  python?: string;
  hostname?: string;
  os?: string;
  cpu_count?: number;
  gpus?: unknown[];
  git?: { commit?: string; branch?: string; dirty?: boolean };
}

/** The SDK's `runlore.environment` tag (a JSON document), if any. */
function parseEnvironment(tag: string | undefined): Environment | undefined {
  if (!tag) return undefined;
  try {
    const v = JSON.parse(tag);
    return v && typeof v === "object" ? (v as Environment) : undefined;
  } catch {
    return undefined;
  }
}
