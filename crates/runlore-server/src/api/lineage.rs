//! Lineage, integrity and garbage collection through the native API: thin
//! handlers over [`ArtifactService`], which the CLI also uses on a local
//! data dir.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use runlore_core::artifact_service::{
    ArtifactDiff, ArtifactService, GcOptions, UseInput, VerifyTarget,
};
use runlore_core::lineage::{GcReport, LineageGraph, LineageScope, TraceDirection, VerifyReport};
use runlore_core::{Error, Sha256Hex};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::runs::run_id;
use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct LineageParams {
    /// A run: what it used and made, and the runs behind its inputs.
    run: Option<String>,
    /// A project: all its runs.
    project: Option<String>,
    /// A blob: every run that made or used it; with `direction`, a trace.
    sha256: Option<String>,
    /// `up` (what it was made from) or `down` (what was made from it).
    direction: Option<String>,
    /// Hops to follow in a trace (default 100, at most 10,000).
    depth: Option<u32>,
    /// `json` (default, Runlore's graph), `prov-json` or `prov-n`.
    format: Option<String>,
}

const DEFAULT_TRACE_DEPTH: u32 = 100;

/// The one scope the parameters name.
fn scope(params: &LineageParams) -> ApiResult<LineageScope> {
    let named = [&params.run, &params.project, &params.sha256]
        .iter()
        .filter(|p| p.is_some())
        .count();
    if named != 1 {
        return Err(Error::invalid("name exactly one of run, project or sha256").into());
    }
    if let Some(run) = &params.run {
        return Ok(LineageScope::Run(run_id(run)?));
    }
    if let Some(project) = &params.project {
        return Ok(LineageScope::Project(project.clone()));
    }
    let sha256 = Sha256Hex::parse(params.sha256.as_deref().unwrap_or_default())?;
    Ok(match &params.direction {
        Some(direction) => LineageScope::Trace {
            sha256,
            direction: TraceDirection::parse(direction)?,
            depth: params.depth.unwrap_or(DEFAULT_TRACE_DEPTH),
        },
        None => LineageScope::Blob(sha256),
    })
}

/// A W3C PROV-JSON document (`format=prov-json`): `prefix`, then one
/// object per kind of record (`entity`, `activity`, `used`, …).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)] // documents the shape; the document is built as JSON
pub struct ProvJson {
    #[schema(value_type = Object)]
    prefix: serde_json::Value,
}

/// The JSON answers of `GET /lineage`, for the OpenAPI document.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // documents the two JSON shapes; never built
pub enum LineageJson {
    Graph(LineageGraph),
    Prov(ProvJson),
}

#[utoipa::path(get, path = "/api/v1/lineage", tag = "lineage", params(LineageParams),
    responses((status = 200,
               description = "the graph (`format=json`), PROV-JSON (`prov-json`) or PROV-N (`prov-n`)",
               content((LineageJson = "application/json"), (String = "text/provenance-notation"))),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn lineage(
    State(state): State<AppState>,
    Query(params): Query<LineageParams>,
) -> ApiResult<Response> {
    let scope = scope(&params)?;
    let format = params.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "prov-json" | "prov-n") {
        return Err(Error::invalid(format!(
            "format must be json, prov-json or prov-n, not '{format}'"
        ))
        .into());
    }
    if format == "json" {
        let json = state.artifact_service().lineage_json(scope).await?;
        return Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response());
    }
    let graph = state.artifact_service().lineage(scope).await?;
    Ok(if format == "prov-json" {
        axum::Json(runlore_core::prov::to_prov_json(&graph)).into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                "text/provenance-notation; charset=utf-8",
            )],
            runlore_core::prov::to_prov_n(&graph),
        )
            .into_response()
    })
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct VerifyRequest {
    run: Option<String>,
    project: Option<String>,
    sha256: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/lineage/verify", tag = "lineage",
    request_body(content = VerifyRequest, description = "one of run, project, sha256; none for every blob"),
    responses((status = 200, body = VerifyReport), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    Json(body): Json<VerifyRequest>,
) -> ApiResult<axum::Json<VerifyReport>> {
    let target = match (body.run, body.project, body.sha256) {
        (None, None, None) => VerifyTarget::All,
        (Some(run), None, None) => VerifyTarget::Run(run_id(&run)?),
        (None, Some(project), None) => VerifyTarget::Project(project),
        (None, None, Some(sha)) => VerifyTarget::Blob(Sha256Hex::parse(&sha)?),
        _ => return Err(Error::invalid("name at most one of run, project or sha256").into()),
    };
    Ok(axum::Json(state.artifact_service().verify(target).await?))
}

#[utoipa::path(post, path = "/api/v1/admin/gc", tag = "lineage", request_body = GcOptions,
    responses((status = 200, body = GcReport), (status = 400, body = ErrorBody)))]
pub async fn gc(
    State(state): State<AppState>,
    Json(options): Json<GcOptions>,
) -> ApiResult<axum::Json<GcReport>> {
    Ok(axum::Json(state.artifact_service().gc(options).await?))
}

#[utoipa::path(post, path = "/api/v1/runs/{id}/inputs", tag = "artifacts",
    params(("id" = String, Path, description = "run id: 32 lowercase hex digits", pattern = "^[0-9a-f]{32}$")), request_body = UseInput,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn use_input(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(input): Json<UseInput>,
) -> ApiResult<StatusCode> {
    state
        .artifact_service()
        .use_input(&run_id(&id)?, input)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct DiffParams {
    /// One file to compare line by line (text files up to 1 MiB).
    path: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/runs/{id}/artifact-diff/{other}", tag = "artifacts",
    params(("id" = String, Path, description = "run id: 32 lowercase hex digits", pattern = "^[0-9a-f]{32}$"), ("other" = String, Path, description = "the other run id", pattern = "^[0-9a-f]{32}$"), DiffParams),
    responses((status = 200, body = ArtifactDiff), (status = 404, body = ErrorBody)))]
pub async fn artifact_diff(
    State(state): State<AppState>,
    Path((id, other)): Path<(String, String)>,
    Query(params): Query<DiffParams>,
) -> ApiResult<axum::Json<ArtifactDiff>> {
    let diff = state
        .artifact_service()
        .diff(&run_id(&id)?, &run_id(&other)?, params.path.as_deref())
        .await?;
    Ok(axum::Json(diff))
}
