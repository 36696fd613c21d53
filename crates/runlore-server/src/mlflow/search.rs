//! `runs/search` (pushed down to the store's search) and
//! `metrics/get-history`.

use axum::Json;
use axum::extract::{RawQuery, State};
use runlore_core::filter::{Attribute, Expr, Field, OrderKey, parse_filter, parse_order_by};
use runlore_core::store::{MAX_PAGE_SIZE, MetricRange, RunQuery};
use runlore_core::{ExperimentId, HistoryPoint, LifecycleView, MetricValue};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value, json};

use super::body::{Body, Fields, parse_experiment_id, query_map, wrong_type};
use super::error::MlflowResult;
use super::{runs, token, wire};
use crate::AppState;

type Reply = MlflowResult<Json<Value>>;

/// MLflow's bounds on `max_results` for run search.
const MAX_RESULTS: usize = 50_000;
const DEFAULT_RESULTS: usize = 1_000;

/// `tags.mlflow.runName` is the run's name in Runlore, and MLflow's
/// `created` is the run's start time (Runlore's `created` is when the
/// record was made).
fn rewrite_field(field: &mut Field) {
    match field {
        Field::Tag(key) if key == wire::RUN_NAME_TAG => {
            *field = Field::Attribute(Attribute::RunName);
        }
        Field::Attribute(Attribute::Created) => *field = Field::Attribute(Attribute::StartTime),
        _ => {}
    }
}

fn rewrite(expr: &mut Expr) {
    match expr {
        Expr::And(a, b) | Expr::Or(a, b) => {
            rewrite(a);
            rewrite(b);
        }
        Expr::Compare(cmp) => rewrite_field(&mut cmp.field),
    }
}

fn experiment_ids(body: &Map<String, Value>) -> MlflowResult<Vec<ExperimentId>> {
    match body.get("experiment_ids") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => parse_experiment_id(s),
                other => Err(wrong_type("experiment_ids", other)),
            })
            .collect(),
        Some(other) => Err(wrong_type("experiment_ids", other)),
    }
}

fn view(text: Option<String>) -> LifecycleView {
    match text.as_deref() {
        Some("DELETED_ONLY") => LifecycleView::Inactive,
        Some("ALL") => LifecycleView::All,
        _ => LifecycleView::Active,
    }
}

fn order_keys(body: &Map<String, Value>) -> MlflowResult<Vec<OrderKey>> {
    let texts: Vec<String> = match body.get("order_by") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(wrong_type("order_by", other)),
            })
            .collect::<MlflowResult<_>>()?,
        Some(other) => return Err(wrong_type("order_by", other)),
    };
    let mut keys = parse_order_by(&texts)?;
    for key in &mut keys {
        rewrite_field(&mut key.field);
    }
    // MLflow breaks ties (and orders the runs lacking a key) newest first.
    let start_time = Field::Attribute(Attribute::StartTime);
    if !keys.is_empty() && !keys.iter().any(|k| k.field == start_time) {
        keys.push(OrderKey {
            field: start_time,
            descending: true,
        });
    }
    Ok(keys)
}

pub async fn search_runs(State(state): State<AppState>, Body(body): Body) -> Reply {
    let limit = token::max_results(body.opt_i64("max_results")?, DEFAULT_RESULTS, MAX_RESULTS)?;
    let experiment_ids = experiment_ids(&body)?;
    let mut filter = parse_filter(&body.opt_str("filter")?.unwrap_or_default())?;
    if let Some(expr) = &mut filter {
        rewrite(expr);
    }
    let order_by = order_keys(&body)?;
    // No experiment named means no run, as in MLflow (the store would
    // read an empty list as "every experiment").
    if experiment_ids.is_empty() {
        return Ok(Json(json!({})));
    }
    let mut query = RunQuery {
        project: None,
        experiment_ids,
        filter,
        order_by,
        view: view(body.opt_str("run_view_type")?),
        limit: 0,
        cursor: body.opt_str("page_token")?.filter(|t| !t.is_empty()),
    };
    // The store pages at most MAX_PAGE_SIZE runs at a time; MLflow allows
    // 50,000 in one answer, so large pages are assembled from several.
    let mut runs = Vec::new();
    let mut next = None;
    while runs.len() < limit {
        query.limit = (limit - runs.len()).min(MAX_PAGE_SIZE);
        let page = state.store.search_runs(query.clone()).await?;
        runs.extend(page.items);
        next = page.next_cursor;
        match &next {
            Some(cursor) => query.cursor = Some(cursor.clone()),
            None => break,
        }
    }
    let mut out = Map::new();
    if !runs.is_empty() {
        let mut items = Vec::with_capacity(runs.len());
        for run in &runs {
            items.push(runs::run_json(&state, run).await?);
        }
        out.insert("runs".into(), Value::Array(items));
    }
    if let Some(cursor) = next {
        out.insert("next_page_token".into(), json!(cursor));
    }
    Ok(Json(Value::Object(out)))
}

pub async fn metric_history(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
) -> MlflowResult<Json<HistoryPage>> {
    let args = query_map(q.as_deref());
    let id = args.run_id()?;
    let key = args.req_str("metric_key")?;
    let limit = token::max_results(args.opt_i64("max_results")?, usize::MAX, usize::MAX)?;
    let offset = token::decode(args.opt_str("page_token")?.as_deref())?;
    let range = MetricRange {
        key: key.clone(),
        start_step: None,
        end_step: None,
    };
    // MLflow answers an empty history, not 404, for an unknown run or key.
    let mut points = match state.store.metric_history(&id, range).await {
        Ok(points) => points,
        Err(e) if e.kind() == runlore_core::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    // MLflow answers in logging-time order (the client does not re-sort);
    // the store keeps step order, so ties in time stay in step order.
    points.sort_by_key(|p| p.timestamp);
    let total = points.len();
    let end = offset.saturating_add(limit).min(total);
    points.truncate(end);
    points.drain(..offset.min(end));
    Ok(Json(HistoryPage {
        key,
        points,
        next_page_token: (end < total).then(|| token::encode(end)),
    }))
}

/// `{"metrics": [{"key","value","timestamp","step"}…], "next_page_token"}`,
/// serialised straight from the points: a 25,000-point page built as a
/// `serde_json::Value` tree costs tens of megabytes of short-lived
/// allocations.
pub struct HistoryPage {
    key: String,
    points: Vec<HistoryPoint>,
    next_page_token: Option<String>,
}

impl Serialize for HistoryPage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if !self.points.is_empty() {
            map.serialize_entry("metrics", &KeyedPoints(self))?;
        }
        if let Some(token) = &self.next_page_token {
            map.serialize_entry("next_page_token", token)?;
        }
        map.end()
    }
}

struct KeyedPoints<'a>(&'a HistoryPage);

impl Serialize for KeyedPoints<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Keyed<'a> {
            key: &'a str,
            value: MetricValue,
            timestamp: i64,
            step: i64,
        }
        serializer.collect_seq(self.0.points.iter().map(|p| Keyed {
            key: &self.0.key,
            value: p.value,
            timestamp: p.timestamp,
            step: p.step,
        }))
    }
}
