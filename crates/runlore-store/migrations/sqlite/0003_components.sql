-- Components: every expected output of a run reports success, disabled or
-- failed, with a reason, so nothing silently disappears. One row per name;
-- reporting again replaces the row (the SDK may replay its journal).
CREATE TABLE components (
    run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    status     TEXT    NOT NULL CHECK (status IN ('success', 'disabled', 'failed')),
    reason     TEXT    NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
