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
