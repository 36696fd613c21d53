//! An MLflow `log-batch` far over MLflow's limits is refused in MLflow's
//! shape without the server reading it all or building it in memory: the
//! server's peak memory stays bounded with four such requests at once.
//!
//! This file holds one test so that the process's peak resident size
//! (VmHWM) measures the server alone.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::TestServer;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HUGE: usize = 60 * 1024 * 1024;
const BOUND: Duration = Duration::from_secs(60);

/// One metric element of the kind the probe sent (1.4 M of them in 60 MiB).
const METRIC: &str = r#"{"key":"loss","value":0.5,"timestamp":1700000000000,"step":1},"#;

fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// Sends a `log-batch` head, then streams up to `HUGE` body bytes while
/// reading the answer; returns the answer's status and JSON body.
async fn huge_batch(addr: String, run: String, chunked: bool) -> (u16, Value) {
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    let length = if chunked {
        "Transfer-Encoding: chunked".to_owned()
    } else {
        format!("Content-Length: {HUGE}")
    };
    let head = format!(
        "POST /api/2.0/mlflow/runs/log-batch HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Type: application/json\r\n{length}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let sender = tokio::spawn(async move {
        let start = format!(r#"{{"run_id":"{run}","metrics":["#);
        let piece = METRIC.repeat(1024);
        let mut sent = 0;
        let mut first = true;
        while sent < HUGE {
            let data = if first { start.clone() } else { piece.clone() };
            first = false;
            let framed = if chunked {
                format!("{:x}\r\n{data}\r\n", data.len())
            } else {
                data
            };
            // The server stops reading once it has refused: writes fail.
            if writer.write_all(framed.as_bytes()).await.is_err() {
                return sent;
            }
            sent += framed.len();
        }
        sent
    });
    let mut answer = Vec::new();
    tokio::time::timeout(BOUND, reader.read_to_end(&mut answer))
        .await
        .expect("no answer within the bound")
        .ok();
    sender.abort();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status: u16 = text.split(' ').nth(1).unwrap_or("0").parse().unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    // Only a JSON body without chunk framing is expected (Content-Length).
    let json = serde_json::from_str(body).unwrap_or_else(|_| Value::String(text.clone()));
    (status, json)
}

#[tokio::test]
async fn log_batches_far_over_the_limits_are_refused_with_bounded_memory() {
    let s = TestServer::start().await;
    let (_, created) = s
        .post("/api/2.0/mlflow/experiments/create", json!({"name": "big"}))
        .await;
    let experiment = created["experiment_id"].as_str().unwrap().to_owned();
    let (_, run) = s
        .post(
            "/api/2.0/mlflow/runs/create",
            json!({"experiment_id": experiment, "start_time": 1}),
        )
        .await;
    let run = run["run"]["info"]["run_id"].as_str().unwrap().to_owned();
    let addr = s.base.trim_start_matches("http://").to_owned();

    // Four 60 MiB batches at once: two that say their length, two chunked.
    let sends: Vec<_> = (0..4)
        .map(|i| tokio::spawn(huge_batch(addr.clone(), run.clone(), i % 2 == 1)))
        .collect();
    for send in sends {
        let (status, body) = send.await.unwrap();
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error_code"], "INVALID_PARAMETER_VALUE", "{body}");
        assert!(
            body["message"].as_str().unwrap().contains("limit"),
            "{body}"
        );
    }

    // Within the size cap but over the count: the count is named, and the
    // million-element tree is never built.
    let metrics = format!("[{}]", METRIC.repeat(100_000).trim_end_matches(','));
    let body = format!(r#"{{"run_id":"{run}","metrics":{metrics}}}"#);
    let counted: Vec<_> = (0..4)
        .map(|_| {
            let request = s
                .client
                .post(s.url("/api/2.0/mlflow/runs/log-batch"))
                .header("content-type", "application/json")
                .body(body.clone());
            tokio::spawn(request.send())
        })
        .collect();
    for request in counted {
        let response = request.await.unwrap().unwrap();
        assert_eq!(response.status().as_u16(), 400);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error_code"], "INVALID_PARAMETER_VALUE", "{answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(
            message.contains("at most 1000 metrics. Got 100000 metrics"),
            "{message}"
        );
    }
    drop(body);

    let peak = peak_rss_bytes();
    assert!(
        peak < 300 * 1024 * 1024,
        "peak resident memory {} MiB",
        peak / (1024 * 1024)
    );
    // Nothing was logged, and the server still serves.
    let (status, got) = s
        .get(&format!("/api/2.0/mlflow/runs/get?run_id={run}"))
        .await;
    assert_eq!(status, 200);
    assert!(
        got["run"]["data"]["metrics"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "{got}"
    );
    s.stop().await;
}
