//! A hostile web page cannot read or change data: DNS-rebound `Host`
//! names are refused, writes need JSON, and cross-site writes are refused,
//! while curl-like clients (no `Origin`) and the server's own pages work.
#![allow(clippy::unwrap_used)]

mod common;

use common::{TestServer, error_message};
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HOST, ORIGIN};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const REBOUND: &str = "attacker-rebind.example";

fn port(s: &TestServer) -> u16 {
    s.base.rsplit(':').next().unwrap().parse().unwrap()
}

async fn send(
    s: &TestServer,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Value) {
    let mut request = s.client.request(method, s.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if !body.is_empty() {
        request = request.body(body.to_owned());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, value)
}

async fn run_count(s: &TestServer) -> usize {
    let (status, page) = s.get("/api/v1/runs").await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().len()
}

async fn project_names(s: &TestServer) -> Vec<String> {
    let (_, list) = s.get("/api/v1/projects?view=all").await;
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

const RUN: &str = r#"{"project":"planted","name":"evil","params":{"lr":"1"}}"#;

#[tokio::test]
async fn a_rebound_host_name_gets_no_data_and_writes_nothing() {
    let s = TestServer::start().await;
    s.new_run(json!({"project": "secret-project"})).await;
    let host = format!("{REBOUND}:{}", port(&s));
    let rebound = [(HOST.as_str(), host.as_str())];

    for path in ["/api/v1/projects", "/api/v1/runs", "/", "/health"] {
        let (status, body) = send(&s, Method::GET, path, &rebound, "").await;
        error_message(status, &body, 403, "host_not_allowed");
        assert!(!body.to_string().contains("secret-project"), "{body}");
    }
    let (status, body) = send(
        &s,
        Method::GET,
        "/api/2.0/mlflow/experiments/get?experiment_id=0",
        &rebound,
        "",
    )
    .await;
    assert_eq!(
        (status, &body["error_code"]),
        (403, &json!("PERMISSION_DENIED")),
        "{body}"
    );

    let json_post = [
        (HOST.as_str(), host.as_str()),
        (CONTENT_TYPE.as_str(), "application/json"),
    ];
    let (status, body) = send(&s, Method::POST, "/api/v1/runs", &json_post, RUN).await;
    error_message(status, &body, 403, "host_not_allowed");
    assert_eq!(run_count(&s).await, 1);
    assert!(!project_names(&s).await.contains(&"planted".to_owned()));
    s.stop().await;
}

#[tokio::test]
async fn loopback_names_and_the_arrival_address_are_accepted() {
    let s = TestServer::start().await;
    let p = port(&s);
    for host in [
        format!("localhost:{p}"),
        format!("127.0.0.1:{p}"),
        "LOCALHOST.".to_owned(),
        format!("[::1]:{p}"),
    ] {
        let (status, body) = send(
            &s,
            Method::GET,
            "/api/v1/projects",
            &[(HOST.as_str(), &host)],
            "",
        )
        .await;
        assert_eq!(status, 200, "{host}: {body}");
    }
    s.stop().await;
}

#[tokio::test]
async fn writes_in_browser_simple_types_are_refused() {
    let s = TestServer::start().await;
    let (status, body) = send(
        &s,
        Method::POST,
        "/api/v1/runs",
        &[(CONTENT_TYPE.as_str(), "text/plain")],
        RUN,
    )
    .await;
    let message = error_message(status, &body, 415, "unsupported_media_type");
    assert!(message.contains("application/json"), "{message}");
    assert_eq!(run_count(&s).await, 0);

    // A form that would run the garbage collector for real.
    let form = [(CONTENT_TYPE.as_str(), "application/x-www-form-urlencoded")];
    let (status, body) = send(
        &s,
        Method::POST,
        "/api/v1/admin/gc",
        &form,
        "apply=true&grace_seconds=0",
    )
    .await;
    error_message(status, &body, 415, "unsupported_media_type");
    let multipart = [(CONTENT_TYPE.as_str(), "multipart/form-data; boundary=x")];
    let (status, body) = send(
        &s,
        Method::PUT,
        "/api/v1/projects/default/settings",
        &multipart,
        "--x--",
    )
    .await;
    error_message(status, &body, 415, "unsupported_media_type");
    // A body without any content type is not JSON either.
    let (status, body) = send(&s, Method::POST, "/api/v1/runs", &[], RUN).await;
    error_message(status, &body, 415, "unsupported_media_type");
    // Even bodyless, a form post to archive is refused.
    let (status, body) = send(
        &s,
        Method::POST,
        "/api/v1/projects/default/archive",
        &form,
        "",
    )
    .await;
    error_message(status, &body, 415, "unsupported_media_type");
    assert_eq!(run_count(&s).await, 0);

    // JSON with parameters, and a bodyless write without a type, are fine.
    let json = [(CONTENT_TYPE.as_str(), "application/json; charset=utf-8")];
    let (status, body) = send(&s, Method::POST, "/api/v1/runs", &json, RUN).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = send(
        &s,
        Method::POST,
        "/api/v1/projects/planted/archive",
        &[],
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    s.stop().await;
}

#[tokio::test]
async fn artifact_uploads_take_any_content_type() {
    let s = TestServer::start().await;
    let run = s.new_run(json!({"project": "p"})).await;
    let text = [(CONTENT_TYPE.as_str(), "text/plain")];
    let (status, body) = send(
        &s,
        Method::PUT,
        &format!("/api/v1/runs/{run}/artifacts/notes.txt"),
        &text,
        "hello",
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = send(
        &s,
        Method::POST,
        &format!("/api/v1/runs/{run}/artifacts/notes.txt"),
        &text,
        "hello",
    )
    .await;
    assert_ne!(status / 100, 2, "{body}");
    s.stop().await;
}

#[tokio::test]
async fn cross_site_writes_are_refused_and_same_origin_ones_pass() {
    let s = TestServer::start().await;
    let json = (CONTENT_TYPE.as_str(), "application/json");
    let other_port = format!("http://127.0.0.1:{}", port(&s) + 1);
    for (origin, fetch_site) in [
        ("http://attacker.example", None),
        (other_port.as_str(), None),
        ("null", None),
        (s.base.as_str(), Some("cross-site")),
    ] {
        let mut headers = vec![json, (ORIGIN.as_str(), origin)];
        if let Some(site) = fetch_site {
            headers.push(("sec-fetch-site", site));
        }
        let (status, body) = send(
            &s,
            Method::POST,
            "/api/v1/projects",
            &headers,
            r#"{"name":"planted"}"#,
        )
        .await;
        let message = error_message(status, &body, 403, "cross_site_request");
        assert!(message.contains("cross-site"), "{message}");
        let (status, body) = send(
            &s,
            Method::POST,
            "/api/v1/projects/default/archive",
            &headers[1..],
            "",
        )
        .await;
        error_message(status, &body, 403, "cross_site_request");
    }
    assert_eq!(project_names(&s).await, vec!["default".to_owned()]);
    let (_, default) = s.get("/api/v1/projects/default").await;
    assert_eq!(default["lifecycle"], "active", "{default}");

    // The server's own page (same origin) and clients without Origin pass.
    let own = [
        json,
        (ORIGIN.as_str(), s.base.as_str()),
        ("sec-fetch-site", "same-origin"),
    ];
    let (status, body) = send(
        &s,
        Method::POST,
        "/api/v1/projects",
        &own,
        r#"{"name":"mine"}"#,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = send(
        &s,
        Method::POST,
        "/api/v1/projects",
        &[json],
        r#"{"name":"curl"}"#,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    // Reads are not writes: a cross-site GET is answered (the browser keeps
    // the answer from the page).
    let (status, _) = send(
        &s,
        Method::GET,
        "/api/v1/projects",
        &[(ORIGIN.as_str(), "http://attacker.example")],
        "",
    )
    .await;
    assert_eq!(status, 200);
    s.stop().await;
}

#[tokio::test]
async fn a_configured_public_name_is_accepted() {
    let s = TestServer::with(|c| c.public_names = vec!["runlore.example".into()]).await;
    let host = format!("runlore.example:{}", port(&s));
    let origin = format!("http://{host}");
    let headers = [
        (HOST.as_str(), host.as_str()),
        (ORIGIN.as_str(), origin.as_str()),
        (CONTENT_TYPE.as_str(), "application/json"),
    ];
    let (status, body) = send(
        &s,
        Method::POST,
        "/api/v1/projects",
        &headers,
        r#"{"name":"public"}"#,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = send(
        &s,
        Method::GET,
        "/api/v1/projects",
        &[(HOST.as_str(), "other.example")],
        "",
    )
    .await;
    error_message(status, &body, 403, "host_not_allowed");
    s.stop().await;
}

#[tokio::test]
async fn mlflow_routes_refuse_text_plain_and_cross_site_in_mlflow_shape() {
    let s = TestServer::start().await;
    let path = "/api/2.0/mlflow/experiments/create";
    let (status, body) = send(
        &s,
        Method::POST,
        path,
        &[(CONTENT_TYPE.as_str(), "text/plain")],
        r#"{"name":"planted"}"#,
    )
    .await;
    assert_eq!(
        (status, &body["error_code"]),
        (400, &json!("INVALID_PARAMETER_VALUE")),
        "{body}"
    );
    let headers = [
        (CONTENT_TYPE.as_str(), "application/json"),
        (ORIGIN.as_str(), "http://attacker.example"),
    ];
    let (status, body) = send(&s, Method::POST, path, &headers, r#"{"name":"planted"}"#).await;
    assert_eq!(
        (status, &body["error_code"]),
        (403, &json!("PERMISSION_DENIED")),
        "{body}"
    );
    let (status, body) = send(
        &s,
        Method::GET,
        "/api/2.0/mlflow/experiments/get-by-name?experiment_name=planted",
        &[],
        "",
    )
    .await;
    assert_eq!(
        (status, &body["error_code"]),
        (404, &json!("RESOURCE_DOES_NOT_EXIST")),
        "{body}"
    );
    // What the mlflow client sends still works.
    let (status, body) = send(
        &s,
        Method::POST,
        path,
        &[(CONTENT_TYPE.as_str(), "application/json")],
        r#"{"name":"ok"}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let experiment = body["experiment_id"].as_str().unwrap().to_owned();
    let create = format!(r#"{{"experiment_id":"{experiment}"}}"#);
    let (_, run) = send(
        &s,
        Method::POST,
        "/api/2.0/mlflow/runs/create",
        &[(CONTENT_TYPE.as_str(), "application/json")],
        &create,
    )
    .await;
    let run = run["run"]["info"]["run_id"].as_str().unwrap().to_owned();
    let upload =
        format!("/api/2.0/mlflow-artifacts/artifacts/{experiment}/{run}/artifacts/notes.txt");
    let (status, body) = send(
        &s,
        Method::PUT,
        &upload,
        &[(CONTENT_TYPE.as_str(), "text/plain")],
        "hello",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    s.stop().await;
}

/// Sends raw bytes and returns the status line.
async fn raw_status(s: &TestServer, request: &[u8]) -> String {
    let mut stream = tokio::net::TcpStream::connect(s.base.trim_start_matches("http://"))
        .await
        .unwrap();
    stream.write_all(request).await.unwrap();
    let mut seen = Vec::new();
    let bound = std::time::Duration::from_secs(20);
    tokio::time::timeout(bound, stream.read_to_end(&mut seen))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&seen)
        .lines()
        .next()
        .unwrap_or("")
        .to_owned()
}

#[tokio::test]
async fn http_1_1_without_a_host_is_a_bad_request() {
    let s = TestServer::start().await;
    let status = raw_status(
        &s,
        b"GET /api/v1/projects HTTP/1.1\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(status.starts_with("HTTP/1.1 400"), "{status}");
    // HTTP/1.0 predates Host; no browser sends it without one.
    let status = raw_status(&s, b"GET /health HTTP/1.0\r\n\r\n").await;
    assert!(status.starts_with("HTTP/1.0 200"), "{status}");
    s.stop().await;
}
