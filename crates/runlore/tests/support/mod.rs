//! Helpers of the CLI tests: a clean `runlore` command, a server child
//! process on port 0, and runs seeded through the store API.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use runlore_core::{
    LogBatch, MetadataStore, MetricPoint, MetricValue, NewRun, Run, RunPatch, RunStatus,
};

/// Every variable the CLI reads, removed so the host's settings never leak in.
pub const RUNLORE_VARS: [&str; 8] = [
    "RUNLORE_SERVER",
    "RUNLORE_DATA_DIR",
    "RUNLORE_DB",
    "RUNLORE_HOST",
    "RUNLORE_PORT",
    "RUNLORE_PROJECT",
    "RUNLORE_UI_DIR",
    "RUNLORE_LOG",
];

pub const BIN: &str = env!("CARGO_BIN_EXE_runlore");

/// `runlore` run in `cwd` with a clean environment.
pub fn runlore(cwd: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(BIN);
    cmd.current_dir(cwd);
    for var in RUNLORE_VARS {
        cmd.env_remove(var);
    }
    cmd.timeout(Duration::from_secs(60));
    cmd
}

/// Where commands go: the local data dir or a server.
pub struct Target {
    pub cwd: PathBuf,
    /// `--data-dir DIR` or `--server URL`.
    pub args: Vec<String>,
    pub store: Box<dyn Fn() -> Arc<dyn MetadataStore>>,
}

impl Target {
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut cmd = runlore(&self.cwd);
        cmd.args(&self.args);
        cmd
    }

    /// Runs the command, expects success, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self
            .cmd()
            .args(args)
            .assert()
            .success()
            .get_output()
            .clone();
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs with `--json`, expects success, returns the parsed JSON.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let text = self.ok(&[args, &["--json"]].concat());
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {text}"))
    }

    /// Runs, expects exit `code`, returns stderr (checked to be one `error:` line).
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self
            .cmd()
            .args(args)
            .assert()
            .code(code)
            .get_output()
            .clone();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        stderr
    }
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Three runs in `project`/`experiment` with acc 0.5, 0.7 and 0.9.
pub fn seed_runs(store: Arc<dyn MetadataStore>, project: &str, experiment: &str) -> Vec<Run> {
    block_on(async move {
        let mut runs = Vec::new();
        for (i, acc) in [0.5, 0.7, 0.9].into_iter().enumerate() {
            let run = store
                .create_run(NewRun {
                    project: project.to_owned(),
                    experiment: Some(experiment.to_owned()),
                    name: Some(format!("trial-{i}")),
                    params: [("lr".to_owned(), format!("0.0{}", i + 1))].into(),
                    ..NewRun::default()
                })
                .await
                .unwrap();
            let metrics = (0..3)
                .flat_map(|step| {
                    [
                        ("acc", acc * f64::from(step + 1) / 3.0),
                        ("loss", 1.0 - acc),
                    ]
                    .map(|(key, value)| MetricPoint {
                        key: key.to_owned(),
                        value: MetricValue(value),
                        step: i64::from(step),
                        timestamp: None,
                    })
                })
                .collect();
            let batch = LogBatch {
                metrics,
                tags: [("team".to_owned(), "vision".to_owned())].into(),
                ..LogBatch::default()
            };
            store.log_batch(&run.id, batch).await.unwrap();
            let patch = RunPatch {
                status: Some(RunStatus::Finished),
                ..RunPatch::default()
            };
            runs.push(store.update_run(&run.id, patch).await.unwrap());
        }
        runs
    })
}

/// A `runlore server` child process; killed (by its own PID) when dropped.
pub struct ServerChild {
    pub child: Child,
    pub url: String,
}

impl ServerChild {
    pub fn start(cwd: &Path, data_dir: &Path) -> ServerChild {
        ServerChild::start_with(cwd, data_dir, &[])
    }

    /// [`ServerChild::start`] with more `runlore server` arguments (`--db`,
    /// `--artifacts`).
    pub fn start_with(cwd: &Path, data_dir: &Path, extra: &[&str]) -> ServerChild {
        let mut cmd = std::process::Command::new(BIN);
        for var in RUNLORE_VARS {
            cmd.env_remove(var);
        }
        let mut child = cmd
            .current_dir(cwd)
            .args(["server", "--port", "0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            // Keep draining, so a later write never meets a closed pipe.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let line = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!("runlore server printed no line within 60s");
            }
        };
        let url = line
            .strip_prefix("Runlore listening on ")
            .and_then(|rest| rest.split_whitespace().next())
            .map(str::to_owned);
        let Some(url) = url else {
            let _ = child.kill();
            panic!("unexpected first line from runlore server: {line:?}");
        };
        assert!(
            line.contains(&format!("(data: {}, db: ", data_dir.display())),
            "{line}"
        );
        ServerChild { child, url }
    }

    /// Sends SIGTERM to the child and waits for a clean exit.
    pub fn stop_gracefully(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
