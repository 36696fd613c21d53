// Feature leaves of several runs side by side. By default only the leaves
// that differ are shown (a missing leaf counts as a value).

import { fmtJson, leaves, pointerGet } from "../util";

export interface DiffRun {
  id: string;
  name: string;
  full: unknown;
}

/** JSON Pointer paths of the leaves that differ across the trees. */
export function differingPaths(trees: unknown[]): Set<string> {
  const all = new Set<string>();
  for (const t of trees) for (const [p] of leaves(t)) all.add(p);
  const out = new Set<string>();
  for (const p of all) {
    const values = trees.map((t) => {
      const g = pointerGet(t, p);
      return g.found ? JSON.stringify(g.value) : "\u0000missing";
    });
    if (new Set(values).size > 1) out.add(p);
  }
  return out;
}

export function FeatureDiffTable({
  runs,
  differing,
  showAll,
}: {
  runs: DiffRun[];
  differing?: Set<string>;
  showAll: boolean;
}) {
  const diff = differing ?? differingPaths(runs.map((r) => r.full));
  const paths = new Set<string>();
  for (const r of runs) for (const [p] of leaves(r.full)) if (p) paths.add(p);
  const rows = [...paths].sort().filter((p) => showAll || diff.has(p));
  if (rows.length === 0)
    return <p className="muted" data-testid="feature-diff-empty">{paths.size ? "The features are identical." : "No features logged."}</p>;
  return (
    <table className="plain" data-testid="feature-diff">
      <thead>
        <tr>
          <th>feature</th>
          {runs.map((r) => (
            <th key={r.id}>{r.name}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((p) => (
          <tr key={p} className={diff.has(p) ? "differs" : ""} data-path={p}>
            <td className="mono">{p}</td>
            {runs.map((r) => {
              const g = pointerGet(r.full, p);
              return (
                <td key={r.id} className={`mono${diff.has(p) ? " changed-cell" : ""}`}>
                  {g.found ? fmtJson(g.value) : <span className="missing">—</span>}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
