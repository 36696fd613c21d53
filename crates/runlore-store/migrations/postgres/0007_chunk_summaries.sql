-- Runlore schema on PostgreSQL, version 7: a summary beside every metric
-- chunk, packed by the shared chunk-summary code exactly as on SQLite (see
-- migrations/sqlite/0007). A database created at this version or later has
-- no chunk without a summary, so no backfill step is needed here; a chunk
-- that lacks one is decoded whole on read, as on SQLite.
CREATE TABLE metric_chunk_summaries (
    run_id   BIGINT NOT NULL REFERENCES runs(id),
    key_id   BIGINT NOT NULL REFERENCES metric_keys(id),
    chunk_no BIGINT NOT NULL,
    n        BIGINT NOT NULL,
    summary  BYTEA  NOT NULL,
    PRIMARY KEY (run_id, key_id, chunk_no)
);

CREATE INDEX metric_chunks_by_max_step ON metric_chunks (run_id, key_id, max_step, chunk_no);
