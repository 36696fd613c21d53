//! Per (run, metric key) summaries of the finite values: count, sum, min
//! and max. Ingest adds each batch's new points; a history older than the
//! table is summarised from its chunks the first time it is needed.

use runlore_core::{Error, HistoryPoint, MetricSummary, Result, RunId};
use rusqlite::{Connection, OptionalExtension, params};

use super::{db_err, runs};
use crate::codec::{chunk, ingest};

fn has_row(conn: &Connection, run: i64, key_id: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM metric_summaries WHERE run_id = ?1 AND key_id = ?2")
        .map_err(db_err)?
        .query_row(params![run, key_id], |_| Ok(()))
        .optional()
        .map_err(db_err)?
        .is_some())
}

/// The whole stored history of (run, key), folded.
fn from_chunks(
    conn: &Connection,
    run: i64,
    key_id: i64,
) -> Result<(i64, f64, Option<f64>, Option<f64>)> {
    let mut points = Vec::new();
    let mut stmt = conn
        .prepare_cached("SELECT data FROM metric_chunks WHERE run_id = ?1 AND key_id = ?2")
        .map_err(db_err)?;
    let mut rows = stmt.query(params![run, key_id]).map_err(db_err)?;
    while let Some(row) = rows.next().map_err(db_err)? {
        let blob = row
            .get_ref(0)
            .map_err(db_err)?
            .as_blob()
            .map_err(|e| Error::internal(format!("metric chunk is not a blob: {e}")))?;
        chunk::decode_into(blob, &mut points)?;
    }
    Ok(ingest::fold_finite(&points))
}

/// Summarises the whole stored history of (run, key) into a fresh row.
fn rebuild(conn: &Connection, run: i64, key_id: i64) -> Result<()> {
    let (n, sum, min, max) = from_chunks(conn, run, key_id)?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO metric_summaries (run_id, key_id, n, sum, min, max)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .map_err(db_err)?
    .execute(params![run, key_id, n, sum, min, max])
    .map_err(db_err)?;
    Ok(())
}

/// Adds newly stored points (duplicates already removed) to the summary.
/// Called before the points are written, so a missing row for a key with
/// stored chunks means history from before the table: summarised first.
pub fn add(conn: &Connection, run: i64, key_id: i64, points: &[HistoryPoint]) -> Result<()> {
    if !has_row(conn, run, key_id)? {
        rebuild(conn, run, key_id)?;
    }
    let (n, sum, min, max) = ingest::fold_finite(points);
    if n == 0 {
        return Ok(());
    }
    conn.prepare_cached(
        "UPDATE metric_summaries SET n = n + ?3, sum = sum + ?4,
             min = CASE WHEN min IS NULL OR ?5 < min THEN ?5 ELSE min END,
             max = CASE WHEN max IS NULL OR ?6 > max THEN ?6 ELSE max END
         WHERE run_id = ?1 AND key_id = ?2",
    )
    .map_err(db_err)?
    .execute(params![run, key_id, n, sum, min, max])
    .map_err(db_err)?;
    Ok(())
}

/// Summaries of `keys` for each of `ids` that logged them; unknown run ids
/// are `NotFound`.
pub fn read(conn: &Connection, ids: &[RunId], keys: &[String]) -> Result<Vec<MetricSummary>> {
    let mut out = Vec::new();
    let mut key_ids = Vec::new();
    for key in keys {
        let id: Option<i64> = conn
            .prepare_cached("SELECT id FROM metric_keys WHERE key = ?1")
            .map_err(db_err)?
            .query_row([key], |r| r.get(0))
            .optional()
            .map_err(db_err)?;
        if let Some(id) = id {
            key_ids.push((key, id));
        }
    }
    for run_id in ids {
        let run = runs::key_of(conn, run_id)?;
        for (key, key_id) in &key_ids {
            let logged: bool = conn
                .prepare_cached("SELECT 1 FROM latest_metrics WHERE run_id = ?1 AND key_id = ?2")
                .map_err(db_err)?
                .query_row(params![run, key_id], |_| Ok(()))
                .optional()
                .map_err(db_err)?
                .is_some();
            if !logged {
                continue;
            }
            let stored: Option<(i64, f64, Option<f64>, Option<f64>)> = conn
                .prepare_cached(
                    "SELECT n, sum, min, max FROM metric_summaries
                     WHERE run_id = ?1 AND key_id = ?2",
                )
                .map_err(db_err)?
                .query_row(params![run, key_id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()
                .map_err(db_err)?;
            // History from before the table: folded here (reads never
            // write); the next ingest stores it.
            let (n, sum, min, max) = match stored {
                Some(found) => found,
                None => from_chunks(conn, run, *key_id)?,
            };
            out.push(MetricSummary {
                run_id: run_id.clone(),
                key: (*key).clone(),
                count: u64::try_from(n).unwrap_or(0),
                min,
                max,
                mean: (n > 0).then(|| sum / n as f64),
            });
        }
    }
    Ok(out)
}
