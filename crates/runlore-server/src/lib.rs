//! The Runlore HTTP server: `/health`, the native API under `/api/v1` with
//! its OpenAPI document, and the web UI's files.
//!
//! [`serve`] is the one entry point: the binary calls it with a bound
//! listener and a shutdown future (SIGINT/SIGTERM); tests call it with a
//! listener on port 0 and a channel.

mod api;
mod artifact_http;
mod error;
mod extract;
pub mod guard;
mod listen;
pub mod local_artifacts;
mod mlflow;
mod ui;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use runlore_core::{ArtifactIndex, BlobStore, MetadataStore, ModelStore};
use tokio::net::TcpListener;

pub use error::ApiError;

/// Request bodies larger than this are refused with 413 unless configured.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// How long a client may take to send a request's head (and how long a
/// kept-alive connection may sit idle).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest pause allowed inside a request body.
pub const DEFAULT_BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Connections served at once; more wait in the listen queue.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Holds blobs by default (`<data_dir>/blobs`) and, for `db = sqlite:`,
    /// the database (`<data_dir>/runlore.db`).
    pub data_dir: PathBuf,
    /// The metadata database (`--db URL`, `RUNLORE_DB`, `db` in runlore.toml).
    pub db: runlore_store::DbLocation,
    /// How long a SQLite write waits for another process's lock before the
    /// request is answered 503.
    pub db_busy_timeout: Duration,
    pub max_body_bytes: usize,
    /// A built web UI to serve at `/`, if any.
    pub ui_dir: Option<PathBuf>,
    /// Where artifact bytes go: a folder or `s3://bucket/prefix`;
    /// `<data_dir>/blobs` when unset.
    pub artifacts: Option<String>,
    /// Host names (`name` or `name:port`) the server answers to besides
    /// localhost and loopback addresses; see [`guard`].
    pub public_names: Vec<String>,
    /// See the accept loop's docs (`listen.rs`) for these three.
    pub header_read_timeout: Duration,
    pub body_idle_timeout: Duration,
    pub max_connections: usize,
    /// What an acknowledged write survives (`runlore server --durability`).
    pub durability: runlore_store::Durability,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            data_dir: PathBuf::from("runlore-data"),
            db: runlore_store::DbLocation::default(),
            db_busy_timeout: runlore_store::DEFAULT_BUSY_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            ui_dir: None,
            artifacts: None,
            public_names: Vec::new(),
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_idle_timeout: DEFAULT_BODY_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            durability: runlore_store::Durability::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot open the store: {0}")]
    Store(#[from] runlore_core::Error),
    #[error("server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// The stores a server works on.
#[derive(Clone)]
pub struct Stores {
    pub metadata: Arc<dyn MetadataStore>,
    pub artifacts: Arc<dyn ArtifactIndex>,
    pub models: Arc<dyn ModelStore>,
    pub blobs: Arc<dyn BlobStore>,
}

/// Where blobs live: the configured location, else `<data_dir>/blobs`.
/// The server, the CLI's local mode and `runlore sync` all ask here, so
/// they always agree.
pub fn blob_location(data_dir: &std::path::Path, artifacts: Option<&str>) -> String {
    match artifacts {
        Some(location) => location.to_owned(),
        None => data_dir.join("blobs").to_string_lossy().into_owned(),
    }
}

impl Stores {
    /// The configured database (through [`runlore_store::open`], the one
    /// place that picks a backend) and blobs in `config.artifacts`, else
    /// `<data_dir>/blobs`.
    pub async fn open(config: &ServerConfig) -> Result<Stores, ServerError> {
        let opened = runlore_store::open(&store_config(config)).await?;
        let location = blob_location(&config.data_dir, config.artifacts.as_deref());
        Ok(Stores {
            metadata: opened.metadata,
            artifacts: opened.artifacts,
            models: opened.models,
            blobs: runlore_blobs::open(&location)?,
        })
    }
}

/// What the store factory needs from a server's configuration.
pub fn store_config(config: &ServerConfig) -> runlore_store::StoreConfig {
    runlore_store::StoreConfig {
        db: config.db.clone(),
        data_dir: config.data_dir.clone(),
        durability: config.durability,
        busy_timeout: config.db_busy_timeout,
    }
}

/// What every handler sees.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn MetadataStore>,
    pub artifacts: Arc<dyn ArtifactIndex>,
    pub models: Arc<dyn ModelStore>,
    pub blobs: Arc<dyn BlobStore>,
    pub max_body_bytes: usize,
    /// Experiments' MLflow artifact locations (immutable once created).
    pub locations: mlflow::LocationCache,
}

impl AppState {
    /// The artifact operations on this server's stores.
    pub fn artifact_service(&self) -> local_artifacts::LocalArtifacts {
        local_artifacts::LocalArtifacts {
            store: Arc::clone(&self.store),
            index: Arc::clone(&self.artifacts),
            models: Arc::clone(&self.models),
            blobs: Arc::clone(&self.blobs),
        }
    }
}

/// Serves until `shutdown` resolves, then stops accepting and lets requests
/// in flight finish (a log request that was accepted is committed).
pub async fn serve(
    config: ServerConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let stores = Stores::open(&config).await?;
    tracing::info!("metadata database: {}", config.db);
    let app = router(stores, &config);
    let limits = listen::ConnectionLimits {
        header_read_timeout: config.header_read_timeout,
        body_idle_timeout: config.body_idle_timeout,
        max_connections: config.max_connections,
    };
    listen::serve_connections(listener, app, limits, shutdown).await;
    Ok(())
}

/// The whole application, for in-process use.
pub fn router(stores: Stores, config: &ServerConfig) -> Router {
    let state = AppState {
        store: stores.metadata,
        artifacts: stores.artifacts,
        models: stores.models,
        blobs: stores.blobs,
        max_body_bytes: config.max_body_bytes,
        locations: mlflow::LocationCache::default(),
    };
    api::routes(config.max_body_bytes)
        .merge(mlflow::routes().layer(axum::extract::DefaultBodyLimit::max(config.max_body_bytes)))
        .merge(ui::routes(config.ui_dir.clone()))
        .with_state(state)
        // Outside every route, so that no handler runs for a refused request.
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(guard::Policy::new(&config.public_names)),
            guard::check,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            error::panic_response,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
