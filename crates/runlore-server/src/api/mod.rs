//! The native API, `/api/v1`: thin handlers over the `MetadataStore`.

mod artifacts;
mod byte_range;
mod experiments;
mod graph;
mod lineage;
mod metrics;
mod openapi;
mod projects;
mod report;
mod runs;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use runlore_core::LifecycleView;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult};

pub fn routes(max_body_bytes: usize) -> Router<AppState> {
    let v1 = Router::new()
        .route("/openapi.json", get(openapi::document))
        .route("/projects", post(projects::create).get(projects::list))
        .route("/projects/{name}", get(projects::get))
        .route("/projects/{name}/archive", post(projects::archive))
        .route("/projects/{name}/unarchive", post(projects::unarchive))
        .route(
            "/projects/{name}/settings",
            get(projects::settings)
                .put(projects::set_settings)
                .patch(projects::patch_settings),
        )
        .route(
            "/experiments",
            post(experiments::create).get(experiments::list),
        )
        .route(
            "/experiments/{id}",
            get(experiments::get)
                .patch(experiments::rename)
                .delete(experiments::delete),
        )
        .route("/experiments/{id}/restore", post(experiments::restore))
        .route(
            "/experiments/{id}/tags/{key}",
            put(experiments::set_tag).delete(experiments::delete_tag),
        )
        .route("/runs", post(runs::create).get(runs::list))
        .route("/runs/search", post(runs::search))
        .route(
            "/runs/{id}",
            get(runs::get).patch(runs::update).delete(runs::delete),
        )
        .route("/runs/{id}/restore", post(runs::restore))
        .route("/runs/{id}/report", get(report::report))
        .route("/runs/{id}/log", post(runs::log))
        .route(
            "/runs/{id}/tags/{key}",
            axum::routing::delete(runs::delete_tag),
        )
        .route("/runs/{id}/artifacts", get(artifacts::list))
        .route("/runs/{id}/inputs", post(lineage::use_input))
        .route(
            "/runs/{id}/artifact-diff/{other}",
            get(lineage::artifact_diff),
        )
        .route("/lineage", get(lineage::lineage))
        .route("/lineage/verify", post(lineage::verify))
        .route("/admin/gc", post(lineage::gc))
        .route(
            "/runs/{id}/artifacts/{*path}",
            put(artifacts::put).get(artifacts::get),
        )
        .route(
            "/runs/{id}/features",
            get(graph::features).put(graph::set_features),
        )
        .route(
            "/runs/{id}/parents",
            get(graph::parents).put(graph::set_parents),
        )
        .route("/runs/{id}/ancestors", get(graph::ancestors))
        .route("/runs/{id}/descendants", get(graph::descendants))
        .route("/runs/features/differing", post(graph::differing))
        .route("/runs/features/batch", post(graph::feature_trees))
        .route("/runs/metric-summaries", post(metrics::summaries))
        .route("/projects/{name}/graph", get(graph::project_graph))
        .route("/runs/{id}/diff/{other}", get(graph::diff))
        .route("/runs/{id}/metrics", get(metrics::keys))
        .route("/runs/{id}/metrics/{*key}", get(metrics::history))
        .fallback(not_found);
    Router::new()
        .route("/health", get(health))
        .nest("/api/v1", v1)
        .layer(DefaultBodyLimit::max(max_body_bytes))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
    version: &'static str,
}

#[utoipa::path(get, path = "/health", tag = "server", responses((status = 200, body = Health)))]
pub async fn health() -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no API route for '{}'", uri.path()),
    )
}

/// `{"items": […]}` for lists that are not paginated.
#[derive(Serialize, ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

/// Reads a `view` parameter: active (default), inactive (archived or
/// deleted), or all.
pub fn parse_view(view: Option<&str>) -> ApiResult<LifecycleView> {
    match view.map(str::trim) {
        None | Some("") | Some("active") => Ok(LifecycleView::Active),
        Some("inactive") | Some("deleted") | Some("archived") => Ok(LifecycleView::Inactive),
        Some("all") => Ok(LifecycleView::All),
        Some(other) => Err(ApiError::invalid(format!(
            "unknown view '{other}': expected active, inactive or all"
        ))),
    }
}
