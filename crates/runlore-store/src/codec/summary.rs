//! Summaries of metric chunks, kept beside them in `metric_chunk_summaries`
//! (by every backend, in this one format)
//! (migration 0007) so a downsampled read can take a bucket's minimum and
//! maximum from summaries and decode only the blocks a bucket boundary
//! cuts through.
//!
//! A chunk (up to 2,048 points) is too coarse on its own: 1M points cut
//! into 999 buckets give ~1,000 points a bucket, so nearly every chunk
//! straddles a boundary. The summary therefore describes fixed blocks of
//! [`BLOCK_POINTS`] points inside the chunk. Layout, little-endian:
//! `n u32`, first point, last point (24 bytes each, as in the chunk), then
//! per block: `min_index u16`, min point, `max_index u16`, max point.
//! Indices are positions in the chunk; `u16::MAX` means the block holds
//! only NaN. Extremes follow `runlore_core::downsample`: NaN never wins,
//! and on ties the first point in order wins.

use runlore_core::{Error, HistoryPoint, Result};

use super::chunk::{self, POINT_BYTES};

/// Points per summarised block. With ~1,000-point buckets a read decodes
/// one block per boundary (3 KB) and takes ~8 blocks from the summary; a
/// 2,048-point chunk's summary (~900 bytes) stays inside its table page.
pub const BLOCK_POINTS: usize = 128;
const NO_INDEX: u16 = u16::MAX;
const HEADER_BYTES: usize = 4 + 2 * POINT_BYTES;
const BLOCK_BYTES: usize = 2 * (2 + POINT_BYTES);

/// A point and its position (in a chunk, or in the whole history).
#[derive(Debug, Clone, Copy)]
pub struct Extreme {
    pub index: usize,
    pub point: HistoryPoint,
}

/// The first minimum and the first maximum of a run of points, NaN
/// skipped; both `None` when every point is NaN.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extremes {
    pub min: Option<Extreme>,
    pub max: Option<Extreme>,
}

impl Extremes {
    /// Takes the next point in order. Strict comparisons keep the first of
    /// equal values, as the full downsampler does.
    pub fn offer(&mut self, index: usize, point: HistoryPoint) {
        let v = point.value.0;
        if v.is_nan() {
            return;
        }
        if self.min.is_none_or(|m| v < m.point.value.0) {
            self.min = Some(Extreme { index, point });
        }
        if self.max.is_none_or(|m| v > m.point.value.0) {
            self.max = Some(Extreme { index, point });
        }
    }

    /// Folds in the extremes of points that all come after the ones seen so
    /// far; `shift` moves its indices into the same numbering.
    pub fn merge(&mut self, later: &Extremes, shift: usize) {
        let moved = |e: Extreme| Extreme {
            index: e.index + shift,
            point: e.point,
        };
        if let Some(m) = later.min
            && self.min.is_none_or(|c| m.point.value.0 < c.point.value.0)
        {
            self.min = Some(moved(m));
        }
        if let Some(m) = later.max
            && self.max.is_none_or(|c| m.point.value.0 > c.point.value.0)
        {
            self.max = Some(moved(m));
        }
    }
}

#[derive(Debug, Clone)]
pub struct ChunkSummary {
    pub n: usize,
    pub first: HistoryPoint,
    pub last: HistoryPoint,
    /// Block `k` covers chunk positions `k * BLOCK_POINTS ..` (the last
    /// block may be shorter); indices are chunk positions.
    pub blocks: Vec<Extremes>,
}

/// Summarises a chunk's points as stored. `None` for a chunk that cannot
/// be summarised: empty, too long for `u16` indices, or not sorted by
/// (step, timestamp) (reads rely on that order; such a chunk is decoded).
pub fn summarize(points: &[HistoryPoint]) -> Option<ChunkSummary> {
    let (first, last) = (*points.first()?, *points.last()?);
    if points.len() >= usize::from(NO_INDEX) || !points.is_sorted_by_key(|p| (p.step, p.timestamp))
    {
        return None;
    }
    let blocks = points
        .chunks(BLOCK_POINTS)
        .enumerate()
        .map(|(k, block)| {
            let mut e = Extremes::default();
            for (i, p) in block.iter().enumerate() {
                e.offer(k * BLOCK_POINTS + i, *p);
            }
            e
        })
        .collect();
    Some(ChunkSummary {
        n: points.len(),
        first,
        last,
        blocks,
    })
}

