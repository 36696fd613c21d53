//! The run journal on local disk, in the Python SDK's format (docs/SDK.md,
//! "Journal format"): `runlore exec` writes one when the server cannot be
//! reached at start, and `runlore sync` ships journals to a server later.
//! Every record is safe to send twice, so a half-shipped journal is simply
//! shipped again.
//!
//! A writer holds an `flock` on the folder's `lock` file for as long as it
//! lives (the kernel drops it however the process ends), and `runlore sync`
//! takes the same lock before it touches a journal: a journal whose lock is
//! held belongs to a live process and is left alone.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use runlore_core::{LogBatch, NewRun, RunId, RunStatus};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const JOURNAL_FILE: &str = "journal.jsonl";
pub const SHIPPED_FILE: &str = "shipped";
pub const REJECTED_FILE: &str = "rejected.jsonl";
pub const BLOBS_DIR: &str = "blobs";
pub const LOCK_FILE: &str = "lock";
/// More than any pid and host name need: the lock file is untrusted input.
const MAX_LOCK_FILE: u64 = 4096;
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

/// Who writes a journal, as its `lock` file says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Writer {
    pub pid: u32,
    pub host: String,
}

impl Writer {
    pub fn this_process() -> Writer {
        Writer {
            pid: std::process::id(),
            host: host_name(),
        }
    }
}

impl std::fmt::Display for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {} on {}", self.pid, self.host)
    }
}

/// The name Python's `socket.gethostname()` gives, on Linux.
fn host_name() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .map(|name| name.trim().to_owned())
        .unwrap_or_default()
}

/// Whether a process of this host has `pid`; used only where the file
/// system cannot lock. Unknown (taken as alive) off Linux.
fn pid_alive(pid: u32) -> bool {
    !cfg!(target_os = "linux") || Path::new("/proc").join(pid.to_string()).exists()
}

/// A journal's lock; released when dropped.
#[derive(Debug)]
pub struct JournalLock {
    _file: File,
}

pub enum LockState {
    /// Nobody else held it: the writer is gone.
    Taken(JournalLock),
    /// A live process holds it.
    Busy(Option<Writer>),
    /// The folder is gone (its writer shipped and removed it meanwhile).
    Vanished,
}

fn open_lock_file(folder: &Path) -> Result<File> {
    let path = folder.join(LOCK_FILE);
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))
}

fn read_writer(file: &File) -> Option<Writer> {
    let mut text = String::new();
    file.take(MAX_LOCK_FILE).read_to_string(&mut text).ok()?;
    serde_json::from_str(text.trim()).ok()
}

/// Takes `folder`'s lock without waiting (`runlore sync`).
pub fn try_lock(folder: &Path) -> Result<LockState> {
    if !folder.is_dir() {
        return Ok(LockState::Vanished);
    }
    let file = match open_lock_file(folder) {
        Ok(file) => file,
        Err(_) if !folder.is_dir() => return Ok(LockState::Vanished),
        Err(e) => return Err(e),
    };
    let writer = read_writer(&file);
    match file.try_lock() {
        Ok(()) => Ok(LockState::Taken(JournalLock { _file: file })),
        Err(TryLockError::WouldBlock) => Ok(LockState::Busy(writer)),
        // A file system without locks: the recorded pid is all there is.
        Err(TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => {
            let gone = match &writer {
                Some(w) => w.host == host_name() && !pid_alive(w.pid),
                None => true,
            };
            Ok(if gone {
                LockState::Taken(JournalLock { _file: file })
            } else {
                LockState::Busy(writer)
            })
        }
        Err(TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock the journal {}", folder.display()))
        }
    }
}

/// Takes `folder`'s lock for a writer and names this process in it.
fn hold_lock(folder: &Path) -> Result<JournalLock> {
    let mut file = open_lock_file(folder)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => bail!(
            "the journal {} is in use by another live process",
            folder.display()
        ),
        Err(TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => {}
        Err(TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("cannot lock {}", folder.display()));
        }
    }
    file.set_len(0)?;
    serde_json::to_writer(&mut file, &Writer::this_process())?;
    file.write_all(b"\n")?;
    Ok(JournalLock { _file: file })
}

/// Appends records to one run's journal. Each record is flushed and
/// fsynced as it is written: exec writes few, and each one is the only
/// copy of what it holds.
pub struct JournalWriter {
    folder: PathBuf,
    state: Mutex<State>,
    _lock: JournalLock,
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
        // Before the journal file: sync must never find one without its lock.
        let lock = hold_lock(&folder)?;
        let path = folder.join(JOURNAL_FILE);
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(JournalWriter {
            folder,
            state: Mutex::new(State { file, seq: 0 }),
            _lock: lock,
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
        record["time"] = json!(now_ms());
        let mut line = serde_json::to_vec(&record)?;
        line.push(b'\n');
        state
            .file
            .write_all(&line)
            .and_then(|()| state.file.sync_data())
            .with_context(|| format!("cannot write the journal in {}", self.folder.display()))
    }
}

/// When a record was written: its `time` (every writer stamps one), else,
/// in journals from before that, the newest time it carries.
pub fn record_time(record: &Value) -> Option<i64> {
    if let Some(time) = record.get("time").and_then(Value::as_i64) {
        return Some(time);
    }
    let metric_times = record
        .pointer("/batch/metrics")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("timestamp").and_then(Value::as_i64));
    metric_times
        .chain(record.pointer("/run/start_time").and_then(Value::as_i64))
        .max()
}

fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
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
        assert!(records.iter().all(|r| r["time"].as_i64().is_some()));
    }

    #[test]
    fn a_live_writer_holds_the_lock_and_names_itself() {
        let dir = tempfile::tempdir().expect("tmp");
        let run = RunId::generate();
        let journal = JournalWriter::create(dir.path(), &run, "").expect("create");
        match try_lock(journal.folder()).expect("try") {
            LockState::Busy(Some(writer)) => assert_eq!(writer, Writer::this_process()),
            LockState::Busy(None) => panic!("the lock file does not name its writer"),
            LockState::Taken(_) => panic!("a live writer's lock was taken"),
            LockState::Vanished => panic!("a live journal was taken for gone"),
        }
        let folder = journal.folder().to_owned();
        drop(journal);
        assert!(matches!(
            try_lock(&folder).expect("try"),
            LockState::Taken(_)
        ));
        // Shipped and removed by its writer between sync's listing and its lock.
        fs::remove_dir_all(&folder).expect("rm");
        assert!(matches!(
            try_lock(&folder).expect("try"),
            LockState::Vanished
        ));
    }
}
