//! Runlore's metadata store: SQLite (embedded default). PostgreSQL follows
//! behind the same `MetadataStore` trait. [`open`] is the one place that
//! picks a backend from the `db` setting ([`DbLocation`]).

mod assembled_lineage;
mod codec;
mod location;
mod open;
mod postgres;
mod sql_common;
mod sqlite;

use std::path::Path;
use std::sync::Arc;

use runlore_core::{MetadataStore, Result, Validated};

pub use location::{ACCEPTED_FORMS as DB_URL_FORMS, DbLocation, redact as redact_url};
pub use open::{DEFAULT_BUSY_TIMEOUT, OpenedStore, StoreConfig, open};
pub use postgres::{LATEST_VERSION as POSTGRES_SCHEMA_VERSION, PostgresStore};
pub use sqlite::{Durability, SCHEMA_VERSION, SqliteStore};

/// File name of the SQLite database inside a data dir.
pub const SQLITE_FILE: &str = "runlore.db";

/// Opens (creating when missing) the embedded store of a data dir:
/// `<data_dir>/runlore.db`, migrated to the latest schema. For tests and
/// tools that want SQLite itself; the server and the CLI use [`open`].
pub fn open_data_dir(data_dir: &Path) -> Result<Arc<dyn MetadataStore>> {
    Ok(open_sqlite(data_dir)?)
}

/// Like [`open_data_dir`], keeping the concrete type, which also serves the
/// artifact index and the logged models. Like every store [`open`] gives,
/// it checks inputs by the domain's rules ([`Validated`]).
pub fn open_sqlite(data_dir: &Path) -> Result<Arc<Validated<SqliteStore>>> {
    open_sqlite_with(data_dir, Durability::default())
}

/// [`open_sqlite`] with a chosen durability.
pub fn open_sqlite_with(
    data_dir: &Path,
    durability: Durability,
) -> Result<Arc<Validated<SqliteStore>>> {
    std::fs::create_dir_all(data_dir).map_err(|e| {
        runlore_core::Error::internal(format!(
            "cannot create data dir '{}': {e}",
            data_dir.display()
        ))
    })?;
    Ok(Arc::new(Validated::new(SqliteStore::open_with(
        &data_dir.join(SQLITE_FILE),
        durability,
    )?)))
}
