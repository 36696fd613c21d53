#![allow(clippy::unwrap_used)] // test helpers panic on failure by design
//! Search on the throwaway PostgreSQL cluster answers as SQLite does: the
//! same runs (same client-chosen ids, created in the same order) in both
//! stores, then every filter and order below read page by page through the
//! cursors on both, compared run for run. The filters cover every field
//! kind and operator, NaN and missing values, feature values of every JSON
//! type, LIKE patterns with SQL's and GLOB's special characters, and the
//! lifecycle views.

#[allow(dead_code)] // each test binary uses part of it
mod pg_support;

use std::collections::BTreeMap;
use std::sync::Arc;

use pg_support::FreshDb;
use runlore_core::filter::{parse_filter, parse_order_by};
use runlore_core::store::RunQuery;
use runlore_core::*;
use runlore_store::PostgresStore;
use serde_json::json;

fn new_run(i: i64) -> NewRun {
    let mut params = BTreeMap::new();
    if i % 11 != 0 {
        params.insert("g".to_owned(), format!("g{}", i % 3));
    }
    params.insert("h".to_owned(), format!("h{:03}", (i * 37) % 101));
    // Names with LIKE's and GLOB's special characters.
    let name = match i % 6 {
        0 => format!("r{i:03}"),
        1 => format!("R_{i:03}"),
        2 => format!("r%{i:03}"),
        3 => format!("r*[{i}]?"),
        4 => format!("r\\{i}"),
        _ => format!("Run {i}"),
    };
    NewRun {
        id: Some(RunId::parse(&format!("{:032x}", 0xabc0_0000 + i)).unwrap()),
        project: if i % 17 == 0 { "other" } else { "s" }.into(),
        experiment: Some(if i % 2 == 0 { "even" } else { "odd" }.into()),
        name: Some(name),
        user: Some(["ada", "Bob", ""][(i % 3) as usize].into()),
        start_time: Some(1_000 + (i * 7) % 50),
        params,
        tags: BTreeMap::from([("t".to_owned(), ["a", "b", "c"][(i % 5) as usize % 3].into())]),
        features: Some(match i % 5 {
            0 => {
                json!({"f": {"x": (i % 5) as f64 / 2.0 + (i % 3) as f64, "y": true}, "n": [1, i % 4]})
            }
            1 => {
                json!({"f": {"x": if i % 2 == 0 { "a" } else { "b" }}, "big": 12345678901234567i64})
            }
            2 => json!({"f": {"x": i % 3 == 0, "y": false}}),
            3 => json!({"f": {"x": i as f64 * 0.1}, "n": []}),
            _ => json!({"f": {"y": null}}),
        }),
        ..NewRun::default()
    }
}

fn batch(i: i64) -> LogBatch {
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
    if i % 19 == 0 {
        metrics.push(("inf", f64::INFINITY));
    }
    LogBatch {
        metrics: metrics
            .into_iter()
            .map(|(k, v)| MetricPoint {
                key: k.into(),
                value: MetricValue(v),
                step: 0,
                timestamp: Some(5),
            })
            .collect(),
        ..LogBatch::default()
    }
}

const FILTERS: &[&str] = &[
    "",
    "metrics.m > 1",
    "metrics.m <= 0.5 AND params.g = 'g1'",
    "metrics.m IS NULL",
    "metrics.m IS NOT NULL OR tags.t = 'c'",
    "metrics.inf > 1000000",
    "metrics.n != 0.5",
    "params.g IN ('g0', 'g2')",
    "params.g NOT IN ('g0')",
    "params.g IS NULL",
    "params.h >= 'h050' AND params.h < 'h080'",
    "tags.t != 'a'",
    "attributes.run_name LIKE 'r%'",
    "attributes.run_name LIKE 'R\\_%'",
    "attributes.run_name LIKE '%[%'",
    "attributes.run_name LIKE 'r_0%'",
    "attributes.run_name ILIKE 'r%'",
    "attributes.run_name LIKE '%\\\\%'",
    "attributes.user = 'ada'",
    "attributes.user ILIKE 'b%'",
    "attributes.start_time > 1020",
    "attributes.status = 'RUNNING'",
    "attributes.experiment_id IN ('1', '2', 'x')",
    "features.f.x > 0.5",
    "features.f.x = 'a'",
    "features.f.x >= 'a'",
    "features.f.x = 'true'",
    "features.f.x IN (1, 2.5, 0.5)",
    "features.f.x IN ('b', 'true')",
    "features.f.x != 1",
    "features.f.x IS NULL",
    "features.f.y IS NOT NULL",
    "features.n.1 = 3",
    "features.big = 12345678901234567",
    "features.f.x < 0.30000000000000004",
];

