//! A `features.yaml` logged through the MLflow artifact proxy is parsed with
//! its nesting bounded first and off the runtime's threads: a deeply nested
//! file is refused at once, and the server keeps answering while large
//! files are being parsed.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::TestServer;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

const BOUND: Duration = Duration::from_secs(30);

async fn new_run(s: &TestServer, experiment: &str) -> String {
    let (status, run) = s
        .post(
            "/api/2.0/mlflow/runs/create",
            json!({"experiment_id": experiment, "start_time": 1}),
        )
        .await;
    assert_eq!(status, 200, "{run}");
    run["run"]["info"]["run_id"].as_str().unwrap().to_owned()
}

async fn experiment(s: &TestServer) -> String {
    let (_, created) = s
        .post(
            "/api/2.0/mlflow/experiments/create",
            json!({"name": "deep"}),
        )
        .await;
    created["experiment_id"].as_str().unwrap().to_owned()
}

fn upload_path(experiment: &str, run: &str, file: &str) -> String {
    format!("/api/2.0/mlflow-artifacts/artifacts/{experiment}/{run}/artifacts/{file}")
}

#[tokio::test]
async fn deeply_nested_features_are_refused_at_once() {
    let s = TestServer::start().await;
    let experiment = experiment(&s).await;
    let flow = |n: usize| "a: ".to_owned() + &"[".repeat(n) + &"]".repeat(n);
    let block: String = (0..600).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
    let json_deep = "{\"a\":".repeat(100_000) + "1" + &"}".repeat(100_000);
    for (file, text) in [
        ("features.yaml", flow(100_000)),
        ("features.yml", flow(200_000)),
        ("features.yaml", block),
        ("features.json", json_deep),
    ] {
        let run = new_run(&s, &experiment).await;
        let response = tokio::time::timeout(
            BOUND,
            s.client
                .put(s.url(&upload_path(&experiment, &run, file)))
                .body(text)
                .send(),
        )
        .await
        .expect("not refused within the bound")
        .unwrap();
        assert_eq!(response.status().as_u16(), 400, "{file}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error_code"], "INVALID_PARAMETER_VALUE", "{body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("at most 64 levels"),
            "{body}"
        );
        // Nothing was recorded: no features, no artifact.
        let (_, features) = s.get(&format!("/api/v1/runs/{run}/features")).await;
        assert!(
            features
                .get("features")
                .is_none_or(|f| f.is_null() || f == &json!({})),
            "{features}"
        );
        let (_, listing) = s.get(&format!("/api/v1/runs/{run}/artifacts")).await;
        assert_eq!(listing["items"], json!([]), "{listing}");
    }
    s.stop().await;
}

/// Writes an upload request but for the body's last byte.
async fn upload_all_but_last_byte(s: &TestServer, path: &str, body: &str) -> TcpStream {
    let mut stream = TcpStream::connect(s.base.trim_start_matches("http://"))
        .await
        .unwrap();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/yaml\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
        .write_all(&body.as_bytes()[..body.len() - 1])
        .await
        .unwrap();
    stream
}

/// Sends the last byte, then leaves a task waiting for the answer.
async fn finish_upload(mut stream: TcpStream, body: &str) -> JoinHandle<String> {
    stream
        .write_all(&body.as_bytes()[body.len() - 1..])
        .await
        .unwrap();
    tokio::spawn(async move {
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    })
}

/// Health checks the server answers, one after another, while the uploads
/// are still waiting for their answers: a parse on the runtime's worker
/// threads (two, as on the 2-core machine) would hold them all up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_while_two_features_files_are_parsed() {
    const CHECKS: usize = 20;
    let s = TestServer::start().await;
    let experiment = experiment(&s).await;
    // Within the depth limit, but about a megabyte of nesting: hundreds of
    // milliseconds of parsing each. Its root is a list, so it is refused as
    // soon as it is parsed: nothing but the parse keeps the uploads pending.
    let heavy: String = (0..8_000)
        .map(|_| format!("- {}{}\n", "[".repeat(60), "]".repeat(60)))
        .collect();
    assert!(heavy.len() < 1 << 20);
    let runs = [
        new_run(&s, &experiment).await,
        new_run(&s, &experiment).await,
    ];
    // Both bodies all but complete, then both completed at once, so that
    // the two parses run at the same time.
    let mut started = Vec::new();
    for run in &runs {
        let path = upload_path(&experiment, run, "features.yaml");
        started.push(upload_all_but_last_byte(&s, &path, &heavy).await);
    }
    let mut uploads = Vec::new();
    for stream in started {
        uploads.push(finish_upload(stream, &heavy).await);
    }
    let mut answered = 0;
    while answered < CHECKS && uploads.iter().all(|u| !u.is_finished()) {
        let health = tokio::time::timeout(BOUND, s.client.get(s.url("/health")).send())
            .await
            .expect("/health did not answer within the bound")
            .unwrap();
        assert_eq!(health.status().as_u16(), 200);
        answered += 1;
    }
    assert_eq!(
        answered, CHECKS,
        "an upload finished after only {answered} health checks: /health waited for parsing"
    );
    for upload in uploads {
        let answer = tokio::time::timeout(BOUND, upload)
            .await
            .expect("upload not answered within the bound")
            .unwrap();
        let status = answer.split(' ').nth(1).unwrap_or("");
        assert!(
            status.starts_with('2') || status.starts_with('4'),
            "{answer}"
        );
    }
    s.stop().await;
}
