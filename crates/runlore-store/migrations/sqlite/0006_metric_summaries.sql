-- Runlore schema, version 6: per (run, metric key) the count, sum, min and
-- max of the finite values, kept up to date on ingest, so tables can show a
-- run's best or average value without reading its history. Histories
-- logged before this version get their row on first read or next ingest.
CREATE TABLE metric_summaries (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    key_id INTEGER NOT NULL REFERENCES metric_keys(id),
    n      INTEGER NOT NULL,
    sum    REAL    NOT NULL,
    min    REAL,
    max    REAL,
    PRIMARY KEY (run_id, key_id)
) WITHOUT ROWID;
