//! Lineage from the artifact rows: runs (activities) and the blobs they
//! wrote (`output` rows) and read (`input` rows, and MLflow dataset inputs
//! whose digest is a SHA-256). Traces follow blob → producing run → its
//! inputs (up) or blob → consuming run → its outputs (down), breadth first,
//! and stop at the requested depth (`trace.rs`); `assemble.rs` orders the
//! rows and `render.rs` turns them into the graph or its JSON.

mod assemble;
mod trace;

use std::collections::{BTreeSet, HashMap};

use runlore_core::lineage::{LineageGraph, LineageScope, MAX_TRACE_DEPTH, to_json};
use runlore_core::{Error, Result, RunId};
use rusqlite::Connection;

use super::{db_err, runs};
use crate::assembled_lineage::{Assembled, Rows, Touch, no_such_blob};

/// Appends the rows of a statement made by [`touches_sql`].
fn read_rows(
    rows: &mut Rows,
    stmt: &mut rusqlite::Statement<'_>,
    arg: impl rusqlite::ToSql,
) -> Result<()> {
    let mut found = stmt.query([arg]).map_err(db_err)?;
    while let Some(r) = found.next().map_err(db_err)? {
        let sha = r
            .get_ref(1)
            .map_err(db_err)?
            .as_str()
            .map_err(|e| db_err(e.into()))?;
        let blob = rows.blob(sha);
        rows.touches.push(Touch {
            run: r.get(0).map_err(db_err)?,
            blob,
            path: r.get(2).map_err(db_err)?,
            size: u64::try_from(r.get::<_, i64>(3).map_err(db_err)?).unwrap_or(0),
            media_type: r.get(4).map_err(db_err)?,
            output: r.get(5).map_err(db_err)?,
            uri: r.get(6).map_err(db_err)?,
            time: r.get(7).map_err(db_err)?,
        });
    }
    Ok(())
}

/// Artifact rows of runs; `{filter}` is a condition on `run_id`/`sha256`.
const ARTIFACT_ROWS: &str = "SELECT run_id, sha256, path, size, media_type, \
     direction = 'output', NULL, created_at FROM artifacts \
     WHERE run_id IS NOT NULL AND {filter}";

/// Dataset inputs recorded by digest (MLflow `log_inputs`, `runlore
/// artifact use`); only SHA-256 digests name bytes we can follow. They are
/// aliased so the same `{filter}` applies.
const DATASET_ROWS: &str = "SELECT run_id, sha256, path, 0, '', 0, source, created_at FROM \
     (SELECT d.run_id AS run_id, d.digest AS sha256, d.name AS path, d.source AS source, \
             r.created_at AS created_at \
      FROM run_inputs d JOIN runs r ON r.id = d.run_id \
      WHERE length(d.digest) = 64 AND d.digest NOT GLOB '*[^0-9a-f]*') \
     WHERE {filter}";

/// The statement selecting every artifact row (and, with `datasets`, dataset
/// input) matching `filter`, a condition on `run_id` and `sha256` with one
/// parameter, `?1`.
fn touches_sql(filter: &str, datasets: bool) -> String {
    let mut sql = ARTIFACT_ROWS.replace("{filter}", filter);
    if datasets {
        sql = format!(
            "{sql} UNION ALL {}",
            DATASET_ROWS.replace("{filter}", filter)
        );
    }
    sql
}

/// Every artifact row and dataset input matching `filter` (see
/// [`touches_sql`]), added to `rows`.
fn touches(
    conn: &Connection,
    rows: &mut Rows,
    filter: &str,
    arg: impl rusqlite::ToSql,
) -> Result<()> {
    let mut stmt = conn
        .prepare_cached(&touches_sql(filter, true))
        .map_err(db_err)?;
    read_rows(rows, &mut stmt, arg)
}

/// A JSON array of the strings, for `json_each`.
fn json_list<'a>(items: impl IntoIterator<Item = &'a String>) -> String {
    serde_json::to_string(&items.into_iter().collect::<Vec<_>>()).unwrap_or_default()
}

/// A JSON array of the keys, for `json_each`.
fn json_keys(keys: &[i64]) -> String {
    let mut out = String::with_capacity(keys.len() * 8 + 2);
    out.push('[');
    for (i, key) in keys.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&key.to_string());
    }
    out.push(']');
    out
}

