-- Runlore schema on PostgreSQL, version 3: components (as migrations/sqlite/0003).
CREATE TABLE components (
    run_id     BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name       TEXT COLLATE "C"   NOT NULL,
    status     TEXT COLLATE "C"   NOT NULL CHECK (status IN ('success', 'disabled', 'failed')),
    reason     TEXT COLLATE "C"   NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (run_id, name)
);
