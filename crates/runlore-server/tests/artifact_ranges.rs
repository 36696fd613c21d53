//! `Range` requests on artifact downloads through a real server: the UI
//! reads only the end of a long log.
#![allow(clippy::unwrap_used)]

mod common;

use common::TestServer;
use serde_json::json;

async fn get_range(s: &TestServer, url: &str, range: &str) -> (u16, Option<String>, Vec<u8>) {
    let r = s
        .client
        .get(s.url(url))
        .header("range", range)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let content_range = r
        .headers()
        .get("content-range")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, content_range, r.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn a_log_tail_is_read_with_a_suffix_range() {
    let s = TestServer::start().await;
    let run = s.new_run(json!({"project": "p", "name": "r"})).await;
    let log: Vec<u8> = (0..20_000)
        .flat_map(|i| format!("epoch {i} loss {}\n", 1.0 / f64::from(i + 1)).into_bytes())
        .collect();
    let url = format!("/api/v1/runs/{run}/artifacts/logs/stdout.log");
    let put = s
        .client
        .put(s.url(&url))
        .body(log.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201);
    let size = log.len();

    let whole = s.client.get(s.url(&url)).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["accept-ranges"], "bytes");

    let (status, range, body) = get_range(&s, &url, "bytes=-4096").await;
    assert_eq!(status, 206);
    assert_eq!(
        range.unwrap(),
        format!("bytes {}-{}/{size}", size - 4096, size - 1)
    );
    assert_eq!(body, &log[size - 4096..]);

    let (status, range, body) = get_range(&s, &url, "bytes=10-19").await;
    assert_eq!(
        (status, range.as_deref()),
        (206, Some(&*format!("bytes 10-19/{size}")))
    );
    assert_eq!(body, &log[10..20]);

    // A suffix longer than the file is the whole file.
    let (status, _, body) = get_range(&s, &url, &format!("bytes=-{}", size * 2)).await;
    assert_eq!((status, body.len()), (206, size));

    // Past the end: 416 saying the size; several ranges: the whole file.
    let (status, range, _) = get_range(&s, &url, &format!("bytes={size}-")).await;
    assert_eq!((status, range), (416, Some(format!("bytes */{size}"))));
    let (status, _, body) = get_range(&s, &url, "bytes=0-1,5-6").await;
    assert_eq!((status, body.len()), (200, size));

    // A missing file is still a 404 with the API's error.
    let (status, _, body) = get_range(
        &s,
        &format!("/api/v1/runs/{run}/artifacts/nope.log"),
        "bytes=-10",
    )
    .await;
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
    s.stop().await;
}
