//! The metadata store contract. SQLite (embedded default) and PostgreSQL
//! implement it in `runlore-store`; every transport talks to it through
//! `Arc<dyn MetadataStore>`, chosen once at start-up.
//!
//! Who checks what: the domain's input rules (names, keys, values, sizes,
//! settings, lifecycle changes, artifact paths) are applied once, by
//! [`crate::Validated`], which the store factory (`runlore_store::open`)
//! puts in front of every backend. Implementations check none of them; they
//! enforce only the invariants they alone can see (uniqueness, existence,
//! param immutability, cycles), and a project's naming rule is decided by
//! [`crate::naming_rule`] while the backend walks its runs.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::artifact::{Artifact, ArtifactOwner, ModelId, NewArtifact};
use crate::blob::Sha256Hex;
use crate::error::Result;
use crate::filter::{Expr, OrderKey};
use crate::ids::{ExperimentId, RunId};
use crate::logged_model::{
    DatasetInput, LoggedModel, ModelOutput, ModelQuery, ModelStatus, NewLoggedModel,
};
use crate::model::{
    Experiment, HistoryPoint, Lifecycle, LifecycleView, LogBatch, LogOutcome, NewExperiment,
    NewProject, NewRun, Page, Project, Run, RunPatch,
};

/// Largest page any list or search returns.
pub const MAX_PAGE_SIZE: usize = 10_000;
/// Page size when the caller gives none.
pub const DEFAULT_PAGE_SIZE: usize = 100;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExperimentQuery {
    /// All projects when `None`.
    pub project: Option<String>,
    pub view: LifecycleView,
    /// Case-insensitive substring of the experiment name.
    pub name_contains: Option<String>,
    pub limit: usize,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunQuery {
    /// All projects when `None`.
    pub project: Option<String>,
    /// Any experiment when empty.
    pub experiment_ids: Vec<ExperimentId>,
    pub filter: Option<Expr>,
    /// Newest first (`start_time DESC`) when empty; the run id breaks ties
    /// so pages are stable.
    pub order_by: Vec<OrderKey>,
    pub view: LifecycleView,
    pub limit: usize,
    pub cursor: Option<String>,
}

/// A history cut down for a chart (see
/// [`MetadataStore::downsampled_history`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SampledHistory {
    pub points: Vec<HistoryPoint>,
    /// Points in the range before downsampling.
    pub total: usize,
}

/// A step range of one metric's history, inclusive at both ends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricRange {
    pub key: String,
    pub start_step: Option<i64>,
    pub end_step: Option<i64>,
}

