//! The one place that picks a backend: [`open`] turns the `db` setting into
//! the metadata, artifact-index and model stores. The server and the CLI's
//! local mode both call it, so they always open the same database the same
//! way, and never two stores on one file.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use runlore_core::{ArtifactIndex, Error, MetadataStore, ModelStore, Result, Validated};

use crate::{DbLocation, Durability, PostgresStore, SqliteStore};

/// How long a SQLite write waits for another process's lock by default.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// What [`open`] needs: where the database is and how to open it.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub db: DbLocation,
    /// Holds `runlore.db` for `sqlite:` (and blobs, which are not opened here).
    pub data_dir: PathBuf,
    /// What an acknowledged SQLite write survives.
    pub durability: Durability,
    /// How long a SQLite write waits for a lock before it is `Unavailable`.
    pub busy_timeout: Duration,
}

impl StoreConfig {
    /// `sqlite:` in `data_dir` with the default durability and timeout.
    pub fn in_data_dir(data_dir: &Path) -> StoreConfig {
        StoreConfig {
            db: DbLocation::SqliteInDataDir,
            data_dir: data_dir.to_owned(),
            durability: Durability::default(),
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
        }
    }
}

/// The stores of one database, opened once and shared.
#[derive(Clone)]
pub struct OpenedStore {
    pub metadata: Arc<dyn MetadataStore>,
    pub artifacts: Arc<dyn ArtifactIndex>,
    pub models: Arc<dyn ModelStore>,
}

/// Opens (creating and migrating when needed) the configured database,
/// behind the domain's input rules ([`Validated`]).
pub async fn open(config: &StoreConfig) -> Result<OpenedStore> {
    match &config.db {
        DbLocation::SqliteInDataDir | DbLocation::SqliteFile(_) => {
            let path = config
                .db
                .sqlite_path(&config.data_dir)
                .ok_or_else(|| Error::internal("a SQLite location without a path"))?;
            let store = open_sqlite_file(&path, config)?;
            Ok(OpenedStore {
                metadata: store.clone(),
                artifacts: store.clone(),
                models: store,
            })
        }
        DbLocation::Postgres(url) => {
            let store = Arc::new(Validated::new(PostgresStore::connect(url).await?));
            Ok(OpenedStore {
                metadata: store.clone(),
                artifacts: store.clone(),
                models: store,
            })
        }
    }
}

fn open_sqlite_file(path: &Path, config: &StoreConfig) -> Result<Arc<Validated<SqliteStore>>> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| {
            Error::internal(format!(
                "cannot create the database's folder '{}': {e}",
                parent.display()
            ))
        })?;
    }
    let store = SqliteStore::open_with(path, config.durability)?;
    Ok(Arc::new(Validated::new(
        store.with_busy_timeout(config.busy_timeout)?,
    )))
}
