-- Runlore schema, version 5: lineage. Tracing downstream from a dataset
-- known only by its digest (an MLflow dataset input, or a file recorded by
-- reference) looks runs up by digest.
CREATE INDEX run_inputs_by_digest ON run_inputs (digest);