#[async_trait]
pub trait MetadataStore: Send + Sync + 'static {
    // Projects. `list_projects` with `LifecycleView::Active` hides archived
    // and deleted projects.
    async fn create_project(&self, new: NewProject) -> Result<Project>;
    async fn get_project(&self, name: &str) -> Result<Project>;
    async fn list_projects(&self, view: LifecycleView) -> Result<Vec<Project>>;
    async fn set_project_lifecycle(&self, name: &str, lifecycle: Lifecycle) -> Result<Project>;
    async fn project_settings(&self, name: &str) -> Result<crate::graph::ProjectSettings>;
    /// Replaces a project's settings (checked first: a pattern that does
    /// not compile, or lacks the groups its parent rule needs, is refused).
    async fn set_project_settings(
        &self,
        name: &str,
        settings: crate::graph::ProjectSettings,
    ) -> Result<crate::graph::ProjectSettings>;

    // Experiments. Names are unique within a project (deleted ones included,
    // as in MLflow, so a restore never clashes).
    async fn create_experiment(&self, new: NewExperiment) -> Result<Experiment>;
    async fn get_experiment(&self, id: ExperimentId) -> Result<Experiment>;
    async fn get_experiment_by_name(&self, project: &str, name: &str) -> Result<Experiment>;
    async fn list_experiments(&self, query: ExperimentQuery) -> Result<Page<Experiment>>;
    async fn rename_experiment(&self, id: ExperimentId, new_name: &str) -> Result<Experiment>;
    async fn set_experiment_lifecycle(
        &self,
        id: ExperimentId,
        lifecycle: Lifecycle,
    ) -> Result<Experiment>;
    async fn set_experiment_tag(&self, id: ExperimentId, key: &str, value: &str) -> Result<()>;
    async fn delete_experiment_tag(&self, id: ExperimentId, key: &str) -> Result<()>;

    // Runs.
    async fn create_run(&self, new: NewRun) -> Result<Run>;
    async fn get_run(&self, id: &RunId) -> Result<Run>;
    async fn update_run(&self, id: &RunId, patch: RunPatch) -> Result<Run>;
    async fn set_run_lifecycle(&self, id: &RunId, lifecycle: Lifecycle) -> Result<Run>;
    async fn search_runs(&self, query: RunQuery) -> Result<Page<Run>>;
    async fn delete_run_tag(&self, id: &RunId, key: &str) -> Result<()>;

    /// Stores metrics, params and tags atomically: either all of the batch is
    /// stored or none (a param conflict rejects the whole batch). A point
    /// identical to one already stored (key, step, timestamp, value) is
    /// skipped, so re-sending a request never duplicates points.
    async fn log_batch(&self, id: &RunId, batch: LogBatch) -> Result<LogOutcome>;

    /// One metric's points in the range, ordered by step then timestamp.
    async fn metric_history(&self, id: &RunId, range: MetricRange) -> Result<Vec<HistoryPoint>>;

    /// The history as [`metric_history`](Self::metric_history) gives it,
    /// cut to at most `max_points` (at least 2) by
    /// [`downsample`](crate::downsample::downsample) when it holds more;
    /// `total` counts the range's points before that. Stores override this
    /// to avoid reading every point; the result must stay identical.
    async fn downsampled_history(
        &self,
        id: &RunId,
        range: MetricRange,
        max_points: usize,
    ) -> Result<SampledHistory> {
        let points = self.metric_history(id, range).await?;
        let total = points.len();
        Ok(SampledHistory {
            points: if total > max_points.max(2) {
                crate::downsample::downsample(&points, max_points)
            } else {
                points
            },
            total,
        })
    }

    /// The metric keys a run has logged, sorted.
    async fn metric_keys(&self, id: &RunId) -> Result<Vec<String>>;

    /// Count, min, max and mean of each run's history of each key (runs
    /// that never logged a key are left out).
    async fn metric_summaries(
        &self,
        ids: &[RunId],
        keys: &[String],
    ) -> Result<Vec<crate::model::MetricSummary>>;

    /// A run's full features, its diff against its primary parent, and its
    /// parents.
    async fn run_features(&self, id: &RunId) -> Result<crate::graph::RunFeatures>;

    /// The full features of many runs at once (`{}` for a run without
    /// any), in the order asked; for tables with feature columns.
    async fn feature_trees(&self, ids: &[RunId]) -> Result<Vec<(RunId, serde_json::Value)>>;

    /// Every change of a run's parents made after its creation, oldest
    /// first.
    async fn parent_changes(&self, id: &RunId) -> Result<Vec<crate::graph::ParentChange>>;

    /// Replaces a run's DAG parents after the fact (cycles and other
    /// projects refused); its diff is recomputed, its full features stay as
    /// logged, and the change is recorded with `changed_by` and the time.
    async fn set_run_parents(
        &self,
        id: &RunId,
        parents: Vec<crate::graph::ParentLink>,
        changed_by: &str,
    ) -> Result<crate::graph::RunFeatures>;

    /// Gives a run features after its creation; the same tree again is
    /// fine, a different one is a conflict (features never change).
    async fn set_run_features(
        &self,
        id: &RunId,
        features: serde_json::Value,
    ) -> Result<crate::graph::RunFeatures>;

    /// The runs `depth` generations up (ancestors) or down (descendants)
    /// of a run, the run included at depth 0, with the edges between them.
    async fn run_lineage(
        &self,
        id: &RunId,
        direction: crate::graph::Direction,
        depth: u32,
    ) -> Result<crate::graph::Graph>;

    /// Every run of a project (deleted ones aside) and every edge: what the
    /// graph view draws.
    async fn project_graph(&self, project: &str) -> Result<crate::graph::Graph>;
}

