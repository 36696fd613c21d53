//! Starts the real server on a loopback port 0 with a fresh data dir.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

use runlore_server::{ServerConfig, serve};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    pub data_dir: PathBuf,
    _dir: Option<tempfile::TempDir>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::with(|_| {}).await
    }

    pub async fn with(adjust: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().to_path_buf();
        let mut server = TestServer::on(data_dir, adjust).await;
        server._dir = Some(dir);
        server
    }

    pub async fn on(data_dir: PathBuf, adjust: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let mut config = ServerConfig {
            data_dir: data_dir.clone(),
            db: database_for(&data_dir).await,
            ..ServerConfig::default()
        };
        adjust(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            serve(config, listener, async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        TestServer {
            base,
            client: reqwest::Client::new(),
            data_dir,
            _dir: None,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Asks for a graceful shutdown and waits until the server has stopped.
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
        self._dir.take()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.client.get(self.url(path)).send().await.unwrap();
        decode(r).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        decode(r).await
    }

    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let r = self
            .client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        decode(r).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .client
            .patch(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        decode(r).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .client
            .put(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        decode(r).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        let r = self.client.delete(self.url(path)).send().await.unwrap();
        decode(r).await
    }

    pub async fn new_run(&self, body: Value) -> String {
        let (status, run) = self.post("/api/v1/runs", body).await;
        assert_eq!(status, 201, "{run}");
        run["id"].as_str().unwrap().to_owned()
    }

    /// An MLflow experiment named `name` with one run, made through the
    /// MLflow API as the `mlflow` client makes them.
    pub async fn mlflow_run(&self, name: &str) -> MlflowRun {
        let (status, exp) = self
            .post(
                "/api/2.0/mlflow/experiments/create",
                serde_json::json!({"name": name}),
            )
            .await;
        assert_eq!(status, 200, "{exp}");
        let experiment = exp["experiment_id"].as_str().unwrap().to_owned();
        let (status, run) = self
            .post(
                "/api/2.0/mlflow/runs/create",
                serde_json::json!({"experiment_id": experiment}),
            )
            .await;
        assert_eq!(status, 200, "{run}");
        let run = run["run"]["info"]["run_id"].as_str().unwrap().to_owned();
        let proxy = format!("/api/2.0/mlflow-artifacts/artifacts/{experiment}/{run}/artifacts");
        MlflowRun {
            experiment,
            run,
            proxy,
        }
    }
}

/// A new, empty bucket on the S3 test server (`RUNLORE_TEST_S3_ENDPOINT`,
/// set by `cargo xtask test`), named from `prefix`; `None` when no S3 test
/// server runs.
/// Whether this run of the server tests keeps metadata in PostgreSQL
/// (`RUNLORE_SERVER_TESTS_DB=postgres`, set by `cargo xtask test` for its
/// second pass), in the cluster at RUNLORE_TEST_POSTGRES_URL.
pub fn on_postgres() -> bool {
    std::env::var("RUNLORE_SERVER_TESTS_DB").is_ok_and(|v| v == "postgres")
}

/// SQLite in the data dir, or on PostgreSQL a database of the data dir's
/// own (named from its path, so a server started again on the same data
/// dir finds its data, as on SQLite).
async fn database_for(data_dir: &std::path::Path) -> runlore_store::DbLocation {
    if !on_postgres() {
        return runlore_store::DbLocation::default();
    }
    let admin = std::env::var("RUNLORE_TEST_POSTGRES_URL")
        .expect("RUNLORE_SERVER_TESTS_DB=postgres needs RUNLORE_TEST_POSTGRES_URL");
    let hash = data_dir
        .to_string_lossy()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    let name = format!("server_{hash:016x}");
    let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    if let Err(e) = client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
    {
        // 42P04: it exists (the same data dir again).
        assert_eq!(
            e.code().map(|c| c.code()),
            Some("42P04"),
            "cannot create {name}: {e}"
        );
    }
    let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
    runlore_store::DbLocation::parse(&url).unwrap()
}

pub async fn s3_bucket(prefix: &str) -> Option<String> {
    let endpoint = std::env::var("RUNLORE_TEST_S3_ENDPOINT").ok()?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let bucket = format!("{prefix}-{}-{nanos:x}", std::process::id());
    let created = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success(), "cannot create {bucket}");
    Some(bucket)
}

/// What [`TestServer::mlflow_run`] made.
pub struct MlflowRun {
    pub experiment: String,
    pub run: String,
    /// The run's artifact folder under the MLflow artifact proxy.
    pub proxy: String,
}

async fn decode(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let bytes = r.bytes().await.unwrap();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, value)
}

/// Asserts the API error shape and returns the message.
pub fn error_message(status: u16, body: &Value, expected_status: u16, code: &str) -> String {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"].as_str().unwrap().to_owned();
    assert!(!message.is_empty());
    message
}
