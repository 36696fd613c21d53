//! Logged models (MLflow 3's unit of model artifacts: a model with its own
//! artifact root, linked to the run that produced it) and what a run records
//! as its inputs (datasets) and outputs (models).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::artifact::ModelId;
use crate::error::{Error, Result};
use crate::ids::{ExperimentId, RunId};

/// Upload state of a logged model: created pending, ready once its files are
/// all stored, failed when the upload was abandoned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModelStatus {
    Pending,
    Ready,
    Failed,
}

impl ModelStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelStatus::Pending => "pending",
            ModelStatus::Ready => "ready",
            ModelStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Result<ModelStatus> {
        match text {
            "pending" => Ok(ModelStatus::Pending),
            "ready" => Ok(ModelStatus::Ready),
            "failed" => Ok(ModelStatus::Failed),
            other => Err(Error::invalid(format!(
                "unknown model status '{other}': expected pending, ready or failed"
            ))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LoggedModel {
    #[schema(value_type = String)]
    pub id: ModelId,
    #[schema(value_type = String)]
    pub experiment_id: ExperimentId,
    pub name: String,
    pub status: ModelStatus,
    pub model_type: String,
    #[schema(value_type = Option<String>)]
    pub source_run_id: Option<RunId>,
    pub tags: BTreeMap<String, String>,
    pub params: BTreeMap<String, String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewLoggedModel {
    pub experiment_id: ExperimentId,
    pub name: String,
    pub model_type: String,
    pub source_run_id: Option<RunId>,
    pub tags: BTreeMap<String, String>,
    pub params: BTreeMap<String, String>,
}

/// Which logged models a search returns, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelQuery {
    /// Any experiment when empty.
    pub experiment_ids: Vec<ExperimentId>,
    /// Exact name.
    pub name: Option<String>,
    pub source_run_id: Option<RunId>,
    pub limit: usize,
    pub offset: usize,
}

/// A dataset a run used, as MLflow's `log_input` describes it. The strings
/// are kept verbatim (MLflow sends JSON documents inside them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DatasetInput {
    pub name: String,
    pub digest: String,
    pub source_type: String,
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// E.g. `mlflow.data.context` = `training`.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// A model a run produced, at a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ModelOutput {
    #[schema(value_type = String)]
    pub model_id: ModelId,
    pub step: i64,
}