const ORDERS: &[&[&str]] = &[
    &[],
    &["metrics.m DESC"],
    &["metrics.m ASC", "params.h DESC"],
    &["params.g", "metrics.n DESC"],
    &["tags.t DESC", "attributes.start_time"],
    &["features.f.x"],
    &["features.f.x DESC", "attributes.run_name"],
    &["attributes.run_name DESC"],
    &["attributes.start_time"],
];

async fn all_pages(store: &dyn MetadataStore, mut query: RunQuery) -> Vec<RunId> {
    let mut ids = Vec::new();
    for _ in 0..200 {
        let page = store.search_runs(query.clone()).await.unwrap();
        ids.extend(page.items.into_iter().map(|r| r.id));
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => return ids,
        }
    }
    panic!("more than 200 pages");
}

async fn pg_pages(store: &PostgresStore, mut query: RunQuery) -> Vec<RunId> {
    let mut ids = Vec::new();
    for _ in 0..200 {
        let page = store.search_runs(query.clone()).await.unwrap();
        ids.extend(page.items.into_iter().map(|r| r.id));
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => return ids,
        }
    }
    panic!("more than 200 pages");
}

#[tokio::test]
async fn every_filter_and_order_answers_as_on_sqlite() {
    let Some(db) = FreshDb::create("search").await else {
        return;
    };
    let pg = PostgresStore::connect(&db.url).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sqlite: Arc<dyn MetadataStore> = runlore_store::open_data_dir(dir.path()).unwrap();
    for i in 0..200i64 {
        let a = pg.create_run(new_run(i)).await.unwrap();
        let b = sqlite.create_run(new_run(i)).await.unwrap();
        assert_eq!(a.experiment_id, b.experiment_id);
        pg.log_batch(&a.id, batch(i)).await.unwrap();
        sqlite.log_batch(&b.id, batch(i)).await.unwrap();
        if i % 23 == 0 {
            pg.set_run_lifecycle(&a.id, Lifecycle::Deleted)
                .await
                .unwrap();
            sqlite
                .set_run_lifecycle(&b.id, Lifecycle::Deleted)
                .await
                .unwrap();
        }
        if i % 9 == 0 {
            let patch = RunPatch {
                status: Some(RunStatus::Finished),
                ..RunPatch::default()
            };
            pg.update_run(&a.id, patch.clone()).await.unwrap();
            sqlite.update_run(&b.id, patch).await.unwrap();
        }
    }
    let mut compared = 0;
    for filter in FILTERS {
        for order in ORDERS {
            for (project, view, limit) in [
                (Some("s"), LifecycleView::Active, 23),
                (None, LifecycleView::All, 90),
            ] {
                let query = RunQuery {
                    project: project.map(str::to_owned),
                    filter: parse_filter(filter).unwrap(),
                    order_by: parse_order_by(order).unwrap(),
                    view,
                    limit,
                    ..RunQuery::default()
                };
                let expected = all_pages(sqlite.as_ref(), query.clone()).await;
                let got = pg_pages(&pg, query).await;
                assert_eq!(
                    got, expected,
                    "filter {filter:?} order {order:?} project {project:?}"
                );
                compared += 1;
            }
        }
    }
    assert_eq!(compared, FILTERS.len() * ORDERS.len() * 2);

    // A cursor is refused for another query, as on SQLite.
    let first = pg
        .search_runs(RunQuery {
            project: Some("s".into()),
            limit: 5,
            ..RunQuery::default()
        })
        .await
        .unwrap();
    let err = pg
        .search_runs(RunQuery {
            project: Some("other".into()),
            limit: 5,
            cursor: first.next_cursor,
            ..RunQuery::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    db.drop_db().await;
}
