//! Altered blobs are never served as a clean, complete download: a byte
//! flipped on disk (or an S3 object overwritten) behind the server's back,
//! then whole GETs, Range GETs and the MLflow proxy through the real
//! server. Each chunk is checked before it is sent, so a download either
//! fails before it starts (500) or breaks off before the damaged chunk;
//! ranges over intact chunks keep working. Runs on a local blob folder and,
//! when `RUNLORE_TEST_S3_ENDPOINT` is set (`cargo xtask test`), on S3.
#![allow(clippy::unwrap_used)]

mod common;

use common::TestServer;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const MIB: usize = 1 << 20;

/// Where the server's blobs are, for tampering behind its back.
enum Storage {
    Local,
    S3(Box<dyn object_store::ObjectStore>),
}

impl Storage {
    async fn overwrite(&self, s: &TestServer, bytes_sha: &str, bytes: &[u8]) {
        use object_store::ObjectStoreExt;
        let key = format!("sha256/{}/{}", &bytes_sha[..2], &bytes_sha[2..]);
        match self {
            Storage::Local => std::fs::write(s.data_dir.join("blobs").join(key), bytes).unwrap(),
            Storage::S3(store) => {
                let path = object_store::path::Path::from(format!("blobs/{key}"));
                let bytes = bytes::Bytes::copy_from_slice(bytes);
                store.put(&path, bytes.into()).await.unwrap();
            }
        }
    }
}

/// A server on each backend: local always, S3 when a test server runs.
async fn servers() -> Vec<(TestServer, Storage)> {
    let mut all = vec![(TestServer::start().await, Storage::Local)];
    if let Some(bucket) = common::s3_bucket("runlore-integrity").await {
        let location = format!("s3://{bucket}/blobs");
        let s = TestServer::with(|c| c.artifacts = Some(location)).await;
        let raw = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(&bucket)
            .build()
            .unwrap();
        all.push((s, Storage::S3(Box::new(raw))));
    } else {
        eprintln!("note: RUNLORE_TEST_S3_ENDPOINT is not set; only the local backend runs");
    }
    all
}

/// What a client got.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// A status and a body that arrived whole (as long as Content-Length).
    Complete(u16, Vec<u8>),
    /// The body broke off: reqwest reports an error reading it.
    Cut(u16),
    /// No response at all.
    Failed,
}

async fn fetch(s: &TestServer, url: &str, range: Option<&str>) -> Outcome {
    let mut request = s.client.get(s.url(url));
    if let Some(range) = range {
        request = request.header("range", range);
    }
    let Ok(response) = request.send().await else {
        return Outcome::Failed;
    };
    let status = response.status().as_u16();
    match response.bytes().await {
        Ok(body) => Outcome::Complete(status, body.to_vec()),
        Err(_) => Outcome::Cut(status),
    }
}

fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.max(1);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

async fn upload(s: &TestServer, prefix: &str, name: &str, body: &[u8]) -> String {
    let put = s
        .client
        .put(s.url(&format!("{prefix}/{name}")))
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    hex::encode(Sha256::digest(body))
}

/// Never a success status with the whole body delivered.
fn assert_not_served(outcome: &Outcome, what: &str) {
    assert!(
        !matches!(outcome, Outcome::Complete(200..=299, _)),
        "{what}: altered bytes were served as a success: {:?}",
        match outcome {
            Outcome::Complete(status, body) => format!("{status} with {} bytes", body.len()),
            other => format!("{other:?}"),
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn altered_blobs_never_download_as_a_success() {
    for (s, storage) in servers().await {
        let common::MlflowRun { run, proxy, .. } = s.mlflow_run("tamper").await;
        let body = noise(3 * MIB + MIB / 2, 31);
        let sha = upload(&s, &proxy, "model.bin", &body).await;
        let native = format!("/api/v1/runs/{run}/artifacts/model.bin");
        let proxied = format!("{proxy}/model.bin");
        assert_eq!(
            fetch(&s, &native, None).await,
            Outcome::Complete(200, body.clone())
        );

        let mut altered = body.clone();
        altered[2 * MIB + 4_321] ^= 0x20;
        storage.overwrite(&s, &sha, &altered).await;

        // Whole downloads break off before the altered chunk.
        let whole = fetch(&s, &native, None).await;
        assert_not_served(&whole, "native GET");
        assert_eq!(
            whole,
            Outcome::Cut(200),
            "the headers went out, the body broke"
        );
        assert_not_served(&fetch(&s, &proxied, None).await, "MLflow proxy GET");
        // A range inside the altered chunk is refused before its first byte.
        let inside = format!("bytes={}-{}", 2 * MIB + 4_000, 2 * MIB + 5_000);
        let outcome = fetch(&s, &native, Some(&inside)).await;
        assert_not_served(&outcome, "Range inside the altered chunk");
        assert!(matches!(outcome, Outcome::Complete(500, _)), "{outcome:?}");
        // From intact chunks into the altered one: cut short, never whole.
        let across = format!("bytes={}-{}", MIB, 3 * MIB);
        assert_not_served(&fetch(&s, &native, Some(&across)).await, "Range across");
        // A range over intact chunks is still served exactly.
        assert_eq!(
            fetch(&s, &native, Some("bytes=100-199")).await,
            Outcome::Complete(206, body[100..200].to_vec())
        );
        let tail = format!("bytes={}-", 3 * MIB);
        assert_eq!(
            fetch(&s, &native, Some(&tail)).await,
            Outcome::Complete(206, body[3 * MIB..].to_vec())
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_altered_small_file_is_refused_before_any_byte() {
    for (s, storage) in servers().await {
        let common::MlflowRun { run, proxy, .. } = s.mlflow_run("tamper").await;
        let body = noise(200_000, 32);
        let sha = upload(&s, &proxy, "metrics.csv", &body).await;
        let mut altered = body.clone();
        altered[0] ^= 0x01;
        storage.overwrite(&s, &sha, &altered).await;
        let native = format!("/api/v1/runs/{run}/artifacts/metrics.csv");
        for (url, range) in [
            (native.clone(), None),
            (native.clone(), Some("bytes=150000-150010")),
            (format!("{proxy}/metrics.csv"), None),
        ] {
            let outcome = fetch(&s, &url, range).await;
            let Outcome::Complete(500, answer) = outcome else {
                panic!("{url} {range:?}: {outcome:?}");
            };
            // An error document, not the file.
            let answer: Value = serde_json::from_slice(&answer).unwrap();
            assert!(answer.is_object(), "{answer}");
        }
        s.stop().await;
    }
}

#[tokio::test]
async fn garbage_collection_removes_a_blob_with_its_chunk_digests() {
    let s = TestServer::start().await;
    let proxy = s.mlflow_run("tamper").await.proxy;
    let old = noise(2 * MIB + 1, 33);
    let sha = upload(&s, &proxy, "ckpt.bin", &old).await;
    let blob = s
        .data_dir
        .join("blobs/sha256")
        .join(&sha[..2])
        .join(&sha[2..]);
    let sidecar = blob.with_extension("chunks");
    assert!(blob.is_file() && sidecar.is_file());
    // Overwriting the path leaves the old blob unreferenced.
    upload(&s, &proxy, "ckpt.bin", &noise(2 * MIB + 1, 34)).await;
    let (status, report) = s
        .post("/api/v1/admin/gc", json!({"apply": true, "min_age_ms": 0}))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["blobs_removed"], 1, "{report}");
    assert!(
        !blob.exists() && !sidecar.exists(),
        "the digests go with the blob"
    );
    s.stop().await;
}