/// The artifact rows of runs and logged models. The bytes are in the
/// [`crate::BlobStore`]; a row names its blob by digest, so one blob may
/// back many rows.
#[async_trait]
pub trait ArtifactIndex: Send + Sync + 'static {
    /// Records (or replaces) the artifact at `new.path`. Refused for a
    /// deleted run, and when the path is a directory of other artifacts or
    /// one of its parents is a file.
    async fn put_artifact(&self, owner: &ArtifactOwner, new: NewArtifact) -> Result<Artifact>;

    /// The artifact at exactly `path`; `NotFound` otherwise.
    async fn get_artifact(&self, owner: &ArtifactOwner, path: &str) -> Result<Artifact>;

    /// Every artifact under the directory `dir` (`""` for the root), at any
    /// depth, sorted by path. `NotFound` when the owner does not exist.
    async fn list_artifacts(&self, owner: &ArtifactOwner, dir: &str) -> Result<Vec<Artifact>>;

    /// Removes the artifact at `path`, or every artifact under it when it is
    /// a directory; returns how many rows went. Blobs stay until garbage
    /// collection finds them unreferenced.
    async fn delete_artifacts(&self, owner: &ArtifactOwner, path: &str) -> Result<u64>;

    /// Every digest some artifact row refers to (deleted runs included: they
    /// can be restored), for garbage collection.
    async fn referenced_blobs(&self) -> Result<Vec<Sha256Hex>>;

    /// Which runs made and used which bytes, for a run, a project, a blob
    /// or a trace from a blob (see [`crate::lineage::LineageScope`]).
    async fn lineage(
        &self,
        scope: crate::lineage::LineageScope,
    ) -> Result<crate::lineage::LineageGraph>;

    /// The same graph as JSON ([`crate::lineage::to_json`]). A store
    /// overrides this to write the JSON on the thread that built the graph:
    /// a 10,000-run trace is 160,000 small allocations, which cost far more
    /// to free on another thread.
    async fn lineage_json(&self, scope: crate::lineage::LineageScope) -> Result<Vec<u8>> {
        Ok(crate::lineage::to_json(&self.lineage(scope).await?))
    }
}

/// Logged models and the inputs and outputs runs record.
#[async_trait]
pub trait ModelStore: Send + Sync + 'static {
    async fn create_logged_model(&self, new: NewLoggedModel) -> Result<LoggedModel>;
    async fn get_logged_model(&self, id: &ModelId) -> Result<LoggedModel>;
    async fn set_logged_model_status(
        &self,
        id: &ModelId,
        status: ModelStatus,
    ) -> Result<LoggedModel>;
    async fn set_logged_model_tags(
        &self,
        id: &ModelId,
        tags: BTreeMap<String, String>,
    ) -> Result<LoggedModel>;
    async fn delete_logged_model_tag(&self, id: &ModelId, key: &str) -> Result<()>;
    /// Newest first; `next_cursor` holds the next offset when more match.
    async fn search_logged_models(&self, query: ModelQuery) -> Result<Page<LoggedModel>>;

    /// Adds dataset inputs to a run; a dataset already recorded (same name
    /// and digest) is not added twice.
    async fn log_inputs(&self, run: &RunId, inputs: Vec<DatasetInput>) -> Result<()>;
    /// Links models to the run that produced them.
    async fn log_model_outputs(&self, run: &RunId, outputs: Vec<ModelOutput>) -> Result<()>;
}
