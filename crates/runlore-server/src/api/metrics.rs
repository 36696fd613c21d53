//! Metric keys and histories, downsampled on request for charts.

use axum::extract::State;
use runlore_core::HistoryPoint;
use runlore_core::downsample::downsample;
use runlore_core::store::MetricRange;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::runs::run_id;
use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Path, Query};

#[derive(Serialize, ToSchema)]
pub struct MetricKeys {
    keys: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/runs/{id}/metrics", tag = "metrics",
    responses((status = 200, body = MetricKeys), (status = 404, body = ErrorBody)))]
pub async fn keys(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<MetricKeys>> {
    let keys = state.store.metric_keys(&run_id(&id)?).await?;
    Ok(axum::Json(MetricKeys { keys }))
}

#[derive(Deserialize, IntoParams)]
pub struct HistoryParams {
    /// Downsample to at most this many points (at least 2): the first and
    /// last points and each bucket's minimum and maximum are kept.
    max_points: Option<usize>,
    /// First step of the range (inclusive).
    start_step: Option<i64>,
    /// Last step of the range (inclusive).
    end_step: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct History {
    key: String,
    points: Vec<HistoryPoint>,
    /// Points in the requested range before downsampling.
    total: usize,
    downsampled: bool,
}

#[utoipa::path(get, path = "/api/v1/runs/{id}/metrics/{key}", tag = "metrics", params(HistoryParams),
    responses((status = 200, body = History), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    Path((id, key)): Path<(String, String)>,
    Query(params): Query<HistoryParams>,
) -> ApiResult<axum::Json<History>> {
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
    let points = state.store.metric_history(&id, range).await?;
    let total = points.len();
    let (points, downsampled) = match params.max_points {
        Some(max) if total > max => (downsample(&points, max), true),
        _ => (points, false),
    };
    Ok(axum::Json(History {
        key,
        points,
        total,
        downsampled,
    }))
}
