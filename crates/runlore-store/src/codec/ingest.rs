//! The rules of logging a batch that do not depend on the database: which
//! points are new, which point becomes a key's latest value, what a param
//! conflict says, and the running summary of finite values.

use std::collections::{BTreeMap, HashSet};

use runlore_core::{Error, HistoryPoint, MetricPoint, RunId, ids};

use super::chunk;

/// A batch's points by metric key, stamped `now` where they carry no
/// timestamp.
pub fn by_key(metrics: Vec<MetricPoint>, now: i64) -> BTreeMap<String, Vec<HistoryPoint>> {
    let mut out: BTreeMap<String, Vec<HistoryPoint>> = BTreeMap::new();
    for p in metrics {
        out.entry(p.key).or_default().push(HistoryPoint {
            step: p.step,
            timestamp: p.timestamp.unwrap_or(now),
            value: p.value,
        });
    }
    out
}

/// Sorts a key's points by identity and drops repeats within the batch.
pub fn dedup(points: &mut Vec<HistoryPoint>) {
    points.sort_by_key(chunk::identity);
    points.dedup_by(|a, b| chunk::identity(a) == chunk::identity(b));
}

/// Drops the points identical to stored ones (`stored` are the points of
/// the chunks overlapping the batch's steps: the only ones that can match).
pub fn drop_stored<'a>(
    points: &mut Vec<HistoryPoint>,
    stored: impl Iterator<Item = &'a HistoryPoint>,
) {
    let seen: HashSet<_> = stored.map(chunk::identity).collect();
    if !seen.is_empty() {
        points.retain(|p| !seen.contains(&chunk::identity(p)));
    }
}

/// The batch's candidate for the latest value: the highest step, then the
/// latest timestamp, then the larger value (MLflow's rule).
pub fn latest_candidate(points: &[HistoryPoint]) -> Option<&HistoryPoint> {
    let rank = |p: &HistoryPoint| (p.step, p.timestamp, p.value.0);
    points.iter().max_by(|a, b| {
        rank(a)
            .partial_cmp(&rank(b))
            .unwrap_or(std::cmp::Ordering::Equal)
    })
}

/// Whether `best` replaces the stored latest `(step, timestamp, value)`
/// (`value` is `None` for a stored NaN).
pub fn replaces_latest(best: &HistoryPoint, current: Option<(i64, i64, Option<f64>)>) -> bool {
    match current {
        None => true,
        Some((step, ts, value)) => {
            (best.step, best.timestamp) > (step, ts)
                || ((best.step, best.timestamp) == (step, ts)
                    && value.is_some_and(|v| best.value.0 > v))
        }
    }
}

/// Params are written once: the refusal for a different value.
pub fn param_conflict(id: &RunId, key: &str, stored: &str, sent: &str) -> Error {
    Error::conflict(format!(
        "param '{key}' of run '{id}' is already '{}' and params cannot change (got '{}')",
        ids::truncate_for_message(stored),
        ids::truncate_for_message(sent)
    ))
}

/// Count, sum, min and max of the finite values among `points`.
pub fn fold_finite(points: &[HistoryPoint]) -> (i64, f64, Option<f64>, Option<f64>) {
    points
        .iter()
        .map(|p| p.value.0)
        .filter(|v| v.is_finite())
        .fold((0, 0.0, None, None), |(n, sum, lo, hi), v| {
            (
                n + 1,
                sum + v,
                Some(lo.map_or(v, |lo: f64| lo.min(v))),
                Some(hi.map_or(v, |hi: f64| hi.max(v))),
            )
        })
}
