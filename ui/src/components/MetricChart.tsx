// One metric, overlaid for several runs, drawn with uPlot. Histories are
// read in the binary format, downsampled by the server to about two points
// per pixel; selecting a range zooms and re-reads that step range at full
// resolution (the server downsamples again only if it is still too dense).

import { useEffect, useMemo, useRef, useState } from "react";
import uPlot from "uplot";
import { api } from "../api/client";
import type { History } from "../api/types";
import { useThemeName } from "../hooks";

export type XMode = "step" | "wall" | "relative";

export interface ChartRun {
  id: string;
  name: string;
  /** RUNNING runs are re-read every few seconds while the chart is not zoomed. */
  status?: string;
}

export const LIVE_REFRESH_MS = 5000;

export interface ChartOptions {
  xMode: XMode;
  log: boolean;
  smoothing: number; // 0 … 0.99, exponential moving average weight
}

export const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#475569", "#ea580c"];

/** Exponential moving average that skips NaN/±∞ (kept as gaps). */
export function smooth(values: Float64Array, weight: number): Float64Array {
  if (weight <= 0) return values;
  const out = new Float64Array(values.length);
  let last = NaN;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    last = Number.isNaN(last) ? v : last * weight + v * (1 - weight);
    out[i] = last;
  }
  return out;
}

function xValues(h: History, mode: XMode): Float64Array {
  if (mode === "step") return h.steps;
  const t0 = h.timestamps.length ? h.timestamps[0] : 0;
  const out = new Float64Array(h.timestamps.length);
  for (let i = 0; i < out.length; i++) out[i] = mode === "wall" ? h.timestamps[i] / 1000 : (h.timestamps[i] - t0) / 1000;
  return out;
}

export function MetricChart({
  runs,
  metricKey,
  options,
  height = 260,
}: {
  runs: ChartRun[];
  metricKey: string;
  options: ChartOptions;
  height?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plotRef = useRef<uPlot | null>(null);
  const [range, setRange] = useState<{ start: number; end: number } | null>(null);
  const [histories, setHistories] = useState<(History | null)[]>([]);
  const [error, setError] = useState<string>();
  const [info, setInfo] = useState("");
  const runKey = runs.map((r) => r.id).join(",");
  const theme = useThemeName();

  useEffect(() => setRange(null), [runKey, metricKey]);
  const live = runs.some((r) => r.status === "RUNNING") && !range;
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(() => setTick((t) => t + 1), LIVE_REFRESH_MS);
    return () => clearInterval(timer);
  }, [live]);

  // Fetch (again) when runs, key or the zoomed step range change.
  useEffect(() => {
    let live = true;
    const width = box.current?.clientWidth || 600;
    const max_points = Math.max(200, Math.round(width * 2));
    setError(undefined);
    Promise.all(
      runs.map((r) =>
        api
          .history(r.id, metricKey, { max_points, start_step: range?.start, end_step: range?.end })
          .catch((e: Error) => (e.name === "ApiError" ? null : Promise.reject(e))),
      ),
    ).then(
      (hs) => {
        if (!live) return;
        setHistories(hs);
        const shown = hs.reduce((s, h) => s + (h?.steps.length ?? 0), 0);
        const total = hs.reduce((s, h) => s + (h?.total ?? 0), 0);
        setInfo(`${shown.toLocaleString()} of ${total.toLocaleString()} points${range ? " (zoomed)" : ""}`);
      },
      (e: Error) => live && setError(e.message),
    );
    return () => {
      live = false;
    };
  }, [runKey, metricKey, range, tick]); // eslint-disable-line react-hooks/exhaustive-deps

  const data = useMemo(() => {
    const tables: uPlot.AlignedData[] = [];
    const present: number[] = [];
    histories.forEach((h, i) => {
      if (!h || h.steps.length === 0) return;
      const ys = smooth(h.values, options.smoothing);
      const y: (number | null)[] = new Array(ys.length);
      for (let j = 0; j < ys.length; j++) {
        const v = ys[j];
        y[j] = Number.isFinite(v) && (!options.log || v > 0) ? v : null;
      }
      tables.push([Array.from(xValues(h, options.xMode)), y] as unknown as uPlot.AlignedData);
      present.push(i);
    });
    if (tables.length === 0) return null;
    const joined = tables.length === 1 ? tables[0] : uPlot.join(tables);
    return { joined, present };
  }, [histories, options.xMode, options.log, options.smoothing]);

  useEffect(() => {
    const el = box.current;
    if (!el || !data) return;
    const css = getComputedStyle(document.documentElement);
    const fg = css.getPropertyValue("--muted").trim() || "#666";
    const grid = css.getPropertyValue("--border").trim() || "#ddd";
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height,
      scales: {
        x: { time: options.xMode === "wall" },
        y: options.log ? { distr: 3 } : {},
      },
      axes: [{ ...axis, label: options.xMode === "step" ? "step" : options.xMode === "wall" ? "" : "seconds" }, axis],
      series: [
        {},
        ...data.present.map((i) => ({
          label: runs[i]?.name ?? String(i),
          stroke: PALETTE[i % PALETTE.length],
          width: 1.5,
          spanGaps: true,
          points: { show: false },
        })),
      ],
      cursor: { drag: { x: true, y: false } },
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 3) return;
            const lo = u.posToVal(u.select.left, "x");
            const hi = u.posToVal(u.select.left + u.select.width, "x");
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            setRange(stepRange(histories, data.present, lo, hi, options.xMode));
          },
        ],
      },
    };
    const plot = new uPlot(opts, data.joined, el);
    plotRef.current = plot;
    const resize = new ResizeObserver(() => plot.setSize({ width: el.clientWidth || 600, height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
      plotRef.current = null;
    };
  }, [data, height, theme]); // eslint-disable-line react-hooks/exhaustive-deps

  return (
    <div className="chartbox" data-testid={`chart-${metricKey}`}>
      <div className="row" style={{ justifyContent: "space-between" }}>
        <strong className="mono">{metricKey}</strong>
        <span className="muted" style={{ fontSize: 12 }}>
          {live && <span title="a run is RUNNING: re-read every 5 s">● live · </span>}
          {info}
          {range && (
            <button style={{ marginLeft: 8 }} onClick={() => setRange(null)}>
              reset zoom
            </button>
          )}
        </span>
      </div>
      {error && <div className="error">{error}</div>}
      {!data && !error && <div className="muted" style={{ height }}>no points</div>}
      <div ref={box} style={{ width: "100%" }} />
    </div>
  );
}

