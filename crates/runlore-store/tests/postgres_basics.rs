#![allow(clippy::unwrap_used)] // test helpers panic on failure by design
//! The PostgreSQL store's foundation on a real server: `cargo xtask test`
//! starts a throwaway cluster and sets RUNLORE_TEST_POSTGRES_URL (`cargo
//! xtask postgres` starts one by hand). Each test works in a database of
//! its own, dropped at the end.

use std::net::TcpListener;

use runlore_core::ErrorKind;
use runlore_store::{POSTGRES_SCHEMA_VERSION, PostgresStore, SCHEMA_VERSION};
use tokio_postgres::NoTls;

const URL_VAR: &str = "RUNLORE_TEST_POSTGRES_URL";

/// A fresh database in the test cluster; `None` (with a notice) when no
/// cluster was given.
struct FreshDb {
    admin_url: String,
    name: String,
    url: String,
}

impl FreshDb {
    async fn create(tag: &str) -> Option<FreshDb> {
        let Ok(admin_url) = std::env::var(URL_VAR) else {
            eprintln!("{URL_VAR} is not set: skipping (cargo xtask test sets it)");
            return None;
        };
        let name = format!("runlore_{tag}_{}", uuid_like());
        let (client, conn) = tokio_postgres::connect(&admin_url, NoTls).await.unwrap();
        tokio::spawn(conn);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let base = admin_url.rsplit_once('/').unwrap().0;
        let url = format!("{base}/{name}");
        Some(FreshDb {
            admin_url,
            name,
            url,
        })
    }

    async fn client(&self) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::connect(&self.url, NoTls).await.unwrap();
        tokio::spawn(conn);
        client
    }

    async fn drop_db(self) {
        let (client, conn) = tokio_postgres::connect(&self.admin_url, NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
            .batch_execute(&format!("DROP DATABASE {} WITH (FORCE)", self.name))
            .await
            .unwrap();
    }
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{}_{nanos}", std::process::id())
}

async fn migrations_of(client: &tokio_postgres::Client) -> Vec<(i64, String)> {
    client
        .query(
            "SELECT version, name FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[tokio::test]
async fn migrations_match_sqlite_and_seed_the_defaults() {
    let Some(db) = FreshDb::create("migrate").await else {
        return;
    };
    PostgresStore::connect(&db.url).await.unwrap();
    let client = db.client().await;
    let postgres = migrations_of(&client).await;

    let dir = tempfile::tempdir().unwrap();
    runlore_store::open_data_dir(dir.path()).unwrap();
    let sqlite = rusqlite::Connection::open(dir.path().join(runlore_store::SQLITE_FILE)).unwrap();
    let mut stmt = sqlite
        .prepare("SELECT version, name FROM schema_migrations ORDER BY version")
        .unwrap();
    let expected: Vec<(i64, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(
        postgres, expected,
        "same numbers and names on both backends"
    );
    assert_eq!(POSTGRES_SCHEMA_VERSION, SCHEMA_VERSION);

    // MLflow's Default experiment "0" in the default project, and new
    // projects numbered after the seeded one.
    let row = client
        .query_one(
            "SELECT e.name, p.name FROM experiments e JOIN projects p ON p.id = e.project_id
             WHERE e.id = 0",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1)),
        ("Default".to_owned(), "default".to_owned())
    );
    let id: i64 = client
        .query_one(
            "INSERT INTO projects (name, created_at, updated_at) VALUES ('next', 0, 0) RETURNING id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(id, 2);

    // Connecting again applies nothing twice.
    PostgresStore::connect(&db.url).await.unwrap();
    assert_eq!(migrations_of(&client).await.len(), expected.len());
    drop(client);
    db.drop_db().await;
}

#[tokio::test]
async fn replicas_starting_together_migrate_once() {
    let Some(db) = FreshDb::create("together").await else {
        return;
    };
    let (a, b, c) = tokio::join!(
        PostgresStore::connect(&db.url),
        PostgresStore::connect(&db.url),
        PostgresStore::connect(&db.url),
    );
    a.unwrap();
    b.unwrap();
    c.unwrap();
    let client = db.client().await;
    let applied = migrations_of(&client).await;
    assert_eq!(applied.len() as i64, POSTGRES_SCHEMA_VERSION);
    let projects: i64 = client
        .query_one("SELECT count(*) FROM projects", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(projects, 1, "the default project is seeded once");
    drop(client);
    db.drop_db().await;
}

#[tokio::test]
async fn a_database_from_a_newer_runlore_is_refused() {
    let Some(db) = FreshDb::create("newer").await else {
        return;
    };
    PostgresStore::connect(&db.url).await.unwrap();
    let client = db.client().await;
    client
        .execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)",
            &[],
        )
        .await
        .unwrap();
    let err = PostgresStore::connect(&db.url).await.err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert_eq!(
        err.message(),
        format!(
            "the database has schema version 99, newer than this Runlore knows ({SCHEMA_VERSION}); upgrade Runlore"
        )
    );
    // Refusing changed nothing.
    assert_eq!(
        migrations_of(&client).await.len() as i64,
        POSTGRES_SCHEMA_VERSION + 1
    );
    drop(client);
    db.drop_db().await;
}

#[tokio::test]
async fn a_bad_url_is_invalid_and_never_echoes_its_password() {
    let err = PostgresStore::connect("postgres://alice:s3cret@127.0.0.1:notaport/db")
        .await
        .err()
        .unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(!err.message().contains("s3cret"), "{}", err.message());
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable() {
    // A port nothing listens on (bound, then released).
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://alice:s3cret@127.0.0.1:{port}/db?connect_timeout=5");
    let err = PostgresStore::connect(&url).await.err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{}", err.message());
    assert!(!err.message().contains("s3cret"), "{}", err.message());
}
