//! The only code that writes or removes SQLite's metric chunks, applying
//! what `codec::placement` plans (each write also writes the chunk's
//! summary, each removal removes it, in the batch's transaction).

use runlore_core::{Error, HistoryPoint, Result};
use rusqlite::{OptionalExtension, Transaction, params};

use super::{chunk_summary, db_err};
use crate::codec::chunk;
use crate::codec::placement::{self, ChunkOp, Plan, StoredChunk, TailChunk};

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

/// Stores `points` (new, de-duplicated, non-empty) as
/// `codec::placement` plans; `overlapping` is what [`overlapping`]
/// returned for their step range.
pub fn place(
    tx: &Transaction<'_>,
    run: i64,
    key_id: i64,
    overlapping: Vec<StoredChunk>,
    points: &[HistoryPoint],
) -> Result<()> {
    let next_no: i64 = tx
        .prepare_cached(
            "SELECT coalesce(max(chunk_no) + 1, 0) FROM metric_chunks
             WHERE run_id = ?1 AND key_id = ?2",
        )
        .map_err(db_err)?
        .query_row(params![run, key_id], |r| r.get(0))
        .map_err(db_err)?;
    let ops = match placement::plan(overlapping, points, next_no) {
        Plan::Done(ops) => ops,
        Plan::Append(append) => {
            let top_up = match tail(tx, run, key_id)? {
                Some(tail) if append.tops_up(&tail) => {
                    Some((tail.chunk_no, chunk_points(tx, run, key_id, tail.chunk_no)?))
                }
                _ => None,
            };
            append.ops(top_up)
        }
    };
    for op in ops {
        match op {
            ChunkOp::Remove(chunk_no) => remove_chunk(tx, run, key_id, chunk_no)?,
            ChunkOp::Write { chunk_no, points } => write_chunk(tx, run, key_id, chunk_no, &points)?,
        }
    }
    Ok(())
}

fn tail(tx: &Transaction<'_>, run: i64, key_id: i64) -> Result<Option<TailChunk>> {
    tx.prepare_cached(
        "SELECT chunk_no, n, max_step FROM metric_chunks
         WHERE run_id = ?1 AND key_id = ?2 ORDER BY max_step DESC, chunk_no DESC LIMIT 1",
    )
    .map_err(db_err)?
    .query_row(params![run, key_id], |r| {
        Ok(TailChunk {
            chunk_no: r.get(0)?,
            n: r.get(1)?,
            max_step: r.get(2)?,
        })
    })
    .optional()
    .map_err(db_err)
}

fn chunk_points(
    tx: &Transaction<'_>,
    run: i64,
    key_id: i64,
    chunk_no: i64,
) -> Result<Vec<HistoryPoint>> {
    let data: Vec<u8> = tx
        .prepare_cached(
            "SELECT data FROM metric_chunks WHERE run_id = ?1 AND key_id = ?2 AND chunk_no = ?3",
        )
        .map_err(db_err)?
        .query_row(params![run, key_id, chunk_no], |r| r.get(0))
        .map_err(db_err)?;
    let mut points = Vec::new();
    chunk::decode_into(&data, &mut points)?;
    Ok(points)
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
