//! Downsampled history reads (chunk summaries, migration 0007) against the
//! reference: `runlore_core::downsample` over the full history. The two
//! must agree point for point, bit for bit, for any history: out of order,
//! resent, with duplicate steps and timestamps, NaN, ±inf and ±0, in any
//! step range, and on a database summarised by the migration from
//! version 6.
#![allow(clippy::unwrap_used)]

mod layouts;

use std::path::Path;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use runlore_core::downsample::downsample;
use runlore_core::store::MetricRange;
use runlore_core::*;

/// One logged batch, described compactly so proptest shrinks it cheaply;
/// `points` expands it.
#[derive(Debug, Clone)]
struct Batch {
    start: i64,
    len: usize,
    /// 0 repeats one step (duplicate steps), 3 leaves gaps.
    stride: i64,
    /// 0: timestamp = step, 1: one timestamp for all, 2: pseudo-random.
    stamps: u8,
    /// 0: smooth, 1: few distinct values (ties), 2: with NaN, ±inf and ±0,
    /// 3: all NaN.
    values: u8,
    seed: u64,
    resend: bool,
}

fn batch() -> impl Strategy<Value = Batch> {
    (
        0i64..20_000,
        1usize..4_000,
        0i64..4,
        0u8..3,
        0u8..4,
        any::<u64>(),
        proptest::bool::weighted(0.2),
    )
        .prop_map(|(start, len, stride, stamps, values, seed, resend)| Batch {
            start,
            len,
            stride,
            stamps,
            values,
            seed,
            resend,
        })
}

fn points(b: &Batch) -> Vec<MetricPoint> {
    let mut x = b.seed | 1;
    let mut next = move || {
        // xorshift64: cheap, deterministic noise from the seed.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..b.len)
        .map(|i| {
            let step = b.start + i as i64 * b.stride;
            let r = next();
            let value = match b.values {
                0 => 1.0 / (step as f64 + 1.0) + (i % 17) as f64 * 1e-3,
                1 => (r % 5) as f64,
                2 => match r % 23 {
                    0 => f64::NAN,
                    1 => f64::INFINITY,
                    2 => f64::NEG_INFINITY,
                    3 => -0.0,
                    4 => 0.0,
                    _ => (r % 1_000) as f64 / 7.0 - 60.0,
                },
                _ => f64::NAN,
            };
            let timestamp = match b.stamps {
                0 => step,
                1 => 1_700_000_000_000,
                _ => (r >> 40) as i64 % 50,
            };
            MetricPoint {
                key: "m".into(),
                value: MetricValue(value),
                step,
                timestamp: Some(timestamp),
            }
        })
        .collect()
}

async fn log(store: &dyn MetadataStore, run: &RunId, metrics: Vec<MetricPoint>) {
    for part in metrics.chunks(50_000) {
        store
            .log_batch(
                run,
                LogBatch {
                    metrics: part.to_vec(),
                    ..LogBatch::default()
                },
            )
            .await
            .unwrap();
    }
}

fn bits(points: &[HistoryPoint]) -> Vec<(i64, i64, u64)> {
    points
        .iter()
        .map(|p| (p.step, p.timestamp, p.value.0.to_bits()))
        .collect()
}

/// Compares the store's downsampled read with downsampling its full read.
async fn check(
    store: &dyn MetadataStore,
    run: &RunId,
    start_step: Option<i64>,
    end_step: Option<i64>,
    max_points: usize,
) -> Result<(), String> {
    let range = MetricRange {
        key: "m".into(),
        start_step,
        end_step,
    };
    let full = store.metric_history(run, range.clone()).await.unwrap();
    let got = store
        .downsampled_history(run, range, max_points)
        .await
        .unwrap();
    let want = if full.len() > max_points {
        downsample(&full, max_points)
    } else {
        full.clone()
    };
    if got.total != full.len() || bits(&got.points) != bits(&want) {
        let first_diff = bits(&got.points)
            .iter()
            .zip(bits(&want))
            .position(|(a, b)| *a != b);
        return Err(format!(
            "range {start_step:?}..={end_step:?}, max {max_points}: total {} vs {}, {} vs {} points, first difference at {first_diff:?}",
            got.total,
            full.len(),
            got.points.len(),
            want.len()
        ));
    }
    Ok(())
}

/// Small bucket counts make buckets of hundreds of points, which the
/// summaries serve; larger ones take the decode-everything path.
const MAX_POINTS: [usize; 9] = [2, 3, 4, 7, 10, 21, 40, 300, 5_000];

#[test]
fn random_histories_match_the_full_downsampler() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    // Fixed seed: the same histories on every run.
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let plan = (
        proptest::collection::vec(batch(), 1..8),
        proptest::collection::vec((any::<Option<u16>>(), any::<Option<u16>>()), 3),
    );
    let result = runner.run(&plan, |(batches, ranges)| {
        runtime.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let store = runlore_store::open_data_dir(dir.path()).unwrap();
            let run = store.create_run(NewRun::default()).await.unwrap().id;
            for b in &batches {
                log(store.as_ref(), &run, points(b)).await;
                if b.resend {
                    log(store.as_ref(), &run, points(b)).await;
                }
            }
            let mut queries = vec![(None, None)];
            queries.extend(ranges.iter().map(|(a, b)| {
                let (a, b) = (a.map(i64::from), b.map(i64::from));
                match (a, b) {
                    (Some(a), Some(b)) if a > b => (Some(b), Some(a)),
                    other => other,
                }
            }));
            for (start, end) in queries {
                for max in MAX_POINTS {
                    check(store.as_ref(), &run, start, end, max)
                        .await
                        .map_err(TestCaseError::fail)?;
                }
            }
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

fn db(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join(runlore_store::SQLITE_FILE)).unwrap()
}

/// An in-order history, several out-of-order overlapping batches and
/// special values, in a store at `dir`.
async fn mixed_history(store: &Arc<dyn MetadataStore>) -> RunId {
    let run = store.create_run(NewRun::default()).await.unwrap().id;
    let batches = [
        (0, 30_000, 1, 0, 0),
        (40_000, 9_000, 1, 2, 2),
        (30_000, 4_000, 3, 0, 1),
        (35_000, 2_000, 0, 1, 2),
        (10_000, 3_000, 1, 0, 2),
        (50_000, 5_000, 1, 0, 3),
    ];
    for (i, (start, len, stride, stamps, values)) in batches.into_iter().enumerate() {
        let b = Batch {
            start,
            len,
            stride,
            stamps,
            values,
            seed: 7 + i as u64,
            resend: false,
        };
        log(store.as_ref(), &run, points(&b)).await;
    }
    run
}

async fn check_all(store: &dyn MetadataStore, run: &RunId) {
    for (start, end) in [
        (None, None),
        (Some(5_000), None),
        (None, Some(41_234)),
        (Some(9_999), Some(36_001)),
    ] {
        for max in MAX_POINTS {
            check(store, run, start, end, max).await.unwrap();
        }
    }
}
