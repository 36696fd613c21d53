-- Runlore schema, version 7: a summary beside every metric chunk, so a
-- downsampled history read decodes only the few points around bucket
-- boundaries instead of every point (the < 20 ms budget for 1M points).
--
-- `summary` is packed little-endian (see src/sqlite/chunk_summary.rs): the
-- chunk's point count, its first and last points, then for each block of
-- 128 points the index and point of its first minimum and of its first
-- maximum (NaN skipped). `n` repeats the chunk's count so a reader can tell
-- a summary from a different version of the chunk and ignore it.
--
-- A rowid table (with the key as a separate index), not WITHOUT ROWID: a
-- 2,048-point chunk's summary is about 900 bytes, which would spill to an
-- overflow page in an index b-tree (about 1,000 bytes fit) but fits a table
-- leaf page (about 4,000).
--
-- The summaries of chunks written before this version are computed by the
-- migration itself (a Rust step in migrate.rs; SQL cannot decode chunks).
-- A chunk that still lacks one is decoded whole on read.
CREATE TABLE metric_chunk_summaries (
    run_id   INTEGER NOT NULL REFERENCES runs(id),
    key_id   INTEGER NOT NULL REFERENCES metric_keys(id),
    chunk_no INTEGER NOT NULL,
    n        INTEGER NOT NULL,
    summary  BLOB    NOT NULL,
    PRIMARY KEY (run_id, key_id, chunk_no)
);

-- Ingest tops up the chunk holding a key's highest step (not the newest
-- chunk), so chunks keep disjoint step ranges when batches arrive out of
-- order; this index finds that chunk, and the chunks a batch overlaps,
-- without scanning every chunk of the key. Full reads keep the primary-key
-- order (they write `+max_step` so the planner does not pick this index
-- and sort whole chunks by chunk_no).
CREATE INDEX metric_chunks_by_max_step ON metric_chunks (run_id, key_id, max_step, chunk_no);
