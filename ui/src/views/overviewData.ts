// Data the runs table needs beyond the runs list: best/average values of
// key metrics (server summaries) and feature trees (one batch request),
// loaded for the runs in view and dropped when the runs change.

import { useEffect, useMemo, useState } from "react";
import { aggregateRuns } from "../aggregate";
import { api } from "../api/client";
import type { KeyMetric, Run } from "../api/types";
import type { AggregatedMap, FeatureMap } from "../components/RunsTable";
import { flattenFeatures } from "../util";

/** Best/average values of the key metrics that are not "last". */
export function useAggregated(runs: Run[], keyMetrics: KeyMetric[]): { aggregated?: AggregatedMap; error?: Error } {
  const [state, setState] = useState<{ aggregated?: AggregatedMap; error?: Error }>({});
  const wanted = JSON.stringify(keyMetrics.filter((k) => k.aggregation !== "last"));
  useEffect(() => {
    let live = true;
    if (wanted === "[]" || runs.length === 0) {
      setState({});
      return;
    }
    aggregateRuns(
      runs.map((r) => r.id),
      JSON.parse(wanted) as KeyMetric[],
    ).then(
      (aggregated) => live && setState({ aggregated }),
      (error: Error) => live && setState({ error }),
    );
    return () => {
      live = false;
    };
  }, [runs, wanted]);
  return state;
}

/** Every run's features flattened to dotted paths, once `needed`. */
export function useFeatureColumns(runs: Run[], needed: boolean): { features?: FeatureMap; paths: string[]; error?: Error } {
  const [state, setState] = useState<{ features?: FeatureMap; error?: Error; for?: Run[] }>({});
  useEffect(() => {
    if (!needed || runs.length === 0 || state.for === runs) return;
    let live = true;
    api.featuresBatch(runs.map((r) => r.id)).then(
      (items) => {
        if (!live) return;
        const features: FeatureMap = new Map();
        for (const item of items) features.set(item.run_id, flattenFeatures(item.features));
        setState({ features, for: runs });
      },
      (error: Error) => live && setState({ error, for: runs }),
    );
    return () => {
      live = false;
    };
  }, [runs, needed, state.for]);
  const paths = useMemo(() => {
    const set = new Set<string>();
    for (const f of state.features?.values() ?? []) for (const k in f) set.add(k);
    return [...set].sort();
  }, [state.features]);
  return { features: state.features, paths, error: state.error };
}
