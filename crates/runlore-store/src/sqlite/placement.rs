//! Where a batch's new points go among a key's chunks, and the only code
//! that writes or removes chunks (each write also writes the chunk's
//! summary, each removal removes it, in the same transaction).
//!
//! Chunks are kept with disjoint step ranges as far as cheaply possible:
//! a full read then needs no sort, and a downsampled read can take each
//! chunk from its summary (a run of overlapping chunks must be decoded).
//! - Points after every stored step top up the chunk holding the highest
//!   step, then open new chunks.
//! - Points that sort inside stored chunks' ranges (a late batch, or one
//!   that fills a gap another batch's top-up left in a chunk) are merged
//!   with those chunks, which are rewritten as new sorted chunks, when the
//!   chunks hold at most [`MERGE_LIMIT`] points. Beyond that (a batch
//!   scattered over a long history) the points open new, overlapping
//!   chunks, which reads handle by sorting.

use runlore_core::{Error, HistoryPoint, Result};
use rusqlite::{OptionalExtension, Transaction, params};

use super::chunk::{self, CHUNK_POINTS};
use super::{chunk_summary, db_err};

/// Stored points a batch may rewrite to keep chunks disjoint: bounds the
/// extra work of one batch to a few chunks.
const MERGE_LIMIT: usize = 8 * CHUNK_POINTS;

/// A stored chunk and its points, as the full read orders it.
pub struct StoredChunk {
    pub chunk_no: i64,
    pub min_step: i64,
    pub points: Vec<HistoryPoint>,
}

/// The chunks whose step range meets `lo..=hi`: the only ones that can
/// hold a copy of a new point, or be overlapped by it.
pub fn overlapping(
    tx: &Transaction<'_>,
    run: i64,
    key_id: i64,
    lo: i64,
    hi: i64,
) -> Result<Vec<StoredChunk>> {
    let mut stmt = tx
        .prepare_cached(
            "SELECT chunk_no, min_step, data FROM metric_chunks
             WHERE run_id = ?1 AND key_id = ?2 AND max_step >= ?3 AND min_step <= ?4",
        )
        .map_err(db_err)?;
    let mut rows = stmt.query(params![run, key_id, lo, hi]).map_err(db_err)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db_err)? {
        let mut points = Vec::new();
        chunk::decode_into(
            row.get_ref(2)
                .map_err(db_err)?
                .as_blob()
                .map_err(|e| Error::internal(format!("metric chunk is not a blob: {e}")))?,
            &mut points,
        )?;
        out.push(StoredChunk {
            chunk_no: row.get(0).map_err(db_err)?,
            min_step: row.get(1).map_err(db_err)?,
            points,
        });
    }
    Ok(out)
}

