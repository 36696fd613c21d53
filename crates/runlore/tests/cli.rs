//! The `runlore` binary end to end: the same scenario on the local data dir
//! and through `runlore server` with `--server URL`, plus configuration.

// Test helpers outside #[test] functions unwrap too.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use runlore_core::MetadataStore;
use serde_json::Value;
use support::{ServerChild, Target, runlore, seed_runs};

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Projects, experiments and runs through the CLI, whichever store is behind.
fn scenario(t: &Target) {
    let out = t.ok(&[
        "project",
        "create",
        "vision",
        "--description",
        "Vision work",
    ]);
    assert!(out.contains("vision"), "{out}");
    let err = t.fails(&["project", "create", "vision"], 4);
    assert!(err.contains("already exists"), "{err}");
    let err = t.fails(&["project", "create", "bad name"], 2);
    assert!(err.contains("invalid project name"), "{err}");

    let list = t.json(&["project", "list"]);
    let listed = names(&list);
    assert!(listed.contains(&"vision".to_owned()) && listed.contains(&"default".to_owned()));
    let shown = t.json(&["project", "show", "vision"]);
    assert_eq!(shown["description"], "Vision work");
    assert_eq!(shown["lifecycle"], "active");
    let table = t.ok(&["project", "list"]);
    assert!(
        table.contains("NAME") && table.contains("vision"),
        "{table}"
    );

    let err = t.fails(&["project", "show", "nope"], 3);
    assert_eq!(err.trim_end(), "error: project 'nope' not found");

    t.ok(&["--project", "vision", "experiment", "create", "sweep"]);
    let experiments = t.json(&["experiment", "list", "--project", "vision"]);
    assert_eq!(names(&experiments), vec!["sweep".to_owned()]);
    let shown = t.json(&["experiment", "show", "sweep", "-p", "vision"]);
    assert_eq!(shown["project"], "vision");
    let id = shown["id"].as_str().unwrap().to_owned();
    let by_id = t.json(&["experiment", "show", &id, "-p", "vision"]);
    assert_eq!(by_id["name"], "sweep");
    t.fails(&["experiment", "show", "missing", "-p", "vision"], 3);

    let seeded = seed_runs((t.store)(), "vision", "sweep");
    let runs = t.json(&["run", "list", "-p", "vision"]);
    assert_eq!(runs.as_array().unwrap().len(), 3);
    for run in runs.as_array().unwrap() {
        assert_eq!(run["id"].as_str().unwrap().len(), 32, "full ids in JSON");
    }
    let best = t.json(&[
        "run",
        "list",
        "-p",
        "vision",
        "--experiment",
        "sweep",
        "--filter",
        "metrics.acc > 0.5 AND params.lr != '0.09'",
        "--order-by",
        "metrics.acc DESC",
    ]);
    let best_names: Vec<String> = names(&best);
    assert_eq!(best_names, vec!["trial-2".to_owned(), "trial-1".to_owned()]);

    let table = t.ok(&["run", "list", "-p", "vision", "--order-by", "metrics.loss"]);
    let short = &seeded[2].id.as_str()[..8];
    assert!(table.contains("loss") && table.contains("acc"), "{table}");
    assert!(
        table.contains(short) && table.contains("FINISHED"),
        "{table}"
    );
    assert!(
        !table.contains(seeded[2].id.as_str()),
        "tables show short ids"
    );

    let shown = t.json(&["run", "show", short]);
    assert_eq!(shown["id"], seeded[2].id.as_str());
    let text = t.ok(&["run", "show", seeded[2].id.as_str()]);
    assert!(
        text.contains("Params:") && text.contains("lr") && text.contains("team"),
        "{text}"
    );
    t.fails(&["run", "show", "ffffffffffffffffffffffffffffffff"], 3);

    let err = t.fails(&["run", "list", "--filter", "metrics.acc >> 1"], 2);
    assert!(err.contains("at character"), "{err}");
    let err = t.fails(&["run", "list", "--order-by", "metrics.acc SIDEWAYS"], 2);
    assert!(err.contains("order"), "{err}");

    t.ok(&["project", "archive", "vision"]);
    assert!(!names(&t.json(&["project", "list"])).contains(&"vision".to_owned()));
    assert!(names(&t.json(&["project", "list", "--all"])).contains(&"vision".to_owned()));
    let back = t.json(&["project", "unarchive", "vision"]);
    assert_eq!(back["lifecycle"], "active");
}

