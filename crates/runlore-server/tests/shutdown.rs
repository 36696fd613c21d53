//! Graceful shutdown: a request in flight when the signal comes is
//! finished, and what it wrote is on disk afterwards.

mod common;

use std::time::Duration;

use common::TestServer;
use serde_json::{Value, json};

#[tokio::test]
async fn shutdown_finishes_requests_in_flight() {
    let s = TestServer::start().await;
    let id = s.new_run(json!({"project": "p"})).await;
    let points: Vec<Value> = (0..20_000)
        .map(|i| json!({"key": "loss", "value": 1.0, "step": i}))
        .collect();
    let body = serde_json::to_vec(&json!({"metrics": points})).unwrap();
    let (first, rest) = body.split_at(body.len() / 2);
    let (first, rest) = (first.to_vec(), rest.to_vec());

    // The body is streamed in two halves so the request is provably in
    // flight (headers and half the body received) when shutdown begins.
    let (send, receive) = tokio::sync::mpsc::channel::<Vec<u8>>(2);
    let stream = futures::stream::unfold(receive, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, std::io::Error>(chunk), rx))
    });
    let request = s
        .client
        .post(s.url(&format!("/api/v1/runs/{id}/log")))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send();
    let in_flight = tokio::spawn(request);
    send.send(first).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let data_dir = s.data_dir.clone();
    let stopping = tokio::spawn(s.stop());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !stopping.is_finished(),
        "server stopped with a request in flight"
    );
    send.send(rest).await.unwrap();
    drop(send);

    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let outcome: Value = response.json().await.unwrap();
    assert_eq!(outcome["metrics_written"], 20_000);
    let _dir = tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .unwrap()
        .unwrap();

    // A new server on the same data dir sees every point.
    let again = TestServer::on(data_dir, |_| {}).await;
    let (_, history) = again.get(&format!("/api/v1/runs/{id}/metrics/loss")).await;
    assert_eq!(history["total"], 20_000);
    again.stop().await;
}
