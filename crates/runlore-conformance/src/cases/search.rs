//! Conformance cases: search.

use std::sync::Arc;

use runlore_core::filter::parse_order_by;
use runlore_core::store::RunQuery;
use runlore_core::*;

use crate::support::{self, batch, new_run, point};

pub async fn special_values_survive_storage(store: Arc<dyn MetadataStore>) {
    let run = new_run(store.as_ref(), "p", "r").await;
    let points = vec![
        point("nan", 0, 1, f64::NAN),
        point("inf", 0, 1, f64::INFINITY),
        point("ninf", 0, 1, f64::NEG_INFINITY),
    ];
    store
        .log_batch(&run.id, batch(points.clone()))
        .await
        .unwrap();
    let again = store.log_batch(&run.id, batch(points)).await.unwrap();
    assert_eq!(again.metrics_duplicate, 3, "NaN re-sent is a duplicate too");
    let run = store.get_run(&run.id).await.unwrap();
    let value = |k: &str| run.metrics.iter().find(|m| m.key == k).unwrap().value.0;
    assert!(value("nan").is_nan());
    assert_eq!(value("inf"), f64::INFINITY);
    assert_eq!(value("ninf"), f64::NEG_INFINITY);
}

async fn search(store: &Arc<dyn MetadataStore>, filter: &str, order: &[&str]) -> Vec<String> {
    support::search_in(store, "s", filter, order).await
}

pub async fn search_filters_orders_and_pages_in_sql(store: Arc<dyn MetadataStore>) {
    for (i, (acc, lr, team)) in [
        (Some(0.9), "0.01", "vision-a"),
        (Some(0.4), "0.01", "Vision-b"),
        (Some(0.7), "0.1", "nlp"),
        (None, "0.01", "vision-c"),
    ]
    .iter()
    .enumerate()
    {
        let run = new_run(store.as_ref(), "s", &format!("r{i}")).await;
        let mut b = LogBatch::default();
        if let Some(acc) = acc {
            b.metrics.push(point("acc", 1, 1, *acc));
        }
        b.params.insert("lr".into(), (*lr).into());
        b.tags.insert("team.name".into(), (*team).into());
        store.log_batch(&run.id, b).await.unwrap();
    }
    let finished = store
        .search_runs(RunQuery {
            project: Some("s".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    store
        .update_run(
            &finished.items[0].id,
            RunPatch {
                status: Some(RunStatus::Finished),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    assert_eq!(
        search(&store, "metrics.acc > 0.5", &["metrics.acc DESC"]).await,
        ["r0", "r2"]
    );
    assert_eq!(
        search(
            &store,
            "params.lr = '0.01' AND tags.`team.name` LIKE 'vision%'",
            &["name"]
        )
        .await,
        ["r0", "r3"],
        "LIKE is case-sensitive"
    );
    assert_eq!(
        search(&store, "tags.`team.name` ILIKE 'vision%'", &["name"]).await,
        ["r0", "r1", "r3"]
    );
    assert_eq!(
        search(&store, "metrics.acc < 0.5 OR params.lr = '0.1'", &["name"]).await,
        ["r1", "r2"]
    );
    assert_eq!(search(&store, "metrics.acc IS NULL", &[]).await, ["r3"]);
    assert_eq!(
        search(&store, "params.lr IN ('0.1', '0.5')", &[]).await,
        ["r2"]
    );
    assert_eq!(
        search(&store, "attributes.status = 'FINISHED'", &[]).await,
        ["r3"]
    );
    assert_eq!(
        search(
            &store,
            "(metrics.acc >= 0.4 AND metrics.acc <= 0.7) AND attributes.status IN ('RUNNING')",
            &["metrics.acc"]
        )
        .await,
        ["r1", "r2"]
    );
    // Missing keys sort last in both directions.
    assert_eq!(
        search(&store, "", &["metrics.acc ASC"]).await,
        ["r1", "r2", "r0", "r3"]
    );
    assert_eq!(
        search(&store, "", &["metrics.acc DESC"]).await,
        ["r0", "r2", "r1", "r3"]
    );
    assert_eq!(
        search(&store, "", &["params.lr DESC", "metrics.acc DESC"]).await,
        ["r2", "r0", "r1", "r3"]
    );
}

pub async fn search_pages_cover_every_run_once(store: Arc<dyn MetadataStore>) {
    for i in 0..25 {
        let run = new_run(store.as_ref(), "s", &format!("r{i:02}")).await;
        store
            .log_batch(&run.id, batch(vec![point("m", 0, 1, (i % 5) as f64)]))
            .await
            .unwrap();
    }
    let runs = support::all_pages(&store, "s", "metrics.m DESC", 4).await;
    let values: Vec<f64> = runs.iter().map(|r| r.metrics[0].value.0).collect();
    let names: Vec<String> = runs.into_iter().map(|r| r.name).collect();
    assert_eq!(names.len(), 25);
    assert!(values.windows(2).all(|w| w[0] >= w[1]), "{values:?}");
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 25);
    let garbage = store
        .search_runs(RunQuery {
            cursor: Some("not-a-cursor".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(garbage.kind(), ErrorKind::InvalidArgument);
}

pub async fn pages_ordered_by_several_keys_match_the_expected_order(store: Arc<dyn MetadataStore>) {
    let mut expected = Vec::new();
    for i in 0..30i64 {
        let run = new_run(store.as_ref(), "s", &format!("r{i:02}")).await;
        let mut b = LogBatch::default();
        b.params.insert("group".into(), format!("g{}", i % 3));
        if i % 7 != 0 {
            b.metrics.push(point("m", 0, 1, (i % 4) as f64));
        }
        store.log_batch(&run.id, b).await.unwrap();
        expected.push((
            format!("g{}", i % 3),
            (i % 7 != 0).then_some(i % 4),
            i,
            run.name,
        ));
    }
    // group ASC, then m DESC with missing m last, then creation order.
    expected.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(a.1.is_none().cmp(&b.1.is_none()))
            .then(b.1.cmp(&a.1))
            .then(a.2.cmp(&b.2))
    });
    let expected: Vec<String> = expected.into_iter().map(|e| e.3).collect();
    let mut names = Vec::new();
    let mut cursor = None;
    for _ in 0..20 {
        let page = store
            .search_runs(RunQuery {
                project: Some("s".into()),
                order_by: parse_order_by(&["params.group", "metrics.m DESC"]).unwrap(),
                limit: 4,
                cursor: cursor.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        names.extend(page.items.into_iter().map(|r| r.name));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(names, expected);
}