#[test]
fn local_data_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let store_dir = data.clone();
    let target = Target {
        cwd: tmp.path().to_owned(),
        args: vec!["--data-dir".into(), data.display().to_string()],
        store: Box::new(move || runlore_store::open_data_dir(&store_dir).unwrap()),
    };
    scenario(&target);

    // `project use` writes runlore.toml; later commands default to it.
    target.ok(&["project", "use", "vision"]);
    let written = std::fs::read_to_string(tmp.path().join("runlore.toml")).unwrap();
    assert_eq!(written, "project = \"vision\"\n");
    let experiments = target.json(&["experiment", "list"]);
    assert_eq!(names(&experiments), vec!["sweep".to_owned()]);
    target.fails(&["project", "use", "nope"], 3);
    let after = std::fs::read_to_string(tmp.path().join("runlore.toml")).unwrap();
    assert_eq!(after, written, "a failed `use` leaves the file alone");
}

#[test]
fn remote_server() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server-data");
    let server = ServerChild::start(tmp.path(), &data);
    assert!(
        server.url.starts_with("http://127.0.0.1:"),
        "{}",
        server.url
    );
    let url = server.url.clone();
    let client_url = url.clone();
    let target = Target {
        cwd: tmp.path().to_owned(),
        args: vec!["--server".into(), url.clone()],
        store: Box::new(move || -> Arc<dyn MetadataStore> {
            Arc::new(runlore_client::HttpStore::new(&client_url).unwrap())
        }),
    };
    scenario(&target);
    assert!(
        !tmp.path().join("runlore-data").exists(),
        "remote mode opens no local store"
    );

    // RUNLORE_SERVER selects the server as the flag does.
    let out = runlore(tmp.path())
        .env("RUNLORE_SERVER", &url)
        .args(["project", "show", "vision", "--json"])
        .assert()
        .success();
    let shown: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(shown["name"], "vision");

    let status = server.stop_gracefully();
    assert!(
        status.success(),
        "server exit status after SIGTERM: {status}"
    );
    let err = target.fails(&["project", "list"], 5);
    assert!(
        err.contains(&format!("cannot reach Runlore server at {url}")),
        "{err}"
    );
}

#[test]
fn unreachable_server_is_one_clear_line() {
    let tmp = tempfile::tempdir().unwrap();
    let out = runlore(tmp.path())
        .args(["--server", "http://127.0.0.1:1", "project", "list"])
        .assert()
        .code(5);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert_eq!(
        stderr,
        "error: cannot reach Runlore server at http://127.0.0.1:1: connection refused\n"
    );
}

#[test]
fn bad_filter_fails_before_any_request() {
    let tmp = tempfile::tempdir().unwrap();
    // No server listens there: the parse error must come first.
    let out = runlore(tmp.path())
        .args(["--server", "http://127.0.0.1:1", "run", "list", "--filter"])
        .arg("metrics.acc > 0.5 AND params.lr = 0.01")
        .assert()
        .code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.starts_with("error: --filter: invalid filter at character"),
        "{stderr}"
    );
}

#[test]
fn server_refuses_remote_hosts_without_allow_remote() {
    let tmp = tempfile::tempdir().unwrap();
    let out = runlore(tmp.path())
        .args([
            "server",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--data-dir",
            "d",
        ])
        .assert()
        .code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("--allow-remote"), "{stderr}");
    assert!(!tmp.path().join("d").exists());
}

