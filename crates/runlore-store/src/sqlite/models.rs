//! Logged models, and the datasets and models runs record as their inputs
//! and outputs.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use runlore_core::time::now_ms;
use runlore_core::*;
use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStore, db_err, experiments, runs};

/// The model's internal key, refusing unknown ids.
pub fn key_of(conn: &Connection, id: &ModelId) -> Result<i64> {
    conn.prepare_cached("SELECT id FROM logged_models WHERE uuid = ?1")
        .map_err(db_err)?
        .query_row([id.as_str()], |r| r.get(0))
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| Error::not_found("logged model", id))
}

fn pairs(conn: &Connection, table: &str, key: i64) -> Result<BTreeMap<String, String>> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT key, value FROM {table} WHERE model_id = ?1"
        ))
        .map_err(db_err)?;
    stmt.query_map([key], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(db_err)?
        .collect::<rusqlite::Result<_>>()
        .map_err(db_err)
}

const SELECT: &str = "SELECT m.id, m.uuid, m.experiment_id, m.name, m.status, m.model_type,
                             r.uuid, m.created_at, m.updated_at
                      FROM logged_models m LEFT JOIN runs r ON r.id = m.source_run_id";

fn load(conn: &Connection, row: &rusqlite::Row<'_>) -> Result<LoggedModel> {
    let key: i64 = row.get(0).map_err(db_err)?;
    let uuid: String = row.get(1).map_err(db_err)?;
    let status: String = row.get(4).map_err(db_err)?;
    let run: Option<String> = row.get(6).map_err(db_err)?;
    Ok(LoggedModel {
        id: ModelId::parse(&uuid)?,
        experiment_id: ExperimentId::new(row.get(2).map_err(db_err)?),
        name: row.get(3).map_err(db_err)?,
        status: ModelStatus::parse(&status)?,
        model_type: row.get(5).map_err(db_err)?,
        source_run_id: run.as_deref().map(RunId::parse).transpose()?,
        tags: pairs(conn, "logged_model_tags", key)?,
        params: pairs(conn, "logged_model_params", key)?,
        created_at: row.get(7).map_err(db_err)?,
        updated_at: row.get(8).map_err(db_err)?,
    })
}

fn get(conn: &Connection, id: &ModelId) -> Result<LoggedModel> {
    let mut stmt = conn
        .prepare_cached(&format!("{SELECT} WHERE m.uuid = ?1"))
        .map_err(db_err)?;
    let mut rows = stmt.query([id.as_str()]).map_err(db_err)?;
    match rows.next().map_err(db_err)? {
        Some(row) => load(conn, row),
        None => Err(Error::not_found("logged model", id)),
    }
}

fn create(conn: &mut Connection, new: &NewLoggedModel) -> Result<LoggedModel> {
    let tx = conn.transaction().map_err(db_err)?;
    let experiment = experiments::get(&tx, new.experiment_id)?;
    if experiment.lifecycle != Lifecycle::Active {
        return Err(Error::invalid(format!(
            "experiment '{}' is deleted; restore it before logging models",
            new.experiment_id
        )));
    }
    let run = match &new.source_run_id {
        Some(id) => Some(runs::key_of(&tx, id)?),
        None => None,
    };
    let id = ModelId::generate();
    let now = now_ms();
    tx.execute(
        "INSERT INTO logged_models (uuid, experiment_id, name, status, model_type, source_run_id,
                                    created_at, updated_at)
         VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?6, ?6)",
        params![
            id.as_str(),
            new.experiment_id.value(),
            new.name,
            new.model_type,
            run,
            now
        ],
    )
    .map_err(db_err)?;
    let key = tx.last_insert_rowid();
    for (table, map) in [
        ("logged_model_tags", &new.tags),
        ("logged_model_params", &new.params),
    ] {
        for (k, v) in map {
            tx.execute(
                &format!("INSERT INTO {table} (model_id, key, value) VALUES (?1, ?2, ?3)"),
                params![key, k, v],
            )
            .map_err(db_err)?;
        }
    }
    let model = get(&tx, &id)?;
    tx.commit().map_err(db_err)?;
    Ok(model)
}

