//! Where a batch's new points go among a key's chunks, decided without a
//! database: a backend reads what the plan asks for, then applies the
//! [`ChunkOp`]s it returns in the batch's transaction (each written chunk
//! with its summary, each removed chunk without).
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

use runlore_core::HistoryPoint;

use super::chunk::{self, CHUNK_POINTS};

/// Stored points a batch may rewrite to keep chunks disjoint: bounds the
/// extra work of one batch to a few chunks.
pub const MERGE_LIMIT: usize = 8 * CHUNK_POINTS;

/// A stored chunk and its points, as the full read orders it.
#[derive(Debug, Clone)]
pub struct StoredChunk {
    pub chunk_no: i64,
    pub min_step: i64,
    pub points: Vec<HistoryPoint>,
}

/// The chunk holding the highest step, which is not always the newest:
/// batches sent concurrently arrive out of order. Among chunks ending at
/// the same step (all at step 0, say) it is the newest, the one being
/// filled.
#[derive(Debug, Clone, Copy)]
pub struct TailChunk {
    pub chunk_no: i64,
    pub n: usize,
    pub max_step: i64,
}

/// One change to a key's chunks.
#[derive(Debug, Clone, PartialEq)]
pub enum ChunkOp {
    /// Remove this chunk (and its summary).
    Remove(i64),
    /// Write (insert or replace) this chunk, whose points are sorted by
    /// (step, timestamp), and its summary.
    Write {
        chunk_no: i64,
        points: Vec<HistoryPoint>,
    },
}

/// The first decision of a placement.
#[derive(Debug)]
pub enum Plan {
    /// Merged with stored chunks: apply these.
    Done(Vec<ChunkOp>),
    /// An append after the stored points: may top up the tail chunk.
    Append(Append),
}

/// Points to append, sorted.
#[derive(Debug)]
pub struct Append {
    sorted: Vec<HistoryPoint>,
    next_no: i64,
}

/// Plans storing `points` (new, de-duplicated, non-empty). `overlapping`
/// holds the chunks whose step range meets the points' step range, and
/// `next_no` is one more than the key's highest chunk number (0 for none).
pub fn plan(mut overlapping: Vec<StoredChunk>, points: &[HistoryPoint], next_no: i64) -> Plan {
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
        let mut ops = Vec::new();
        for c in overlapping {
            merged.extend(c.points);
            ops.push(ChunkOp::Remove(c.chunk_no));
        }
        merged.append(&mut rest);
        chunk::sort_points(&mut merged);
        ops.extend(new_chunks(&merged, next_no));
        return Plan::Done(ops);
    }
    chunk::sort_points(&mut rest);
    Plan::Append(Append {
        sorted: rest,
        next_no,
    })
}

impl Append {
    /// Whether the tail chunk takes the first of these points: it has room
    /// and no point of it comes after them.
    pub fn tops_up(&self, tail: &TailChunk) -> bool {
        let min_step = self.sorted.first().map_or(i64::MIN, |p| p.step);
        tail.n < CHUNK_POINTS && min_step >= tail.max_step
    }

    /// The changes, given the tail chunk's number and points when
    /// [`Append::tops_up`] said it takes some.
    pub fn ops(self, top_up: Option<(i64, Vec<HistoryPoint>)>) -> Vec<ChunkOp> {
        let mut rest = self.sorted.as_slice();
        let mut ops = Vec::new();
        if let Some((chunk_no, mut merged)) = top_up {
            let take = CHUNK_POINTS.saturating_sub(merged.len()).min(rest.len());
            merged.extend_from_slice(&rest[..take]);
            chunk::sort_points(&mut merged);
            ops.push(ChunkOp::Write {
                chunk_no,
                points: merged,
            });
            rest = &rest[take..];
        }
        ops.extend(new_chunks(rest, self.next_no));
        ops
    }
}

fn new_chunks(points: &[HistoryPoint], first_no: i64) -> impl Iterator<Item = ChunkOp> + '_ {
    points
        .chunks(CHUNK_POINTS)
        .zip(first_no..)
        .map(|(part, chunk_no)| ChunkOp::Write {
            chunk_no,
            points: part.to_vec(),
        })
}

#[cfg(test)]
mod tests {
    use runlore_core::MetricValue;

    use super::*;

    fn p(step: i64) -> HistoryPoint {
        HistoryPoint {
            step,
            timestamp: 0,
            value: MetricValue(step as f64),
        }
    }

    fn written(ops: &[ChunkOp]) -> Vec<(i64, usize)> {
        ops.iter()
            .filter_map(|op| match op {
                ChunkOp::Write { chunk_no, points } => Some((*chunk_no, points.len())),
                ChunkOp::Remove(_) => None,
            })
            .collect()
    }

    #[test]
    fn an_append_tops_up_the_tail_then_opens_chunks() {
        let points: Vec<_> = (100..100 + CHUNK_POINTS as i64).map(p).collect();
        let Plan::Append(append) = plan(Vec::new(), &points, 3) else {
            panic!("an append");
        };
        let tail = TailChunk {
            chunk_no: 2,
            n: CHUNK_POINTS - 10,
            max_step: 99,
        };
        assert!(append.tops_up(&tail));
        let stored: Vec<_> = (0..(CHUNK_POINTS - 10) as i64).map(p).collect();
        let ops = append.ops(Some((2, stored)));
        assert_eq!(
            written(&ops),
            vec![(2, CHUNK_POINTS), (3, CHUNK_POINTS - 10)]
        );
    }

    #[test]
    fn a_full_or_later_tail_is_not_topped_up() {
        let Plan::Append(append) = plan(Vec::new(), &[p(5)], 1) else {
            panic!("an append");
        };
        let full = TailChunk {
            chunk_no: 0,
            n: CHUNK_POINTS,
            max_step: 1,
        };
        let later = TailChunk {
            chunk_no: 0,
            n: 1,
            max_step: 9,
        };
        assert!(!append.tops_up(&full) && !append.tops_up(&later));
        assert_eq!(written(&append.ops(None)), vec![(1, 1)]);
    }

    #[test]
    fn points_inside_stored_ranges_are_merged_into_new_chunks() {
        let stored = StoredChunk {
            chunk_no: 0,
            min_step: 0,
            points: vec![p(0), p(2), p(4)],
        };
        let Plan::Done(ops) = plan(vec![stored], &[p(1), p(3)], 1) else {
            panic!("a merge");
        };
        assert_eq!(ops[0], ChunkOp::Remove(0));
        let ChunkOp::Write { chunk_no, points } = &ops[1] else {
            panic!("a write");
        };
        assert_eq!(*chunk_no, 1);
        let steps: Vec<i64> = points.iter().map(|q| q.step).collect();
        assert_eq!(steps, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_scattered_batch_over_a_long_history_opens_overlapping_chunks() {
        let big = StoredChunk {
            chunk_no: 0,
            min_step: 0,
            points: (0..(MERGE_LIMIT as i64 + 2)).map(|s| p(s * 2)).collect(),
        };
        let Plan::Append(append) = plan(vec![big], &[p(3)], 1) else {
            panic!("no merge over the limit");
        };
        assert_eq!(written(&append.ops(None)), vec![(1, 1)]);
    }
}
