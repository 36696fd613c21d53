-- Runlore schema, version 2: artifacts (rows pointing at content-addressed
-- blobs), logged models, and the datasets and models runs record as inputs
-- and outputs; experiments keep an MLflow artifact location when given.

ALTER TABLE experiments ADD COLUMN artifact_location TEXT;

-- MLflow 3 logged models: a model with its own artifact root.
CREATE TABLE logged_models (
    id            INTEGER PRIMARY KEY,
    uuid          TEXT    NOT NULL UNIQUE,
    experiment_id INTEGER NOT NULL REFERENCES experiments(id),
    name          TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    model_type    TEXT    NOT NULL DEFAULT '',
    source_run_id INTEGER REFERENCES runs(id),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX logged_models_by_experiment ON logged_models (experiment_id, name);
CREATE INDEX logged_models_by_run ON logged_models (source_run_id);

CREATE TABLE logged_model_tags (
    model_id INTEGER NOT NULL REFERENCES logged_models(id),
    key      TEXT    NOT NULL,
    value    TEXT    NOT NULL,
    PRIMARY KEY (model_id, key)
) WITHOUT ROWID;

CREATE TABLE logged_model_params (
    model_id INTEGER NOT NULL REFERENCES logged_models(id),
    key      TEXT    NOT NULL,
    value    TEXT    NOT NULL,
    PRIMARY KEY (model_id, key)
) WITHOUT ROWID;

-- One row per artifact file. Exactly one owner: a run or a logged model.
-- The bytes live in the blob store under `sha256`.
CREATE TABLE artifacts (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER REFERENCES runs(id),
    model_id   INTEGER REFERENCES logged_models(id),
    path       TEXT    NOT NULL,
    sha256     TEXT    NOT NULL,
    size       INTEGER NOT NULL,
    media_type TEXT    NOT NULL DEFAULT '',
    direction  TEXT    NOT NULL DEFAULT 'output',
    step       INTEGER,
    created_at INTEGER NOT NULL,
    CHECK ((run_id IS NULL) <> (model_id IS NULL))
);
CREATE UNIQUE INDEX artifacts_of_run ON artifacts (run_id, path) WHERE run_id IS NOT NULL;
CREATE UNIQUE INDEX artifacts_of_model ON artifacts (model_id, path) WHERE model_id IS NOT NULL;
CREATE INDEX artifacts_by_blob ON artifacts (sha256);

-- Datasets a run used (MLflow log_inputs), kept verbatim.
CREATE TABLE run_inputs (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    name        TEXT    NOT NULL,
    digest      TEXT    NOT NULL,
    source_type TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    schema      TEXT,
    profile     TEXT,
    tags        TEXT    NOT NULL DEFAULT '{}',
    UNIQUE (run_id, name, digest)
);

-- Models a run produced.
CREATE TABLE run_model_outputs (
    run_id   INTEGER NOT NULL REFERENCES runs(id),
    model_id INTEGER NOT NULL REFERENCES logged_models(id),
    step     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, model_id, step)
) WITHOUT ROWID;
