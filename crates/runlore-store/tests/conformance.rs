#![allow(clippy::unwrap_used)] // test helpers panic on failure by design
//! The store conformance suite, on real SQLite files. Every backend must
//! pass it; the checks take `&dyn MetadataStore` so PostgreSQL can reuse them.

use std::collections::BTreeMap;
use std::sync::Arc;

use runlore_core::filter::parse_order_by;
use runlore_core::store::{ExperimentQuery, MetricRange, RunQuery};
use runlore_core::*;

mod support;

use support::open;

fn point(key: &str, step: i64, ts: i64, value: f64) -> MetricPoint {
    MetricPoint {
        key: key.into(),
        value: MetricValue(value),
        step,
        timestamp: Some(ts),
    }
}

fn batch(points: Vec<MetricPoint>) -> LogBatch {
    LogBatch {
        metrics: points,
        ..LogBatch::default()
    }
}

async fn new_run(store: &dyn MetadataStore, project: &str, name: &str) -> Run {
    store
        .create_run(NewRun {
            project: project.into(),
            experiment: Some("exp".into()),
            name: Some(name.into()),
            ..NewRun::default()
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn default_project_and_experiment_exist() {
    let (_dir, store) = open();
    let default = store.get_experiment(ExperimentId::DEFAULT).await.unwrap();
    assert_eq!(default.name, DEFAULT_EXPERIMENT);
    assert_eq!(default.project, DEFAULT_PROJECT);
    let err = store
        .set_experiment_lifecycle(ExperimentId::DEFAULT, Lifecycle::Deleted)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}

#[tokio::test]
async fn projects_are_created_listed_and_archived() {
    let (_dir, store) = open();
    let p = store
        .create_project(NewProject {
            name: "vit".into(),
            description: "ViT on ImageNet".into(),
        })
        .await
        .unwrap();
    assert_eq!(p.lifecycle, Lifecycle::Active);
    let dup = store
        .create_project(NewProject {
            name: "vit".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(dup.unwrap_err().kind(), ErrorKind::AlreadyExists);
    let bad = store
        .create_project(NewProject {
            name: "a b".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(bad.unwrap_err().kind(), ErrorKind::InvalidArgument);

    store
        .set_project_lifecycle("vit", Lifecycle::Archived)
        .await
        .unwrap();
    let active: Vec<_> = store.list_projects(LifecycleView::Active).await.unwrap();
    assert!(active.iter().all(|p| p.name != "vit"));
    let archived = store.list_projects(LifecycleView::Inactive).await.unwrap();
    assert_eq!(archived.len(), 1);
    store
        .set_project_lifecycle("vit", Lifecycle::Active)
        .await
        .unwrap();
    assert_eq!(
        store.get_project("vit").await.unwrap().description,
        "ViT on ImageNet"
    );
    let missing = store.get_project("nope").await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    assert!(missing.message().contains("nope"));
}

#[tokio::test]
async fn experiments_rename_delete_restore_and_page() {
    let (_dir, store) = open();
    let mut ids = Vec::new();
    for i in 0..5 {
        let e = store
            .create_experiment(NewExperiment {
                project: "p".into(),
                name: format!("sweep-{i}"),
                tags: BTreeMap::from([("k".into(), "v".into())]),
                ..Default::default()
            })
            .await
            .unwrap();
        ids.push(e.id);
    }
    let dup = store
        .create_experiment(NewExperiment {
            project: "p".into(),
            name: "sweep-0".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(dup.unwrap_err().kind(), ErrorKind::AlreadyExists);
    let renamed = store.rename_experiment(ids[0], "baseline").await.unwrap();
    assert_eq!(renamed.name, "baseline");
    assert_eq!(renamed.tags.get("k").map(String::as_str), Some("v"));
    let clash = store
        .rename_experiment(ids[1], "baseline")
        .await
        .unwrap_err();
    assert_eq!(clash.kind(), ErrorKind::AlreadyExists);

    store
        .set_experiment_lifecycle(ids[2], Lifecycle::Deleted)
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut cursor = None;
    for _ in 0..10 {
        let page = store
            .list_experiments(ExperimentQuery {
                project: Some("p".into()),
                limit: 2,
                cursor: cursor.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        seen.extend(page.items.into_iter().map(|e| e.id));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, vec![ids[0], ids[1], ids[3], ids[4]]);
    store
        .set_experiment_lifecycle(ids[2], Lifecycle::Active)
        .await
        .unwrap();
    let deleted_runs_refused = store.get_experiment_by_name("p", "sweep-2").await.unwrap();
    assert_eq!(deleted_runs_refused.lifecycle, Lifecycle::Active);

    let other_query = ExperimentQuery {
        project: Some("other".into()),
        cursor: Some(cursor_of(&store).await),
        ..Default::default()
    };
    assert_eq!(
        store
            .list_experiments(other_query)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
}

async fn cursor_of(store: &Arc<dyn MetadataStore>) -> String {
    store
        .list_experiments(ExperimentQuery {
            project: Some("p".into()),
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .next_cursor
        .unwrap()
}

#[tokio::test]
async fn runs_create_their_experiment_and_follow_status_rules() {
    let (_dir, store) = open();
    let run = store
        .create_run(NewRun {
            project: "vision".into(),
            experiment: Some("lr-sweep".into()),
            params: BTreeMap::from([("lr".into(), "0.01".into())]),
            tags: BTreeMap::from([("team".into(), "cv".into())]),
            ..NewRun::default()
        })
        .await
        .unwrap();
    assert_eq!(run.id.as_str().len(), 32);
    assert_eq!(run.status, RunStatus::Running);
    assert!(run.start_time.is_some() && run.end_time.is_none());
    assert!(!run.name.is_empty(), "a friendly name is generated");
    assert_eq!(run.experiment, "lr-sweep");
    assert_eq!(store.get_project("vision").await.unwrap().name, "vision");

    let done = store
        .update_run(
            &run.id,
            RunPatch {
                status: Some(RunStatus::Finished),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(done.end_time.is_some());
    assert_eq!(done.params.get("lr").map(String::as_str), Some("0.01"));

    store
        .set_run_lifecycle(&run.id, Lifecycle::Deleted)
        .await
        .unwrap();
    let refused = store
        .log_batch(&run.id, batch(vec![point("x", 0, 1, 1.0)]))
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::InvalidArgument);
    store
        .set_run_lifecycle(&run.id, Lifecycle::Active)
        .await
        .unwrap();
    store
        .log_batch(&run.id, batch(vec![point("x", 0, 1, 1.0)]))
        .await
        .unwrap();

    let unknown = RunId::generate();
    assert_eq!(
        store.get_run(&unknown).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let child = store
        .create_run(NewRun {
            parent_run_id: Some(run.id.clone()),
            ..NewRun::default()
        })
        .await
        .unwrap();
    assert_eq!(child.parent_run_id, Some(run.id.clone()));
    assert_eq!(child.experiment_id, ExperimentId::DEFAULT);
}

#[tokio::test]
async fn params_are_immutable_and_a_conflict_rejects_the_whole_batch() {
    let (_dir, store) = open();
    let run = new_run(store.as_ref(), "p", "r").await;
    let mut first = batch(vec![point("loss", 0, 1, 0.5)]);
    first.params.insert("lr".into(), "0.01".into());
    store.log_batch(&run.id, first.clone()).await.unwrap();
    let again = store.log_batch(&run.id, first).await.unwrap();
    assert_eq!(again.params_written, 0);
    assert_eq!(again.metrics_duplicate, 1);

    let mut conflicting = batch(vec![point("loss", 1, 2, 0.4)]);
    conflicting.params.insert("lr".into(), "0.02".into());
    conflicting.tags.insert("t".into(), "x".into());
    let err = store.log_batch(&run.id, conflicting).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(err.message().contains("lr"), "{}", err.message());
    let after = store.get_run(&run.id).await.unwrap();
    assert_eq!(after.params["lr"], "0.01");
    assert!(after.tags.is_empty());
    let history = store
        .metric_history(
            &run.id,
            MetricRange {
                key: "loss".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(history.len(), 1, "nothing of the rejected batch was stored");
}

#[tokio::test]
async fn history_is_sorted_deduplicated_and_range_readable() {
    let (_dir, store) = open();
    let run = new_run(store.as_ref(), "p", "r").await;
    // Enough points to span several chunks, sent in two overlapping batches
    // and out of order.
    let all: Vec<MetricPoint> = (0..5000)
        .map(|s| point("loss", s, 1000 + s, 1.0 / (s + 1) as f64))
        .collect();
    let mut second: Vec<MetricPoint> = all[3000..].to_vec();
    second.reverse();
    store
        .log_batch(&run.id, batch(all[..3500].to_vec()))
        .await
        .unwrap();
    let outcome = store.log_batch(&run.id, batch(second)).await.unwrap();
    assert_eq!(outcome.metrics_written, 1500);
    assert_eq!(outcome.metrics_duplicate, 500);
    let history = store
        .metric_history(
            &run.id,
            MetricRange {
                key: "loss".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(history.len(), 5000);
    assert!(history.windows(2).all(|w| w[0].step < w[1].step));
    let window = store
        .metric_history(
            &run.id,
            MetricRange {
                key: "loss".into(),
                start_step: Some(10),
                end_step: Some(19),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        window.iter().map(|p| p.step).collect::<Vec<_>>(),
        (10..20).collect::<Vec<_>>()
    );
    // A late point at an old step is kept; the same step with another
    // timestamp or value is a different point.
    store
        .log_batch(&run.id, batch(vec![point("loss", 10, 99_999, 7.0)]))
        .await
        .unwrap();
    let window = store
        .metric_history(
            &run.id,
            MetricRange {
                key: "loss".into(),
                start_step: Some(10),
                end_step: Some(10),
            },
        )
        .await
        .unwrap();
    assert_eq!(window.len(), 2);
    let latest = &store.get_run(&run.id).await.unwrap().metrics[0];
    assert_eq!((latest.step, latest.value.0), (4999, 1.0 / 5000.0));
    assert_eq!(
        store.metric_keys(&run.id).await.unwrap(),
        vec!["loss".to_string()]
    );
    let none = store
        .metric_history(
            &run.id,
            MetricRange {
                key: "nope".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn special_values_survive_storage() {
    let (_dir, store) = open();
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

#[tokio::test]
async fn search_filters_orders_and_pages_in_sql() {
    let (_dir, store) = open();
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

#[tokio::test]
async fn search_pages_cover_every_run_once() {
    let (_dir, store) = open();
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

#[tokio::test]
async fn data_survives_reopening_and_schema_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let store = runlore_store::open_data_dir(dir.path()).unwrap();
        let run = new_run(store.as_ref(), "p", "kept").await;
        store
            .log_batch(&run.id, batch(vec![point("loss", 0, 1, 0.5)]))
            .await
            .unwrap();
        run.id
    };
    let store = runlore_store::open_data_dir(dir.path()).unwrap();
    let run = store.get_run(&id).await.unwrap();
    assert_eq!(run.name, "kept");
    assert_eq!(run.metrics.len(), 1);
    drop(store);

    let db = rusqlite::Connection::open(dir.path().join(runlore_store::SQLITE_FILE)).unwrap();
    db.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)",
        [],
    )
    .unwrap();
    drop(db);
    let err = runlore_store::open_data_dir(dir.path()).err().unwrap();
    assert!(err.message().contains("999"), "{}", err.message());
}

#[tokio::test]
async fn pages_ordered_by_several_keys_match_the_expected_order() {
    let (_dir, store) = open();
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

#[tokio::test]
async fn a_client_chosen_id_makes_creation_repeatable() {
    let (_dir, store) = open();
    let id = RunId::parse("0123456789abcdef0123456789abcdef").unwrap();
    let new = || NewRun {
        id: Some(id.clone()),
        project: "sdk".into(),
        experiment: Some("offline".into()),
        name: Some("journaled".into()),
        params: BTreeMap::from([("lr".to_owned(), "0.1".to_owned())]),
        ..NewRun::default()
    };
    let first = store.create_run(new()).await.unwrap();
    assert_eq!(first.id, id);
    // A replayed creation returns the same run, untouched.
    store
        .log_batch(&id, batch(vec![point("loss", 0, 1, 0.5)]))
        .await
        .unwrap();
    let again = store.create_run(new()).await.unwrap();
    assert_eq!(again.id, id);
    assert_eq!(again.name, "journaled");
    assert_eq!(again.created_at, first.created_at);
    let page = store
        .search_runs(RunQuery {
            project: Some("sdk".into()),
            ..RunQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    // The same id in another experiment is someone else's run.
    let elsewhere = store
        .create_run(NewRun {
            experiment: Some("other".into()),
            ..new()
        })
        .await
        .unwrap_err();
    assert_eq!(elsewhere.kind(), ErrorKind::AlreadyExists);
}

#[tokio::test]
async fn components_are_replaced_by_name_and_need_reasons() {
    let (_dir, store) = open();
    let run = new_run(store.as_ref(), "p", "r").await;
    let report = |name: &str, status, reason: &str| ComponentReport {
        name: name.into(),
        status,
        reason: reason.into(),
    };
    let batch = LogBatch {
        components: vec![
            report("tau", ComponentStatus::Disabled, "use_tau=false"),
            report("eval", ComponentStatus::Failed, "OOM"),
        ],
        ..LogBatch::default()
    };
    let outcome = store.log_batch(&run.id, batch.clone()).await.unwrap();
    assert_eq!(outcome.components_written, 2);
    // A replay changes nothing; a new report for a name replaces it.
    store.log_batch(&run.id, batch).await.unwrap();
    let retry = LogBatch {
        components: vec![report("eval", ComponentStatus::Success, "")],
        ..LogBatch::default()
    };
    store.log_batch(&run.id, retry).await.unwrap();
    let got = store.get_run(&run.id).await.unwrap().components;
    let got: Vec<_> = got.iter().map(|c| (c.name.as_str(), c.status)).collect();
    assert_eq!(
        got,
        vec![
            ("eval", ComponentStatus::Success),
            ("tau", ComponentStatus::Disabled)
        ]
    );
    let silent = LogBatch {
        components: vec![report("plots", ComponentStatus::Failed, " ")],
        ..LogBatch::default()
    };
    let err = store.log_batch(&run.id, silent).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(
        err.message().contains("needs a reason"),
        "{}",
        err.message()
    );
    assert_eq!(store.get_run(&run.id).await.unwrap().components.len(), 2);
}

/// Random feature trees along random parents, then random re-parenting:
/// every run's stored diff, applied to its primary parent's features,
/// gives back exactly the features it was created with.
#[tokio::test]
async fn feature_diffs_replay_to_what_was_logged() {
    let (_dir, store) = open();
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mutate = |tree: &serde_json::Value, r: &mut dyn FnMut(u64) -> u64| {
        let mut tree = tree.clone();
        let map = tree.as_object_mut().unwrap();
        for _ in 0..1 + r(3) {
            let key = format!("k{}", r(6));
            match r(4) {
                0 => {
                    map.remove(&key);
                }
                1 => {
                    map.insert(
                        key,
                        serde_json::json!({"inner": r(100), "list": [r(5), r(5)]}),
                    );
                }
                2 => {
                    map.insert(key, serde_json::json!(r(1000) as f64 / 7.0));
                }
                _ => {
                    map.insert(key, serde_json::json!(format!("v{}", r(50))));
                }
            }
        }
        tree
    };
    let mut runs: Vec<(RunId, serde_json::Value)> = Vec::new();
    for i in 0..60 {
        let parent = (i > 0 && next(5) > 0).then(|| next(i as u64) as usize);
        let base = parent.map_or_else(|| serde_json::json!({}), |p| runs[p].1.clone());
        let features = mutate(&base, &mut next);
        let run = store
            .create_run(NewRun {
                project: "prop".into(),
                features: Some(features.clone()),
                parents: parent
                    .map(|p| {
                        vec![ParentLink {
                            run_id: runs[p].0.clone(),
                            kind: EdgeKind::DerivedFrom,
                            resume_step: None,
                        }]
                    })
                    .unwrap_or_default(),
                ..NewRun::default()
            })
            .await
            .unwrap();
        runs.push((run.id, features));
    }
    // Re-parent a third of them onto earlier runs (edges point back in
    // creation order, so no cycle can form).
    for i in 1..runs.len() {
        if next(3) == 0 {
            let p = next(i as u64) as usize;
            let link = ParentLink {
                run_id: runs[p].0.clone(),
                kind: EdgeKind::MergedFrom,
                resume_step: None,
            };
            store
                .set_run_parents(&runs[i].0, vec![link], "prop-test")
                .await
                .unwrap();
        }
    }
    for (id, logged) in &runs {
        let f = store.run_features(id).await.unwrap();
        assert_eq!(&f.full, logged);
        let base = match f.parents.first() {
            Some(p) => store.run_features(&p.run_id).await.unwrap().full,
            None => serde_json::json!({}),
        };
        assert_eq!(&runlore_core::graph::apply(&base, &f.diff).unwrap(), logged);
    }
}
