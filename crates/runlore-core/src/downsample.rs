//! Deterministic downsampling of a metric history for charts.
//!
//! The interior points are cut into equal-width buckets by index; each bucket
//! contributes its minimum and its maximum (in step order), and the first and
//! last points are always kept. Spikes therefore survive (a loss blow-up is
//! never averaged away) and the same input always gives the same output, so
//! a chart does not flicker between requests.

use crate::model::HistoryPoint;

/// Returns at most `max_points` points (never fewer than the first and the
/// last). Input must be ordered by step; output keeps that order.
pub fn downsample(points: &[HistoryPoint], max_points: usize) -> Vec<HistoryPoint> {
    let max_points = max_points.max(2);
    let n = points.len();
    if n <= max_points {
        return points.to_vec();
    }
    let (first, last) = (points[0], points[n - 1]);
    let interior = &points[1..n - 1];
    let buckets = ((max_points - 2) / 2).max(1);
    let mut out = Vec::with_capacity(buckets * 2 + 2);
    out.push(first);
    for b in 0..buckets {
        let lo = b * interior.len() / buckets;
        let hi = (b + 1) * interior.len() / buckets;
        if lo == hi {
            continue;
        }
        let (min_i, max_i) = extremes(&interior[lo..hi]);
        let (a, z) = if min_i <= max_i {
            (min_i, max_i)
        } else {
            (max_i, min_i)
        };
        out.push(interior[lo + a]);
        if z != a {
            out.push(interior[lo + z]);
        }
    }
    out.push(last);
    out
}

/// Index of the minimum and of the maximum; NaN never wins unless the bucket
/// holds nothing else (then the first point stands for it).
fn extremes(bucket: &[HistoryPoint]) -> (usize, usize) {
    let mut min_i: Option<usize> = None;
    let mut max_i: Option<usize> = None;
    for (i, p) in bucket.iter().enumerate() {
        let v = p.value.0;
        if v.is_nan() {
            continue;
        }
        if min_i.is_none_or(|m| v < bucket[m].value.0) {
            min_i = Some(i);
        }
        if max_i.is_none_or(|m| v > bucket[m].value.0) {
            max_i = Some(i);
        }
    }
    (min_i.unwrap_or(0), max_i.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MetricValue;

    fn series(values: &[f64]) -> Vec<HistoryPoint> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| HistoryPoint {
                step: i as i64,
                timestamp: i as i64,
                value: MetricValue(*v),
            })
            .collect()
    }

    #[test]
    fn short_series_are_returned_whole() {
        let s = series(&[1.0, 2.0, 3.0]);
        assert_eq!(downsample(&s, 10), s);
    }

    #[test]
    fn keeps_first_last_and_spikes_within_budget() {
        let mut values: Vec<f64> = (0..100_000).map(|i| (i as f64).sin()).collect();
        values[54_321] = 1e9;
        values[77_777] = -1e9;
        let s = series(&values);
        let d = downsample(&s, 2_000);
        assert!(d.len() <= 2_000);
        assert_eq!(d.first(), s.first());
        assert_eq!(d.last(), s.last());
        assert!(d.iter().any(|p| p.step == 54_321));
        assert!(d.iter().any(|p| p.step == 77_777));
        assert!(d.windows(2).all(|w| w[0].step < w[1].step));
        assert_eq!(d, downsample(&s, 2_000), "deterministic");
    }

    #[test]
    fn nan_does_not_hide_real_extremes() {
        let s = series(&[0.0, f64::NAN, 5.0, -5.0, f64::NAN, 1.0, 2.0, 3.0]);
        let d = downsample(&s, 4);
        assert!(d.iter().any(|p| p.value.0 == 5.0));
        assert!(d.iter().any(|p| p.value.0 == -5.0));
    }
}
