//! `GET /api/v1/runs/{id}/report`: the run's REPORT.md, built on demand
//! from its records (the same text `runlore run report` prints), so every
//! run has one, not only those `runlore exec` started.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::runs::run_id;
use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Path;

#[utoipa::path(get, path = "/api/v1/runs/{id}/report", tag = "runs",
    params(("id" = String, Path, description = "run id: 32 lowercase hex digits", pattern = "^[0-9a-f]{32}$")),
    responses(
        (status = 200, description = "The report as Markdown", content_type = "text/markdown", body = String),
        (status = 404, body = ErrorBody)))]
pub async fn report(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let id = run_id(&id)?;
    let artifacts = state.artifact_service();
    let text = runlore_core::repro::report::report(state.store.as_ref(), &artifacts, &id).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
        text,
    )
        .into_response())
}
