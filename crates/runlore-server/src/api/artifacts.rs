//! A run's artifacts through the native API. `PUT` streams the body into the
//! blob store (stored once by SHA-256, optionally checked against a digest
//! the client sends), `GET` streams it back, and the listing shows one
//! directory level. The same rows back the MLflow artifact proxy.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use runlore_core::artifact::{list_dir, normalize_dir};
use runlore_core::artifact_service::{ArtifactService, UploadOptions};
use runlore_core::{Artifact, ArtifactDirection, ArtifactEntry, Sha256Hex};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::byte_range::{self, Wanted};
use super::runs::run_id;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Path, Query};
use crate::{AppState, artifact_http};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct PutParams {
    /// The step of a media artifact (an image per epoch …).
    step: Option<i64>,
    /// The SHA-256 the client computed; the upload is refused (and nothing
    /// stored) when the bytes do not match.
    sha256: Option<String>,
    /// `output` (default) or `input` (the run used this file).
    direction: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct ListParams {
    /// The directory to list; the root when empty.
    path: String,
    /// Every file under the directory, at any depth, with its hash, type,
    /// direction and step (in `files`; `items` is then empty).
    recursive: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArtifactList {
    /// One level: files and sub-directories.
    pub items: Vec<ArtifactEntry>,
    /// With `recursive=true`: every file below, as full rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<Artifact>>,
}

#[utoipa::path(put, path = "/api/v1/runs/{id}/artifacts/{path}", tag = "artifacts",
    params(("id" = String, Path, description = "run id: 32 lowercase hex digits", pattern = "^[0-9a-f]{32}$"), ("path" = String, Path, description = "artifact path inside the run; may contain `/`"), PutParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
                 description = "the file's bytes; any Content-Type is taken and recorded as its media type"),
    responses((status = 201, body = Artifact), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    Path((id, path)): Path<(String, String)>,
    Query(params): Query<PutParams>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, axum::Json<Artifact>)> {
    let id = run_id(&id)?;
    let options = UploadOptions {
        expected_sha256: params.sha256.as_deref().map(Sha256Hex::parse).transpose()?,
        direction: match params.direction.as_deref() {
            Some(text) => ArtifactDirection::parse(text)?,
            None => ArtifactDirection::Output,
        },
        step: params.step,
        media_type: headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    };
    let stream = body
        .into_data_stream()
        .map_err(|e| std::io::Error::other(format!("upload interrupted: {e}")));
    let artifact = state
        .artifact_service()
        .upload(&id, &path, Box::pin(stream), options)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(artifact)))
}

/// The file's bytes. A `Range: bytes=…` header with one range (e.g.
/// `bytes=-65536`, the last 64 KiB of a log) gets `206 Partial Content`;
/// a range outside the file (or `bytes=-0`) gets 416; several ranges, or an
/// `If-Range` that is not the current `ETag`, get the whole file. Every
/// 1 MiB chunk is checked against the digests recorded at upload before it
/// is sent: damage found before the first byte is a 500, later damage cuts
/// the response short (the client sees an incomplete body, never a clean
/// end). User content never runs in this origin: `nosniff`, a sandboxing
/// CSP, and `attachment` (with a neutral type) for anything but inert
/// types (images, audio, video, plain text, CSV, JSON).
#[utoipa::path(get, path = "/api/v1/runs/{id}/artifacts/{path}", tag = "artifacts",
    params(("id" = String, Path, description = "run id: 32 lowercase hex digits", pattern = "^[0-9a-f]{32}$"), ("path" = String, Path, description = "artifact path inside the run; may contain `/`")),
    responses((status = 200, description = "The file's bytes, with its recorded type (or `application/octet-stream` as an attachment for active types)",
               content_type = "*/*", body = Vec<u8>),
              (status = 206, description = "The requested byte range", content_type = "*/*", body = Vec<u8>),
              (status = 404, body = ErrorBody),
              (status = 416, description = "The range is outside the file"),
              (status = 500, body = ErrorBody,
               description = "The stored bytes do not match the digests recorded at upload (damage found before the first byte; later damage cuts the body short)")))]
pub async fn get(
    State(state): State<AppState>,
    Path((id, path)): Path<(String, String)>,
    request: HeaderMap,
) -> ApiResult<Response> {
    let id = run_id(&id)?;
    let service = state.artifact_service();
    let artifact = service.artifact(&id, &path).await?;
    let wanted = match request.get(header::RANGE) {
        Some(range) if artifact_http::if_range_allows(&request, &artifact.sha256) => {
            byte_range::parse(range, artifact.size)
        }
        _ => Wanted::Whole,
    };
    match wanted {
        Wanted::Whole => {
            let (_, stream) = service.blobs.get(&artifact.sha256).await?;
            let mut response = Body::from_stream(stream).into_response();
            describe(response.headers_mut(), &artifact, artifact.size);
            Ok(response)
        }
        Wanted::Part(part) => {
            let stream = service
                .blobs
                .get_range(&artifact.sha256, part.clone())
                .await?;
            let mut response = Body::from_stream(stream).into_response();
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
            describe(response.headers_mut(), &artifact, part.end - part.start);
            let content_range = format!("bytes {}-{}/{}", part.start, part.end - 1, artifact.size);
            if let Ok(v) = HeaderValue::from_str(&content_range) {
                response.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            Ok(response)
        }
        Wanted::Unsatisfiable => {
            let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{}", artifact.size)) {
                response.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            Ok(response)
        }
    }
}

/// The headers every artifact response with a body carries.
fn describe(headers: &mut HeaderMap, artifact: &Artifact, length: u64) {
    artifact_http::protect(headers, &artifact.media_type, &artifact.path, false);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(header::ETAG, artifact_http::etag(&artifact.sha256));
    if let Ok(v) = HeaderValue::from_str(artifact.sha256.as_str()) {
        headers.insert("x-runlore-sha256", v);
    }
}

#[utoipa::path(get, path = "/api/v1/runs/{id}/artifacts", tag = "artifacts",
    params(("id" = String, Path, description = "run id: 32 lowercase hex digits", pattern = "^[0-9a-f]{32}$"), ListParams),
    responses((status = 200, body = ArtifactList), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<ListParams>,
) -> ApiResult<axum::Json<ArtifactList>> {
    let dir = normalize_dir(&params.path).map_err(ApiError::from)?;
    let artifacts = state.artifact_service().list(&run_id(&id)?, &dir).await?;
    Ok(axum::Json(if params.recursive {
        ArtifactList {
            items: Vec::new(),
            files: Some(artifacts),
        }
    } else {
        ArtifactList {
            items: list_dir(&dir, &artifacts),
            files: None,
        }
    }))
}
