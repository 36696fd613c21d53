//! `runlore sync [PATH]`: uploads what the Python SDK left in its journals
//! (the server was down, or the process ended before its data was shipped).
//! The format is in docs/SDK.md; every record is safe to send twice, so a
//! sync that stops half-way is simply run again.
//!
//! A journal whose lock is held belongs to a live process and is skipped:
//! sync never ships, marks or removes what a running process still writes.
//! One whose writer is gone without a `finish` record is shipped and its
//! run, if still RUNNING, finished as KILLED at the time of its last record.

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
    BLOBS_DIR, EXEC_SUFFIX, JOURNAL_FILE, LockState, REJECTED_FILE, SHIPPED_FILE, default_root,
    folder_run_id, record_time, try_lock,
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
    /// Why the journal was left alone (its writer is alive).
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<String>,
    /// The writer died without finishing the run, which sync marked KILLED.
    killed: bool,
}

impl Outcome {
    fn summary(&self) -> String {
        if let Some(reason) = &self.skipped {
            return format!("{}: skipped, {reason}", self.run_id);
        }
        let state = if self.complete {
            "complete".to_owned()
        } else {
            format!("{} left", self.left)
        };
        let killed = if self.killed {
            "; its writer ended without finishing it: marked KILLED"
        } else {
            ""
        };
        format!(
            "{}: {} record(s) sent, {} refused, {state}{killed}",
            self.run_id, self.sent, self.rejected
        )
    }
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
        Some(crate::artifact::service(ctx)?)
    };
    for (folder, artifacts) in folders.iter().zip(artifacts.iter().cycle()) {
        let outcome = sync_folder(ctx, artifacts.as_ref(), folder)
            .await
            .with_context(|| format!("syncing {}", folder.display()))?;
        if !ctx.json {
            println!("{}", outcome.summary());
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
    // Held until the folder is shipped and removed: neither the writer
    // (were it to start again) nor a second sync can race this one.
    let vanished = || Outcome {
        run_id: run_id.to_string(),
        skipped: Some("its journal was removed meanwhile (its writer shipped it)".to_owned()),
        ..Outcome::default()
    };
    let _lock = match try_lock(folder)? {
        LockState::Vanished => return Ok(vanished()),
        LockState::Taken(lock) => lock,
        LockState::Busy(writer) => {
            let who = writer.map(|w| format!(" ({w})")).unwrap_or_default();
            return Ok(Outcome {
                run_id: run_id.to_string(),
                skipped: Some(format!(
                    "its journal is being written by a live process{who}; \
                     sync it again once that process has ended"
                )),
                ..Outcome::default()
            });
        }
    };
    if !folder.join(JOURNAL_FILE).is_file() {
        // Listed, then shipped and removed by its writer before we locked it:
        // at most the lock file this sync just made is left.
        remove_if_only_lock(folder);
        return Ok(vanished());
    }
    let shipped = read_shipped(folder);
    let records = read_records(&folder.join(JOURNAL_FILE))?;
    let finished = records
        .iter()
        .any(|(_, r)| r.get("kind").and_then(Value::as_str) == Some("finish"));
    let last_time = records.iter().rev().find_map(|(_, r)| record_time(r));
    let pending: Vec<(u64, Value)> = records
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
        let sent = send(ctx, artifacts, folder, &run_id, record).await;
        match sent {
            Ok(()) => outcome.sent += 1,
            Err(e) if retry_later(&e) => return Err(left_for_later(e, &outcome, folder)),
            Err(e) => {
                set_aside(folder, &value, &e)?;
                outcome.rejected += 1;
            }
        }
        write_shipped(folder, seq)?;
        outcome.left -= 1;
    }
    if !finished {
        match mark_killed(ctx, &run_id, last_time).await {
            Ok(killed) => outcome.killed = killed,
            Err(e) if retry_later(&e) => return Err(left_for_later(e, &outcome, folder)),
            // The run never reached the server (its create was refused):
            // there is nothing to finish, and the refusal is on record.
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    outcome.complete = true;
    if !folder.join(REJECTED_FILE).exists() {
        match fs::remove_dir_all(folder) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(anyhow::Error::new(e).context(format!(
                    "cannot remove the synced journal {}",
                    folder.display()
                )));
            }
            _ => {}
        }
    }
    Ok(outcome)
}

fn remove_if_only_lock(folder: &Path) {
    let only_lock = fs::read_dir(folder).is_ok_and(|entries| {
        entries
            .filter_map(|e| e.ok())
            .all(|e| e.file_name() == crate::journal::LOCK_FILE)
    });
    if only_lock {
        let _ = fs::remove_dir_all(folder);
    }
}

/// The server is gone or failed: stop here, the rest stays for next time.
fn retry_later(e: &runlore_core::Error) -> bool {
    e.kind() == ErrorKind::Unavailable || e.kind() == ErrorKind::Internal
}

fn left_for_later(e: runlore_core::Error, outcome: &Outcome, folder: &Path) -> anyhow::Error {
    anyhow::Error::new(e).context(format!(
        "{} record(s) of run {} left in {}",
        outcome.left,
        outcome.run_id,
        folder.display()
    ))
}

async fn send(
    ctx: &Ctx,
    artifacts: &dyn ArtifactService,
    folder: &Path,
    run_id: &RunId,
    record: Record,
) -> runlore_core::Result<()> {
    match record {
        Record::Create { mut run } => {
            run.id = Some(run_id.clone());
            ctx.store.create_run(run).await.map(|_| ())
        }
        Record::Log { batch } => ctx.store.log_batch(run_id, batch).await.map(|_| ()),
        Record::Artifact { path, sha256, step } => {
            let blob = folder.join(BLOBS_DIR).join(&sha256);
            let journaled = JournaledArtifact { path, sha256, step };
            upload_artifact(artifacts, run_id, &blob, journaled).await
        }
        Record::Finish { status, end_time } => {
            let patch = RunPatch {
                name: None,
                status: Some(status),
                end_time,
            };
            ctx.store.update_run(run_id, patch).await.map(|_| ())
        }
    }
}

/// The run of a journal whose writer died before its `finish`: KILLED,
/// ended at the journal's last known time, unless another journal of the
/// run (the `.exec` one, shipped first) already ended it. Returns whether
/// it marked the run.
async fn mark_killed(
    ctx: &Ctx,
    run_id: &RunId,
    end_time: Option<i64>,
) -> runlore_core::Result<bool> {
    let run = ctx.store.get_run(run_id).await?;
    if run.status.is_terminal() {
        return Ok(false);
    }
    let patch = RunPatch {
        name: None,
        status: Some(RunStatus::Killed),
        end_time,
    };
    ctx.store.update_run(run_id, patch).await?;
    Ok(true)
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
