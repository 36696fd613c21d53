//! [`ArtifactService`] over HTTP: the CLI's `artifact`, `lineage` and `gc`
//! commands against a server. Transfers stream both ways and are exempt
//! from the per-request timeout (a 10 GiB checkpoint takes its time).

use std::time::Duration;

use async_trait::async_trait;
use futures_util::TryStreamExt;
use reqwest::Method;
use runlore_core::artifact_service::{
    ArtifactDiff, ArtifactService, GcOptions, UploadOptions, UseInput, VerifyTarget,
};
use runlore_core::lineage::{GcReport, LineageGraph, LineageScope, TraceDirection, VerifyReport};
use runlore_core::{Artifact, ByteStream, Error, Result, RunId};
use serde::Deserialize;
use serde_json::json;

use crate::HttpStore;
use crate::http::error_from_response;

/// Longest a single upload or download may take.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Deserialize)]
struct Files {
    files: Vec<Artifact>,
}

/// `/api/v1/runs/{id}/artifacts/<path segments…>`.
fn artifact_segments<'a>(run: &'a RunId, path: &'a str) -> Vec<&'a str> {
    let mut segments = vec!["runs", run.as_str(), "artifacts"];
    segments.extend(path.split('/'));
    segments
}

fn lineage_query(scope: &LineageScope) -> Vec<(&'static str, String)> {
    match scope {
        LineageScope::Run(id) => vec![("run", id.to_string())],
        LineageScope::Project(name) => vec![("project", name.clone())],
        LineageScope::Blob(sha) => vec![("sha256", sha.to_string())],
        LineageScope::Trace {
            sha256,
            direction,
            depth,
        } => vec![
            ("sha256", sha256.to_string()),
            (
                "direction",
                match direction {
                    TraceDirection::Up => "up",
                    TraceDirection::Down => "down",
                }
                .to_owned(),
            ),
            ("depth", depth.to_string()),
        ],
    }
}

#[async_trait]
impl ArtifactService for HttpStore {
    async fn upload(
        &self,
        run: &RunId,
        path: &str,
        body: ByteStream,
        options: UploadOptions,
    ) -> Result<Artifact> {
        let url = self.api(&artifact_segments(run, path))?;
        let mut query = vec![("direction", options.direction.as_str().to_owned())];
        if let Some(sha) = &options.expected_sha256 {
            query.push(("sha256", sha.to_string()));
        }
        if let Some(step) = options.step {
            query.push(("step", step.to_string()));
        }
        let mut request = self
            .request(Method::PUT, url)
            .query(&query)
            .timeout(TRANSFER_TIMEOUT)
            .body(reqwest::Body::wrap_stream(body));
        if let Some(media_type) = &options.media_type {
            request = request.header(reqwest::header::CONTENT_TYPE, media_type);
        }
        self.send(request).await
    }

    async fn download(&self, run: &RunId, path: &str) -> Result<(Artifact, ByteStream)> {
        let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
        let artifact = self
            .list(run, dir)
            .await?
            .into_iter()
            .find(|a| a.path == path)
            .ok_or_else(|| Error::not_found("artifact", path))?;
        let url = self.api(&artifact_segments(run, path))?;
        let response = self
            .request(Method::GET, url)
            .timeout(TRANSFER_TIMEOUT)
            .send()
            .await
            // The server answered the listing just before, so a broken
            // response here is the download failing (the server stops
            // sending bytes that no longer match their hash), not an
            // unreachable server.
            .map_err(|e| Error::internal(format!("download of {path} failed: {e}")))?;
        if !response.status().is_success() {
            let status = response.status();
            let body = response.bytes().await.unwrap_or_default();
            return Err(error_from_response(status, &body));
        }
        let stream = response
            .bytes_stream()
            .map_err(|e| std::io::Error::other(format!("download interrupted: {e}")));
        let stream = crate::verify::verified(Box::pin(stream), &artifact);
        Ok((artifact, stream))
    }

    async fn list(&self, run: &RunId, dir: &str) -> Result<Vec<Artifact>> {
        let url = self.api(&["runs", run.as_str(), "artifacts"])?;
        let files: Files = self
            .send(
                self.request(Method::GET, url)
                    .query(&[("path", dir), ("recursive", "true")]),
            )
            .await?;
        Ok(files.files)
    }

    async fn use_input(&self, run: &RunId, input: UseInput) -> Result<()> {
        let url = self.api(&["runs", run.as_str(), "inputs"])?;
        self.send_empty(self.request(Method::POST, url).json(&input))
            .await
    }

    async fn diff(&self, a: &RunId, b: &RunId, path: Option<&str>) -> Result<ArtifactDiff> {
        let url = self.api(&["runs", a.as_str(), "artifact-diff", b.as_str()])?;
        let mut request = self.request(Method::GET, url);
        if let Some(path) = path {
            request = request.query(&[("path", path)]);
        }
        self.send(request).await
    }

    async fn lineage(&self, scope: LineageScope) -> Result<LineageGraph> {
        let url = self.api(&["lineage"])?;
        self.send(self.request(Method::GET, url).query(&lineage_query(&scope)))
            .await
    }

    async fn verify(&self, target: VerifyTarget) -> Result<VerifyReport> {
        let url = self.api(&["lineage", "verify"])?;
        let body = match target {
            VerifyTarget::Run(id) => json!({"run": id}),
            VerifyTarget::Project(name) => json!({"project": name}),
            VerifyTarget::Blob(sha) => json!({"sha256": sha}),
            VerifyTarget::All => json!({}),
        };
        // Re-hashing everything can take long on a big store.
        self.send(
            self.request(Method::POST, url)
                .timeout(TRANSFER_TIMEOUT)
                .json(&body),
        )
        .await
    }

    async fn gc(&self, options: GcOptions) -> Result<GcReport> {
        let url = self.api(&["admin", "gc"])?;
        self.send(
            self.request(Method::POST, url)
                .timeout(TRANSFER_TIMEOUT)
                .json(&options),
        )
        .await
    }
}
