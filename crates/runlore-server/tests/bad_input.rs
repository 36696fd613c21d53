//! Bad input gets a clear 4xx naming the problem, never a 5xx, and leaves
//! what is stored untouched.

mod common;

use common::{TestServer, error_message};
use serde_json::{Value, json};

/// A run with one param and three points, to check nothing changes.
async fn seeded(s: &TestServer) -> (String, Value) {
    let id = s
        .new_run(json!({"project": "p", "name": "keep", "params": {"lr": "0.01"}}))
        .await;
    let batch = json!({"metrics": [
        {"key": "loss", "value": 0.5, "step": 0, "timestamp": 1},
        {"key": "loss", "value": 0.4, "step": 1, "timestamp": 2},
        {"key": "loss", "value": 0.3, "step": 2, "timestamp": 3}]});
    let (status, _) = s.post(&format!("/api/v1/runs/{id}/log"), batch).await;
    assert_eq!(status, 200);
    let (_, run) = s.get(&format!("/api/v1/runs/{id}")).await;
    (id, run)
}

async fn assert_unchanged(s: &TestServer, id: &str, before: &Value) {
    let (_, after) = s.get(&format!("/api/v1/runs/{id}")).await;
    assert_eq!(&after, before, "stored run changed");
    let (_, h) = s.get(&format!("/api/v1/runs/{id}/metrics/loss")).await;
    assert_eq!(h["total"], 3, "stored points changed");
}

#[tokio::test]
async fn malformed_and_mistyped_bodies_are_400() {
    let s = TestServer::start().await;
    let (id, before) = seeded(&s).await;
    let log = format!("/api/v1/runs/{id}/log");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "truncated JSON",
            r#"{"metrics": [{"key": "loss""#.into(),
            "invalid JSON",
        ),
        (
            "bare NaN token",
            r#"{"metrics": [{"key": "loss", "value": NaN, "step": 5}]}"#.into(),
            "invalid JSON",
        ),
        (
            "string step",
            r#"{"metrics": [{"key": "loss", "value": 1, "step": "five"}]}"#.into(),
            "invalid type",
        ),
        (
            "value not a number",
            r#"{"metrics": [{"key": "loss", "value": "abc", "step": 5}]}"#.into(),
            "abc",
        ),
        (
            "metrics not a list",
            r#"{"metrics": 3}"#.into(),
            "invalid type",
        ),
        ("array body", "[]".into(), "invalid"),
        ("empty body", String::new(), "empty"),
        (
            "step beyond i64",
            r#"{"metrics": [{"key": "loss", "value": 1, "step": 1e30}]}"#.into(),
            "invalid",
        ),
    ];
    for (what, body, needle) in cases {
        let (status, err) = s.post_raw(&log, body).await;
        assert_eq!(status, 400, "{what}: {err}");
        let message = error_message(status, &err, 400, "invalid_argument");
        assert!(message.contains(needle), "{what}: {message}");
    }
    let (status, err) = s.post_raw("/api/v1/runs", r#"{"project": 5}"#).await;
    error_message(status, &err, 400, "invalid_argument");
    let (status, err) = s
        .patch(&format!("/api/v1/runs/{id}"), json!({"status": "DONE"}))
        .await;
    error_message(status, &err, 400, "invalid_argument");
    assert_unchanged(&s, &id, &before).await;
    s.stop().await;
}

