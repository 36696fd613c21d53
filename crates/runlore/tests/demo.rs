//! `runlore demo` seeds a project on the local data dir and through a
//! server: runs, DAG edges (a merge included), key metrics, artifacts with
//! steps, an input used by hash; a second call leaves the project alone.
#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod support;

use runlore_core::store::RunQuery;
use runlore_core::{LifecycleView, MetadataStore, RunStatus};
use serde_json::Value;
use support::{ServerChild, block_on, runlore};

fn check(store: std::sync::Arc<dyn MetadataStore>) {
    block_on(async move {
        let page = store
            .search_runs(RunQuery {
                project: Some("demo".into()),
                limit: 1000,
                ..RunQuery::default()
            })
            .await
            .unwrap();
        let runs = page.items;
        assert_eq!(runs.len(), 10);
        let status = |s| runs.iter().filter(|r| r.status == s).count();
        assert_eq!(status(RunStatus::Failed), 1);
        assert_eq!(status(RunStatus::Planned), 1);
        assert_eq!(status(RunStatus::Finished), 8);
        let failed = runs.iter().find(|r| r.status == RunStatus::Failed).unwrap();
        assert!(failed.tags["runlore.error"].contains("NaN"));

        let graph = store.project_graph("demo").await.unwrap();
        assert_eq!(graph.nodes.len(), 10);
        assert_eq!(graph.edges.len(), 10);
        let merge = runs.iter().find(|r| r.name == "4_adam_augment").unwrap();
        assert_eq!(
            graph.edges.iter().filter(|e| e.child == merge.id).count(),
            2
        );
        let features = store.run_features(&merge.id).await.unwrap();
        assert_eq!(features.full["optim"]["name"], "adam");
        assert_eq!(features.full["data"]["augment"], true);

        let settings = store.project_settings("demo").await.unwrap();
        assert_eq!(settings.key_metrics.len(), 2);
        let history = store
            .metric_history(
                &merge.id,
                runlore_core::store::MetricRange {
                    key: "loss".into(),
                    start_step: None,
                    end_step: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(history.len(), 300);
        assert!(
            store
                .list_projects(LifecycleView::Active)
                .await
                .unwrap()
                .iter()
                .any(|p| p.name == "demo")
        );
    });
}

fn artifacts(cmd: impl Fn() -> assert_cmd::Command, run: &str) -> Vec<Value> {
    let out = cmd()
        .args(["artifact", "ls", run, "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    v.as_array()
        .cloned()
        .unwrap_or_else(|| v["files"].as_array().cloned().unwrap_or_default())
}

#[test]
fn demo_seeds_a_project_locally_and_twice_is_harmless() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cmd = || {
        let mut c = runlore(dir.path());
        c.arg("--data-dir").arg(&data);
        c
    };
    let out = cmd()
        .args(["demo", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["seeded"], true);
    assert_eq!(v["runs"], 10);
    let again = cmd()
        .args(["demo"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8(again).unwrap().contains("already exists"));
    check(runlore_store::open_data_dir(&data).unwrap());

    let store = runlore_store::open_data_dir(&data).unwrap();
    let runs = block_on(async move {
        store
            .search_runs(RunQuery {
                project: Some("demo".into()),
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .items
    });
    let id = |name: &str| runs.iter().find(|r| r.name == name).unwrap().id.to_string();
    let files = artifacts(cmd, &id("5_resnet34"));
    let paths: Vec<&str> = files.iter().filter_map(|f| f["path"].as_str()).collect();
    for want in [
        "config.yaml",
        "logs/stdout.log",
        "eval/per_class.csv",
        "media/confusion/step_0300.png",
        "data/split.csv",
    ] {
        assert!(paths.contains(&want), "{want} missing from {paths:?}");
    }
    let input = files
        .iter()
        .find(|f| f["path"] == "data/split.csv")
        .unwrap();
    assert_eq!(input["direction"], "input");
    // The input is the file 1_baseline produced, used by hash.
    let produced = artifacts(cmd, &id("1_baseline"));
    let output = produced
        .iter()
        .find(|f| f["path"] == "data/split.csv")
        .unwrap();
    assert_eq!(output["direction"], "output");
    assert_eq!(input["sha256"], output["sha256"]);
    let steps: Vec<i64> = files
        .iter()
        .filter(|f| {
            f["path"]
                .as_str()
                .is_some_and(|p| p.starts_with("media/confusion/"))
        })
        .filter_map(|f| f["step"].as_i64())
        .collect();
    assert_eq!(steps, [100, 200, 300], "{files:?}");
}

#[test]
fn demo_seeds_through_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = ServerChild::start(dir.path(), &data);
    runlore(dir.path())
        .args(["--server", &server.url, "demo"])
        .assert()
        .success();
    check(std::sync::Arc::new(
        runlore_client::HttpStore::new(&server.url).unwrap(),
    ));
}
