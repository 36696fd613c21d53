//! `/runs/*` writes and reads of single runs.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{RawQuery, State};
use runlore_core::{
    DatasetInput, ErrorKind, ExperimentId, Lifecycle, LogBatch, MetricPoint, MetricValue, ModelId,
    ModelOutput, NewRun, Run, RunId, RunPatch, RunStatus,
};
use serde_json::{Map, Value, json};

use super::body::{
    BatchBody, Body, Fields, MAX_ENTRIES, MAX_METRICS, MAX_PARAMS, MAX_TAGS, limit_error,
    query_map, wrong_type,
};
use super::error::{MlflowError, MlflowResult};
use super::{experiments, wire};
use crate::AppState;

type Reply = MlflowResult<Json<Value>>;

/// Loads a run, with MLflow's message when it does not exist.
pub async fn find(state: &AppState, id: &RunId) -> MlflowResult<Run> {
    state
        .store
        .get_run(id)
        .await
        .map_err(|e| not_found_as_run(e, id))
}

pub fn not_found_as_run(e: runlore_core::Error, id: &RunId) -> MlflowError {
    if e.kind() == ErrorKind::NotFound {
        MlflowError::not_found(format!("Run with id={id} not found"))
    } else {
        e.into()
    }
}

/// The experiment's stored artifact location (usually none), cached: it
/// never changes after creation and `runs/get` is the client's most
/// frequent call.
pub async fn exp_location(state: &AppState, id: ExperimentId) -> MlflowResult<Option<String>> {
    if let Some(hit) = state.locations.get(id.value()) {
        return Ok(hit);
    }
    let exp = state.store.get_experiment(id).await?;
    state
        .locations
        .put(id.value(), exp.artifact_location.clone());
    Ok(exp.artifact_location)
}

pub async fn run_json(state: &AppState, run: &Run) -> MlflowResult<Value> {
    let location = exp_location(state, run.experiment_id).await?;
    Ok(wire::run(run, location.as_deref()))
}

fn parse_status(text: &str) -> MlflowResult<RunStatus> {
    if text == "SCHEDULED" {
        return Ok(RunStatus::Planned);
    }
    text.parse::<RunStatus>()
        .map_err(|_| MlflowError::invalid(format!("Invalid run status '{text}'")))
}

pub async fn create(State(state): State<AppState>, Body(body): Body) -> Reply {
    // The client always names the experiment ("0" for Default).
    let exp_id = body.experiment_id("experiment_id")?;
    let exp = experiments::find(&state, exp_id).await?;
    if exp.lifecycle != Lifecycle::Active {
        return Err(MlflowError::invalid(format!(
            "The experiment {exp_id} must be in the 'active' state. Current state is {}.",
            exp.lifecycle.as_str()
        )));
    }
    let mut tags: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in body.key_values("tags")? {
        tags.insert(k, wire::truncate_tag(v));
    }
    let name = body
        .opt_str("run_name")?
        .filter(|s| !s.is_empty())
        .or_else(|| tags.get(wire::RUN_NAME_TAG).cloned())
        .filter(|s| !s.trim().is_empty());
    // The name lives in the run itself; the tag is rebuilt from it on read.
    tags.remove(wire::RUN_NAME_TAG);
    let parent_run_id = match tags.get(wire::PARENT_RUN_TAG).map(|p| RunId::parse(p)) {
        Some(Ok(parent)) if state.store.get_run(&parent).await.is_ok() => Some(parent),
        _ => None,
    };
    let run = state
        .store
        .create_run(NewRun {
            id: None,
            project: exp.project.clone(),
            experiment: None,
            experiment_id: Some(exp_id),
            name,
            status: Some(RunStatus::Running),
            start_time: body.opt_i64("start_time")?,
            user: body.opt_str("user_id")?,
            parent_run_id,
            params: BTreeMap::new(),
            parents: dag_parent(tags.get(wire::DAG_PARENT_TAG))?,
            tags,
            features: None,
        })
        .await?;
    Ok(Json(json!({"run": run_json(&state, &run).await?})))
}

pub async fn get(State(state): State<AppState>, RawQuery(q): RawQuery) -> Reply {
    let id = query_map(q.as_deref()).run_id()?;
    let run = find(&state, &id).await?;
    Ok(Json(json!({"run": run_json(&state, &run).await?})))
}

