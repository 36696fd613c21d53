//! [`MetadataStore`] behind the domain's rules.

use async_trait::async_trait;
use serde_json::Value;

use super::Validated;
use crate::error::Result;
use crate::graph::{
    self, Direction, Graph, ParentChange, ParentLink, ProjectSettings, RunFeatures,
};
use crate::ids::{ExperimentId, RunId};
use crate::model::{
    Experiment, HistoryPoint, Lifecycle, LifecycleView, LogBatch, LogOutcome, MetricSummary,
    NewExperiment, NewProject, NewRun, Page, Project, Run, RunPatch,
};
use crate::store::{ExperimentQuery, MetadataStore, MetricRange, RunQuery, SampledHistory};
use crate::{lifecycle_rules, validate};

#[async_trait]
impl<S: MetadataStore> MetadataStore for Validated<S> {
    async fn create_project(&self, new: NewProject) -> Result<Project> {
        validate::project_name(&new.name)?;
        validate::description(&new.description)?;
        self.inner.create_project(new).await
    }

    async fn get_project(&self, name: &str) -> Result<Project> {
        self.inner.get_project(name).await
    }

    async fn list_projects(&self, view: LifecycleView) -> Result<Vec<Project>> {
        self.inner.list_projects(view).await
    }

    async fn set_project_lifecycle(&self, name: &str, lifecycle: Lifecycle) -> Result<Project> {
        self.inner.set_project_lifecycle(name, lifecycle).await
    }

    async fn project_settings(&self, name: &str) -> Result<ProjectSettings> {
        self.inner.project_settings(name).await
    }

    async fn set_project_settings(
        &self,
        name: &str,
        settings: ProjectSettings,
    ) -> Result<ProjectSettings> {
        settings.validate()?;
        self.inner.set_project_settings(name, settings).await
    }

    async fn create_experiment(&self, new: NewExperiment) -> Result<Experiment> {
        validate::project_name(&new.project)?;
        validate::display_name("experiment", &new.name)?;
        validate::description(&new.description)?;
        for (k, v) in &new.tags {
            validate::key("tag", k)?;
            validate::tag_value(k, v)?;
        }
        self.inner.create_experiment(new).await
    }

    async fn get_experiment(&self, id: ExperimentId) -> Result<Experiment> {
        self.inner.get_experiment(id).await
    }

    async fn get_experiment_by_name(&self, project: &str, name: &str) -> Result<Experiment> {
        self.inner.get_experiment_by_name(project, name).await
    }

    async fn list_experiments(&self, query: ExperimentQuery) -> Result<Page<Experiment>> {
        self.inner.list_experiments(query).await
    }

    async fn rename_experiment(&self, id: ExperimentId, new_name: &str) -> Result<Experiment> {
        validate::display_name("experiment", new_name)?;
        self.inner.rename_experiment(id, new_name).await
    }

    async fn set_experiment_lifecycle(
        &self,
        id: ExperimentId,
        lifecycle: Lifecycle,
    ) -> Result<Experiment> {
        lifecycle_rules::check_experiment_change(id, lifecycle)?;
        self.inner.set_experiment_lifecycle(id, lifecycle).await
    }

    async fn set_experiment_tag(&self, id: ExperimentId, key: &str, value: &str) -> Result<()> {
        validate::key("tag", key)?;
        validate::tag_value(key, value)?;
        self.inner.set_experiment_tag(id, key, value).await
    }

    async fn delete_experiment_tag(&self, id: ExperimentId, key: &str) -> Result<()> {
        self.inner.delete_experiment_tag(id, key).await
    }

    async fn create_run(&self, new: NewRun) -> Result<Run> {
        validate::new_run(&new)?;
        self.inner.create_run(new).await
    }

    async fn get_run(&self, id: &RunId) -> Result<Run> {
        self.inner.get_run(id).await
    }

    async fn update_run(&self, id: &RunId, patch: RunPatch) -> Result<Run> {
        if let Some(name) = &patch.name {
            validate::display_name("run", name)?;
        }
        self.inner.update_run(id, patch).await
    }

    async fn set_run_lifecycle(&self, id: &RunId, lifecycle: Lifecycle) -> Result<Run> {
        lifecycle_rules::check_run_change(lifecycle)?;
        self.inner.set_run_lifecycle(id, lifecycle).await
    }

    async fn search_runs(&self, query: RunQuery) -> Result<Page<Run>> {
        self.inner.search_runs(query).await
    }

    async fn delete_run_tag(&self, id: &RunId, key: &str) -> Result<()> {
        self.inner.delete_run_tag(id, key).await
    }

    async fn log_batch(&self, id: &RunId, batch: LogBatch) -> Result<LogOutcome> {
        validate::log_batch(&batch)?;
        self.inner.log_batch(id, batch).await
    }

    async fn metric_history(&self, id: &RunId, range: MetricRange) -> Result<Vec<HistoryPoint>> {
        self.inner.metric_history(id, range).await
    }

    async fn downsampled_history(
        &self,
        id: &RunId,
        range: MetricRange,
        max_points: usize,
    ) -> Result<SampledHistory> {
        self.inner.downsampled_history(id, range, max_points).await
    }

    async fn metric_keys(&self, id: &RunId) -> Result<Vec<String>> {
        self.inner.metric_keys(id).await
    }

    async fn metric_summaries(&self, ids: &[RunId], keys: &[String]) -> Result<Vec<MetricSummary>> {
        self.inner.metric_summaries(ids, keys).await
    }

    async fn run_features(&self, id: &RunId) -> Result<RunFeatures> {
        self.inner.run_features(id).await
    }

    async fn feature_trees(&self, ids: &[RunId]) -> Result<Vec<(RunId, Value)>> {
        self.inner.feature_trees(ids).await
    }

    async fn parent_changes(&self, id: &RunId) -> Result<Vec<ParentChange>> {
        self.inner.parent_changes(id).await
    }

    async fn set_run_parents(
        &self,
        id: &RunId,
        parents: Vec<ParentLink>,
        changed_by: &str,
    ) -> Result<RunFeatures> {
        graph::validate(None, &parents, Some(id))?;
        self.inner.set_run_parents(id, parents, changed_by).await
    }

    async fn set_run_features(&self, id: &RunId, features: Value) -> Result<RunFeatures> {
        graph::validate(Some(&features), &[], None)?;
        self.inner.set_run_features(id, features).await
    }

    async fn run_lineage(&self, id: &RunId, direction: Direction, depth: u32) -> Result<Graph> {
        self.inner.run_lineage(id, direction, depth).await
    }

    async fn project_graph(&self, project: &str) -> Result<Graph> {
        self.inner.project_graph(project).await
    }
}
