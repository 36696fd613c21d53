// Params vs metrics over all runs in view: a scatter plot (click a point
// to select its run) and parallel coordinates. Drawn on canvas, so 10,000
// runs are one pass over an array.

import { useEffect, useMemo, useRef, useState } from "react";
import type { Run } from "../api/types";
import { useThemeName } from "../hooks";
import { fmtNum, metricMap } from "../util";

export interface Axis {
  id: string; // "metric:loss" | "param:lr"
  label: string;
}

/** A run's numeric value on an axis: metrics as logged, params parsed. */
export function axisValue(run: Run, metrics: Map<string, number>, axis: string): number | undefined {
  const i = axis.indexOf(":");
  const kind = axis.slice(0, i);
  const key = axis.slice(i + 1);
  if (kind === "metric") {
    const v = metrics.get(key);
    return v !== undefined && Number.isFinite(v) ? v : undefined;
  }
  const raw = run.params[key];
  if (raw === undefined || raw.trim() === "") return undefined;
  const v = Number(raw);
  return Number.isFinite(v) ? v : undefined;
}

/** Axes worth plotting: every metric, and params whose values are numbers. */
export function numericAxes(runs: Run[]): Axis[] {
  const metrics = new Set<string>();
  const params = new Map<string, boolean>();
  for (const r of runs) {
    for (const m of r.metrics) metrics.add(m.key);
    for (const [k, v] of Object.entries(r.params)) {
      const numeric = v.trim() !== "" && Number.isFinite(Number(v));
      params.set(k, (params.get(k) ?? true) && numeric);
    }
  }
  return [
    ...[...params].filter(([, n]) => n).map(([k]) => ({ id: `param:${k}`, label: `param ${k}` })),
    ...[...metrics].map((k) => ({ id: `metric:${k}`, label: `metric ${k}` })),
  ].sort((a, b) => a.id.localeCompare(b.id));
}

function colors() {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return { fg: v("--muted", "#666"), grid: v("--border", "#ddd"), accent: v("--accent", "#2563eb"), bad: v("--bad", "#c00") };
}

function extent(values: (number | undefined)[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v === undefined) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo)) return [0, 1];
  if (lo === hi) return [lo - 0.5, hi + 0.5];
  const pad = (hi - lo) * 0.04;
  return [lo - pad, hi + pad];
}

