//! [`MetadataStore`] over the native API: one request per trait call.

use async_trait::async_trait;
use reqwest::Method;
use runlore_core::store::{ExperimentQuery, MetricRange, RunQuery};
use runlore_core::{
    Error, Experiment, ExperimentId, HistoryPoint, Lifecycle, LifecycleView, LogBatch, LogOutcome,
    MetadataStore, NewExperiment, NewProject, NewRun, Page, Project, Result, Run, RunId, RunPatch,
};
use serde::{Deserialize, Serialize};

use crate::http::HttpStore;
use crate::render::{render_filter, render_order_key};

#[derive(Deserialize)]
struct Items<T> {
    items: Vec<T>,
}

#[derive(Deserialize)]
struct MetricKeys {
    keys: Vec<String>,
}

/// One metric's history as the server sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricHistory {
    pub points: Vec<HistoryPoint>,
    /// Points in the requested range before any downsampling.
    pub total: u64,
    pub downsampled: bool,
}

/// The body of `POST /api/v1/runs/search`.
#[derive(Serialize)]
struct SearchBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    project: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    experiment_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    filter: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    order_by: Vec<String>,
    view: LifecycleView,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cursor: Option<&'a str>,
}

fn view_text(view: LifecycleView) -> &'static str {
    match view {
        LifecycleView::Active => "active",
        LifecycleView::Inactive => "inactive",
        LifecycleView::All => "all",
    }
}

impl HttpStore {
    /// A metric's history cut down by the server to at most `max_points`
    /// (first, last, and each bucket's min and max survive).
    pub async fn metric_history_downsampled(
        &self,
        id: &RunId,
        key: &str,
        max_points: usize,
    ) -> Result<MetricHistory> {
        let url = self.api(&["runs", id.as_str(), "metrics", key])?;
        let max = max_points.to_string();
        self.send(
            self.request(Method::GET, url)
                .query(&[("max_points", max.as_str())]),
        )
        .await
    }
}

#[async_trait]
impl MetadataStore for HttpStore {
    async fn create_project(&self, new: NewProject) -> Result<Project> {
        let url = self.api(&["projects"])?;
        self.send(self.request(Method::POST, url).json(&new)).await
    }

    async fn get_project(&self, name: &str) -> Result<Project> {
        self.send(self.request(Method::GET, self.api(&["projects", name])?))
            .await
    }

    async fn list_projects(&self, view: LifecycleView) -> Result<Vec<Project>> {
        let url = self.api(&["projects"])?;
        let page: Items<Project> = self
            .send(
                self.request(Method::GET, url)
                    .query(&[("view", view_text(view))]),
            )
            .await?;
        Ok(page.items)
    }

    async fn set_project_lifecycle(&self, name: &str, lifecycle: Lifecycle) -> Result<Project> {
        let action = match lifecycle {
            Lifecycle::Archived => "archive",
            Lifecycle::Active => "unarchive",
            Lifecycle::Deleted => {
                return Err(Error::invalid(
                    "projects cannot be deleted; archive it instead",
                ));
            }
        };
        let url = self.api(&["projects", name, action])?;
        self.send(self.request(Method::POST, url)).await
    }

    async fn create_experiment(&self, new: NewExperiment) -> Result<Experiment> {
        let url = self.api(&["experiments"])?;
        self.send(self.request(Method::POST, url).json(&new)).await
    }

    async fn get_experiment(&self, id: ExperimentId) -> Result<Experiment> {
        let url = self.api(&["experiments", &id.to_string()])?;
        self.send(self.request(Method::GET, url)).await
    }

    /// The API has no by-name route: list the project's experiments whose
    /// name contains `name` (deleted ones too, as the store does) and keep
    /// the exact match.
    async fn get_experiment_by_name(&self, project: &str, name: &str) -> Result<Experiment> {
        let mut query = ExperimentQuery {
            project: Some(project.to_owned()),
            view: LifecycleView::All,
            name_contains: Some(name.to_owned()),
            limit: runlore_core::store::MAX_PAGE_SIZE,
            cursor: None,
        };
        loop {
            let page = self.list_experiments(query.clone()).await?;
            if let Some(found) = page.items.into_iter().find(|e| e.name == name) {
                return Ok(found);
            }
            match page.next_cursor {
                Some(cursor) => query.cursor = Some(cursor),
                None => {
                    return Err(Error::not_found(
                        "experiment",
                        format_args!("{project}/{name}"),
                    ));
                }
            }
        }
    }

