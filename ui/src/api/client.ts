// The typed client of the native API. Every call goes through `request`,
// which turns `{"error":{code,message}}` answers into ApiError and network
// failures into Unreachable (the banner listens for those).

import { decodeHistory } from "./binary";
import type {
  ArtifactEntry,
  ArtifactFile,
  DiffLine,
  Lineage,
  MetricSummary,
  Features,
  Graph,
  History,
  Page,
  ParentRef,
  Project,
  ProjectSettings,
  Run,
  RunStatus,
  WireNumber,
} from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export class Unreachable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Unreachable";
  }
}

type Listener = (reachable: boolean) => void;
const listeners = new Set<Listener>();

/** Subscribe to reachability changes (false on a network failure). */
export function onReachability(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function report(reachable: boolean) {
  listeners.forEach((l) => l(reachable));
}

const BASE = "/api/v1";

async function send(path: string, init?: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(path.startsWith("/") ? path : `${BASE}/${path}`, init);
  } catch (e) {
    report(false);
    throw new Unreachable(`the Runlore server cannot be reached (${String(e)})`);
  }
  report(true);
  if (!response.ok) {
    let code = "http_" + response.status;
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      if (body?.error) {
        code = body.error.code ?? code;
        message = body.error.message ?? message;
      }
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(response.status, code, message);
  }
  return response;
}

async function json<T>(path: string, method = "GET", body?: unknown): Promise<T> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  const response = await send(path, init);
  return (await response.json()) as T;
}

function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

const enc = encodeURIComponent;

/** A wire number as a JS number (NaN and ±Infinity included). */
export function num(v: WireNumber | undefined | null): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "number") return v;
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return Number(v);
}

