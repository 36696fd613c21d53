//! `runlore run restore --to` and `rerun` on runs made by `runlore exec` in
//! real git repositories: the restored tree must equal the original byte
//! for byte.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod repro;
#[allow(dead_code)]
mod support;

use repro::{Place, assert_same_tree, exec, fill, git, make_executable, write};
use serde_json::Value;

const CMD: [&str; 4] = ["--", "sh", "-c", "cat \"$RUNLORE_CONFIG\"; echo done"];

#[test]
fn a_dirty_never_committed_tree_restores_identically_and_reruns_as_a_linked_run() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    fill(&repo);
    // Some files staged, none ever committed.
    git(&repo, &["add", "train.py", "src"]);
    let place = Place::server(tmp.path(), &tmp.path().join("data"));
    let args = [
        &[
            "--config",
            "configs/base.yaml",
            "--set",
            "model.lr=0.01",
            "--name",
            "orig",
        ][..],
        &CMD[..],
    ]
    .concat();
    let (code, stdout, stderr) = exec(&place, &repo, &args);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("lr: 0.01") && stdout.contains("done"),
        "{stdout}"
    );
    let orig = place.run_by_name("orig");
    let id = orig["id"].as_str().unwrap();

    let out = tmp.path().join("restored");
    let summary = place
        .target
        .json(&["run", "restore", id, "--to", out.to_str().unwrap()]);
    assert_eq!(summary["matches"], true, "{summary}");
    assert_eq!(summary["checkout"], Value::Null);
    assert_same_tree(&repo, &out, &[".git", "debug.log", "src/__pycache__"]);
    assert!(
        !out.join("debug.log").exists(),
        "an ignored file was captured"
    );
    let config = std::fs::read_to_string(out.join(".runlore-run/config.yaml")).unwrap();
    assert!(config.contains("lr: 0.01"), "{config}");

    // A restore never writes into a folder that has files.
    let err = place
        .target
        .fails(&["run", "restore", id, "--to", out.to_str().unwrap()], 2);
    assert!(err.contains("is not empty"), "{err}");

    // Re-run with an override: a new run derived from the original.
    let rerun_dir = tmp.path().join("rerun");
    let out = place
        .target
        .cmd()
        .args([
            "run",
            "rerun",
            &id[..8],
            "--set",
            "seed=2",
            "--name",
            "again",
        ])
        .args(["--to", rerun_dir.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("seed: 2") && stdout.contains("lr: 0.01"),
        "{stdout}"
    );
    let again = place.run_by_name("again");
    let again_id = again["id"].as_str().unwrap();
    assert_eq!(again["status"], "FINISHED");
    assert_eq!(again["tags"]["runlore.rerun_of"], id);
    assert_eq!(again["params"]["seed"], "2");
    let features = place.target.json(&["run", "features", again_id]);
    assert_eq!(features["parents"][0]["run_id"], id);
    assert_eq!(features["parents"][0]["kind"], "derived_from");
    assert_eq!(
        features["diff"],
        serde_json::json!([{"op": "replace", "path": "/seed", "value": 2}])
    );
    // The re-run captured the restored tree, which is the original's.
    let m1: Value =
        serde_json::from_slice(&place.artifact(id, "runlore/code/manifest.json").unwrap()).unwrap();
    let m2: Value = serde_json::from_slice(
        &place
            .artifact(again_id, "runlore/code/manifest.json")
            .unwrap(),
    )
    .unwrap();
    assert_eq!(m1["tree_sha256"], m2["tree_sha256"]);

    // The API builds the re-run's report on demand, the same text the CLI
    // prints, and it tells where the run came from.
    let api = report_from_api(&place, again_id);
    assert_eq!(api, place.target.ok(&["run", "report", again_id]));
    for part in [
        format!("- a re-run of `{id}`"),
        format!("- derived_from `{id}`"),
        "- override: `seed=2`".to_owned(),
        format!("tree sha256 `{}`", m1["tree_sha256"].as_str().unwrap()),
    ] {
        assert!(api.contains(&part), "{part} missing from:\n{api}");
    }

    // A bad override is refused before anything is restored or run.
    let err = place
        .target
        .fails(&["run", "rerun", id, "--set", "seed"], 2);
    assert!(err.contains("KEY=VALUE"), "{err}");
}

