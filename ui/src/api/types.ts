// Shapes of the native API (docs/API.md). Metric values are numbers, or the
// strings "NaN" / "Infinity" / "-Infinity" on the wire.

export type WireNumber = number | "NaN" | "Infinity" | "-Infinity";
export type RunStatus = "PLANNED" | "RUNNING" | "FINISHED" | "FAILED" | "KILLED";
export const STATUSES: RunStatus[] = ["PLANNED", "RUNNING", "FINISHED", "FAILED", "KILLED"];

export interface Project {
  name: string;
  description: string;
  lifecycle: string;
  created_at: number;
  updated_at: number;
}

export interface NamingRule {
  pattern: string;
  parent_from: "group" | "explicit" | "none";
  enforce: boolean;
}

export interface ProjectSettings {
  naming?: NamingRule | null;
  [other: string]: unknown;
}

export interface LatestMetric {
  key: string;
  value: WireNumber;
  step: number;
  timestamp: number;
}

export interface Component {
  name: string;
  status: "success" | "disabled" | "failed";
  reason?: string | null;
}

export interface Run {
  id: string;
  project: string;
  experiment_id: string;
  experiment: string;
  name: string;
  status: RunStatus;
  lifecycle: string;
  start_time: number | null;
  end_time: number | null;
  user: string;
  parent_run_id: string | null;
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: LatestMetric[];
  components: Component[];
  created_at: number;
  updated_at: number;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface ParentRef {
  run_id: string;
  kind?: string;
  resume_step?: number | null;
}

export interface PatchOp {
  op: "add" | "remove" | "replace" | "move" | "copy" | "test";
  path: string;
  value?: unknown;
  from?: string;
}

export interface Features {
  full: Record<string, unknown>;
  diff: PatchOp[];
  parents: ParentRef[];
}

export interface GraphNode {
  id: string;
  name: string;
  status: RunStatus;
  metrics: Record<string, WireNumber>;
  depth?: number;
}

export interface GraphEdge {
  parent: string;
  child: string;
  kind: string;
  resume_step?: number | null;
  position: number;
}

export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface ArtifactEntry {
  name: string;
  path: string;
  is_dir: boolean;
  size: number | null;
}

/** A metric history as columns: what charts consume. */
export interface History {
  steps: Float64Array;
  timestamps: Float64Array;
  values: Float64Array;
  total: number;
  downsampled: boolean;
}
