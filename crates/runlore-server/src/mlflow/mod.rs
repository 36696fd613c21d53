//! The MLflow tracking API, so the unmodified `mlflow` client logs to
//! Runlore: `/api/2.0/mlflow/…` (and the web UI's `/ajax-api/2.0/mlflow/…`),
//! the artifact proxy `/api/2.0/mlflow-artifacts/…`, and
//! `/api/3.0/mlflow/server-info`. Wire details are in
//! `shared/research/mlflow-wire.md`; the handlers are thin adapters over the
//! same stores as the native API, so everything logged here is visible
//! there and the reverse.

mod artifacts;
mod body;
mod error;
mod experiments;
mod matcher;
mod models;
mod runs;
mod search;
mod token;
mod wire;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::http::Uri;
use axum::routing::{delete, get, patch, post, put};
use serde_json::json;

use crate::AppState;
use error::MlflowError;

/// The MLflow release whose wire protocol this adapter follows; `/version`
/// answers it because tools compare it against their own.
pub const MLFLOW_WIRE_VERSION: &str = "3.17.2";

fn tracking() -> Router<AppState> {
    Router::new()
        .route("/experiments/get-by-name", get(experiments::get_by_name))
        .route("/experiments/create", post(experiments::create))
        .route("/experiments/get", get(experiments::get))
        .route("/experiments/search", post(experiments::search))
        .route("/experiments/update", post(experiments::update))
        .route("/experiments/delete", post(experiments::delete))
        .route("/experiments/restore", post(experiments::restore))
        .route(
            "/experiments/set-experiment-tag",
            post(experiments::set_tag),
        )
        .route(
            "/experiments/delete-experiment-tag",
            post(experiments::delete_tag),
        )
        .route("/runs/create", post(runs::create))
        .route("/runs/get", get(runs::get))
        .route("/runs/update", post(runs::update))
        .route("/runs/delete", post(runs::delete))
        .route("/runs/restore", post(runs::restore))
        .route("/runs/log-metric", post(runs::log_metric))
        .route("/runs/log-parameter", post(runs::log_param))
        .route("/runs/log-batch", post(runs::log_batch))
        .route("/runs/set-tag", post(runs::set_tag))
        .route("/runs/delete-tag", post(runs::delete_tag))
        .route("/runs/log-inputs", post(runs::log_inputs))
        .route("/runs/outputs", post(runs::log_outputs))
        .route("/runs/search", post(search::search_runs))
        .route("/metrics/get-history", get(search::metric_history))
        .route("/logged-models", post(models::create))
        .route("/logged-models/search", post(models::search))
        .route(
            "/logged-models/{id}",
            get(models::get).patch(models::finalize),
        )
        .route("/logged-models/{id}/tags", patch(models::set_tags))
        .route("/logged-models/{id}/tags/{key}", delete(models::delete_tag))
        .fallback(unknown_endpoint)
}

pub fn routes() -> Router<AppState> {
    let artifacts = Router::new()
        .route("/artifacts", get(artifacts::list))
        .route(
            "/artifacts/{*path}",
            put(artifacts::upload)
                .get(artifacts::download)
                .delete(artifacts::delete),
        )
        .fallback(unknown_endpoint);
    // Clients probe 3.0 endpoints (traces, …) and need a JSON 404, not the
    // UI's index page, to fall back gracefully.
    let v3 = Router::new()
        .route("/server-info", get(server_info))
        .fallback(unknown_endpoint);
    Router::new()
        .nest("/api/2.0/mlflow", tracking())
        .nest("/ajax-api/2.0/mlflow", tracking())
        .nest("/api/2.0/mlflow-artifacts", artifacts)
        .nest("/api/3.0/mlflow", v3.clone())
        .nest("/ajax-api/3.0/mlflow", v3)
        .route("/version", get(version))
}

async fn unknown_endpoint(uri: Uri) -> MlflowError {
    MlflowError::new(
        axum::http::StatusCode::NOT_FOUND,
        "ENDPOINT_NOT_FOUND",
        format!(
            "Runlore does not implement the MLflow endpoint '{}'",
            uri.path()
        ),
    )
}

/// The capability probe the client makes before downloads: no optional
/// features (multipart and presigned transfers) are offered.
async fn server_info() -> axum::Json<serde_json::Value> {
    axum::Json(json!({
        "store_type": "SqlStore",
        "workspaces_enabled": false,
        "trace_archival_enabled": false,
        "multipart_uploads_enabled": false,
        "multipart_downloads_enabled": false,
        "presigned_upload_run_id_supported": false,
        "presigned_upload_model_id_supported": false,
        "features_enabled": {}
    }))
}

async fn version() -> &'static str {
    MLFLOW_WIRE_VERSION
}

/// Experiments' artifact locations, which never change once created.
#[derive(Clone, Default)]
pub struct LocationCache {
    inner: Arc<RwLock<HashMap<i64, Option<String>>>>,
}

impl LocationCache {
    /// Entries kept at most; the cache is cleared when full (experiments
    /// are few, so this is a guard, not a policy).
    const CAPACITY: usize = 100_000;

    pub fn get(&self, id: i64) -> Option<Option<String>> {
        self.inner.read().ok()?.get(&id).cloned()
    }

    pub fn put(&self, id: i64, location: Option<String>) {
        if let Ok(mut map) = self.inner.write() {
            if map.len() >= Self::CAPACITY {
                map.clear();
            }
            map.insert(id, location);
        }
    }
}
