//! The PostgreSQL store, for a lab's shared server: a pool of async
//! connections (tokio-postgres with deadpool), the same schema numbers as
//! SQLite's (`migrations/postgres/`), and — as it grows to the whole
//! `MetadataStore` — the same results, checked by the conformance suite.
//!
//! Nothing here lives only in this process's memory: several server
//! replicas may share one database.

mod artifacts;
mod chunks;
mod experiments;
mod graph;
mod graph_views;
mod lineage;
mod metadata;
mod metrics;
mod migrate;
mod models;
mod projects;
mod runs;
mod search;

use std::str::FromStr;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use runlore_core::{Error, ErrorKind, Result};
use tokio_postgres::NoTls;

pub use migrate::LATEST_VERSION;

/// Connections a server keeps at most; PostgreSQL's default limit is 100,
/// so a handful of replicas fit.
const POOL_SIZE: usize = 16;

pub struct PostgresStore {
    pool: Pool,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user[:password]@host[:port]/db`) and
    /// brings its schema to [`LATEST_VERSION`]. Refuses a database written
    /// by a newer Runlore.
    pub async fn connect(url: &str) -> Result<PostgresStore> {
        // The URL's text (it may hold a password) never goes into an error.
        let config = tokio_postgres::Config::from_str(url).map_err(|e| {
            Error::invalid(format!("invalid PostgreSQL URL: {}", redacted_cause(&e)))
        })?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| Error::internal(format!("cannot build the PostgreSQL pool: {e}")))?;
        let store = PostgresStore { pool };
        let mut client = store.client().await?;
        migrate::migrate(&mut client).await?;
        Ok(store)
    }

    /// A pooled connection; a database that cannot be reached is
    /// `Unavailable` (the server answers 503 and a client may retry).
    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Client> {
        self.pool.get().await.map_err(|e| {
            Error::new(
                ErrorKind::Unavailable,
                format!("cannot reach PostgreSQL: {e}"),
            )
        })
    }
}

/// Maps a driver error: a lost or refused connection is `Unavailable`,
/// anything the database itself reports is internal (its text goes to logs
/// only).
pub(crate) fn pg_err(e: tokio_postgres::Error) -> Error {
    match e.as_db_error() {
        Some(db) => Error::internal(format!("postgres: {} ({})", db.message(), db.code().code())),
        None if e.is_closed() => Error::new(
            ErrorKind::Unavailable,
            format!("postgres connection closed: {e}"),
        ),
        None => Error::new(ErrorKind::Unavailable, format!("postgres: {e}")),
    }
}

/// A URL parse error's text without the URL itself.
fn redacted_cause(e: &tokio_postgres::Error) -> String {
    let text = e.to_string();
    if text.contains('@') {
        "it does not parse".to_owned()
    } else {
        text
    }
}
