//! Logged models and run inputs/outputs on PostgreSQL (the semantics of
//! sqlite/models.rs). So far: the inputs and outputs a loaded run carries.

use std::collections::HashMap;

use deadpool_postgres::GenericClient;
use runlore_core::{DatasetInput, ModelId, ModelOutput, Result, Run};

use super::pg_err;

/// Fills the inputs and model outputs of loaded runs (by internal key),
/// with two queries whatever the count.
pub(crate) async fn attach_io(
    client: &impl GenericClient,
    keys: &[i64],
    runs: &mut HashMap<i64, Run>,
) -> Result<()> {
    let rows = client
        .query(
            "SELECT run_id, name, digest, source_type, source, schema, profile, tags
             FROM run_inputs WHERE run_id = ANY($1) ORDER BY id",
            &[&keys],
        )
        .await
        .map_err(pg_err)?;
    for row in rows {
        if let Some(run) = runs.get_mut(&row.get::<_, i64>(0)) {
            let tags: &str = row.get(7);
            run.inputs.push(DatasetInput {
                name: row.get(1),
                digest: row.get(2),
                source_type: row.get(3),
                source: row.get(4),
                schema: row.get(5),
                profile: row.get(6),
                tags: serde_json::from_str(tags).unwrap_or_default(),
            });
        }
    }
    let rows = client
        .query(
            "SELECT o.run_id, m.uuid, o.step FROM run_model_outputs o
             JOIN logged_models m ON m.id = o.model_id
             WHERE o.run_id = ANY($1) ORDER BY m.id, o.step",
            &[&keys],
        )
        .await
        .map_err(pg_err)?;
    for row in rows {
        if let Some(run) = runs.get_mut(&row.get::<_, i64>(0)) {
            run.model_outputs.push(ModelOutput {
                model_id: ModelId::parse(row.get(1))?,
                step: row.get(2),
            });
        }
    }
    Ok(())
}
