// A run's features as a tree, with the diff against its primary parent
// highlighted: added leaves green, replaced ones amber (with the parent's
// value), removed ones struck through.

import type { PatchOp } from "../api/types";
import { escapePointer, fmtJson, pointerGet } from "../util";

export function FeatureTree({
  full,
  diff = [],
  parentFull,
}: {
  full: unknown;
  diff?: PatchOp[];
  parentFull?: unknown;
}) {
  const ops = new Map<string, PatchOp>();
  const removedUnder = new Map<string, string[]>();
  for (const op of diff) {
    ops.set(op.path, op);
    if (op.op === "remove") {
      const cut = op.path.lastIndexOf("/");
      const parent = op.path.slice(0, cut);
      const list = removedUnder.get(parent) ?? [];
      list.push(op.path.slice(cut + 1));
      removedUnder.set(parent, list);
    }
  }
  if (full === null || typeof full !== "object" || Object.keys(full as object).length === 0) {
    return <p className="muted">No features logged.</p>;
  }
  return (
    <div className="tree" data-testid="feature-tree">
      <Node value={full} path="" ops={ops} removedUnder={removedUnder} parentFull={parentFull} />
    </div>
  );
}

function Node({
  value,
  path,
  ops,
  removedUnder,
  parentFull,
}: {
  value: unknown;
  path: string;
  ops: Map<string, PatchOp>;
  removedUnder: Map<string, string[]>;
  parentFull?: unknown;
}) {
  const entries =
    value !== null && typeof value === "object"
      ? Array.isArray(value)
        ? value.map((v, i) => [String(i), v] as const)
        : Object.entries(value as Record<string, unknown>)
      : [];
  const removed = removedUnder.get(path) ?? [];
  return (
    <>
      {entries.map(([k, v]) => {
        const p = `${path}/${escapePointer(k)}`;
        const op = ops.get(p);
        const cls = op?.op === "add" ? "added" : op?.op === "replace" ? "changed" : "";
        const isTree = v !== null && typeof v === "object" && Object.keys(v as object).length > 0;
        const was = op?.op === "replace" && parentFull !== undefined ? pointerGet(parentFull, p) : undefined;
        return (
          <div className="node" key={p} data-path={p}>
            <span className={cls} data-diff={op?.op}>
              <span className="k">{k}</span>:{" "}
              {!isTree && <span className="v">{fmtJson(v)}</span>}
              {was?.found && !isTree && <span className="was">(was {fmtJson(was.value)})</span>}
            </span>
            {isTree && <Node value={v} path={p} ops={ops} removedUnder={removedUnder} parentFull={parentFull} />}
          </div>
        );
      })}
      {removed.map((k) => {
        const p = `${path}/${k}`;
        const old = parentFull !== undefined ? pointerGet(parentFull, p) : undefined;
        return (
          <div className="node" key={"rm" + p} data-path={p}>
            <span className="removed" data-diff="remove">
              <span className="k">{k.replace(/~1/g, "/").replace(/~0/g, "~")}</span>
              {old?.found ? `: ${fmtJson(old.value)}` : ""}
            </span>
          </div>
        );
      })}
    </>
  );
}
