//! Storing chunk summaries (the format is `codec::summary`) beside their
//! chunks in SQLite, and the migration step that summarises old chunks.

use runlore_core::{Error, HistoryPoint, Result};
use rusqlite::{Connection, params};

use super::db_err;
use crate::codec::{chunk, summary};

/// Writes (or removes, when the points cannot be summarised) the summary
/// of a chunk just written with `points`. Every chunk write goes through
/// here, so a summary never describes an older version of its chunk.
pub fn store(
    conn: &Connection,
    run: i64,
    key_id: i64,
    chunk_no: i64,
    points: &[HistoryPoint],
) -> Result<()> {
    match summary::summarize(points) {
        Some(s) => conn
            .prepare_cached(
                "INSERT INTO metric_chunk_summaries (run_id, key_id, chunk_no, n, summary)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (run_id, key_id, chunk_no) DO UPDATE SET
                     n = excluded.n, summary = excluded.summary",
            )
            .map_err(db_err)?
            .execute(params![
                run,
                key_id,
                chunk_no,
                s.n as i64,
                summary::encode(&s)
            ]),
        None => conn
            .prepare_cached(
                "DELETE FROM metric_chunk_summaries
                 WHERE run_id = ?1 AND key_id = ?2 AND chunk_no = ?3",
            )
            .map_err(db_err)?
            .execute(params![run, key_id, chunk_no]),
    }
    .map_err(db_err)?;
    Ok(())
}

/// Summarises every stored chunk: migration 0007's step for databases
/// written before chunk summaries existed.
pub fn backfill(conn: &Connection) -> Result<()> {
    let mut stmt = conn
        .prepare("SELECT run_id, key_id, chunk_no, data FROM metric_chunks")
        .map_err(db_err)?;
    let mut rows = stmt.query([]).map_err(db_err)?;
    let (mut chunks, mut points) = (0u64, Vec::new());
    while let Some(row) = rows.next().map_err(db_err)? {
        let (run, key_id, chunk_no): (i64, i64, i64) = (
            row.get(0).map_err(db_err)?,
            row.get(1).map_err(db_err)?,
            row.get(2).map_err(db_err)?,
        );
        let blob = row
            .get_ref(3)
            .map_err(db_err)?
            .as_blob()
            .map_err(|e| Error::internal(format!("metric chunk is not a blob: {e}")))?;
        points.clear();
        chunk::decode_into(blob, &mut points)?;
        store(conn, run, key_id, chunk_no, &points)?;
        chunks += 1;
    }
    if chunks > 0 {
        tracing::info!(chunks, "summarised existing metric chunks");
    }
    Ok(())
}
