//! Numbered, up-only schema migrations, checked at every start-up. The same
//! numbers will mean the same change on PostgreSQL.

use runlore_core::{Error, Result};
use rusqlite::{Connection, OptionalExtension, params};

use super::db_err;

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
    /// Work SQL cannot express (decoding chunk blobs), run after `sql` in
    /// the same transaction.
    then: Option<fn(&Connection) -> Result<()>>,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../../migrations/sqlite/0001_init.sql"),
        then: None,
    },
    Migration {
        version: 2,
        name: "artifacts_models",
        sql: include_str!("../../migrations/sqlite/0002_artifacts_models.sql"),
        then: None,
    },
    Migration {
        version: 3,
        name: "components",
        sql: include_str!("../../migrations/sqlite/0003_components.sql"),
        then: None,
    },
    Migration {
        version: 4,
        name: "graph",
        sql: include_str!("../../migrations/sqlite/0004_graph.sql"),
        then: None,
    },
    Migration {
        version: 5,
        name: "lineage",
        sql: include_str!("../../migrations/sqlite/0005_lineage.sql"),
        then: None,
    },
    Migration {
        version: 6,
        name: "metric_summaries",
        sql: include_str!("../../migrations/sqlite/0006_metric_summaries.sql"),
        then: None,
    },
    Migration {
        version: 7,
        name: "chunk_summaries",
        sql: include_str!("../../migrations/sqlite/0007_chunk_summaries.sql"),
        then: Some(super::chunk_summary::backfill),
    },
    Migration {
        version: 8,
        name: "feature_values",
        sql: include_str!("../../migrations/sqlite/0008_feature_values.sql"),
        then: None,
    },
];

/// The schema version this build writes.
pub const LATEST_VERSION: i64 = 8;

/// Brings the database to [`LATEST_VERSION`]. Refuses a database written by
/// a newer Runlore, or one whose history disagrees with this build's, rather
/// than guessing.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT    NOT NULL,
             applied_at INTEGER NOT NULL
         )",
    )
    .map_err(db_err)?;
    let newest: Option<i64> = conn
        .query_row("SELECT max(version) FROM schema_migrations", [], |r| {
            r.get(0)
        })
        .map_err(db_err)?;
    if let Some(v) = newest.filter(|v| *v > LATEST_VERSION) {
        return Err(Error::new(
            runlore_core::ErrorKind::Unavailable,
            format!(
                "the database has schema version {v}, newer than this Runlore knows ({LATEST_VERSION}); upgrade Runlore"
            ),
        ));
    }
    for m in MIGRATIONS {
        let applied: Option<String> = conn
            .query_row(
                "SELECT name FROM schema_migrations WHERE version = ?1",
                [m.version],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)?;
        match applied {
            Some(name) if name == m.name => continue,
            Some(name) => {
                return Err(Error::new(
                    runlore_core::ErrorKind::Unavailable,
                    format!(
                        "schema migration {} is recorded as '{name}' but this build calls it '{}'",
                        m.version, m.name
                    ),
                ));
            }
            None => {
                let tx = conn.transaction().map_err(db_err)?;
                tx.execute_batch(m.sql).map_err(db_err)?;
                if let Some(then) = m.then {
                    then(&tx)?;
                }
                tx.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                    params![m.version, m.name, runlore_core::time::now_ms()],
                )
                .map_err(db_err)?;
                tx.commit().map_err(db_err)?;
                tracing::info!(
                    version = m.version,
                    name = m.name,
                    "applied schema migration"
                );
            }
        }
    }
    Ok(())
}
