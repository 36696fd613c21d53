//! Connections that stall cannot hold the server: request heads must arrive
//! within the header timeout, bodies may not pause past the body timeout,
//! and with every connection slot taken new clients wait in the listen queue
//! and are served as soon as a slot frees.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The most any wait below may take; the server's own bounds are far shorter.
const BOUND: Duration = Duration::from_secs(20);

fn addr(s: &TestServer) -> String {
    s.base.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection; what it sent before.
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    tokio::time::timeout(BOUND, stream.read_to_end(&mut seen))
        .await
        .expect("the server did not close the connection within the bound")
        .ok();
    seen
}

/// Reads until a whole response head has arrived (within the bound).
async fn read_head(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(BOUND, stream.read(&mut buf))
            .await
            .expect("no response within the bound")
            .expect("read");
        assert!(
            n > 0,
            "closed before a response: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&seen).into_owned()
}

async fn half_a_header(s: &TestServer) -> TcpStream {
    let mut stream = TcpStream::connect(addr(s)).await.expect("connect");
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .await
        .expect("write");
    stream
}

#[tokio::test]
async fn connections_that_never_finish_their_headers_are_closed() {
    let s = TestServer::with(|c| c.header_read_timeout = Duration::from_millis(500)).await;
    let mut slow = Vec::new();
    for _ in 0..50 {
        slow.push(half_a_header(&s).await);
    }
    for stream in &mut slow {
        let said = read_to_close(stream).await;
        // Closed without serving the request (at most a 408 status line).
        assert!(
            !String::from_utf8_lossy(&said).contains("200 OK"),
            "{}",
            String::from_utf8_lossy(&said)
        );
    }
    let (status, _) = s.get("/health").await;
    assert_eq!(status, 200);
    s.stop().await;
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_header_timeout() {
    let s = TestServer::with(|c| c.header_read_timeout = Duration::from_millis(500)).await;
    let mut stream = TcpStream::connect(addr(&s)).await.expect("connect");
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .expect("write");
    let head = read_head(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    read_to_close(&mut stream).await;
    s.stop().await;
}

#[tokio::test]
async fn a_stalled_request_body_is_answered_and_dropped() {
    let s = TestServer::with(|c| c.body_idle_timeout = Duration::from_millis(500)).await;
    let mut stream = TcpStream::connect(addr(&s)).await.expect("connect");
    stream
        .write_all(
            b"POST /api/v1/projects HTTP/1.1\r\nHost: 127.0.0.1\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":",
        )
        .await
        .expect("write");
    let head = read_head(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    s.stop().await;
}

#[tokio::test]
async fn with_every_slot_taken_new_connections_wait_until_one_frees() {
    let s = TestServer::with(|c| {
        c.max_connections = 2;
        c.header_read_timeout = Duration::from_secs(120);
    })
    .await;
    let holders = [half_a_header(&s).await, half_a_header(&s).await];

    // The kernel accepts the connection into the listen queue; the server
    // does not serve it while both slots are held.
    let mut waiting = TcpStream::connect(addr(&s)).await.expect("connect");
    waiting
        .write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(300), waiting.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "served while every slot was taken: {early:?}"
    );

    // A holder goes away: its slot frees and the waiting client is served.
    drop(holders);
    let head = read_head(&mut waiting).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let (status, _) = s.get("/health").await;
    assert_eq!(status, 200);
    s.stop().await;
}
