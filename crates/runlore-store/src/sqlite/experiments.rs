//! Experiments: groups of runs inside a project. Names are unique within a
//! project, deleted experiments included, so restoring one never clashes.

use std::collections::BTreeMap;

use runlore_core::store::ExperimentQuery;
use runlore_core::time::now_ms;
use runlore_core::{
    Error, Experiment, ExperimentId, Lifecycle, LifecycleView, NewExperiment, Page, Result, cursor,
};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{db_err, projects};

const SELECT: &str =
    "SELECT e.id, p.name, e.name, e.description, e.lifecycle, e.created_at, e.updated_at,
                           e.artifact_location
                      FROM experiments e JOIN projects p ON p.id = e.project_id";

type RawExperiment = (
    i64,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<String>,
);

fn from_row(row: &Row<'_>) -> rusqlite::Result<RawExperiment> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
    ))
}

fn build(conn: &Connection, raw: RawExperiment) -> Result<Experiment> {
    let (id, project, name, description, lifecycle, created_at, updated_at, artifact_location) =
        raw;
    Ok(Experiment {
        id: ExperimentId::new(id),
        project,
        name,
        description,
        lifecycle: lifecycle.parse()?,
        tags: tags(conn, id)?,
        artifact_location,
        created_at,
        updated_at,
    })
}

fn tags(conn: &Connection, id: i64) -> Result<BTreeMap<String, String>> {
    let mut stmt = conn
        .prepare_cached("SELECT key, value FROM experiment_tags WHERE experiment_id = ?1")
        .map_err(db_err)?;
    stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(db_err)?
        .collect::<rusqlite::Result<_>>()
        .map_err(db_err)
}

pub fn create(conn: &mut Connection, new: &NewExperiment) -> Result<Experiment> {
    let tx = conn.transaction().map_err(db_err)?;
    let project_id = projects::ensure(&tx, &new.project)?;
    let id = insert(&tx, project_id, &new.project, &new.name, &new.description)?;
    if let Some(location) = &new.artifact_location {
        tx.execute(
            "UPDATE experiments SET artifact_location = ?1 WHERE id = ?2",
            params![location, id],
        )
        .map_err(db_err)?;
    }
    for (k, v) in &new.tags {
        tx.execute(
            "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?1, ?2, ?3)",
            params![id, k, v],
        )
        .map_err(db_err)?;
    }
    let experiment = get(&tx, ExperimentId::new(id))?;
    tx.commit().map_err(db_err)?;
    Ok(experiment)
}

/// Inserts an experiment row, refusing a name already used in the project.
pub fn insert(
    conn: &Connection,
    project_id: i64,
    project: &str,
    name: &str,
    description: &str,
) -> Result<i64> {
    if id_by_name(conn, project_id, name)?.is_some() {
        return Err(Error::already_exists(
            "experiment",
            format!("{project}/{name}"),
        ));
    }
    let now = now_ms();
    conn.execute(
        "INSERT INTO experiments (project_id, name, description, lifecycle, created_at, updated_at)
         VALUES (?1, ?2, ?3, 'active', ?4, ?4)",
        params![project_id, name, description, now],
    )
    .map_err(db_err)?;
    Ok(conn.last_insert_rowid())
}

pub fn id_by_name(conn: &Connection, project_id: i64, name: &str) -> Result<Option<i64>> {
    conn.query_row(
        "SELECT id FROM experiments WHERE project_id = ?1 AND name = ?2",
        params![project_id, name],
        |r| r.get(0),
    )
    .optional()
    .map_err(db_err)
}

pub fn get(conn: &Connection, id: ExperimentId) -> Result<Experiment> {
    let raw = conn
        .query_row(&format!("{SELECT} WHERE e.id = ?1"), [id.value()], from_row)
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| Error::not_found("experiment", id))?;
    build(conn, raw)
}

