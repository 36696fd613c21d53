// The project overview: filter (server's filter language, errors inline),
// column chooser, grouping, baseline, selection, and charts of the selected
// runs. Everything that matters lives in the URL, so a view can be shared.

import { useEffect, useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { ApiError, api } from "../api/client";
import type { Run } from "../api/types";
import { ErrorBox } from "../components/common";
import { type ChartOptions, ChartControls, MetricChart, type XMode } from "../components/MetricChart";
import { numericAxes, ParallelCoordinates, ScatterPlot } from "../components/RunPlots";
import { ATTR_COLUMNS, type Column, columnId, parseColumn, RunsTable } from "../components/RunsTable";
import { useKeyMetrics } from "../hooks";
import { splitList, useQueryParam, useSetQuery } from "../util";
import { useAggregated, useFeatureColumns } from "./overviewData";

export function FilterBar({
  value,
  onApply,
  error,
}: {
  value: string;
  onApply: (filter: string) => void;
  error?: string;
}) {
  const [draft, setDraft] = useState(value);
  useEffect(() => setDraft(value), [value]);
  return (
    <form
      className="filterbox"
      onSubmit={(e) => {
        e.preventDefault();
        onApply(draft.trim());
      }}
    >
      <div className="row" style={{ flexWrap: "nowrap" }}>
        <input
          aria-label="filter"
          aria-invalid={error ? true : undefined}
          className={error ? "invalid" : ""}
          placeholder="filter, e.g. metrics.acc > 0.9 AND params.lr = '0.01'   (Enter to apply)"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
        />
        <button type="submit">Apply</button>
        {value && (
          <button type="button" onClick={() => onApply("")}>
            Clear
          </button>
        )}
      </div>
      {error && (
        <div className="error" role="alert" data-testid="filter-error">
          {error}
        </div>
      )}
    </form>
  );
}

export function OverviewView() {
  const { project = "" } = useParams();
  const navigate = useNavigate();
  const [filter, setFilter] = useQueryParam("filter");
  const [order, setOrder] = useQueryParam("order");
  const [selParam, setSelParam] = useQueryParam("sel");
  const [groupBy, setGroupBy] = useQueryParam("group");
  const [colsParam, setColsParam] = useQueryParam("cols");
  const [baseline, setBaseline] = useQueryParam("baseline");
  const [chartsParam, setChartsParam] = useQueryParam("charts");
  const [xMode] = useQueryParam("x", "step");
  const [logParam] = useQueryParam("log");
  const [smoothParam] = useQueryParam("smooth");
  const setQuery = useSetQuery();
  const [plot, setPlot] = useQueryParam("plot");
  const [px, setPx] = useQueryParam("px");
  const [py, setPy] = useQueryParam("py");
  const [paxesParam, setPaxes] = useQueryParam("paxes");
  const [runs, setRuns] = useState<Run[]>([]);
  const [loading, setLoading] = useState(true);
  const [filterError, setFilterError] = useState<string>();
  const [loadError, setLoadError] = useState<Error>();
  const [chooser, setChooser] = useState(false);
  const [wantFeatures, setChooserFeatures] = useState(false);
  const keyMetrics = useKeyMetrics(project);

  useEffect(() => {
    const signal = { cancelled: false };
    setLoading(true);
    setFilterError(undefined);
    setLoadError(undefined);
    api.allRuns({ project, filter, order_by: order || undefined }, 50_000, signal).then(
      (rs) => {
        if (signal.cancelled) return;
        setRuns(rs);
        setLoading(false);
      },
      (e: Error) => {
        if (signal.cancelled) return;
        setLoading(false);
        if (e instanceof ApiError && e.code === "invalid_argument") setFilterError(e.message);
        else setLoadError(e);
      },
    );
    return () => {
      signal.cancelled = true;
    };
  }, [project, filter, order]);

  const available = useMemo(() => {
    const metrics = new Set<string>();
    const params = new Set<string>();
    const tags = new Set<string>();
    for (const r of runs) {
      for (const m of r.metrics) metrics.add(m.key);
      for (const k in r.params) params.add(k);
      for (const k in r.tags) if (!k.startsWith("mlflow.") && !k.startsWith("runlore.")) tags.add(k);
    }
    return {
      metric: [...metrics].sort(),
      param: [...params].sort(),
      tag: [...tags].sort(),
    };
  }, [runs]);

  const columnIds = useMemo(() => {
    if (colsParam) return splitList(colsParam);
    const keys = keyMetrics.map((k) => k.key);
    const metrics = [...keys, ...available.metric.filter((m) => !keys.includes(m))].slice(0, 8);
    return [
      ...["status", "experiment", "start_time", "duration"].map((a) => columnId("attr", a)),
      ...metrics.map((m) => columnId("metric", m)),
      ...available.param.slice(0, 6).map((p) => columnId("param", p)),
    ];
  }, [colsParam, available, keyMetrics]);
  const columns: Column[] = useMemo(() => columnIds.map(parseColumn), [columnIds]);
  const { aggregated, error: aggregateError } = useAggregated(runs, keyMetrics);
  const featuresNeeded = chooser || wantFeatures || groupBy.startsWith("feature:") || columnIds.some((c) => c.startsWith("feature:"));
  const featureColumns = useFeatureColumns(runs, featuresNeeded);

  const selected = useMemo(() => new Set(splitList(selParam)), [selParam]);
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelParam([...next].join(","));
  };
  const sort = useMemo(() => {
    if (!order) return undefined;
    const [field, dir] = order.split(/\s+/);
    return { field, desc: (dir ?? "").toUpperCase() === "DESC" };
  }, [order]);
  const onSort = (field: string) => {
    if (sort?.field === field) setOrder(sort.desc ? `${field} ASC` : "");
    else setOrder(`${field} DESC`);
  };
  const toggleColumn = (id: string) =>
    setColsParam((columnIds.includes(id) ? columnIds.filter((c) => c !== id) : [...columnIds, id]).join(","));

  const selectedRuns = useMemo(() => {
    const byId = new Map(runs.map((r) => [r.id, r]));
    return [...selected].map((id) => byId.get(id)).filter((r): r is Run => !!r).slice(0, 10);
  }, [runs, selected]);
  const chartKeys = useMemo(() => {
    if (chartsParam) return splitList(chartsParam);
    const keys = new Set<string>(keyMetrics.map((k) => k.key));
    for (const r of selectedRuns) for (const m of r.metrics) keys.add(m.key);
    return [...keys].slice(0, 4);
  }, [chartsParam, keyMetrics, selectedRuns]);
  const chartOptions: ChartOptions = {
    xMode: xMode as XMode,
    log: logParam === "1",
    smoothing: Number(smoothParam || 0),
  };
  const setChartOptions = (o: ChartOptions) =>
    setQuery({ x: o.xMode === "step" ? "" : o.xMode, log: o.log ? "1" : "", smooth: o.smoothing ? String(o.smoothing) : "" });

  const axes = useMemo(() => (plot ? numericAxes(runs) : []), [plot, runs]);
  const firstParam = axes.find((a) => a.id.startsWith("param:"))?.id ?? axes[0]?.id ?? "";
  const firstMetric = axes.find((a) => a.id.startsWith("metric:"))?.id ?? axes[1]?.id ?? "";
  const paxes = paxesParam ? splitList(paxesParam) : axes.slice(0, 6).map((a) => a.id);

  const groupChoices = [
    ["", "no grouping"],
    [columnId("attr", "experiment"), "experiment"],
    [columnId("attr", "status"), "status"],
    ...available.param.map((p) => [columnId("param", p), `param ${p}`]),
    ...available.tag.map((t) => [columnId("tag", t), `tag ${t}`]),
    ...featureColumns.paths.map((f) => [columnId("feature", f), `feature ${f}`]),
  ];
  if (groupBy && !groupChoices.some(([v]) => v === groupBy)) groupChoices.push([groupBy, groupBy.replace(":", " ")]);

  return (
    <div>
      <div className="toolbar">
        <FilterBar value={filter} onApply={setFilter} error={filterError} />
        <select
          aria-label="group by"
          value={groupBy}
          onFocus={() => featureColumns.features || setChooserFeatures(true)}
          onChange={(e) => setGroupBy(e.target.value)}
        >
          {groupChoices.map(([v, l]) => (
            <option key={v} value={v}>
              {l}
            </option>
          ))}
        </select>
        <div style={{ position: "relative" }}>
          <button onClick={() => setChooser(!chooser)} aria-expanded={chooser}>
            Columns ▾
          </button>
          {chooser && (
            <div className="chooser" data-testid="column-chooser">
              {(
                [
                  ["attr", ATTR_COLUMNS],
                  ["metric", available.metric],
                  ["param", available.param],
                  ["tag", available.tag],
                  ["feature", featureColumns.paths],
                ] as const
              ).map(([kind, keys]) => (
                <div key={kind} data-kind={kind}>
                  <strong>{kind === "attr" ? "attributes" : kind + "s"}</strong>
                  {kind === "feature" && !featureColumns.features && <div className="muted">loading…</div>}
                  {keys.map((k) => {
                    const id = columnId(kind, k);
                    return (
                      <label key={id}>
                        <input type="checkbox" checked={columnIds.includes(id)} onChange={() => toggleColumn(id)} />{" "}
                        {k}
                      </label>
                    );
                  })}
                </div>
              ))}
              <button onClick={() => setColsParam("")}>defaults</button>
            </div>
          )}
        </div>
        <button
          className="primary"
          disabled={selected.size < 2 || selected.size > 10}
          title="select 2 to 10 runs"
          onClick={() =>
            navigate(`/projects/${encodeURIComponent(project)}/compare?runs=${[...selected].join(",")}`)
          }
        >
          Compare {selected.size || ""}
        </button>
        {selected.size > 0 && <button onClick={() => setSelParam("")}>Clear selection</button>}
      </div>
      <div className="row muted" style={{ marginBottom: 6 }}>
        <span data-testid="run-count">
          {loading ? "Loading…" : `${runs.length.toLocaleString()} runs`}
          {filter && !filterError ? " matching the filter" : ""}
          {filterError ? " (the filter was not applied: showing the last result)" : ""}
        </span>
        {baseline && (
          <span>
            · baseline: {runs.find((r) => r.id === baseline)?.name ?? baseline.slice(0, 8)}{" "}
            <button onClick={() => setBaseline("")}>clear</button>
          </span>
        )}
        <span>· click ☆ to set a baseline; on a row: Space selects, Enter opens, ↑↓ move</span>
      </div>
      <ErrorBox error={loadError ?? aggregateError ?? featureColumns.error} />
      {!loading && runs.length === 0 && !filterError && !loadError && (
        <p className="empty">
          No runs{filter ? " match the filter" : " in this project yet"}. <Link to="/">All projects</Link>
        </p>
      )}
      <RunsTable
        runs={runs}
        columns={columns}
        sort={sort}
        onSort={onSort}
        selected={selected}
        onToggle={toggle}
        baseline={baseline}
        onBaseline={(id) => setBaseline(id === baseline ? "" : id)}
        keyMetrics={keyMetrics}
        groupBy={groupBy}
        aggregated={aggregated}
        features={featureColumns.features}
      />
      <section>
        <div className="row" style={{ marginTop: 12 }}>
          <strong>Params vs metrics</strong>
          <div className="tabs" role="tablist" style={{ marginBottom: 0, border: "none" }}>
            {[
              ["", "hidden"],
              ["scatter", "scatter"],
              ["parallel", "parallel coordinates"],
            ].map(([v, l]) => (
              <button key={v} role="tab" aria-selected={plot === v} className={plot === v ? "on" : ""} onClick={() => setPlot(v)}>
                {l}
              </button>
            ))}
          </div>
          {plot === "scatter" && (
            <>
              <select aria-label="scatter x" value={px || firstParam} onChange={(e) => setPx(e.target.value)}>
                {axes.map((a) => (
                  <option key={a.id} value={a.id}>
                    x: {a.label}
                  </option>
                ))}
              </select>
              <select aria-label="scatter y" value={py || firstMetric} onChange={(e) => setPy(e.target.value)}>
                {axes.map((a) => (
                  <option key={a.id} value={a.id}>
                    y: {a.label}
                  </option>
                ))}
              </select>
            </>
          )}
          {plot === "parallel" && (
            <span className="row">
              {axes.map((a) => (
                <label key={a.id} style={{ fontSize: 12 }}>
                  <input
                    type="checkbox"
                    checked={paxes.includes(a.id)}
                    onChange={() =>
                      setPaxes((paxes.includes(a.id) ? paxes.filter((x) => x !== a.id) : [...paxes, a.id]).join(","))
                    }
                  />{" "}
                  {a.label}
                </label>
              ))}
            </span>
          )}
        </div>
        {plot === "scatter" && axes.length > 0 && (
          <ScatterPlot runs={runs} x={px || firstParam} y={py || firstMetric} selected={selected} onToggle={toggle} />
        )}
        {plot === "parallel" && <ParallelCoordinates runs={runs} axes={paxes} selected={selected} />}
        {plot && axes.length === 0 && <p className="muted">No numeric params or metrics to plot.</p>}
      </section>
      {selectedRuns.length > 0 && (
        <section>
          <h2>Charts of {selectedRuns.length} selected runs</h2>
          <div className="row">
            <ChartControls options={chartOptions} onChange={setChartOptions} />
            <label>
              metrics{" "}
              <select
                multiple
                aria-label="chart metrics"
                value={chartKeys}
                size={Math.min(4, Math.max(2, available.metric.length))}
                onChange={(e) => setChartsParam(Array.from(e.target.selectedOptions, (o) => o.value).join(","))}
              >
                {available.metric.map((m) => (
                  <option key={m}>{m}</option>
                ))}
              </select>
            </label>
          </div>
          <div className="charts">
            {chartKeys.map((k) => (
              <MetricChart key={k} metricKey={k} runs={selectedRuns} options={chartOptions} />
            ))}
          </div>
        </section>
      )}
    </div>
  );
}
