//! Runlore entities in MLflow's JSON shapes (proto3 JSON: empty lists and
//! messages omitted, ids as strings, times as millisecond numbers).

use runlore_core::validate::{MAX_PARAM_VALUE_LEN, MAX_TAG_VALUE_LEN};
use runlore_core::{
    DEFAULT_PROJECT, Experiment, Lifecycle, LoggedModel, MetricValue, ModelStatus, Run, RunStatus,
    validate,
};
use serde_json::{Map, Value, json};

/// Tags MLflow keeps in dedicated fields in Runlore.
pub const RUN_NAME_TAG: &str = "mlflow.runName";
pub const PARENT_RUN_TAG: &str = "mlflow.parentRunId";
/// Set through the MLflow API, this tag makes the named run the DAG parent
/// (`derived_from`) of the run; it is kept as a tag too.
pub const DAG_PARENT_TAG: &str = "runlore.parent";
/// A param of this name holding a JSON object sets the run's features.
pub const FEATURES_PARAM: &str = "features";

/// The MLflow name of an experiment: its plain name in project `default`,
/// `project/name` elsewhere.
pub fn experiment_name(exp: &Experiment) -> String {
    if exp.project == DEFAULT_PROJECT {
        exp.name.clone()
    } else {
        format!("{}/{}", exp.project, exp.name)
    }
}

/// Where an MLflow experiment name lands: `P/name` in project `P` when `P`
/// is a valid project name, else the whole name in project `default`.
pub fn split_experiment_name(name: &str) -> (String, String) {
    if let Some((project, rest)) = name.split_once('/')
        && !rest.is_empty()
        && validate::project_name(project).is_ok()
    {
        return (project.to_owned(), rest.to_owned());
    }
    (DEFAULT_PROJECT.to_owned(), name.to_owned())
}

pub fn artifact_location(exp_id: &str, stored: Option<&str>) -> String {
    stored.map_or_else(|| format!("mlflow-artifacts:/{exp_id}"), str::to_owned)
}

fn lifecycle_stage(lifecycle: Lifecycle) -> &'static str {
    match lifecycle {
        Lifecycle::Deleted => "deleted",
        Lifecycle::Active | Lifecycle::Archived => "active",
    }
}

fn pairs<'a>(items: impl Iterator<Item = (&'a String, &'a String)>) -> Vec<Value> {
    items.map(|(k, v)| json!({"key": k, "value": v})).collect()
}

pub fn experiment(exp: &Experiment) -> Value {
    let id = exp.id.to_string();
    let mut out = Map::new();
    out.insert("experiment_id".into(), json!(id));
    out.insert("name".into(), json!(experiment_name(exp)));
    out.insert(
        "artifact_location".into(),
        json!(artifact_location(&id, exp.artifact_location.as_deref())),
    );
    out.insert(
        "lifecycle_stage".into(),
        json!(lifecycle_stage(exp.lifecycle)),
    );
    out.insert("last_update_time".into(), json!(exp.updated_at));
    out.insert("creation_time".into(), json!(exp.created_at));
    if !exp.tags.is_empty() {
        out.insert("tags".into(), Value::Array(pairs(exp.tags.iter())));
    }
    Value::Object(out)
}

pub fn status_name(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Planned => "SCHEDULED",
        other => other.as_str(),
    }
}

/// A metric value as MLflow sends it: NaN and infinities as strings.
pub fn metric_value(value: MetricValue) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// `run.info`. `exp_location` is the experiment's stored artifact location.
pub fn run_info(run: &Run, exp_location: Option<&str>) -> Value {
    let exp_id = run.experiment_id.to_string();
    let mut info = Map::new();
    info.insert("run_uuid".into(), json!(run.id.as_str()));
    info.insert("run_id".into(), json!(run.id.as_str()));
    info.insert("experiment_id".into(), json!(exp_id));
    info.insert("run_name".into(), json!(run.name));
    info.insert("user_id".into(), json!(run.user));
    info.insert("status".into(), json!(status_name(run.status)));
    info.insert("start_time".into(), json!(run.start_time.unwrap_or(0)));
    if let Some(end) = run.end_time {
        info.insert("end_time".into(), json!(end));
    }
    info.insert(
        "artifact_uri".into(),
        json!(format!(
            "{}/{}/artifacts",
            artifact_location(&exp_id, exp_location),
            run.id
        )),
    );
    info.insert(
        "lifecycle_stage".into(),
        json!(lifecycle_stage(run.lifecycle)),
    );
    Value::Object(info)
}

