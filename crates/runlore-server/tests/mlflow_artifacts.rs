//! The MLflow artifact proxy: a 1 GiB artifact goes up and comes back
//! without ever sitting in the server's memory, and bytes land in the
//! configured artifact location.
#![allow(clippy::unwrap_used)]

mod common;

use bytes::Bytes;
use common::TestServer;
use futures::StreamExt;
use serde_json::json;
use sha2::{Digest, Sha256};

const CHUNK: usize = 1 << 20;
const CHUNKS: usize = 1024;

/// Deterministic, incompressible-looking chunk `i` (no two chunks equal).
fn chunk(i: usize) -> Bytes {
    let mut state = (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::with_capacity(CHUNK);
    while out.len() < CHUNK {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    Bytes::from(out)
}

/// The process's peak resident set so far, in bytes (Linux `VmHWM`).
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// Creates an experiment and a run through the MLflow API; returns the
/// proxy URL prefix of the run's artifacts.
async fn new_run(server: &TestServer) -> String {
    let api = |p: &str| server.url(&format!("/api/2.0/mlflow/{p}"));
    let exp: serde_json::Value = server
        .client
        .post(api("experiments/create"))
        .json(&json!({"name": "large"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let exp_id = exp["experiment_id"].as_str().unwrap().to_owned();
    let run: serde_json::Value = server
        .client
        .post(api("runs/create"))
        .json(&json!({"experiment_id": exp_id}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let run_id = run["run"]["info"]["run_id"].as_str().unwrap().to_owned();
    format!("{exp_id}/{run_id}/artifacts")
}

#[tokio::test]
async fn bytes_land_in_the_configured_location() {
    let elsewhere = tempfile::tempdir().unwrap();
    let location = elsewhere.path().to_str().unwrap().to_owned();
    let server = TestServer::with(|c| c.artifacts = Some(location)).await;
    let prefix = new_run(&server).await;
    let url = server.url(&format!(
        "/api/2.0/mlflow-artifacts/artifacts/{prefix}/notes.txt"
    ));
    let put = server
        .client
        .put(&url)
        .body("located")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let digest = hex::encode(Sha256::digest(b"located"));
    let blob = elsewhere
        .path()
        .join("sha256")
        .join(&digest[..2])
        .join(&digest[2..]);
    assert_eq!(std::fs::read(&blob).unwrap(), b"located");
    assert!(!server.data_dir.join("blobs").join("sha256").exists());
    let got = server.client.get(&url).send().await.unwrap();
    assert_eq!(got.text().await.unwrap(), "located");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_gib_streams_up_and_down() {
    let server = TestServer::start().await;
    let prefix = new_run(&server).await;
    let url = server.url(&format!(
        "/api/2.0/mlflow-artifacts/artifacts/{prefix}/big/weights.bin"
    ));

    let mut expected = Sha256::new();
    for i in 0..CHUNKS {
        expected.update(chunk(i));
    }
    let expected = hex::encode(expected.finalize());
    let before = peak_rss();

    let body = reqwest::Body::wrap_stream(
        futures::stream::iter(0..CHUNKS).map(|i| Ok::<_, std::io::Error>(chunk(i))),
    );
    let put = server
        .client
        .put(&url)
        .header("content-length", (CHUNK * CHUNKS).to_string())
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200, "{}", put.text().await.unwrap());

    let listing: serde_json::Value = server
        .client
        .get(server.url("/api/2.0/mlflow-artifacts/artifacts"))
        .query(&[("path", format!("{prefix}/big"))])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listing["files"],
        json!([{"path": "weights.bin", "is_dir": false, "file_size": CHUNK * CHUNKS}])
    );

    let got = server.client.get(&url).send().await.unwrap();
    assert_eq!(got.status(), 200);
    let mut hasher = Sha256::new();
    let mut total = 0usize;
    let mut stream = got.bytes_stream();
    while let Some(piece) = stream.next().await {
        let piece = piece.unwrap();
        total += piece.len();
        hasher.update(&piece);
    }
    assert_eq!(total, CHUNK * CHUNKS);
    assert_eq!(hex::encode(hasher.finalize()), expected);

    // Client and server share this process: neither side may have held
    // more than a sliver of the gigabyte.
    let grown = peak_rss().saturating_sub(before);
    assert!(
        grown < 128 << 20,
        "peak RSS grew by {} MiB while moving 1 GiB",
        grown >> 20
    );
    server.stop().await;
}
