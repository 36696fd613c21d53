//! The run journal on local disk, in the Python SDK's format (docs/SDK.md,
//! "Journal format"): `runlore exec` writes one when the server cannot be
//! reached at start, and `runlore sync` ships journals to a server later.
//! Every record is safe to send twice, so a half-shipped journal is simply
//! shipped again.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};
use bytes::Bytes;
use runlore_core::{LogBatch, NewRun, RunId, RunStatus};
use serde_json::{Value, json};

pub const JOURNAL_FILE: &str = "journal.jsonl";
pub const SHIPPED_FILE: &str = "shipped";
pub const REJECTED_FILE: &str = "rejected.jsonl";
pub const BLOBS_DIR: &str = "blobs";
pub const ENV_JOURNAL_DIR: &str = "RUNLORE_JOURNAL_DIR";
/// Suffix of the folder `runlore exec` journals into, beside the SDK's
/// `<run id>` folder for the same run (the SDK in the command attaches to
/// the run and keeps its own journal). `runlore sync` ships it first,
/// because its `create` record carries the run's params, features and
/// parents, while the SDK's names the run only.
pub const EXEC_SUFFIX: &str = ".exec";

/// The SDK's default: `$RUNLORE_JOURNAL_DIR`, else `~/.runlore/journal`.
pub fn default_root() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os(ENV_JOURNAL_DIR).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let home = std::env::var_os("HOME").context("HOME is not set; pass the journal folder")?;
    Ok(PathBuf::from(home).join(".runlore").join("journal"))
}

/// The run a journal folder belongs to: its name, up to an optional suffix.
pub fn folder_run_id(folder: &Path) -> Result<RunId> {
    let name = folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let id = name.strip_suffix(EXEC_SUFFIX).unwrap_or(&name);
    RunId::parse(id).with_context(|| format!("{} is not named after a run id", folder.display()))
}

/// Appends records to one run's journal. Each record is flushed and
/// fsynced as it is written: exec writes few, and each one is the only
/// copy of what it holds.
pub struct JournalWriter {
    folder: PathBuf,
    state: Mutex<State>,
}

struct State {
    file: File,
    seq: u64,
}

impl JournalWriter {
    /// Starts the journal of `run` under `root`, refusing a folder that
    /// already holds one (a run id is never reused).
    pub fn create(root: &Path, run: &RunId, suffix: &str) -> Result<JournalWriter> {
        let folder = root.join(format!("{run}{suffix}"));
        fs::create_dir_all(folder.join(BLOBS_DIR))
            .with_context(|| format!("cannot create the journal {}", folder.display()))?;
        let path = folder.join(JOURNAL_FILE);
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(JournalWriter {
            folder,
            state: Mutex::new(State { file, seq: 0 }),
        })
    }

    pub fn folder(&self) -> &Path {
        &self.folder
    }

    pub fn create_run(&self, run: &NewRun) -> Result<()> {
        self.append(json!({"kind": "create", "run": run}))
    }

    pub fn log(&self, batch: &LogBatch) -> Result<()> {
        self.append(json!({"kind": "log", "batch": batch}))
    }

    pub fn finish(&self, status: RunStatus, end_time: i64) -> Result<()> {
        self.append(json!({"kind": "finish", "status": status, "end_time": end_time}))
    }

    /// Keeps the bytes under `blobs/<sha256>` (written to a temporary name
    /// and renamed, so a crash never leaves half a blob under its hash),
    /// then records the artifact.
    pub fn artifact(&self, path: &str, bytes: &Bytes, sha256: &str) -> Result<()> {
        let blob = self.folder.join(BLOBS_DIR).join(sha256);
        if !blob.exists() {
            let temp = self.folder.join(BLOBS_DIR).join(format!("{sha256}.tmp"));
            let mut file =
                File::create(&temp).with_context(|| format!("cannot write {}", temp.display()))?;
            file.write_all(bytes)?;
            file.sync_all()?;
            fs::rename(&temp, &blob)?;
        }
        self.append(json!({
            "kind": "artifact",
            "path": path,
            "sha256": sha256,
            "size": bytes.len(),
            "step": Value::Null,
        }))
    }

    fn append(&self, mut record: Value) -> Result<()> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| anyhow::anyhow!("the journal writer panicked"))?;
        state.seq += 1;
        record["seq"] = json!(state.seq);
        let mut line = serde_json::to_vec(&record)?;
        line.push(b'\n');
        state
            .file
            .write_all(&line)
            .and_then(|()| state.file.sync_data())
            .with_context(|| format!("cannot write the journal in {}", self.folder.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_numbered_lines_and_blobs_are_named_by_hash() {
        let dir = tempfile::tempdir().expect("tmp");
        let run = RunId::generate();
        let journal = JournalWriter::create(dir.path(), &run, EXEC_SUFFIX).expect("create");
        let new = NewRun {
            id: Some(run.clone()),
            project: "p".into(),
            ..NewRun::default()
        };
        journal.create_run(&new).expect("create record");
        let bytes = Bytes::from_static(b"hello");
        let sha = crate::snapshot::sha256_hex(&bytes);
        journal
            .artifact("logs/stdout.log", &bytes, &sha)
            .expect("artifact");
        journal.finish(RunStatus::Failed, 5).expect("finish");
        let text = fs::read_to_string(journal.folder().join(JOURNAL_FILE)).expect("read");
        let records: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect();
        assert_eq!(records.len(), 3);
        assert_eq!(records[0]["seq"], 1);
        assert_eq!(records[0]["run"]["id"], run.as_str());
        assert_eq!(records[1]["sha256"], sha.as_str());
        assert_eq!(records[2]["status"], "FAILED");
        let blob = journal.folder().join(BLOBS_DIR).join(&sha);
        assert_eq!(fs::read(blob).expect("blob"), b"hello");
        assert_eq!(folder_run_id(journal.folder()).expect("id"), run);
        assert!(JournalWriter::create(dir.path(), &run, EXEC_SUFFIX).is_err());
    }
}
