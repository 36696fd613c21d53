//! Experiments: create, list, get, rename, delete, restore, tags.

use axum::extract::State;
use axum::http::StatusCode;
use runlore_core::store::ExperimentQuery;
use runlore_core::{Experiment, ExperimentId, Lifecycle, NewExperiment, Page};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::parse_view;
use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};

fn experiment_id(text: &str) -> ApiResult<ExperimentId> {
    Ok(ExperimentId::parse(text)?)
}

#[utoipa::path(post, path = "/api/v1/experiments", tag = "experiments", request_body = NewExperiment,
    responses((status = 201, body = Experiment), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Json(new): Json<NewExperiment>,
) -> ApiResult<(StatusCode, axum::Json<Experiment>)> {
    let experiment = state.store.create_experiment(new).await?;
    Ok((StatusCode::CREATED, axum::Json(experiment)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    project: Option<String>,
    /// active (default), inactive (deleted) or all
    view: Option<String>,
    /// case-insensitive part of the name
    name_contains: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/experiments", tag = "experiments", params(ListParams),
    responses((status = 200, body = Page<Experiment>)))]
pub async fn list(
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> ApiResult<axum::Json<Page<Experiment>>> {
    let query = ExperimentQuery {
        project: params.project,
        view: parse_view(params.view.as_deref())?,
        name_contains: params.name_contains,
        limit: params.limit.unwrap_or(0),
        cursor: params.cursor,
    };
    Ok(axum::Json(state.store.list_experiments(query).await?))
}

#[utoipa::path(get, path = "/api/v1/experiments/{id}", tag = "experiments",
    params(("id" = String, Path, description = "experiment id: a non-negative number", pattern = "^[0-9]+$")),
    responses((status = 200, body = Experiment), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Experiment>> {
    Ok(axum::Json(
        state.store.get_experiment(experiment_id(&id)?).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rename {
    name: String,
}

#[utoipa::path(patch, path = "/api/v1/experiments/{id}", tag = "experiments",
    params(("id" = String, Path, description = "experiment id: a non-negative number", pattern = "^[0-9]+$")), request_body = Rename,
    responses((status = 200, body = Experiment), (status = 409, body = ErrorBody)))]
pub async fn rename(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<Rename>,
) -> ApiResult<axum::Json<Experiment>> {
    let id = experiment_id(&id)?;
    Ok(axum::Json(
        state.store.rename_experiment(id, &body.name).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/experiments/{id}", tag = "experiments",
    params(("id" = String, Path, description = "experiment id: a non-negative number", pattern = "^[0-9]+$")),
    responses((status = 200, body = Experiment), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Experiment>> {
    let id = experiment_id(&id)?;
    Ok(axum::Json(
        state
            .store
            .set_experiment_lifecycle(id, Lifecycle::Deleted)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/experiments/{id}/restore", tag = "experiments",
    params(("id" = String, Path, description = "experiment id: a non-negative number", pattern = "^[0-9]+$")),
    responses((status = 200, body = Experiment), (status = 404, body = ErrorBody)))]
pub async fn restore(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Experiment>> {
    let id = experiment_id(&id)?;
    Ok(axum::Json(
        state
            .store
            .set_experiment_lifecycle(id, Lifecycle::Active)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagValue {
    value: String,
}

#[utoipa::path(put, path = "/api/v1/experiments/{id}/tags/{key}", tag = "experiments",
    params(("id" = String, Path, description = "experiment id: a non-negative number", pattern = "^[0-9]+$"), ("key" = String, Path, description = "tag key")), request_body = TagValue,
    responses((status = 200, body = Experiment), (status = 404, body = ErrorBody)))]
pub async fn set_tag(
    State(state): State<AppState>,
    Path((id, key)): Path<(String, String)>,
    Json(body): Json<TagValue>,
) -> ApiResult<axum::Json<Experiment>> {
    let id = experiment_id(&id)?;
    state
        .store
        .set_experiment_tag(id, &key, &body.value)
        .await?;
    Ok(axum::Json(state.store.get_experiment(id).await?))
}

#[utoipa::path(delete, path = "/api/v1/experiments/{id}/tags/{key}", tag = "experiments",
    params(("id" = String, Path, description = "experiment id: a non-negative number", pattern = "^[0-9]+$"), ("key" = String, Path, description = "tag key")),
    responses((status = 200, body = Experiment), (status = 404, body = ErrorBody)))]
pub async fn delete_tag(
    State(state): State<AppState>,
    Path((id, key)): Path<(String, String)>,
) -> ApiResult<axum::Json<Experiment>> {
    let id = experiment_id(&id)?;
    state.store.delete_experiment_tag(id, &key).await?;
    Ok(axum::Json(state.store.get_experiment(id).await?))
}
