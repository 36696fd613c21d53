//! The OpenAPI check: the real `schemathesis` (pinned in
//! tests/mlflow/requirements.txt) fuzzes the served document against the
//! debug binary, on a loopback port and a fresh data dir, with a fixed seed
//! and example budget. Any 5xx, undocumented status or content type, or
//! body that breaks its schema fails `cargo xtask test`.
//!
//! A project, an experiment and a run with a metric and an artifact are
//! made first, and their names and ids are offered to schemathesis
//! (half of the time) for the path parameters, so that routes with ids reach
//! real objects and not only 404s.

use std::fs::{self, File};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::process::{self, cargo, root, target_dir};
use crate::python;

/// Fixed, so a failure reproduces (`--seed`).
const SEED: &str = "20261202";
/// Test cases per operation and phase: about 6,000 requests in all, a
/// minute or two on two cores.
const MAX_EXAMPLES: &str = "100";
/// A hard bound on the whole run, whatever the budget above works out to.
const MAX_SECONDS: Duration = Duration::from_secs(600);
const START_TIMEOUT: Duration = Duration::from_secs(60);
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance";

pub fn check() -> Result<()> {
    python::ensure_venv(&root().join("tests/mlflow/requirements.txt"))?;
    let schemathesis = root().join(".venv/bin/schemathesis");
    if !schemathesis.exists() {
        bail!(
            "{} is missing after installing the requirements",
            schemathesis.display()
        );
    }
    process::run(cargo().args(["build", "-p", "runlore"]))?;
    let binary = target_dir().join("debug").join("runlore");
    let work = target_dir().join(format!("openapi-check-{}", std::process::id()));
    if work.exists() {
        fs::remove_dir_all(&work)?;
    }
    fs::create_dir_all(&work)?;
    let server = Server::start(&binary, &work)?;
    let seeded = tokio::runtime::Runtime::new()?.block_on(seed(&server.url))?;
    let config = work.join("schemathesis.toml");
    fs::write(&config, config_text(&seeded))
        .with_context(|| format!("cannot write {}", config.display()))?;
    let mut cmd = Command::new(&schemathesis);
    cmd.arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(format!("{}/api/v1/openapi.json", server.url))
        .args(["--checks", CHECKS])
        .args(["--seed", SEED, "--max-examples", MAX_EXAMPLES])
        .args([
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--no-color",
        ])
        .arg("--report")
        .arg("junit")
        .arg("--report-dir")
        .arg(&work)
        .current_dir(&work);
    let outcome = run_bounded(&mut cmd);
    drop(server);
    outcome.context("schemathesis found the OpenAPI document or the server at fault")?;
    fs::remove_dir_all(&work).ok();
    Ok(())
}

/// What the seed made, for schemathesis's dictionaries.
struct Seeded {
    project: String,
    experiment_id: String,
    run_ids: Vec<String>,
    metric_key: String,
    tag_key: String,
    artifact_path: String,
}

