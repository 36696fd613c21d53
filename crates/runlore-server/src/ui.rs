//! The web UI's files.
//!
//! The UI built into `ui/dist` (`cargo xtask ui`) is embedded into the
//! binary with rust-embed, in debug builds too (`debug-embed`), so the
//! binary that tests run is the one users get. Cargo only notices a UI
//! built after the last compile of this crate if this file is newer; xtask
//! touches it then (`xtask/src/ui.rs`). A folder given with `--ui-dir` takes
//! precedence (handy while working on the UI). Either way files are served
//! with `index.html` as the fallback for client-side routes. Without any
//! built UI (the crate still compiles when `ui/dist` is missing), `/`
//! explains how to get one and where the API is.

use std::path::PathBuf;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use rust_embed::Embed;
use tower_http::services::{ServeDir, ServeFile};

use crate::AppState;

#[derive(Embed)]
#[folder = "../../ui/dist"]
#[allow_missing = true]
struct Assets;

pub fn routes(ui_dir: Option<PathBuf>) -> Router<AppState> {
    if let Some(dir) = ui_dir.filter(|dir| dir.join("index.html").is_file()) {
        let index = ServeFile::new(dir.join("index.html"));
        return Router::new().fallback_service(ServeDir::new(dir).fallback(index));
    }
    if Assets::get("index.html").is_some() {
        return Router::new().fallback(embedded);
    }
    Router::new().route("/", get(no_ui))
}

/// Whether a path belongs to an API rather than to the UI's client routes:
/// an unknown API path answers 404 instead of the UI's index page.
fn is_api_path(path: &str) -> bool {
    path == "health" || path.starts_with("api/") || path.starts_with("ajax-api/")
}

async fn embedded(method: Method, uri: Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let path = uri.path().trim_start_matches('/');
    if is_api_path(path) {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    let (name, file) = match Assets::get(path).filter(|_| !path.is_empty()) {
        Some(file) => (path, file),
        None => match Assets::get("index.html") {
            Some(file) => ("index.html", file),
            None => return (StatusCode::NOT_FOUND, "not found").into_response(),
        },
    };
    let mime = mime_guess::from_path(name).first_or_octet_stream();
    // Vite puts content-hashed files under assets/: they never change.
    let cache = if name.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = Response::new(Body::from(file.data.into_owned()));
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(mime.as_ref()) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

async fn no_ui() -> Html<&'static str> {
    Html(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Runlore</title></head>\
         <body style=\"font-family:sans-serif;max-width:40em;margin:3em auto\">\
         <h1>Runlore</h1><p>The server is running, but no web UI was built.\
         Start it with <code>cargo xtask serve</code> to build and serve the UI.</p>\
         <p>The API is described at <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a>;\
         health at <a href=\"/health\">/health</a>.</p></body></html>",
    )
}

#[cfg(test)]
mod tests {
    use super::is_api_path;

    #[test]
    fn api_paths_are_not_client_routes() {
        assert!(is_api_path("api/v1/nothing"));
        assert!(is_api_path("ajax-api/2.0/mlflow/x"));
        assert!(is_api_path("health"));
        assert!(!is_api_path("healthy-runs"));
        assert!(!is_api_path("projects/vit/runs"));
        assert!(!is_api_path(""));
    }
}
