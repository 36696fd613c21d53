//! User files never run in the app's origin: every artifact download, on
//! the native API (whole, Range, HEAD) and the MLflow proxy, carries
//! `nosniff` and a sandboxing CSP; active types (HTML, SVG, XML, JS, files
//! uploaded as `text/html`, anything unknown) go out as attachments with a
//! type that cannot execute, inert ones (images, text, CSV, JSON, audio)
//! inline with their own type so the UI's previews keep working.
#![allow(clippy::unwrap_used)]

mod common;

use common::TestServer;
use reqwest::header::HeaderMap;

const SCRIPT_PAGE: &str = "<html><script>fetch('/api/v1/projects')</script></html>";

/// (path, declared type, served type, shown inline)
const CASES: &[(&str, &str, &str, bool)] = &[
    ("page.html", "", "text/plain; charset=utf-8", false),
    ("page.htm", "", "text/plain; charset=utf-8", false),
    ("doc.xhtml", "", "text/plain; charset=utf-8", false),
    ("feed.xml", "", "text/plain; charset=utf-8", false),
    ("app.js", "", "text/plain; charset=utf-8", false),
    ("pic.svg", "", "image/svg+xml", false),
    ("noext", "text/html", "text/plain; charset=utf-8", false),
    (
        "blob.weird",
        "application/x-unknown",
        "application/octet-stream",
        false,
    ),
    ("plot.png", "", "image/png", true),
    ("notes.txt", "", "text/plain", true),
    ("metrics.csv", "", "text/csv", true),
    ("config.json", "", "application/json", true),
];

fn check(headers: &HeaderMap, path: &str, served: &str, inline: bool, route: &str) {
    let get = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let at = format!("{route} {path}");
    assert_eq!(get("x-content-type-options"), "nosniff", "{at}");
    let csp = get("content-security-policy");
    assert!(
        csp.contains("sandbox") && csp.contains("default-src 'none'"),
        "{at}: {csp}"
    );
    let disposition = get("content-disposition");
    let wanted = if inline { "inline" } else { "attachment" };
    assert!(disposition.starts_with(wanted), "{at}: {disposition}");
    let content_type = get("content-type");
    assert!(content_type.starts_with(served), "{at}: {content_type}");
    assert!(!content_type.contains("html"), "{at}: {content_type}");
}

#[tokio::test]
async fn every_artifact_route_neutralises_active_content() {
    let s = TestServer::start().await;
    let common::MlflowRun { run, proxy, .. } = s.mlflow_run("xss").await;
    for (path, declared, served, inline) in CASES {
        let url = format!("/api/v1/runs/{run}/artifacts/{path}");
        let mut put = s.client.put(s.url(&url)).body(SCRIPT_PAGE);
        if !declared.is_empty() {
            put = put.header("content-type", *declared);
        }
        assert_eq!(put.send().await.unwrap().status(), 201, "{path}");

        let whole = s.client.get(s.url(&url)).send().await.unwrap();
        assert_eq!(whole.status(), 200);
        check(whole.headers(), path, served, *inline, "GET");
        let part = s
            .client
            .get(s.url(&url))
            .header("range", "bytes=0-9")
            .send()
            .await
            .unwrap();
        assert_eq!(part.status(), 206);
        check(part.headers(), path, served, *inline, "Range");
        let head = s.client.head(s.url(&url)).send().await.unwrap();
        assert_eq!(head.status(), 200);
        check(head.headers(), path, served, *inline, "HEAD");
        let via_mlflow = s
            .client
            .get(s.url(&format!("{proxy}/{path}")))
            .send()
            .await
            .unwrap();
        assert_eq!(via_mlflow.status(), 200);
        check(via_mlflow.headers(), path, served, false, "mlflow");
        assert_eq!(via_mlflow.text().await.unwrap(), SCRIPT_PAGE);
    }
}

#[tokio::test]
async fn uploads_through_the_proxy_are_served_the_same_way() {
    let s = TestServer::start().await;
    let common::MlflowRun { run, proxy, .. } = s.mlflow_run("xss").await;
    let put = s
        .client
        .put(s.url(&format!("{proxy}/report.html")))
        .header("content-type", "text/html")
        .body(SCRIPT_PAGE)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let url = format!("/api/v1/runs/{run}/artifacts/report.html");
    let got = s.client.get(s.url(&url)).send().await.unwrap();
    check(
        got.headers(),
        "report.html",
        "text/plain; charset=utf-8",
        false,
        "GET",
    );
    // The exact name survives in the header, however odd.
    let odd = "plots/résumé.svg";
    let put = s
        .client
        .put(s.url(&format!("/api/v1/runs/{run}/artifacts/{odd}")))
        .body("<svg xmlns='http://www.w3.org/2000/svg'/>")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201);
    let got = s
        .client
        .get(s.url(&format!("/api/v1/runs/{run}/artifacts/{odd}")))
        .send()
        .await
        .unwrap();
    let disposition = got.headers()["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"r_sum_.svg\""),
        "{disposition}"
    );
    assert!(
        disposition.contains("filename*=UTF-8''r%C3%A9sum%C3%A9.svg"),
        "{disposition}"
    );
}