pub fn encode(s: &ChunkSummary) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_BYTES + s.blocks.len() * BLOCK_BYTES);
    out.extend_from_slice(&u32::try_from(s.n).unwrap_or(u32::MAX).to_le_bytes());
    chunk::put_point(&mut out, &s.first);
    chunk::put_point(&mut out, &s.last);
    let zero = HistoryPoint {
        step: 0,
        timestamp: 0,
        value: runlore_core::MetricValue(0.0),
    };
    for b in &s.blocks {
        for e in [b.min, b.max] {
            let index = e.and_then(|e| u16::try_from(e.index).ok());
            out.extend_from_slice(&index.unwrap_or(NO_INDEX).to_le_bytes());
            chunk::put_point(&mut out, &e.map_or(zero, |e| e.point));
        }
    }
    out
}

/// Decodes a summary, checking it against the chunk's point count `n`.
pub fn decode(blob: &[u8], n: usize) -> Result<ChunkSummary> {
    let bad = |why: &str| Error::internal(format!("corrupt metric chunk summary: {why}"));
    let blocks = n.div_ceil(BLOCK_POINTS);
    if blob.len() != HEADER_BYTES + blocks * BLOCK_BYTES {
        return Err(bad("wrong length"));
    }
    let mut word = [0u8; 4];
    word.copy_from_slice(&blob[..4]);
    if u32::from_le_bytes(word) as usize != n {
        return Err(bad("point count differs from the chunk's"));
    }
    let first = chunk::get_point(&blob[4..4 + POINT_BYTES]);
    let last = chunk::get_point(&blob[4 + POINT_BYTES..HEADER_BYTES]);
    let mut out = Vec::with_capacity(blocks);
    for (k, raw) in blob[HEADER_BYTES..].chunks_exact(BLOCK_BYTES).enumerate() {
        let span = k * BLOCK_POINTS..((k + 1) * BLOCK_POINTS).min(n);
        let mut pair = [None, None];
        for (slot, part) in pair.iter_mut().zip(raw.chunks_exact(2 + POINT_BYTES)) {
            let index = u16::from_le_bytes([part[0], part[1]]);
            if index == NO_INDEX {
                continue;
            }
            let index = usize::from(index);
            if !span.contains(&index) {
                return Err(bad("extreme outside its block"));
            }
            *slot = Some(Extreme {
                index,
                point: chunk::get_point(&part[2..]),
            });
        }
        let [min, max] = pair;
        if min.is_some() != max.is_some() {
            return Err(bad("a block with a minimum but no maximum"));
        }
        out.push(Extremes { min, max });
    }
    Ok(ChunkSummary {
        n,
        first,
        last,
        blocks: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use runlore_core::MetricValue;

    fn p(step: i64, v: f64) -> HistoryPoint {
        HistoryPoint {
            step,
            timestamp: step,
            value: MetricValue(v),
        }
    }

    #[test]
    fn round_trips_and_skips_nan() {
        let mut points: Vec<_> = (0..300).map(|i| p(i, (i % 7) as f64)).collect();
        for q in &mut points[128..256] {
            q.value = MetricValue(f64::NAN);
        }
        points[290].value = MetricValue(f64::NEG_INFINITY);
        let s = summarize(&points).unwrap();
        let back = decode(&encode(&s), 300).unwrap();
        assert_eq!(back.blocks.len(), 3);
        let b0 = back.blocks[0];
        assert_eq!((b0.min.unwrap().index, b0.max.unwrap().index), (0, 6));
        assert!(back.blocks[1].min.is_none() && back.blocks[1].max.is_none());
        assert_eq!(back.blocks[2].min.unwrap().index, 290);
        assert_eq!(back.last, points[299]);
        assert!(decode(&encode(&s), 299).is_err(), "count is checked");
    }

    #[test]
    fn refuses_unsorted_chunks() {
        assert!(summarize(&[p(2, 0.0), p(1, 0.0)]).is_none());
        assert!(summarize(&[]).is_none());
    }
}
