//! The SQLite store (being written).

use std::path::Path;

use async_trait::async_trait;
use runlore_core::store::{ExperimentQuery, MetricRange, RunQuery};
use runlore_core::*;

pub struct SqliteStore {}

impl SqliteStore {
    pub fn open(_path: &Path) -> Result<SqliteStore> {
        Ok(SqliteStore {})
    }
}

fn unwritten<T>() -> Result<T> {
    Err(Error::internal("store not written yet"))
}

#[async_trait]
impl MetadataStore for SqliteStore {
    async fn create_project(&self, _new: NewProject) -> Result<Project> { unwritten() }
    async fn get_project(&self, _name: &str) -> Result<Project> { unwritten() }
    async fn list_projects(&self, _view: LifecycleView) -> Result<Vec<Project>> { unwritten() }
    async fn set_project_lifecycle(&self, _name: &str, _l: Lifecycle) -> Result<Project> { unwritten() }
    async fn create_experiment(&self, _new: NewExperiment) -> Result<Experiment> { unwritten() }
    async fn get_experiment(&self, _id: ExperimentId) -> Result<Experiment> { unwritten() }
    async fn get_experiment_by_name(&self, _p: &str, _n: &str) -> Result<Experiment> { unwritten() }
    async fn list_experiments(&self, _q: ExperimentQuery) -> Result<Page<Experiment>> { unwritten() }
    async fn rename_experiment(&self, _id: ExperimentId, _n: &str) -> Result<Experiment> { unwritten() }
    async fn set_experiment_lifecycle(&self, _id: ExperimentId, _l: Lifecycle) -> Result<Experiment> { unwritten() }
    async fn set_experiment_tag(&self, _id: ExperimentId, _k: &str, _v: &str) -> Result<()> { unwritten() }
    async fn delete_experiment_tag(&self, _id: ExperimentId, _k: &str) -> Result<()> { unwritten() }
    async fn create_run(&self, _new: NewRun) -> Result<Run> { unwritten() }
    async fn get_run(&self, _id: &RunId) -> Result<Run> { unwritten() }
    async fn update_run(&self, _id: &RunId, _p: RunPatch) -> Result<Run> { unwritten() }
    async fn set_run_lifecycle(&self, _id: &RunId, _l: Lifecycle) -> Result<Run> { unwritten() }
    async fn search_runs(&self, _q: RunQuery) -> Result<Page<Run>> { unwritten() }
    async fn delete_run_tag(&self, _id: &RunId, _k: &str) -> Result<()> { unwritten() }
    async fn log_batch(&self, _id: &RunId, _b: LogBatch) -> Result<LogOutcome> { unwritten() }
    async fn metric_history(&self, _id: &RunId, _r: MetricRange) -> Result<Vec<HistoryPoint>> { unwritten() }
    async fn metric_keys(&self, _id: &RunId) -> Result<Vec<String>> { unwritten() }
}
