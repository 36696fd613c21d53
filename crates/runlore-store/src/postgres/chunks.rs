//! Metric chunks on PostgreSQL: the same 24-byte-per-point blobs, summaries
//! and placement as SQLite (`codec/`); this reads what the plan needs and
//! applies its operations in the batch's transaction.

use deadpool_postgres::GenericClient;
use runlore_core::{HistoryPoint, Result};

use super::pg_err;
use crate::codec::placement::{self, ChunkOp, Plan, StoredChunk, TailChunk};
use crate::codec::{chunk, summary};

/// The chunks whose step range meets `lo..=hi`, decoded.
pub(crate) async fn overlapping(
    client: &impl GenericClient,
    run: i64,
    key_id: i64,
    lo: i64,
    hi: i64,
) -> Result<Vec<StoredChunk>> {
    let rows = client
        .query(
            "SELECT chunk_no, min_step, data FROM metric_chunks
             WHERE run_id = $1 AND key_id = $2 AND max_step >= $3 AND min_step <= $4",
            &[&run, &key_id, &lo, &hi],
        )
        .await
        .map_err(pg_err)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut points = Vec::new();
        chunk::decode_into(row.get(2), &mut points)?;
        out.push(StoredChunk {
            chunk_no: row.get(0),
            min_step: row.get(1),
            points,
        });
    }
    Ok(out)
}

/// Stores `points` (new, de-duplicated, non-empty) as the planner says.
pub(crate) async fn place(
    client: &impl GenericClient,
    run: i64,
    key_id: i64,
    overlapping: Vec<StoredChunk>,
    points: &[HistoryPoint],
) -> Result<()> {
    let next_no: i64 = client
        .query_one(
            "SELECT coalesce(max(chunk_no) + 1, 0) FROM metric_chunks
             WHERE run_id = $1 AND key_id = $2",
            &[&run, &key_id],
        )
        .await
        .map_err(pg_err)?
        .get(0);
    let ops = match placement::plan(overlapping, points, next_no) {
        Plan::Done(ops) => ops,
        Plan::Append(append) => {
            let tail = client
                .query_opt(
                    "SELECT chunk_no, n, max_step, data FROM metric_chunks
                     WHERE run_id = $1 AND key_id = $2
                     ORDER BY max_step DESC, chunk_no DESC LIMIT 1",
                    &[&run, &key_id],
                )
                .await
                .map_err(pg_err)?;
            let mut top_up = None;
            if let Some(row) = tail {
                let found = TailChunk {
                    chunk_no: row.get(0),
                    n: usize::try_from(row.get::<_, i64>(1)).unwrap_or(usize::MAX),
                    max_step: row.get(2),
                };
                if append.tops_up(&found) {
                    let mut stored = Vec::new();
                    chunk::decode_into(row.get(3), &mut stored)?;
                    top_up = Some((found.chunk_no, stored));
                }
            }
            append.ops(top_up)
        }
    };
    apply(client, run, key_id, ops).await
}

/// Writes and removes chunks with their summaries: removals in one
/// statement, writes in one statement for the chunks and one for their
/// summaries, whatever their number.
async fn apply(
    client: &impl GenericClient,
    run: i64,
    key_id: i64,
    ops: Vec<ChunkOp>,
) -> Result<()> {
    let mut removed = Vec::new();
    let mut numbers = Vec::new();
    let (mut mins, mut maxs, mut counts, mut blobs) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut summarised, mut summary_counts, mut summaries) = (Vec::new(), Vec::new(), Vec::new());
    let mut unsummarised = Vec::new();
    for op in ops {
        match op {
            ChunkOp::Remove(chunk_no) => removed.push(chunk_no),
            ChunkOp::Write { chunk_no, points } => {
                numbers.push(chunk_no);
                mins.push(points.iter().map(|p| p.step).min().unwrap_or(0));
                maxs.push(points.iter().map(|p| p.step).max().unwrap_or(0));
                counts.push(points.len() as i64);
                blobs.push(chunk::encode(&points));
                match summary::summarize(&points) {
                    Some(s) => {
                        summarised.push(chunk_no);
                        summary_counts.push(s.n as i64);
                        summaries.push(summary::encode(&s));
                    }
                    None => unsummarised.push(chunk_no),
                }
            }
        }
    }
    // A removed chunk loses its summary; so does a rewritten chunk that
    // cannot be summarised (a read then decodes it).
    let mut stale = removed.clone();
    stale.extend_from_slice(&unsummarised);
    for (table, list) in [
        ("metric_chunks", &removed),
        ("metric_chunk_summaries", &stale),
    ] {
        if list.is_empty() {
            continue;
        }
        client
            .execute(
                &format!(
                    "DELETE FROM {table} WHERE run_id = $1 AND key_id = $2 AND chunk_no = ANY($3)"
                ),
                &[&run, &key_id, list],
            )
            .await
            .map_err(pg_err)?;
    }
    if !numbers.is_empty() {
        client
            .execute(
                "INSERT INTO metric_chunks (run_id, key_id, chunk_no, min_step, max_step, n, data)
                 SELECT $1, $2, c, lo, hi, n, d
                 FROM unnest($3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bytea[])
                      AS t(c, lo, hi, n, d)
                 ON CONFLICT (run_id, key_id, chunk_no) DO UPDATE SET
                     min_step = excluded.min_step, max_step = excluded.max_step,
                     n = excluded.n, data = excluded.data",
                &[&run, &key_id, &numbers, &mins, &maxs, &counts, &blobs],
            )
            .await
            .map_err(pg_err)?;
    }
    if !summarised.is_empty() {
        client
            .execute(
                "INSERT INTO metric_chunk_summaries (run_id, key_id, chunk_no, n, summary)
                 SELECT $1, $2, c, n, s
                 FROM unnest($3::bigint[], $4::bigint[], $5::bytea[]) AS t(c, n, s)
                 ON CONFLICT (run_id, key_id, chunk_no) DO UPDATE SET
                     n = excluded.n, summary = excluded.summary",
                &[&run, &key_id, &summarised, &summary_counts, &summaries],
            )
            .await
            .map_err(pg_err)?;
    }
    Ok(())
}
