//! `runlore sync` and the journal's lock: a journal whose lock another
//! process holds is skipped and left whole; a dead writer's journal with no
//! `finish` record is shipped and its run ended as KILLED at the journal's
//! last known time; a hostile lock file changes nothing.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod support;

use std::fs;
use std::path::Path;

use runlore_core::{RunId, RunStatus};
use serde_json::{Value, json};
use support::{block_on, runlore};

const T0: i64 = 1_800_000_000_000;

/// A journal as an SDK that died mid-run leaves it: a create and two log
/// records, no `finish`; `time` fields only when `with_times`.
fn dead_writers_journal(root: &Path, with_times: bool) -> (RunId, std::path::PathBuf) {
    let run = RunId::generate();
    let folder = root.join(run.as_str());
    fs::create_dir_all(&folder).unwrap();
    let mut records = [
        json!({"seq": 1, "kind": "create", "run": {"id": run.as_str(), "project": "p", "start_time": T0}}),
        json!({"seq": 2, "kind": "log", "batch": {"metrics": [
            {"key": "loss", "value": 0.5, "step": 0, "timestamp": T0 + 10},
            {"key": "loss", "value": 0.4, "step": 1, "timestamp": T0 + 20}]}}),
        json!({"seq": 3, "kind": "log", "batch": {"metrics": [
            {"key": "loss", "value": 0.3, "step": 2, "timestamp": T0 + 30}]}}),
    ];
    if with_times {
        for (i, record) in records.iter_mut().enumerate() {
            record["time"] = json!(T0 + 100 * (i as i64 + 1));
        }
    }
    let text: String = records.iter().map(|r| format!("{r}\n")).collect();
    fs::write(folder.join("journal.jsonl"), text).unwrap();
    (run, folder)
}

/// `runlore --data-dir DATA sync JOURNAL`, expected to succeed; its stdout.
fn sync(cwd: &Path, data: &Path, journal: &Path) -> String {
    let out = runlore(cwd)
        .args(["--data-dir"])
        .arg(data)
        .arg("sync")
        .arg(journal)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    stdout
}

fn stored_run(data: &Path, run: &RunId) -> runlore_core::Run {
    let store = runlore_store::open_data_dir(data).unwrap();
    block_on(store.get_run(run)).unwrap()
}

#[test]
fn a_journal_locked_by_a_live_process_is_left_alone_until_it_is_released() {
    let tmp = tempfile::tempdir().unwrap();
    let (journal, data) = (tmp.path().join("journal"), tmp.path().join("data"));
    let (run, folder) = dead_writers_journal(&journal, true);
    // This test process plays the live writer: it holds the lock.
    let lock = fs::File::create(folder.join("lock")).unwrap();
    lock.try_lock().unwrap();
    fs::write(folder.join("lock"), r#"{"pid":4242,"host":"trainer-7"}"#).unwrap();

    let out = sync(tmp.path(), &data, &journal);
    assert!(
        out.contains(&format!("{run}: skipped"))
            && out.contains("live process (pid 4242 on trainer-7)"),
        "{out}"
    );
    assert!(
        folder.join("journal.jsonl").is_file(),
        "a live journal was touched"
    );
    assert!(
        !folder.join("shipped").exists(),
        "a live journal was shipped"
    );

    drop(lock); // the writer dies
    let out = sync(tmp.path(), &data, &journal);
    assert!(
        out.contains("3 record(s) sent") && out.contains("marked KILLED"),
        "{out}"
    );
    let got = stored_run(&data, &run);
    assert_eq!(got.status, RunStatus::Killed);
    assert_eq!(got.end_time, Some(T0 + 300), "the last record's time");
    assert!(!folder.exists());
}

#[test]
fn a_journal_from_before_record_times_ends_at_its_newest_timestamp() {
    let tmp = tempfile::tempdir().unwrap();
    let (journal, data) = (tmp.path().join("journal"), tmp.path().join("data"));
    let (run, folder) = dead_writers_journal(&journal, false);
    let out = sync(tmp.path(), &data, &journal);
    assert!(out.contains("marked KILLED"), "{out}");
    let got = stored_run(&data, &run);
    assert_eq!(
        (got.status, got.end_time),
        (RunStatus::Killed, Some(T0 + 30))
    );
    assert!(!folder.exists());
}

#[test]
fn a_finished_run_is_not_marked_killed_and_a_hostile_lock_file_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (journal, data) = (tmp.path().join("journal"), tmp.path().join("data"));
    let (run, folder) = dead_writers_journal(&journal, true);
    let finish = json!({"seq": 4, "time": T0 + 400, "kind": "finish", "status": "FINISHED", "end_time": T0 + 390});
    let mut text = fs::read_to_string(folder.join("journal.jsonl")).unwrap();
    text.push_str(&format!("{finish}\n"));
    fs::write(folder.join("journal.jsonl"), text).unwrap();
    // 8 MiB of junk where the writer's name should be: read bounded, ignored.
    fs::write(folder.join("lock"), vec![b'{'; 8 << 20]).unwrap();

    let out = sync(tmp.path(), &data, &journal);
    assert!(
        out.contains("4 record(s) sent") && !out.contains("KILLED"),
        "{out}"
    );
    let got = stored_run(&data, &run);
    assert_eq!(
        (got.status, got.end_time),
        (RunStatus::Finished, Some(T0 + 390))
    );
    let points = block_on(runlore_store::open_data_dir(&data).unwrap().metric_history(
        &run,
        runlore_core::store::MetricRange {
            key: "loss".into(),
            start_step: None,
            end_step: None,
        },
    ))
    .unwrap();
    let values: Vec<Value> = points.iter().map(|p| json!(p.value.0)).collect();
    assert_eq!(values, [json!(0.5), json!(0.4), json!(0.3)]);
    assert!(!folder.exists());
}
