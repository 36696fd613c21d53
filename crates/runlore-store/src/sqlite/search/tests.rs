//! The plans must agree: every page the ordered or grouped scan completes is
//! the page the set plan (the reference) gives. The data set is small, so
//! the grouped scan runs with tiny group thresholds to walk its groups.

use std::collections::BTreeMap;

use runlore_core::filter::{parse_filter, parse_order_by};
use runlore_core::store::RunQuery;
use runlore_core::{
    Lifecycle, LifecycleView, LogBatch, MetadataStore, MetricPoint, MetricValue, NewRun,
};
use rusqlite::Connection;

use super::grouped::{Grouped, grouped_scan};
use super::{ordered_scan, set_plan};
use crate::sqlite::SqliteStore;

/// 240 runs: `g` with three values (missing on some), `h` with many,
/// metrics `m` (ties, NaN and missing) and `n`, tag `t`, start times with
/// ties; some runs in another project, some deleted.
async fn populate(store: &SqliteStore) {
    for i in 0..240i64 {
        let mut params = BTreeMap::new();
        if i % 11 != 0 {
            params.insert("g".to_owned(), format!("g{}", i % 3));
        }
        params.insert("h".to_owned(), format!("h{:03}", (i * 37) % 101));
        let run = store
            .create_run(NewRun {
                project: if i % 17 == 0 { "other" } else { "s" }.into(),
                name: Some(format!("r{i:03}")),
                start_time: Some(1_000 + (i * 7) % 50),
                params,
                tags: BTreeMap::from([(
                    "t".to_owned(),
                    ["a", "b", "c"][(i % 5) as usize % 3].into(),
                )]),
                // Feature `f.x` of every JSON type, with ties, or missing.
                features: Some(match i % 4 {
                    0 => serde_json::json!({"f": {"x": (i % 5) as f64 / 2.0, "y": true}}),
                    1 => serde_json::json!({"f": {"x": if i % 2 == 0 { "a" } else { "b" }}}),
                    2 => serde_json::json!({"f": {"x": i % 3 == 0, "y": false}}),
                    _ => serde_json::json!({"f": {"y": null}}),
                }),
                ..NewRun::default()
            })
            .await
            .expect("run");
        let mut metrics = Vec::new();
        if i % 7 != 0 {
            let m = if i % 13 == 0 {
                f64::NAN
            } else {
                ((i * 5) % 9) as f64 / 4.0
            };
            metrics.push(("m", m));
        }
        metrics.push(("n", ((i * 31) % 97) as f64 / 97.0));
        let metrics = metrics
            .into_iter()
            .map(|(k, v)| MetricPoint {
                key: k.into(),
                value: MetricValue(v),
                step: 0,
                timestamp: Some(1),
            })
            .collect();
        store
            .log_batch(
                &run.id,
                LogBatch {
                    metrics,
                    ..LogBatch::default()
                },
            )
            .await
            .expect("log");
        if i % 19 == 0 {
            store
                .set_run_lifecycle(&run.id, Lifecycle::Deleted)
                .await
                .expect("delete");
        }
    }
}

const ORDERS: &[&[&str]] = &[
    &["params.g", "metrics.m DESC"],
    &["params.g DESC", "metrics.m"],
    &["params.g", "metrics.m DESC", "params.h DESC"],
    &["params.g", "params.h"],
    &["params.g", "start_time DESC"],
    &["params.g", "name"],
    &["params.g", "params.g DESC"],
    &["tags.t DESC", "metrics.n"],
    &["tags.t", "metrics.m", "name DESC"],
    &["metrics.m", "params.g"],
    &["metrics.m DESC", "tags.t DESC"],
    &["start_time", "metrics.m DESC"],
    &["start_time DESC", "params.h"],
    &["metrics.n", "metrics.m"],
    &["features.f.x", "metrics.m DESC"],
    &["features.f.x DESC", "params.h"],
    &["metrics.n", "features.f.x"],
    &["params.g", "features.f.x DESC"],
];

const FILTERS: &[&str] = &[
    "",
    "params.g IN ('g0', 'g2')",
    "params.g = 'g1' AND metrics.m > 0.5",
    "metrics.m >= 0.75 AND metrics.n < 0.6",
    "metrics.n < 0.1 OR tags.t = 'b'",
    "metrics.m IS NULL",
    "params.g != 'g1' AND tags.t LIKE 'a%'",
    "params.h > 'h050' AND params.g NOT IN ('g0')",
    "metrics.n > 2",
    "features.f.x > 0.5",
    "features.f.x = 'a' OR features.f.y = 'true'",
    "features.f.x IS NULL",
    "features.f.x IN (1, 2) AND params.g = 'g0'",
    "features.f.x >= 'b'",
];

#[tokio::test]
async fn every_plan_gives_the_set_plans_pages() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("runlore.db");
    let store = SqliteStore::open(&path).expect("store");
    populate(&store).await;
    let conn = Connection::open(&path).expect("connection");
    let (mut grouped_pages, mut ordered_pages, mut compared) = (0, 0, 0);
    for order in ORDERS {
        for filter in FILTERS {
            for view in [LifecycleView::Active, LifecycleView::All] {
                let query = RunQuery {
                    project: (view == LifecycleView::Active).then(|| "s".to_owned()),
                    filter: parse_filter(filter).expect("filter"),
                    order_by: parse_order_by(order).expect("order"),
                    view,
                    ..RunQuery::default()
                };
                for (want, offset) in [(11, 0), (11, 7), (30, 40), (500, 0)] {
                    let expected = set_plan(&conn, &query, want, offset).expect("set plan");
                    let case = format!("{order:?} {filter:?} {view:?} {want}+{offset}");
                    for min_group in [1, 4, 30] {
                        match grouped_scan(&conn, &query, want, offset, min_group).expect("grouped")
                        {
                            Grouped::Page(keys) => {
                                assert_eq!(keys, expected, "grouped({min_group}) {case}");
                                grouped_pages += 1;
                            }
                            Grouped::Ordered | Grouped::SetPlan => {}
                        }
                    }
                    if let Some(keys) = ordered_scan(&conn, &query, want, offset).expect("ordered")
                    {
                        assert_eq!(keys, expected, "ordered {case}");
                        ordered_pages += 1;
                    }
                    compared += 1;
                }
            }
        }
    }
    // Most cases must have been answered by the scans, or the comparison
    // says little.
    assert!(grouped_pages > compared, "{grouped_pages} of {compared}");
    assert!(
        ordered_pages > compared / 3,
        "{ordered_pages} of {compared}"
    );
}
