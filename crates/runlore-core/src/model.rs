//! The entities: projects, experiments, runs and what a run records.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::ToSchema;

use crate::error::{Error, Result};
use crate::ids::{ExperimentId, RunId};

/// Lifecycle is separate from run status: anything can be soft-deleted and
/// restored; projects can also be archived (hidden from default lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    Active,
    Archived,
    Deleted,
}

impl Lifecycle {
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Active => "active",
            Lifecycle::Archived => "archived",
            Lifecycle::Deleted => "deleted",
        }
    }
}

impl FromStr for Lifecycle {
    type Err = Error;
    fn from_str(s: &str) -> Result<Lifecycle> {
        match s {
            "active" => Ok(Lifecycle::Active),
            "archived" => Ok(Lifecycle::Archived),
            "deleted" => Ok(Lifecycle::Deleted),
            other => Err(Error::invalid(format!("unknown lifecycle '{other}'"))),
        }
    }
}

/// Which lifecycle states a list or search returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleView {
    /// Active (and, for projects, not archived) only.
    #[default]
    Active,
    /// Soft-deleted (or archived) only.
    Inactive,
    All,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Project {
    pub name: String,
    pub description: String,
    pub lifecycle: Lifecycle,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Experiment {
    #[schema(value_type = String)]
    pub id: ExperimentId,
    pub project: String,
    pub name: String,
    pub description: String,
    pub lifecycle: Lifecycle,
    pub tags: BTreeMap<String, String>,
    /// Where MLflow clients put this experiment's artifacts, when one was
    /// given at creation (kept verbatim); otherwise Runlore's own store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_location: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewExperiment {
    pub project: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_location: Option<String>,
}

/// Run status. `PLANNED` is MLflow's `SCHEDULED`; `FINISHED`, `FAILED` and
/// `KILLED` are terminal and carry an end time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    Planned,
    Running,
    Finished,
    Failed,
    Killed,
}

impl RunStatus {
    pub const ALL: [RunStatus; 5] = [
        RunStatus::Planned,
        RunStatus::Running,
        RunStatus::Finished,
        RunStatus::Failed,
        RunStatus::Killed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Planned => "PLANNED",
            RunStatus::Running => "RUNNING",
            RunStatus::Finished => "FINISHED",
            RunStatus::Failed => "FAILED",
            RunStatus::Killed => "KILLED",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RunStatus::Finished | RunStatus::Failed | RunStatus::Killed
        )
    }
}

impl FromStr for RunStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<RunStatus> {
        RunStatus::ALL
            .iter()
            .copied()
            .find(|st| st.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                Error::invalid(format!(
                    "unknown run status '{s}': expected one of PLANNED, RUNNING, FINISHED, FAILED, KILLED"
                ))
            })
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A metric value. JSON has no NaN or infinity, so on the wire these travel
/// as the strings `"NaN"`, `"Infinity"` and `"-Infinity"` (as MLflow does);
/// finite values are plain numbers. Numeric strings are accepted on input.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct MetricValue(pub f64);

impl Serialize for MetricValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let v = self.0;
        if v.is_nan() {
            serializer.serialize_str("NaN")
        } else if v == f64::INFINITY {
            serializer.serialize_str("Infinity")
        } else if v == f64::NEG_INFINITY {
            serializer.serialize_str("-Infinity")
        } else {
            serializer.serialize_f64(v)
        }
    }
}

impl<'de> Deserialize<'de> for MetricValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(f64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(v) => Ok(MetricValue(v)),
            Raw::Text(s) => parse_metric_text(&s)
                .map(MetricValue)
                .ok_or_else(|| serde::de::Error::custom(format!("invalid metric value '{s}'"))),
        }
    }
}

fn parse_metric_text(s: &str) -> Option<f64> {
    match s {
        "NaN" | "nan" => Some(f64::NAN),
        "Infinity" | "inf" | "+Infinity" => Some(f64::INFINITY),
        "-Infinity" | "-inf" => Some(f64::NEG_INFINITY),
        other => other.trim().parse::<f64>().ok().filter(|v| v.is_finite()),
    }
}

/// One logged metric point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricPoint {
    pub key: String,
    #[schema(value_type = f64)]
    pub value: MetricValue,
    #[serde(default)]
    pub step: i64,
    /// Milliseconds since the Unix epoch; the server's clock when omitted.
    #[serde(default)]
    pub timestamp: Option<i64>,
}

/// A point of one metric's history (the key is implied).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HistoryPoint {
    pub step: i64,
    pub timestamp: i64,
    #[schema(value_type = f64)]
    pub value: MetricValue,
}

/// What a run's history of one metric adds up to, over its finite values
/// (NaN and infinities are left out): for "best" and "average" columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MetricSummary {
    #[schema(value_type = String)]
    pub run_id: RunId,
    pub key: String,
    /// Finite values in the history.
    pub count: u64,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
}

