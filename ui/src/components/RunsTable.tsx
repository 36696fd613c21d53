// The virtualised runs table: only the rows in view are in the DOM, so
// 10,000 runs scroll smoothly. Rows can be grouped (group header rows are
// virtual rows too), selected (checkboxes, Space), compared against a
// baseline run (key metric cells turn green/red) and sorted by header click.

import { useVirtualizer } from "@tanstack/react-virtual";
import { memo, useMemo, useRef } from "react";
import { useNavigate } from "react-router";
import type { Run } from "../api/types";
import { fmtDuration, fmtTime, type KeyMetric, metricMap } from "../util";
import { Num, Status } from "./common";

export type ColumnKind = "attr" | "metric" | "param" | "tag" | "feature";

export interface Column {
  id: string; // "metric:loss", "param:lr", "attr:status", "feature:model.lr"
  kind: ColumnKind;
  key: string;
  label: string;
  width: number;
}

export function columnId(kind: ColumnKind, key: string) {
  return `${kind}:${key}`;
}

export function parseColumn(id: string): Column {
  const i = id.indexOf(":");
  const kind = id.slice(0, i) as ColumnKind;
  const key = id.slice(i + 1);
  const label = kind === "attr" ? ATTR_LABELS[key] ?? key : key;
  const width = kind === "attr" ? ATTR_WIDTHS[key] ?? 120 : kind === "feature" ? 130 : 110;
  return { id, kind, key, label, width };
}

const ATTR_LABELS: Record<string, string> = {
  status: "Status",
  experiment: "Experiment",
  start_time: "Started",
  duration: "Duration",
  user: "User",
};
const ATTR_WIDTHS: Record<string, number> = { start_time: 160, experiment: 130, status: 100 };
export const ATTR_COLUMNS = ["status", "experiment", "start_time", "duration", "user"];