#[test]
fn config_precedence_file_env_flag() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("runlore.toml"),
        "project = \"from-file\"\ndata_dir = \"file-data\"\nport = 6000\nartifacts = \"file-blobs\"\n",
    )
    .unwrap();
    let show = |cmd: &mut assert_cmd::Command| -> Value {
        let out = cmd.args(["config", "show", "--json"]).assert().success();
        serde_json::from_slice(&out.get_output().stdout).unwrap()
    };
    let c = show(&mut runlore(tmp.path()));
    assert_eq!(c["project"]["value"], "from-file");
    assert_eq!(c["project"]["source"]["kind"], "file");
    assert_eq!(c["data_dir"]["value"], "file-data");
    assert_eq!(c["port"]["value"], 6000);
    assert_eq!(c["server"]["value"], Value::Null);
    assert_eq!(c["artifacts"]["value"], "file-blobs");

    let c = show(
        runlore(tmp.path())
            .env("RUNLORE_PROJECT", "from-env")
            .env("RUNLORE_PORT", "7000")
            .env("RUNLORE_ARTIFACTS", "s3://bucket/prefix"),
    );
    assert_eq!(c["artifacts"]["value"], "s3://bucket/prefix");
    assert_eq!(c["artifacts"]["source"]["name"], "RUNLORE_ARTIFACTS");
    assert_eq!(c["project"]["value"], "from-env");
    assert_eq!(c["project"]["source"]["name"], "RUNLORE_PROJECT");
    assert_eq!(c["port"]["value"], 7000);
    assert_eq!(c["data_dir"]["value"], "file-data");

    let c = show(
        runlore(tmp.path())
            .env("RUNLORE_PROJECT", "from-env")
            .args(["--project", "from-flag", "--data-dir", "flag-data"]),
    );
    assert_eq!(c["project"]["value"], "from-flag");
    assert_eq!(c["project"]["source"]["kind"], "flag");
    assert_eq!(c["data_dir"]["value"], "flag-data");

    // --config replaces ./runlore.toml; loading never writes files.
    let other = tmp.path().join("other.toml");
    std::fs::write(&other, "project = \"other\"\n").unwrap();
    let c = show(runlore(tmp.path()).arg("--config").arg(&other));
    assert_eq!(c["project"]["value"], "other");
    let mut entries: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        vec!["other.toml".to_owned(), "runlore.toml".to_owned()]
    );
}

#[test]
fn help_lists_commands_and_settings() {
    let tmp = tempfile::tempdir().unwrap();
    let out = runlore(tmp.path()).arg("--help").assert().success();
    let help = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for word in [
        "server",
        "project",
        "experiment",
        "run",
        "RUNLORE_SERVER",
        "runlore.toml",
    ] {
        assert!(help.contains(word), "{word} missing from --help");
    }
    let out = runlore(tmp.path())
        .args(["project", "use", "--help"])
        .assert()
        .success();
    let help = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(help.contains("runlore.toml"), "{help}");
}

/// A journal the Python SDK could not ship, written by hand in its
/// documented format (docs/SDK.md), uploaded to the local data dir.
#[test]
fn sync_uploads_a_journal_once_and_keeps_refused_records() {
    let tmp = tempfile::tempdir().unwrap();
    let id = "00112233445566778899aabbccddeeff";
    let folder = tmp.path().join("journal").join(id);
    std::fs::create_dir_all(&folder).unwrap();
    let records = [
        serde_json::json!({"seq": 1, "kind": "create", "server": "http://127.0.0.1:9",
            "run": {"id": id, "project": "offline", "experiment": "e", "name": "plane", "start_time": 1,
                    "params": {"lr": "0.1"}, "tags": {}}}),
        serde_json::json!({"seq": 2, "kind": "log", "batch": {"metrics": [
            {"key": "loss", "value": 0.5, "step": 0, "timestamp": 1},
            {"key": "loss", "value": "NaN", "step": 1, "timestamp": 2}]}}),
        serde_json::json!({"seq": 3, "kind": "log", "batch": {"params": {"lr": "0.2"}}}),
        serde_json::json!({"seq": 4, "kind": "finish", "status": "FINISHED", "end_time": 9}),
    ];
    let mut text: String = records.iter().map(|r| format!("{r}\n")).collect();
    text.push_str("{\"seq\": 5, \"kind\": \"log\""); // cut off by a crash
    std::fs::write(folder.join("journal.jsonl"), text).unwrap();
    let data = tmp.path().join("data");
    let sync = |path: &std::path::Path| {
        runlore(tmp.path())
            .args(["--data-dir", data.to_str().unwrap(), "--json", "sync"])
            .arg(path)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone()
    };
    let backup = tmp.path().join("copy");
    std::fs::create_dir_all(&backup).unwrap();
    std::fs::copy(folder.join("journal.jsonl"), backup.join("journal.jsonl")).unwrap();

    let out: Value = serde_json::from_slice(&sync(&tmp.path().join("journal"))).unwrap();
    assert_eq!(out[0]["run_id"], id);
    assert_eq!(out[0]["sent"], 3);
    assert_eq!(out[0]["rejected"], 1);
    assert_eq!(out[0]["complete"], true);
    // The refused param change is kept beside the journal, with the reason.
    let rejected = std::fs::read_to_string(folder.join("rejected.jsonl")).unwrap();
    assert!(rejected.contains("lr"), "{rejected}");
    assert_eq!(
        std::fs::read_to_string(folder.join("shipped")).unwrap(),
        "4\n"
    );

    let store = runlore_store::open_data_dir(&data).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let check = || {
        runtime.block_on(async {
            let run_id = runlore_core::RunId::parse(id).unwrap();
            let run = store.get_run(&run_id).await.unwrap();
            let loss = store
                .metric_history(
                    &run_id,
                    runlore_core::store::MetricRange {
                        key: "loss".into(),
                        start_step: None,
                        end_step: None,
                    },
                )
                .await
                .unwrap();
            (run, loss.len())
        })
    };
    let (run, points) = check();
    assert_eq!(run.name, "plane");
    assert_eq!(run.status, runlore_core::RunStatus::Finished);
    assert_eq!(run.params["lr"], "0.1");
    assert_eq!(points, 2);
    drop(store);

    // Replaying the whole journal (a sync that died before noting its
    // progress) changes nothing.
    let renamed = tmp.path().join("replay").join(id);
    std::fs::create_dir_all(&renamed).unwrap();
    std::fs::copy(backup.join("journal.jsonl"), renamed.join("journal.jsonl")).unwrap();
    sync(&renamed);
    let store = runlore_store::open_data_dir(&data).unwrap();
    let points = runtime.block_on(async {
        let run_id = runlore_core::RunId::parse(id).unwrap();
        let range = runlore_core::store::MetricRange {
            key: "loss".into(),
            start_step: None,
            end_step: None,
        };
        store.metric_history(&run_id, range).await.unwrap().len()
    });
    assert_eq!(points, 2);
}

