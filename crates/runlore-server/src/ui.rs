//! The web UI's files. When a built UI is given (`--ui-dir`, which
//! `cargo xtask serve` passes after building ui/), its files are served with
//! index.html as the fallback for client-side routes; otherwise `/` explains
//! how to get one and where the API is.

use std::path::PathBuf;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use tower_http::services::{ServeDir, ServeFile};

use crate::AppState;

pub fn routes(ui_dir: Option<PathBuf>) -> Router<AppState> {
    match ui_dir.filter(|dir| dir.join("index.html").is_file()) {
        Some(dir) => {
            let index = ServeFile::new(dir.join("index.html"));
            Router::new().fallback_service(ServeDir::new(dir).fallback(index))
        }
        None => Router::new().route("/", get(no_ui)),
    }
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
