//! The experiment graph through the native API: a run's features with its
//! diff and parents, and the diff between any two runs.

use axum::extract::State;
use runlore_core::{ParentLink, RunFeatures};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::runs::run_id;
use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path};

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

#[derive(Deserialize, ToSchema)]
pub struct SetParents {
    /// The new parents, primary first; `[]` makes the run a root.
    parents: Vec<ParentLink>,
    /// Who made the change (recorded with the time).
    #[serde(default)]
    changed_by: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/runs/{id}/parents", tag = "graph", request_body = SetParents,
    responses((status = 200, body = RunFeatures), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn set_parents(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<SetParents>,
) -> ApiResult<axum::Json<RunFeatures>> {
    let who = body.changed_by.unwrap_or_else(|| "unknown".to_owned());
    Ok(axum::Json(
        state
            .store
            .set_run_parents(&run_id(&id)?, body.parents, &who)
            .await?,
    ))
}
