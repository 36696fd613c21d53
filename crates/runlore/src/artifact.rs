//! `runlore artifact …`: move files in and out of runs, record inputs by
//! hash, and compare two runs' files. Written once over
//! [`ArtifactService`], on the local data dir or a server.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use runlore_core::artifact_service::{ArtifactService, UploadOptions, UseInput};
use runlore_core::{Artifact, ArtifactDirection, Error, RunId, Sha256Hex};
use sha2::{Digest, Sha256};

use crate::run::resolve_id;
use crate::{Ctx, output};

mod get;

#[derive(Debug, Subcommand)]
pub enum ArtifactCommand {
    /// Upload files or folders to a run (stored once by SHA-256)
    Put {
        run: String,
        /// Files or folders; a folder uploads everything below it
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Where in the run's tree (default: the file's name; for a folder,
        /// its name)
        #[arg(long, value_name = "PATH")]
        path: Option<String>,
        /// Record the files as inputs the run used, not outputs
        #[arg(long)]
        input: bool,
        /// The step of a media file (an image per epoch)
        #[arg(long)]
        step: Option<i64>,
    },
    /// Download a file, or every file under a folder, of a run
    Get {
        run: String,
        path: String,
        /// Where to write (default: the artifact path under the current
        /// folder)
        #[arg(long, short = 'o', value_name = "DEST")]
        output: Option<PathBuf>,
    },
    /// List a run's files with size, SHA-256 and direction
    Ls {
        run: String,
        #[arg(default_value = "")]
        dir: String,
    },
    /// Compare two runs' files: added, removed, changed; with PATH, that
    /// file's lines side by side
    Diff {
        a: String,
        b: String,
        path: Option<String>,
    },
    /// Record that a run used bytes known by hash: a file already stored
    /// (by any run), or with --uri an external file Runlore does not hold
    Use {
        run: String,
        /// SHA-256 of the bytes, or a local file to hash
        what: String,
        /// Name under the run's inputs (default: the file name or hash)
        #[arg(long, value_name = "PATH")]
        path: Option<String>,
        /// Where an external file lives (s3://…, https://…, file:///…)
        #[arg(long)]
        uri: Option<String>,
    },
}

/// The artifact service for the command's place: the server, or the local
/// database's stores (the ones `ctx.store` is, opened once) and blob folder.
pub fn service(ctx: &Ctx) -> Result<Arc<dyn ArtifactService>> {
    Ok(ctx.backend.artifacts()?)
}

pub async fn run(ctx: &Ctx, command: ArtifactCommand) -> Result<()> {
    let service = service(ctx)?;
    match command {
        ArtifactCommand::Put {
            run,
            files,
            path,
            input,
            step,
        } => {
            let run = resolve_id(ctx, &run).await?;
            let direction = if input {
                ArtifactDirection::Input
            } else {
                ArtifactDirection::Output
            };
            let mut done = Vec::new();
            for file in &files {
                for (local, dest) in plan_upload(file, path.as_deref(), files.len())? {
                    let artifact =
                        upload_file(service.as_ref(), &run, &local, &dest, direction, step).await?;
                    done.push(artifact);
                }
            }
            print_artifacts(ctx, &done)
        }
        ArtifactCommand::Get { run, path, output } => {
            let run = resolve_id(ctx, &run).await?;
            get::get(ctx, service.as_ref(), &run, &path, output).await
        }
        ArtifactCommand::Ls { run, dir } => {
            let run = resolve_id(ctx, &run).await?;
            print_artifacts(ctx, &service.list(&run, &dir).await?)
        }
        ArtifactCommand::Diff { a, b, path } => {
            let a = resolve_id(ctx, &a).await?;
            let b = resolve_id(ctx, &b).await?;
            let diff = service.diff(&a, &b, path.as_deref()).await?;
            crate::artifact_diff::print(ctx, &diff)
        }
        ArtifactCommand::Use {
            run,
            what,
            path,
            uri,
        } => {
            let run = resolve_id(ctx, &run).await?;
            let (sha256, name) = match Sha256Hex::parse(&what.to_ascii_lowercase()) {
                Ok(sha) => (sha, None),
                Err(_) => {
                    let file = Path::new(&what);
                    let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
                    (hash_file(file).await?, name)
                }
            };
            let path = path
                .or(name)
                .unwrap_or_else(|| format!("inputs/{}", &sha256.as_str()[..12]));
            service
                .use_input(
                    &run,
                    UseInput {
                        sha256: sha256.clone(),
                        path: path.clone(),
                        uri,
                    },
                )
                .await?;
            if ctx.json {
                return output::print_json(
                    &serde_json::json!({"run": run, "path": path, "sha256": sha256}),
                );
            }
            output::println_flush(&format!("Run {run} used {path} (sha256 {sha256})"))
        }
    }
}