#[tokio::test]
async fn invalid_keys_values_and_ids_are_named() {
    let s = TestServer::start().await;
    let (id, before) = seeded(&s).await;
    let log = format!("/api/v1/runs/{id}/log");
    let (status, err) = s
        .post(
            &log,
            json!({"metrics": [{"key": "ok", "value": 1}, {"key": "bad\"key", "value": 1}]}),
        )
        .await;
    let message = error_message(status, &err, 400, "invalid_argument");
    assert!(
        message.contains("metrics[1]") && message.contains("bad"),
        "{message}"
    );
    let (status, err) = s
        .post(&log, json!({"params": {"p": "x".repeat(6001)}}))
        .await;
    assert!(error_message(status, &err, 400, "invalid_argument").contains("6000"));
    let (status, err) = s.post(&log, json!({"tags": {"../etc": "x"}})).await;
    error_message(status, &err, 400, "invalid_argument");
    let (status, err) = s
        .post(
            &log,
            json!({"metrics": [{"key": "k", "value": 1, "timestamp": -5}]}),
        )
        .await;
    error_message(status, &err, 400, "invalid_argument");

    let (status, err) = s.get("/api/v1/runs/not-a-run-id").await;
    assert!(error_message(status, &err, 400, "invalid_argument").contains("not-a-run-id"));
    let unknown = "0123456789abcdef0123456789abcdef";
    let (status, err) = s.get(&format!("/api/v1/runs/{unknown}")).await;
    assert!(error_message(status, &err, 404, "not_found").contains(unknown));
    let (status, err) = s
        .post(&format!("/api/v1/runs/{unknown}/log"), json!({}))
        .await;
    error_message(status, &err, 404, "not_found");
    let (status, err) = s.get("/api/v1/experiments/abc").await;
    error_message(status, &err, 400, "invalid_argument");
    let (status, err) = s
        .post("/api/v1/projects", json!({"name": "has space"}))
        .await;
    error_message(status, &err, 400, "invalid_argument");
    let (status, err) = s.get("/api/v1/nothing-here").await;
    error_message(status, &err, 404, "not_found");
    let (status, err) = s
        .get(&format!("/api/v1/runs/{id}/metrics/loss?max_points=1"))
        .await;
    error_message(status, &err, 400, "invalid_argument");
    let (status, err) = s
        .get(&format!("/api/v1/runs/{id}/metrics/loss?max_points=many"))
        .await;
    error_message(status, &err, 400, "invalid_argument");
    assert_unchanged(&s, &id, &before).await;
    s.stop().await;
}

#[tokio::test]
async fn param_conflicts_are_409_and_reject_the_whole_batch() {
    let s = TestServer::start().await;
    let (id, before) = seeded(&s).await;
    let batch = json!({"params": {"lr": "0.02"}, "tags": {"new": "x"},
                       "metrics": [{"key": "loss", "value": 0.1, "step": 9}]});
    let (status, err) = s.post(&format!("/api/v1/runs/{id}/log"), batch).await;
    let message = error_message(status, &err, 409, "conflict");
    assert!(
        message.contains("lr") && message.contains("0.01"),
        "{message}"
    );
    assert_unchanged(&s, &id, &before).await;
    let (status, _) = s
        .post(
            &format!("/api/v1/runs/{id}/log"),
            json!({"params": {"lr": "0.01"}}),
        )
        .await;
    assert_eq!(status, 200, "the same value again is fine");
    s.stop().await;
}

#[tokio::test]
async fn bad_filters_point_at_the_problem() {
    let s = TestServer::start().await;
    let (id, before) = seeded(&s).await;
    for (filter, needle) in [
        ("metrics.acc > AND params.lr = '1'", "character 15"),
        ("params.lr = 0.01", "strings"),
        ("tags.team = 'unterminated", "character 13"),
        ("metrics.acc >> 1", "character"),
        ("bogus.x = 1", "bogus"),
    ] {
        let (status, err) = s
            .post("/api/v1/runs/search", json!({"filter": filter}))
            .await;
        let message = error_message(status, &err, 400, "invalid_argument");
        assert!(message.contains(needle), "{filter}: {message}");
    }
    let (status, err) = s.get("/api/v1/runs?order_by=metrics.loss%20SIDEWAYS").await;
    error_message(status, &err, 400, "invalid_argument");
    let (status, err) = s.get("/api/v1/runs?limit=100000").await;
    assert!(error_message(status, &err, 400, "invalid_argument").contains("10000"));
    let (status, err) = s.get("/api/v1/runs?cursor=garbage").await;
    error_message(status, &err, 400, "invalid_argument");
    let (status, err) = s.get("/api/v1/runs?colour=red").await;
    assert!(error_message(status, &err, 400, "invalid_argument").contains("colour"));
    assert_unchanged(&s, &id, &before).await;
    s.stop().await;
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let s = TestServer::with(|c| c.max_body_bytes = 64 * 1024).await;
    let (id, before) = seeded(&s).await;
    let big: Vec<Value> = (0..5000)
        .map(|i| json!({"key": "loss", "value": 1.0, "step": 100 + i}))
        .collect();
    let (status, err) = s
        .post(&format!("/api/v1/runs/{id}/log"), json!({"metrics": big}))
        .await;
    let message = error_message(status, &err, 413, "payload_too_large");
    assert!(message.contains("65536"), "{message}");
    assert_unchanged(&s, &id, &before).await;
    s.stop().await;
}
