//! Projects: create, list, get, archive, unarchive, settings.

use axum::extract::State;
use axum::http::StatusCode;
use runlore_core::{Lifecycle, NewProject, Project, ProjectSettings, SettingsUpdate};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{Items, parse_view};
use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};

#[utoipa::path(post, path = "/api/v1/projects", tag = "projects", request_body = NewProject,
    responses((status = 201, body = Project), (status = 409, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Json(new): Json<NewProject>,
) -> ApiResult<(StatusCode, axum::Json<Project>)> {
    let project = state.store.create_project(new).await?;
    Ok((StatusCode::CREATED, axum::Json(project)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// active (default), inactive (archived) or all
    view: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/projects", tag = "projects", params(ListParams),
    responses((status = 200, body = Items<Project>)))]
pub async fn list(
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> ApiResult<axum::Json<Items<Project>>> {
    let view = parse_view(params.view.as_deref())?;
    let items = state.store.list_projects(view).await?;
    Ok(axum::Json(Items { items }))
}

#[utoipa::path(get, path = "/api/v1/projects/{name}", tag = "projects",
    params(("name" = String, Path, description = "project name")),
    responses((status = 200, body = Project), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<Project>> {
    Ok(axum::Json(state.store.get_project(&name).await?))
}

#[utoipa::path(post, path = "/api/v1/projects/{name}/archive", tag = "projects",
    params(("name" = String, Path, description = "project name")),
    responses((status = 200, body = Project), (status = 404, body = ErrorBody)))]
pub async fn archive(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<Project>> {
    Ok(axum::Json(
        state
            .store
            .set_project_lifecycle(&name, Lifecycle::Archived)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/projects/{name}/unarchive", tag = "projects",
    params(("name" = String, Path, description = "project name")),
    responses((status = 200, body = Project), (status = 404, body = ErrorBody)))]
pub async fn unarchive(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<Project>> {
    Ok(axum::Json(
        state
            .store
            .set_project_lifecycle(&name, Lifecycle::Active)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/projects/{name}/settings", tag = "projects",
    params(("name" = String, Path, description = "project name")),
    responses((status = 200, body = ProjectSettings), (status = 404, body = ErrorBody)))]
pub async fn settings(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<ProjectSettings>> {
    Ok(axum::Json(state.store.project_settings(&name).await?))
}

/// Replaces all of the settings: every field must be given (`null` or `[]`
/// to clear one), so a field left out or misspelt cannot erase a setting.
#[utoipa::path(put, path = "/api/v1/projects/{name}/settings", tag = "projects",
    params(("name" = String, Path, description = "project name")),
    request_body = SettingsUpdate,
    responses((status = 200, body = ProjectSettings), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn set_settings(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Json(update): Json<SettingsUpdate>,
) -> ApiResult<axum::Json<ProjectSettings>> {
    let settings = update.into_replacement()?;
    Ok(axum::Json(
        state.store.set_project_settings(&name, settings).await?,
    ))
}

/// Changes the settings given and keeps the others; `null` clears one.
#[utoipa::path(patch, path = "/api/v1/projects/{name}/settings", tag = "projects",
    params(("name" = String, Path, description = "project name")),
    request_body = SettingsUpdate,
    responses((status = 200, body = ProjectSettings), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn patch_settings(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Json(update): Json<SettingsUpdate>,
) -> ApiResult<axum::Json<ProjectSettings>> {
    // Read, merge, write, not one transaction: of two PATCHes of different
    // fields at the same instant, the later write can put back the field
    // the other changed. Settings are edited by hand, rarely; a store-side
    // merge would close this if it ever matters.
    let current = state.store.project_settings(&name).await?;
    let settings = update.merged_into(current);
    Ok(axum::Json(
        state.store.set_project_settings(&name, settings).await?,
    ))
}
