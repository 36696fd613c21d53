//! Numbered, up-only schema migrations for PostgreSQL, with the numbers
//! and names of SQLite's (`migrations/sqlite/`): version N means the same
//! schema on both, which `runlore admin copy` relies on.
//!
//! Replicas may start at the same moment: the whole migration runs in one
//! transaction (PostgreSQL's DDL is transactional) holding an advisory
//! lock, so one replica migrates and the others then find the work done.
//! A replica that dies mid-migration leaves nothing half applied.

use runlore_core::{Error, ErrorKind, Result};

use super::pg_err;

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "artifacts_models",
        sql: include_str!("../../migrations/postgres/0002_artifacts_models.sql"),
    },
    Migration {
        version: 3,
        name: "components",
        sql: include_str!("../../migrations/postgres/0003_components.sql"),
    },
    Migration {
        version: 4,
        name: "graph",
        sql: include_str!("../../migrations/postgres/0004_graph.sql"),
    },
    Migration {
        version: 5,
        name: "lineage",
        sql: include_str!("../../migrations/postgres/0005_lineage.sql"),
    },
    Migration {
        version: 6,
        name: "metric_summaries",
        sql: include_str!("../../migrations/postgres/0006_metric_summaries.sql"),
    },
    Migration {
        version: 7,
        name: "chunk_summaries",
        sql: include_str!("../../migrations/postgres/0007_chunk_summaries.sql"),
    },
    Migration {
        version: 8,
        name: "feature_values",
        sql: include_str!("../../migrations/postgres/0008_feature_values.sql"),
    },
];

/// The schema version this build writes (equal to SQLite's, by a test).
pub const LATEST_VERSION: i64 = 8;

/// The advisory lock key migrations hold ("RUNLORE" in ASCII), so that no
/// other application's lock on the same database collides by accident.
const MIGRATION_LOCK: i64 = 0x52_55_4E_4C_4F_52_45;

pub async fn migrate(client: &mut deadpool_postgres::Client) -> Result<()> {
    let tx = client.transaction().await.map_err(pg_err)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg_err)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    BIGINT PRIMARY KEY,
             name       TEXT   NOT NULL,
             applied_at BIGINT NOT NULL
         )",
    )
    .await
    .map_err(pg_err)?;
    let newest: Option<i64> = tx
        .query_one("SELECT max(version) FROM schema_migrations", &[])
        .await
        .map_err(pg_err)?
        .get(0);
    if let Some(v) = newest.filter(|v| *v > LATEST_VERSION) {
        return Err(Error::new(
            ErrorKind::Unavailable,
            format!(
                "the database has schema version {v}, newer than this Runlore knows ({LATEST_VERSION}); upgrade Runlore"
            ),
        ));
    }
    let applied = tx
        .query("SELECT version, name FROM schema_migrations", &[])
        .await
        .map_err(pg_err)?;
    for m in MIGRATIONS {
        let recorded = applied
            .iter()
            .find(|row| row.get::<_, i64>(0) == m.version)
            .map(|row| row.get::<_, String>(1));
        match recorded {
            Some(name) if name == m.name => continue,
            Some(name) => {
                return Err(Error::new(
                    ErrorKind::Unavailable,
                    format!(
                        "schema migration {} is recorded as '{name}' but this build calls it '{}'",
                        m.version, m.name
                    ),
                ));
            }
            None => {
                tx.batch_execute(m.sql).await.map_err(pg_err)?;
                tx.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                    &[&m.version, &m.name, &runlore_core::time::now_ms()],
                )
                .await
                .map_err(pg_err)?;
                tracing::info!(
                    version = m.version,
                    name = m.name,
                    "applied schema migration (PostgreSQL)"
                );
            }
        }
    }
    tx.commit().await.map_err(pg_err)
}
