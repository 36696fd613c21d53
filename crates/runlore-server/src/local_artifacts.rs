//! [`ArtifactService`] on the stores themselves: what the native API's
//! handlers call, and what the CLI uses on a local data dir.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use runlore_core::artifact::{normalize_dir, validate_path};
use runlore_core::artifact_service::{
    ArtifactDiff, ArtifactService, GcOptions, MAX_TEXT_DIFF_BYTES, UploadOptions, UseInput,
    VerifyTarget, diff_lists, looks_like_text, text_lines,
};
use runlore_core::lineage::{GcReport, LineageGraph, LineageScope, VerifyProblem, VerifyReport};
use runlore_core::time::now_ms;
use runlore_core::{
    Artifact, ArtifactDirection, ArtifactIndex, ArtifactOwner, BlobCheck, BlobStore, ByteStream,
    DatasetInput, Error, ErrorKind, Lifecycle, MetadataStore, ModelStore, NewArtifact, Result,
    RunId, Sha256Hex,
};

#[derive(Clone)]
pub struct LocalArtifacts {
    pub store: Arc<dyn MetadataStore>,
    pub index: Arc<dyn ArtifactIndex>,
    pub models: Arc<dyn ModelStore>,
    pub blobs: Arc<dyn BlobStore>,
}

/// The media type for a path: its extension first (clients guess from it
/// too), then what the client said.
pub fn media_type_for(path: &str, declared: Option<&str>) -> String {
    match mime_guess::from_path(path).first() {
        Some(mime) => mime.to_string(),
        None => declared
            .filter(|v| !v.is_empty() && !v.starts_with("application/x-www-form-urlencoded"))
            .unwrap_or("application/octet-stream")
            .to_owned(),
    }
}

impl LocalArtifacts {
    /// The row of the run's artifact `path`.
    pub async fn artifact(&self, run: &RunId, path: &str) -> Result<Artifact> {
        validate_path(path)?;
        self.index
            .get_artifact(&ArtifactOwner::Run(run.clone()), path)
            .await
    }

    async fn writable_run(&self, run: &RunId) -> Result<()> {
        let found = self.store.get_run(run).await?;
        if found.lifecycle == Lifecycle::Deleted {
            return Err(Error::invalid(format!(
                "run '{run}' is deleted; restore it first"
            )));
        }
        Ok(())
    }

    /// Re-hashes each blob once and names every row it backs.
    async fn check_blobs(
        &self,
        rows: BTreeMap<Sha256Hex, Vec<(Option<RunId>, String)>>,
        external: &BTreeSet<Sha256Hex>,
    ) -> Result<VerifyReport> {
        let mut report = VerifyReport::default();
        for (sha256, owners) in rows {
            report.artifacts_checked += owners.len() as u64;
            let check = self.blobs.check(&sha256).await?;
            let (problem, actual) = match check {
                BlobCheck::Intact { size } => {
                    report.blobs_checked += 1;
                    report.bytes_checked += size;
                    continue;
                }
                BlobCheck::Missing if external.contains(&sha256) => {
                    report.external_skipped += 1;
                    continue;
                }
                BlobCheck::Missing => ("missing", None),
                BlobCheck::Corrupt { actual, size } => {
                    report.blobs_checked += 1;
                    report.bytes_checked += size;
                    ("corrupt", Some(actual))
                }
            };
            // A blob with no rows named yet still gets one line.
            let owners = if owners.is_empty() {
                vec![(None, String::new())]
            } else {
                owners
            };
            for (run_id, path) in owners {
                report.problems.push(VerifyProblem {
                    run_id,
                    path,
                    sha256: sha256.clone(),
                    problem: problem.to_owned(),
                    actual_sha256: actual.clone(),
                });
            }
        }
        Ok(report)
    }