    async fn list_experiments(&self, query: ExperimentQuery) -> Result<Page<Experiment>> {
        let mut params: Vec<(&str, String)> = vec![("view", view_text(query.view).to_owned())];
        if let Some(project) = query.project {
            params.push(("project", project));
        }
        if let Some(text) = query.name_contains {
            params.push(("name_contains", text));
        }
        if query.limit > 0 {
            params.push(("limit", query.limit.to_string()));
        }
        if let Some(cursor) = query.cursor {
            params.push(("cursor", cursor));
        }
        let url = self.api(&["experiments"])?;
        self.send(self.request(Method::GET, url).query(&params))
            .await
    }

    async fn rename_experiment(&self, id: ExperimentId, new_name: &str) -> Result<Experiment> {
        let url = self.api(&["experiments", &id.to_string()])?;
        let body = serde_json::json!({ "name": new_name });
        self.send(self.request(Method::PATCH, url).json(&body))
            .await
    }

    async fn set_experiment_lifecycle(
        &self,
        id: ExperimentId,
        lifecycle: Lifecycle,
    ) -> Result<Experiment> {
        let path_id = id.to_string();
        let request = match lifecycle {
            Lifecycle::Deleted => {
                self.request(Method::DELETE, self.api(&["experiments", &path_id])?)
            }
            Lifecycle::Active => self.request(
                Method::POST,
                self.api(&["experiments", &path_id, "restore"])?,
            ),
            Lifecycle::Archived => {
                return Err(Error::invalid(
                    "experiments cannot be archived; delete it or archive its project",
                ));
            }
        };
        // The answer may be the experiment or empty (204): read it back then.
        match self.send_optional::<Experiment>(request).await? {
            Some(experiment) => Ok(experiment),
            None => self.get_experiment(id).await,
        }
    }

    async fn set_experiment_tag(&self, id: ExperimentId, key: &str, value: &str) -> Result<()> {
        let url = self.api(&["experiments", &id.to_string(), "tags", key])?;
        let body = serde_json::json!({ "value": value });
        self.send_empty(self.request(Method::PUT, url).json(&body))
            .await
    }

    async fn delete_experiment_tag(&self, id: ExperimentId, key: &str) -> Result<()> {
        let url = self.api(&["experiments", &id.to_string(), "tags", key])?;
        self.send_empty(self.request(Method::DELETE, url)).await
    }

    async fn create_run(&self, new: NewRun) -> Result<Run> {
        let url = self.api(&["runs"])?;
        self.send(self.request(Method::POST, url).json(&new)).await
    }

    async fn get_run(&self, id: &RunId) -> Result<Run> {
        let url = self.api(&["runs", id.as_str()])?;
        self.send(self.request(Method::GET, url)).await
    }

    async fn update_run(&self, id: &RunId, patch: RunPatch) -> Result<Run> {
        let url = self.api(&["runs", id.as_str()])?;
        self.send(self.request(Method::PATCH, url).json(&patch))
            .await
    }

    async fn set_run_lifecycle(&self, id: &RunId, lifecycle: Lifecycle) -> Result<Run> {
        let request = match lifecycle {
            Lifecycle::Deleted => self.request(Method::DELETE, self.api(&["runs", id.as_str()])?),
            Lifecycle::Active => {
                self.request(Method::POST, self.api(&["runs", id.as_str(), "restore"])?)
            }
            Lifecycle::Archived => {
                return Err(Error::invalid("runs cannot be archived; delete it instead"));
            }
        };
        // The answer may be the run or empty (204): read the run back then.
        match self.send_optional::<Run>(request).await? {
            Some(run) => Ok(run),
            None => self.get_run(id).await,
        }
    }

    async fn search_runs(&self, query: RunQuery) -> Result<Page<Run>> {
        let body = SearchBody {
            project: query.project.as_deref(),
            experiment_ids: query
                .experiment_ids
                .iter()
                .map(ToString::to_string)
                .collect(),
            filter: query.filter.as_ref().map(render_filter),
            order_by: query.order_by.iter().map(render_order_key).collect(),
            view: query.view,
            limit: (query.limit > 0).then_some(query.limit),
            cursor: query.cursor.as_deref(),
        };
        let url = self.api(&["runs", "search"])?;
        self.send(self.request(Method::POST, url).json(&body)).await
    }

    async fn delete_run_tag(&self, id: &RunId, key: &str) -> Result<()> {
        let url = self.api(&["runs", id.as_str(), "tags", key])?;
        self.send_empty(self.request(Method::DELETE, url)).await
    }

    async fn log_batch(&self, id: &RunId, batch: LogBatch) -> Result<LogOutcome> {
        let url = self.api(&["runs", id.as_str(), "log"])?;
        self.send(self.request(Method::POST, url).json(&batch))
            .await
    }

