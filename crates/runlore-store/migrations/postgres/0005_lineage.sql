-- Runlore schema on PostgreSQL, version 5: lineage lookups (as migrations/sqlite/0005).
CREATE INDEX run_inputs_by_digest ON run_inputs (digest);
CREATE INDEX artifacts_by_run_direction ON artifacts (run_id, direction, sha256)
    WHERE run_id IS NOT NULL;
