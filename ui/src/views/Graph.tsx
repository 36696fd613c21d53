// The project's run DAG, laid out top-down with dagre and drawn as SVG.
// Nodes are coloured by status and show the project's first key metric
// (latest, best or average, as its settings say) with ▲/▼ against the
// primary parent. Click a node to open the run; drag it onto another node
// to make that node its parent (after a confirmation, through the API).

import dagre from "@dagrejs/dagre";
import { useMemo, useRef, useState } from "react";
import { useNavigate, useParams } from "react-router";
import { api, num } from "../api/client";
import { type Aggregated, aggregateRuns } from "../aggregate";
import type { Graph, GraphNode, KeyMetric } from "../api/types";
import { ErrorBox } from "../components/common";
import { compare, guessDirection } from "../components/RunsTable";
import { useAsync, useKeyMetrics } from "../hooks";
import { fmtNum } from "../util";

const W = 190;
const H = 52;
const STATUS_COLOR: Record<string, string> = {
  PLANNED: "var(--st-planned)",
  RUNNING: "var(--st-running)",
  FINISHED: "var(--st-finished)",
  FAILED: "var(--st-failed)",
  KILLED: "var(--st-killed)",
};

interface Placed {
  node: GraphNode;
  x: number; // centre
  y: number;
}

/** dagre is quadratic-ish: beyond this many runs only the runs that have
 * edges (then the newest others) are laid out. */
export const MAX_NODES = 1500;

export function limitGraph(graph: Graph): Graph {
  if (graph.nodes.length <= MAX_NODES) return graph;
  const linked = new Set(graph.edges.flatMap((e) => [e.parent, e.child]));
  const nodes = [...graph.nodes.filter((n) => linked.has(n.id)), ...graph.nodes.filter((n) => !linked.has(n.id))].slice(
    0,
    MAX_NODES,
  );
  const kept = new Set(nodes.map((n) => n.id));
  return { nodes, edges: graph.edges.filter((e) => kept.has(e.parent) && kept.has(e.child)) };
}

export function layoutGraph(graph: Graph): { placed: Map<string, Placed>; width: number; height: number; edges: { from: string; to: string; kind: string; points: { x: number; y: number }[] }[] } {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "TB", nodesep: 24, ranksep: 48, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) g.setNode(n.id, { width: W, height: H });
  for (const e of graph.edges) if (g.hasNode(e.parent) && g.hasNode(e.child)) g.setEdge(e.parent, e.child);
  dagre.layout(g);
  const placed = new Map<string, Placed>();
  for (const n of graph.nodes) {
    const p = g.node(n.id);
    placed.set(n.id, { node: n, x: p.x, y: p.y });
  }
  const kinds = new Map(graph.edges.map((e) => [`${e.parent} ${e.child}`, e.kind]));
  const edges = g.edges().map((e) => ({
    from: e.v,
    to: e.w,
    kind: kinds.get(`${e.v} ${e.w}`) ?? "derived_from",
    points: g.edge(e).points ?? [],
  }));
  const info = g.graph();
  return { placed, edges, width: (info.width ?? 400) + 40, height: (info.height ?? 300) + 40 };
}

