//! Store-level benchmarks (no HTTP): history reads of a 1M-point metric and
//! run search over 100,000 runs. `cargo bench -p runlore-store`; the HTTP
//! figures come from `cargo xtask bench`.

use std::collections::BTreeMap;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use runlore_core::downsample::downsample;
use runlore_core::filter::{parse_filter, parse_order_by};
use runlore_core::store::{MetricRange, RunQuery};
use runlore_core::*;

const HISTORY_POINTS: i64 = 1_000_000;
const SEARCH_RUNS: usize = 100_000;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn open() -> (tempfile::TempDir, Arc<dyn MetadataStore>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = runlore_store::open_data_dir(dir.path()).expect("store");
    (dir, store)
}

fn history(c: &mut Criterion) {
    let rt = runtime();
    let (_dir, store) = open();
    let id = rt.block_on(async {
        let run = store.create_run(NewRun::default()).await.expect("run");
        for chunk in 0..HISTORY_POINTS / 10_000 {
            let metrics = (chunk * 10_000..(chunk + 1) * 10_000)
                .map(|s| MetricPoint {
                    key: "loss".into(),
                    value: MetricValue(1.0 / (s + 1) as f64),
                    step: s,
                    timestamp: Some(1_700_000_000_000 + s),
                })
                .collect();
            store
                .log_batch(
                    &run.id,
                    LogBatch {
                        metrics,
                        ..Default::default()
                    },
                )
                .await
                .expect("log");
        }
        run.id
    });
    let range = MetricRange {
        key: "loss".into(),
        ..Default::default()
    };
    let mut group = c.benchmark_group("history_1m");
    group.sample_size(20);
    group.bench_function("full_read", |b| {
        b.iter(|| {
            rt.block_on(store.metric_history(&id, range.clone()))
                .expect("history")
        })
    });
    // What the server does for `max_points=2000`: chunk summaries, and
    // only the blocks a bucket boundary cuts are decoded.
    group.bench_function("downsampled_2000", |b| {
        b.iter(|| {
            rt.block_on(store.downsampled_history(&id, range.clone(), 2000))
                .expect("downsampled history")
        })
    });
    // The reference it must equal: every point decoded, then downsampled.
    group.bench_function("downsampled_2000_full_decode", |b| {
        b.iter(|| {
            let points = rt
                .block_on(store.metric_history(&id, range.clone()))
                .expect("history");
            downsample(&points, 2000)
        })
    });
    group.finish();
}

fn search(c: &mut Criterion) {
    let rt = runtime();
    let (_dir, store) = open();
    rt.block_on(async {
        for i in 0..SEARCH_RUNS {
            let lr = ["0.01", "0.03", "0.1", "0.3"][i % 4];
            let run = store
                .create_run(NewRun {
                    project: "bench".into(),
                    name: Some(format!("run-{i}")),
                    params: BTreeMap::from([("lr".into(), lr.into())]),
                    tags: BTreeMap::from([("team".into(), ["vision-a", "nlp"][i % 2].into())]),
                    ..NewRun::default()
                })
                .await
                .expect("run");
            let acc = ((i as u64).wrapping_mul(2_654_435_761) % 10_000) as f64 / 10_000.0;
            let loss = ((i as u64).wrapping_mul(40_503) % 10_000) as f64 / 10_000.0;
            let metrics = [("acc", acc), ("loss", loss)]
                .into_iter()
                .map(|(k, v)| MetricPoint {
                    key: k.into(),
                    value: MetricValue(v),
                    step: 1,
                    timestamp: Some(1),
                })
                .collect();
            store
                .log_batch(
                    &run.id,
                    LogBatch {
                        metrics,
                        ..Default::default()
                    },
                )
                .await
                .expect("log");
        }
    });
    let mut group = c.benchmark_group("search_100k");
    group.sample_size(20);
    for (name, filter, order) in [
        (
            "broad_filter_order_by_metric",
            "metrics.acc > 0.5 AND params.lr = '0.01'",
            "metrics.loss DESC",
        ),
        (
            "selective_filter_order_by_metric",
            "metrics.acc > 0.999 AND params.lr = '0.01'",
            "metrics.loss DESC",
        ),
        (
            "tag_like_or_default_order",
            "tags.team LIKE 'vision%' OR metrics.loss < 0.1",
            "start_time DESC",
        ),
        ("two_order_keys", "params.lr IN ('0.1', '0.3')", "params.lr"),
    ] {
        let mut order_by = parse_order_by(&[order]).expect("order");
        if name == "two_order_keys" {
            order_by.extend(parse_order_by(&["metrics.acc DESC"]).expect("order"));
        }
        let query = RunQuery {
            project: Some("bench".into()),
            filter: parse_filter(filter).expect("filter"),
            order_by,
            limit: 100,
            ..Default::default()
        };
        group.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(store.search_runs(query.clone()))
                    .expect("search")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, history, search);
criterion_main!(benches);
