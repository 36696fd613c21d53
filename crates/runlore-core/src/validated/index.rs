//! [`ArtifactIndex`] and [`ModelStore`] behind the domain's rules.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::Validated;
use crate::artifact::{self, Artifact, ArtifactOwner, ModelId, NewArtifact};
use crate::blob::Sha256Hex;
use crate::error::Result;
use crate::ids::RunId;
use crate::lineage::{LineageGraph, LineageScope};
use crate::logged_model::{
    DatasetInput, LoggedModel, ModelOutput, ModelQuery, ModelStatus, NewLoggedModel,
};
use crate::model::Page;
use crate::store::{ArtifactIndex, ModelStore};
use crate::validate;

#[async_trait]
impl<S: ArtifactIndex> ArtifactIndex for Validated<S> {
    async fn put_artifact(&self, owner: &ArtifactOwner, new: NewArtifact) -> Result<Artifact> {
        artifact::validate_path(&new.path)?;
        self.inner.put_artifact(owner, new).await
    }

    async fn get_artifact(&self, owner: &ArtifactOwner, path: &str) -> Result<Artifact> {
        artifact::validate_path(path)?;
        self.inner.get_artifact(owner, path).await
    }

    async fn list_artifacts(&self, owner: &ArtifactOwner, dir: &str) -> Result<Vec<Artifact>> {
        let dir = artifact::normalize_dir(dir)?;
        self.inner.list_artifacts(owner, &dir).await
    }

    async fn delete_artifacts(&self, owner: &ArtifactOwner, path: &str) -> Result<u64> {
        artifact::validate_path(path)?;
        self.inner.delete_artifacts(owner, path).await
    }

    async fn referenced_blobs(&self) -> Result<Vec<Sha256Hex>> {
        self.inner.referenced_blobs().await
    }

    async fn lineage(&self, scope: LineageScope) -> Result<LineageGraph> {
        self.inner.lineage(scope).await
    }

    async fn lineage_json(&self, scope: LineageScope) -> Result<Vec<u8>> {
        self.inner.lineage_json(scope).await
    }
}

/// Tags and params of a logged model follow the run rules.
fn check_model_tags(tags: &BTreeMap<String, String>) -> Result<()> {
    for (k, v) in tags {
        validate::key("tag", k)?;
        validate::tag_value(k, v)?;
    }
    Ok(())
}

#[async_trait]
impl<S: ModelStore> ModelStore for Validated<S> {
    async fn create_logged_model(&self, new: NewLoggedModel) -> Result<LoggedModel> {
        validate::display_name("model", &new.name)?;
        check_model_tags(&new.tags)?;
        for (k, v) in &new.params {
            validate::key("param", k)?;
            validate::param_value(k, v)?;
        }
        self.inner.create_logged_model(new).await
    }

    async fn get_logged_model(&self, id: &ModelId) -> Result<LoggedModel> {
        self.inner.get_logged_model(id).await
    }

    async fn set_logged_model_status(
        &self,
        id: &ModelId,
        status: ModelStatus,
    ) -> Result<LoggedModel> {
        self.inner.set_logged_model_status(id, status).await
    }

    async fn set_logged_model_tags(
        &self,
        id: &ModelId,
        tags: BTreeMap<String, String>,
    ) -> Result<LoggedModel> {
        check_model_tags(&tags)?;
        self.inner.set_logged_model_tags(id, tags).await
    }

    async fn delete_logged_model_tag(&self, id: &ModelId, key: &str) -> Result<()> {
        self.inner.delete_logged_model_tag(id, key).await
    }

    async fn search_logged_models(&self, query: ModelQuery) -> Result<Page<LoggedModel>> {
        self.inner.search_logged_models(query).await
    }

    async fn log_inputs(&self, run: &RunId, inputs: Vec<DatasetInput>) -> Result<()> {
        self.inner.log_inputs(run, inputs).await
    }

    async fn log_model_outputs(&self, run: &RunId, outputs: Vec<ModelOutput>) -> Result<()> {
        self.inner.log_model_outputs(run, outputs).await
    }
}
