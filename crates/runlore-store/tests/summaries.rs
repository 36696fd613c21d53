//! Metric summaries (count, min, max, mean of the finite values) on a real
//! SQLite file: kept up to date on ingest, never double-counting a resent
//! batch, and computed from the history when a row is missing (histories
//! logged before the table existed).
#![allow(clippy::unwrap_used)]

use runlore_core::*;

fn point(step: i64, value: f64) -> MetricPoint {
    MetricPoint {
        key: "loss".into(),
        value: MetricValue(value),
        step,
        timestamp: Some(1_000 + step),
    }
}

async fn log(store: &dyn MetadataStore, run: &RunId, points: Vec<MetricPoint>) {
    store
        .log_batch(
            run,
            LogBatch {
                metrics: points,
                ..LogBatch::default()
            },
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn summaries_follow_ingest_and_skip_resends_and_non_finite_values() {
    let dir = tempfile::tempdir().unwrap();
    let store = runlore_store::open_data_dir(dir.path()).unwrap();
    let run = store.create_run(NewRun::default()).await.unwrap().id;
    let other = store.create_run(NewRun::default()).await.unwrap().id;
    let first = vec![point(0, 4.0), point(1, 2.0), point(2, f64::NAN)];
    log(store.as_ref(), &run, first.clone()).await;
    log(store.as_ref(), &run, first).await; // a resend stores nothing
    log(
        store.as_ref(),
        &run,
        vec![point(3, 3.0), point(4, f64::INFINITY)],
    )
    .await;
    let keys = vec!["loss".to_owned(), "never".to_owned()];
    let got = store
        .metric_summaries(&[run.clone(), other.clone()], &keys)
        .await
        .unwrap();
    assert_eq!(got.len(), 1, "only (run, loss) was logged: {got:?}");
    let s = &got[0];
    assert_eq!((s.count, s.min, s.max), (3, Some(2.0), Some(4.0)));
    assert_eq!(s.mean, Some(3.0));
    let err = store
        .metric_summaries(&[RunId::generate()], &keys)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn a_history_without_a_summary_row_is_summarised_from_its_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let store = runlore_store::open_data_dir(dir.path()).unwrap();
    let run = store.create_run(NewRun::default()).await.unwrap().id;
    log(
        store.as_ref(),
        &run,
        (0..5000).map(|s| point(s, s as f64)).collect(),
    )
    .await;
    // As if logged by a Runlore before the summaries table.
    let db = rusqlite::Connection::open(dir.path().join(runlore_store::SQLITE_FILE)).unwrap();
    db.execute("DELETE FROM metric_summaries", []).unwrap();
    let keys = vec!["loss".to_owned()];
    let got = store
        .metric_summaries(std::slice::from_ref(&run), &keys)
        .await
        .unwrap();
    assert_eq!(
        (got[0].count, got[0].min, got[0].max),
        (5000, Some(0.0), Some(4999.0))
    );
    // The next ingest stores the full summary, then adds to it.
    log(store.as_ref(), &run, vec![point(5000, -1.0)]).await;
    let rows: i64 = db
        .query_row("SELECT n FROM metric_summaries", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 5001);
    let got = store.metric_summaries(&[run], &keys).await.unwrap();
    assert_eq!(got[0].min, Some(-1.0));
    assert_eq!(got[0].mean, Some((4999.0 * 5000.0 / 2.0 - 1.0) / 5001.0));
}
