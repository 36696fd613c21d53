// Compare 2–10 runs: feature diff (only what differs by default), params,
// latest metrics, and overlaid charts. The runs are in the URL (?runs=a,b).

import { useMemo, useState } from "react";
import { Link, useParams } from "react-router";
import { api, num } from "../api/client";
import { ErrorBox, Num, Status } from "../components/common";
import { FeatureDiffTable } from "../components/FeatureDiff";
import { type ChartOptions, ChartControls, MetricChart } from "../components/MetricChart";
import { guessDirection } from "../components/RunsTable";
import { aggregateRuns } from "../aggregate";
import { useAsync, useKeyMetrics } from "../hooks";
import { splitList, useQueryParam } from "../util";

export function CompareView() {
  const { project = "" } = useParams();
  const [runsParam] = useQueryParam("runs");
  const [showAll, setShowAll] = useState(false);
  const [options, setOptions] = useState<ChartOptions>({ xMode: "step", log: false, smoothing: 0 });
  const ids = splitList(runsParam).slice(0, 10);
  const data = useAsync(async () => {
    if (ids.length === 0) return null;
    const runs = await Promise.all(ids.map((id) => api.run(id)));
    const features = await Promise.all(ids.map((id) => api.features(id)));
    const differing = await api.differing(ids).then(
      (d) => new Set(d.paths),
      () => undefined,
    );
    return { runs, features, differing };
  }, [runsParam]);
  const keyMetrics = useKeyMetrics(project);
  const aggregations = useMemo(() => keyMetrics.filter((k) => k.aggregation !== "last"), [keyMetrics]);
  // best / average over each run's whole history, from the server's summaries
  const aggregated = useAsync(async () => {
    const byRun = await aggregateRuns(ids, aggregations);
    return aggregations.map((k) => ids.map((id) => ({ value: byRun.get(id)?.get(k.key), approximate: false })));
  }, [runsParam, JSON.stringify(aggregations)]);

  if (ids.length < 2)
    return (
      <p className="empty">
        Select 2 to 10 runs in the <Link to={`/projects/${encodeURIComponent(project)}`}>runs table</Link> and press
        Compare.
      </p>
    );
  const d = data.data;
  const paramKeys = d ? [...new Set(d.runs.flatMap((r) => Object.keys(r.params)))].sort() : [];
  const metricKeys = d ? [...new Set(d.runs.flatMap((r) => r.metrics.map((m) => m.key)))].sort() : [];
  const dirOf = (k: string) => keyMetrics.find((m) => m.key === k)?.direction ?? guessDirection(k);

  return (
    <div>
      <h1>Compare {ids.length} runs</h1>
      <ErrorBox error={data.error} />
      {d && (
        <>
          <div className="row">
            {d.runs.map((r) => (
              <span key={r.id} className="card" style={{ padding: "4px 8px" }}>
                <Link to={`/runs/${r.id}`}>{r.name}</Link> <Status status={r.status} />
              </span>
            ))}
          </div>
          <h2 className="row">
            Features{" "}
            <label className="muted" style={{ fontWeight: 400, fontSize: 13 }}>
              <input type="checkbox" checked={showAll} onChange={(e) => setShowAll(e.target.checked)} /> show identical
              values too
            </label>
          </h2>
          <FeatureDiffTable
            runs={d.runs.map((r, i) => ({ id: r.id, name: r.name, full: d.features[i].full }))}
            differing={d.differing}
            showAll={showAll}
          />
          <h2>Params</h2>
          <table className="plain" data-testid="compare-params">
            <thead>
              <tr>
                <th>param</th>
                {d.runs.map((r) => <th key={r.id}>{r.name}</th>)}
              </tr>
            </thead>
            <tbody>
              {paramKeys
                .filter((k) => showAll || new Set(d.runs.map((r) => r.params[k] ?? "\u0000")).size > 1)
                .map((k) => (
                  <tr key={k}>
                    <td className="mono">{k}</td>
                    {d.runs.map((r) => (
                      <td key={r.id} className="mono">{r.params[k] ?? <span className="missing">—</span>}</td>
                    ))}
                  </tr>
                ))}
            </tbody>
          </table>
          <h2>Metrics (latest)</h2>
          <table className="plain" data-testid="compare-metrics">
            <thead>
              <tr>
                <th>metric</th>
                {d.runs.map((r) => <th key={r.id}>{r.name}</th>)}
              </tr>
            </thead>
            <tbody>
              {metricKeys.map((k) => {
                const values = d.runs.map((r) => num(r.metrics.find((m) => m.key === k)?.value));
                const real = values.filter((v): v is number => v !== undefined && !Number.isNaN(v));
                const best = real.length ? (dirOf(k) === "min" ? Math.min(...real) : Math.max(...real)) : undefined;
                return (
                  <tr key={k}>
                    <td className="mono">{k}</td>
                    {values.map((v, i) => (
                      <td key={d.runs[i].id} className={v === best && real.length > 1 ? "best" : ""}>
                        <Num value={v} />
                      </td>
                    ))}
                  </tr>
                );
              })}
              {aggregations.map((k, i) => {
                const row = aggregated.data?.[i];
                const real = (row ?? []).map((a) => a.value).filter((v): v is number => v !== undefined && !Number.isNaN(v));
                const best = real.length ? (k.direction === "min" ? Math.min(...real) : Math.max(...real)) : undefined;
                return (
                  <tr key={`agg-${k.key}`} data-testid={`aggregate-${k.key}`}>
                    <td className="mono">
                      {k.key} <span className="muted">({k.aggregation}, key metric)</span>
                    </td>
                    {d.runs.map((r, j) => (
                      <td key={r.id} className={row?.[j].value === best && real.length > 1 ? "best" : ""}>
                        {row ? (
                          <>
                            {row[j].approximate ? "≈" : ""}
                            <Num value={row[j].value} />
                          </>
                        ) : (
                          "…"
                        )}
                      </td>
                    ))}
                  </tr>
                );
              })}
            </tbody>
          </table>
          <h2>Charts</h2>
          <ChartControls options={options} onChange={setOptions} />
          <div className="charts">
            {metricKeys.slice(0, 12).map((k) => (
              <MetricChart key={k} metricKey={k} runs={d.runs.map((r) => ({ id: r.id, name: r.name, status: r.status }))} options={options} />
            ))}
          </div>
        </>
      )}
    </div>
  );
}