/// The latest value of a metric: the point with the highest step, ties broken
/// by the latest timestamp (MLflow's rule), kept in its own table for search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LatestMetric {
    pub key: String,
    #[schema(value_type = f64)]
    pub value: MetricValue,
    pub step: i64,
    pub timestamp: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Run {
    #[schema(value_type = String)]
    pub id: RunId,
    pub project: String,
    #[schema(value_type = String)]
    pub experiment_id: ExperimentId,
    pub experiment: String,
    pub name: String,
    pub status: RunStatus,
    pub lifecycle: Lifecycle,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub user: String,
    /// Containment (MLflow's nested runs, sweep trials); not a DAG edge.
    #[schema(value_type = Option<String>)]
    pub parent_run_id: Option<RunId>,
    pub params: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub metrics: Vec<LatestMetric>,
    /// Datasets the run used (MLflow `log_input`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<crate::logged_model::DatasetInput>,
    /// Models the run produced (MLflow 3 logged models).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub model_outputs: Vec<crate::logged_model::ModelOutput>,
    /// What each expected part of the run's outputs became, by name.
    #[serde(default)]
    pub components: Vec<Component>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Where a new run goes. The experiment (by name) and the project are created
/// when missing, so `runlore.init(project=…, experiment=…)` needs no set-up.
///
/// Request types refuse unknown fields: a misspelt `projetc` must be a 400,
/// not a run in `default`. They are read from native API bodies and from
/// SDK journals (which hold the same bodies); the MLflow API builds them
/// field by field and keeps MLflow's leniency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRun {
    /// A run id chosen by the client (32 hex digits), which makes creation
    /// safe to repeat: the SDK replays its journal after a crash or an
    /// outage, and the same id in the same experiment returns the run
    /// already made. A random id when omitted.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub id: Option<RunId>,
    #[serde(default = "default_project")]
    pub project: String,
    /// Experiment name inside the project; `Default` when omitted.
    #[serde(default)]
    pub experiment: Option<String>,
    /// Alternative to `experiment`: an existing experiment's id.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub experiment_id: Option<ExperimentId>,
    #[serde(default)]
    pub name: Option<String>,
    /// `RUNNING` when omitted; `PLANNED` for a run that has not started.
    #[serde(default)]
    pub status: Option<RunStatus>,
    #[serde(default)]
    pub start_time: Option<i64>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub parent_run_id: Option<RunId>,
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The run's hierarchical configuration (an object at the root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub features: Option<serde_json::Value>,
    /// DAG parents in the same project; the first is the primary parent,
    /// whose features this run's are diffed against.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<crate::graph::ParentLink>,
}

impl Default for NewRun {
    fn default() -> NewRun {
        NewRun {
            id: None,
            project: default_project(),
            experiment: None,
            experiment_id: None,
            name: None,
            status: None,
            start_time: None,
            user: None,
            parent_run_id: None,
            params: BTreeMap::new(),
            tags: BTreeMap::new(),
            features: None,
            parents: Vec::new(),
        }
    }
}

pub fn default_project() -> String {
    DEFAULT_PROJECT.to_owned()
}

/// The project MLflow experiments land in unless named `project/experiment`.
pub const DEFAULT_PROJECT: &str = "default";
/// The experiment a run joins when it names none.
pub const DEFAULT_EXPERIMENT: &str = "Default";

/// A partial update of a run; absent fields are left alone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<RunStatus>,
    /// Set automatically when the status becomes terminal and this is absent.
    #[serde(default)]
    pub end_time: Option<i64>,
}

/// What one log request carries: thousands of points, params and tags.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogBatch {
    #[serde(default)]
    pub metrics: Vec<MetricPoint>,
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Component reports; a name reported again is replaced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<ComponentReport>,
}

/// How an expected output of a run turned out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    Success,
    /// Switched off on purpose (the reason says by what).
    Disabled,
    Failed,
}

impl ComponentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentStatus::Success => "success",
            ComponentStatus::Disabled => "disabled",
            ComponentStatus::Failed => "failed",
        }
    }
}

impl FromStr for ComponentStatus {
    type Err = Error;

    fn from_str(s: &str) -> Result<ComponentStatus> {
        match s {
            "success" => Ok(ComponentStatus::Success),
            "disabled" => Ok(ComponentStatus::Disabled),
            "failed" => Ok(ComponentStatus::Failed),
            other => Err(Error::invalid(format!(
                "unknown component status '{other}': expected success, disabled or failed"
            ))),
        }
    }
}

/// A component report as logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentReport {
    pub name: String,
    pub status: ComponentStatus,
    #[serde(default)]
    pub reason: String,
}

/// A component as stored, with when it was last reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Component {
    pub name: String,
    pub status: ComponentStatus,
    pub reason: String,
    pub updated_at: i64,
}

/// What a log request did: points already stored (an exact re-send) are
/// counted as duplicates, not stored twice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LogOutcome {
    pub metrics_written: u64,
    pub metrics_duplicate: u64,
    pub params_written: u64,
    pub tags_written: u64,
    #[serde(default)]
    pub components_written: u64,
}

/// A page of results with an opaque cursor for the next one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}