/// What a question comes to before it is written out.
enum Answer {
    Rows(Assembled),
    Graph(LineageGraph),
}

pub fn lineage(conn: &Connection, scope: &LineageScope) -> Result<LineageGraph> {
    in_one_read(conn, |tx| {
        Ok(match answer(tx, scope)? {
            Answer::Rows(rows) => rows.into_graph(),
            Answer::Graph(graph) => graph,
        })
    })
}

/// The same answer as JSON, written from the rows (see `assemble.rs`).
pub fn lineage_json(conn: &Connection, scope: &LineageScope) -> Result<Vec<u8>> {
    in_one_read(conn, |tx| {
        Ok(match answer(tx, scope)? {
            Answer::Rows(rows) => rows.to_json(),
            Answer::Graph(graph) => to_json(&graph),
        })
    })
}

/// Runs `f` in one read transaction: a consistent view, and one lock for
/// the many small statements of a trace instead of one each (taking and
/// dropping them made a 10,000-run walk ~95 ms instead of ~35 ms).
fn in_one_read<T>(conn: &Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    let tx = conn.unchecked_transaction().map_err(db_err)?;
    let out = f(&tx)?;
    tx.finish().map_err(db_err)?;
    Ok(out)
}

fn answer(conn: &Connection, scope: &LineageScope) -> Result<Answer> {
    Ok(match scope {
        LineageScope::Run(id) => Answer::Rows(of_run(conn, id)?),
        LineageScope::Project(name) => Answer::Rows(of_project(conn, name)?),
        LineageScope::Blob(sha) => {
            let mut rows = Rows::default();
            touches(conn, &mut rows, "sha256 = ?1", sha.as_str())?;
            if rows.touches.is_empty() {
                return Err(no_such_blob(sha));
            }
            Answer::Rows(assemble::build(
                conn,
                rows,
                &[],
                &[],
                &HashMap::new(),
                false,
            )?)
        }
        LineageScope::Trace {
            sha256,
            direction,
            depth,
        } => trace::trace(conn, sha256, *direction, (*depth).min(MAX_TRACE_DEPTH))?,
    })
}

fn of_run(conn: &Connection, id: &RunId) -> Result<Assembled> {
    let run = runs::key_of(conn, id)?;
    let mut rows = Rows::default();
    touches(conn, &mut rows, "run_id = ?1", run)?;
    // Who made this run's inputs: one generation upstream.
    let inputs: BTreeSet<&String> = rows
        .touches
        .iter()
        .filter(|t| !t.output)
        .map(|t| &rows.digests[t.blob])
        .collect();
    if !inputs.is_empty() {
        let inputs = json_list(inputs);
        let mine = rows.touches.len();
        touches(
            conn,
            &mut rows,
            "sha256 IN (SELECT value FROM json_each(?1))",
            inputs,
        )?;
        rows.keep_producers(mine, run);
    }
    // The run itself (even without artifacts) and the runs it was
    // informed by are activities of its lineage.
    let mut extra = vec![run];
    let mut stmt = conn
        .prepare_cached("SELECT parent_id FROM run_edges WHERE child_id = ?1")
        .map_err(db_err)?;
    for parent in stmt.query_map([run], |r| r.get(0)).map_err(db_err)? {
        extra.push(parent.map_err(db_err)?);
    }
    assemble::build(conn, rows, &extra, &[], &HashMap::new(), true)
}

fn of_project(conn: &Connection, name: &str) -> Result<Assembled> {
    let project: i64 = conn
        .query_row("SELECT id FROM projects WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .map_err(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Error::not_found("project", name),
            e => db_err(e),
        })?;
    let mut rows = Rows::default();
    touches(
        conn,
        &mut rows,
        "run_id IN (SELECT id FROM runs WHERE project_id = ?1 AND lifecycle != 'deleted')",
        project,
    )?;
    // Runs without artifacts belong to the project's lineage too.
    let mut stmt = conn
        .prepare_cached("SELECT id FROM runs WHERE project_id = ?1 AND lifecycle != 'deleted'")
        .map_err(db_err)?;
    let keys: Vec<i64> = stmt
        .query_map([project], |r| r.get(0))
        .map_err(db_err)?
        .collect::<rusqlite::Result<_>>()
        .map_err(db_err)?;
    assemble::build(conn, rows, &keys, &[], &HashMap::new(), true)
}