/// The whole run: info, data (latest metrics, params, tags), inputs and
/// outputs. The run name and parent are Runlore fields; MLflow reads them
/// as the `mlflow.runName` and `mlflow.parentRunId` tags.
pub fn run(run: &Run, exp_location: Option<&str>) -> Value {
    let mut data = Map::new();
    if !run.metrics.is_empty() {
        let metrics: Vec<Value> = run
            .metrics
            .iter()
            .map(|m| {
                json!({"key": m.key, "value": metric_value(m.value),
                       "timestamp": m.timestamp, "step": m.step})
            })
            .collect();
        data.insert("metrics".into(), Value::Array(metrics));
    }
    if !run.params.is_empty() {
        data.insert("params".into(), Value::Array(pairs(run.params.iter())));
    }
    let mut tags = pairs(run.tags.iter());
    if !run.tags.contains_key(RUN_NAME_TAG) {
        tags.push(json!({"key": RUN_NAME_TAG, "value": run.name}));
    }
    if let Some(parent) = &run.parent_run_id
        && !run.tags.contains_key(PARENT_RUN_TAG)
    {
        tags.push(json!({"key": PARENT_RUN_TAG, "value": parent.as_str()}));
    }
    data.insert("tags".into(), Value::Array(tags));
    let mut inputs = Map::new();
    if !run.inputs.is_empty() {
        let datasets: Vec<Value> = run
            .inputs
            .iter()
            .map(|d| {
                let mut dataset = json!({"name": d.name, "digest": d.digest,
                    "source_type": d.source_type, "source": d.source});
                if let Some(schema) = &d.schema {
                    dataset["schema"] = json!(schema);
                }
                if let Some(profile) = &d.profile {
                    dataset["profile"] = json!(profile);
                }
                let mut input = json!({"dataset": dataset});
                if !d.tags.is_empty() {
                    input["tags"] = Value::Array(pairs(d.tags.iter()));
                }
                input
            })
            .collect();
        inputs.insert("dataset_inputs".into(), Value::Array(datasets));
    }
    let mut outputs = Map::new();
    if !run.model_outputs.is_empty() {
        let models: Vec<Value> = run
            .model_outputs
            .iter()
            .map(|o| json!({"model_id": o.model_id.as_str(), "step": o.step}))
            .collect();
        outputs.insert("model_outputs".into(), Value::Array(models));
    }
    json!({"info": run_info(run, exp_location), "data": data,
           "inputs": inputs, "outputs": outputs})
}

pub fn model_status(status: ModelStatus) -> &'static str {
    match status {
        ModelStatus::Pending => "LOGGED_MODEL_PENDING",
        ModelStatus::Ready => "LOGGED_MODEL_READY",
        ModelStatus::Failed => "LOGGED_MODEL_UPLOAD_FAILED",
    }
}

pub fn parse_model_status(text: &str) -> Option<ModelStatus> {
    match text {
        "LOGGED_MODEL_PENDING" => Some(ModelStatus::Pending),
        "LOGGED_MODEL_READY" => Some(ModelStatus::Ready),
        "LOGGED_MODEL_UPLOAD_FAILED" => Some(ModelStatus::Failed),
        _ => None,
    }
}

pub fn logged_model(model: &LoggedModel, exp_location: Option<&str>) -> Value {
    let exp_id = model.experiment_id.to_string();
    let mut info = Map::new();
    info.insert("model_id".into(), json!(model.id.as_str()));
    info.insert("experiment_id".into(), json!(exp_id));
    info.insert("name".into(), json!(model.name));
    info.insert("creation_timestamp_ms".into(), json!(model.created_at));
    info.insert("last_updated_timestamp_ms".into(), json!(model.updated_at));
    info.insert(
        "artifact_uri".into(),
        json!(format!(
            "{}/models/{}/artifacts",
            artifact_location(&exp_id, exp_location),
            model.id
        )),
    );
    info.insert("status".into(), json!(model_status(model.status)));
    info.insert("model_type".into(), json!(model.model_type));
    if let Some(run) = &model.source_run_id {
        info.insert("source_run_id".into(), json!(run.as_str()));
    }
    if !model.tags.is_empty() {
        info.insert("tags".into(), Value::Array(pairs(model.tags.iter())));
    }
    let mut data = Map::new();
    if !model.params.is_empty() {
        data.insert("params".into(), Value::Array(pairs(model.params.iter())));
    }
    json!({"info": info, "data": data})
}

/// MLflow 3 stores over-long param and tag values truncated rather than
/// refusing them (autologging produces long reprs); so does this adapter,
/// cutting at a character boundary.
pub fn truncate_param(value: String) -> String {
    truncate_chars(value, MAX_PARAM_VALUE_LEN)
}

pub fn truncate_tag(value: String) -> String {
    truncate_chars(value, MAX_TAG_VALUE_LEN)
}

fn truncate_chars(value: String, max: usize) -> String {
    match value.char_indices().nth(max) {
        Some((cut, _)) => value[..cut].to_owned(),
        None => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn experiment_names_map_to_projects() {
        assert_eq!(
            split_experiment_name("vit/lr-sweep"),
            ("vit".into(), "lr-sweep".into())
        );
        assert_eq!(
            split_experiment_name("plain"),
            ("default".into(), "plain".into())
        );
        assert_eq!(
            split_experiment_name("/Users/me/exp"),
            ("default".into(), "/Users/me/exp".into())
        );
        assert_eq!(
            split_experiment_name("has space/x"),
            ("default".into(), "has space/x".into())
        );
        assert_eq!(split_experiment_name("p/"), ("default".into(), "p/".into()));
    }

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate_chars("ééé".into(), 2), "éé");
        assert_eq!(truncate_chars("ab".into(), 5), "ab");
        assert_eq!(truncate_param("x".repeat(7000)).len(), 6000);
    }
}
