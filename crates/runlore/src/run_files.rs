//! A run's files (artifacts) as whole byte buffers, for the small files
//! reproducibility keeps: code snapshots, logs, the config, reports. A thin
//! layer over the CLI's [`ArtifactService`] (local data dir or server), so
//! they are ordinary artifacts: stored once by SHA-256, verified on the way
//! out, and kept by anything that keeps referenced blobs. When `runlore
//! exec` works offline they go to the run's journal instead, for
//! `runlore sync` to upload later.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use runlore_core::artifact_service::{ArtifactService, UploadOptions};
use runlore_core::{Error, Result, RunId, Sha256Hex};

use crate::journal::JournalWriter;

/// Where the files go: a store (through its artifact service) or, when
/// `runlore exec` works offline, the run's journal.
pub enum RunFiles {
    Service(Arc<dyn ArtifactService>),
    Journal(Arc<JournalWriter>),
}

impl RunFiles {
    /// The artifact service of the command's opened stores.
    pub fn open(ctx: &crate::Ctx) -> Result<RunFiles> {
        Ok(RunFiles::Service(ctx.backend.artifacts()?))
    }

    /// Files written to a journal only (nothing can be read back).
    pub fn journal(journal: Arc<JournalWriter>) -> RunFiles {
        RunFiles::Journal(journal)
    }

    /// Whether the files go to a journal, not to a store.
    pub fn offline(&self) -> bool {
        matches!(self, RunFiles::Journal(_))
    }

    /// The artifact service underneath (local data dir or server).
    pub fn service(&self) -> Result<&dyn ArtifactService> {
        match self {
            RunFiles::Service(service) => Ok(service.as_ref()),
            RunFiles::Journal(_) => Err(offline()),
        }
    }

    /// Stores `bytes` as the run's artifact `path` (replacing what was
    /// there) and returns the digest.
    pub async fn put(&self, run: &RunId, path: &str, bytes: Bytes) -> Result<Sha256Hex> {
        runlore_core::artifact::validate_path(path)?;
        // The digest travels with the bytes, so a damaged transfer stores
        // nothing instead of something else.
        let expected = Sha256Hex::parse(&crate::snapshot::sha256_hex(&bytes))?;
        if let RunFiles::Journal(journal) = self {
            journal
                .artifact(path, &bytes, expected.as_str())
                .map_err(|e| Error::internal(format!("{e:#}")))?;
            return Ok(expected);
        }
        let body = Box::pin(futures::stream::once(async move { Ok(bytes) }));
        let options = UploadOptions {
            expected_sha256: Some(expected),
            ..UploadOptions::default()
        };
        let artifact = self.service()?.upload(run, path, body, options).await?;
        Ok(artifact.sha256)
    }

    /// The bytes of the run's artifact `path`, verified against their hash.
    pub async fn get(&self, run: &RunId, path: &str) -> Result<Bytes> {
        let (artifact, mut stream) = self.service()?.download(run, path).await?;
        let mut out = BytesMut::with_capacity(usize::try_from(artifact.size).unwrap_or(0));
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                Error::internal(format!(
                    "artifact '{path}' of run {run} cannot be read: {e}"
                ))
            })?;
            out.extend_from_slice(&chunk);
        }
        Ok(out.freeze())
    }
}

fn offline() -> Error {
    Error::new(
        runlore_core::ErrorKind::Unavailable,
        "this run is being journaled offline: its files can be read after `runlore sync`",
    )
}