/** The order_by field of a column, or undefined when the server cannot sort by it. */
export function orderField(col: Column): string | undefined {
  const quoted = /^[A-Za-z_][A-Za-z0-9_]*$/.test(col.key) ? col.key : "`" + col.key.replace(/`/g, "") + "`";
  switch (col.kind) {
    case "metric":
      return `metrics.${quoted}`;
    case "param":
      return `params.${quoted}`;
    case "tag":
      return `tags.${quoted}`;
    case "attr":
      return ["status", "start_time", "name"].includes(col.key) ? `attributes.${col.key}` : undefined;
    case "feature":
      return `features.${quoted}`; // a dotted path into the run's features
  }
}

export type Row =
  | { type: "group"; label: string; count: number }
  | { type: "run"; run: Run; metrics: Map<string, number>; features?: Record<string, string> };

/** Features of each run, flattened to dotted paths (`model.lr`). */
export type FeatureMap = Map<string, Record<string, string>>;
/** run id → key → aggregated key metric value (best or average). */
export type AggregatedMap = Map<string, Map<string, number>>;

/** A run's metrics as shown: latest values, with aggregated key metrics in their place. */
export function shownMetrics(run: Run, aggregated?: AggregatedMap, aggregatedKeys?: Set<string>): Map<string, number> {
  const m = metricMap(run.metrics);
  if (aggregatedKeys && aggregatedKeys.size) {
    const agg = aggregated?.get(run.id);
    for (const k of aggregatedKeys) {
      const v = agg?.get(k);
      if (v === undefined) {
        // NaN-only histories have no finite summary: keep showing NaN
        if (!Number.isNaN(m.get(k))) m.delete(k);
      } else m.set(k, v);
    }
  }
  return m;
}

export function groupValue(run: Run, groupBy: string, features?: Record<string, string>): string {
  if (!groupBy) return "";
  const col = parseColumn(groupBy);
  switch (col.kind) {
    case "attr":
      return col.key === "experiment" ? run.experiment : col.key === "status" ? run.status : run.user;
    case "param":
      return run.params[col.key] ?? "(missing)";
    case "tag":
      return run.tags[col.key] ?? "(missing)";
    case "metric":
      return String(metricMap(run.metrics).get(col.key) ?? "(missing)");
    case "feature":
      return features?.[col.key] ?? "(missing)";
  }
}

export function buildRows(
  runs: Run[],
  groupBy: string,
  opts: { aggregated?: AggregatedMap; aggregatedKeys?: Set<string>; features?: FeatureMap } = {},
): Row[] {
  const withMetrics = runs.map((run) => ({
    type: "run" as const,
    run,
    metrics: shownMetrics(run, opts.aggregated, opts.aggregatedKeys),
    features: opts.features?.get(run.id),
  }));
  if (!groupBy) return withMetrics;
  const groups = new Map<string, typeof withMetrics>();
  for (const r of withMetrics) {
    const g = groupValue(r.run, groupBy, r.features);
    let list = groups.get(g);
    if (!list) groups.set(g, (list = []));
    list.push(r);
  }
  const rows: Row[] = [];
  for (const [label, list] of groups) {
    rows.push({ type: "group", label, count: list.length });
    rows.push(...list);
  }
  return rows;
}

export interface RunsTableProps {
  runs: Run[];
  columns: Column[];
  sort?: { field: string; desc: boolean };
  onSort?: (field: string) => void;
  selected: Set<string>;
  onToggle: (id: string) => void;
  baseline?: string;
  onBaseline?: (id: string) => void;
  keyMetrics: KeyMetric[];
  groupBy?: string;
  height?: number;
  /** Best/average values of key metrics whose aggregation is not "last". */
  aggregated?: AggregatedMap;
  features?: FeatureMap;
}

const ROW_HEIGHT = 29;

export function RunsTable(props: RunsTableProps) {
  const { runs, columns, selected, baseline, keyMetrics, groupBy = "", aggregated, features } = props;
  const aggregatedKeys = useMemo(
    () => new Set(keyMetrics.filter((k) => k.aggregation !== "last").map((k) => k.key)),
    [keyMetrics],
  );
  const rows = useMemo(
    () => buildRows(runs, groupBy, { aggregated, aggregatedKeys, features }),
    [runs, groupBy, aggregated, aggregatedKeys, features],
  );
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    initialRect: { width: 1200, height: props.height ?? 600 },
  });
  const baseMetrics = useMemo(() => {
    const run = runs.find((r) => r.id === baseline);
    return run ? shownMetrics(run, aggregated, aggregatedKeys) : undefined;
  }, [runs, baseline, aggregated, aggregatedKeys]);
  const directions = useMemo(() => new Map(keyMetrics.map((k) => [k.key, k.direction])), [keyMetrics]);
  const width = 34 + 26 + 220 + columns.reduce((s, c) => s + c.width, 0);

  return (
    <div className="grid" ref={scroller} data-testid="runs-table" role="grid" aria-rowcount={runs.length}>
      <div className="hdr" style={{ width }} role="row">
        <div className="th" style={{ width: 34 }} />
        <div className="th" style={{ width: 26 }} title="baseline" />
        <HeaderCell label="Name" width={220} field="attributes.name" {...props} />
        {columns.map((c) => {
          const how = c.kind === "metric" ? keyMetrics.find((k) => k.key === c.key)?.aggregation : undefined;
          const label = how && how !== "last" ? `${c.label} (${how})` : c.label;
          return <HeaderCell key={c.id} label={label} width={c.width} field={orderField(c)} kind={c.kind} {...props} />;
        })}
      </div>
      <div style={{ height: virtual.getTotalSize(), position: "relative", width }}>
        {virtual.getVirtualItems().map((item) => {
          const row = rows[item.index];
          if (row.type === "group") {
            return (
              <div key={item.key} className="tr group" style={{ transform: `translateY(${item.start}px)`, height: ROW_HEIGHT, width }} role="row">
                <div className="td" style={{ width }}>
                  {row.label} <span className="muted">({row.count})</span>
                </div>
              </div>
            );
          }
          return (
            <RunRow
              key={item.key}
              index={item.index}
              top={item.start}
              width={width}
              run={row.run}
              metrics={row.metrics}
              features={row.features}
              columns={columns}
              selected={selected.has(row.run.id)}
              isBaseline={row.run.id === baseline}
              baseMetrics={baseMetrics}
              directions={directions}
              onToggle={props.onToggle}
              onBaseline={props.onBaseline}
            />
          );
        })}
      </div>
    </div>
  );
}

function HeaderCell(p: RunsTableProps & { label: string; width: number; field?: string; kind?: ColumnKind }) {
  const active = p.field && p.sort?.field === p.field;
  return (
    <div
      className="th"
      role="columnheader"
      style={{ width: p.width, cursor: p.field ? "pointer" : "default" }}
      title={p.field ? `sort by ${p.field}` : p.label}
      aria-sort={active ? (p.sort?.desc ? "descending" : "ascending") : undefined}
      onClick={() => p.field && p.onSort?.(p.field)}
    >
      {p.kind && p.kind !== "attr" && <span className="muted">{p.kind[0]}·</span>}
      {p.label}
      {active ? (p.sort?.desc ? " ▼" : " ▲") : ""}
    </div>
  );
}

interface RunRowProps {
  index: number;
  top: number;
  width: number;
  run: Run;
  metrics: Map<string, number>;
  features?: Record<string, string>;
  columns: Column[];
  selected: boolean;
  isBaseline: boolean;
  baseMetrics?: Map<string, number>;
  directions: Map<string, "min" | "max">;
  onToggle: (id: string) => void;
  onBaseline?: (id: string) => void;
}

