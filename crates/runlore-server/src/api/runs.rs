//! Runs: create, get, update, delete, restore, search, log.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use runlore_core::filter::{parse_filter, parse_order_by};
use runlore_core::store::RunQuery;
use runlore_core::{
    DEFAULT_PROJECT, ExperimentId, Lifecycle, LogBatch, LogOutcome, NewRun, Page, Run, RunId,
    RunPatch,
};
use serde::Deserialize;
use utoipa::ToSchema;

use super::parse_view;
use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path, query_pairs};

pub fn run_id(text: &str) -> ApiResult<RunId> {
    Ok(RunId::parse(text)?)
}

#[utoipa::path(post, path = "/api/v1/runs", tag = "runs", request_body = NewRun,
    responses((status = 201, body = Run), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody, description = "`experiment_id` or `parent_run_id` names nothing"),
              (status = 409, body = ErrorBody, description = "the client's `id` is a run of another experiment")))]
pub async fn create(
    State(state): State<AppState>,
    Json(new): Json<NewRun>,
) -> ApiResult<(StatusCode, axum::Json<Run>)> {
    let run = state.store.create_run(new).await?;
    Ok((StatusCode::CREATED, axum::Json(run)))
}

#[utoipa::path(get, path = "/api/v1/runs/{id}", tag = "runs",
    params(("id" = String, Path, description = "run id: 32 lowercase hex digits", pattern = "^[0-9a-f]{32}$")),
    responses((status = 200, body = Run), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Run>> {
    Ok(axum::Json(state.store.get_run(&run_id(&id)?).await?))
}

#[utoipa::path(patch, path = "/api/v1/runs/{id}", tag = "runs",
    params(("id" = String, Path, description = "run id: 32 lowercase hex digits", pattern = "^[0-9a-f]{32}$")), request_body = RunPatch,
    responses((status = 200, body = Run), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(patch): Json<RunPatch>,
) -> ApiResult<axum::Json<Run>> {
    Ok(axum::Json(
        state.store.update_run(&run_id(&id)?, patch).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/runs/{id}", tag = "runs",
    params(("id" = String, Path, description = "run id: 32 lowercase hex digits", pattern = "^[0-9a-f]{32}$")),
    responses((status = 200, body = Run), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Run>> {
    let id = run_id(&id)?;
    Ok(axum::Json(
        state
            .store
            .set_run_lifecycle(&id, Lifecycle::Deleted)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/runs/{id}/restore", tag = "runs",
    params(("id" = String, Path, description = "run id: 32 lowercase hex digits", pattern = "^[0-9a-f]{32}$")),
    responses((status = 200, body = Run), (status = 404, body = ErrorBody)))]
pub async fn restore(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Run>> {
    let id = run_id(&id)?;
    Ok(axum::Json(
        state
            .store
            .set_run_lifecycle(&id, Lifecycle::Active)
            .await?,
    ))
}

/// Logs metrics, params and tags atomically. Re-sending the same request
/// stores nothing twice (`metrics_duplicate` counts the skipped points).
#[utoipa::path(post, path = "/api/v1/runs/{id}/log", tag = "runs",
    params(("id" = String, Path, description = "run id: 32 lowercase hex digits", pattern = "^[0-9a-f]{32}$")), request_body = LogBatch,
    responses((status = 200, body = LogOutcome), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn log(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(batch): Json<LogBatch>,
) -> ApiResult<axum::Json<LogOutcome>> {
    Ok(axum::Json(
        state.store.log_batch(&run_id(&id)?, batch).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/runs/{id}/tags/{key}", tag = "runs",
    params(("id" = String, Path, description = "run id: 32 lowercase hex digits", pattern = "^[0-9a-f]{32}$"), ("key" = String, Path, description = "tag key")),
    responses((status = 200, body = Run), (status = 404, body = ErrorBody)))]
pub async fn delete_tag(
    State(state): State<AppState>,
    Path((id, key)): Path<(String, String)>,
) -> ApiResult<axum::Json<Run>> {
    let id = run_id(&id)?;
    state.store.delete_run_tag(&id, &key).await?;
    Ok(axum::Json(state.store.get_run(&id).await?))
}

/// A run search. `GET /api/v1/runs` takes the same fields as query
/// parameters (`order_by` and `experiment_id` may repeat).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchRequest {
    /// All projects when absent (`default` when `experiment` is given).
    #[serde(default)]
    project: Option<String>,
    /// An experiment name inside the project.
    #[serde(default)]
    experiment: Option<String>,
    #[serde(default)]
    experiment_ids: Vec<String>,
    /// e.g. `metrics.acc > 0.5 AND (params.lr = '0.01' OR tags.team LIKE 'cv%')`
    #[serde(default)]
    filter: Option<String>,
    /// e.g. `["metrics.loss ASC", "attributes.start_time DESC"]`
    #[serde(default)]
    order_by: Vec<String>,
    /// active (default), inactive (deleted) or all
    #[serde(default)]
    view: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/runs", tag = "runs",
    params(
        ("project" = Option<String>, Query, description = "project name"),
        ("experiment" = Option<String>, Query, description = "experiment name in the project"),
        ("experiment_id" = Option<String>, Query, description = "experiment id; may repeat"),
        ("filter" = Option<String>, Query, description = "filter expression"),
        ("order_by" = Option<String>, Query, description = "order key, e.g. `metrics.loss DESC`; may repeat"),
        ("view" = Option<String>, Query, description = "active, inactive or all"),
        ("limit" = Option<usize>, Query, description = "page size, at most 10000"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses((status = 200, body = Page<Run>), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody, description = "the project or an experiment named is not there")))]
pub async fn list(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<axum::Json<Page<Run>>> {
    let mut request = SearchRequest::default();
    for (key, value) in query_pairs(raw.as_deref()) {
        match key.as_str() {
            "project" => request.project = Some(value),
            "experiment" => request.experiment = Some(value),
            "experiment_id" | "experiment_ids" => request.experiment_ids.push(value),
            "filter" => request.filter = Some(value),
            "order_by" => request.order_by.extend(split_order_by(&value)),
            "view" => request.view = Some(value),
            "limit" => {
                request.limit = Some(value.trim().parse().map_err(|_| {
                    ApiError::invalid(format!("limit must be a positive integer, got '{value}'"))
                })?)
            }
            "cursor" => request.cursor = Some(value),
            other => {
                return Err(ApiError::invalid(format!(
                    "unknown query parameter '{other}': expected project, experiment, experiment_id, filter, order_by, view, limit or cursor"
                )));
            }
        }
    }
    search_runs(&state, request).await
}

#[utoipa::path(post, path = "/api/v1/runs/search", tag = "runs", request_body = SearchRequest,
    responses((status = 200, body = Page<Run>), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody, description = "the project or an experiment named is not there")))]
pub async fn search(
    State(state): State<AppState>,
    Json(request): Json<SearchRequest>,
) -> ApiResult<axum::Json<Page<Run>>> {
    search_runs(&state, request).await
}

async fn search_runs(state: &AppState, request: SearchRequest) -> ApiResult<axum::Json<Page<Run>>> {
    let mut experiment_ids = request
        .experiment_ids
        .iter()
        .map(|id| ExperimentId::parse(id))
        .collect::<Result<Vec<_>, _>>()?;
    let mut project = request.project;
    if let Some(name) = &request.experiment {
        let in_project = project
            .clone()
            .unwrap_or_else(|| DEFAULT_PROJECT.to_owned());
        let experiment = state
            .store
            .get_experiment_by_name(&in_project, name)
            .await?;
        experiment_ids.push(experiment.id);
        project = Some(in_project);
    }
    let query = RunQuery {
        project,
        experiment_ids,
        filter: parse_filter(request.filter.as_deref().unwrap_or(""))?,
        order_by: parse_order_by(&request.order_by)?,
        view: parse_view(request.view.as_deref())?,
        limit: request.limit.unwrap_or(0),
        cursor: request.cursor,
    };
    Ok(axum::Json(state.store.search_runs(query).await?))
}

/// Splits `a DESC, b` into keys at commas outside quotes and backticks.
fn split_order_by(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (None, '\'' | '"' | '`') => {
                quote = Some(c);
                current.push(c);
            }
            (Some(q), _) if c == q => {
                quote = None;
                current.push(c);
            }
            (None, ',') => keys.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    keys.push(current);
    keys.into_iter()
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::split_order_by;

    #[test]
    fn order_by_splits_outside_quotes() {
        assert_eq!(
            split_order_by("metrics.loss DESC, params.`a,b` ASC"),
            ["metrics.loss DESC", "params.`a,b` ASC"]
        );
        assert_eq!(split_order_by(" name "), ["name"]);
        assert!(split_order_by("").is_empty());
    }
}