export const api = {
  health: () => json<{ status: string; version: string }>("/health"),

  projects: (view = "active") => json<{ items: Project[] }>(`projects${query({ view })}`),
  project: (name: string) => json<Project>(`projects/${enc(name)}`),
  createProject: (name: string, description: string) =>
    json<Project>("projects", "POST", { name, description }),
  settings: (name: string) => json<ProjectSettings>(`projects/${enc(name)}/settings`),
  /** Changes only the settings given (PATCH merges; `null` clears one), so
   * saving the naming rule cannot undo a key-metric change made meanwhile. */
  patchSettings: (name: string, changes: Partial<Pick<ProjectSettings, "naming" | "key_metrics">>) =>
    json<ProjectSettings>(`projects/${enc(name)}/settings`, "PATCH", changes),
  graph: (name: string) => json<Graph>(`projects/${enc(name)}/graph`),
  descendants: (id: string, depth = 1) => json<Graph>(`runs/${enc(id)}/descendants${query({ depth })}`),

  runsPage: (p: { project: string; filter?: string; order_by?: string; limit?: number; cursor?: string }) =>
    json<Page<Run>>(`runs${query(p)}`),

  /** Every run matching, page after page (at most `cap`). */
  async allRuns(
    p: { project: string; filter?: string; order_by?: string },
    cap = 50_000,
    signal?: { cancelled: boolean },
  ): Promise<Run[]> {
    const runs: Run[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 1000; i++) {
      const page = await api.runsPage({ ...p, limit: 10_000, cursor });
      if (signal?.cancelled) return runs;
      runs.push(...page.items);
      if (!page.next_cursor || runs.length >= cap) break;
      cursor = page.next_cursor;
    }
    return runs;
  },

  run: (id: string) => json<Run>(`runs/${enc(id)}`),
  createRun: (body: Record<string, unknown>) => json<Run>("runs", "POST", body),
  setStatus: (id: string, status: RunStatus) => json<Run>(`runs/${enc(id)}`, "PATCH", { status }),
  features: (id: string) => json<Features>(`runs/${enc(id)}/features`),
  setParents: (id: string, parents: ParentRef[], changed_by = "web-ui") =>
    json<Features>(`runs/${enc(id)}/parents`, "PUT", { parents, changed_by }),
  diff: (a: string, b: string) => json<{ diff: Features["diff"] }>(`runs/${enc(a)}/diff/${enc(b)}`),
  differing: (run_ids: string[]) =>
    json<{ paths: string[] }>("runs/features/differing", "POST", { run_ids }),
  metricKeys: (id: string) => json<{ keys: string[] }>(`runs/${enc(id)}/metrics`),

  /** A metric's history, read in the packed binary format. */
  async history(
    id: string,
    key: string,
    opts: { max_points?: number; start_step?: number; end_step?: number } = {},
  ): Promise<History> {
    const path = `runs/${enc(id)}/metrics/${enc(key)}${query({
      ...opts,
      start_step: opts.start_step === undefined ? undefined : Math.floor(opts.start_step),
      end_step: opts.end_step === undefined ? undefined : Math.ceil(opts.end_step),
      format: "binary",
    })}`;
    const response = await send(path);
    const decoded = decodeHistory(await response.arrayBuffer());
    const total = Number(response.headers.get("x-runlore-total") ?? decoded.steps.length);
    const downsampled = response.headers.get("x-runlore-downsampled") === "true";
    return { ...decoded, total, downsampled };
  },

  /** Count/min/max/mean of `keys` for each run, 10,000 runs a request. */
  async metricSummaries(runIds: string[], keys: string[]): Promise<MetricSummary[]> {
    const out: MetricSummary[] = [];
    for (let i = 0; i < runIds.length; i += 10_000)
      for (let j = 0; j < keys.length; j += 20) {
        const body = { run_ids: runIds.slice(i, i + 10_000), keys: keys.slice(j, j + 20) };
        out.push(...(await json<{ items: MetricSummary[] }>("runs/metric-summaries", "POST", body)).items);
      }
    return out;
  },
  /** Full feature trees of many runs, 10,000 a request. */
  async featuresBatch(runIds: string[]): Promise<{ run_id: string; features: unknown }[]> {
    const out: { run_id: string; features: unknown }[] = [];
    for (let i = 0; i < runIds.length; i += 10_000) {
      const body = { run_ids: runIds.slice(i, i + 10_000) };
      out.push(...(await json<{ items: { run_id: string; features: unknown }[] }>("runs/features/batch", "POST", body)).items);
    }
    return out;
  },
  artifactFiles: (id: string) =>
    json<{ files: ArtifactFile[] }>(`runs/${enc(id)}/artifacts${query({ recursive: "true" })}`).then((r) => r.files),
  lineage: (run: string) => json<Lineage>(`lineage${query({ run })}`),
  lineageUrl: (run: string, format: "prov-json" | "prov-n") => `${BASE}/lineage${query({ run, format })}`,
  artifactDiff: (a: string, b: string, path: string) =>
    json<{ changed: { path: string; lines?: DiffLine[] | null }[]; unchanged: number }>(
      `runs/${enc(a)}/artifact-diff/${enc(b)}${query({ path })}`,
    ),
  /** The run's REPORT.md, built by the server. */
  async report(id: string): Promise<string> {
    return (await send(api.reportUrl(id))).text();
  },
  reportUrl: (id: string) => `${BASE}/runs/${enc(id)}/report`,
  /** The last `maxBytes` of an artifact's text (one `Range` request), with
   * whether bytes before them were left out; null when there is no such file. */
  async artifactTail(id: string, path: string, maxBytes: number): Promise<{ text: string; cut: boolean } | null> {
    let response: Response;
    try {
      response = await send(api.artifactUrl(id, path), { headers: { Range: `bytes=-${maxBytes}` } });
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      if (e instanceof ApiError && e.status === 416) return { text: "", cut: false }; // an empty file
      throw e;
    }
    const text = new TextDecoder().decode(await response.arrayBuffer());
    const total = Number(response.headers.get("content-range")?.split("/")[1]);
    const cut = response.status === 206 && Number.isFinite(total) && total > maxBytes;
    return { text, cut };
  },
  /** An artifact's text, or null when the run has no such file. */
  async artifactTextOrNull(id: string, path: string): Promise<string | null> {
    try {
      return await api.artifactText(id, path, Infinity);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  },

  artifacts: (id: string, path = "") =>
    json<{ items: ArtifactEntry[] }>(`runs/${enc(id)}/artifacts${query({ path })}`),
  artifactUrl: (id: string, path: string) =>
    `${BASE}/runs/${enc(id)}/artifacts/${path.split("/").map(enc).join("/")}`,
  async artifactText(id: string, path: string, limit = 200_000): Promise<string> {
    const response = await send(api.artifactUrl(id, path));
    const text = await response.text();
    return text.length > limit ? text.slice(0, limit) + "\n… (truncated)" : text;
  },
};
