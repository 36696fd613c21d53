//! `runlore exec` with the real binary: the config handed to the command,
//! output teed and stored (live too), exit codes and statuses, signals,
//! and bad input that is refused with a clear message.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod repro;
#[allow(dead_code)]
mod support;

use std::time::{Duration, Instant};

use repro::{Place, exec, write};
use serde_json::{Value, json};

const BASE: &[u8] = b"model:\n  lr: 0.001\n  layers: [64, 32]\n  dropout: null\noptim: adam\n";

#[test]
fn exec_hands_over_the_resolved_config_and_records_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    write(&work, "base.yaml", BASE);
    let place = Place::local(tmp.path(), &tmp.path().join("data"));
    let script = "echo to-stdout; echo to-stderr >&2; cp \"$RUNLORE_CONFIG\" seen.yaml; \
                  printf %s \"$RUNLORE_RUN_ID\" > seen_id";
    let (code, stdout, stderr) = exec(
        &place,
        &work,
        &[
            "--config",
            "base.yaml",
            "--set",
            "model.lr=0.01",
            "--set",
            "model.layers=[128, 64]",
            "--set",
            "model.dropout=0.1",
            "--set",
            "optim=sgd",
            "--tag",
            "ablation",
            "--tag",
            "team=vision",
            "-e",
            "sweep",
            "--name",
            "first",
            "--",
            "sh",
            "-c",
            script,
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    // Teed: the terminal still sees the command's output.
    assert_eq!(stdout, "to-stdout\n");
    assert!(stderr.contains("to-stderr"), "{stderr}");
    let run = place.run_by_name("first");
    let id = run["id"].as_str().unwrap();
    assert_eq!(std::fs::read_to_string(work.join("seen_id")).unwrap(), id);
    assert_eq!(run["status"], "FINISHED");
    assert_eq!(run["experiment"], "sweep");
    assert_eq!(run["tags"]["ablation"], "");
    assert_eq!(run["tags"]["team"], "vision");
    assert_eq!(run["tags"]["runlore.exit_code"], "0");
    assert_eq!(run["tags"]["runlore.config.base"], "base.yaml");
    assert!(
        run["tags"]["runlore.command"]
            .as_str()
            .unwrap()
            .starts_with("sh -c 'echo")
    );
    assert_eq!(run["params"]["model.lr"], "0.01");
    assert_eq!(run["params"]["model.layers"], "[128,64]");
    let resolved =
        json!({"model": {"lr": 0.01, "layers": [128, 64], "dropout": 0.1}, "optim": "sgd"});
    let features = place.target.json(&["run", "features", id]);
    assert_eq!(features["full"], resolved);
    let seen: Value =
        yaml_serde::from_str(&std::fs::read_to_string(work.join("seen.yaml")).unwrap()).unwrap();
    assert_eq!(seen, resolved);
    assert_eq!(
        place.artifact(id, "logs/stdout.log").unwrap(),
        b"to-stdout\n"
    );
    assert_eq!(
        place.artifact(id, "logs/stderr.log").unwrap(),
        b"to-stderr\n"
    );
    let record: Value =
        serde_json::from_slice(&place.artifact(id, "runlore/exec.json").unwrap()).unwrap();
    assert_eq!(record["exit_code"], 0);
    assert_eq!(record["argv"][0], "sh");
    assert_eq!(
        record["config"]["overrides"][1],
        json!({"key": "model.layers", "value": [128, 64]})
    );
    let env: Value =
        serde_json::from_slice(&place.artifact(id, "runlore/environment.json").unwrap()).unwrap();
    assert_eq!(env["os"], std::env::consts::OS);

    // JSON base configs stay JSON; --allow-new adds keys; --parent links.
    write(&work, "base.json", br#"{"lr": 1}"#);
    let (code, _, stderr) = exec(
        &place,
        &work,
        &[
            "--config",
            "base.json",
            "--set",
            "extra.depth=3",
            "--allow-new",
            "--parent",
            &id[..8],
            "--name",
            "second",
            "--no-snapshot",
            "--",
            "sh",
            "-c",
            "cat \"$RUNLORE_CONFIG\" > seen.json",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let seen: Value =
        serde_json::from_slice(&std::fs::read(work.join("seen.json")).unwrap()).unwrap();
    assert_eq!(seen, json!({"lr": 1, "extra": {"depth": 3}}));
    let second = place.run_by_name("second");
    let features = place
        .target
        .json(&["run", "features", second["id"].as_str().unwrap()]);
    assert_eq!(features["parents"][0]["run_id"], id);
    assert!(
        place
            .artifact(second["id"].as_str().unwrap(), "runlore/code/manifest.json")
            .is_none()
    );

    // --resume records a resumed_from edge with the step.
    let (code, _, stderr) = exec(
        &place,
        &work,
        &[
            "--resume",
            id,
            "--resume-step",
            "1200",
            "--name",
            "resumed",
            "--no-snapshot",
            "--",
            "true",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let resumed = place.run_by_name("resumed");
    let features = place
        .target
        .json(&["run", "features", resumed["id"].as_str().unwrap()]);
    assert_eq!(
        features["parents"],
        json!([{"run_id": id, "kind": "resumed_from", "resume_step": 1200}])
    );
}

#[test]
fn failures_kills_and_missing_commands_end_the_run_accordingly() {
    let tmp = tempfile::tempdir().unwrap();
    let place = Place::local(tmp.path(), &tmp.path().join("data"));
    let cases: [(&str, &[&str], i32, &str); 3] = [
        ("fails", &["sh", "-c", "echo bad >&2; exit 3"], 3, "FAILED"),
        ("killed", &["sh", "-c", "kill -KILL $$"], 137, "KILLED"),
        ("missing", &["/no/such/program"], 127, "FAILED"),
    ];
    for (name, command, want, status) in cases {
        let args = [&["--name", name, "--no-snapshot", "--"][..], command].concat();
        let (code, _, stderr) = exec(&place, tmp.path(), &args);
        assert_eq!(code, want, "{name}: {stderr}");
        let run = place.run_by_name(name);
        assert_eq!(run["status"], status, "{name}");
        assert!(run["end_time"].is_i64(), "{name}");
    }
    assert_eq!(place.run_by_name("fails")["tags"]["runlore.exit_code"], "3");
    assert_eq!(place.run_by_name("killed")["tags"]["runlore.signal"], "9");
    let missing = place.run_by_name("missing");
    assert!(
        missing["tags"]["runlore.error"]
            .as_str()
            .unwrap()
            .contains("cannot start '/no/such/program'")
    );
}

#[test]
fn sigterm_is_passed_on_and_logs_are_viewable_while_the_command_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let place = Place::server(tmp.path(), &tmp.path().join("data"));
    let mut child = std::process::Command::new(support::BIN)
        .current_dir(tmp.path())
        .args(&place.target.args)
        .args([
            "exec",
            "--name",
            "long",
            "--no-snapshot",
            "--log-interval",
            "0.2",
            "--",
        ])
        .args(["sh", "-c", "echo started; exec sleep 60"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The growing log reaches the server while the command still runs.
    let deadline = Instant::now() + Duration::from_secs(30);
    let id = loop {
        assert!(Instant::now() < deadline, "no live log within 30 s");
        let runs = place.target.json(&["run", "list"]);
        if let Some(run) = runs.as_array().unwrap().first() {
            let id = run["id"].as_str().unwrap().to_owned();
            if place.artifact(&id, "logs/stdout.log").as_deref() == Some(b"started\n") {
                assert_eq!(run["status"], "RUNNING");
                break id;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143));
    let run = place.target.json(&["run", "show", &id]);
    assert_eq!(run["status"], "KILLED");
    assert_eq!(run["tags"]["runlore.signal"], "15");
}

#[test]
fn bad_config_input_is_refused_clearly_and_the_attempt_is_kept() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "base.yaml", BASE);
    let place = Place::local(tmp.path(), &tmp.path().join("data"));
    let cases: [(&[&str], &str); 5] = [
        (
            &["--config", "base.yaml", "--set", "model.lr"],
            "--set takes KEY=VALUE",
        ),
        (
            &["--config", "base.yaml", "--set", "model.lr=[1,"],
            "not a valid value",
        ),
        (&["--config", "missing.yaml"], "cannot read base config"),
        (
            &["--config", "base.yaml", "--set", "model.lrr=1"],
            "no key 'model.lrr' (add --allow-new",
        ),
        (&["--set", "x=1"], "no key 'x'"),
    ];
    for (i, (args, message)) in cases.iter().enumerate() {
        let name = format!("bad-{i}");
        let args = [&["--name", &name][..], args, &["--", "touch", "ran"]].concat();
        let (code, _, stderr) = exec(&place, tmp.path(), &args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(message),
            "{args:?}: {stderr}"
        );
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(
            !tmp.path().join("ran").exists(),
            "the command ran despite {args:?}"
        );
        let run = place.run_by_name(&name);
        assert_eq!(run["status"], "FAILED");
        assert!(
            run["tags"]["runlore.error"]
                .as_str()
                .unwrap()
                .contains(message)
        );
    }
    // Errors about the run's identity leave nothing behind.
    let before = place
        .target
        .json(&["run", "list", "--all"])
        .as_array()
        .unwrap()
        .len();
    let (code, _, stderr) = exec(&place, tmp.path(), &["--parent", "ffffffff", "--", "true"]);
    assert_eq!(code, 3, "{stderr}");
    let (code, _, stderr) = exec(&place, tmp.path(), &["--tag", "bad key!", "--", "true"]);
    assert_eq!(code, 2, "{stderr}");
    let after = place
        .target
        .json(&["run", "list", "--all"])
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after);
    // A broken [snapshot] table in runlore.toml is refused up front.
    write(
        tmp.path(),
        "runlore.toml",
        b"[snapshot]\nexclude = [\"a[\"]\n",
    );
    let (code, _, stderr) = exec(&place, tmp.path(), &["--", "true"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("invalid [snapshot] glob 'a['"), "{stderr}");
    std::fs::remove_file(tmp.path().join("runlore.toml")).unwrap();
    let after = place
        .target
        .json(&["run", "list", "--all"])
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after);
    // `--` is optional: the first word that is not an option starts the
    // command, and every later word is the command's own.
    let (code, stdout, stderr) = exec(&place, tmp.path(), &["--no-snapshot", "echo", "--set", "x"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "--set x\n");
    // No command at all is a usage error from the argument parser.
    let (code, _, _) = exec(&place, tmp.path(), &[]);
    assert_eq!(code, 2);
}
