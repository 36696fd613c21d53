//! Metric keys and histories, downsampled on request for charts.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use runlore_core::store::MetricRange;
use runlore_core::{HistoryPoint, MetricValue};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::runs::run_id;
use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};

#[derive(Serialize, ToSchema)]
pub struct MetricKeys {
    keys: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/runs/{id}/metrics", tag = "metrics",
    params(("id" = String, Path, description = "run id: 32 lowercase hex digits", pattern = "^[0-9a-f]{32}$")),
    responses((status = 200, body = MetricKeys), (status = 404, body = ErrorBody)))]
pub async fn keys(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<MetricKeys>> {
    let keys = state.store.metric_keys(&run_id(&id)?).await?;
    Ok(axum::Json(MetricKeys { keys }))
}

/// How the points travel: `points` (default, one object per point),
/// `columns` (one array per field, about half the bytes) or `binary`
/// (`application/octet-stream`, 24 bytes a point: step i64, timestamp i64,
/// value f64, all little-endian; NaN and infinities as themselves).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HistoryFormat {
    #[default]
    Points,
    Columns,
    Binary,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    /// Downsample to at most this many points (at least 2): the first and
    /// last points and each bucket's minimum and maximum are kept.
    max_points: Option<usize>,
    /// First step of the range (inclusive).
    start_step: Option<i64>,
    /// Last step of the range (inclusive).
    end_step: Option<i64>,
    #[serde(default)]
    format: HistoryFormat,
}

#[derive(Serialize, ToSchema)]
pub struct History {
    key: String,
    points: Vec<HistoryPoint>,
    /// Points in the requested range before downsampling.
    total: usize,
    downsampled: bool,
}

/// `format=columns`: the same history, one array per field.
#[derive(Serialize, ToSchema)]
pub struct HistoryColumns {
    key: String,
    steps: Vec<i64>,
    timestamps: Vec<i64>,
    #[schema(value_type = Vec<f64>)]
    values: Vec<MetricValue>,
    total: usize,
    downsampled: bool,
}

/// The header that names the binary layout, so a reader can check it.
pub const BINARY_LAYOUT: &str = "step:i64le,timestamp:i64le,value:f64le";

/// The JSON answer of a history read, for the OpenAPI document: `points`
/// or `columns`, as `format` asks.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // documents the two JSON shapes; never built
pub enum HistoryJson {
    Points(History),
    Columns(HistoryColumns),
}

#[utoipa::path(get, path = "/api/v1/runs/{id}/metrics/{key}", tag = "metrics",
    params(("id" = String, Path, description = "run id: 32 lowercase hex digits", pattern = "^[0-9a-f]{32}$"),
           ("key" = String, Path, description = "metric key; may contain `/`"), HistoryParams),
    responses((status = 200, description = "the history: JSON for `points` and `columns`, 24 bytes a point for `binary`",
               content((HistoryJson = "application/json"), (Vec<u8> = "application/octet-stream"))),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    Path((id, key)): Path<(String, String)>,
    Query(params): Query<HistoryParams>,
) -> ApiResult<Response> {
    let id = run_id(&id)?;
    if params.max_points.is_some_and(|n| n < 2) {
        return Err(ApiError::invalid("max_points must be at least 2"));
    }
    if let (Some(start), Some(end)) = (params.start_step, params.end_step)
        && start > end
    {
        return Err(ApiError::invalid(format!(
            "start_step {start} is after end_step {end}"
        )));
    }
    let range = MetricRange {
        key: key.clone(),
        start_step: params.start_step,
        end_step: params.end_step,
    };
    // A downsampled read goes to the store, which can answer it without
    // decoding every point (SQLite: chunk summaries).
    let (points, total, downsampled) = match params.max_points {
        Some(max) => {
            let sampled = state.store.downsampled_history(&id, range, max).await?;
            let downsampled = sampled.total > max;
            (sampled.points, sampled.total, downsampled)
        }
        None => {
            let points = state.store.metric_history(&id, range).await?;
            let total = points.len();
            (points, total, false)
        }
    };
    Ok(match params.format {
        HistoryFormat::Points => axum::Json(History {
            key,
            points,
            total,
            downsampled,
        })
        .into_response(),
        HistoryFormat::Columns => axum::Json(HistoryColumns {
            key,
            steps: points.iter().map(|p| p.step).collect(),
            timestamps: points.iter().map(|p| p.timestamp).collect(),
            values: points.iter().map(|p| p.value).collect(),
            total,
            downsampled,
        })
        .into_response(),
        HistoryFormat::Binary => binary(&points, total, downsampled),
    })
}

fn binary(points: &[HistoryPoint], total: usize, downsampled: bool) -> Response {
    let mut body = Vec::with_capacity(points.len() * 24);
    for p in points {
        body.extend_from_slice(&p.step.to_le_bytes());
        body.extend_from_slice(&p.timestamp.to_le_bytes());
        body.extend_from_slice(&p.value.0.to_le_bytes());
    }
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert("x-runlore-layout", HeaderValue::from_static(BINARY_LAYOUT));
    headers.insert("x-runlore-total", HeaderValue::from(total));
    headers.insert(
        "x-runlore-downsampled",
        HeaderValue::from_static(if downsampled { "true" } else { "false" }),
    );
    response
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SummaryRequest {
    /// At most 10,000 runs.
    run_ids: Vec<String>,
    /// At most 20 metric keys.
    keys: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Summaries {
    items: Vec<runlore_core::MetricSummary>,
}

const MAX_SUMMARY_KEYS: usize = 20;

#[utoipa::path(post, path = "/api/v1/runs/metric-summaries", tag = "metrics",
    request_body = SummaryRequest,
    responses((status = 200, body = Summaries), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn summaries(
    State(state): State<AppState>,
    Json(body): Json<SummaryRequest>,
) -> ApiResult<axum::Json<Summaries>> {
    let ids = super::graph::run_ids_of(&body.run_ids)?;
    if body.keys.len() > MAX_SUMMARY_KEYS {
        return Err(ApiError::invalid(format!(
            "at most {MAX_SUMMARY_KEYS} metric keys per request, got {}",
            body.keys.len()
        )));
    }
    let items = state.store.metric_summaries(&ids, &body.keys).await?;
    Ok(axum::Json(Summaries { items }))
}