    async fn metric_history(&self, id: &RunId, range: MetricRange) -> Result<Vec<HistoryPoint>> {
        let mut params: Vec<(&str, String)> = Vec::new();
        if let Some(start) = range.start_step {
            params.push(("start_step", start.to_string()));
        }
        if let Some(end) = range.end_step {
            params.push(("end_step", end.to_string()));
        }
        let url = self.api(&["runs", id.as_str(), "metrics", &range.key])?;
        let history: MetricHistory = self
            .send(self.request(Method::GET, url).query(&params))
            .await?;
        if history.downsampled {
            return Err(Error::internal(format!(
                "server sent a downsampled history of metric '{}' ({} of {} points) where the \
                 full history was asked for",
                range.key,
                history.points.len(),
                history.total
            )));
        }
        Ok(history.points)
    }

    async fn metric_keys(&self, id: &RunId) -> Result<Vec<String>> {
        let url = self.api(&["runs", id.as_str(), "metrics"])?;
        let keys: MetricKeys = self.send(self.request(Method::GET, url)).await?;
        Ok(keys.keys)
    }

    async fn project_settings(&self, name: &str) -> Result<runlore_core::ProjectSettings> {
        let url = self.api(&["projects", name, "settings"])?;
        self.send(self.request(Method::GET, url)).await
    }

    async fn set_project_settings(
        &self,
        name: &str,
        settings: runlore_core::ProjectSettings,
    ) -> Result<runlore_core::ProjectSettings> {
        let url = self.api(&["projects", name, "settings"])?;
        self.send(self.request(Method::PUT, url).json(&settings))
            .await
    }

    async fn feature_trees(&self, ids: &[RunId]) -> Result<Vec<(RunId, serde_json::Value)>> {
        #[derive(serde::Deserialize)]
        struct Items {
            items: Vec<Item>,
        }
        #[derive(serde::Deserialize)]
        struct Item {
            run_id: RunId,
            features: serde_json::Value,
        }
        let url = self.api(&["runs", "features", "batch"])?;
        let body = serde_json::json!({"run_ids": ids});
        let items: Items = self
            .send(self.request(Method::POST, url).json(&body))
            .await?;
        Ok(items
            .items
            .into_iter()
            .map(|i| (i.run_id, i.features))
            .collect())
    }

    async fn metric_summaries(
        &self,
        ids: &[RunId],
        keys: &[String],
    ) -> Result<Vec<runlore_core::MetricSummary>> {
        #[derive(serde::Deserialize)]
        struct Items {
            items: Vec<runlore_core::MetricSummary>,
        }
        let url = self.api(&["runs", "metric-summaries"])?;
        let body = serde_json::json!({"run_ids": ids, "keys": keys});
        let items: Items = self
            .send(self.request(Method::POST, url).json(&body))
            .await?;
        Ok(items.items)
    }

    async fn run_features(&self, id: &RunId) -> Result<runlore_core::RunFeatures> {
        let url = self.api(&["runs", id.as_str(), "features"])?;
        self.send(self.request(Method::GET, url)).await
    }

    async fn parent_changes(&self, id: &RunId) -> Result<Vec<runlore_core::ParentChange>> {
        #[derive(serde::Deserialize)]
        struct Parents {
            changes: Vec<runlore_core::ParentChange>,
        }
        let url = self.api(&["runs", id.as_str(), "parents"])?;
        let parents: Parents = self.send(self.request(Method::GET, url)).await?;
        Ok(parents.changes)
    }

    async fn set_run_parents(
        &self,
        id: &RunId,
        parents: Vec<runlore_core::ParentLink>,
        changed_by: &str,
    ) -> Result<runlore_core::RunFeatures> {
        let url = self.api(&["runs", id.as_str(), "parents"])?;
        let body = serde_json::json!({"parents": parents, "changed_by": changed_by});
        self.send(self.request(Method::PUT, url).json(&body)).await
    }

    async fn set_run_features(
        &self,
        id: &RunId,
        features: serde_json::Value,
    ) -> Result<runlore_core::RunFeatures> {
        let url = self.api(&["runs", id.as_str(), "features"])?;
        self.send(self.request(Method::PUT, url).json(&features))
            .await
    }

    async fn run_lineage(
        &self,
        id: &RunId,
        direction: runlore_core::Direction,
        depth: u32,
    ) -> Result<runlore_core::Graph> {
        let leg = match direction {
            runlore_core::Direction::Up => "ancestors",
            runlore_core::Direction::Down => "descendants",
        };
        let mut url = self.api(&["runs", id.as_str(), leg])?;
        url.query_pairs_mut()
            .append_pair("depth", &depth.to_string());
        self.send(self.request(Method::GET, url)).await
    }

    async fn project_graph(&self, project: &str) -> Result<runlore_core::Graph> {
        let url = self.api(&["projects", project, "graph"])?;
        self.send(self.request(Method::GET, url)).await
    }
}
