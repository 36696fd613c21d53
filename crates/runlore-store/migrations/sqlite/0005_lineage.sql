-- Runlore schema, version 5: lineage. Tracing downstream from a dataset
-- known only by its digest (an MLflow dataset input, or a file recorded by
-- reference) looks runs up by digest.
CREATE INDEX run_inputs_by_digest ON run_inputs (digest);
-- A trace steps from a blob to the runs that made (or used) it, then to
-- those runs' inputs (or outputs): one lookup by (run, direction) per step.
-- Without this index SQLite builds an automatic one at every step of the
-- recursive query (seconds for a 10,000-run chain).
CREATE INDEX artifacts_by_run_direction ON artifacts (run_id, direction, sha256)
    WHERE run_id IS NOT NULL;
