// Small shared helpers: value formatting, JSON Pointer paths, URL state.

import { useCallback } from "react";
import { useSearchParams } from "react-router";
import { num } from "./api/client";
import type { KeyMetric, LatestMetric, Run, WireNumber } from "./api/types";

/** How a number is shown: NaN and ±∞ spelled out, missing as an em dash. */
export function fmtNum(v: number | undefined | null): string {
  if (v === undefined || v === null) return "—";
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "∞";
  if (v === -Infinity) return "−∞";
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
  return v.toPrecision(5).replace(/\.?0+$/, "");
}

export function fmtWire(v: WireNumber | undefined): string {
  return fmtNum(num(v));
}

export function fmtTime(ms: number | null | undefined): string {
  if (!ms) return "—";
  const d = new Date(ms);
  return d.toISOString().replace("T", " ").slice(0, 19);
}

export function fmtDuration(run: Pick<Run, "start_time" | "end_time" | "status">): string {
  if (!run.start_time) return "—";
  const end = run.end_time ?? (run.status === "RUNNING" ? Date.now() : null);
  if (!end) return "—";
  let s = Math.max(0, Math.round((end - run.start_time) / 1000));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return h ? `${h}h ${m}m` : m ? `${m}m ${s}s` : `${s}s`;
}

export function metricMap(metrics: LatestMetric[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of metrics) m.set(x.key, num(x.value) as number);
  return m;
}

/** The leaves of a JSON tree as [JSON Pointer, value] pairs. */
export function leaves(tree: unknown, prefix = ""): [string, unknown][] {
  if (tree !== null && typeof tree === "object") {
    const entries = Array.isArray(tree)
      ? tree.map((v, i) => [String(i), v] as const)
      : Object.entries(tree as Record<string, unknown>);
    if (entries.length === 0) return [[prefix, tree]];
    return entries.flatMap(([k, v]) => leaves(v, `${prefix}/${escapePointer(k)}`));
  }
  return [[prefix, tree]];
}

export function escapePointer(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}

export function pointerGet(tree: unknown, pointer: string): { found: boolean; value?: unknown } {
  if (pointer === "") return { found: true, value: tree };
  let cur: unknown = tree;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (cur === null || typeof cur !== "object" || !(key in (cur as object))) return { found: false };
    cur = (cur as Record<string, unknown>)[key];
  }
  return { found: true, value: cur };
}

export function fmtJson(v: unknown): string {
  if (v === undefined) return "—";
  if (typeof v === "string") return JSON.stringify(v);
  return JSON.stringify(v);
}

/** One query-string parameter as React state (deep links). */
export function useQueryParam(name: string, fallback = ""): [string, (v: string) => void] {
  const [params, setParams] = useSearchParams();
  const value = params.get(name) ?? fallback;
  const set = useCallback(
    (v: string) =>
      setParams(
        (prev) => {
          const next = new URLSearchParams(prev);
          if (v === "" || v === fallback) next.delete(name);
          else next.set(name, v);
          return next;
        },
        { replace: true },
      ),
    [name, fallback, setParams],
  );
  return [value, set];
}

/** Sets several query-string parameters in one navigation (separate
 * setters in one event would overwrite each other). Empty values are removed. */
export function useSetQuery(): (values: Record<string, string>) => void {
  const [, setParams] = useSearchParams();
  return useCallback(
    (values: Record<string, string>) =>
      setParams(
        (prev) => {
          const next = new URLSearchParams(prev);
          for (const [k, v] of Object.entries(values)) {
            if (v === "") next.delete(k);
            else next.set(k, v);
          }
          return next;
        },
        { replace: true },
      ),
    [setParams],
  );
}

export function splitList(v: string): string[] {
  return v ? v.split(",").filter(Boolean) : [];
}

export type { KeyMetric } from "./api/types";

/** Key metrics an earlier version kept in this browser (before the server
 * had a field for them); read once to offer moving them to the server. */
export function legacyKeyMetrics(project: string): KeyMetric[] {
  try {
    const raw = localStorage.getItem(`runlore.keyMetrics.${project}`);
    return raw ? (JSON.parse(raw) as KeyMetric[]) : [];
  } catch {
    return [];
  }
}

export function forgetLegacyKeyMetrics(project: string) {
  localStorage.removeItem(`runlore.keyMetrics.${project}`);
}

/** A JSON Pointer as a dotted feature path (`/model/lr` → `model.lr`). */
export function dottedPath(pointer: string): string {
  return pointer
    .slice(1)
    .split("/")
    .map((k) => k.replace(/~1/g, "/").replace(/~0/g, "~"))
    .join(".");
}

/** A feature tree flattened to dotted paths and display strings. */
export function flattenFeatures(tree: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (tree === null || typeof tree !== "object") return out;
  for (const [pointer, value] of leaves(tree)) {
    if (pointer === "") continue;
    out[dottedPath(pointer)] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return out;
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}
