//! Logged models, and the datasets and models runs record as their inputs
//! and outputs, on PostgreSQL (the semantics of sqlite/models.rs).

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use runlore_core::time::now_ms;
use runlore_core::*;
use tokio_postgres::Row;

use super::{PostgresStore, pg_err, runs};
use crate::sql_common::page_size;

/// The model's internal key, refusing unknown ids.
pub(crate) async fn key_of(client: &impl GenericClient, id: &ModelId) -> Result<i64> {
    Ok(client
        .query_opt(
            "SELECT id FROM logged_models WHERE uuid = $1",
            &[&id.as_str()],
        )
        .await
        .map_err(pg_err)?
        .ok_or_else(|| Error::not_found("logged model", id))?
        .get(0))
}

/// [`key_of`], locking the model's row until the transaction ends.
pub(crate) async fn lock(client: &impl GenericClient, id: &ModelId) -> Result<i64> {
    Ok(client
        .query_opt(
            "SELECT id FROM logged_models WHERE uuid = $1 FOR NO KEY UPDATE",
            &[&id.as_str()],
        )
        .await
        .map_err(pg_err)?
        .ok_or_else(|| Error::not_found("logged model", id))?
        .get(0))
}

const SELECT: &str = "SELECT m.id, m.uuid, m.experiment_id, m.name, m.status, m.model_type,
                             r.uuid, m.created_at, m.updated_at
                      FROM logged_models m LEFT JOIN runs r ON r.id = m.source_run_id";

/// Models from their rows, with their tags and params in two queries.
async fn load(client: &impl GenericClient, rows: &[Row]) -> Result<Vec<LoggedModel>> {
    let keys: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    let mut tags: HashMap<i64, BTreeMap<String, String>> = HashMap::new();
    let mut params: HashMap<i64, BTreeMap<String, String>> = HashMap::new();
    for (table, into) in [
        ("logged_model_tags", &mut tags),
        ("logged_model_params", &mut params),
    ] {
        let found = client
            .query(
                &format!("SELECT model_id, key, value FROM {table} WHERE model_id = ANY($1)"),
                &[&keys],
            )
            .await
            .map_err(pg_err)?;
        for row in found {
            into.entry(row.get(0))
                .or_default()
                .insert(row.get(1), row.get(2));
        }
    }
    rows.iter()
        .map(|row| {
            let key: i64 = row.get(0);
            let run: Option<&str> = row.get(6);
            Ok(LoggedModel {
                id: ModelId::parse(row.get(1))?,
                experiment_id: ExperimentId::new(row.get(2)),
                name: row.get(3),
                status: ModelStatus::parse(row.get(4))?,
                model_type: row.get(5),
                source_run_id: run.map(RunId::parse).transpose()?,
                tags: tags.remove(&key).unwrap_or_default(),
                params: params.remove(&key).unwrap_or_default(),
                created_at: row.get(7),
                updated_at: row.get(8),
            })
        })
        .collect()
}

async fn get_with(client: &impl GenericClient, id: &ModelId) -> Result<LoggedModel> {
    let row = client
        .query_opt(&format!("{SELECT} WHERE m.uuid = $1"), &[&id.as_str()])
        .await
        .map_err(pg_err)?
        .ok_or_else(|| Error::not_found("logged model", id))?;
    load(client, &[row])
        .await?
        .pop()
        .ok_or_else(|| Error::not_found("logged model", id))
}

async fn insert_pairs(
    client: &impl GenericClient,
    table: &str,
    key: i64,
    pairs: &BTreeMap<String, String>,
    upsert: bool,
) -> Result<()> {
    if pairs.is_empty() {
        return Ok(());
    }
    let (keys, values): (Vec<&str>, Vec<&str>) =
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).unzip();
    let conflict = if upsert {
        " ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value"
    } else {
        ""
    };
    client
        .execute(
            &format!(
                "INSERT INTO {table} (model_id, key, value)
                 SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS t(k, v){conflict}"
            ),
            &[&key, &keys, &values],
        )
        .await
        .map_err(pg_err)?;
    Ok(())
}

