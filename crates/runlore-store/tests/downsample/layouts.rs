//! Layouts the random histories rarely make: a database from version 6
//! (overlapping chunks, no summaries), unusable summaries, a long history,
//! batches out of order, metrics logged without steps.

use super::*;

#[tokio::test]
async fn a_database_from_version_6_is_summarised_by_the_migration() {
    let dir = tempfile::tempdir().unwrap();
    let store = runlore_store::open_data_dir(dir.path()).unwrap();
    let run = mixed_history(&store).await;
    drop(store);
    // Version 6 topped up the newest chunk, so its databases hold chunks
    // whose step ranges overlap others; these are written directly.
    let conn = db(dir.path());
    let raw = |steps: Vec<i64>, stamp: i64, value: f64| -> Vec<HistoryPoint> {
        steps
            .into_iter()
            .map(|step| HistoryPoint {
                step,
                timestamp: step + stamp,
                value: MetricValue(value + (step % 13) as f64),
            })
            .collect()
    };
    insert_raw_chunk(&conn, &raw((100..2_100).collect(), 1, 0.5));
    insert_raw_chunk(
        &conn,
        &raw((0..50).map(|i| 5_000 + i * 800).collect(), 0, -3.0),
    );
    insert_raw_chunk(&conn, &raw((30_000..30_300).collect(), 0, 100.0));
    drop(conn);
    // What version 6 left: no summary table or max_step index, no record
    // of migration 7.
    db(dir.path())
        .execute_batch(
            "DROP TABLE metric_chunk_summaries;
             DROP INDEX metric_chunks_by_max_step;
             DELETE FROM schema_migrations WHERE version = 7;",
        )
        .unwrap();
    let store = runlore_store::open_data_dir(dir.path()).unwrap();
    let (chunks, summaries): (i64, i64) = db(dir.path())
        .query_row(
            "SELECT (SELECT count(*) FROM metric_chunks),
                    (SELECT count(*) FROM metric_chunk_summaries)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(chunks > 10);
    assert_eq!(chunks, summaries, "every chunk summarised");
    check_all(store.as_ref(), &run).await;
    // Ingest after the migration keeps them right.
    log(
        store.as_ref(),
        &run,
        points(&Batch {
            start: 20_000,
            len: 3_000,
            stride: 2,
            stamps: 2,
            values: 2,
            seed: 99,
            resend: false,
        }),
    )
    .await;
    check_all(store.as_ref(), &run).await;
}

/// Appends a chunk of `points` (sorted) to the only (run, key) there is,
/// bypassing ingest.
fn insert_raw_chunk(conn: &rusqlite::Connection, points: &[HistoryPoint]) {
    let data: Vec<u8> = points
        .iter()
        .flat_map(|p| {
            [p.step, p.timestamp]
                .map(i64::to_le_bytes)
                .into_iter()
                .chain([p.value.0.to_le_bytes()])
                .flatten()
        })
        .collect();
    conn.execute(
        "INSERT INTO metric_chunks (run_id, key_id, chunk_no, min_step, max_step, n, data)
         SELECT run_id, key_id, max(chunk_no) + 1, ?1, ?2, ?3, ?4 FROM metric_chunks",
        rusqlite::params![
            points.first().unwrap().step,
            points.last().unwrap().step,
            points.len() as i64,
            data
        ],
    )
    .unwrap();
}

#[tokio::test]
async fn chunks_without_usable_summaries_are_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let store = runlore_store::open_data_dir(dir.path()).unwrap();
    let run = mixed_history(&store).await;
    let conn = db(dir.path());
    // A missing summary, a summary of another version of its chunk, and a
    // legacy chunk whose points are not in order (reads sort those).
    conn.execute_batch(
        "DELETE FROM metric_chunk_summaries WHERE chunk_no % 3 = 0;
         UPDATE metric_chunk_summaries SET n = n - 1 WHERE chunk_no = 4;
         UPDATE metric_chunk_summaries SET summary = x'00' WHERE chunk_no = 5;",
    )
    .unwrap();
    let data: Vec<u8> = conn
        .query_row(
            "SELECT data FROM metric_chunks WHERE chunk_no = 3",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let mut rows: Vec<&[u8]> = data.chunks(24).collect();
    rows.reverse();
    conn.execute(
        "UPDATE metric_chunks SET data = ?1 WHERE chunk_no = 3",
        [rows.concat()],
    )
    .unwrap();
    check_all(store.as_ref(), &run).await;
}

#[tokio::test]
async fn a_long_in_order_history_reads_through_summaries() {
    let dir = tempfile::tempdir().unwrap();
    let store = runlore_store::open_data_dir(dir.path()).unwrap();
    let run = store.create_run(NewRun::default()).await.unwrap().id;
    let mut b = Batch {
        start: 0,
        len: 300_000,
        stride: 1,
        stamps: 0,
        values: 2,
        seed: 3,
        resend: false,
    };
    log(store.as_ref(), &run, points(&b)).await;
    b.resend = true; // a resend changes nothing
    log(store.as_ref(), &run, points(&b)).await;
    for (start, end) in [(None, None), (Some(1), Some(299_998)), (Some(77_777), None)] {
        for max in [2, 100, 1_000] {
            check(store.as_ref(), &run, start, end, max).await.unwrap();
        }
    }
    let empty = store
        .downsampled_history(
            &run,
            MetricRange {
                key: "never".into(),
                ..MetricRange::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!((empty.points.len(), empty.total), (0, 0));
    let err = store
        .downsampled_history(&RunId::generate(), MetricRange::default(), 10)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn batches_arriving_out_of_order_keep_chunks_disjoint() {
    // As with concurrent requests: batch 1 before batch 0 (batch 2 must
    // then top up batch 1's last chunk, which holds the highest steps, not
    // batch 0's, the newest), and batch 2 before batch 1 (batch 2 tops up
    // batch 0's last chunk across the gap; batch 1 then lands inside that
    // chunk's range and is merged with it).
    for order in [
        vec![1, 0, 2, 3],
        vec![0, 2, 1, 3],
        vec![0, 2, 1, 4, 3, 6, 5, 8, 7, 9],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let store = runlore_store::open_data_dir(dir.path()).unwrap();
        let run = store.create_run(NewRun::default()).await.unwrap().id;
        for b in &order {
            let batch = Batch {
                start: b * 10_000,
                len: 10_000,
                stride: 1,
                stamps: 0,
                values: 0,
                seed: 1,
                resend: false,
            };
            log(store.as_ref(), &run, points(&batch)).await;
        }
        let conn = db(dir.path());
        let mut stmt = conn
            .prepare("SELECT min_step, max_step FROM metric_chunks ORDER BY min_step")
            .unwrap();
        let ranges: Vec<(i64, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            ranges.windows(2).all(|w| w[0].1 < w[1].0),
            "order {order:?}: chunk step ranges overlap: {ranges:?}"
        );
        let full = store
            .metric_history(
                &run,
                MetricRange {
                    key: "m".into(),
                    ..MetricRange::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(full.len(), order.len() * 10_000);
        check_all(store.as_ref(), &run).await;
    }
}

#[tokio::test]
async fn points_without_steps_append_without_rewriting_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let store = runlore_store::open_data_dir(dir.path()).unwrap();
    let run = store.create_run(NewRun::default()).await.unwrap().id;
    // MLflow's `log_metric` without a step logs step 0: every batch then
    // touches the last chunk's step without landing inside it.
    for b in 0..300 {
        let metrics = (0..10)
            .map(|i| MetricPoint {
                key: "m".into(),
                value: MetricValue(((b * 10 + i) % 97) as f64),
                step: 0,
                timestamp: Some(b * 10 + i),
            })
            .collect();
        log(store.as_ref(), &run, metrics).await;
    }
    let chunks = |conn: &rusqlite::Connection| -> (i64, i64) {
        conn.query_row(
            "SELECT count(*), max(chunk_no) FROM metric_chunks",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    let conn = db(dir.path());
    assert_eq!(chunks(&conn), (2, 1), "3,000 points fill two chunks");
    check_all(store.as_ref(), &run).await;
    // A point older than the newest lands inside: merged, still in order.
    log(
        store.as_ref(),
        &run,
        vec![MetricPoint {
            key: "m".into(),
            value: MetricValue(-1.0),
            step: 0,
            timestamp: Some(5),
        }],
    )
    .await;
    assert_eq!(chunks(&conn).0, 2);
    check_all(store.as_ref(), &run).await;
}
