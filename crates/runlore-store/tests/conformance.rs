#![allow(clippy::unwrap_used)] // test helpers panic on failure by design
//! The store conformance suite (`runlore-conformance`) on real SQLite
//! files, and what only SQLite's store can be asked (reopening a file).

use runlore_conformance::support::{batch, new_run, point};
use runlore_conformance::{Opened, conformance_suite};

mod support;

async fn open() -> Option<Opened> {
    let (dir, store) = support::open();
    Some(Opened::new(store, dir))
}

conformance_suite!(open);

#[tokio::test]
async fn data_survives_reopening_and_schema_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let store = runlore_store::open_data_dir(dir.path()).unwrap();
        let run = new_run(store.as_ref(), "p", "kept").await;
        store
            .log_batch(&run.id, batch(vec![point("loss", 0, 1, 0.5)]))
            .await
            .unwrap();
        run.id
    };
    let store = runlore_store::open_data_dir(dir.path()).unwrap();
    let run = store.get_run(&id).await.unwrap();
    assert_eq!(run.name, "kept");
    assert_eq!(run.metrics.len(), 1);
    drop(store);

    let db = rusqlite::Connection::open(dir.path().join(runlore_store::SQLITE_FILE)).unwrap();
    db.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)",
        [],
    )
    .unwrap();
    drop(db);
    let err = runlore_store::open_data_dir(dir.path()).err().unwrap();
    assert!(err.message().contains("999"), "{}", err.message());
}
