//! `runlore artifact`, `runlore lineage` and `runlore gc` end to end, on
//! the local data dir and against a real server: the same scenario both
//! ways, tampering included.
#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use runlore_core::MetadataStore;
use serde_json::Value;
use sha2::{Digest, Sha256};
use support::{ServerChild, Target};

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn blob_file(data: &Path, sha256: &str) -> PathBuf {
    data.join("blobs/sha256")
        .join(&sha256[..2])
        .join(&sha256[2..])
}

fn new_run(t: &Target, name: &str) -> String {
    let made = t.json(&["run", "create", "--name", name]);
    made["run"]["id"].as_str().unwrap().to_owned()
}

fn scenario(t: &Target, data: &Path) {
    let dir = &t.cwd;
    std::fs::create_dir_all(dir.join("data/raw")).unwrap();
    let raw = b"id,value\n1,2\n3,4\n".to_vec();
    std::fs::write(dir.join("data/raw/part-0.csv"), &raw).unwrap();
    std::fs::write(dir.join("data/raw/part-1.csv"), b"id,value\n5,6\n").unwrap();
    std::fs::write(dir.join("config.yaml"), b"lr: 0.1\nlayers: 4\n").unwrap();

    // A prep run reads a folder of raw files and writes a cleaned one.
    let prep = new_run(t, "prep");
    let put = t.json(&["artifact", "put", &prep, "data/raw", "--input"]);
    let paths: Vec<&str> = put
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["raw/part-0.csv", "raw/part-1.csv"]);
    let clean = b"id,value\n1,2\n".to_vec();
    std::fs::write(dir.join("clean.csv"), &clean).unwrap();
    t.ok(&[
        "artifact",
        "put",
        &prep,
        "clean.csv",
        "--path",
        "out/clean.csv",
    ]);

    // Training uses the cleaned file by hash (no re-upload) and writes a model.
    let train = new_run(t, "train");
    t.ok(&[
        "artifact",
        "use",
        &train,
        &sha(&clean),
        "--path",
        "inputs/clean.csv",
    ]);
    t.ok(&["artifact", "put", &train, "config.yaml"]);
    std::fs::write(dir.join("model.pt"), b"weights v1").unwrap();
    t.ok(&["artifact", "put", &train, "model.pt"]);
    let listed = t.json(&["artifact", "ls", &train]);
    assert_eq!(listed.as_array().unwrap().len(), 3);

    // Download: the bytes come back, and a folder comes back whole.
    t.ok(&["artifact", "get", &train, "model.pt", "-o", "back.pt"]);
    assert_eq!(std::fs::read(dir.join("back.pt")).unwrap(), b"weights v1");
    t.ok(&["artifact", "get", &prep, "raw", "-o", "restored"]);
    assert_eq!(std::fs::read(dir.join("restored/part-0.csv")).unwrap(), raw);

    // Lineage: the model's trace upstream reaches the raw files.
    let up = t.json(&[
        "lineage",
        "trace",
        &format!("{train}:model.pt"),
        "--direction",
        "up",
    ]);
    let shas: Vec<&str> = up["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sha256"].as_str().unwrap())
        .collect();
    assert!(shas.contains(&sha(&raw).as_str()), "{up}");
    // A local file is hashed to find what Runlore knows about it.
    let shown = t.json(&["lineage", "show", "clean.csv"]);
    assert_eq!(shown["generated"][0]["run_id"], prep.as_str());
    assert_eq!(shown["used"][0]["run_id"], train.as_str());
    let text = t.ok(&["lineage", "trace", "model.pt", "--direction", "up"]);
    assert!(text.contains("prep") && text.contains("train"), "{text}");

    // PROV export of the project, to a file.
    t.ok(&[
        "lineage",
        "export",
        "default",
        "--format",
        "prov-json",
        "-o",
        "prov.json",
    ]);
    let prov: Value =
        serde_json::from_slice(&std::fs::read(dir.join("prov.json")).unwrap()).unwrap();
    assert!(prov["entity"][format!("blob:{}", sha(&clean))].is_object());
    let provn = t.ok(&["lineage", "export", &train[..8], "--format", "prov-n"]);
    assert!(
        provn.starts_with("document") && provn.contains("used("),
        "{provn}"
    );
    let entities = t.json(&[
        "lineage",
        "query",
        "--type",
        "entity",
        "--since",
        "2020-01-01",
    ]);
    assert_eq!(entities.as_array().unwrap().len(), 5);
    let none = t.json(&[
        "lineage",
        "query",
        "--type",
        "activity",
        "--since",
        "2999-01-01",
    ]);
    assert_eq!(none, serde_json::json!([]));

    // Diff two runs' files, then one text file line by line.
    let other = new_run(t, "train-2");
    std::fs::write(dir.join("config.yaml"), b"lr: 0.01\nlayers: 4\n").unwrap();
    t.ok(&["artifact", "put", &other, "config.yaml"]);
    let diff = t.json(&["artifact", "diff", &train, &other, "config.yaml"]);
    assert_eq!(diff["changed"][0]["lines"][0]["text"], "lr: 0.1");
    let side = t.ok(&["artifact", "diff", &train, &other, "config.yaml"]);
    assert!(
        side.contains("lr: 0.1") && side.contains("> lr: 0.01"),
        "{side}"
    );

    // Verify: all good, then a blob altered on disk behind Runlore's back.
    t.ok(&["lineage", "verify"]);
    t.ok(&["lineage", "verify", &train]);
    std::fs::write(blob_file(data, &sha(b"weights v1")), b"weights v2").unwrap();
    let out = t
        .cmd()
        .args(["lineage", "verify"])
        .assert()
        .code(6)
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("CORRUPT") && stdout.contains("model.pt"),
        "{stdout}"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("1 file(s) failed verification"), "{stderr}");
    // A download of the altered file fails and leaves no file behind.
    let err = t.fails(&["artifact", "get", &train, "model.pt", "-o", "bad.pt"], 1);
    assert!(err.contains("model.pt"), "{err}");
    assert!(!dir.join("bad.pt").exists() && !dir.join("bad.runlore-partial").exists());
    // A local file that changed since it was logged is reported.
    std::fs::write(dir.join("model.pt"), b"edited locally").unwrap();
    let err = t.fails(&["lineage", "verify", "model.pt"], 1);
    assert!(err.contains("no run recorded"), "{err}");

    // GC: replace the config in `other`, then collect the old bytes.
    std::fs::write(dir.join("config.yaml"), b"lr: 0.001\n").unwrap();
    t.ok(&["artifact", "put", &other, "config.yaml"]);
    let dry = t.json(&["gc", "--min-age", "0s"]);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["blobs_unreferenced"], 1);
    let young = t.json(&["gc", "--apply"]);
    assert_eq!(
        young["blobs_removed"], 0,
        "the default 1h grace period spares it"
    );
    let done = t.json(&["gc", "--apply", "--min-age", "0s"]);
    assert_eq!(done["blobs_removed"], 1);
    assert_eq!(done["bytes_freed"], b"lr: 0.01\nlayers: 4\n".len());

    // Bad input: one clear line each, nothing stored.
    t.fails(&["artifact", "put", &train, "missing.bin"], 2);
    t.fails(&["artifact", "use", &train, &"ab".repeat(32)], 3);
    t.fails(&["lineage", "show", "neither-hash-nor-file"], 2);
    t.fails(
        &[
            "lineage",
            "query",
            "--type",
            "entity",
            "--since",
            "yesterday",
        ],
        2,
    );
    t.fails(&["artifact", "get", &train, "nothing/here"], 3);
    let err = t.fails(
        &[
            "artifact",
            "put",
            &train,
            "clean.csv",
            "--path",
            "../escape.csv",
        ],
        2,
    );
    assert!(err.contains("escape"), "{err}");
}

#[test]
fn artifacts_and_lineage_on_the_local_data_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let data_arg = data.to_str().unwrap().to_owned();
    let store_dir = data.clone();
    let target = Target {
        cwd: tmp.path().to_owned(),
        args: vec!["--data-dir".into(), data_arg],
        store: Box::new(move || -> Arc<dyn MetadataStore> {
            runlore_store::open_data_dir(&store_dir).unwrap()
        }),
    };
    scenario(&target, &data);
}

#[test]
fn artifacts_and_lineage_against_a_server() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server-data");
    let server = ServerChild::start(tmp.path(), &data);
    let url = server.url.clone();
    let target = Target {
        cwd: tmp.path().to_owned(),
        args: vec!["--server".into(), url.clone()],
        store: Box::new(move || -> Arc<dyn MetadataStore> {
            Arc::new(runlore_client::HttpStore::new(&url).unwrap())
        }),
    };
    scenario(&target, &data);
    assert!(server.stop_gracefully().success());
}