fn set_status(conn: &Connection, id: &ModelId, status: ModelStatus) -> Result<LoggedModel> {
    let key = key_of(conn, id)?;
    conn.execute(
        "UPDATE logged_models SET status = ?1, updated_at = ?2 WHERE id = ?3",
        params![status.as_str(), now_ms(), key],
    )
    .map_err(db_err)?;
    get(conn, id)
}

fn set_tags(
    conn: &mut Connection,
    id: &ModelId,
    tags: &BTreeMap<String, String>,
) -> Result<LoggedModel> {
    let tx = conn.transaction().map_err(db_err)?;
    let key = key_of(&tx, id)?;
    for (k, v) in tags {
        tx.execute(
            "INSERT INTO logged_model_tags (model_id, key, value) VALUES (?1, ?2, ?3)
             ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value",
            params![key, k, v],
        )
        .map_err(db_err)?;
    }
    tx.execute(
        "UPDATE logged_models SET updated_at = ?1 WHERE id = ?2",
        params![now_ms(), key],
    )
    .map_err(db_err)?;
    let model = get(&tx, id)?;
    tx.commit().map_err(db_err)?;
    Ok(model)
}

fn delete_tag(conn: &Connection, id: &ModelId, tag: &str) -> Result<()> {
    let key = key_of(conn, id)?;
    let n = conn
        .execute(
            "DELETE FROM logged_model_tags WHERE model_id = ?1 AND key = ?2",
            params![key, tag],
        )
        .map_err(db_err)?;
    if n == 0 {
        return Err(Error::not_found("logged model tag", tag));
    }
    Ok(())
}

fn search(conn: &Connection, query: &ModelQuery) -> Result<Page<LoggedModel>> {
    let limit = experiments::page_size(query.limit)?;
    let mut sql = format!("{SELECT} WHERE 1 = 1");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if !query.experiment_ids.is_empty() {
        let ids: Vec<String> = query
            .experiment_ids
            .iter()
            .map(|id| id.value().to_string())
            .collect();
        sql.push_str(&format!(" AND m.experiment_id IN ({})", ids.join(",")));
    }
    if let Some(name) = &query.name {
        args.push(name.clone().into());
        sql.push_str(&format!(" AND m.name = ?{}", args.len()));
    }
    if let Some(run) = &query.source_run_id {
        args.push(run.as_str().to_owned().into());
        sql.push_str(&format!(" AND r.uuid = ?{}", args.len()));
    }
    sql.push_str(&format!(
        " ORDER BY m.created_at DESC, m.id DESC LIMIT {} OFFSET {}",
        limit + 1,
        query.offset
    ));
    let mut stmt = conn.prepare(&sql).map_err(db_err)?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(args))
        .map_err(db_err)?;
    let mut items = Vec::new();
    while let Some(row) = rows.next().map_err(db_err)? {
        items.push(load(conn, row)?);
    }
    let more = items.len() > limit;
    items.truncate(limit);
    let next_cursor = more.then(|| (query.offset + limit).to_string());
    Ok(Page { items, next_cursor })
}

fn log_inputs(conn: &mut Connection, run: &RunId, inputs: &[DatasetInput]) -> Result<()> {
    let tx = conn.transaction().map_err(db_err)?;
    let key = runs::active_key_of(&tx, run)?;
    for input in inputs {
        let tags = serde_json::to_string(&input.tags)
            .map_err(|e| Error::internal(format!("cannot encode dataset tags: {e}")))?;
        tx.execute(
            "INSERT INTO run_inputs (run_id, name, digest, source_type, source, schema, profile, tags)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (run_id, name, digest) DO UPDATE SET tags = excluded.tags",
            params![
                key,
                input.name,
                input.digest,
                input.source_type,
                input.source,
                input.schema,
                input.profile,
                tags
            ],
        )
        .map_err(db_err)?;
    }
    tx.commit().map_err(db_err)
}

