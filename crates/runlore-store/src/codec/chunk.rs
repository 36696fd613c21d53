//! Packing of metric points into chunk blobs: each point is 24 bytes
//! (step i64, timestamp i64, value f64 bits, little-endian), sorted by step
//! then timestamp. Packed blobs decode with no parsing, which is what makes a
//! 1M-point history read fit its budget.

use runlore_core::{Error, HistoryPoint, MetricValue, Result};

/// Points per chunk. Small enough that rewriting the tail chunk on every
/// small batch stays cheap, large enough that a 1M-point history is a few
/// hundred rows.
pub const CHUNK_POINTS: usize = 2048;
pub const POINT_BYTES: usize = 24;

/// A point's identity for de-duplication: NaN payloads are canonicalised so
/// that two NaNs sent by the same request compare equal.
pub fn identity(p: &HistoryPoint) -> (i64, i64, u64) {
    (p.step, p.timestamp, canonical_bits(p.value.0))
}

fn canonical_bits(v: f64) -> u64 {
    if v.is_nan() {
        f64::NAN.to_bits()
    } else {
        v.to_bits()
    }
}

pub fn encode(points: &[HistoryPoint]) -> Vec<u8> {
    let mut out = Vec::with_capacity(points.len() * POINT_BYTES);
    for p in points {
        put_point(&mut out, p);
    }
    out
}

/// Appends one point in the chunk layout (also used by chunk summaries).
pub fn put_point(out: &mut Vec<u8>, p: &HistoryPoint) {
    out.extend_from_slice(&p.step.to_le_bytes());
    out.extend_from_slice(&p.timestamp.to_le_bytes());
    out.extend_from_slice(&canonical_bits(p.value.0).to_le_bytes());
}

/// Reads one point from exactly [`POINT_BYTES`] bytes.
pub fn get_point(raw: &[u8]) -> HistoryPoint {
    let word = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&raw[i * 8..i * 8 + 8]);
        b
    };
    HistoryPoint {
        step: i64::from_le_bytes(word(0)),
        timestamp: i64::from_le_bytes(word(1)),
        value: MetricValue(f64::from_bits(u64::from_le_bytes(word(2)))),
    }
}

/// Appends the points of `blob` to `out`.
pub fn decode_into(blob: &[u8], out: &mut Vec<HistoryPoint>) -> Result<()> {
    if !blob.len().is_multiple_of(POINT_BYTES) {
        return Err(Error::internal(format!(
            "corrupt metric chunk: {} bytes is not a multiple of {POINT_BYTES}",
            blob.len()
        )));
    }
    out.reserve(blob.len() / POINT_BYTES);
    out.extend(blob.chunks_exact(POINT_BYTES).map(get_point));
    Ok(())
}

pub fn sort_points(points: &mut [HistoryPoint]) {
    points.sort_by_key(|p| (p.step, p.timestamp));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_special_values() {
        let points: Vec<HistoryPoint> = [0.5, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0]
            .iter()
            .enumerate()
            .map(|(i, v)| HistoryPoint {
                step: i as i64 - 2,
                timestamp: 1_700_000_000_000 + i as i64,
                value: MetricValue(*v),
            })
            .collect();
        let mut back = Vec::new();
        decode_into(&encode(&points), &mut back).unwrap();
        assert_eq!(back.len(), 5);
        assert!(back[1].value.0.is_nan());
        assert_eq!(back[2].value.0, f64::INFINITY);
        assert_eq!(back[0].step, -2);
        assert_eq!(identity(&back[1]), identity(&points[1]));
    }

    #[test]
    fn refuses_truncated_blobs() {
        let mut out = Vec::new();
        assert!(decode_into(&[0u8; 25], &mut out).is_err());
    }
}
