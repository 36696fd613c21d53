//! `HttpStore` against the real server, started in-process on port 0 over a
//! temporary data dir: every trait method, error mapping, and the filter
//! travelling as text.

// Test helpers outside #[test] functions unwrap too.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use runlore_client::HttpStore;
use runlore_core::filter::{parse_filter, parse_order_by};
use runlore_core::store::{ExperimentQuery, MetricRange, RunQuery};
use runlore_core::{
    ErrorKind, Lifecycle, LifecycleView, LogBatch, MetadataStore, MetricPoint, MetricValue,
    NewExperiment, NewProject, NewRun, RunId, RunPatch, RunStatus,
};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

struct Server {
    url: String,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

async fn start_server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let config = runlore_server::ServerConfig {
        data_dir: dir.path().join("data"),
        ..runlore_server::ServerConfig::default()
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
        };
        runlore_server::serve(config, listener, shutdown)
            .await
            .unwrap();
    });
    Server {
        url,
        stop,
        task,
        _dir: dir,
    }
}

fn point(key: &str, step: i64, value: f64) -> MetricPoint {
    MetricPoint {
        key: key.to_owned(),
        value: MetricValue(value),
        step,
        timestamp: Some(1_700_000_000_000 + step),
    }
}

#[tokio::test]
async fn projects_and_experiments_round_trip() {
    let server = start_server().await;
    let store = HttpStore::new(&server.url).unwrap();
    store.health().await.unwrap();

    let project = store
        .create_project(NewProject {
            name: "vision".into(),
            description: "Vision work".into(),
        })
        .await
        .unwrap();
    assert_eq!(project.lifecycle, Lifecycle::Active);
    let dup = store
        .create_project(NewProject {
            name: "vision".into(),
            description: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(dup.kind(), ErrorKind::AlreadyExists);
    assert_eq!(dup.message(), "project 'vision' already exists");
    let missing = store.get_project("nope").await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    assert_eq!(missing.message(), "project 'nope' not found");
    assert_eq!(store.get_project("vision").await.unwrap(), project);

    let archived = store
        .set_project_lifecycle("vision", Lifecycle::Archived)
        .await
        .unwrap();
    assert_eq!(archived.lifecycle, Lifecycle::Archived);
    let active = store.list_projects(LifecycleView::Active).await.unwrap();
    assert!(active.iter().all(|p| p.name != "vision"));
    let all = store.list_projects(LifecycleView::All).await.unwrap();
    assert!(all.iter().any(|p| p.name == "vision"));
    store
        .set_project_lifecycle("vision", Lifecycle::Active)
        .await
        .unwrap();

    let exp = store
        .create_experiment(NewExperiment {
            project: "vision".into(),
            name: "sweep one".into(),
            description: "lr sweep".into(),
            tags: BTreeMap::from([("goal".into(), "acc".into())]),
            artifact_location: None,
        })
        .await
        .unwrap();
    assert_eq!(store.get_experiment(exp.id).await.unwrap(), exp);
    assert_eq!(
        store
            .get_experiment_by_name("vision", "sweep one")
            .await
            .unwrap(),
        exp
    );
    let err = store
        .get_experiment_by_name("vision", "sweep")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let page = store
        .list_experiments(ExperimentQuery {
            project: Some("vision".into()),
            name_contains: Some("SWEEP".into()),
            ..ExperimentQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items, vec![exp.clone()]);

    let renamed = store.rename_experiment(exp.id, "sweep 1").await.unwrap();
    assert_eq!(renamed.name, "sweep 1");
    store
        .set_experiment_tag(exp.id, "owner/team", "ana")
        .await
        .unwrap();
    store.delete_experiment_tag(exp.id, "goal").await.unwrap();
    let tags = store.get_experiment(exp.id).await.unwrap().tags;
    assert_eq!(tags, BTreeMap::from([("owner/team".into(), "ana".into())]));

    let deleted = store
        .set_experiment_lifecycle(exp.id, Lifecycle::Deleted)
        .await
        .unwrap();
    assert_eq!(deleted.lifecycle, Lifecycle::Deleted);
    let restored = store
        .set_experiment_lifecycle(exp.id, Lifecycle::Active)
        .await
        .unwrap();
    assert_eq!(restored.lifecycle, Lifecycle::Active);

    server.stop.send(()).unwrap();
    server.task.await.unwrap();
    let gone = store.get_project("vision").await.unwrap_err();
    assert_eq!(gone.kind(), ErrorKind::Unavailable, "{gone}");
}

#[tokio::test]
async fn runs_metrics_and_search() {
    let server = start_server().await;
    let store = HttpStore::new(&server.url).unwrap();
    let mut ids: Vec<RunId> = Vec::new();
    for (i, lr) in ["0.01", "0.02", "0.03"].into_iter().enumerate() {
        let run = store
            .create_run(NewRun {
                project: "vision".into(),
                experiment: Some("sweep".into()),
                name: Some(format!("trial-{i}")),
                params: BTreeMap::from([("lr".into(), lr.into())]),
                tags: BTreeMap::from([("team.name".into(), "it's vision".into())]),
                ..NewRun::default()
            })
            .await
            .unwrap();
        assert_eq!(run.status, RunStatus::Running);
        let acc = 0.5 + 0.2 * i as f64;
        let batch = LogBatch {
            metrics: (0..1_000)
                .map(|s| point("val/acc", s, acc * s as f64 / 999.0))
                .collect(),
            ..LogBatch::default()
        };
        let outcome = store.log_batch(&run.id, batch.clone()).await.unwrap();
        assert_eq!(outcome.metrics_written, 1_000);
        let again = store.log_batch(&run.id, batch).await.unwrap();
        assert_eq!(again.metrics_duplicate, 1_000, "re-sending is idempotent");
        let nan = LogBatch {
            metrics: vec![point("loss", 0, f64::NAN)],
            ..LogBatch::default()
        };
        store.log_batch(&run.id, nan).await.unwrap();
        ids.push(run.id);
    }

    let keys = store.metric_keys(&ids[0]).await.unwrap();
    assert_eq!(keys, vec!["loss".to_owned(), "val/acc".to_owned()]);
    let full = store
        .metric_history(
            &ids[2],
            MetricRange {
                key: "val/acc".into(),
                ..MetricRange::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(full.len(), 1_000);
    let range = MetricRange {
        key: "val/acc".into(),
        start_step: Some(10),
        end_step: Some(19),
    };
    let part = store.metric_history(&ids[2], range).await.unwrap();
    assert_eq!(
        part.iter().map(|p| p.step).collect::<Vec<_>>(),
        (10..20).collect::<Vec<_>>()
    );
    let nan = store
        .metric_history(
            &ids[0],
            MetricRange {
                key: "loss".into(),
                ..MetricRange::default()
            },
        )
        .await
        .unwrap();
    assert!(nan[0].value.0.is_nan(), "NaN survives the wire");
    let small = store
        .metric_history_downsampled(&ids[2], "val/acc", 100)
        .await
        .unwrap();
    assert!(small.downsampled && small.points.len() <= 100);
    assert_eq!(small.total, 1_000);
    assert_eq!(small.points.first(), full.first());
    assert_eq!(small.points.last(), full.last());

    // The filter and the order travel as text and come back as the same query.
    let query = RunQuery {
        project: Some("vision".into()),
        filter: parse_filter("metrics.`val/acc` > 0.6 AND tags.`team.name` = 'it''s vision'")
            .unwrap(),
        order_by: parse_order_by(&["metrics.`val/acc` DESC"]).unwrap(),
        ..RunQuery::default()
    };
    let page = store.search_runs(query).await.unwrap();
    let found: Vec<&RunId> = page.items.iter().map(|r| &r.id).collect();
    assert_eq!(found, vec![&ids[2], &ids[1]]);

    let mut query = RunQuery {
        project: Some("vision".into()),
        order_by: parse_order_by(&["params.lr"]).unwrap(),
        limit: 2,
        ..RunQuery::default()
    };
    let first = store.search_runs(query.clone()).await.unwrap();
    assert_eq!(first.items.len(), 2);
    query.cursor = first.next_cursor.clone();
    assert!(query.cursor.is_some());
    let second = store.search_runs(query).await.unwrap();
    assert_eq!(second.items.len(), 1);
    assert_eq!(second.items[0].id, ids[2]);

    let finished = store
        .update_run(
            &ids[0],
            RunPatch {
                status: Some(RunStatus::Finished),
                ..RunPatch::default()
            },
        )
        .await
        .unwrap();
    assert!(finished.end_time.is_some());
    store.delete_run_tag(&ids[0], "team.name").await.unwrap();
    assert!(store.get_run(&ids[0]).await.unwrap().tags.is_empty());
    let deleted = store
        .set_run_lifecycle(&ids[0], Lifecycle::Deleted)
        .await
        .unwrap();
    assert_eq!(deleted.lifecycle, Lifecycle::Deleted);
    let inactive = store
        .search_runs(RunQuery {
            view: LifecycleView::Inactive,
            ..RunQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(inactive.items.len(), 1);
    store
        .set_run_lifecycle(&ids[0], Lifecycle::Active)
        .await
        .unwrap();

    let missing = store.get_run(&RunId::generate()).await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    let bad = store
        .log_batch(
            &ids[1],
            LogBatch {
                params: BTreeMap::from([("lr".into(), "9".into())]),
                ..LogBatch::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(bad.kind(), ErrorKind::Conflict | ErrorKind::InvalidArgument),
        "changing a logged param: {bad:?}"
    );
    server.stop.send(()).unwrap();
    server.task.await.unwrap();
}

#[tokio::test]
async fn unreachable_server_is_unavailable() {
    // Bind then drop a listener, so the port is (very likely) closed.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let store = HttpStore::new(&addr.to_string()).unwrap();
    let err = store.list_projects(LifecycleView::All).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert_eq!(
        err.message(),
        format!("cannot reach Runlore server at http://{addr}: connection refused")
    );
}