/// (local file, artifact path) pairs: a file goes to DEST or its name; a
/// folder's files keep their paths below DEST or the folder's name.
fn plan_upload(file: &Path, dest: Option<&str>, count: usize) -> Result<Vec<(PathBuf, String)>> {
    let name = || {
        file.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let meta = std::fs::metadata(file)
        .map_err(|e| Error::invalid(format!("cannot read {}: {e}", file.display())))?;
    if meta.is_file() {
        // With several files, --path is the folder they go into.
        let dest = match dest {
            Some(d) if count > 1 => format!("{}/{}", d.trim_end_matches('/'), name()),
            Some(d) => d.to_owned(),
            None => name(),
        };
        return Ok(vec![(file.to_owned(), dest)]);
    }
    let root = dest.map_or_else(name, |d| d.trim_end_matches('/').to_owned());
    let mut out = Vec::new();
    let mut stack = vec![file.to_owned()];
    // Bounded: a symlink loop cannot make this walk forever.
    let mut seen = 0usize;
    while let Some(dir) = stack.pop() {
        seen += 1;
        if seen > 1_000_000 {
            bail!("{} has more than a million entries", file.display());
        }
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
        {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                let rel = entry
                    .path()
                    .strip_prefix(file)
                    .map(|r| r.to_string_lossy().replace('\\', "/"))
                    .unwrap_or_default();
                let dest = if root.is_empty() {
                    rel
                } else {
                    format!("{root}/{rel}")
                };
                out.push((entry.path(), dest));
            }
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

fn progress(len: u64, what: &str) -> ProgressBar {
    // Only worth drawing for big files on a terminal.
    if len < 8 << 20 || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

async fn upload_file(
    service: &dyn ArtifactService,
    run: &RunId,
    local: &Path,
    dest: &str,
    direction: ArtifactDirection,
    step: Option<i64>,
) -> Result<Artifact> {
    // Checked here too, so both modes refuse with the same message before
    // any byte moves.
    runlore_core::artifact::validate_path(dest)?;
    // Hash first, so the server checks the bytes it received against what
    // is on disk here (a transfer cut short is refused, not stored).
    let expected = hash_file(local).await?;
    let file = tokio::fs::File::open(local)
        .await
        .with_context(|| format!("opening {}", local.display()))?;
    let len = file.metadata().await.map(|m| m.len()).unwrap_or(0);
    let bar = progress(len, dest);
    let counter = bar.clone();
    let stream = tokio_util::io::ReaderStream::with_capacity(file, 1 << 20).inspect(move |chunk| {
        if let Ok(bytes) = chunk {
            counter.inc(bytes.len() as u64);
        }
    });
    let options = UploadOptions {
        expected_sha256: Some(expected),
        direction,
        step,
        media_type: None,
    };
    let result = service.upload(run, dest, Box::pin(stream), options).await;
    bar.finish_and_clear();
    Ok(result?)
}

/// SHA-256 of a local file, read in 1 MiB pieces.
pub async fn hash_file(path: &Path) -> Result<Sha256Hex> {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| Error::invalid(format!("cannot read {}: {e}", path.display())))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = tokio::io::AsyncReadExt::read(&mut file, &mut buf).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(Sha256Hex::parse(&hex::encode(hasher.finalize()))?)
}

fn print_artifacts(ctx: &Ctx, artifacts: &[Artifact]) -> Result<()> {
    if ctx.json {
        return output::print_json(artifacts);
    }
    let mut table = output::table(["PATH", "SIZE", "SHA256", "DIRECTION", "TYPE"]);
    for a in artifacts {
        table.add_row(vec![
            a.path.clone(),
            a.size.to_string(),
            a.sha256.as_str()[..12].to_owned(),
            a.direction.as_str().to_owned(),
            a.media_type.clone(),
        ]);
    }
    output::print_table(&table)
}