    /// The rows of a lineage graph grouped by blob, and which blobs are
    /// external references.
    #[allow(clippy::type_complexity)]
    fn rows_of(
        graph: &LineageGraph,
    ) -> (
        BTreeMap<Sha256Hex, Vec<(Option<RunId>, String)>>,
        BTreeSet<Sha256Hex>,
    ) {
        let mut rows: BTreeMap<Sha256Hex, Vec<(Option<RunId>, String)>> = BTreeMap::new();
        for u in graph.generated.iter().chain(&graph.used) {
            rows.entry(u.sha256.clone())
                .or_default()
                .push((Some(u.run_id.clone()), u.path.clone()));
        }
        let external = graph
            .entities
            .iter()
            .filter(|e| e.uri.is_some())
            .map(|e| e.sha256.clone())
            .collect();
        (rows, external)
    }
}

#[async_trait]
impl ArtifactService for LocalArtifacts {
    async fn upload(
        &self,
        run: &RunId,
        path: &str,
        body: ByteStream,
        options: UploadOptions,
    ) -> Result<Artifact> {
        validate_path(path)?;
        self.writable_run(run).await?;
        let blob = self
            .blobs
            .put(body, options.expected_sha256.as_ref())
            .await?;
        self.index
            .put_artifact(
                &ArtifactOwner::Run(run.clone()),
                NewArtifact {
                    path: path.to_owned(),
                    sha256: blob.sha256,
                    size: blob.size,
                    media_type: media_type_for(path, options.media_type.as_deref()),
                    direction: options.direction,
                    step: options.step,
                },
            )
            .await
    }

    async fn download(&self, run: &RunId, path: &str) -> Result<(Artifact, ByteStream)> {
        validate_path(path)?;
        let artifact = self
            .index
            .get_artifact(&ArtifactOwner::Run(run.clone()), path)
            .await?;
        let (_, stream) = self.blobs.get(&artifact.sha256).await?;
        Ok((artifact, stream))
    }

    async fn list(&self, run: &RunId, dir: &str) -> Result<Vec<Artifact>> {
        self.store.get_run(run).await?;
        let dir = normalize_dir(dir)?;
        self.index
            .list_artifacts(&ArtifactOwner::Run(run.clone()), &dir)
            .await
    }