#[test]
fn a_pushed_commit_is_checked_out_from_the_remote_and_the_changes_applied() {
    let tmp = tempfile::tempdir().unwrap();
    let origin = tmp.path().join("origin.git");
    git(
        tmp.path(),
        &["init", "-q", "--bare", origin.to_str().unwrap()],
    );
    let repo = tmp.path().join("repo");
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            origin.to_str().unwrap(),
            repo.to_str().unwrap(),
        ],
    );
    // A relative remote, as `git remote add origin ../origin.git` leaves it.
    git(&repo, &["remote", "set-url", "origin", "../origin.git"]);
    fill(&repo);
    write(&repo, "old.txt", b"to be deleted\n");
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "first"]);
    git(&repo, &["push", "-q", "origin", "HEAD:main"]);
    let commit = git(&repo, &["rev-parse", "HEAD"]);
    // Working-tree changes: text, binary, mode, a deletion, new files.
    write(&repo, "src/model/layers.py", b"LAYERS = [128]\n");
    write(&repo, "weights.bin", b"\x00\x01\xff\xfe changed");
    make_executable(&repo.join("train.py"));
    std::fs::remove_file(repo.join("old.txt")).unwrap();
    write(&repo, "notes/new/idea.md", b"# untracked\n");
    let place = Place::local(tmp.path(), &tmp.path().join("data"));
    let (code, _, stderr) = exec(
        &place,
        &repo.join("src"),
        &["--name", "pushed", "--", "true"],
    );
    assert_eq!(code, 0, "{stderr}");
    let id = place.run_by_name("pushed")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let manifest: Value =
        serde_json::from_slice(&place.artifact(&id, "runlore/code/manifest.json").unwrap())
            .unwrap();
    assert_eq!(manifest["git"]["commit"], commit.as_str());
    assert_eq!(manifest["git"]["dirty"], true);
    assert_eq!(manifest["git"]["pushed"], true);
    assert_eq!(manifest["cwd"], "src");
    assert_eq!(manifest["deleted"], serde_json::json!(["old.txt"]));
    // Pushed: only the changed and new files are stored.
    assert_eq!(manifest["stored_files"], 4, "{manifest}");
    let diff = place.artifact(&id, "runlore/code/git.diff").unwrap();
    assert!(String::from_utf8_lossy(&diff).contains("LAYERS = [128]"));

    // A relative --to (commands run in tmp): nested and made on the way.
    let out = tmp.path().join("nested/restored");
    let summary = place
        .target
        .json(&["run", "restore", &id, "--to", "nested/restored"]);
    assert_eq!(summary["checkout"], origin.to_str().unwrap(), "{summary}");
    assert_same_tree(&repo, &out, &[".git", "debug.log", "src/__pycache__"]);
    assert_eq!(git(&out, &["rev-parse", "HEAD"]), commit);
    // The restored checkout shows the run's changes as changes.
    let status = git(&out, &["status", "--porcelain"]);
    assert!(
        status.contains("D old.txt") && status.contains("?? notes/"),
        "{status}"
    );
    assert!(!status.contains(".runlore-run"), "{status}");
}

