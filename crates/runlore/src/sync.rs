//! `runlore sync [PATH]`: uploads what the Python SDK left in its journals
//! (the server was down, or the process ended before its data was shipped).
//! The format is in docs/SDK.md; every record is safe to send twice, so a
//! sync that stops half-way is simply run again.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use runlore_core::artifact_service::{ArtifactService, UploadOptions};
use runlore_core::{ErrorKind, LogBatch, NewRun, RunId, RunPatch, RunStatus};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Ctx;

use crate::journal::{
    BLOBS_DIR, EXEC_SUFFIX, JOURNAL_FILE, REJECTED_FILE, SHIPPED_FILE, default_root, folder_run_id,
};

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Record {
    Create {
        run: NewRun,
    },
    Log {
        batch: LogBatch,
    },
    Artifact {
        path: String,
        sha256: String,
        step: Option<i64>,
    },
    Finish {
        status: RunStatus,
        end_time: Option<i64>,
    },
}

#[derive(Debug, Default, Serialize)]
struct Outcome {
    run_id: String,
    sent: usize,
    rejected: usize,
    left: usize,
    complete: bool,
}

pub async fn run(ctx: &Ctx, path: Option<PathBuf>) -> Result<()> {
    let root = match path {
        Some(path) => path,
        None => default_root()?,
    };
    let folders = journal_folders(&root)?;
    let mut outcomes = Vec::new();
    // Opened only when there is something to sync: on a data dir it opens
    // the stores.
    let artifacts = if folders.is_empty() {
        None
    } else {
        Some(crate::artifact::service(&ctx.config)?)
    };
    for (folder, artifacts) in folders.iter().zip(artifacts.iter().cycle()) {
        let outcome = sync_folder(ctx, artifacts.as_ref(), folder)
            .await
            .with_context(|| format!("syncing {}", folder.display()))?;
        if !ctx.json {
            println!(
                "{}: {} record(s) sent, {} refused, {}",
                outcome.run_id,
                outcome.sent,
                outcome.rejected,
                if outcome.complete {
                    "complete".to_owned()
                } else {
                    format!("{} left", outcome.left)
                }
            );
        }
        outcomes.push(outcome);
    }
    if ctx.json {
        crate::output::print_json(&outcomes)?;
    } else if folders.is_empty() {
        println!("nothing to sync in {}", root.display());
    }
    Ok(())
}

/// `root` itself when it is one run's journal, else its sub-folders that are.
fn journal_folders(root: &Path) -> Result<Vec<PathBuf>> {
    if root.join(JOURNAL_FILE).is_file() {
        return Ok(vec![root.to_owned()]);
    }
    if !root.exists() {
        return Ok(Vec::new());
    }
    let mut folders = Vec::new();
    for entry in fs::read_dir(root).with_context(|| format!("cannot read {}", root.display()))? {
        let path = entry?.path();
        if path.join(JOURNAL_FILE).is_file() {
            folders.push(path);
        }
    }
    // For each run, the journal `runlore exec` left goes before the SDK's:
    // its `create` record carries the run's params, features and parents,
    // and a create that comes second is a no-op.
    folders.sort_by_key(|f| {
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        match name.strip_suffix(EXEC_SUFFIX) {
            Some(id) => (id.to_owned(), 0),
            None => (name, 1),
        }
    });
    Ok(folders)
}

/// Complete lines only: a last line cut short by a crash was never
/// acknowledged to anyone and is left alone.
fn read_records(path: &Path) -> Result<Vec<(u64, Value)>> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut records = Vec::new();
    for line in text.split_inclusive('\n') {
        let Some(line) = line.strip_suffix('\n') else {
            break;
        };
        let Ok(value) = serde_json::from_str::<Value>(line) else {
            break;
        };
        let Some(seq) = value.get("seq").and_then(Value::as_u64) else {
            bail!("a journal record without a seq: {line}");
        };
        records.push((seq, value));
    }
    Ok(records)
}

fn read_shipped(folder: &Path) -> u64 {
    fs::read_to_string(folder.join(SHIPPED_FILE))
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0)
}

fn write_shipped(folder: &Path, seq: u64) -> Result<()> {
    let temp = folder.join("shipped.tmp");
    fs::write(&temp, format!("{seq}\n"))?;
    fs::rename(&temp, folder.join(SHIPPED_FILE))?;
    Ok(())
}