#[test]
fn features_diff_and_set_parent() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (a, b) = runtime.block_on(async {
        let store = runlore_store::open_data_dir(&data).unwrap();
        let new = |name: &str, features: Value| runlore_core::NewRun {
            project: "g".into(),
            name: Some(name.into()),
            features: Some(features),
            ..runlore_core::NewRun::default()
        };
        let a = store
            .create_run(new("a", serde_json::json!({"lr": 0.1, "depth": 12})))
            .await
            .unwrap();
        let b = store
            .create_run(new("b", serde_json::json!({"lr": 0.01, "depth": 12})))
            .await
            .unwrap();
        (a.id.to_string(), b.id.to_string())
    });
    let cli = |args: &[&str]| -> Value {
        let out = runlore(tmp.path())
            .args(["--data-dir", data.to_str().unwrap(), "--json", "run"])
            .args(args)
            .assert()
            .success();
        serde_json::from_slice(&out.get_output().stdout).unwrap()
    };
    let diff = cli(&["diff", &a[..8], &b[..8]]);
    assert_eq!(
        diff,
        serde_json::json!([{"op": "replace", "path": "/lr", "value": 0.01}])
    );
    let moved = cli(&["set-parent", &b, &a]);
    assert_eq!(moved["parents"][0]["run_id"], a.as_str());
    assert_eq!(moved["diff"], diff);
    let shown = cli(&["features", &b]);
    assert_eq!(shown["full"]["lr"], 0.01);
    // The re-parenting is on record with who made it.
    let changes = shown["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{shown}");
    assert_eq!(changes[0]["old_parents"], serde_json::json!([]));
    assert_eq!(changes[0]["new_parents"][0]["run_id"], a.as_str());
    let tree = cli(&["tree", &a]);
    assert_eq!(tree["descendants"]["nodes"].as_array().unwrap().len(), 2);
    let text = runlore(tmp.path())
        .args(["--data-dir", data.to_str().unwrap(), "run", "tree", &b])
        .assert()
        .success();
    let text = String::from_utf8(text.get_output().stdout.clone()).unwrap();
    assert!(
        text.contains("↑ ") && text.contains("● ") && text.contains("derived_from"),
        "{text}"
    );
    // A cycle is refused with the invalid-argument exit code.
    runlore(tmp.path())
        .args([
            "--data-dir",
            data.to_str().unwrap(),
            "run",
            "set-parent",
            &a,
            &b,
        ])
        .assert()
        .code(2);
}
