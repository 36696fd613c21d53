-- The experiment graph. Edges link runs of one project (checked when they
-- are written); position 0 is the primary parent. A run's features are
-- stored as an RFC 6902 diff against its primary parent's full features
-- (against {} without one), with the full tree kept as a cache.
CREATE TABLE run_edges (
    child_id    INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    parent_id   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL
                CHECK (kind IN ('derived_from', 'resumed_from', 'merged_from', 'ablation_of')),
    resume_step INTEGER,
    position    INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (child_id, parent_id)
) WITHOUT ROWID;
CREATE INDEX run_edges_by_parent ON run_edges (parent_id);

CREATE TABLE run_features (
    run_id      INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    base_run_id INTEGER REFERENCES runs (id) ON DELETE SET NULL,
    diff        TEXT    NOT NULL,
    full        TEXT    NOT NULL
);

-- Every change of a run's parents after its creation: who, when, from what
-- to what (JSON lists of {"run_id","kind","resume_step"}).
CREATE TABLE run_parent_changes (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    old_parents TEXT    NOT NULL,
    new_parents TEXT    NOT NULL,
    changed_by  TEXT    NOT NULL,
    changed_at  INTEGER NOT NULL
);
CREATE INDEX run_parent_changes_by_run ON run_parent_changes (run_id);

-- Project settings as one JSON document (ProjectSettings: the naming rule).
ALTER TABLE projects ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