    async fn use_input(&self, run: &RunId, input: UseInput) -> Result<()> {
        validate_path(&input.path)?;
        self.writable_run(run).await?;
        if let Some(uri) = input.uri {
            if uri.trim().is_empty() || uri.len() > 4_096 {
                return Err(Error::invalid(
                    "the uri of an external input must be 1 to 4,096 characters",
                ));
            }
            return self
                .models
                .log_inputs(
                    run,
                    vec![DatasetInput {
                        name: input.path,
                        digest: input.sha256.to_string(),
                        source_type: "external".into(),
                        source: uri,
                        schema: None,
                        profile: None,
                        tags: BTreeMap::new(),
                    }],
                )
                .await;
        }
        let Some(size) = self.blobs.stat(&input.sha256).await? else {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!(
                    "no stored file has sha256 {}: upload it as an input, or give the uri \
                     where it lives to record it by reference",
                    input.sha256
                ),
            ));
        };
        self.index
            .put_artifact(
                &ArtifactOwner::Run(run.clone()),
                NewArtifact {
                    media_type: media_type_for(&input.path, None),
                    path: input.path,
                    sha256: input.sha256,
                    size,
                    direction: ArtifactDirection::Input,
                    step: None,
                },
            )
            .await
            .map(drop)
    }

    async fn diff(&self, a: &RunId, b: &RunId, path: Option<&str>) -> Result<ArtifactDiff> {
        let before = self.list(a, "").await?;
        let after = self.list(b, "").await?;
        let mut diff = diff_lists(&before, &after);
        let Some(path) = path else {
            return Ok(diff);
        };
        let known = |list: &[Artifact]| list.iter().any(|x| x.path == path);
        if !known(&before) && !known(&after) {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("neither run has an artifact '{path}'"),
            ));
        }
        for changed in diff.changed.iter_mut().filter(|c| c.path == path) {
            if changed.before.size > MAX_TEXT_DIFF_BYTES || changed.after.size > MAX_TEXT_DIFF_BYTES
            {
                continue;
            }
            let old = self.blobs.get_bytes(&changed.before.sha256).await?;
            let new = self.blobs.get_bytes(&changed.after.sha256).await?;
            if looks_like_text(&changed.before.media_type, &old)
                && looks_like_text(&changed.after.media_type, &new)
            {
                changed.lines = Some(text_lines(
                    &String::from_utf8_lossy(&old),
                    &String::from_utf8_lossy(&new),
                ));
            }
        }
        Ok(diff)
    }

    async fn lineage(&self, scope: LineageScope) -> Result<LineageGraph> {
        self.index.lineage(scope).await
    }

    async fn lineage_json(&self, scope: LineageScope) -> Result<Vec<u8>> {
        self.index.lineage_json(scope).await
    }

    async fn verify(&self, target: VerifyTarget) -> Result<VerifyReport> {
        match target {
            VerifyTarget::Run(run) => {
                let graph = self.index.lineage(LineageScope::Run(run.clone())).await?;
                let (mut rows, external) = Self::rows_of(&graph);
                // Only this run's rows; the lineage also names producers.
                for owners in rows.values_mut() {
                    owners.retain(|(r, _)| r.as_ref() == Some(&run));
                }
                rows.retain(|_, owners| !owners.is_empty());
                self.check_blobs(rows, &external).await
            }
            VerifyTarget::Project(name) => {
                let graph = self.index.lineage(LineageScope::Project(name)).await?;
                let (rows, external) = Self::rows_of(&graph);
                self.check_blobs(rows, &external).await
            }
            VerifyTarget::Blob(sha256) => {
                let graph = self.index.lineage(LineageScope::Blob(sha256)).await?;
                let (rows, external) = Self::rows_of(&graph);
                self.check_blobs(rows, &external).await
            }
            VerifyTarget::All => {
                let mut rows = BTreeMap::new();
                for sha256 in self.index.referenced_blobs().await? {
                    rows.insert(sha256, Vec::new());
                }
                let mut report = self.check_blobs(rows, &BTreeSet::new()).await?;
                // Name the rows behind each damaged blob.
                let damaged: Vec<VerifyProblem> = std::mem::take(&mut report.problems);
                for problem in damaged {
                    let graph = self
                        .index
                        .lineage(LineageScope::Blob(problem.sha256.clone()))
                        .await
                        .unwrap_or_default();
                    let (named, _) = Self::rows_of(&graph);
                    let owners = named.get(&problem.sha256).cloned().unwrap_or_default();
                    report.artifacts_checked += owners.len() as u64;
                    if owners.is_empty() {
                        report.problems.push(problem);
                        continue;
                    }
                    for (run_id, path) in owners {
                        report.problems.push(VerifyProblem {
                            run_id,
                            path,
                            ..problem.clone()
                        });
                    }
                }
                Ok(report)
            }
        }
    }

    async fn gc(&self, options: GcOptions) -> Result<GcReport> {
        // Blobs first, references second: a blob stored and recorded in
        // between is either not listed or already referenced.
        let stored = self.blobs.list().await?;
        let referenced: BTreeSet<Sha256Hex> =
            self.index.referenced_blobs().await?.into_iter().collect();
        let cutoff = now_ms().saturating_sub(options.min_age_ms.max(0));
        let mut report = GcReport {
            dry_run: !options.apply,
            ..GcReport::default()
        };
        for blob in stored {
            report.blobs_stored += 1;
            report.bytes_stored += blob.size;
            if referenced.contains(&blob.sha256) {
                continue;
            }
            if blob.modified.is_none_or(|m| m > cutoff) {
                report.blobs_too_young += 1;
                continue;
            }
            report.blobs_unreferenced += 1;
            report.bytes_unreferenced += blob.size;
            if options.apply {
                self.blobs.delete(&blob.sha256).await?;
                report.blobs_removed += 1;
                report.bytes_freed += blob.size;
            }
        }
        Ok(report)
    }
}
