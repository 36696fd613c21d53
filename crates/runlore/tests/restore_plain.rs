//! Restore without git: a plain folder snapshotted by the policy (a file
//! over the size limit reported), runs without a snapshot, `run env`.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod repro;
#[allow(dead_code)]
mod support;

use repro::{Place, assert_same_tree, exec, fill, write};
use serde_json::Value;

#[test]
fn a_folder_without_git_is_snapshotted_by_the_policy_and_big_files_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir(&work).unwrap();
    fill(&work);
    write(&work, "data/big.bin", &vec![7u8; 9000]);
    write(
        &work,
        "runlore.toml",
        b"[snapshot]\nmax_file_bytes = 8000\nexclude = [\"*.log\"]\n",
    );
    let place = Place::local(tmp.path(), &tmp.path().join("data"));
    let (code, _, stderr) = exec(&place, &work, &["--name", "plain", "--", "true"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("recorded by hash only"), "{stderr}");
    let id = place.run_by_name("plain")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let manifest: Value =
        serde_json::from_slice(&place.artifact(&id, "runlore/code/manifest.json").unwrap())
            .unwrap();
    assert_eq!(manifest["kind"], "folder");
    let big = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "data/big.bin")
        .unwrap();
    assert!(
        big["skipped"].as_str().unwrap().contains("max_file_bytes"),
        "{big}"
    );
    assert_eq!(big["size"], 9000);
    assert_eq!(big["sha256"].as_str().unwrap().len(), 64);

    let out = tmp.path().join("restored");
    let stdout = place
        .target
        .ok(&["run", "restore", &id, "--to", out.to_str().unwrap()]);
    assert!(
        stdout.contains("not restored (not stored at capture"),
        "{stdout}"
    );
    assert!(stdout.contains("data/big.bin"), "{stdout}");
    std::fs::remove_file(work.join("data/big.bin")).unwrap();
    assert_same_tree(&work, &out, &["src/__pycache__", "debug.log"]);

    // The report tells the same story.
    let report = place.target.ok(&["run", "report", &id]);
    for part in [
        "## What ran",
        "## Config",
        "## Provenance",
        "a plain folder",
        "data/big.bin",
        "## Artifacts",
        "logs/stdout.log",
    ] {
        assert!(report.contains(part), "{part} missing from:\n{report}");
    }
    assert!(place.artifact(&id, "REPORT.md").is_some());
}

#[test]
fn restore_without_a_snapshot_and_env_build_with_a_tiny_package_list() {
    let tmp = tempfile::tempdir().unwrap();
    let place = Place::server(tmp.path(), &tmp.path().join("data"));
    let made = place.target.json(&["run", "create", "--name", "bare"]);
    let id = made["run"]["id"].as_str().unwrap().to_owned();
    // Every run has a report through the API, exec or not; an unknown
    // run is a 404 with a message.
    let url = place.server.as_ref().unwrap().url.clone();
    let (status, text) = support::block_on({
        let url = format!("{url}/api/v1/runs/{id}/report");
        async move {
            let r = reqwest::get(url).await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    });
    assert_eq!(status, 200, "{text}");
    assert!(text.starts_with("# Run bare"), "{text}");
    assert!(text.contains("No command recorded."), "{text}");
    assert!(text.contains("- no code snapshot"), "{text}");
    let (status, text) = support::block_on({
        let url = format!("{url}/api/v1/runs/{}/report", "f".repeat(32));
        async move {
            let r = reqwest::get(url).await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    });
    assert_eq!(status, 404, "{text}");
    assert!(text.contains("not_found"), "{text}");
    let out = tmp.path().join("x");
    let err = place
        .target
        .fails(&["run", "restore", &id, "--to", out.to_str().unwrap()], 3);
    assert!(err.contains("has no code snapshot"), "{err}");
    let err = place.target.fails(&["run", "rerun", &id], 2);
    assert!(err.contains("not started by `runlore exec`"), "{err}");
    let err = place
        .target
        .fails(&["run", "env", &id, "--build", out.to_str().unwrap()], 3);
    assert!(err.contains("no captured package list"), "{err}");
    // Undeleting still works without --to.
    place.target.ok(&["run", "delete", &id]);
    assert!(
        place
            .target
            .ok(&["run", "restore", &id])
            .contains("restored")
    );

    // A package list with only a local editable install: nothing to fetch.
    let url = format!(
        "{}/api/v1/runs/{id}/artifacts/runlore/requirements.txt",
        place.server.as_ref().unwrap().url
    );
    support::block_on(async move {
        let body = "-e git+file:///nowhere#egg=mine\n";
        let r = reqwest::Client::new()
            .put(url)
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    });
    let venv = tmp.path().join("venv");
    let made = place
        .target
        .json(&["run", "env", &id, "--build", venv.to_str().unwrap()]);
    assert_eq!(made["packages"], 0);
    assert_eq!(made["left_out"][0], "-e git+file:///nowhere#egg=mine");
    assert!(venv.join("bin").join("python").exists());

    // A command run by that environment's interpreter has that
    // environment's packages captured (none), not the system's.
    let (code, _, stderr) = exec(
        &place,
        tmp.path(),
        &[
            "--name",
            "in-venv",
            "--no-snapshot",
            "--",
            "venv/bin/python",
            "-c",
            "pass",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let run = place.run_by_name("in-venv");
    let run_id = run["id"].as_str().unwrap();
    let env: Value =
        serde_json::from_slice(&place.artifact(run_id, "runlore/environment.json").unwrap())
            .unwrap();
    let python = env["python"]["executable"].as_str().unwrap();
    assert!(python.starts_with(venv.to_str().unwrap()), "{python}");
    let requirements = place.artifact(run_id, "runlore/requirements.txt").unwrap();
    assert_eq!(String::from_utf8_lossy(&requirements).trim(), "");
}