pub async fn update(State(state): State<AppState>, Body(body): Body) -> Reply {
    let id = body.run_id()?;
    find(&state, &id).await?;
    let patch = RunPatch {
        name: body.opt_str("run_name")?.filter(|s| !s.is_empty()),
        status: body
            .opt_str("status")?
            .as_deref()
            .map(parse_status)
            .transpose()?,
        end_time: body.opt_i64("end_time")?,
    };
    let run = state.store.update_run(&id, patch).await?;
    let location = exp_location(&state, run.experiment_id).await?;
    Ok(Json(
        json!({"run_info": wire::run_info(&run, location.as_deref())}),
    ))
}

async fn set_lifecycle(state: &AppState, body: &Map<String, Value>, to: Lifecycle) -> Reply {
    let id = body.run_id()?;
    state
        .store
        .set_run_lifecycle(&id, to)
        .await
        .map_err(|e| not_found_as_run(e, &id))?;
    Ok(Json(json!({})))
}

pub async fn delete(State(state): State<AppState>, Body(body): Body) -> Reply {
    set_lifecycle(&state, &body, Lifecycle::Deleted).await
}

pub async fn restore(State(state): State<AppState>, Body(body): Body) -> Reply {
    set_lifecycle(&state, &body, Lifecycle::Active).await
}

/// Parses one metric object (`log-metric` body or a `log-batch` element).
fn metric(obj: &Map<String, Value>) -> MlflowResult<MetricPoint> {
    let key = obj.req_str("key")?;
    let value = match obj.get("value") {
        None | Some(Value::Null) => return Err(MlflowError::missing("value")),
        Some(v) => {
            serde_json::from_value::<MetricValue>(v.clone()).map_err(|_| wrong_type("value", v))?
        }
    };
    let Some(timestamp) = obj.opt_i64("timestamp")? else {
        return Err(MlflowError::missing("timestamp"));
    };
    Ok(MetricPoint {
        key,
        value,
        step: obj.opt_i64("step")?.unwrap_or(0),
        timestamp: Some(timestamp),
    })
}

/// Writes a batch, turning an `mlflow.runName` tag into a rename.
async fn write(state: &AppState, id: &RunId, mut batch: LogBatch) -> Reply {
    let rename = batch.tags.remove(wire::RUN_NAME_TAG);
    // A `features` param holding a JSON object also becomes the run's
    // features (the experiment graph's configuration tree).
    let features = batch
        .params
        .get(wire::FEATURES_PARAM)
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        .filter(Value::is_object);
    state
        .store
        .log_batch(id, batch)
        .await
        .map_err(|e| not_found_as_run(e, id))?;
    if let Some(features) = features {
        state.store.set_run_features(id, features).await?;
    }
    if let Some(name) = rename.filter(|n| !n.trim().is_empty()) {
        let patch = RunPatch {
            name: Some(name),
            ..RunPatch::default()
        };
        state.store.update_run(id, patch).await?;
    }
    Ok(Json(json!({})))
}

pub async fn log_metric(State(state): State<AppState>, Body(body): Body) -> Reply {
    let id = body.run_id()?;
    let batch = LogBatch {
        metrics: vec![metric(&body)?],
        ..LogBatch::default()
    };
    write(&state, &id, batch).await
}

pub async fn log_param(State(state): State<AppState>, Body(body): Body) -> Reply {
    let id = body.run_id()?;
    let key = body.req_str("key")?;
    let Some(value) = body.opt_str("value")? else {
        return Err(MlflowError::missing("value"));
    };
    let batch = LogBatch {
        params: BTreeMap::from([(key, wire::truncate_param(value))]),
        ..LogBatch::default()
    };
    write(&state, &id, batch).await
}

/// The DAG parent named by a `runlore.parent` tag, if any.
fn dag_parent(value: Option<&String>) -> MlflowResult<Vec<runlore_core::ParentLink>> {
    let Some(value) = value.map(|v| v.trim()).filter(|v| !v.is_empty()) else {
        return Ok(Vec::new());
    };
    let run_id = RunId::parse(value).map_err(|_| {
        MlflowError::invalid(format!(
            "tag '{}' must hold a 32-character run id, got '{value}'",
            wire::DAG_PARENT_TAG
        ))
    })?;
    Ok(vec![runlore_core::ParentLink {
        run_id,
        kind: runlore_core::EdgeKind::DerivedFrom,
        resume_step: None,
    }])
}