/// Stores `points` (new, de-duplicated, non-empty); `overlapping` is what
/// [`overlapping`] returned for their step range.
pub fn place(
    tx: &Transaction<'_>,
    run: i64,
    key_id: i64,
    mut overlapping: Vec<StoredChunk>,
    points: &[HistoryPoint],
) -> Result<()> {
    let mut next_no: i64 = tx
        .prepare_cached(
            "SELECT coalesce(max(chunk_no) + 1, 0) FROM metric_chunks
             WHERE run_id = ?1 AND key_id = ?2",
        )
        .map_err(db_err)?
        .query_row(params![run, key_id], |r| r.get(0))
        .map_err(db_err)?;
    let stored: usize = overlapping.iter().map(|c| c.points.len()).sum();
    let key = |p: &HistoryPoint| (p.step, p.timestamp);
    let stored_last = overlapping
        .iter()
        .flat_map(|c| c.points.iter().map(key))
        .max();
    let new_first = points.iter().map(key).min();
    // Points that sort at or after every stored one only touch the last
    // chunk's step (metrics logged without a step, all at step 0, do that
    // on every batch): they are an append, and a top-up keeps the ranges
    // ordered without rewriting anything.
    let inside = new_first < stored_last;
    let mut rest = points.to_vec();
    if inside && stored <= MERGE_LIMIT {
        // The stored points first, in the order a full read gives them, so
        // a merge never reorders points with equal (step, timestamp); new
        // ones go after their equals, as a top-up puts them.
        overlapping.sort_by_key(|c| (c.min_step, c.chunk_no));
        let mut merged = Vec::with_capacity(stored + rest.len());
        for c in &overlapping {
            merged.extend_from_slice(&c.points);
            remove_chunk(tx, run, key_id, c.chunk_no)?;
        }
        merged.append(&mut rest);
        chunk::sort_points(&mut merged);
        for part in merged.chunks(CHUNK_POINTS) {
            write_chunk(tx, run, key_id, next_no, part)?;
            next_no += 1;
        }
        return Ok(());
    }
    chunk::sort_points(&mut rest);
    let min_step = rest.first().map_or(i64::MIN, |p| p.step);
    // The chunk holding the highest step, which is not always the newest:
    // batches sent concurrently arrive out of order. Among chunks ending at
    // the same step (all at step 0, say) the newest, the one being filled.
    let tail: Option<(i64, usize, i64)> = tx
        .prepare_cached(
            "SELECT chunk_no, n, max_step FROM metric_chunks
             WHERE run_id = ?1 AND key_id = ?2 ORDER BY max_step DESC, chunk_no DESC LIMIT 1",
        )
        .map_err(db_err)?
        .query_row(params![run, key_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()
        .map_err(db_err)?;
    let mut rest = rest.as_slice();
    if let Some((no, n, tail_max)) = tail
        && n < CHUNK_POINTS
        && min_step >= tail_max
    {
        let data: Vec<u8> = tx
            .prepare_cached(
                "SELECT data FROM metric_chunks
                 WHERE run_id = ?1 AND key_id = ?2 AND chunk_no = ?3",
            )
            .map_err(db_err)?
            .query_row(params![run, key_id, no], |r| r.get(0))
            .map_err(db_err)?;
        let take = (CHUNK_POINTS - n).min(rest.len());
        let mut merged = Vec::with_capacity(n + take);
        chunk::decode_into(&data, &mut merged)?;
        merged.extend_from_slice(&rest[..take]);
        chunk::sort_points(&mut merged);
        write_chunk(tx, run, key_id, no, &merged)?;
        rest = &rest[take..];
    }
    for part in rest.chunks(CHUNK_POINTS) {
        write_chunk(tx, run, key_id, next_no, part)?;
        next_no += 1;
    }
    Ok(())
}

/// Writes a chunk of points sorted by (step, timestamp), and its summary.
fn write_chunk(
    tx: &Transaction<'_>,
    run: i64,
    key_id: i64,
    chunk_no: i64,
    points: &[HistoryPoint],
) -> Result<()> {
    let min_step = points.iter().map(|p| p.step).min().unwrap_or(0);
    let max_step = points.iter().map(|p| p.step).max().unwrap_or(0);
    tx.prepare_cached(
        "INSERT INTO metric_chunks (run_id, key_id, chunk_no, min_step, max_step, n, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (run_id, key_id, chunk_no) DO UPDATE SET
             min_step = excluded.min_step, max_step = excluded.max_step,
             n = excluded.n, data = excluded.data",
    )
    .map_err(db_err)?
    .execute(params![
        run,
        key_id,
        chunk_no,
        min_step,
        max_step,
        points.len() as i64,
        chunk::encode(points)
    ])
    .map_err(db_err)?;
    chunk_summary::store(tx, run, key_id, chunk_no, points)
}

fn remove_chunk(tx: &Transaction<'_>, run: i64, key_id: i64, chunk_no: i64) -> Result<()> {
    for sql in [
        "DELETE FROM metric_chunks WHERE run_id = ?1 AND key_id = ?2 AND chunk_no = ?3",
        "DELETE FROM metric_chunk_summaries WHERE run_id = ?1 AND key_id = ?2 AND chunk_no = ?3",
    ] {
        tx.prepare_cached(sql)
            .map_err(db_err)?
            .execute(params![run, key_id, chunk_no])
            .map_err(db_err)?;
    }
    Ok(())
}
