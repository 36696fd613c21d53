//! What the runs table needs beyond the runs list: a project's key metrics
//! (settings), best and average values (metric summaries) and feature
//! columns (feature trees of many runs), through a real server.
#![allow(clippy::unwrap_used)]

mod common;

use common::TestServer;
use serde_json::json;

#[tokio::test]
async fn key_metrics_are_project_settings_with_checked_input() {
    let s = TestServer::start().await;
    s.post("/api/v1/projects", json!({"name": "km"})).await;
    let settings = json!({"key_metrics": [
        {"key": "val/loss", "direction": "min", "aggregation": "best"},
        {"key": "acc", "direction": "max"}
    ]});
    let (status, saved) = s.patch("/api/v1/projects/km/settings", settings).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["key_metrics"][1]["aggregation"], "last");
    let (_, got) = s.get("/api/v1/projects/km/settings").await;
    assert_eq!(got, saved);
    for bad in [
        json!({"key_metrics": [{"key": "a", "direction": "up"}]}),
        json!({"key_metrics": [{"key": "a", "direction": "min", "aggregation": "median"}]}),
        json!({"key_metrics": [{"key": "a", "direction": "min"}, {"key": "a", "direction": "max"}]}),
        json!({"key_metrics": [{"key": "", "direction": "min"}]}),
        json!({"key_metrics": [{"key": "a", "direction": "min", "colour": "red"}]}),
    ] {
        let (status, body) = s.patch("/api/v1/projects/km/settings", bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (_, still) = s.get("/api/v1/projects/km/settings").await;
    assert_eq!(still, saved, "refused settings change nothing");
    s.stop().await;
}

#[tokio::test]
async fn summaries_and_feature_trees_for_many_runs() {
    let s = TestServer::start().await;
    let a = s
        .new_run(json!({"project": "t", "features": {"model": {"lr": 0.1}}}))
        .await;
    let b = s.new_run(json!({"project": "t"})).await;
    let points: Vec<_> = [3.0, 1.0, 2.0]
        .iter()
        .enumerate()
        .map(|(i, v)| json!({"key": "loss", "value": v, "step": i}))
        .collect();
    let (status, _) = s
        .post(&format!("/api/v1/runs/{a}/log"), json!({"metrics": points}))
        .await;
    assert!(status < 300);
    let (status, got) = s
        .post(
            "/api/v1/runs/metric-summaries",
            json!({"run_ids": [a, b], "keys": ["loss"]}),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(
        got["items"],
        json!([{"run_id": a, "key": "loss", "count": 3, "min": 1.0, "max": 3.0, "mean": 2.0}])
    );
    let (status, trees) = s
        .post("/api/v1/runs/features/batch", json!({"run_ids": [b, a]}))
        .await;
    assert_eq!(status, 200, "{trees}");
    assert_eq!(
        trees["items"],
        json!([{"run_id": b, "features": {}}, {"run_id": a, "features": {"model": {"lr": 0.1}}}])
    );
    // Bad input: clear 4xx.
    let unknown = "0123456789abcdef0123456789abcdef";
    let (status, _) = s
        .post("/api/v1/runs/features/batch", json!({"run_ids": [unknown]}))
        .await;
    assert_eq!(status, 404);
    let (status, _) = s
        .post("/api/v1/runs/features/batch", json!({"run_ids": ["nope"]}))
        .await;
    assert_eq!(status, 400);
    let many: Vec<String> = (0..10_001).map(|_| a.clone()).collect();
    let (status, _) = s
        .post("/api/v1/runs/features/batch", json!({"run_ids": many}))
        .await;
    assert_eq!(status, 400);
    let keys: Vec<String> = (0..21).map(|i| format!("k{i}")).collect();
    let (status, _) = s
        .post(
            "/api/v1/runs/metric-summaries",
            json!({"run_ids": [a], "keys": keys}),
        )
        .await;
    assert_eq!(status, 400);
    s.stop().await;
}
