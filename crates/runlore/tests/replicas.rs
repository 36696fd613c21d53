//! Two `runlore server` processes on one PostgreSQL database and one blob
//! store (the test S3 bucket under `cargo xtask test`, else a shared
//! folder) serve one lab: what one replica writes the other reads at once,
//! through the native API and the MLflow API; eight writers logging to one
//! run through both replicas lose and double nothing; a cursor from one
//! replica pages on the other; an artifact uploaded to one downloads from
//! the other; and when one replica is killed with SIGKILL mid-ingest,
//! every acknowledged point is there and the other keeps serving.

#![allow(clippy::unwrap_used)] // test helpers panic on failure by design

#[allow(dead_code)] // each test binary uses part of the shared helpers
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use runlore_client::HttpStore;
use runlore_core::artifact_service::{ArtifactService, UploadOptions};
use runlore_core::store::{MetricRange, RunQuery};
use runlore_core::*;
use serde_json::json;
use support::ServerChild;

const URL_VAR: &str = "RUNLORE_TEST_POSTGRES_URL";

/// A fresh database in the test cluster; `None` (with a notice) without one.
async fn fresh_database() -> Option<String> {
    let Ok(admin) = std::env::var(URL_VAR) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "{URL_VAR} is not set in CI"
        );
        eprintln!("{URL_VAR} is not set: skipping (cargo xtask test sets it)");
        return None;
    };
    let name = format!("replicas_{}", std::process::id());
    let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    Some(format!("{}/{name}", admin.rsplit_once('/').unwrap().0))
}

/// The shared blob store: a bucket on the test S3 server, else a folder.
async fn blob_location(dir: &std::path::Path) -> String {
    let Ok(endpoint) = std::env::var("RUNLORE_TEST_S3_ENDPOINT") else {
        return dir.join("shared-blobs").display().to_string();
    };
    let bucket = format!("replicas-{}", std::process::id());
    let created = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success(), "cannot create {bucket}");
    format!("s3://{bucket}")
}

fn points(key: &str, steps: impl Iterator<Item = i64>) -> LogBatch {
    LogBatch {
        metrics: steps
            .map(|step| MetricPoint {
                key: key.into(),
                value: MetricValue(step as f64),
                step,
                timestamp: Some(1_000 + step),
            })
            .collect(),
        ..LogBatch::default()
    }
}