/** The step range covered by x-axis values [lo, hi] in any mode. */
function stepRange(
  histories: (History | null)[],
  present: number[],
  lo: number,
  hi: number,
  mode: XMode,
): { start: number; end: number } {
  if (mode === "step") return { start: Math.floor(lo), end: Math.ceil(hi) };
  let start = Infinity;
  let end = -Infinity;
  for (const i of present) {
    const h = histories[i];
    if (!h) continue;
    const xs = xValues(h, mode);
    for (let j = 0; j < xs.length; j++) {
      if (xs[j] >= lo && xs[j] <= hi) {
        start = Math.min(start, h.steps[j]);
        end = Math.max(end, h.steps[j]);
      }
    }
  }
  return Number.isFinite(start) ? { start, end } : { start: 0, end: 0 };
}

/** Chart options bar: x axis, log scale, smoothing. */
export function ChartControls({ options, onChange }: { options: ChartOptions; onChange: (o: ChartOptions) => void }) {
  return (
    <div className="row">
      <label>
        x axis{" "}
        <select
          aria-label="x axis"
          value={options.xMode}
          onChange={(e) => onChange({ ...options, xMode: e.target.value as XMode })}
        >
          <option value="step">step</option>
          <option value="wall">wall time</option>
          <option value="relative">relative time</option>
        </select>
      </label>
      <label>
        <input type="checkbox" checked={options.log} onChange={(e) => onChange({ ...options, log: e.target.checked })} /> log
        scale
      </label>
      <label>
        smoothing{" "}
        <input
          type="range"
          aria-label="smoothing"
          min={0}
          max={0.99}
          step={0.01}
          value={options.smoothing}
          onChange={(e) => onChange({ ...options, smoothing: Number(e.target.value) })}
        />{" "}
        {options.smoothing.toFixed(2)}
      </label>
      <span className="muted">drag across a chart to zoom</span>
    </div>
  );
}
