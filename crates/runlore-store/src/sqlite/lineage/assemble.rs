//! The SQLite reads behind an assembled lineage answer: the activities of
//! its runs and the DAG edges among them (the assembly itself is shared,
//! `crate::assembled_lineage`).

use std::collections::HashMap;

use runlore_core::graph::EdgeKind;
use runlore_core::lineage::LineageActivity;
use runlore_core::{Result, RunId, RunStatus};
use rusqlite::{Connection, params};

use super::{db_err, json_keys};
use crate::assembled_lineage::{ActivityRow, Assembled, Rows, SOURCE_TAG};

/// `blob_depth` (by blob index) and `run_depth` are a trace's hop counts
/// (empty otherwise); `extra_runs` are activities without rows.
pub(super) fn build(
    conn: &Connection,
    rows: Rows,
    extra_runs: &[i64],
    blob_depth: &[Option<u32>],
    run_depth: &HashMap<i64, u32>,
    with_edges: bool,
) -> Result<Assembled> {
    let keys = Assembled::run_keys(&rows, extra_runs);
    let activities = activities(conn, &keys, run_depth)?;
    let edges = if with_edges {
        Some(edges(conn, &keys)?)
    } else {
        None
    };
    Assembled::from_parts(rows, activities, blob_depth, edges)
}

/// The runs `keys` (ascending) as activities, with their trace depths.
fn activities(
    conn: &Connection,
    keys: &[i64],
    run_depth: &HashMap<i64, u32>,
) -> Result<Vec<ActivityRow>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT r.id, r.uuid, r.name, p.name, e.name, r.status, r.user,
                    coalesce(r.start_time, r.created_at), r.end_time,
                    (SELECT value FROM tags t WHERE t.run_id = r.id AND t.key = ?2)
             FROM runs r JOIN projects p ON p.id = r.project_id
                         JOIN experiments e ON e.id = r.experiment_id
             WHERE r.id IN (SELECT value FROM json_each(?1))
             ORDER BY r.id",
        )
        .map_err(db_err)?;
    let mut rows = stmt
        .query(params![json_keys(keys), SOURCE_TAG])
        .map_err(db_err)?;
    let mut runs = Vec::with_capacity(keys.len());
    while let Some(r) = rows.next().map_err(db_err)? {
        // Read in place: only what the graph keeps is copied.
        let text = |i: usize| -> Result<&str> {
            r.get_ref(i)
                .map_err(db_err)?
                .as_str()
                .map_err(|e| db_err(e.into()))
        };
        let key: i64 = r.get(0).map_err(db_err)?;
        runs.push(ActivityRow {
            key,
            activity: LineageActivity {
                run_id: RunId::parse(text(1)?)?,
                name: r.get(2).map_err(db_err)?,
                project: r.get(3).map_err(db_err)?,
                experiment: r.get(4).map_err(db_err)?,
                status: text(5)?.parse::<RunStatus>()?,
                user: r.get(6).map_err(db_err)?,
                start_time: r.get(7).map_err(db_err)?,
                end_time: r.get(8).map_err(db_err)?,
                depth: run_depth.get(&key).copied(),
            },
            source: r.get(9).map_err(db_err)?,
        });
    }
    Ok(runs)
}

/// DAG edges from the graph's runs, as (child, parent, kind) keys.
fn edges(conn: &Connection, keys: &[i64]) -> Result<Vec<(i64, i64, EdgeKind)>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT child_id, parent_id, kind FROM run_edges
             WHERE child_id IN (SELECT value FROM json_each(?1))",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([json_keys(keys)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .map_err(db_err)?;
    let mut out = Vec::new();
    for row in rows {
        let (child, parent, kind) = row.map_err(db_err)?;
        out.push((child, parent, EdgeKind::parse(&kind)?));
    }
    Ok(out)
}
