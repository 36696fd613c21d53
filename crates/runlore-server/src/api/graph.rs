//! The experiment graph through the native API: a run's features with its
//! diff and parents, and the diff between any two runs.

use axum::extract::State;
use runlore_core::RunFeatures;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::runs::run_id;
use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Path;

#[utoipa::path(get, path = "/api/v1/runs/{id}/features", tag = "graph",
    responses((status = 200, body = RunFeatures), (status = 404, body = ErrorBody)))]
pub async fn features(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<RunFeatures>> {
    Ok(axum::Json(state.store.run_features(&run_id(&id)?).await?))
}

#[derive(Serialize, ToSchema)]
pub struct RunDiff {
    /// RFC 6902 operations that turn run `id`'s features into run `other`'s.
    #[schema(value_type = Vec<Object>)]
    diff: Value,
}

#[utoipa::path(get, path = "/api/v1/runs/{id}/diff/{other}", tag = "graph",
    responses((status = 200, body = RunDiff), (status = 404, body = ErrorBody)))]
pub async fn diff(
    State(state): State<AppState>,
    Path((id, other)): Path<(String, String)>,
) -> ApiResult<axum::Json<RunDiff>> {
    let from = state.store.run_features(&run_id(&id)?).await?;
    let to = state.store.run_features(&run_id(&other)?).await?;
    Ok(axum::Json(RunDiff {
        diff: runlore_core::graph::diff(&from.full, &to.full),
    }))
}
