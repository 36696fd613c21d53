#![allow(clippy::unwrap_used)] // test helpers panic on failure by design
//! The PostgreSQL store's foundation on a real server: `cargo xtask test`
//! starts a throwaway cluster and sets RUNLORE_TEST_POSTGRES_URL (`cargo
//! xtask postgres` starts one by hand). Each test works in a database of
//! its own, dropped at the end.

use std::net::TcpListener;

#[allow(dead_code)] // each test binary uses part of it
mod pg_support;

use pg_support::FreshDb;
use runlore_core::ErrorKind;
use runlore_store::{POSTGRES_SCHEMA_VERSION, PostgresStore, SCHEMA_VERSION};

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

#[tokio::test]
async fn projects_are_created_listed_archived_and_configured() {
    use runlore_core::{Lifecycle, LifecycleView, NewProject, ProjectSettings};
    let Some(db) = FreshDb::create("projects").await else {
        return;
    };
    let store = PostgresStore::connect(&db.url).await.unwrap();
    let new = |name: &str| NewProject {
        name: name.to_owned(),
        description: format!("about {name}"),
    };
    let vision = store.create_project(new("vision")).await.unwrap();
    assert_eq!(
        (vision.name.as_str(), vision.description.as_str()),
        ("vision", "about vision")
    );
    assert_eq!(vision.lifecycle, Lifecycle::Active);
    store.create_project(new("audio")).await.unwrap();
    let again = store.create_project(new("vision")).await.err().unwrap();
    assert_eq!(again.kind(), ErrorKind::AlreadyExists);
    assert_eq!(again.message(), "project 'vision' already exists");

    let names = |projects: Vec<runlore_core::Project>| {
        projects.into_iter().map(|p| p.name).collect::<Vec<_>>()
    };
    let active = store.list_projects(LifecycleView::Active).await.unwrap();
    assert_eq!(names(active), ["audio", "default", "vision"]);
    let archived = store
        .set_project_lifecycle("audio", Lifecycle::Archived)
        .await
        .unwrap();
    assert_eq!(archived.lifecycle, Lifecycle::Archived);
    assert!(archived.updated_at >= archived.created_at);
    let active = store.list_projects(LifecycleView::Active).await.unwrap();
    assert_eq!(names(active), ["default", "vision"]);
    let inactive = store.list_projects(LifecycleView::Inactive).await.unwrap();
    assert_eq!(names(inactive), ["audio"]);
    let missing = store
        .set_project_lifecycle("nope", Lifecycle::Archived)
        .await
        .err()
        .unwrap();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    assert_eq!(
        store.get_project("nope").await.err().unwrap().message(),
        "project 'nope' not found"
    );

    assert_eq!(
        store.project_settings("vision").await.unwrap(),
        ProjectSettings::default()
    );
    let settings: ProjectSettings = serde_json::from_value(serde_json::json!({
        "naming": {"pattern": "(?P<id>\\d+)_from_(?P<parent>\\d+)_.*", "parent_from": "group"},
        "key_metrics": [{"key": "val_loss", "direction": "min", "aggregation": "best"}]
    }))
    .unwrap();
    store
        .set_project_settings("vision", settings.clone())
        .await
        .unwrap();
    assert_eq!(store.project_settings("vision").await.unwrap(), settings);
    let err = store
        .set_project_settings("nope", settings)
        .await
        .err()
        .unwrap();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    drop(store);
    db.drop_db().await;
}

#[tokio::test]
async fn replicas_creating_one_project_at_once_make_it_once() {
    use runlore_core::{LifecycleView, NewProject};
    let Some(db) = FreshDb::create("race").await else {
        return;
    };
    let store = std::sync::Arc::new(PostgresStore::connect(&db.url).await.unwrap());
    let attempts = (0..8).map(|_| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .create_project(NewProject {
                    name: "shared".to_owned(),
                    description: String::new(),
                })
                .await
        })
    });
    let mut created = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(_) => created += 1,
            Err(e) => assert_eq!(e.kind(), ErrorKind::AlreadyExists),
        }
    }
    assert_eq!(created, 1);
    let all = store.list_projects(LifecycleView::All).await.unwrap();
    assert_eq!(all.iter().filter(|p| p.name == "shared").count(), 1);
    drop(store);
    db.drop_db().await;
}

