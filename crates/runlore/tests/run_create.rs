//! `runlore run create --features FILE --parent RUN`, on the local data dir
//! and against a real server, with the bad inputs that must leave nothing
//! behind.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod support;

use std::sync::Arc;

use runlore_core::MetadataStore;
use serde_json::{Value, json};
use support::{ServerChild, Target};

fn run_count(target: &Target) -> usize {
    let list = target.json(&["run", "list", "--all"]);
    list.as_array().map_or(0, Vec::len)
}

fn scenario(target: &Target) {
    let dir = &target.cwd;
    std::fs::write(
        dir.join("base.yaml"),
        "model:\n  lr: 0.001\n  layers: [64, 32]\noptim: adam\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("child.json"),
        r#"{"model": {"lr": 0.0005, "layers": [64, 32]}, "optim": "adam", "warmup": 100}"#,
    )
    .unwrap();

    let base = target.json(&[
        "run",
        "create",
        "--name",
        "base",
        "--features",
        "base.yaml",
        "--param",
        "seed=1",
    ]);
    let base_id = base["run"]["id"].as_str().unwrap().to_owned();
    assert_eq!(base["run"]["status"], "RUNNING");
    assert_eq!(base["run"]["params"]["seed"], "1");
    assert_eq!(base["features"]["full"]["model"]["layers"], json!([64, 32]));

    let child = target.json(&[
        "run",
        "create",
        "--name",
        "smaller-lr",
        "--features",
        "child.json",
        "--parent",
        &base_id[..8],
        "--planned",
        "-t",
        "idea=lr sweep",
    ]);
    let child_id = child["run"]["id"].as_str().unwrap().to_owned();
    assert_eq!(child["run"]["status"], "PLANNED");
    assert_eq!(child["features"]["parents"][0]["run_id"], base_id.as_str());
    // Stored as a minimal diff against the parent, shown in full on demand.
    assert_eq!(
        child["features"]["diff"],
        json!([
            {"op": "replace", "path": "/model/lr", "value": 0.0005},
            {"op": "add", "path": "/warmup", "value": 100}
        ])
    );
    let diff = target.json(&["run", "diff", &base_id, &child_id]);
    assert_eq!(diff, child["features"]["diff"]);
    let features = target.json(&["run", "features", &child_id]);
    assert_eq!(features["full"]["warmup"], 100);

    // Bad input: a clear one-line error, the invalid-argument exit code, and
    // no run made.
    std::fs::write(dir.join("broken.yaml"), "model: [1, 2\n").unwrap();
    std::fs::write(dir.join("list.yaml"), "- a\n- b\n").unwrap();
    let before = run_count(target);
    let err = target.fails(&["run", "create", "--features", "broken.yaml"], 2);
    assert!(err.contains("not valid YAML"), "{err}");
    let err = target.fails(&["run", "create", "--features", "list.yaml"], 2);
    assert!(err.contains("mapping at the root"), "{err}");
    let err = target.fails(&["run", "create", "--features", "missing.yaml"], 2);
    assert!(
        err.contains("cannot read features from missing.yaml"),
        "{err}"
    );
    let err = target.fails(&["run", "create", "--param", "lr"], 2);
    assert!(err.contains("--param takes KEY=VALUE"), "{err}");
    let err = target.fails(
        &["run", "create", "--kind", "cousin_of", "--parent", &base_id],
        2,
    );
    assert!(err.contains("cousin_of"), "{err}");
    target.fails(
        &[
            "run",
            "create",
            "--parent",
            "ffffffffffffffffffffffffffffffff",
        ],
        3,
    );
    assert_eq!(run_count(target), before, "a refused create made a run");
}

#[test]
fn create_with_features_and_parents_on_the_local_store() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let data_arg = data.to_str().unwrap().to_owned();
    let target = Target {
        cwd: tmp.path().to_owned(),
        args: vec!["--data-dir".into(), data_arg],
        store: Box::new(move || -> Arc<dyn MetadataStore> {
            runlore_store::open_data_dir(&data).unwrap()
        }),
    };
    scenario(&target);
}

#[test]
fn create_with_features_and_parents_against_a_server() {
    let tmp = tempfile::tempdir().unwrap();
    let server = ServerChild::start(tmp.path(), &tmp.path().join("server-data"));
    let url = server.url.clone();
    let target = Target {
        cwd: tmp.path().to_owned(),
        args: vec!["--server".into(), url.clone()],
        store: Box::new(move || -> Arc<dyn MetadataStore> {
            Arc::new(runlore_client::HttpStore::new(&url).unwrap())
        }),
    };
    scenario(&target);
    // Features read from standard input.
    let out = target
        .cmd()
        .args(["--json", "run", "create", "--features", "-"])
        .write_stdin("lr: 0.1\n")
        .assert()
        .success();
    let made: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(made["features"]["full"], json!({"lr": 0.1}));
    assert!(server.stop_gracefully().success());
}
