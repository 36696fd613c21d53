//! A run's REPORT.md, written for a person who was not there: what ran,
//! with which config, from which code, what came out (metrics, components,
//! artifacts), and how to get it back.
//!
//! [`gather`] reads everything through the storage traits, so the server
//! (`GET /api/v1/runs/{id}/report`) and the CLI (`runlore run report`, on a
//! data dir or through `--server`) build the same text; [`render`] is pure.
//!
//! Everything the report interpolates from a run (names, tags, params,
//! paths, commands, records uploaded as artifacts) is untrusted: it goes
//! through [`markdown`], so no renderer turns it into HTML, links or images.

use std::fmt::Write as _;

use super::{EXEC_PATH, ExecRecord, MANIFEST_PATH, Manifest};
use crate::artifact_service::ArtifactService;
use crate::{Artifact, ErrorKind, MetadataStore, MetricSummary, Result, Run, RunFeatures, RunId};

/// exec.json and the manifest are small; anything bigger is not ours.
const MAX_RECORD_BYTES: u64 = 64 * 1024 * 1024;

/// Everything a report is made of.
#[derive(Debug, Clone)]
pub struct ReportInputs {
    pub run: Run,
    pub features: RunFeatures,
    /// `runlore/exec.json`, when the run was started by `runlore exec`.
    pub record: Option<ExecRecord>,
    /// The code snapshot's manifest, when one was taken.
    pub manifest: Option<Manifest>,
    pub artifacts: Vec<Artifact>,
    pub summaries: Vec<MetricSummary>,
    /// Records that exist but could not be read; the report says so rather
    /// than failing, because the rest of it is still worth having.
    pub problems: Vec<Problem>,
}

/// A record of the run that could not be read, and why (plain text: the
/// report escapes it, since parse errors quote what they read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub what: String,
}

/// Reads what the report of run `id` needs.
pub async fn gather(
    store: &dyn MetadataStore,
    files: &dyn ArtifactService,
    id: &RunId,
) -> Result<ReportInputs> {
    let run = store.get_run(id).await?;
    let features = store.run_features(id).await?;
    let mut artifacts = files.list(id, "").await?;
    artifacts.sort_by(|a, b| a.path.cmp(&b.path));
    let keys: Vec<String> = run.metrics.iter().map(|m| m.key.clone()).collect();
    let summaries = if keys.is_empty() {
        Vec::new()
    } else {
        store
            .metric_summaries(std::slice::from_ref(id), &keys)
            .await?
    };
    let mut problems = Vec::new();
    let record = read_json(files, id, &artifacts, EXEC_PATH, &mut problems).await;
    let manifest = read_json(files, id, &artifacts, MANIFEST_PATH, &mut problems).await;
    Ok(ReportInputs {
        run,
        features,
        record,
        manifest,
        artifacts,
        summaries,
        problems,
    })
}

/// The report of run `id` as Markdown.
pub async fn report(
    store: &dyn MetadataStore,
    files: &dyn ArtifactService,
    id: &RunId,
) -> Result<String> {
    Ok(render(&gather(store, files, id).await?))
}

async fn read_json<T: serde::de::DeserializeOwned>(
    files: &dyn ArtifactService,
    run: &RunId,
    listing: &[Artifact],
    path: &str,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    let listed = listing.iter().find(|a| a.path == path)?;
    if listed.size > MAX_RECORD_BYTES {
        problems.push(Problem {
            path: path.to_owned(),
            what: format!("is {} bytes, too big to read", listed.size),
        });
        return None;
    }
    let bytes = match read_all(files, run, path).await {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == ErrorKind::NotFound => return None,
        Err(e) => {
            problems.push(Problem {
                path: path.to_owned(),
                what: format!("cannot be read: {}", e.message()),
            });
            return None;
        }
    };
    match serde_json::from_slice(&bytes) {
        Ok(value) => Some(value),
        Err(e) => {
            problems.push(Problem {
                path: path.to_owned(),
                what: format!("is malformed: {e}"),
            });
            None
        }
    }
}

async fn read_all(files: &dyn ArtifactService, run: &RunId, path: &str) -> Result<Vec<u8>> {
    let (_, mut stream) = files.download(run, path).await?;
    let mut out = Vec::new();
    loop {
        let next = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await;
        match next {
            Some(Ok(chunk)) => out.extend_from_slice(&chunk),
            Some(Err(e)) => {
                return Err(crate::Error::internal(format!(
                    "artifact '{path}' of run {run} cannot be read: {e}"
                )));
            }
            None => return Ok(out),
        }
    }
}

/// The report as Markdown. Writing to a `String` cannot fail, so the
/// `fmt::Result`s are dropped.
pub fn render(inputs: &ReportInputs) -> String {
    use sections::*;
    let mut md = String::new();
    let run = &inputs.run;
    let _ = overview(&mut md, run);
    let _ = what_ran(&mut md, inputs);
    let _ = config(&mut md, inputs);
    let _ = provenance(&mut md, inputs);
    let _ = metrics(&mut md, run, &inputs.summaries);
    let _ = components(&mut md, run);
    let _ = artifacts(&mut md, &inputs.artifacts);
    if !inputs.problems.is_empty() {
        let _ = writeln!(md, "\n## Problems reading this run\n");
        for p in &inputs.problems {
            let _ = writeln!(
                md,
                "- {} {}",
                markdown::code(&p.path),
                markdown::text(&p.what)
            );
        }
    }
    md
}

mod markdown;
mod sections;
#[cfg(test)]
mod tests;
