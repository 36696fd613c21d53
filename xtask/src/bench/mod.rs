//! `cargo xtask bench`: the performance budgets of DESIGN.md, measured
//! against a release build of the real server over loopback HTTP. Figures
//! are printed as a Markdown table for docs/benchmarks.md.

mod artifacts;
mod durability;
mod graph;
mod http;
mod workloads;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::process::{build_release_binary, root, target_dir};

/// Sizes of the workloads; `quick` shrinks them to check the harness.
#[derive(Clone)]
pub struct Sizes {
    pub ingest_points: usize,
    pub batch_points: usize,
    pub search_runs: usize,
    pub graph_runs: usize,
    pub artifact_bytes: u64,
    pub repeats: usize,
}

impl Sizes {
    fn new(quick: bool) -> Sizes {
        if quick {
            Sizes {
                ingest_points: 100_000,
                batch_points: 10_000,
                search_runs: 2_000,
                graph_runs: 1_000,
                artifact_bytes: 128 << 20,
                repeats: 3,
            }
        } else {
            Sizes {
                ingest_points: 1_000_000,
                batch_points: 10_000,
                search_runs: 100_000,
                graph_runs: 10_000,
                artifact_bytes: 1 << 30,
                repeats: 15,
            }
        }
    }
}

/// The server under test; stopped (by its PID, which we started) on drop.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(binary: &std::path::Path, data_dir: &std::path::Path) -> Result<Server> {
        Server::start_with(binary, data_dir, &[])
    }

    /// `runlore server` with `extra` arguments (e.g. `--durability power`).
    fn start_with(
        binary: &std::path::Path,
        data_dir: &std::path::Path,
        extra: &[&str],
    ) -> Result<Server> {
        let mut child = Command::new(binary)
            .args(["server", "--host", "127.0.0.1", "--port", "0"])
            .args(extra)
            .arg("--data-dir")
            .arg(data_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start runlore server")?;
        let stdout = child
            .stdout
            .take()
            .context("no stdout from runlore server")?;
        let mut lines = BufReader::new(stdout).lines();
        // The server prints one line with its address once it listens.
        for _ in 0..20 {
            let Some(line) = lines.next() else { break };
            let line = line?;
            if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                return Ok(Server {
                    child,
                    url: url.trim_end_matches([',', ')']).to_owned(),
                });
            }
        }
        let _ = child.kill();
        bail!("runlore server did not print its address")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Resident set size of a process, from /proc (Linux only).
fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The MLflow peer comparison: installs the pinned client and server into
/// .venv (the compatibility suite's requirements), builds the release
/// binary, and runs bench/mlflow_peer.py, which writes
/// target/bench/mlflow_peer.md.
pub fn mlflow_peer(quick: bool) -> Result<()> {
    python_script("mlflow_peer", quick)
}

/// Runs `bench/<name>.py` with the venv's Python against the release
/// binary; the script writes `target/bench/<name>.md`.
pub fn python_script(name: &str, quick: bool) -> Result<()> {
    let python = crate::python::ensure_venv(&root().join("tests/mlflow/requirements.txt"))?;
    let binary = build_release_binary()?;
    let out = target_dir().join("bench").join(format!("{name}.md"));
    let mut cmd = Command::new(python);
    cmd.current_dir(root())
        .arg(format!("bench/{name}.py"))
        .arg("--runlore")
        .arg(&binary)
        .arg("--out")
        .arg(&out)
        .env_remove("MLFLOW_TRACKING_URI");
    if quick {
        cmd.arg("--quick");
    }
    crate::process::run(&mut cmd)
}

/// `cargo xtask bench --durability`: native ingest under each SQLite
/// durability, interleaved (see `durability`).
pub fn durability(quick: bool) -> Result<()> {
    let report = durability::run(&Sizes::new(quick))?;
    println!("{report}");
    let out = target_dir().join("bench").join("durability.md");
    std::fs::write(&out, &report)?;
    eprintln!("xtask> report written to {}", out.display());
    Ok(())
}

/// `lineage_only`: just the lineage workloads (see `artifacts::lineage`).
pub fn run(quick: bool, lineage_only: bool) -> Result<()> {
    let sizes = Sizes::new(quick);
    let binary = build_release_binary()?;
    let data_dir = target_dir()
        .join("bench")
        .join(format!("data-{}", std::process::id()));
    if data_dir.exists() {
        std::fs::remove_dir_all(&data_dir)?;
    }
    std::fs::create_dir_all(&data_dir)?;
    let started = std::time::Instant::now();
    let server = Server::start(&binary, &data_dir)?;
    let startup = started.elapsed();
    std::thread::sleep(Duration::from_millis(500));
    let idle_rss = rss_bytes(server.child.id());
    let runtime = tokio::runtime::Runtime::new()?;
    let workloads = async {
        if lineage_only {
            let api = http::Api::new(&server.url)?;
            let rows = artifacts::lineage(&api, &server.url, &sizes).await?;
            Ok(workloads::table(rows))
        } else {
            workloads::all(&server.url, &sizes, startup, &data_dir).await
        }
    };
    let report = runtime
        .block_on(workloads)
        .map(|mut report| {
            let mb = |b: Option<u64>| b.map_or("n/a".to_owned(), |b| format!("{:.1} MB", b as f64 / 1e6));
            report.push_str(&format!(
                "| server resident memory, idle after start | {} | < 50 MB |\n| server resident memory after the workloads | {} | — |\n",
                mb(idle_rss),
                mb(rss_bytes(server.child.id()))
            ));
            report
        });
    drop(server);
    let _ = std::fs::remove_dir_all(&data_dir);
    let report = report?;
    println!("{report}");
    let out = target_dir().join("bench").join("report.md");
    std::fs::write(&out, &report)?;
    eprintln!("xtask> report written to {}", out.display());
    std::thread::sleep(Duration::from_millis(10));
    Ok(())
}
