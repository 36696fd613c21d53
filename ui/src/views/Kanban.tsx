// Runs as cards in columns by status. A card can be dragged to a column
// when that status change is allowed (plan → start or cancel; running →
// finished, failed or killed); "Plan a run" creates a PLANNED run.

import { useState } from "react";
import { Link, useParams } from "react-router";
import { api } from "../api/client";
import { type Run, type RunStatus, STATUSES } from "../api/types";
import { ErrorBox } from "../components/common";
import { useAsync } from "../hooks";
import { fmtTime } from "../util";

export const TRANSITIONS: Record<RunStatus, RunStatus[]> = {
  PLANNED: ["RUNNING", "KILLED"],
  RUNNING: ["FINISHED", "FAILED", "KILLED"],
  FINISHED: [],
  FAILED: [],
  KILLED: [],
};
const CARDS_PER_COLUMN = 200;

export function KanbanView() {
  const { project = "" } = useParams();
  const runs = useAsync(() => api.allRuns({ project }), [project]);
  const [dragged, setDragged] = useState<Run>();
  const [over, setOver] = useState<RunStatus>();
  const [error, setError] = useState<string>();
  const [name, setName] = useState("");

  async function move(run: Run, status: RunStatus) {
    setError(undefined);
    try {
      await api.setStatus(run.id, status);
      runs.reload();
    } catch (e) {
      setError((e as Error).message);
    }
  }

  async function plan(e: React.FormEvent) {
    e.preventDefault();
    setError(undefined);
    try {
      await api.createRun({ project, name: name.trim() || undefined, status: "PLANNED" });
      setName("");
      runs.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  }

  const byStatus = new Map<RunStatus, Run[]>(STATUSES.map((s) => [s, []]));
  for (const r of runs.data ?? []) byStatus.get(r.status)?.push(r);

  return (
    <div>
      <div className="row" style={{ marginBottom: 8 }}>
        <h1 style={{ margin: 0 }}>Kanban</h1>
        <form className="row" onSubmit={plan}>
          <input aria-label="planned run name" placeholder="name (optional)" value={name} onChange={(e) => setName(e.target.value)} />
          <button type="submit">Plan a run</button>
        </form>
        <span className="muted">drag a card to change its status where allowed</span>
      </div>
      <ErrorBox error={runs.error} />
      {error && <div className="error" role="alert">{error}</div>}
      <div className="kanban" data-testid="kanban">
        {STATUSES.map((status) => {
          const allowed = !!dragged && TRANSITIONS[dragged.status].includes(status);
          const cards = byStatus.get(status) ?? [];
          return (
            <div
              key={status}
              className={`kcol${allowed && over === status ? " droppable" : ""}`}
              data-status={status}
              onDragOver={(e) => {
                if (allowed) {
                  e.preventDefault();
                  setOver(status);
                }
              }}
              onDragLeave={() => setOver(undefined)}
              onDrop={(e) => {
                e.preventDefault();
                setOver(undefined);
                if (dragged && allowed) move(dragged, status);
                setDragged(undefined);
              }}
            >
              <h3>
                <span className={`status ${status}`}>{status}</span> <span className="muted">{cards.length}</span>
              </h3>
              {cards.slice(0, CARDS_PER_COLUMN).map((r) => {
                const movable = TRANSITIONS[r.status].length > 0;
                return (
                  <div
                    key={r.id}
                    className="kcard"
                    draggable={movable}
                    data-run={r.id}
                    onDragStart={() => setDragged(r)}
                    onDragEnd={() => setDragged(undefined)}
                  >
                    <Link to={`/runs/${r.id}`}>{r.name}</Link>
                    <div className="muted" style={{ fontSize: 11 }}>
                      {r.experiment} · {fmtTime(r.start_time ?? r.created_at)}
                    </div>
                    {movable && (
                      <select
                        aria-label={`move ${r.name}`}
                        value=""
                        style={{ fontSize: 11, marginTop: 4, padding: "0 4px" }}
                        onChange={(e) => e.target.value && move(r, e.target.value as RunStatus)}
                      >
                        <option value="">move to…</option>
                        {TRANSITIONS[r.status].map((s) => (
                          <option key={s} value={s}>
                            {s}
                          </option>
                        ))}
                      </select>
                    )}
                  </div>
                );
              })}
              {cards.length > CARDS_PER_COLUMN && (
                <div className="muted">+{(cards.length - CARDS_PER_COLUMN).toLocaleString()} more</div>
              )}
            </div>
          );
        })}
      </div>
    </div>
  );
}