async fn seed(base: &str) -> Result<Seeded> {
    let client = reqwest::Client::new();
    let send = |method: reqwest::Method, path: &str, body: Value| {
        client
            .request(method, format!("{base}/api/v1{path}"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    let project = "openapi-check".to_owned();
    expect_ok(send(reqwest::Method::POST, "/projects", json!({"name": project})).await?).await?;
    let experiment = expect_ok(
        send(
            reqwest::Method::POST,
            "/experiments",
            json!({"project": project, "name": "fuzzed", "tags": {"team": "api"}}),
        )
        .await?,
    )
    .await?;
    let mut run_ids = Vec::new();
    for name in ["first", "second"] {
        let body = json!({"project": project, "experiment": "fuzzed", "name": name});
        let run = expect_ok(send(reqwest::Method::POST, "/runs", body).await?).await?;
        run_ids.push(string_field(&run, "id")?);
    }
    let metric_key = "loss".to_owned();
    // The tag the experiment (above) and the runs (below) carry.
    let tag_key = "team".to_owned();
    for id in &run_ids {
        let batch = json!({
            "metrics": [{"key": metric_key, "value": 0.5, "step": 0},
                        {"key": metric_key, "value": 0.25, "step": 1}],
            "params": {"lr": "0.01"},
            "tags": {"team": "api"},
        });
        expect_ok(send(reqwest::Method::POST, &format!("/runs/{id}/log"), batch).await?).await?;
    }
    let artifact_path = "notes/readme.txt".to_owned();
    let upload = client
        .put(format!(
            "{base}/api/v1/runs/{}/artifacts/{artifact_path}",
            run_ids[0]
        ))
        .header("content-type", "text/plain")
        .body("seeded for the OpenAPI check\n")
        .send()
        .await?;
    expect_ok(upload).await?;
    Ok(Seeded {
        project,
        experiment_id: string_field(&experiment, "id")?,
        run_ids,
        metric_key,
        tag_key,
        artifact_path,
    })
}

async fn expect_ok(response: reqwest::Response) -> Result<Value> {
    let status = response.status();
    let url = response.url().clone();
    let text = response.text().await?;
    if !status.is_success() {
        bail!("seeding: {url} answered {status}: {text}");
    }
    serde_json::from_str(&text).with_context(|| format!("seeding: {url} answered {text}"))
}

fn string_field(value: &Value, field: &str) -> Result<String> {
    match &value[field] {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        other => bail!("seeding: expected a '{field}', got {other}"),
    }
}

/// Operations whose path matches `include` and not `exclude`, and the
/// dictionary each of their path parameters (`(parameter, dictionary)`)
/// draws from.
struct Binding {
    include: &'static str,
    exclude: Option<&'static str>,
    params: &'static [(&'static str, &'static str)],
}

/// Kept disjoint: schemathesis merges every entry that matches an operation.
const BINDINGS: [Binding; 5] = [
    Binding {
        include: r"^/api/v1/runs/\{id\}/metrics/",
        exclude: None,
        params: &[("id", "runs"), ("key", "metric_keys")],
    },
    Binding {
        include: r"^/api/v1/runs/\{id\}/tags/",
        exclude: None,
        params: &[("id", "runs"), ("key", "tag_keys")],
    },
    Binding {
        include: r"^/api/v1/runs/\{id\}",
        exclude: Some("/(metrics|tags)/"),
        params: &[("id", "runs")],
    },
    Binding {
        include: r"^/api/v1/experiments/\{id\}/tags/",
        exclude: None,
        params: &[("id", "experiments"), ("key", "tag_keys")],
    },
    Binding {
        include: r"^/api/v1/experiments/\{id\}",
        exclude: Some("/tags/"),
        params: &[("id", "experiments")],
    },
];

/// The schemathesis config: dictionaries of what the seed made, bound
/// (half of the time) to the path parameters of the operations that take
/// them; the other half are generated, so 404s are tested too.
fn config_text(seeded: &Seeded) -> String {
    let list = |values: &[&str]| {
        let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
        format!("[{}]", quoted.join(", "))
    };
    let bind = |param: &str, dictionary: &str| {
        format!("\"path.{param}\" = {{ dictionary = \"{dictionary}\", probability = 0.5 }}")
    };
    let runs: Vec<&str> = seeded.run_ids.iter().map(String::as_str).collect();
    let dictionaries = [
        ("projects", list(&[&seeded.project])),
        ("experiments", list(&[&seeded.experiment_id])),
        ("runs", list(&runs)),
        ("metric_keys", list(&[&seeded.metric_key])),
        ("tag_keys", list(&[&seeded.tag_key])),
        ("artifact_paths", list(&[&seeded.artifact_path])),
    ];
    let mut text = String::new();
    for (name, values) in dictionaries {
        text.push_str(&format!("[dictionaries.{name}]\nvalues = {values}\n"));
    }
    text.push_str("\n[parameters]\n");
    for (param, dictionary) in [
        ("name", "projects"),
        ("other", "runs"),
        ("path", "artifact_paths"),
    ] {
        text.push_str(&bind(param, dictionary));
        text.push('\n');
    }
    for binding in BINDINGS {
        text.push_str(&format!(
            "\n[[operations]]\ninclude-path-regex = '{}'\n",
            binding.include
        ));
        if let Some(exclude) = binding.exclude {
            text.push_str(&format!("exclude-path-regex = '{exclude}'\n"));
        }
        let bound: Vec<String> = binding.params.iter().map(|(p, d)| bind(p, d)).collect();
        text.push_str(&format!("parameters = {{ {} }}\n", bound.join(", ")));
    }
    text
}

/// Runs `cmd`, killing it (our child, by PID) past [`MAX_SECONDS`].
fn run_bounded(cmd: &mut Command) -> Result<()> {
    eprintln!("xtask> {}", process::describe(cmd));
    let mut child = cmd.spawn().context("cannot start schemathesis")?;
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            if !status.success() {
                bail!("schemathesis exited with {status}");
            }
            return Ok(());
        }
        if started.elapsed() > MAX_SECONDS {
            let _ = child.kill();
            let _ = child.wait();
            bail!("schemathesis ran past {} s", MAX_SECONDS.as_secs());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `runlore server` on port 0 of 127.0.0.1 with its own data dir, its
/// output in a log file (read for the address it prints); stopped by its
/// PID when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(binary: &Path, work: &Path) -> Result<Server> {
        let log_path = work.join("server.log");
        let log = File::create(&log_path)?;
        let child = Command::new(binary)
            .args(["server", "--host", "127.0.0.1", "--port", "0", "--data-dir"])
            .arg(work.join("data"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let mut server = Server {
            child,
            url: String::new(),
        };
        let started = Instant::now();
        loop {
            if let Some(url) = printed_address(&log_path) {
                server.url = url;
                eprintln!(
                    "xtask> runlore server for the OpenAPI check at {}",
                    server.url
                );
                return Ok(server);
            }
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "runlore server exited ({status}); see {}",
                    log_path.display()
                );
            }
            if started.elapsed() > START_TIMEOUT {
                bail!(
                    "runlore server printed no address; see {}",
                    log_path.display()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The `http://…` address the server prints once it listens.
fn printed_address(log: &Path) -> Option<String> {
    let text = fs::read_to_string(log).ok()?;
    text.split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .map(|w| w.trim_end_matches([',', ')', '/']).to_owned())
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_offers_the_seeded_ids_to_the_operations_that_take_them() {
        let seeded = Seeded {
            project: "p".into(),
            experiment_id: "7".into(),
            run_ids: vec!["aa".into(), "bb".into()],
            metric_key: "loss".into(),
            tag_key: "team".into(),
            artifact_path: "a/b.txt".into(),
        };
        let text = config_text(&seeded);
        assert!(text.contains("[dictionaries.runs]\nvalues = [\"aa\", \"bb\"]\n"));
        assert!(text.contains("[dictionaries.experiments]\nvalues = [\"7\"]\n"));
        assert!(text.contains(
            "include-path-regex = '^/api/v1/runs/\\{id\\}'\nexclude-path-regex = '/(metrics|tags)/'\n\
             parameters = { \"path.id\" = { dictionary = \"runs\", probability = 0.5 } }\n"
        ));
        assert_eq!(text.matches("[[operations]]").count(), BINDINGS.len());
    }
}
