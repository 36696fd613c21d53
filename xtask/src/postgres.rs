//! A throwaway PostgreSQL for the tests: a fresh cluster (`initdb`) in a
//! temporary folder, on a free loopback port, for the length of one
//! `cargo xtask test`, then stopped by its PID and removed. The server
//! binaries come from the machine (PostgreSQL's own `pg_config`, Debian's
//! /usr/lib/postgresql/<version>/bin, or PATH); when none are there,
//! Debian's `postgresql` package is installed.
//!
//! PostgreSQL refuses to run as root, and CI runs as root: there the
//! cluster belongs to `nobody` and its processes run under that uid.

use std::fs::File;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

use crate::process::{self, target_dir};

/// How long the server may take to accept connections after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a fast shutdown may take before the server is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// The role the tests connect as (the cluster's superuser) and their
/// database; tests that need isolation create their own next to it.
const ROLE: &str = "runlore";
const DATABASE: &str = "runlore_test";
/// Read by the tests: the connection URL of [`DATABASE`].
pub const URL_VAR: &str = "RUNLORE_TEST_POSTGRES_URL";

/// A running throwaway cluster; stopped by its PID and removed when dropped.
pub struct Postgres {
    child: Child,
    dir: PathBuf,
    /// The server binaries (createdb for the Python suites' databases).
    bin: PathBuf,
    pub url: String,
}

/// Who the cluster's files and processes belong to.
struct Owner {
    uid: u32,
    gid: u32,
}

impl Postgres {
    pub fn start() -> Result<Postgres> {
        let started = Instant::now();
        let bin = server_binaries()?;
        let owner = owner()?;
        let dir = fresh_dir()?;
        let data = dir.join("data");
        if let Some(owner) = &owner {
            std::os::unix::fs::chown(&dir, Some(owner.uid), Some(owner.gid))
                .with_context(|| format!("cannot give {} to nobody", dir.display()))?;
        }
        let log_path = target_dir().join("postgres.log");
        let log = File::create(&log_path)
            .with_context(|| format!("cannot create {}", log_path.display()))?;
        let mut initdb = as_owner(Command::new(bin.join("initdb")), &owner, &dir);
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", ROLE, "--auth=trust", "--no-sync", "-E", "UTF8"])
            .args(["--locale=C", "--no-instructions"])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log.try_clone()?);
        let status = initdb
            .status()
            .with_context(|| format!("cannot run {}", process::describe(&initdb)))?;
        if !status.success() {
            bail!("initdb failed ({status}); see {}", log_path.display());
        }
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut server = as_owner(Command::new(bin.join("postgres")), &owner, &dir);
        server
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-k"])
            .arg(&dir)
            // Loopback only; a throwaway needs no durability, and the
            // replica and pool tests open many connections.
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off", "-c", "max_connections=300"])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let child = server
            .spawn()
            .with_context(|| format!("cannot start {}", process::describe(&server)))?;
        let mut postgres = Postgres {
            child,
            dir,
            bin: bin.clone(),
            url: format!("postgres://{ROLE}@127.0.0.1:{port}/{DATABASE}"),
        };
        postgres.wait_ready(&bin, port, &log_path)?;
        let created = Command::new(bin.join("createdb"))
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", ROLE])
            .arg(DATABASE)
            .status()
            .context("cannot run createdb")?;
        if !created.success() {
            bail!("createdb {DATABASE} failed ({created})");
        }
        eprintln!(
            "xtask> PostgreSQL at {} (ready in {:.1} s)",
            postgres.url,
            started.elapsed().as_secs_f64()
        );
        Ok(postgres)
    }

    /// Points the tests at this cluster.
    pub fn configure(&self, cmd: &mut Command) {
        cmd.env(URL_VAR, &self.url);
    }

    /// Runs a Python suite's servers on this cluster: `RUNLORE_SUITE_DB`
    /// says so, and each server gets a fresh database made with the
    /// cluster's `createdb` (tests/pg_database.py).
    pub fn configure_suite(&self, cmd: &mut Command) {
        self.configure(cmd);
        cmd.env("RUNLORE_SUITE_DB", "postgres")
            .env("RUNLORE_TEST_PG_BIN", &self.bin);
    }

    fn wait_ready(&mut self, bin: &Path, port: u16, log_path: &Path) -> Result<()> {
        let started = Instant::now();
        loop {
            let ready = Command::new(bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
                .status()
                .context("cannot run pg_isready")?;
            if ready.success() {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("postgres exited ({status}); see {}", log_path.display());
            }
            if started.elapsed() > START_TIMEOUT {
                bail!(
                    "postgres did not accept connections within {} s; see {}",
                    START_TIMEOUT.as_secs(),
                    log_path.display()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // SIGINT is PostgreSQL's fast shutdown: it ends the sessions and
        // stops cleanly; kill only when that takes too long.
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `cargo xtask postgres`: a cluster for a developer's own test runs, until
/// Ctrl-C or SIGTERM.
pub fn serve() -> Result<()> {
    let postgres = Postgres::start()?;
    println!("{}={}", URL_VAR, postgres.url);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    })?;
    drop(postgres);
    Ok(())
}

/// The folder holding `initdb` and `postgres`, installing Debian's package
/// when the machine has none.
fn server_binaries() -> Result<PathBuf> {
    if let Some(dir) = find_server_binaries() {
        return Ok(dir);
    }
    eprintln!("xtask> no PostgreSQL server binaries found: installing Debian's postgresql");
    process::run(Command::new("apt-get").args(["update", "-q"]))?;
    process::run(
        Command::new("apt-get")
            .args([
                "install",
                "-y",
                "-q",
                "--no-install-recommends",
                "postgresql",
            ])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    find_server_binaries().context("installed postgresql, but still no initdb/postgres binaries")
}

fn find_server_binaries() -> Option<PathBuf> {
    let has_server = |dir: &Path| {
        ["initdb", "postgres", "pg_isready", "createdb"]
            .iter()
            .all(|b| dir.join(b).is_file())
    };
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    // Debian's layout, newest version first.
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .collect();
    debian.sort_by_key(|p| {
        let version = p.parent().and_then(|v| v.file_name());
        std::cmp::Reverse(version.and_then(|v| v.to_str()?.parse::<u32>().ok()))
    });
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    from_pg_config
        .into_iter()
        .chain(debian)
        .chain(on_path)
        .find(|dir| has_server(dir))
}

/// `nobody` when we run as root (PostgreSQL will not), else ourselves.
fn owner() -> Result<Option<Owner>> {
    let id = |args: &[&str]| -> Result<u32> {
        let out = Command::new("id")
            .args(args)
            .output()
            .context("cannot run id")?;
        if !out.status.success() {
            bail!("id {} failed", args.join(" "));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
    };
    if id(&["-u"])? != 0 {
        return Ok(None);
    }
    Ok(Some(Owner {
        uid: id(&["-u", "nobody"])?,
        gid: id(&["-g", "nobody"])?,
    }))
}

fn as_owner(mut cmd: Command, owner: &Option<Owner>, dir: &Path) -> Command {
    cmd.current_dir(dir);
    if let Some(owner) = owner {
        cmd.uid(owner.uid).gid(owner.gid);
    }
    cmd
}

/// A new folder under the system's temporary directory, reachable by the
/// cluster's owner (root's home or the work tree may not be).
fn fresh_dir() -> Result<PathBuf> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("runlore-pg-{}-{nanos}", std::process::id()));
    std::fs::create_dir(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}