pub async fn set_tag(State(state): State<AppState>, Body(body): Body) -> Reply {
    let id = body.run_id()?;
    let key = body.req_str("key")?;
    let value = wire::truncate_tag(body.opt_str("value")?.unwrap_or_default());
    if key == wire::DAG_PARENT_TAG {
        let parents = dag_parent(Some(&value))?;
        state.store.set_run_parents(&id, parents, "mlflow").await?;
    }
    let batch = LogBatch {
        tags: BTreeMap::from([(key, value)]),
        ..LogBatch::default()
    };
    write(&state, &id, batch).await
}

pub async fn delete_tag(State(state): State<AppState>, Body(body): Body) -> Reply {
    let id = body.run_id()?;
    let key = body.req_str("key")?;
    find(&state, &id).await?;
    state.store.delete_run_tag(&id, &key).await.map_err(|e| {
        if e.kind() == ErrorKind::NotFound {
            MlflowError::not_found(format!("No tag with name: {key} in run with id {id}"))
        } else {
            e.into()
        }
    })?;
    Ok(Json(json!({})))
}

fn objects<'a>(
    body: &'a Map<String, Value>,
    name: &str,
) -> MlflowResult<Vec<&'a Map<String, Value>>> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_object().ok_or_else(|| {
                    MlflowError::invalid(format!(
                        "Invalid value for parameter '{name}': each element must be an object"
                    ))
                })
            })
            .collect(),
        Some(other) => Err(wrong_type(name, other)),
    }
}

/// [`BatchBody`] counted the lists before building them; the limits are
/// checked again on what was parsed.
pub async fn log_batch(State(state): State<AppState>, BatchBody(body): BatchBody) -> Reply {
    let id = body.run_id()?;
    let metrics = objects(&body, "metrics")?;
    let params = body.key_values("params")?;
    let tags = body.key_values("tags")?;
    if metrics.len() > MAX_METRICS {
        return Err(limit_error("metrics", MAX_METRICS, metrics.len()));
    }
    if params.len() > MAX_PARAMS {
        return Err(limit_error("params", MAX_PARAMS, params.len()));
    }
    if tags.len() > MAX_TAGS {
        return Err(limit_error("tags", MAX_TAGS, tags.len()));
    }
    let total = metrics.len() + params.len() + tags.len();
    if total > MAX_ENTRIES {
        return Err(limit_error("metrics, params, and tags", MAX_ENTRIES, total));
    }
    let mut batch = LogBatch::default();
    for m in metrics {
        batch.metrics.push(metric(m)?);
    }
    let mut duplicates: Vec<String> = Vec::new();
    for (k, v) in params {
        if batch.params.contains_key(&k) {
            duplicates.push(format!("'{k}'"));
        }
        batch.params.insert(k, wire::truncate_param(v));
    }
    if !duplicates.is_empty() {
        return Err(MlflowError::invalid(format!(
            "Duplicate parameter keys have been submitted: [{}]. Please ensure the request \
             contains only one param value per param key.",
            duplicates.join(", ")
        )));
    }
    for (k, v) in tags {
        batch.tags.insert(k, wire::truncate_tag(v));
    }
    write(&state, &id, batch).await
}

pub async fn log_inputs(State(state): State<AppState>, Body(body): Body) -> Reply {
    let id = body.run_id()?;
    let mut inputs = Vec::new();
    for item in objects(&body, "datasets")? {
        let Some(Value::Object(dataset)) = item.get("dataset") else {
            return Err(MlflowError::missing("dataset"));
        };
        inputs.push(DatasetInput {
            name: dataset.req_str("name")?,
            digest: dataset.req_str("digest")?,
            source_type: dataset.opt_str("source_type")?.unwrap_or_default(),
            source: dataset.opt_str("source")?.unwrap_or_default(),
            schema: dataset.opt_str("schema")?,
            profile: dataset.opt_str("profile")?,
            tags: item.key_values("tags")?.into_iter().collect(),
        });
    }
    state
        .models
        .log_inputs(&id, inputs)
        .await
        .map_err(|e| not_found_as_run(e, &id))?;
    Ok(Json(json!({})))
}

pub async fn log_outputs(State(state): State<AppState>, Body(body): Body) -> Reply {
    let id = body.run_id()?;
    let mut outputs = Vec::new();
    for item in objects(&body, "models")? {
        outputs.push(ModelOutput {
            model_id: ModelId::parse(&item.req_str("model_id")?)?,
            step: item.opt_i64("step")?.unwrap_or(0),
        });
    }
    find(&state, &id).await?;
    state.models.log_model_outputs(&id, outputs).await?;
    Ok(Json(json!({})))
}
