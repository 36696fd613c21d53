//! `runlore exec` when the server cannot be reached: the command still
//! runs, everything goes to a journal on local disk, and `runlore sync`
//! later makes the run on the server exactly as exec would have.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod repro;
#[allow(dead_code)]
mod support;

use repro::{Place, assert_same_tree, fill};
use serde_json::Value;

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// `runlore sync` of the journal root to the place's server.
fn sync(place: &Place, journal: &std::path::Path) -> std::process::Output {
    place
        .target
        .cmd()
        .env("RUNLORE_JOURNAL_DIR", journal)
        .arg("sync")
        .output()
        .unwrap()
}

#[test]
fn a_run_made_while_the_server_is_down_is_journaled_and_synced_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir(&work).unwrap();
    fill(&work);
    let journal = tmp.path().join("journal");
    let down = format!("http://127.0.0.1:{}", closed_port());
    let out = support::runlore(&work)
        .env("RUNLORE_JOURNAL_DIR", &journal)
        .args(["--server", &down, "exec", "--name", "offline-run"])
        .args(["--config", "configs/base.yaml", "--set", "model.lr=0.1"])
        .args(["--tag", "cluster"])
        .args([
            "--",
            "sh",
            "-c",
            "cat \"$RUNLORE_CONFIG\"; echo oops >&2; exit 3",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stdout.contains("lr: 0.1"),
        "the command ran with its config: {stdout}"
    );
    assert!(
        stderr.contains("recording run") && stderr.contains("runlore sync"),
        "{stderr}"
    );
    let folders: Vec<_> = std::fs::read_dir(&journal)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(folders.len(), 1, "{folders:?}");
    let name = folders[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let id = name.strip_suffix(".exec").unwrap().to_owned();
    assert!(folders[0].join("journal.jsonl").is_file());

    // The server comes up; sync ships the journal and removes it.
    let place = Place::server(tmp.path(), &tmp.path().join("data"));
    let synced = sync(&place, &journal);
    assert!(
        synced.status.success(),
        "{}",
        String::from_utf8_lossy(&synced.stderr)
    );
    assert!(!folders[0].exists(), "a synced journal is removed");

    let run = place.run_by_name("offline-run");
    assert_eq!(run["id"], id.as_str());
    assert_eq!(run["status"], "FAILED");
    assert_eq!(run["params"]["model.lr"], "0.1");
    assert_eq!(run["tags"]["cluster"], "");
    assert_eq!(run["tags"]["runlore.exit_code"], "3");
    assert!(run["end_time"].as_i64().unwrap() >= run["start_time"].as_i64().unwrap());
    let features = place.target.json(&["run", "features", &id]);
    assert_eq!(features["full"]["model"]["lr"], 0.1);
    let stderr_log = place.artifact(&id, "logs/stderr.log").unwrap();
    assert_eq!(stderr_log, b"oops\n");
    let record: Value =
        serde_json::from_slice(&place.artifact(&id, "runlore/exec.json").unwrap()).unwrap();
    assert_eq!(record["exit_code"], 3);

    // The code snapshot came through the journal too: restore rebuilds it.
    let restored = tmp.path().join("restored");
    let summary = place
        .target
        .json(&["run", "restore", &id, "--to", restored.to_str().unwrap()]);
    assert_eq!(summary["matches"], true, "{summary}");
    assert_same_tree(&work, &restored, &["src/__pycache__"]);

    // Syncing again has nothing left to do.
    let again = sync(&place, &journal);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing to sync"));
}

#[test]
fn an_unreachable_server_with_a_bad_journal_folder_fails_before_running() {
    let tmp = tempfile::tempdir().unwrap();
    let blocker = tmp.path().join("not-a-folder");
    std::fs::write(&blocker, b"x").unwrap();
    let marker = tmp.path().join("ran");
    let down = format!("http://127.0.0.1:{}", closed_port());
    let out = support::runlore(tmp.path())
        .env("RUNLORE_JOURNAL_DIR", &blocker)
        .args(["--server", &down, "exec", "--no-snapshot", "--", "touch"])
        .arg(&marker)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("journal"), "{stderr}");
    assert!(!marker.exists(), "nothing recorded, so nothing ran");
}