#[test]
fn a_commit_that_is_no_longer_reachable_still_restores_from_the_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    fill(&repo);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "first"]);
    write(&repo, "train.py", b"print('second')\n");
    git(&repo, &["commit", "-q", "-am", "second, never pushed"]);
    let lost = git(&repo, &["rev-parse", "HEAD"]);
    write(&repo, "scratch.txt", b"dirty\n");
    let place = Place::local(tmp.path(), &tmp.path().join("data"));
    let (code, _, stderr) = exec(&place, &repo, &["--name", "lost", "--", "true"]);
    assert_eq!(code, 0, "{stderr}");
    let snapshot_of_tree = repro::tree(&repo, &[".git", "debug.log", "src/__pycache__"]);
    // The commit disappears: reset, reflog expired, garbage collected.
    git(&repo, &["reset", "-q", "--hard", "HEAD~1"]);
    git(&repo, &["reflog", "expire", "--expire=now", "--all"]);
    git(&repo, &["gc", "-q", "--prune=now"]);
    assert!(
        std::process::Command::new("git")
            .current_dir(&repo)
            .args(["cat-file", "-e", &format!("{lost}^{{commit}}")])
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap()
            .code()
            != Some(0)
    );
    let id = place.run_by_name("lost")["id"].as_str().unwrap().to_owned();
    let out = tmp.path().join("restored");
    let summary = place
        .target
        .json(&["run", "restore", &id, "--to", out.to_str().unwrap()]);
    assert_eq!(summary["checkout"], Value::Null);
    assert_eq!(summary["matches"], true, "{summary}");
    assert_eq!(
        repro::tree(&out, &[".git", ".runlore-run"]),
        snapshot_of_tree
    );
}

#[test]
fn with_tracked_changed_only_a_lost_commit_is_reported_not_guessed() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    fill(&repo);
    write(
        &repo,
        "runlore.toml",
        b"[snapshot]\ntracked = \"changed\"\n",
    );
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "first"]);
    write(&repo, "train.py", b"print('changed')\n");
    let place = Place::local(tmp.path(), &tmp.path().join("data"));
    let (code, _, stderr) = exec(&place, &repo, &["--name", "thin", "--", "true"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    std::fs::remove_dir_all(&repo).unwrap();
    let id = place.run_by_name("thin")["id"].as_str().unwrap().to_owned();
    let out = tmp.path().join("restored");
    let err = place
        .target
        .fails(&["run", "restore", &id, "--to", out.to_str().unwrap()], 1);
    assert!(err.contains("differs from the captured one"), "{err}");
    assert!(
        err.contains("could not be checked out") || err.contains("not checked out"),
        "{err}"
    );
    // What was stored is there all the same.
    assert_eq!(
        std::fs::read(out.join("train.py")).unwrap(),
        b"print('changed')\n"
    );
}

/// `GET /api/v1/runs/{id}/report` of the place's server, as text.
fn report_from_api(place: &Place, id: &str) -> String {
    let url = format!(
        "{}/api/v1/runs/{id}/report",
        place.server.as_ref().unwrap().url
    );
    support::block_on(async move {
        let response = reqwest::get(url).await.unwrap();
        assert_eq!(response.status(), 200);
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(kind.starts_with("text/markdown"), "{kind}");
        response.text().await.unwrap()
    })
}

#[test]
fn arguments_that_are_not_utf8_are_kept_and_rerun_byte_for_byte() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir(&work).unwrap();
    write(&work, "run.sh", b"printf '%s' \"$1\" | od -An -tx1\n");
    let place = Place::local(tmp.path(), &tmp.path().join("data"));
    let out = support::runlore(&work)
        .args(&place.target.args)
        .args(["exec", "--name", "bytes", "--", "sh", "run.sh"])
        .arg(std::ffi::OsStr::from_bytes(b"caf\xe9"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("63 61 66 e9"), "{stdout}");
    let id = place.run_by_name("bytes")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let record: Value =
        serde_json::from_slice(&place.artifact(&id, "runlore/exec.json").unwrap()).unwrap();
    assert_eq!(record["argv"][2], "caf\u{fffd}", "{record}");
    assert_eq!(record["argv_hex"][2], "636166e9", "{record}");

    let again = place
        .target
        .cmd()
        .args(["run", "rerun", &id, "--name", "again"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(
        stdout.contains("63 61 66 e9"),
        "the re-run got other bytes: {stdout}"
    );
}
