//! The history of one (run, key) in a step range as a sequence of
//! segments in the exact order a full read returns its points.
//!
//! A full read (`metrics::history`) orders chunks by (min_step, chunk_no),
//! concatenates them and stable-sorts by (step, timestamp). Each chunk is
//! sorted, so where every point before a cut is ≤ every point after it the
//! sort moves nothing across the cut (ties keep the earlier chunk first).
//! Chunks between such cuts form a cluster. A cluster of one chunk that
//! lies wholly in the range and has a summary stays on disk (`Stored`); any
//! other cluster (chunks logged out of order that overlap, a chunk cut by
//! the range, a chunk without a summary) is decoded and sorted now
//! (`Loaded`), which is what the full read does to it.

use rusqlite::blob::Blob;
use rusqlite::{Connection, MAIN_DB, params};

use runlore_core::{Error, HistoryPoint, Result};

use super::super::db_err;
use crate::codec::chunk::{self, POINT_BYTES};
use crate::codec::summary::{self as chunk_summary, BLOCK_POINTS, ChunkSummary};

pub enum Segment {
    Stored { rowid: i64, summary: ChunkSummary },
    Loaded(Vec<HistoryPoint>),
}

impl Segment {
    pub fn len(&self) -> usize {
        match self {
            Segment::Stored { summary, .. } => summary.n,
            Segment::Loaded(points) => points.len(),
        }
    }
}

enum Body {
    Summary(ChunkSummary),
    Points(Vec<HistoryPoint>),
}

struct Chunk {
    rowid: i64,
    min_step: i64,
    max_step: i64,
    n: usize,
    /// (step, timestamp) of the first and last points.
    first: (i64, i64),
    last: (i64, i64),
    body: Body,
}

/// Reads chunk points straight from their blobs (SQLite's incremental blob
/// I/O): a block near the end of a chunk costs a walk of its overflow-page
/// links through the memory map, not a copy of the whole 48 KB chunk.
pub struct BlockReader<'c> {
    conn: &'c Connection,
    blob: Option<(i64, Blob<'c>)>,
    cached: Option<(i64, usize)>,
    block: Vec<HistoryPoint>,
    buf: Vec<u8>,
}

impl<'c> BlockReader<'c> {
    pub fn new(conn: &'c Connection) -> Self {
        BlockReader {
            conn,
            blob: None,
            cached: None,
            block: Vec::with_capacity(BLOCK_POINTS),
            buf: Vec::new(),
        }
    }

    /// Appends `count` points of the chunk at `rowid` (which holds `n`),
    /// starting at position `start`.
    fn read_into(
        &mut self,
        rowid: i64,
        n: usize,
        start: usize,
        count: usize,
        out: &mut Vec<HistoryPoint>,
    ) -> Result<()> {
        if !matches!(&self.blob, Some((open, _)) if *open == rowid) {
            let opened = match self.blob.take() {
                Some((_, mut blob)) => blob.reopen(rowid).map(|()| blob),
                None => self
                    .conn
                    .blob_open(MAIN_DB, c"metric_chunks", c"data", rowid, true),
            };
            // A failed reopen leaves the handle unusable: it is dropped.
            self.blob = Some((rowid, opened.map_err(db_err)?));
        }
        let Some((_, blob)) = &self.blob else {
            return Err(Error::internal("metric chunk blob not open"));
        };
        if blob.len() != n * POINT_BYTES {
            return Err(Error::internal(format!(
                "corrupt metric chunk: {} bytes for {n} points",
                blob.len()
            )));
        }
        if start + count > n {
            return Err(Error::internal("metric chunk read past its end"));
        }
        self.buf.resize(count * POINT_BYTES, 0);
        blob.read_at_exact(&mut self.buf, start * POINT_BYTES)
            .map_err(db_err)?;
        chunk::decode_into(&self.buf, out)
    }

    /// Every point of a chunk.
    pub fn all(&mut self, rowid: i64, n: usize) -> Result<Vec<HistoryPoint>> {
        let mut out = Vec::with_capacity(n);
        self.read_into(rowid, n, 0, n, &mut out)?;
        Ok(out)
    }

    /// Block `k` of a chunk. The last block read is kept: a bucket
    /// boundary's block serves the buckets on both sides of it.
    pub fn block(&mut self, rowid: i64, n: usize, k: usize) -> Result<&[HistoryPoint]> {
        if self.cached != Some((rowid, k)) {
            let start = k * BLOCK_POINTS;
            let count = BLOCK_POINTS.min(n.saturating_sub(start));
            let mut block = std::mem::take(&mut self.block);
            block.clear();
            let read = self.read_into(rowid, n, start, count, &mut block);
            self.block = block;
            self.cached = None;
            read?;
            self.cached = Some((rowid, k));
        }
        Ok(&self.block)
    }
}

