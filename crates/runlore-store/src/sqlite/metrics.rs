//! Logging (metrics, params, tags in one transaction) and metric history.
//!
//! Points go to chunk blobs (see `chunk.rs`); `placement.rs` decides which
//! chunks a batch tops up, merges into or opens. Chunks may still overlap in
//! steps when a client logs out of order; reads sort, which costs nothing on
//! already-sorted data.

use runlore_core::store::MetricRange;
use runlore_core::time::now_ms;
use runlore_core::*;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{db_err, placement, runs};
use crate::codec::{chunk, ingest};

pub fn log_batch(conn: &mut Connection, id: &RunId, batch: LogBatch) -> Result<LogOutcome> {
    let tx = conn.transaction().map_err(db_err)?;
    let run = runs::active_key_of(&tx, id)?;
    let mut outcome = LogOutcome::default();
    for (k, v) in &batch.params {
        if log_param(&tx, run, id, k, v)? {
            outcome.params_written += 1;
        }
    }
    for (k, v) in &batch.tags {
        tx.prepare_cached(
            "INSERT INTO tags (run_id, key, value) VALUES (?1, ?2, ?3)
             ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
        )
        .map_err(db_err)?
        .execute(params![run, k, v])
        .map_err(db_err)?;
        outcome.tags_written += 1;
    }
    let now = now_ms();
    for c in &batch.components {
        tx.prepare_cached(
            "INSERT INTO components (run_id, name, status, reason, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (run_id, name) DO UPDATE SET
                 status = excluded.status, reason = excluded.reason,
                 updated_at = excluded.updated_at",
        )
        .map_err(db_err)?
        .execute(params![run, c.name, c.status.as_str(), c.reason, now])
        .map_err(db_err)?;
        outcome.components_written += 1;
    }
    for (key, points) in ingest::by_key(batch.metrics, now) {
        let key_id = metric_key_id(&tx, &key)?;
        let (written, duplicate) = store_points(&tx, run, key_id, points)?;
        outcome.metrics_written += written;
        outcome.metrics_duplicate += duplicate;
    }
    if outcome != LogOutcome::default() {
        tx.execute(
            "UPDATE runs SET updated_at = ?1 WHERE id = ?2",
            params![now, run],
        )
        .map_err(db_err)?;
    }
    tx.commit().map_err(db_err)?;
    Ok(outcome)
}

/// Params are immutable: the same value again is accepted (and reported as
/// not written), a different value is a conflict that rejects the batch.
fn log_param(tx: &Transaction<'_>, run: i64, id: &RunId, key: &str, value: &str) -> Result<bool> {
    let existing: Option<String> = tx
        .prepare_cached("SELECT value FROM params WHERE run_id = ?1 AND key = ?2")
        .map_err(db_err)?
        .query_row(params![run, key], |r| r.get(0))
        .optional()
        .map_err(db_err)?;
    match existing {
        Some(old) if old == value => Ok(false),
        Some(old) => Err(ingest::param_conflict(id, key, &old, value)),
        None => {
            tx.prepare_cached("INSERT INTO params (run_id, key, value) VALUES (?1, ?2, ?3)")
                .map_err(db_err)?
                .execute(params![run, key, value])
                .map_err(db_err)?;
            Ok(true)
        }
    }
}

fn metric_key_id(tx: &Transaction<'_>, key: &str) -> Result<i64> {
    if let Some(id) = tx
        .prepare_cached("SELECT id FROM metric_keys WHERE key = ?1")
        .map_err(db_err)?
        .query_row([key], |r| r.get(0))
        .optional()
        .map_err(db_err)?
    {
        return Ok(id);
    }
    tx.prepare_cached("INSERT INTO metric_keys (key) VALUES (?1)")
        .map_err(db_err)?
        .execute([key])
        .map_err(db_err)?;
    Ok(tx.last_insert_rowid())
}

/// Stores the new points of one key; returns (written, duplicates skipped).
fn store_points(
    tx: &Transaction<'_>,
    run: i64,
    key_id: i64,
    mut points: Vec<HistoryPoint>,
) -> Result<(u64, u64)> {
    let received = points.len() as u64;
    ingest::dedup(&mut points);
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return Ok((0, received));
    };
    let (min_step, max_step) = (first.step, last.step);

    // Points identical to stored ones are skipped: only chunks whose step
    // range overlaps the batch can hold them.
    let overlapping = placement::overlapping(tx, run, key_id, min_step, max_step)?;
    ingest::drop_stored(
        &mut points,
        overlapping.iter().flat_map(|c| c.points.iter()),
    );
    let written = points.len() as u64;
    if points.is_empty() {
        return Ok((0, received));
    }
    update_latest(tx, run, key_id, &points)?;
    super::summaries::add(tx, run, key_id, &points)?;
    placement::place(tx, run, key_id, overlapping, &points)?;
    Ok((written, received - written))
}

