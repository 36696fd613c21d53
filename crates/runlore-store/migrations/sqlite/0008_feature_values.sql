-- Runlore schema, version 8: every leaf of every run's features, indexed,
-- so `features.<path>` filters and orders are index lookups and walks, as
-- params are, instead of reading each run's JSON tree (about 0.2–0.3 s
-- over 100,000 runs).
--
-- `path` is spelled as SQLite's json_tree writes `fullkey` ($.model.lr,
-- $."batch_size", $.layers[0]); src/sqlite/search/feature_path.rs spells
-- lookups the same way, and a test holds the two together. `value` keeps
-- the JSON type: a number as INTEGER or REAL, a string as TEXT, a boolean
-- as the TEXT 'true' or 'false'. SQLite orders every number before every
-- text, so one index walks numbers then strings; a comparison with a
-- number adds `value < ''` and one with a string `value >= ''`, which keep
-- it to its own type and still seek the index. JSON null and empty
-- containers have no row (they count as missing).
CREATE TABLE feature_values (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    path   TEXT    NOT NULL,
    value  ANY     NOT NULL,
    PRIMARY KEY (run_id, path)
) WITHOUT ROWID;
CREATE INDEX feature_values_by_value ON feature_values (path, value);

INSERT INTO feature_values (run_id, path, value)
SELECT f.run_id, t.fullkey,
       CASE t.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE t.atom END
FROM run_features f, json_tree(f.full) t
WHERE t.type IN ('integer', 'real', 'text', 'true', 'false');