/// POSTs JSON (the MLflow API) and returns the status.
async fn post_json(base: &str, path: &str, body: serde_json::Value) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn history(store: &HttpStore, run: &RunId, key: &str) -> Vec<HistoryPoint> {
    store
        .metric_history(
            run,
            MetricRange {
                key: key.into(),
                ..MetricRange::default()
            },
        )
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_serve_one_lab() {
    let Some(db) = fresh_database().await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let blobs = blob_location(tmp.path()).await;
    let args = ["--db", db.as_str(), "--artifacts", blobs.as_str()];
    let a_dir = tmp.path().join("a");
    let b_dir = tmp.path().join("b");
    let mut a = ServerChild::start_with(tmp.path(), &a_dir, &args);
    let b = ServerChild::start_with(tmp.path(), &b_dir, &args);
    let (sa, sb) = (
        HttpStore::new(&a.url).unwrap(),
        HttpStore::new(&b.url).unwrap(),
    );

    // Written on one, read on the other at once.
    let run = sa
        .create_run(NewRun {
            project: "lab".into(),
            experiment: Some("shared".into()),
            name: Some("r".into()),
            ..NewRun::default()
        })
        .await
        .unwrap();
    assert_eq!(sb.get_run(&run.id).await.unwrap().name, "r");
    let status = post_json(
        &b.url,
        "/api/2.0/mlflow/runs/log-batch",
        json!({
            "run_id": run.id.as_str(),
            "params": [{"key": "lr", "value": "0.1"}],
            "metrics": [{"key": "acc", "value": 0.5, "timestamp": 1, "step": 0}],
        }),
    )
    .await;
    assert_eq!(status, 200, "MLflow log-batch on the second replica");
    let seen = sa.get_run(&run.id).await.unwrap();
    assert_eq!(seen.params["lr"], "0.1");
    assert_eq!(seen.metrics[0].key, "acc");

    // Eight writers, alternating replicas, each batch sent twice.
    let writers: Vec<_> = (0..8i64)
        .map(|w| {
            let url = if w % 2 == 0 {
                a.url.clone()
            } else {
                b.url.clone()
            };
            let id = run.id.clone();
            tokio::spawn(async move {
                let store = HttpStore::new(&url).unwrap();
                for batch in 0..5i64 {
                    let steps = (0..400).map(move |i| (batch * 400 + i) * 8 + w);
                    for _ in 0..2 {
                        store
                            .log_batch(&id, points("x", steps.clone()))
                            .await
                            .unwrap();
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let steps: Vec<i64> = history(&sb, &run.id, "x")
        .await
        .iter()
        .map(|p| p.step)
        .collect();
    assert_eq!(steps, (0..8 * 5 * 400).collect::<Vec<_>>());
    assert_eq!(history(&sa, &run.id, "x").await.len(), steps.len());

    // A cursor from one replica pages on the other.
    for i in 0..25 {
        sb.create_run(NewRun {
            project: "paged".into(),
            name: Some(format!("p{i:02}")),
            start_time: Some(i),
            ..NewRun::default()
        })
        .await
        .unwrap();
    }
    let mut query = RunQuery {
        project: Some("paged".into()),
        limit: 10,
        ..RunQuery::default()
    };
    let mut names = Vec::new();
    for page in 0..10 {
        let store = if page % 2 == 0 { &sa } else { &sb };
        let got = store.search_runs(query.clone()).await.unwrap();
        names.extend(got.items.into_iter().map(|r| r.name));
        match got.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
    }
    let expected: Vec<String> = (0..25).rev().map(|i| format!("p{i:02}")).collect();
    assert_eq!(names, expected);

    // An artifact uploaded to one replica downloads from the other.
    let body: runlore_core::ByteStream = Box::pin(futures::stream::once(async {
        Ok::<_, std::io::Error>(Bytes::from_static(b"shared bytes"))
    }));
    sa.upload(&run.id, "notes/a.txt", body, UploadOptions::default())
        .await
        .unwrap();
    let (artifact, stream) = sb.download(&run.id, "notes/a.txt").await.unwrap();
    assert_eq!(artifact.size, 12);
    let bytes: Vec<Bytes> = futures::TryStreamExt::try_collect(stream).await.unwrap();
    assert_eq!(bytes.concat(), b"shared bytes");

    // SIGKILL one replica mid-ingest: what it acknowledged is kept, and
    // the other goes on serving.
    let acked = Arc::new(AtomicI64::new(0));
    let (under_way, started) = tokio::sync::oneshot::channel();
    let ingest = {
        let (url, id, acked) = (a.url.clone(), run.id.clone(), acked.clone());
        tokio::spawn(async move {
            let mut under_way = Some(under_way);
            let store =
                HttpStore::with_timeouts(&url, Duration::from_secs(2), Duration::from_secs(20))
                    .unwrap();
            for batch in 0..10_000i64 {
                let steps = batch * 500..(batch + 1) * 500;
                if store.log_batch(&id, points("y", steps)).await.is_err() {
                    break;
                }
                acked.store((batch + 1) * 500, Ordering::SeqCst);
                if batch == 40
                    && let Some(tx) = under_way.take()
                {
                    let _ = tx.send(());
                }
            }
        })
    };
    tokio::time::timeout(Duration::from_secs(120), started)
        .await
        .expect("20,000 points acknowledged before the kill")
        .unwrap();
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    ingest.await.unwrap();
    let acked = acked.load(Ordering::SeqCst);
    let kept = history(&sb, &run.id, "y").await;
    assert!(
        kept.len() as i64 >= acked,
        "{} kept of {acked} acknowledged",
        kept.len()
    );
    let steps: Vec<i64> = kept.iter().map(|p| p.step).collect();
    assert_eq!(
        steps,
        (0..kept.len() as i64).collect::<Vec<_>>(),
        "whole batches only"
    );
    sb.log_batch(&run.id, points("y", 0..10)).await.unwrap();
    assert_eq!(history(&sb, &run.id, "y").await.len(), kept.len());
    drop(b);
}
