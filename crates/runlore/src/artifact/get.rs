//! `runlore artifact get`: a file, or every file under a folder, of a run.
//!
//! The listing comes from the server or the data dir and is untrusted: a
//! path that could leave the destination (`../x`, `/etc/x`) refuses the
//! whole download before a byte is written, and files land below one
//! folder without following links.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use runlore_core::artifact_service::ArtifactService;
use runlore_core::{Artifact, Error, RunId};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::progress;
use crate::restore::confine::Confined;
use crate::{Ctx, output};

pub(super) async fn get(
    ctx: &Ctx,
    service: &dyn ArtifactService,
    run: &RunId,
    path: &str,
    output: Option<PathBuf>,
) -> Result<()> {
    let all = service.list(run, "").await?;
    let prefix = format!("{}/", path.trim_end_matches('/'));
    let wanted: Vec<&Artifact> = all
        .iter()
        .filter(|a| a.path == path || a.path.starts_with(&prefix) || path.is_empty())
        .collect();
    if wanted.is_empty() {
        return Err(Error::not_found("artifact", path).into());
    }
    // The listing comes from the server: every path is checked before the
    // first byte is written, so one hostile entry (`../x`, `/etc/x`)
    // refuses the whole download.
    for artifact in &wanted {
        runlore_core::artifact::validate_path(&artifact.path)?;
    }
    let single = wanted.len() == 1 && wanted[0].path == path;
    // Files of a folder land below one root and never through a link.
    let folder = match (&output, single) {
        (Some(out), true) => {
            let dest = out.clone();
            download_to(service, run, wanted[0], &dest).await?;
            if !ctx.json {
                output::println_flush(&format!("{} → {}", wanted[0].path, dest.display()))?;
            }
            None
        }
        (Some(out), false) => {
            std::fs::create_dir_all(out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            Some((Confined::new(out)?, true, out.clone()))
        }
        (None, _) => Some((Confined::new(Path::new("."))?, false, PathBuf::new())),
    };
    if let Some((root, strip, shown)) = folder {
        for artifact in &wanted {
            let rel = match artifact.path.strip_prefix(&prefix) {
                Some(rest) if strip => rest,
                _ => artifact.path.as_str(),
            };
            let dest = root.place(Path::new(rel))?;
            download_to(service, run, artifact, &dest).await?;
            if !ctx.json {
                let shown = shown.join(rel);
                output::println_flush(&format!("{} → {}", artifact.path, shown.display()))?;
            }
        }
    }
    if ctx.json {
        return output::print_json(&wanted);
    }
    Ok(())
}

/// Streams to a temporary file beside `dest` and renames it into place
/// only when every byte arrived and matched its hash.
async fn download_to(
    service: &dyn ArtifactService,
    run: &RunId,
    artifact: &Artifact,
    dest: &Path,
) -> Result<()> {
    if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(parent).await?;
    }
    let partial = dest.with_extension("runlore-partial");
    let (_, mut stream) = service
        .download(run, &artifact.path)
        .await
        .with_context(|| format!("download of {} failed", artifact.path))?;
    // A stale partial file (or a link in its place) is removed, never
    // followed: the new one is created fresh.
    if tokio::fs::symlink_metadata(&partial).await.is_ok() {
        tokio::fs::remove_file(&partial).await?;
    }
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&partial)
        .await
        .with_context(|| format!("creating {}", partial.display()))?;
    let bar = progress(artifact.size, &artifact.path);
    let mut hasher = Sha256::new();
    let mut failed = None;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => {
                hasher.update(&bytes);
                bar.inc(bytes.len() as u64);
                file.write_all(&bytes).await?;
            }
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    bar.finish_and_clear();
    file.flush().await?;
    drop(file);
    let got = hex::encode(hasher.finalize());
    if let Some(e) = failed.or_else(|| {
        (got != artifact.sha256.as_str()).then(|| {
            std::io::Error::other(format!(
                "{} arrived with sha256 {got}, not the recorded {}",
                artifact.path, artifact.sha256
            ))
        })
    }) {
        let _ = tokio::fs::remove_file(&partial).await;
        bail!("download of {} failed: {e}", artifact.path);
    }
    tokio::fs::rename(&partial, dest)
        .await
        .with_context(|| format!("writing {}", dest.display()))?;
    Ok(())
}
