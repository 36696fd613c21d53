-- Runlore schema on PostgreSQL, version 8: every leaf of every run's
-- features, indexed (as migrations/sqlite/0008).
--
-- `path` is spelled as on SQLite ($.model.lr, $."batch_size", $.layers[0]).
-- SQLite keeps one dynamically typed `value` and orders numbers before
-- text; here `kind` says which of the two columns holds the value (0: the
-- number in `num`, exact as NUMERIC; 1: the text in `txt`, a boolean as
-- 'true' or 'false'), and the index on (path, kind, num, txt) walks numbers
-- then strings in that same order. JSON null and empty containers have no
-- row (they count as missing). Rows are written by Rust from the features
-- tree, so the same code fills both backends. No PostgreSQL database
-- predates this version (the backend arrived at 8): nothing to backfill.
CREATE TABLE feature_values (
    run_id BIGINT   NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    path   TEXT COLLATE "C"     NOT NULL,
    kind   SMALLINT NOT NULL CHECK (kind IN (0, 1)),
    num    NUMERIC,
    txt    TEXT COLLATE "C",
    CHECK ((kind = 0 AND num IS NOT NULL AND txt IS NULL)
        OR (kind = 1 AND txt IS NOT NULL AND num IS NULL)),
    PRIMARY KEY (run_id, path)
);
CREATE INDEX feature_values_by_value ON feature_values (path, kind, num, txt);
