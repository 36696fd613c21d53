//! Bad artifact uploads through the native API: each is a clear 4xx and
//! nothing is stored (no row, no blob); an upload cut off halfway leaves
//! nothing either.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};

use common::TestServer;
use serde_json::{Value, json};

/// A PUT of a small body with the path exactly as given; (status, JSON).
fn raw_put(s: &TestServer, path: &str) -> (u16, Value) {
    let addr = s.base.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let request = format!(
        "PUT {path} HTTP/1.1\r\nhost: x\r\ncontent-length: 7\r\nconnection: close\r\n\r\npayload"
    );
    conn.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    let _ = conn.read_to_string(&mut response);
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

async fn stored_blobs(s: &TestServer) -> u64 {
    let (_, report) = s
        .post("/api/v1/admin/gc", json!({"apply": false, "min_age_ms": 0}))
        .await;
    report["blobs_stored"].as_u64().unwrap()
}

// Two workers: the raw request below blocks one while the server runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_paths_and_hashes_store_nothing() {
    let s = TestServer::start().await;
    let run = s.new_run(json!({"project": "bad"})).await;
    let long = "x".repeat(300);
    let cases: Vec<(String, &str)> = vec![
        ("a/%2E%2E/escape.txt".into(), "'..'"),
        ("%2Fetc/passwd".into(), "relative"),
        ("nul%00byte.txt".into(), "NUL"),
        (format!("dir/{long}.txt"), "longer than 255"),
        ("a//b.txt".into(), "empty segment"),
        ("back%5Cslash.txt".into(), "backslash"),
    ];
    for (path, says) in cases {
        // Sent byte for byte: an HTTP client would resolve `%2E%2E` away.
        let (status, body) = raw_put(&s, &format!("/api/v1/runs/{run}/artifacts/{path}"));
        assert!((400..500).contains(&status), "{path}: {status} {body}");
        if status == 400 {
            let message = body["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains(says), "{path}: {message}");
        }
    }
    // A declared hash the bytes do not have.
    let r = s
        .client
        .put(s.url(&format!(
            "/api/v1/runs/{run}/artifacts/ok.txt?sha256={}",
            "0".repeat(64)
        )))
        .body("payload")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("sha256"),
        "{body}"
    );
    let (_, list) = s
        .get(&format!("/api/v1/runs/{run}/artifacts?recursive=true"))
        .await;
    assert_eq!(list["files"], json!([]));
    assert_eq!(stored_blobs(&s).await, 0);
    s.stop().await;
}

#[tokio::test]
async fn an_upload_cut_off_halfway_leaves_nothing() {
    let s = TestServer::start().await;
    let run = s.new_run(json!({"project": "cut"})).await;
    let addr = s.base.trim_start_matches("http://").to_owned();
    let path = format!("/api/v1/runs/{run}/artifacts/half.bin");
    std::thread::spawn(move || {
        let mut conn = std::net::TcpStream::connect(addr).unwrap();
        // Promises 4 MiB, sends 1 MiB, then hangs up.
        let head = format!(
            "PUT {path} HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n",
            4 << 20
        );
        conn.write_all(head.as_bytes()).unwrap();
        conn.write_all(&vec![7u8; 1 << 20]).unwrap();
        conn.flush().unwrap();
        conn.shutdown(std::net::Shutdown::Both).unwrap();
        let mut rest = Vec::new();
        let _ = conn.read_to_end(&mut rest);
    })
    .join()
    .unwrap();
    // Bounded wait for the server to notice and clean up: the temporary
    // upload is removed in the background once the request is dropped.
    let tmp_entries = |s: &TestServer| {
        std::fs::read_dir(s.data_dir.join("blobs/tmp"))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    let mut files = json!(null);
    let mut blobs = u64::MAX;
    let mut leftovers = usize::MAX;
    for _ in 0..200 {
        let (_, list) = s
            .get(&format!("/api/v1/runs/{run}/artifacts?recursive=true"))
            .await;
        files = list["files"].clone();
        blobs = stored_blobs(&s).await;
        leftovers = tmp_entries(&s);
        if blobs == 0 && files == json!([]) && leftovers == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(files, json!([]));
    assert_eq!(blobs, 0);
    assert_eq!(leftovers, 0, "no temporary upload is left behind");
    s.stop().await;
}