/// The segments of (run, key) within `lo..=hi`, in history order.
pub fn segments(
    conn: &Connection,
    reader: &mut BlockReader<'_>,
    run: i64,
    key_id: i64,
    lo: i64,
    hi: i64,
) -> Result<Vec<Segment>> {
    let mut chunks = load_chunks(conn, run, key_id, lo, hi)?;
    // The full read's chunk order: primary key, then a stable sort by
    // min_step.
    chunks.sort_by_key(|c| c.min_step);
    let k = chunks.len();
    let mut suffix_min_first = vec![(i64::MAX, i64::MAX); k + 1];
    for i in (0..k).rev() {
        suffix_min_first[i] = suffix_min_first[i + 1].min(chunks[i].first);
    }
    let mut segments = Vec::new();
    let mut cluster: Vec<Chunk> = Vec::new();
    let mut prefix_max_last = (i64::MIN, i64::MIN);
    for (i, c) in chunks.into_iter().enumerate() {
        if !cluster.is_empty() && prefix_max_last <= suffix_min_first[i] {
            segments.push(close(reader, std::mem::take(&mut cluster), lo, hi)?);
        }
        prefix_max_last = prefix_max_last.max(c.last);
        cluster.push(c);
    }
    if !cluster.is_empty() {
        segments.push(close(reader, cluster, lo, hi)?);
    }
    segments.retain(|s| s.len() > 0);
    Ok(segments)
}

fn load_chunks(conn: &Connection, run: i64, key_id: i64, lo: i64, hi: i64) -> Result<Vec<Chunk>> {
    let mut chunks = Vec::new();
    let mut stmt = conn
        .prepare_cached(
            "SELECT c.rowid, c.min_step, c.max_step, c.n, s.summary
             FROM metric_chunks c
             LEFT JOIN metric_chunk_summaries s ON s.run_id = c.run_id
                  AND s.key_id = c.key_id AND s.chunk_no = c.chunk_no AND s.n = c.n
             WHERE c.run_id = ?1 AND c.key_id = ?2 AND +c.max_step >= ?3 AND c.min_step <= ?4
             ORDER BY c.chunk_no",
        )
        .map_err(db_err)?;
    let mut rows = stmt.query(params![run, key_id, lo, hi]).map_err(db_err)?;
    let mut unsummarised = Vec::new();
    while let Some(row) = rows.next().map_err(db_err)? {
        let (rowid, min_step, max_step, n): (i64, i64, i64, i64) = (
            row.get(0).map_err(db_err)?,
            row.get(1).map_err(db_err)?,
            row.get(2).map_err(db_err)?,
            row.get(3).map_err(db_err)?,
        );
        let n = usize::try_from(n).map_err(|_| Error::internal("negative chunk size"))?;
        let summary = match row.get_ref(4).map_err(db_err)?.as_blob_or_null() {
            Ok(Some(blob)) => match chunk_summary::decode(blob, n) {
                Ok(s) => Some(s),
                Err(e) => {
                    // The chunk itself is intact: read it whole instead.
                    tracing::warn!(rowid, error = %e, "ignoring a metric chunk summary");
                    None
                }
            },
            _ => None,
        };
        match summary {
            Some(s) => chunks.push(Chunk {
                rowid,
                min_step,
                max_step,
                n,
                first: (s.first.step, s.first.timestamp),
                last: (s.last.step, s.last.timestamp),
                body: Body::Summary(s),
            }),
            None => {
                unsummarised.push((chunks.len() + unsummarised.len(), rowid, min_step, max_step))
            }
        }
    }
    drop(rows);
    // Chunks without a summary (an unsortable legacy chunk, or a failed
    // backfill) are read whole, in the same order as the rest.
    let mut data = conn
        .prepare_cached("SELECT data FROM metric_chunks WHERE rowid = ?1")
        .map_err(db_err)?;
    for (at, rowid, min_step, max_step) in unsummarised {
        let mut points = Vec::new();
        data.query_row([rowid], |r| {
            let blob = r.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?;
            Ok(chunk::decode_into(blob, &mut points))
        })
        .map_err(db_err)??;
        // A stable sort of one chunk leaves the stable sort of the whole
        // history unchanged, and gives the chunk a first and last point.
        if !points.is_sorted_by_key(|p| (p.step, p.timestamp)) {
            chunk::sort_points(&mut points);
        }
        let key =
            |p: Option<&HistoryPoint>| p.map_or((min_step, i64::MIN), |p| (p.step, p.timestamp));
        chunks.insert(
            at,
            Chunk {
                rowid,
                min_step,
                max_step,
                n: points.len(),
                first: key(points.first()),
                last: key(points.last()),
                body: Body::Points(points),
            },
        );
    }
    Ok(chunks)
}

/// Turns a cluster into one segment.
fn close(
    reader: &mut BlockReader<'_>,
    mut cluster: Vec<Chunk>,
    lo: i64,
    hi: i64,
) -> Result<Segment> {
    if let [c] = cluster.as_slice()
        && c.min_step >= lo
        && c.max_step <= hi
        && let Some(Chunk {
            rowid,
            body: Body::Summary(summary),
            ..
        }) = cluster.pop_if(|c| matches!(c.body, Body::Summary(_)))
    {
        return Ok(Segment::Stored { rowid, summary });
    }
    let sorted = cluster.len() == 1;
    let mut points = Vec::with_capacity(cluster.iter().map(|c| c.n).sum());
    for c in cluster {
        match c.body {
            Body::Points(p) => points.extend_from_slice(&p),
            Body::Summary(_) => points.extend(reader.all(c.rowid, c.n)?),
        }
    }
    if !sorted {
        chunk::sort_points(&mut points);
    }
    points.retain(|p| p.step >= lo && p.step <= hi);
    Ok(Segment::Loaded(points))
}