export function GraphView() {
  const { project = "" } = useParams();
  const navigate = useNavigate();
  const graph = useAsync(() => api.graph(project), [project]);
  const layout = useMemo(() => (graph.data ? layoutGraph(limitGraph(graph.data)) : undefined), [graph.data]);
  const svg = useRef<SVGSVGElement>(null);
  const [drag, setDrag] = useState<{ id: string; dx: number; dy: number; x0: number; y0: number; target?: string }>();
  const [confirm, setConfirm] = useState<{ child: GraphNode; parent: GraphNode }>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const keyMetrics = useKeyMetrics(project);
  const keyMetric = useMemo((): { key: string; dir: "min" | "max"; how: KeyMetric["aggregation"] } | undefined => {
    const configured = keyMetrics[0];
    if (configured) return { key: configured.key, dir: configured.direction, how: configured.aggregation };
    const first = graph.data?.nodes.find((n) => Object.keys(n.metrics).length)?.metrics;
    const key = first ? Object.keys(first).sort()[0] : undefined;
    return key ? { key, dir: guessDirection(key), how: "last" } : undefined;
  }, [graph.data, keyMetrics]);
  // Best or average, as the project's settings ask, from the server's
  // summaries of the runs on screen (the graph itself carries the latest).
  const aggregated = useAsync(async () => {
    if (!keyMetric || keyMetric.how === "last" || !layout) return new Map() as Aggregated;
    const metric: KeyMetric = { key: keyMetric.key, direction: keyMetric.dir, aggregation: keyMetric.how };
    return aggregateRuns([...layout.placed.keys()], [metric]);
  }, [keyMetric, layout]);
  const metricOf = (node: GraphNode | undefined): number | undefined => {
    if (!keyMetric || !node) return undefined;
    if (keyMetric.how === "last") return num(node.metrics[keyMetric.key]);
    return aggregated.data?.get(node.id)?.get(keyMetric.key);
  };
  const primaryParent = useMemo(() => {
    const m = new Map<string, string>();
    for (const e of graph.data?.edges ?? []) if (e.position === 0) m.set(e.child, e.parent);
    return m;
  }, [graph.data]);

  const toSvg = (e: React.PointerEvent) => {
    const rect = svg.current?.getBoundingClientRect();
    return { x: e.clientX - (rect?.left ?? 0), y: e.clientY - (rect?.top ?? 0) };
  };
  const hit = (x: number, y: number, except: string) => {
    for (const [id, p] of layout?.placed ?? []) {
      if (id !== except && Math.abs(x - p.x) <= W / 2 && Math.abs(y - p.y) <= H / 2) return id;
    }
    return undefined;
  };

  async function reparent() {
    if (!confirm) return;
    setBusy(true);
    setError(undefined);
    try {
      await api.setParents(confirm.child.id, [{ run_id: confirm.parent.id, kind: "derived_from" }]);
      setConfirm(undefined);
      graph.reload();
    } catch (e) {
      setError((e as Error).message);
      setConfirm(undefined);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div>
      <div className="row" style={{ marginBottom: 8 }}>
        <h1 style={{ margin: 0 }}>Experiment graph</h1>
        <span className="muted">
          {graph.data ? `${graph.data.nodes.length} runs, ${graph.data.edges.length} edges` : ""}
          {graph.data && graph.data.nodes.length > MAX_NODES ? ` (showing ${MAX_NODES.toLocaleString()}: linked runs first)` : ""} · click a run to open it,
          drag it onto another run to re-parent it · dashed: resumed, merged or ablation
          {keyMetric ? ` · metric: ${keyMetric.key}${keyMetric.how === "last" ? "" : ` (${keyMetric.how})`}` : ""}
        </span>
      </div>
      <ErrorBox error={graph.error} />
      {error && (
        <div className="error" role="alert" data-testid="graph-error">
          {error}
        </div>
      )}
      {layout && (
        <div className="graph" data-testid="graph">
          <svg
            ref={svg}
            width={layout.width}
            height={layout.height}
            onPointerMove={(e) => {
              if (!drag) return;
              const p = toSvg(e);
              setDrag({ ...drag, dx: p.x - drag.x0, dy: p.y - drag.y0, target: hit(p.x, p.y, drag.id) });
            }}
            onPointerUp={() => {
              if (!drag) return;
              const moved = Math.hypot(drag.dx, drag.dy) > 4;
              const child = layout.placed.get(drag.id)?.node;
              const parent = drag.target ? layout.placed.get(drag.target)?.node : undefined;
              setDrag(undefined);
              if (!moved) navigate(`/runs/${drag.id}`);
              else if (child && parent) setConfirm({ child, parent });
            }}
            onPointerLeave={() => setDrag(undefined)}
          >
            <defs>
              <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
                <path d="M0,0 L10,5 L0,10 z" fill="var(--muted)" />
              </marker>
            </defs>
            {layout.edges.map((e) => (
              <path
                key={`${e.from}-${e.to}`}
                data-kind={e.kind}
                className="gedge"
                markerEnd="url(#arrow)"
                strokeDasharray={e.kind === "derived_from" ? undefined : "5 4"}
                d={e.points.map((p, i) => `${i ? "L" : "M"}${p.x},${p.y}`).join(" ")}
              />
            ))}
            {[...layout.placed.values()].map(({ node, x, y }) => {
              const dragging = drag?.id === node.id;
              const tx = x - W / 2 + (dragging ? drag.dx : 0);
              const ty = y - H / 2 + (dragging ? drag.dy : 0);
              const value = metricOf(node);
              const parentId = primaryParent.get(node.id);
              const parentValue = parentId ? metricOf(layout.placed.get(parentId)?.node) : undefined;
              const verdict = keyMetric ? compare(value, parentValue, keyMetric.dir) : "";
              return (
                <g
                  key={node.id}
                  className={`gnode${drag?.target === node.id ? " drop" : ""}`}
                  transform={`translate(${tx},${ty})`}
                  data-node={node.id}
                  data-name={node.name}
                  style={{ opacity: dragging ? 0.8 : 1 }}
                  onPointerDown={(e) => {
                    e.preventDefault();
                    const p = toSvg(e);
                    setDrag({ id: node.id, dx: 0, dy: 0, x0: p.x, y0: p.y });
                  }}
                >
                  <rect width={W} height={H} rx={6} />
                  <rect width={6} height={H} rx={3} style={{ fill: STATUS_COLOR[node.status], stroke: "none" }} />
                  <text x={14} y={20} fontWeight={600}>
                    {node.name.length > 24 ? node.name.slice(0, 23) + "…" : node.name}
                  </text>
                  <text x={14} y={40} style={{ fill: "var(--muted)", fontSize: 11 }}>
                    {node.status}
                    {keyMetric && value !== undefined ? ` · ${keyMetric.key} ${fmtNum(value)}` : ""}
                    {verdict === "better" ? " ▲" : verdict === "worse" ? " ▼" : ""}
                  </text>
                  {verdict && (
                    <text x={W - 16} y={20} style={{ fill: verdict === "better" ? "var(--good)" : "var(--bad)" }}>
                      {verdict === "better" ? "▲" : "▼"}
                    </text>
                  )}
                </g>
              );
            })}
          </svg>
        </div>
      )}
      {confirm && (
        <div className="modal-back">
          <div className="modal" role="dialog" aria-label="confirm re-parenting">
            <h2 style={{ marginTop: 0 }}>Re-parent run?</h2>
            <p>
              Make <strong>{confirm.parent.name}</strong> the only parent of <strong>{confirm.child.name}</strong>? Its
              feature diff is recomputed against the new parent; the change is recorded.
            </p>
            <div className="row" style={{ justifyContent: "flex-end" }}>
              <button onClick={() => setConfirm(undefined)} disabled={busy}>
                Cancel
              </button>
              <button className="primary" onClick={reparent} disabled={busy}>
                Re-parent
              </button>
            </div>
          </div>
        </div>
      )}
    </div>
  );
}