#[async_trait]
impl ModelStore for PostgresStore {
    async fn create_logged_model(&self, new: NewLoggedModel) -> Result<LoggedModel> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_err)?;
        let lifecycle: String = tx
            .query_opt(
                "SELECT lifecycle FROM experiments WHERE id = $1 FOR SHARE",
                &[&new.experiment_id.value()],
            )
            .await
            .map_err(pg_err)?
            .ok_or_else(|| Error::not_found("experiment", new.experiment_id))?
            .get(0);
        if lifecycle != Lifecycle::Active.as_str() {
            return Err(Error::invalid(format!(
                "experiment '{}' is deleted; restore it before logging models",
                new.experiment_id
            )));
        }
        let run = match &new.source_run_id {
            Some(id) => Some(runs::key_of(&tx, id).await?),
            None => None,
        };
        let id = ModelId::generate();
        let now = now_ms();
        let key: i64 = tx
            .query_one(
                "INSERT INTO logged_models (uuid, experiment_id, name, status, model_type,
                                            source_run_id, created_at, updated_at)
                 VALUES ($1, $2, $3, 'pending', $4, $5, $6, $6) RETURNING id",
                &[
                    &id.as_str(),
                    &new.experiment_id.value(),
                    &new.name,
                    &new.model_type,
                    &run,
                    &now,
                ],
            )
            .await
            .map_err(pg_err)?
            .get(0);
        insert_pairs(&tx, "logged_model_tags", key, &new.tags, false).await?;
        insert_pairs(&tx, "logged_model_params", key, &new.params, false).await?;
        let model = get_with(&tx, &id).await?;
        tx.commit().await.map_err(pg_err)?;
        Ok(model)
    }

    async fn get_logged_model(&self, id: &ModelId) -> Result<LoggedModel> {
        get_with(&self.client().await?, id).await
    }

    async fn set_logged_model_status(
        &self,
        id: &ModelId,
        status: ModelStatus,
    ) -> Result<LoggedModel> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE logged_models SET status = $1, updated_at = $2 WHERE uuid = $3",
                &[&status.as_str(), &now_ms(), &id.as_str()],
            )
            .await
            .map_err(pg_err)?;
        if changed == 0 {
            return Err(Error::not_found("logged model", id));
        }
        get_with(&client, id).await
    }

    async fn set_logged_model_tags(
        &self,
        id: &ModelId,
        tags: BTreeMap<String, String>,
    ) -> Result<LoggedModel> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_err)?;
        let key = lock(&tx, id).await?;
        insert_pairs(&tx, "logged_model_tags", key, &tags, true).await?;
        tx.execute(
            "UPDATE logged_models SET updated_at = $1 WHERE id = $2",
            &[&now_ms(), &key],
        )
        .await
        .map_err(pg_err)?;
        let model = get_with(&tx, id).await?;
        tx.commit().await.map_err(pg_err)?;
        Ok(model)
    }

    async fn delete_logged_model_tag(&self, id: &ModelId, key: &str) -> Result<()> {
        let client = self.client().await?;
        let model = key_of(&client, id).await?;
        let n = client
            .execute(
                "DELETE FROM logged_model_tags WHERE model_id = $1 AND key = $2",
                &[&model, &key],
            )
            .await
            .map_err(pg_err)?;
        if n == 0 {
            return Err(Error::not_found("logged model tag", key));
        }
        Ok(())
    }

    async fn search_logged_models(&self, query: ModelQuery) -> Result<Page<LoggedModel>> {
        let limit = page_size(query.limit)?;
        let ids: Vec<i64> = query.experiment_ids.iter().map(|id| id.value()).collect();
        let run = query.source_run_id.as_ref().map(|r| r.as_str().to_owned());
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "{SELECT} WHERE (cardinality($1::int8[]) = 0 OR m.experiment_id = ANY($1))
                       AND ($2::text IS NULL OR m.name = $2)
                       AND ($3::text IS NULL OR r.uuid = $3)
                     ORDER BY m.created_at DESC, m.id DESC LIMIT $4 OFFSET $5"
                ),
                &[
                    &ids,
                    &query.name,
                    &run,
                    &((limit + 1) as i64),
                    &(query.offset as i64),
                ],
            )
            .await
            .map_err(pg_err)?;
        let mut items = load(&client, &rows).await?;
        let more = items.len() > limit;
        items.truncate(limit);
        let next_cursor = more.then(|| (query.offset + limit).to_string());
        Ok(Page { items, next_cursor })
    }

    async fn log_inputs(&self, run: &RunId, inputs: Vec<DatasetInput>) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_err)?;
        let key = runs::active_key_of(&tx, run).await?;
        for input in &inputs {
            let tags = serde_json::to_string(&input.tags)
                .map_err(|e| Error::internal(format!("cannot encode dataset tags: {e}")))?;
            tx.execute(
                "INSERT INTO run_inputs
                     (run_id, name, digest, source_type, source, schema, profile, tags)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (run_id, name, digest) DO UPDATE SET tags = excluded.tags",
                &[
                    &key,
                    &input.name,
                    &input.digest,
                    &input.source_type,
                    &input.source,
                    &input.schema,
                    &input.profile,
                    &tags,
                ],
            )
            .await
            .map_err(pg_err)?;
        }
        tx.commit().await.map_err(pg_err)
    }

    async fn log_model_outputs(&self, run: &RunId, outputs: Vec<ModelOutput>) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_err)?;
        let key = runs::active_key_of(&tx, run).await?;
        for output in &outputs {
            let model = key_of(&tx, &output.model_id).await?;
            tx.execute(
                "INSERT INTO run_model_outputs (run_id, model_id, step) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
                &[&key, &model, &output.step],
            )
            .await
            .map_err(pg_err)?;
        }
        tx.commit().await.map_err(pg_err)
    }
}

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
