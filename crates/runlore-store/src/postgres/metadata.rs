//! `MetadataStore` on PostgreSQL: each method is the inherent one of the
//! same name (projects.rs, experiments.rs, runs.rs, metrics.rs, graph.rs,
//! graph_views.rs, search/). The downsampled history is the trait's: the
//! whole range read and cut by `runlore_core::downsample`, identical by
//! construction.

use async_trait::async_trait;
use runlore_core::graph::{
    Direction, Graph, ParentChange, ParentLink, ProjectSettings, RunFeatures,
};
use runlore_core::store::{ExperimentQuery, MetricRange, RunQuery};
use runlore_core::*;
use serde_json::Value;

use super::PostgresStore;

#[async_trait]
impl MetadataStore for PostgresStore {
    async fn create_project(&self, new: NewProject) -> Result<Project> {
        PostgresStore::create_project(self, new).await
    }
    async fn get_project(&self, name: &str) -> Result<Project> {
        PostgresStore::get_project(self, name).await
    }
    async fn list_projects(&self, view: LifecycleView) -> Result<Vec<Project>> {
        PostgresStore::list_projects(self, view).await
    }
    async fn set_project_lifecycle(&self, name: &str, lifecycle: Lifecycle) -> Result<Project> {
        PostgresStore::set_project_lifecycle(self, name, lifecycle).await
    }
    async fn project_settings(&self, name: &str) -> Result<ProjectSettings> {
        PostgresStore::project_settings(self, name).await
    }
    async fn set_project_settings(
        &self,
        name: &str,
        settings: ProjectSettings,
    ) -> Result<ProjectSettings> {
        PostgresStore::set_project_settings(self, name, settings).await
    }
    async fn create_experiment(&self, new: NewExperiment) -> Result<Experiment> {
        PostgresStore::create_experiment(self, new).await
    }
    async fn get_experiment(&self, id: ExperimentId) -> Result<Experiment> {
        PostgresStore::get_experiment(self, id).await
    }
    async fn get_experiment_by_name(&self, project: &str, name: &str) -> Result<Experiment> {
        PostgresStore::get_experiment_by_name(self, project, name).await
    }
    async fn list_experiments(&self, query: ExperimentQuery) -> Result<Page<Experiment>> {
        PostgresStore::list_experiments(self, query).await
    }
    async fn rename_experiment(&self, id: ExperimentId, new_name: &str) -> Result<Experiment> {
        PostgresStore::rename_experiment(self, id, new_name).await
    }
    async fn set_experiment_lifecycle(
        &self,
        id: ExperimentId,
        lifecycle: Lifecycle,
    ) -> Result<Experiment> {
        PostgresStore::set_experiment_lifecycle(self, id, lifecycle).await
    }
    async fn set_experiment_tag(&self, id: ExperimentId, key: &str, value: &str) -> Result<()> {
        PostgresStore::set_experiment_tag(self, id, key, value).await
    }
    async fn delete_experiment_tag(&self, id: ExperimentId, key: &str) -> Result<()> {
        PostgresStore::delete_experiment_tag(self, id, key).await
    }
    async fn create_run(&self, new: NewRun) -> Result<Run> {
        PostgresStore::create_run(self, new).await
    }
    async fn get_run(&self, id: &RunId) -> Result<Run> {
        PostgresStore::get_run(self, id).await
    }
    async fn update_run(&self, id: &RunId, patch: RunPatch) -> Result<Run> {
        PostgresStore::update_run(self, id, patch).await
    }
    async fn set_run_lifecycle(&self, id: &RunId, lifecycle: Lifecycle) -> Result<Run> {
        PostgresStore::set_run_lifecycle(self, id, lifecycle).await
    }
    async fn search_runs(&self, query: RunQuery) -> Result<Page<Run>> {
        PostgresStore::search_runs(self, query).await
    }
    async fn delete_run_tag(&self, id: &RunId, key: &str) -> Result<()> {
        PostgresStore::delete_run_tag(self, id, key).await
    }
    async fn log_batch(&self, id: &RunId, batch: LogBatch) -> Result<LogOutcome> {
        PostgresStore::log_batch(self, id, batch).await
    }
    async fn metric_history(&self, id: &RunId, range: MetricRange) -> Result<Vec<HistoryPoint>> {
        PostgresStore::metric_history(self, id, range).await
    }
    async fn metric_keys(&self, id: &RunId) -> Result<Vec<String>> {
        PostgresStore::metric_keys(self, id).await
    }
    async fn metric_summaries(&self, ids: &[RunId], keys: &[String]) -> Result<Vec<MetricSummary>> {
        PostgresStore::metric_summaries(self, ids, keys).await
    }
    async fn run_features(&self, id: &RunId) -> Result<RunFeatures> {
        PostgresStore::run_features(self, id).await
    }
    async fn feature_trees(&self, ids: &[RunId]) -> Result<Vec<(RunId, Value)>> {
        PostgresStore::feature_trees(self, ids).await
    }
    async fn parent_changes(&self, id: &RunId) -> Result<Vec<ParentChange>> {
        PostgresStore::parent_changes(self, id).await
    }
    async fn set_run_parents(
        &self,
        id: &RunId,
        parents: Vec<ParentLink>,
        changed_by: &str,
    ) -> Result<RunFeatures> {
        PostgresStore::set_run_parents(self, id, parents, changed_by).await
    }
    async fn set_run_features(&self, id: &RunId, features: Value) -> Result<RunFeatures> {
        PostgresStore::set_run_features(self, id, features).await
    }
    async fn run_lineage(&self, id: &RunId, direction: Direction, depth: u32) -> Result<Graph> {
        PostgresStore::run_lineage(self, id, direction, depth).await
    }
    async fn project_graph(&self, project: &str) -> Result<Graph> {
        PostgresStore::project_graph(self, project).await
    }
}
