//! A database held busy by another process: writes answer 503 with
//! `Retry-After` (MLflow: `TEMPORARILY_UNAVAILABLE`), reads go on, and the
//! same write succeeds once the lock is gone, with nothing half-written.

#![allow(clippy::unwrap_used)] // test helpers panic on failure by design

mod common;

use std::time::Duration;

use common::TestServer;
use serde_json::json;

#[tokio::test]
async fn a_locked_database_is_503_with_retry_after_and_the_retry_succeeds() {
    if common::on_postgres() {
        // The lock taken here is SQLite's; PostgreSQL's unreachable server
        // is `an_unreachable_server_is_unavailable` in runlore-store.
        return;
    }
    let s = TestServer::with(|c| c.db_busy_timeout = Duration::from_millis(50)).await;
    let (status, _) = s.post("/api/v1/projects", json!({"name": "before"})).await;
    assert_eq!(status, 201);

    // Another process's write transaction (WAL: readers still read).
    let other = rusqlite::Connection::open(s.data_dir.join("runlore.db")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();

    let native = s
        .client
        .post(s.url("/api/v1/projects"))
        .json(&json!({"name": "during"}))
        .send()
        .await
        .unwrap();
    assert_eq!(native.status(), 503);
    assert_eq!(native.headers()["retry-after"], "1");
    let body: serde_json::Value = native.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("busy"),
        "{body}"
    );

    let mlflow = s
        .client
        .post(s.url("/api/2.0/mlflow/experiments/create"))
        .json(&json!({"name": "during"}))
        .send()
        .await
        .unwrap();
    assert_eq!(mlflow.status(), 503);
    assert_eq!(mlflow.headers()["retry-after"], "1");
    let body: serde_json::Value = mlflow.json().await.unwrap();
    assert_eq!(body["error_code"], "TEMPORARILY_UNAVAILABLE", "{body}");

    let (status, body) = s.get("/api/v1/projects/before").await;
    assert_eq!(
        status, 200,
        "reads go on while a writer holds the lock: {body}"
    );

    other.execute_batch("ROLLBACK").unwrap();
    drop(other);
    let (status, body) = s.post("/api/v1/projects", json!({"name": "during"})).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = s
        .post(
            "/api/2.0/mlflow/experiments/create",
            json!({"name": "during"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, list) = s.get("/api/v1/projects").await;
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names.iter().filter(|n| **n == "during").count(),
        1,
        "{names:?}"
    );
    s.stop().await;
}
