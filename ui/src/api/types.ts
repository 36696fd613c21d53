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

/** A metric that judges a project's runs (kept in the project's settings). */
export interface KeyMetric {
  key: string;
  direction: "min" | "max";
  aggregation: "last" | "best" | "average";
}

export interface ProjectSettings {
  naming?: NamingRule | null;
  key_metrics?: KeyMetric[];
  [other: string]: unknown;
}

/** Count, min, max and mean over a run's finite values of one metric. */
export interface MetricSummary {
  run_id: string;
  key: string;
  count: number;
  min: number | null;
  max: number | null;
  mean: number | null;
}

/** An artifact row (the recursive listing). */
export interface ArtifactFile {
  path: string;
  sha256: string;
  size: number;
  media_type: string;
  direction: "input" | "output";
  step: number | null;
  created_at: number;
}

export interface LineageActivity {
  run_id: string;
  name: string;
  project: string;
  experiment: string;
  status: RunStatus;
  user?: string;
  start_time?: number | null;
  end_time?: number | null;
}

export interface LineageEntity {
  sha256: string;
  size: number;
  media_type: string;
  paths: string[];
  uri?: string | null;
}

export interface Lineage {
  activities: LineageActivity[];
  entities: LineageEntity[];
  agents: { kind: string; name: string }[];
  used: { run_id: string; sha256: string; path: string; time: number }[];
  generated: { run_id: string; sha256: string; path: string; time: number }[];
  informed: { run_id: string; informant: string; kind: string }[];
  associations: unknown[];
}

export interface DiffLine {
  tag: "equal" | "delete" | "insert";
  old_line: number | null;
  new_line: number | null;
  text: string;
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
