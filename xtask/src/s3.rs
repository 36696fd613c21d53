//! A real S3-compatible server for the tests: `moto_server` from PyPI
//! (pinned in tests/mlflow/requirements.txt), started on a free loopback
//! port for the length of `cargo test`, so the blob store's suite runs on
//! S3 as well as on a local folder.

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::process::{root, target_dir};
use crate::python;

const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running moto server; stopped (by its PID, ours) when dropped.
pub struct S3Server {
    child: Child,
    pub endpoint: String,
}

impl S3Server {
    pub fn start() -> Result<S3Server> {
        python::ensure_venv(&root().join("tests/mlflow/requirements.txt"))?;
        let moto = root().join(".venv/bin/moto_server");
        if !moto.exists() {
            bail!(
                "{} is missing after installing the requirements",
                moto.display()
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let log_path = target_dir().join("moto-server.log");
        let log = File::create(&log_path)
            .with_context(|| format!("cannot create {}", log_path.display()))?;
        let child = Command::new(&moto)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", moto.display()))?;
        let mut server = S3Server {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Some(status) = server.child.try_wait()? {
                bail!("moto_server exited ({status}); see {}", log_path.display());
            }
            if started.elapsed() > START_TIMEOUT {
                bail!(
                    "moto_server did not listen within 60 s; see {}",
                    log_path.display()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!("xtask> S3-compatible server (moto) at {}", server.endpoint);
        Ok(server)
    }

    /// Points a command's S3 client (object_store reads `AWS_*`) and the
    /// tests (`RUNLORE_TEST_S3_ENDPOINT`) at this server.
    pub fn configure(&self, cmd: &mut Command) {
        cmd.env("RUNLORE_TEST_S3_ENDPOINT", &self.endpoint)
            .env("AWS_ENDPOINT", &self.endpoint)
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_ACCESS_KEY_ID", "runlore-test")
            .env("AWS_SECRET_ACCESS_KEY", "runlore-test")
            .env("AWS_REGION", "us-east-1")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE");
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
