// Key metric aggregations over a run's history (the runs API returns only
// the latest value): best survives the server's downsampling exactly (each
// bucket keeps its min and max); an average is exact when the whole history
// is read, approximate (≈) from a downsampled one.

import { api } from "./api/client";
import type { KeyMetric } from "./util";

export const FULL_READ_LIMIT = 200_000;

export interface Aggregated {
  value?: number;
  approximate: boolean;
}

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

export async function aggregateRun(runId: string, metric: KeyMetric): Promise<Aggregated> {
  const sample = await api.history(runId, metric.key, { max_points: 2000 });
  if (metric.aggregation !== "average" || !sample.downsampled)
    return { value: aggregate(sample.values, metric.aggregation, metric.direction), approximate: false };
  if (sample.total <= FULL_READ_LIMIT) {
    const full = await api.history(runId, metric.key);
    return { value: aggregate(full.values, "average", metric.direction), approximate: false };
  }
  return { value: aggregate(sample.values, "average", metric.direction), approximate: true };
}