function useCanvas(height: number) {
  const ref = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(600);
  useEffect(() => {
    const el = ref.current?.parentElement;
    if (!el) return;
    const update = () => setWidth(Math.max(300, el.clientWidth - 2));
    update();
    const observer = new ResizeObserver(update);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  const setup = () => {
    const canvas = ref.current;
    const ctx = canvas?.getContext("2d");
    if (!canvas || !ctx) return undefined;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = width * dpr;
    canvas.height = height * dpr;
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    return ctx;
  };
  return { ref, width, setup };
}

export function ScatterPlot({
  runs,
  x,
  y,
  selected,
  onToggle,
}: {
  runs: Run[];
  x: string;
  y: string;
  selected: Set<string>;
  onToggle: (id: string) => void;
}) {
  const height = 340;
  const { ref, width, setup } = useCanvas(height);
  const theme = useThemeName();
  const [hover, setHover] = useState<string>();
  const pad = { l: 64, r: 16, t: 12, b: 36 };
  const points = useMemo(() => {
    const out: { run: Run; x: number; y: number }[] = [];
    for (const run of runs) {
      const m = metricMap(run.metrics);
      const vx = axisValue(run, m, x);
      const vy = axisValue(run, m, y);
      if (vx !== undefined && vy !== undefined) out.push({ run, x: vx, y: vy });
    }
    return out;
  }, [runs, x, y]);
  const [x0, x1] = extent(points.map((p) => p.x));
  const [y0, y1] = extent(points.map((p) => p.y));
  const sx = (v: number) => pad.l + ((v - x0) / (x1 - x0)) * (width - pad.l - pad.r);
  const sy = (v: number) => height - pad.b - ((v - y0) / (y1 - y0)) * (height - pad.t - pad.b);

  useEffect(() => {
    const ctx = setup();
    if (!ctx) return;
    const c = colors();
    ctx.strokeStyle = c.grid;
    ctx.fillStyle = c.fg;
    ctx.font = "11px system-ui, sans-serif";
    for (let i = 0; i <= 4; i++) {
      const vx = x0 + ((x1 - x0) * i) / 4;
      const vy = y0 + ((y1 - y0) * i) / 4;
      ctx.beginPath();
      ctx.moveTo(sx(vx), pad.t);
      ctx.lineTo(sx(vx), height - pad.b);
      ctx.moveTo(pad.l, sy(vy));
      ctx.lineTo(width - pad.r, sy(vy));
      ctx.stroke();
      ctx.textAlign = "center";
      ctx.fillText(fmtNum(vx), sx(vx), height - pad.b + 14);
      ctx.textAlign = "right";
      ctx.fillText(fmtNum(vy), pad.l - 6, sy(vy) + 4);
    }
    ctx.textAlign = "center";
    ctx.fillText(x.replace(":", " "), pad.l + (width - pad.l - pad.r) / 2, height - 4);
    ctx.globalAlpha = points.length > 2000 ? 0.35 : 0.7;
    ctx.fillStyle = c.fg;
    for (const p of points) if (!selected.has(p.run.id)) ctx.fillRect(sx(p.x) - 2, sy(p.y) - 2, 4, 4);
    ctx.globalAlpha = 1;
    ctx.fillStyle = c.accent;
    for (const p of points) {
      if (!selected.has(p.run.id)) continue;
      ctx.beginPath();
      ctx.arc(sx(p.x), sy(p.y), 5, 0, Math.PI * 2);
      ctx.fill();
    }
  }); // redraw on every render: cheap, and always in step with the data

  const nearest = (e: React.MouseEvent) => {
    const rect = (e.target as HTMLCanvasElement).getBoundingClientRect();
    const mx = e.clientX - rect.left;
    const my = e.clientY - rect.top;
    let best: Run | undefined;
    let bestD = 64;
    for (const p of points) {
      const d = (sx(p.x) - mx) ** 2 + (sy(p.y) - my) ** 2;
      if (d < bestD) {
        bestD = d;
        best = p.run;
      }
    }
    return best;
  };

  void theme;
  return (
    <div data-testid="scatter">
      <canvas
        ref={ref}
        style={{ cursor: hover ? "pointer" : "crosshair", display: "block" }}
        onMouseMove={(e) => setHover(nearest(e)?.name)}
        onClick={(e) => {
          const run = nearest(e);
          if (run) onToggle(run.id);
        }}
      />
      <div className="muted" style={{ fontSize: 12 }}>
        {points.length.toLocaleString()} runs with both values
        {hover ? ` · ${hover} (click to select)` : " · click a point to select its run"}
      </div>
    </div>
  );
}

export function ParallelCoordinates({
  runs,
  axes,
  selected,
}: {
  runs: Run[];
  axes: string[];
  selected: Set<string>;
}) {
  const height = 340;
  const { ref, width, setup } = useCanvas(height);
  const theme = useThemeName();
  const pad = { l: 40, r: 40, t: 24, b: 28 };
  const table = useMemo(
    () =>
      runs.map((run) => {
        const m = metricMap(run.metrics);
        return { run, values: axes.map((a) => axisValue(run, m, a)) };
      }),
    [runs, axes],
  );
  const extents = useMemo(() => axes.map((_, i) => extent(table.map((r) => r.values[i]))), [axes, table]);

  useEffect(() => {
    const ctx = setup();
    if (!ctx || axes.length < 2) return;
    const c = colors();
    const ax = (i: number) => pad.l + (i * (width - pad.l - pad.r)) / (axes.length - 1);
    const ay = (i: number, v: number) => {
      const [lo, hi] = extents[i];
      return height - pad.b - ((v - lo) / (hi - lo)) * (height - pad.t - pad.b);
    };
    const last = axes.length - 1;
    const [clo, chi] = extents[last];
    const draw = (values: (number | undefined)[], stroke: string, alpha: number, lineWidth: number) => {
      ctx.globalAlpha = alpha;
      ctx.strokeStyle = stroke;
      ctx.lineWidth = lineWidth;
      ctx.beginPath();
      let open = false;
      values.forEach((v, i) => {
        if (v === undefined) {
          open = false;
          return;
        }
        if (open) ctx.lineTo(ax(i), ay(i, v));
        else ctx.moveTo(ax(i), ay(i, v));
        open = true;
      });
      ctx.stroke();
    };
    const alpha = table.length > 2000 ? 0.08 : table.length > 200 ? 0.25 : 0.6;
    for (const r of table) {
      if (selected.has(r.run.id)) continue;
      const v = r.values[last];
      const t = v === undefined ? 0.5 : (v - clo) / (chi - clo);
      draw(r.values, `hsl(${220 - 220 * t}, 70%, 50%)`, alpha, 1);
    }
    for (const r of table) if (selected.has(r.run.id)) draw(r.values, c.accent, 1, 2.5);
    ctx.globalAlpha = 1;
    ctx.lineWidth = 1;
    ctx.font = "11px system-ui, sans-serif";
    axes.forEach((a, i) => {
      ctx.strokeStyle = c.fg;
      ctx.beginPath();
      ctx.moveTo(ax(i), pad.t);
      ctx.lineTo(ax(i), height - pad.b);
      ctx.stroke();
      ctx.fillStyle = c.fg;
      ctx.textAlign = i === 0 ? "left" : i === last ? "right" : "center";
      ctx.fillText(a.replace(":", " "), ax(i), 12);
      ctx.fillText(fmtNum(extents[i][1]), ax(i), pad.t + 10);
      ctx.fillText(fmtNum(extents[i][0]), ax(i), height - pad.b + 14);
    });
  });

  void theme;
  if (axes.length < 2) return <p className="muted">Choose at least two axes.</p>;
  return (
    <div data-testid="parallel">
      <canvas ref={ref} style={{ display: "block" }} />
      <div className="muted" style={{ fontSize: 12 }}>
        {table.length.toLocaleString()} runs · coloured by {axes[axes.length - 1].replace(":", " ")} · selected runs in
        bold
      </div>
    </div>
  );
}
