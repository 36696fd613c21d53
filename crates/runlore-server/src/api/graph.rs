//! The experiment graph through the native API: a run's features with its
//! diff and parents, and the diff between any two runs.

use axum::extract::State;
use runlore_core::{Direction, Graph, ParentChange, ParentLink, RunFeatures};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::runs::run_id;
use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};

#[utoipa::path(get, path = "/api/v1/runs/{id}/features", tag = "graph",
    params(("id" = String, Path, description = "run id: 32 lowercase hex digits", pattern = "^[0-9a-f]{32}$")),
    responses((status = 200, body = RunFeatures), (status = 404, body = ErrorBody)))]
pub async fn features(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<RunFeatures>> {
    Ok(axum::Json(state.store.run_features(&run_id(&id)?).await?))
}

#[utoipa::path(put, path = "/api/v1/runs/{id}/features", tag = "graph",
    params(("id" = String, Path, description = "run id: 32 lowercase hex digits", pattern = "^[0-9a-f]{32}$")),
    request_body(content = Object, description = "the run's features (an object)"),
    responses((status = 200, body = RunFeatures), (status = 400, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn set_features(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(features): Json<Value>,
) -> ApiResult<axum::Json<RunFeatures>> {
    Ok(axum::Json(
        state
            .store
            .set_run_features(&run_id(&id)?, features)
            .await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct RunDiff {
    /// RFC 6902 operations that turn run `id`'s features into run `other`'s.
    #[schema(value_type = Vec<Object>)]
    diff: Value,
}

#[utoipa::path(get, path = "/api/v1/runs/{id}/diff/{other}", tag = "graph",
    params(("id" = String, Path, description = "run id: 32 lowercase hex digits", pattern = "^[0-9a-f]{32}$"), ("other" = String, Path, description = "the other run id", pattern = "^[0-9a-f]{32}$")),
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
#[serde(deny_unknown_fields)]
pub struct SetParents {
    /// The new parents, primary first; `[]` makes the run a root.
    parents: Vec<ParentLink>,
    /// Who made the change (recorded with the time).
    #[serde(default)]
    changed_by: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/runs/{id}/parents", tag = "graph",
    params(("id" = String, Path, description = "run id: 32 lowercase hex digits", pattern = "^[0-9a-f]{32}$")), request_body = SetParents,
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

#[derive(Serialize, ToSchema)]
pub struct RunParents {
    /// The run's parents now, primary first.
    parents: Vec<ParentLink>,
    /// Every change made after creation, oldest first, with who and when.
    changes: Vec<ParentChange>,
}

#[utoipa::path(get, path = "/api/v1/runs/{id}/parents", tag = "graph",
    params(("id" = String, Path, description = "run id: 32 lowercase hex digits", pattern = "^[0-9a-f]{32}$")),
    responses((status = 200, body = RunParents), (status = 404, body = ErrorBody)))]
pub async fn parents(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<RunParents>> {
    let id = run_id(&id)?;
    let features = state.store.run_features(&id).await?;
    Ok(axum::Json(RunParents {
        parents: features.parents,
        changes: state.store.parent_changes(&id).await?,
    }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct DepthParams {
    /// Generations to walk (default 10, at most 1,000).
    depth: Option<u32>,
}

const DEFAULT_DEPTH: u32 = 10;

#[utoipa::path(get, path = "/api/v1/runs/{id}/ancestors", tag = "graph", params(("id" = String, Path, description = "run id: 32 lowercase hex digits", pattern = "^[0-9a-f]{32}$"), DepthParams),
    responses((status = 200, body = Graph), (status = 404, body = ErrorBody)))]
pub async fn ancestors(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<DepthParams>,
) -> ApiResult<axum::Json<Graph>> {
    lineage(&state, &id, Direction::Up, &params).await
}

#[utoipa::path(get, path = "/api/v1/runs/{id}/descendants", tag = "graph", params(("id" = String, Path, description = "run id: 32 lowercase hex digits", pattern = "^[0-9a-f]{32}$"), DepthParams),
    responses((status = 200, body = Graph), (status = 404, body = ErrorBody)))]
pub async fn descendants(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<DepthParams>,
) -> ApiResult<axum::Json<Graph>> {
    lineage(&state, &id, Direction::Down, &params).await
}

async fn lineage(
    state: &AppState,
    id: &str,
    direction: Direction,
    params: &DepthParams,
) -> ApiResult<axum::Json<Graph>> {
    let depth = params.depth.unwrap_or(DEFAULT_DEPTH);
    Ok(axum::Json(
        state
            .store
            .run_lineage(&run_id(id)?, direction, depth)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/projects/{name}/graph", tag = "graph",
    params(("name" = String, Path, description = "project name")),
    responses((status = 200, body = Graph), (status = 404, body = ErrorBody)))]
pub async fn project_graph(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<Graph>> {
    Ok(axum::Json(state.store.project_graph(&name).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DifferingRequest {
    /// 2 to 1,000 runs.
    run_ids: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DifferingPaths {
    /// JSON Pointer paths of the feature leaves that are not the same in
    /// every run (a missing leaf counts as a value), sorted.
    paths: Vec<String>,
}

const MAX_COMPARED: usize = 1_000;

#[utoipa::path(post, path = "/api/v1/runs/features/differing", tag = "graph",
    request_body = DifferingRequest,
    responses((status = 200, body = DifferingPaths), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn differing(
    State(state): State<AppState>,
    Json(body): Json<DifferingRequest>,
) -> ApiResult<axum::Json<DifferingPaths>> {
    if body.run_ids.len() > MAX_COMPARED {
        return Err(ApiError::invalid(format!(
            "at most {MAX_COMPARED} runs can be compared, got {}",
            body.run_ids.len()
        )));
    }
    let mut trees = Vec::with_capacity(body.run_ids.len());
    for id in &body.run_ids {
        trees.push(state.store.run_features(&run_id(id)?).await?.full);
    }
    Ok(axum::Json(DifferingPaths {
        paths: runlore_core::graph::differing_paths(&trees),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunIds {
    /// At most 10,000 runs.
    run_ids: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RunTree {
    #[schema(value_type = String)]
    run_id: runlore_core::RunId,
    #[schema(value_type = Object)]
    features: Value,
}

#[derive(Serialize, ToSchema)]
pub struct RunTrees {
    items: Vec<RunTree>,
}

/// Most runs one batch request may name.
pub const MAX_BATCH_RUNS: usize = 10_000;

pub fn run_ids_of(ids: &[String]) -> ApiResult<Vec<runlore_core::RunId>> {
    if ids.len() > MAX_BATCH_RUNS {
        return Err(ApiError::invalid(format!(
            "at most {MAX_BATCH_RUNS} runs per request, got {}",
            ids.len()
        )));
    }
    ids.iter().map(|id| run_id(id)).collect()
}

#[utoipa::path(post, path = "/api/v1/runs/features/batch", tag = "graph",
    request_body = RunIds,
    responses((status = 200, body = RunTrees), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn feature_trees(
    State(state): State<AppState>,
    Json(body): Json<RunIds>,
) -> ApiResult<axum::Json<RunTrees>> {
    let ids = run_ids_of(&body.run_ids)?;
    let items = state
        .store
        .feature_trees(&ids)
        .await?
        .into_iter()
        .map(|(run_id, features)| RunTree { run_id, features })
        .collect();
    Ok(axum::Json(RunTrees { items }))
}
