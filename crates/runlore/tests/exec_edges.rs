//! `runlore exec` at the edges: a tree too big to snapshot, and a server
//! lost while the command runs.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod repro;
#[allow(dead_code)]
mod support;

use std::time::{Duration, Instant};

use repro::{Place, exec, write};
use serde_json::Value;

#[test]
fn a_tree_over_max_files_runs_without_a_snapshot_and_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    for i in 0..5 {
        write(&work, &format!("data/{i}.csv"), b"1,2\n");
    }
    write(&work, "runlore.toml", b"[snapshot]\nmax_files = 3\n");
    let place = Place::local(tmp.path(), &tmp.path().join("data"));
    let (code, _, stderr) = exec(&place, &work, &["--name", "wide", "--", "true"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("no code snapshot") && stderr.contains("more than 3 files"),
        "{stderr}"
    );
    let id = place.run_by_name("wide")["id"].as_str().unwrap().to_owned();
    assert_eq!(place.run_by_name("wide")["status"], "FINISHED");
    assert!(place.artifact(&id, "runlore/code/manifest.json").is_none());
    let record: Value =
        serde_json::from_slice(&place.artifact(&id, "runlore/exec.json").unwrap()).unwrap();
    assert!(
        record["capture_errors"][0]
            .as_str()
            .unwrap()
            .contains("max_files")
    );
    let report = place.target.ok(&["run", "report", &id]);
    assert!(report.contains("not captured: code snapshot"), "{report}");
}

#[test]
fn a_server_lost_during_the_run_still_leaves_with_the_commands_exit_code() {
    let tmp = tempfile::tempdir().unwrap();
    let mut place = Place::server(tmp.path(), &tmp.path().join("data"));
    let child = std::process::Command::new(support::BIN)
        .current_dir(tmp.path())
        .env_remove("RUNLORE_SERVER")
        .args(&place.target.args)
        .args([
            "exec",
            "--name",
            "orphan",
            "--no-snapshot",
            "--log-interval",
            "0.2",
            "--",
        ])
        .args(["sh", "-c", "echo working; sleep 3; exit 4"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while place
        .target
        .json(&["run", "list"])
        .as_array()
        .unwrap()
        .is_empty()
    {
        assert!(Instant::now() < deadline, "the run was not created");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(place.server.take()); // killed, by its PID
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "working\n");
    assert!(
        stderr.contains("could not record the end of run"),
        "{stderr}"
    );
    let kept = stderr
        .lines()
        .find_map(|l| l.strip_prefix("runlore: the command's logs are kept in "))
        .unwrap_or_else(|| panic!("{stderr}"));
    let log = std::path::Path::new(kept).join("stdout.log");
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "working\n");
    std::fs::remove_dir_all(kept).unwrap();
}

#[test]
fn a_command_that_ignores_sigterm_is_killed_by_the_second_one() {
    let tmp = tempfile::tempdir().unwrap();
    let place = Place::local(tmp.path(), &tmp.path().join("data"));
    let mut child = std::process::Command::new(support::BIN)
        .current_dir(tmp.path())
        .env_remove("RUNLORE_SERVER")
        .args(&place.target.args)
        .args(["exec", "--name", "stubborn", "--no-snapshot", "--"])
        .args(["sh", "-c", "trap '' TERM; echo ready; exec sleep 60"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // "ready" means the trap is set.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 6];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    assert_eq!(&first, b"ready\n");
    let pid = child.id().to_string();
    let term = || {
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status();
        assert!(sent.unwrap().success());
    };
    term();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the first SIGTERM was ignored by the command"
    );
    term();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(137));
    let run = place.run_by_name("stubborn");
    assert_eq!(run["status"], "KILLED");
    assert_eq!(run["tags"]["runlore.signal"], "9");
}
