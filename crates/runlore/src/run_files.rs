//! A run's files (artifacts) read and written from the CLI, in both modes:
//! straight into the local data dir's blob store and artifact index, or
//! through the server's native artifact API. Code snapshots, logs and
//! reports all go through here, so they are ordinary artifacts: stored once
//! by SHA-256 and kept by anything that keeps referenced blobs.

use std::sync::Arc;

use bytes::Bytes;
use runlore_core::{
    Artifact, ArtifactDirection, ArtifactIndex, ArtifactOwner, BlobStore, Error, ErrorKind,
    NewArtifact, Result, RunId, Sha256Hex,
};

use crate::config::Config;

/// One file of a run as a listing shows it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FileInfo {
    pub path: String,
    pub size: u64,
    #[serde(default)]
    pub sha256: Option<String>,
}

pub enum RunFiles {
    Local {
        index: Arc<runlore_store::SqliteStore>,
        blobs: Arc<dyn BlobStore>,
    },
    Remote {
        client: reqwest::Client,
        base: reqwest::Url,
    },
}

impl RunFiles {
    pub fn open(config: &Config) -> Result<RunFiles> {
        match &config.server.value {
            Some(server) => {
                let base = reqwest::Url::parse(server.trim_end_matches('/'))
                    .map_err(|e| Error::invalid(format!("bad server URL '{server}': {e}")))?;
                Ok(RunFiles::Remote {
                    client: reqwest::Client::new(),
                    base,
                })
            }
            None => {
                let data_dir = &config.data_dir.value;
                let location = match &config.artifacts.value {
                    Some(location) => location.clone(),
                    None => data_dir.join("blobs").to_string_lossy().into_owned(),
                };
                Ok(RunFiles::Local {
                    index: runlore_store::open_sqlite(data_dir)?,
                    blobs: runlore_blobs::open(&location)?,
                })
            }
        }
    }

    fn url(base: &reqwest::Url, run: &RunId, path: &str) -> Result<reqwest::Url> {
        let mut url = base.clone();
        url.path_segments_mut()
            .map_err(|()| Error::invalid("bad server URL"))?
            .extend(["api", "v1", "runs", run.as_str(), "artifacts"])
            .extend(path.split('/'));
        Ok(url)
    }

    /// Stores `bytes` as the run's artifact `path` (replacing what was
    /// there) and returns the digest.
    pub async fn put(&self, run: &RunId, path: &str, bytes: Bytes) -> Result<Sha256Hex> {
        runlore_core::artifact::validate_path(path)?;
        match self {
            RunFiles::Local { index, blobs } => {
                let stored = blobs.put_bytes(bytes).await?;
                let media_type = mime_guess::from_path(path)
                    .first_or_octet_stream()
                    .to_string();
                let new = NewArtifact {
                    path: path.to_owned(),
                    sha256: stored.sha256.clone(),
                    size: stored.size,
                    media_type,
                    direction: ArtifactDirection::Output,
                    step: None,
                };
                index
                    .put_artifact(&ArtifactOwner::Run(run.clone()), new)
                    .await?;
                Ok(stored.sha256)
            }
            RunFiles::Remote { client, base } => {
                let url = Self::url(base, run, path)?;
                let response = client
                    .put(url)
                    .body(bytes)
                    .send()
                    .await
                    .map_err(unreachable(base))?;
                let artifact: Artifact =
                    check(response, path).await?.json().await.map_err(|e| {
                        Error::new(ErrorKind::Unavailable, format!("artifact '{path}': {e}"))
                    })?;
                Ok(artifact.sha256)
            }
        }
    }

    /// The bytes of the run's artifact `path`, verified against their hash.
    pub async fn get(&self, run: &RunId, path: &str) -> Result<Bytes> {
        match self {
            RunFiles::Local { index, blobs } => {
                let row = index
                    .get_artifact(&ArtifactOwner::Run(run.clone()), path)
                    .await?;
                blobs.get_bytes(&row.sha256).await
            }
            RunFiles::Remote { client, base } => {
                let url = Self::url(base, run, path)?;
                let response = client.get(url).send().await.map_err(unreachable(base))?;
                let response = check(response, path).await?;
                let digest = response
                    .headers()
                    .get("x-runlore-sha256")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let bytes = response.bytes().await.map_err(|e| {
                    Error::new(ErrorKind::Unavailable, format!("artifact '{path}': {e}"))
                })?;
                // The server verified the blob; check the transfer as well.
                if let Some(digest) = digest
                    && crate::snapshot::sha256_hex(&bytes) != digest
                {
                    return Err(Error::internal(format!(
                        "artifact '{path}' arrived altered (hash mismatch)"
                    )));
                }
                Ok(bytes)
            }
        }
    }

    /// Every file of the run under `dir` (`""`: all), recursively.
    pub async fn list(&self, run: &RunId, dir: &str) -> Result<Vec<FileInfo>> {
        match self {
            RunFiles::Local { index, .. } => {
                let rows = index
                    .list_artifacts(&ArtifactOwner::Run(run.clone()), dir)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|a| FileInfo {
                        path: a.path,
                        size: a.size,
                        sha256: Some(a.sha256.to_string()),
                    })
                    .collect())
            }
            RunFiles::Remote { client, base } => {
                let mut out = Vec::new();
                let mut pending = vec![dir.to_owned()];
                while let Some(dir) = pending.pop() {
                    let mut url = Self::url(base, run, "x")?;
                    url.path_segments_mut()
                        .map_err(|()| Error::invalid("bad server URL"))?
                        .pop();
                    url.query_pairs_mut().append_pair("path", &dir);
                    let response = client.get(url).send().await.map_err(unreachable(base))?;
                    let page: serde_json::Value =
                        check(response, &dir).await?.json().await.map_err(|e| {
                            Error::new(ErrorKind::Unavailable, format!("listing '{dir}': {e}"))
                        })?;
                    let items = page["items"].as_array().cloned().unwrap_or_default();
                    for item in items {
                        let path = item["path"].as_str().unwrap_or_default().to_owned();
                        if item["is_dir"].as_bool() == Some(true) {
                            pending.push(path);
                        } else {
                            let size = item["size"].as_u64().unwrap_or(0);
                            out.push(FileInfo {
                                path,
                                size,
                                sha256: None,
                            });
                        }
                    }
                }
                out.sort_by(|a, b| a.path.cmp(&b.path));
                Ok(out)
            }
        }
    }
}

fn unreachable(base: &reqwest::Url) -> impl Fn(reqwest::Error) -> Error + '_ {
    move |e| Error::new(ErrorKind::Unavailable, format!("{base}: {e}"))
}

/// The server's error answer turned back into the same error kinds.
async fn check(response: reqwest::Response, what: &str) -> Result<reqwest::Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let text = response.text().await.unwrap_or_default();
    let kind = match status.as_u16() {
        404 => ErrorKind::NotFound,
        409 => ErrorKind::Conflict,
        s if s >= 500 => ErrorKind::Unavailable,
        _ => ErrorKind::InvalidArgument,
    };
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or(text);
    Err(Error::new(kind, format!("artifact '{what}': {message}")))
}