pub fn get_by_name(conn: &Connection, project: &str, name: &str) -> Result<Experiment> {
    let raw = conn
        .query_row(
            &format!("{SELECT} WHERE p.name = ?1 AND e.name = ?2"),
            params![project, name],
            from_row,
        )
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| Error::not_found("experiment", format!("{project}/{name}")))?;
    build(conn, raw)
}

pub fn list(conn: &Connection, query: &ExperimentQuery) -> Result<Page<Experiment>> {
    let limit = page_size(query.limit)?;
    let fingerprint = cursor::fingerprint(&[&format!(
        "experiments|{:?}|{:?}|{:?}",
        query.project, query.view, query.name_contains
    )]);
    let offset = match &query.cursor {
        Some(c) => cursor::decode(c, fingerprint)?,
        None => 0,
    };
    let mut sql = format!("{SELECT} WHERE 1 = 1");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(project) = &query.project {
        args.push(project.clone().into());
        sql.push_str(&format!(" AND p.name = ?{}", args.len()));
    }
    match query.view {
        LifecycleView::Active => sql.push_str(" AND e.lifecycle = 'active'"),
        LifecycleView::Inactive => sql.push_str(" AND e.lifecycle <> 'active'"),
        LifecycleView::All => {}
    }
    if let Some(part) = &query.name_contains {
        args.push(format!("%{}%", escape_like(part)).into());
        sql.push_str(&format!(" AND e.name LIKE ?{} ESCAPE '\\'", args.len()));
    }
    sql.push_str(&format!(
        " ORDER BY e.id LIMIT {} OFFSET {offset}",
        limit + 1
    ));
    let mut stmt = conn.prepare(&sql).map_err(db_err)?;
    let raws = stmt
        .query_map(rusqlite::params_from_iter(args), from_row)
        .map_err(db_err)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(db_err)?;
    let more = raws.len() > limit;
    let items = raws
        .into_iter()
        .take(limit)
        .map(|raw| build(conn, raw))
        .collect::<Result<Vec<_>>>()?;
    let next_cursor = more.then(|| cursor::encode(offset + limit as u64, fingerprint));
    Ok(Page { items, next_cursor })
}

pub use crate::sql_common::{escape_like, page_size};

pub fn rename(conn: &Connection, id: ExperimentId, new_name: &str) -> Result<Experiment> {
    let current = get(conn, id)?;
    if current.name == new_name {
        return Ok(current);
    }
    let project_id: i64 = conn
        .query_row(
            "SELECT project_id FROM experiments WHERE id = ?1",
            [id.value()],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    if id_by_name(conn, project_id, new_name)?.is_some() {
        return Err(Error::already_exists(
            "experiment",
            format!("{}/{new_name}", current.project),
        ));
    }
    conn.execute(
        "UPDATE experiments SET name = ?1, updated_at = ?2 WHERE id = ?3",
        params![new_name, now_ms(), id.value()],
    )
    .map_err(db_err)?;
    get(conn, id)
}

pub fn set_lifecycle(
    conn: &Connection,
    id: ExperimentId,
    lifecycle: Lifecycle,
) -> Result<Experiment> {
    get(conn, id)?;
    conn.execute(
        "UPDATE experiments SET lifecycle = ?1, updated_at = ?2 WHERE id = ?3",
        params![lifecycle.as_str(), now_ms(), id.value()],
    )
    .map_err(db_err)?;
    get(conn, id)
}

pub fn set_tag(conn: &Connection, id: ExperimentId, key: &str, value: &str) -> Result<()> {
    get(conn, id)?;
    conn.execute(
        "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?1, ?2, ?3)
         ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value",
        params![id.value(), key, value],
    )
    .map_err(db_err)?;
    Ok(())
}

pub fn delete_tag(conn: &Connection, id: ExperimentId, key: &str) -> Result<()> {
    get(conn, id)?;
    let n = conn
        .execute(
            "DELETE FROM experiment_tags WHERE experiment_id = ?1 AND key = ?2",
            params![id.value(), key],
        )
        .map_err(db_err)?;
    if n == 0 {
        return Err(Error::not_found("experiment tag", key));
    }
    Ok(())
}
