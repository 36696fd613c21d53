// Key metric aggregations: "last" is the latest value the runs list already
// carries; "best" (min or max by direction) and "average" (mean) come from
// the server's metric summaries (POST /runs/metric-summaries), one request
// for up to 10,000 runs and 20 keys.

import { api } from "./api/client";
import type { KeyMetric, MetricSummary } from "./api/types";

export function aggregate(values: Float64Array, how: KeyMetric["aggregation"], direction: "min" | "max"): number | undefined {
  let best: number | undefined;
  let sum = 0;
  let n = 0;
  let last: number | undefined;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    last = v;
    sum += v;
    n++;
    if (best === undefined || (direction === "min" ? v < best : v > best)) best = v;
  }
  if (how === "best") return best;
  if (how === "average") return n ? sum / n : undefined;
  return last;
}

/** The value a summary gives for a key metric's aggregation. */
export function summaryValue(s: MetricSummary | undefined, metric: KeyMetric): number | undefined {
  if (!s || s.count === 0) return undefined;
  const v = metric.aggregation === "average" ? s.mean : metric.direction === "min" ? s.min : s.max;
  return v ?? undefined;
}

/** run id → key → aggregated value, for the key metrics that are not "last". */
export type Aggregated = Map<string, Map<string, number>>;

export function aggregatedFromSummaries(items: MetricSummary[], metrics: KeyMetric[]): Aggregated {
  const byKey = new Map(metrics.map((m) => [m.key, m]));
  const out: Aggregated = new Map();
  for (const s of items) {
    const metric = byKey.get(s.key);
    if (!metric) continue;
    const v = summaryValue(s, metric);
    if (v === undefined) continue;
    let m = out.get(s.run_id);
    if (!m) out.set(s.run_id, (m = new Map()));
    m.set(s.key, v);
  }
  return out;
}

export async function aggregateRuns(runIds: string[], metrics: KeyMetric[]): Promise<Aggregated> {
  const wanted = metrics.filter((m) => m.aggregation !== "last");
  if (wanted.length === 0 || runIds.length === 0) return new Map();
  const items = await api.metricSummaries(
    runIds,
    wanted.map((m) => m.key),
  );
  return aggregatedFromSummaries(items, wanted);
}
