//! Run edges and features (migration 0004).

use runlore_core::graph::{self, EdgeKind, ParentLink, RunFeatures};
use runlore_core::time::now_ms;
use runlore_core::{Error, Result, RunId};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};

use super::{db_err, runs};

/// Writes the parents and features of a run being created (inside its
/// transaction). Parents must exist in the same project.
pub fn attach(
    conn: &Connection,
    run: i64,
    project_id: i64,
    parents: &[ParentLink],
    features: Option<&Value>,
) -> Result<()> {
    let primary = insert_edges(conn, run, project_id, parents)?;
    if let Some(features) = features {
        let base = match primary {
            Some(key) => full_of(conn, key)?,
            None => json!({}),
        };
        let diff = graph::diff(&base, features);
        conn.execute(
            "INSERT INTO run_features (run_id, base_run_id, diff, full) VALUES (?1, ?2, ?3, ?4)",
            params![run, primary, diff.to_string(), features.to_string()],
        )
        .map_err(db_err)?;
    }
    Ok(())
}

/// Replaces a run's parents after the fact. Refuses a parent that is the
/// run itself or one of its descendants (a cycle) or in another project.
/// The run's diff is recomputed against its new primary parent; its full
/// features (what was logged) and its descendants' stay as they are. The
/// change is recorded with who made it and when.
pub fn set_parents(
    conn: &mut Connection,
    id: &RunId,
    parents: &[ParentLink],
    changed_by: &str,
) -> Result<RunFeatures> {
    graph::validate(None, parents, Some(id))?;
    let tx = conn.transaction().map_err(db_err)?;
    let (run, project_id): (i64, i64) = tx
        .query_row(
            "SELECT id, project_id FROM runs WHERE uuid = ?1",
            [id.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| Error::not_found("run", id))?;
    let old = features(&tx, id)?.parents;
    for parent in parents {
        let descendant: bool = tx
            .query_row(
                "WITH RECURSIVE below(id) AS (
                     SELECT child_id FROM run_edges WHERE parent_id = ?1
                     UNION
                     SELECT e.child_id FROM run_edges e JOIN below b ON e.parent_id = b.id
                 )
                 SELECT EXISTS (SELECT 1 FROM below b JOIN runs r ON r.id = b.id
                                WHERE r.uuid = ?2)",
                params![run, parent.run_id.as_str()],
                |r| r.get(0),
            )
            .map_err(db_err)?;
        if descendant {
            return Err(Error::invalid(format!(
                "run {} descends from run {id}: making it a parent would close a cycle",
                parent.run_id
            )));
        }
    }
    tx.execute("DELETE FROM run_edges WHERE child_id = ?1", [run])
        .map_err(db_err)?;
    let primary = insert_edges(&tx, run, project_id, parents)?;
    let full: Option<String> = tx
        .query_row(
            "SELECT full FROM run_features WHERE run_id = ?1",
            [run],
            |r| r.get(0),
        )
        .optional()
        .map_err(db_err)?;
    if let Some(full) = full {
        let full: Value = serde_json::from_str(&full)
            .map_err(|e| Error::internal(format!("stored features are not JSON: {e}")))?;
        let base = match primary {
            Some(key) => full_of(&tx, key)?,
            None => json!({}),
        };
        tx.execute(
            "UPDATE run_features SET base_run_id = ?1, diff = ?2 WHERE run_id = ?3",
            params![primary, graph::diff(&base, &full).to_string(), run],
        )
        .map_err(db_err)?;
    }
    let encode = |links: &[ParentLink]| serde_json::to_string(links).unwrap_or_default();
    tx.execute(
        "INSERT INTO run_parent_changes (run_id, old_parents, new_parents, changed_by, changed_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![run, encode(&old), encode(parents), changed_by, now_ms()],
    )
    .map_err(db_err)?;
    let result = features(&tx, id)?;
    tx.commit().map_err(db_err)?;
    Ok(result)
}

/// Inserts a run's parent edges in order; returns the primary parent's key.
fn insert_edges(
    conn: &Connection,
    run: i64,
    project_id: i64,
    parents: &[ParentLink],
) -> Result<Option<i64>> {
    let now = now_ms();
    let mut primary = None;
    for (position, parent) in parents.iter().enumerate() {
        let (key, parent_project): (i64, i64) = conn
            .query_row(
                "SELECT id, project_id FROM runs WHERE uuid = ?1",
                [parent.run_id.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db_err)?
            .ok_or_else(|| Error::not_found("parent run", &parent.run_id))?;
        if parent_project != project_id {
            return Err(Error::invalid(format!(
                "parent run {} is in another project; edges stay inside one project",
                parent.run_id
            )));
        }
        conn.execute(
            "INSERT INTO run_edges (child_id, parent_id, kind, resume_step, position, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                run,
                key,
                parent.kind.as_str(),
                parent.resume_step,
                position as i64,
                now
            ],
        )
        .map_err(db_err)?;
        if position == 0 {
            primary = Some(key);
        }
    }
    Ok(primary)
}

/// A run's full features (`{}` when it has none).
fn full_of(conn: &Connection, run: i64) -> Result<Value> {
    let text: Option<String> = conn
        .query_row(
            "SELECT full FROM run_features WHERE run_id = ?1",
            [run],
            |r| r.get(0),
        )
        .optional()
        .map_err(db_err)?;
    match text {
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| Error::internal(format!("stored features are not JSON: {e}"))),
        None => Ok(json!({})),
    }
}

pub fn features(conn: &Connection, id: &RunId) -> Result<RunFeatures> {
    let run = runs::key_of(conn, id)?;
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT diff, full FROM run_features WHERE run_id = ?1",
            [run],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db_err)?;
    let parse = |text: &str| {
        serde_json::from_str::<Value>(text)
            .map_err(|e| Error::internal(format!("stored features are not JSON: {e}")))
    };
    let (diff, full) = match row {
        Some((diff, full)) => (parse(&diff)?, parse(&full)?),
        None => (json!([]), json!({})),
    };
    let mut stmt = conn
        .prepare_cached(
            "SELECT p.uuid, e.kind, e.resume_step FROM run_edges e
             JOIN runs p ON p.id = e.parent_id WHERE e.child_id = ?1 ORDER BY e.position",
        )
        .map_err(db_err)?;
    let mut rows = stmt.query([run]).map_err(db_err)?;
    let mut parents = Vec::new();
    while let Some(row) = rows.next().map_err(db_err)? {
        let uuid: String = row.get(0).map_err(db_err)?;
        let kind: String = row.get(1).map_err(db_err)?;
        parents.push(ParentLink {
            run_id: RunId::parse(&uuid)?,
            kind: EdgeKind::parse(&kind)?,
            resume_step: row.get(2).map_err(db_err)?,
        });
    }
    Ok(RunFeatures {
        full,
        diff,
        parents,
    })
}