/// The latest value is the point with the highest step, then the latest
/// timestamp, then the larger value (MLflow's rule).
fn update_latest(
    tx: &Transaction<'_>,
    run: i64,
    key_id: i64,
    points: &[HistoryPoint],
) -> Result<()> {
    let Some(best) = ingest::latest_candidate(points) else {
        return Ok(());
    };
    let current: Option<(i64, i64, Option<f64>)> = tx
        .prepare_cached(
            "SELECT step, timestamp, value FROM latest_metrics WHERE run_id = ?1 AND key_id = ?2",
        )
        .map_err(db_err)?
        .query_row(params![run, key_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()
        .map_err(db_err)?;
    if ingest::replaces_latest(best, current) {
        let v = best.value.0;
        tx.prepare_cached(
            "INSERT INTO latest_metrics (run_id, key_id, value, is_nan, step, timestamp)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (run_id, key_id) DO UPDATE SET value = excluded.value,
                 is_nan = excluded.is_nan, step = excluded.step, timestamp = excluded.timestamp",
        )
        .map_err(db_err)?
        .execute(params![
            run,
            key_id,
            (!v.is_nan()).then_some(v),
            v.is_nan(),
            best.step,
            best.timestamp
        ])
        .map_err(db_err)?;
    }
    Ok(())
}

pub fn history(conn: &Connection, id: &RunId, range: &MetricRange) -> Result<Vec<HistoryPoint>> {
    let run = runs::key_of(conn, id)?;
    let Some(key_id) = key_id_of(conn, &range.key)? else {
        return Ok(Vec::new());
    };
    let lo = range.start_step.unwrap_or(i64::MIN);
    let hi = range.end_step.unwrap_or(i64::MAX);
    // Chunks are read in primary-key order (SQLite would copy every blob
    // into a sorter for ORDER BY min_step) and put in step order here. The
    // unary + keeps the planner off the max_step index, which would need
    // that sorter for ORDER BY chunk_no.
    let mut chunks: Vec<(i64, Vec<HistoryPoint>)> = Vec::new();
    let mut stmt = conn
        .prepare_cached(
            "SELECT min_step, data FROM metric_chunks
             WHERE run_id = ?1 AND key_id = ?2 AND +max_step >= ?3 AND min_step <= ?4
             ORDER BY chunk_no",
        )
        .map_err(db_err)?;
    let mut rows = stmt.query(params![run, key_id, lo, hi]).map_err(db_err)?;
    while let Some(row) = rows.next().map_err(db_err)? {
        let min_step: i64 = row.get(0).map_err(db_err)?;
        let blob = row
            .get_ref(1)
            .map_err(db_err)?
            .as_blob()
            .map_err(|e| Error::internal(format!("metric chunk is not a blob: {e}")))?;
        let mut part = Vec::new();
        chunk::decode_into(blob, &mut part)?;
        chunks.push((min_step, part));
    }
    chunks.sort_by_key(|(min_step, _)| *min_step);
    let mut points = Vec::with_capacity(chunks.iter().map(|(_, p)| p.len()).sum());
    for (_, part) in chunks {
        points.extend_from_slice(&part);
    }
    if range.start_step.is_some() || range.end_step.is_some() {
        points.retain(|p| p.step >= lo && p.step <= hi);
    }
    if !points.is_sorted_by_key(|p| (p.step, p.timestamp)) {
        chunk::sort_points(&mut points);
    }
    Ok(points)
}

/// The internal id of a metric key, `None` when no run ever logged it.
pub fn key_id_of(conn: &Connection, key: &str) -> Result<Option<i64>> {
    conn.prepare_cached("SELECT id FROM metric_keys WHERE key = ?1")
        .map_err(db_err)?
        .query_row([key], |r| r.get(0))
        .optional()
        .map_err(db_err)
}

pub fn keys(conn: &Connection, id: &RunId) -> Result<Vec<String>> {
    let run = runs::key_of(conn, id)?;
    let mut stmt = conn
        .prepare_cached(
            "SELECT mk.key FROM latest_metrics lm JOIN metric_keys mk ON mk.id = lm.key_id
             WHERE lm.run_id = ?1 ORDER BY mk.key",
        )
        .map_err(db_err)?;
    stmt.query_map([run], |r| r.get(0))
        .map_err(db_err)?
        .collect::<rusqlite::Result<_>>()
        .map_err(db_err)
}
