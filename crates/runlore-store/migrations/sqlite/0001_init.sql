-- Runlore schema, version 1: projects, experiments, runs and what runs log.
-- Internal keys are integers; public run ids are the 32-hex `uuid` column.

CREATE TABLE projects (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    description TEXT    NOT NULL DEFAULT '',
    lifecycle   TEXT    NOT NULL DEFAULT 'active',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE experiments (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    lifecycle   TEXT    NOT NULL DEFAULT 'active',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE experiment_tags (
    experiment_id INTEGER NOT NULL REFERENCES experiments(id),
    key           TEXT    NOT NULL,
    value         TEXT    NOT NULL,
    PRIMARY KEY (experiment_id, key)
) WITHOUT ROWID;

CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    uuid          TEXT    NOT NULL UNIQUE,
    project_id    INTEGER NOT NULL REFERENCES projects(id),
    experiment_id INTEGER NOT NULL REFERENCES experiments(id),
    name          TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    lifecycle     TEXT    NOT NULL DEFAULT 'active',
    start_time    INTEGER,
    end_time      INTEGER,
    user          TEXT    NOT NULL DEFAULT '',
    parent_run_id INTEGER REFERENCES runs(id),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX runs_by_experiment ON runs (experiment_id, start_time);
CREATE INDEX runs_by_project ON runs (project_id, start_time);
CREATE INDEX runs_by_start_time ON runs (start_time);

CREATE TABLE params (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    key    TEXT    NOT NULL,
    value  TEXT    NOT NULL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX params_by_key ON params (key, value);

CREATE TABLE tags (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    key    TEXT    NOT NULL,
    value  TEXT    NOT NULL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX tags_by_key ON tags (key, value);

CREATE TABLE metric_keys (
    id  INTEGER PRIMARY KEY,
    key TEXT    NOT NULL UNIQUE
);

-- The latest point of each (run, metric): what search, ordering and tables
-- read. NaN is kept as value NULL with is_nan = 1 (SQLite has no NaN).
CREATE TABLE latest_metrics (
    run_id    INTEGER NOT NULL REFERENCES runs(id),
    key_id    INTEGER NOT NULL REFERENCES metric_keys(id),
    value     REAL,
    is_nan    INTEGER NOT NULL DEFAULT 0,
    step      INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    PRIMARY KEY (run_id, key_id)
) WITHOUT ROWID;
CREATE INDEX latest_metrics_by_value ON latest_metrics (key_id, value);

-- Metric points, apart from run records, in chunks of up to a few thousand
-- points packed as (step, timestamp, value bits) little-endian triples and
-- sorted by (step, timestamp). A range read touches only the chunks whose
-- [min_step, max_step] overlaps it. See docs/ARCHITECTURE.md.
CREATE TABLE metric_chunks (
    run_id   INTEGER NOT NULL REFERENCES runs(id),
    key_id   INTEGER NOT NULL REFERENCES metric_keys(id),
    chunk_no INTEGER NOT NULL,
    min_step INTEGER NOT NULL,
    max_step INTEGER NOT NULL,
    n        INTEGER NOT NULL,
    data     BLOB    NOT NULL,
    PRIMARY KEY (run_id, key_id, chunk_no)
);

-- The project MLflow experiments land in, and MLflow's Default experiment "0".
INSERT INTO projects (id, name, description, lifecycle, created_at, updated_at)
VALUES (1, 'default', 'Runs that name no project', 'active',
        CAST(unixepoch('subsec') * 1000 AS INTEGER), CAST(unixepoch('subsec') * 1000 AS INTEGER));
INSERT INTO experiments (id, project_id, name, description, lifecycle, created_at, updated_at)
VALUES (0, 1, 'Default', '', 'active',
        CAST(unixepoch('subsec') * 1000 AS INTEGER), CAST(unixepoch('subsec') * 1000 AS INTEGER));