#[tokio::test]
async fn experiments_are_created_renamed_deleted_tagged_and_paged() {
    use runlore_core::store::ExperimentQuery;
    use runlore_core::{ExperimentId, Lifecycle, LifecycleView, NewExperiment};
    let Some(db) = FreshDb::create("experiments").await else {
        return;
    };
    let store = PostgresStore::connect(&db.url).await.unwrap();
    let new = |name: &str| NewExperiment {
        project: "vision".to_owned(),
        name: name.to_owned(),
        description: String::new(),
        tags: [("team".to_owned(), "blue".to_owned())].into(),
        artifact_location: None,
    };
    let first = store
        .create_experiment(NewExperiment {
            artifact_location: Some("s3://bucket/first".to_owned()),
            ..new("first")
        })
        .await
        .unwrap();
    assert_eq!(first.project, "vision", "the project is made on the way");
    assert_eq!(first.tags["team"], "blue");
    assert_eq!(
        first.artifact_location.as_deref(),
        Some("s3://bucket/first")
    );
    store.get_project("vision").await.unwrap();
    let dup = store.create_experiment(new("first")).await.err().unwrap();
    assert_eq!(dup.message(), "experiment 'vision/first' already exists");
    for i in 0..5 {
        store
            .create_experiment(new(&format!("Sweep-{i}")))
            .await
            .unwrap();
    }
    let by_name = store
        .get_experiment_by_name("vision", "Sweep-3")
        .await
        .unwrap();
    assert_eq!(store.get_experiment(by_name.id).await.unwrap(), by_name);
    let missing = store
        .get_experiment_by_name("vision", "nope")
        .await
        .err()
        .unwrap();
    assert_eq!(missing.message(), "experiment 'vision/nope' not found");

    // Pages of two cover every match once, in creation order; the name
    // filter ignores case; a cursor from another query is refused.
    let query = ExperimentQuery {
        project: Some("vision".to_owned()),
        name_contains: Some("sweep".to_owned()),
        limit: 2,
        ..ExperimentQuery::default()
    };
    let mut seen = Vec::new();
    let mut cursor = None;
    for _ in 0..10 {
        let page = store
            .list_experiments(ExperimentQuery {
                cursor: cursor.clone(),
                ..query.clone()
            })
            .await
            .unwrap();
        seen.extend(page.items.into_iter().map(|e| e.name));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(
        seen,
        ["Sweep-0", "Sweep-1", "Sweep-2", "Sweep-3", "Sweep-4"]
    );
    let page = store.list_experiments(query.clone()).await.unwrap();
    let other = store
        .list_experiments(ExperimentQuery {
            name_contains: None,
            cursor: page.next_cursor,
            ..query.clone()
        })
        .await
        .err()
        .unwrap();
    assert_eq!(other.kind(), ErrorKind::InvalidArgument);

    let taken = store
        .rename_experiment(first.id, "Sweep-0")
        .await
        .err()
        .unwrap();
    assert_eq!(
        taken.message(),
        "experiment 'vision/Sweep-0' already exists"
    );
    let renamed = store.rename_experiment(first.id, "baseline").await.unwrap();
    assert_eq!(renamed.name, "baseline");

    let deleted = store
        .set_experiment_lifecycle(first.id, Lifecycle::Deleted)
        .await
        .unwrap();
    assert_eq!(deleted.lifecycle, Lifecycle::Deleted);
    let inactive = store
        .list_experiments(ExperimentQuery {
            view: LifecycleView::Inactive,
            ..ExperimentQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(inactive.items.len(), 1);
    // Archiving and deleting the Default experiment are refused by the
    // domain's rules in front of every backend (runlore_core::Validated).

    store
        .set_experiment_tag(first.id, "team", "red")
        .await
        .unwrap();
    store
        .set_experiment_tag(first.id, "goal", "sota")
        .await
        .unwrap();
    let tags = store.get_experiment(first.id).await.unwrap().tags;
    assert_eq!(
        (tags["team"].as_str(), tags["goal"].as_str()),
        ("red", "sota")
    );
    store.delete_experiment_tag(first.id, "goal").await.unwrap();
    let gone = store
        .delete_experiment_tag(first.id, "goal")
        .await
        .err()
        .unwrap();
    assert_eq!(gone.message(), "experiment tag 'goal' not found");
    let nowhere = store
        .set_experiment_tag(ExperimentId::new(9_999), "k", "v")
        .await
        .err()
        .unwrap();
    assert_eq!(nowhere.kind(), ErrorKind::NotFound);
    drop(store);
    db.drop_db().await;
}
