//! Downsampled history reads that decode only what they must, with the
//! result identical, point for point, to `runlore_core::downsample` over the
//! full history (same buckets by index, same first minimum and maximum, NaN
//! skipped the same way).
//!
//! The history is planned as segments (`plan.rs`): chunks that stay on disk
//! with their summaries, and small decoded runs. Each bucket's extremes are
//! then folded from block summaries where a block lies wholly inside the
//! bucket, and from the decoded points of the (at most two) blocks the
//! bucket's edges cut. For 1M points in 999 buckets that is ~8,000 block
//! summaries and ~1,000 blocks of 128 points, instead of 1M points.

mod plan;

use runlore_core::downsample::downsample;
use runlore_core::store::{MetricRange, SampledHistory};
use runlore_core::{Error, HistoryPoint, Result, RunId};
use rusqlite::Connection;

use super::{db_err, metrics, runs};
use crate::codec::summary::{BLOCK_POINTS, Extremes};
use plan::{BlockReader, Segment};

/// Below this many points a bucket, most of a bucket sits in the blocks its
/// edges cut; decoding everything is then as cheap and simpler.
const MIN_BUCKET_POINTS: usize = 2 * BLOCK_POINTS;

pub fn downsampled(
    conn: &Connection,
    id: &RunId,
    range: &MetricRange,
    max_points: usize,
) -> Result<SampledHistory> {
    // One read transaction: the plan and the blob reads after it must see
    // the same version of every chunk while ingest goes on.
    let tx = conn.unchecked_transaction().map_err(db_err)?;
    let run = runs::key_of(&tx, id)?;
    let Some(key_id) = metrics::key_id_of(&tx, &range.key)? else {
        return Ok(SampledHistory::default());
    };
    let lo = range.start_step.unwrap_or(i64::MIN);
    let hi = range.end_step.unwrap_or(i64::MAX);
    let mut reader = BlockReader::new(&tx);
    let history = History::new(plan::segments(&tx, &mut reader, run, key_id, lo, hi)?);
    let total = history.total;
    let max_points = max_points.max(2);
    let buckets = ((max_points - 2) / 2).max(1);
    if total <= max_points || (total - 2) / buckets < MIN_BUCKET_POINTS {
        let points = history.all(&mut reader)?;
        let points = if total > max_points {
            downsample(&points, max_points)
        } else {
            points
        };
        return Ok(SampledHistory { points, total });
    }
    let points = history.sample(&mut reader, buckets)?;
    Ok(SampledHistory { points, total })
}

struct History {
    segments: Vec<Segment>,
    /// Position of each segment's first point in the history.
    starts: Vec<usize>,
    total: usize,
}

impl History {
    fn new(segments: Vec<Segment>) -> History {
        let mut starts = Vec::with_capacity(segments.len());
        let mut total = 0;
        for s in &segments {
            starts.push(total);
            total += s.len();
        }
        History {
            segments,
            starts,
            total,
        }
    }

    fn all(&self, reader: &mut BlockReader<'_>) -> Result<Vec<HistoryPoint>> {
        let mut out = Vec::with_capacity(self.total);
        for s in &self.segments {
            match s {
                Segment::Stored { rowid, summary } => out.extend(reader.all(*rowid, summary.n)?),
                Segment::Loaded(points) => out.extend_from_slice(points),
            }
        }
        Ok(out)
    }

    /// The index of the segment holding history position `at`.
    fn segment_of(&self, at: usize) -> usize {
        self.starts.partition_point(|s| *s <= at).saturating_sub(1)
    }

    fn point_at(&self, reader: &mut BlockReader<'_>, at: usize) -> Result<HistoryPoint> {
        let i = self.segment_of(at);
        let local = at - self.starts[i];
        let point = match &self.segments[i] {
            Segment::Loaded(points) => points.get(local).copied(),
            Segment::Stored { summary, .. } if local == 0 => Some(summary.first),
            Segment::Stored { summary, .. } if local + 1 == summary.n => Some(summary.last),
            Segment::Stored { rowid, summary } => reader
                .block(*rowid, summary.n, local / BLOCK_POINTS)?
                .get(local % BLOCK_POINTS)
                .copied(),
        };
        point.ok_or_else(|| Error::internal(format!("history position {at} out of range")))
    }

    /// The extremes of history positions `lo..hi`, in history positions.
    fn extremes(&self, reader: &mut BlockReader<'_>, lo: usize, hi: usize) -> Result<Extremes> {
        let mut acc = Extremes::default();
        let mut i = self.segment_of(lo);
        while i < self.segments.len() && self.starts[i] < hi {
            let base = self.starts[i];
            let seg = &self.segments[i];
            // The part of this segment inside the bucket, in its positions.
            let (a, c) = (lo.max(base) - base, hi.min(base + seg.len()) - base);
            match seg {
                Segment::Loaded(points) => {
                    for (j, p) in points[a..c].iter().enumerate() {
                        acc.offer(base + a + j, *p);
                    }
                }
                Segment::Stored { rowid, summary } => {
                    for k in a / BLOCK_POINTS..c.div_ceil(BLOCK_POINTS) {
                        let (start, end) =
                            (k * BLOCK_POINTS, ((k + 1) * BLOCK_POINTS).min(summary.n));
                        if a <= start && end <= c {
                            acc.merge(&summary.blocks[k], base);
                            continue;
                        }
                        let block = reader.block(*rowid, summary.n, k)?;
                        for j in a.max(start)..c.min(end) {
                            acc.offer(base + j, block[j - start]);
                        }
                    }
                }
            }
            i += 1;
        }
        Ok(acc)
    }

    /// `runlore_core::downsample` with `buckets` buckets, read from the
    /// segments: the first and last points, then each bucket's minimum and
    /// maximum in history order (its first point when it is all NaN).
    fn sample(&self, reader: &mut BlockReader<'_>, buckets: usize) -> Result<Vec<HistoryPoint>> {
        let interior = (self.total - 2) as u128;
        let edge = |b: usize| 1 + (b as u128 * interior / buckets as u128) as usize;
        let mut out = Vec::with_capacity(buckets * 2 + 2);
        out.push(self.point_at(reader, 0)?);
        for b in 0..buckets {
            let (lo, hi) = (edge(b), edge(b + 1));
            if lo == hi {
                continue;
            }
            match self.extremes(reader, lo, hi)? {
                Extremes {
                    min: Some(min),
                    max: Some(max),
                } => {
                    let (a, z) = if min.index <= max.index {
                        (min, max)
                    } else {
                        (max, min)
                    };
                    out.push(a.point);
                    if z.index != a.index {
                        out.push(z.point);
                    }
                }
                _ => out.push(self.point_at(reader, lo)?),
            }
        }
        out.push(self.point_at(reader, self.total - 1)?);
        Ok(out)
    }
}
