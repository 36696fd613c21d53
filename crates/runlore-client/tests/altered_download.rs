//! A download through `HttpStore` never ends cleanly with bytes other than
//! the ones the listing names: the server in front is a hostile (or
//! broken) one on loopback that lists a file by its true SHA-256 and size
//! and then answers the download with `200` and other bytes of the same
//! length, as a tampering proxy would. Runlore's own server cuts such a
//! response itself (tests in runlore-server); this checks the client's own
//! guard, which `runlore artifact get` and restore rely on.
#![allow(clippy::unwrap_used)]

use futures_util::StreamExt;
use runlore_client::HttpStore;
use runlore_core::artifact_service::ArtifactService;
use runlore_core::{Artifact, ArtifactDirection, RunId, Sha256Hex};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const STORED: &[u8] = b"checkpoint bytes as uploaded";
const SERVED: &[u8] = b"checkpoint bytes as AltereD!";

/// Answers every request on its own connection: the listing for
/// `/artifacts?…`, `SERVED` for anything else. Bounded to a few requests.
async fn hostile_server(listing: serde_json::Value) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        for _ in 0..8 {
            let Ok((mut tcp, _)) = listener.accept().await else {
                return;
            };
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
                let n = tcp.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                head.extend_from_slice(&buf[..n]);
            }
            let request_line = String::from_utf8_lossy(&head)
                .lines()
                .next()
                .unwrap_or("")
                .to_owned();
            let (content_type, body) = if request_line.contains("/artifacts?") {
                ("application/json", serde_json::to_vec(&listing).unwrap())
            } else {
                ("application/octet-stream", SERVED.to_vec())
            };
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            tcp.write_all(answer.as_bytes()).await.unwrap();
            tcp.write_all(&body).await.unwrap();
            let _ = tcp.shutdown().await;
        }
    });
    url
}

#[tokio::test]
async fn bytes_that_differ_from_the_listing_never_download_as_complete() {
    assert_eq!(STORED.len(), SERVED.len());
    let artifact = Artifact {
        path: "ckpt/model.bin".into(),
        sha256: Sha256Hex::parse(&hex::encode(Sha256::digest(STORED))).unwrap(),
        size: STORED.len() as u64,
        media_type: "application/octet-stream".into(),
        direction: ArtifactDirection::Output,
        step: None,
        created_at: 1_700_000_000_000,
    };
    let url = hostile_server(serde_json::json!({"items": [], "files": [artifact]})).await;
    let client = HttpStore::new(&url).unwrap();
    let run = RunId::parse("0123456789abcdef0123456789abcdef").unwrap();

    let (listed, mut stream) = client.download(&run, "ckpt/model.bin").await.unwrap();
    assert_eq!(listed.sha256, artifact.sha256);
    let mut received = Vec::new();
    let mut failure = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(chunk) => received.extend_from_slice(&chunk),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let failure = failure.expect("altered bytes must not end as a clean download");
    assert_eq!(failure.kind(), std::io::ErrorKind::InvalidData);
    assert!(failure.to_string().contains("ckpt/model.bin"), "{failure}");
    assert!(failure.to_string().contains("hash to"), "{failure}");
}