const RunRow = memo(function RunRow(p: RunRowProps) {
  const { run } = p;
  const navigate = useNavigate();
  return (
    <div
      className={`tr${p.selected ? " selected" : ""}${p.isBaseline ? " baseline" : ""}`}
      style={{ transform: `translateY(${p.top}px)`, height: ROW_HEIGHT, width: p.width }}
      role="row"
      tabIndex={0}
      data-run={run.id}
      data-index={p.index}
      onKeyDown={(e) => {
        if (e.key === " ") {
          e.preventDefault();
          p.onToggle(run.id);
        } else if (e.key === "Enter") {
          navigate(`/runs/${run.id}`);
        } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
          e.preventDefault();
          const el = e.currentTarget;
          const rows = Array.from(el.parentElement?.querySelectorAll<HTMLElement>(".tr[data-run]") ?? []).sort(
            (a, b) => Number(a.dataset.index) - Number(b.dataset.index),
          );
          const i = rows.indexOf(el);
          rows[e.key === "ArrowDown" ? i + 1 : i - 1]?.focus();
        }
      }}
    >
      <div className="td" style={{ width: 34 }}>
        <input
          type="checkbox"
          aria-label={`select ${run.name}`}
          checked={p.selected}
          onChange={() => p.onToggle(run.id)}
          tabIndex={-1}
        />
      </div>
      <div className="td" style={{ width: 26, padding: 0, textAlign: "center" }}>
        <button
          className="ghost"
          style={{ border: "none", padding: 0, color: p.isBaseline ? "var(--accent)" : "var(--muted)" }}
          title={p.isBaseline ? "baseline run" : "use as baseline"}
          aria-label={`baseline ${run.name}`}
          tabIndex={-1}
          onClick={() => p.onBaseline?.(run.id)}
        >
          {p.isBaseline ? "★" : "☆"}
        </button>
      </div>
      <div className="td" style={{ width: 220 }} title={run.name}>
        {/* A plain anchor: cheaper than <Link> in a row that re-renders while scrolling. */}
        <a
          href={`/runs/${run.id}`}
          tabIndex={-1}
          onClick={(e) => {
            if (e.button === 0 && !e.metaKey && !e.ctrlKey && !e.shiftKey) {
              e.preventDefault();
              navigate(`/runs/${run.id}`);
            }
          }}
        >
          {run.name}
        </a>
      </div>
      {p.columns.map((c) => (
        <Cell key={c.id} col={c} run={run} metrics={p.metrics} features={p.features} base={p.baseMetrics} dir={p.directions.get(c.key)} />
      ))}
    </div>
  );
});

function Cell({
  col,
  run,
  metrics,
  features,
  base,
  dir,
}: {
  col: Column;
  run: Run;
  metrics: Map<string, number>;
  features?: Record<string, string>;
  base?: Map<string, number>;
  dir?: "min" | "max";
}) {
  const style = { width: col.width };
  switch (col.kind) {
    case "metric": {
      const v = metrics.get(col.key);
      const cls = compare(v, base?.get(col.key), dir ?? guessDirection(col.key));
      return (
        <div className={`td num${cls ? " " + cls : ""}`} style={style}>
          <Num value={v} />
        </div>
      );
    }
    case "param":
    case "tag":
    case "feature": {
      const v = col.kind === "feature" ? features?.[col.key] : (col.kind === "param" ? run.params : run.tags)[col.key];
      return (
        <div className="td" style={style} title={v} data-col={col.id}>
          {v === undefined ? <span className="missing">—</span> : v}
        </div>
      );
    }
    case "attr":
      return (
        <div className="td" style={style}>
          {col.key === "status" ? (
            <Status status={run.status} />
          ) : col.key === "experiment" ? (
            run.experiment
          ) : col.key === "start_time" ? (
            fmtTime(run.start_time)
          ) : col.key === "duration" ? (
            fmtDuration(run)
          ) : (
            run.user
          )}
        </div>
      );
  }
}

/** Metrics named like losses and errors are minimised unless told otherwise. */
export function guessDirection(key: string): "min" | "max" {
  return /loss|err|perplex|mse|mae|rmse|time|latency/i.test(key) ? "min" : "max";
}

/** "better" / "worse" against the baseline value, if both are real numbers. */
export function compare(v: number | undefined, base: number | undefined, dir: "min" | "max"): string {
  if (v === undefined || base === undefined || Number.isNaN(v) || Number.isNaN(base) || v === base) return "";
  const better = dir === "min" ? v < base : v > base;
  return better ? "better" : "worse";
}