fn set_aside(folder: &Path, record: &Value, error: &runlore_core::Error) -> Result<()> {
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(folder.join(REJECTED_FILE))?;
    let line = serde_json::json!({"error": error.to_string(), "record": record});
    writeln!(file, "{line}")?;
    Ok(())
}

async fn sync_folder(ctx: &Ctx, artifacts: &dyn ArtifactService, folder: &Path) -> Result<Outcome> {
    let run_id = folder_run_id(folder)?;
    let shipped = read_shipped(folder);
    let pending: Vec<(u64, Value)> = read_records(&folder.join(JOURNAL_FILE))?
        .into_iter()
        .filter(|(seq, _)| *seq > shipped)
        .collect();
    let mut outcome = Outcome {
        run_id: run_id.to_string(),
        left: pending.len(),
        ..Outcome::default()
    };
    for (seq, value) in pending {
        let record: Record = serde_json::from_value(value.clone())
            .with_context(|| format!("record {seq} of {} is malformed", folder.display()))?;
        let sent = match record {
            Record::Create { mut run } => {
                run.id = Some(run_id.clone());
                ctx.store.create_run(run).await.map(|_| ())
            }
            Record::Log { batch } => ctx.store.log_batch(&run_id, batch).await.map(|_| ()),
            Record::Artifact { path, sha256, step } => {
                let blob = folder.join(BLOBS_DIR).join(&sha256);
                let journaled = JournaledArtifact { path, sha256, step };
                upload_artifact(artifacts, &run_id, &blob, journaled).await
            }
            Record::Finish { status, end_time } => {
                let patch = RunPatch {
                    name: None,
                    status: Some(status),
                    end_time,
                };
                ctx.store.update_run(&run_id, patch).await.map(|_| ())
            }
        };
        match sent {
            Ok(()) => outcome.sent += 1,
            // The server is gone: stop here, the rest stays for next time.
            Err(e) if e.kind() == ErrorKind::Unavailable || e.kind() == ErrorKind::Internal => {
                return Err(anyhow::Error::new(e).context(format!(
                    "{} record(s) of run {run_id} left in {}",
                    outcome.left,
                    folder.display()
                )));
            }
            Err(e) => {
                set_aside(folder, &value, &e)?;
                outcome.rejected += 1;
            }
        }
        write_shipped(folder, seq)?;
        outcome.left -= 1;
    }
    outcome.complete = true;
    if !folder.join(REJECTED_FILE).exists() {
        fs::remove_dir_all(folder)
            .with_context(|| format!("cannot remove the synced journal {}", folder.display()))?;
    }
    Ok(outcome)
}

/// An artifact kept in the journal, uploaded through the same
/// [`ArtifactService`] as `runlore artifact put` (the server's artifact API,
/// or the local data dir's blob store and index). The declared SHA-256
/// travels with the bytes, so bytes changed in the journal store nothing.
/// Error kinds decide what happens next: an unreachable server or its
/// internal error (`Unavailable`, `Internal`) keeps the record for later;
/// a refusal (`InvalidArgument`, `NotFound`, …) sets it aside.
async fn upload_artifact(
    service: &dyn ArtifactService,
    run_id: &RunId,
    blob: &Path,
    journaled: JournaledArtifact,
) -> runlore_core::Result<()> {
    let JournaledArtifact { path, sha256, step } = journaled;
    let expected = runlore_core::Sha256Hex::parse(&sha256)?;
    let file = tokio::fs::File::open(blob).await.map_err(|e| {
        runlore_core::Error::invalid(format!(
            "the journal lost the bytes of artifact '{path}' ({}): {e}",
            blob.display()
        ))
    })?;
    let body: runlore_core::ByteStream =
        Box::pin(tokio_util::io::ReaderStream::with_capacity(file, 1 << 20));
    let options = UploadOptions {
        expected_sha256: Some(expected),
        step,
        ..UploadOptions::default()
    };
    service
        .upload(run_id, &path, body, options)
        .await
        .map(|_| ())
}

struct JournaledArtifact {
    path: String,
    sha256: String,
    step: Option<i64>,
}