fn log_outputs(conn: &mut Connection, run: &RunId, outputs: &[ModelOutput]) -> Result<()> {
    let tx = conn.transaction().map_err(db_err)?;
    let key = runs::active_key_of(&tx, run)?;
    for output in outputs {
        let model = key_of(&tx, &output.model_id)?;
        tx.execute(
            "INSERT OR IGNORE INTO run_model_outputs (run_id, model_id, step) VALUES (?1, ?2, ?3)",
            params![key, model, output.step],
        )
        .map_err(db_err)?;
    }
    tx.commit().map_err(db_err)
}

/// Fills the inputs and model outputs of loaded runs (`list` is the SQL list
/// of their internal keys), with two queries whatever the count.
pub fn attach_io(conn: &Connection, list: &str, runs: &mut HashMap<i64, Run>) -> Result<()> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT run_id, name, digest, source_type, source, schema, profile, tags
             FROM run_inputs WHERE run_id IN ({list}) ORDER BY id"
        ))
        .map_err(db_err)?;
    let mut rows = stmt.query([]).map_err(db_err)?;
    while let Some(row) = rows.next().map_err(db_err)? {
        let key: i64 = row.get(0).map_err(db_err)?;
        let tags: String = row.get(7).map_err(db_err)?;
        if let Some(run) = runs.get_mut(&key) {
            run.inputs.push(DatasetInput {
                name: row.get(1).map_err(db_err)?,
                digest: row.get(2).map_err(db_err)?,
                source_type: row.get(3).map_err(db_err)?,
                source: row.get(4).map_err(db_err)?,
                schema: row.get(5).map_err(db_err)?,
                profile: row.get(6).map_err(db_err)?,
                tags: serde_json::from_str(&tags).unwrap_or_default(),
            });
        }
    }
    let mut stmt = conn
        .prepare(&format!(
            "SELECT o.run_id, m.uuid, o.step FROM run_model_outputs o
             JOIN logged_models m ON m.id = o.model_id
             WHERE o.run_id IN ({list}) ORDER BY m.id, o.step"
        ))
        .map_err(db_err)?;
    let mut rows = stmt.query([]).map_err(db_err)?;
    while let Some(row) = rows.next().map_err(db_err)? {
        let key: i64 = row.get(0).map_err(db_err)?;
        let uuid: String = row.get(1).map_err(db_err)?;
        if let Some(run) = runs.get_mut(&key) {
            run.model_outputs.push(ModelOutput {
                model_id: ModelId::parse(&uuid)?,
                step: row.get(2).map_err(db_err)?,
            });
        }
    }
    Ok(())
}

#[async_trait]
impl ModelStore for SqliteStore {
    async fn create_logged_model(&self, new: NewLoggedModel) -> Result<LoggedModel> {
        self.write(move |c| create(c, &new)).await
    }

    async fn get_logged_model(&self, id: &ModelId) -> Result<LoggedModel> {
        let id = id.clone();
        self.read(move |c| get(c, &id)).await
    }

    async fn set_logged_model_status(
        &self,
        id: &ModelId,
        status: ModelStatus,
    ) -> Result<LoggedModel> {
        let id = id.clone();
        self.write(move |c| set_status(c, &id, status)).await
    }

    async fn set_logged_model_tags(
        &self,
        id: &ModelId,
        tags: BTreeMap<String, String>,
    ) -> Result<LoggedModel> {
        let id = id.clone();
        self.write(move |c| set_tags(c, &id, &tags)).await
    }

    async fn delete_logged_model_tag(&self, id: &ModelId, key: &str) -> Result<()> {
        let (id, key) = (id.clone(), key.to_owned());
        self.write(move |c| delete_tag(c, &id, &key)).await
    }

    async fn search_logged_models(&self, query: ModelQuery) -> Result<Page<LoggedModel>> {
        self.read(move |c| search(c, &query)).await
    }

    async fn log_inputs(&self, run: &RunId, inputs: Vec<DatasetInput>) -> Result<()> {
        let run = run.clone();
        self.write(move |c| log_inputs(c, &run, &inputs)).await
    }

    async fn log_model_outputs(&self, run: &RunId, outputs: Vec<ModelOutput>) -> Result<()> {
        let run = run.clone();
        self.write(move |c| log_outputs(c, &run, &outputs)).await
    }
}
