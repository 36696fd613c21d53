-- Runlore schema on PostgreSQL, version 6: per (run, metric key) the count,
-- sum, min and max of the finite values (as migrations/sqlite/0006).
CREATE TABLE metric_summaries (
    run_id BIGINT           NOT NULL REFERENCES runs(id),
    key_id BIGINT           NOT NULL REFERENCES metric_keys(id),
    n      BIGINT           NOT NULL,
    sum    DOUBLE PRECISION NOT NULL,
    min    DOUBLE PRECISION,
    max    DOUBLE PRECISION,
    PRIMARY KEY (run_id, key_id)
);
