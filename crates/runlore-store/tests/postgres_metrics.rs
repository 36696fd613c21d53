#![allow(clippy::unwrap_used)] // test helpers panic on failure by design
//! Metrics on the throwaway PostgreSQL cluster, checked against SQLite: the
//! same batches (appends, late and scattered points, repeats, NaN and
//! infinities, a param conflict) give the same outcomes, histories, latest
//! values, summaries and chunk layout on both; replicas logging to one run
//! at once lose and double nothing.

#[allow(dead_code)] // each test binary uses part of it
mod pg_support;

use std::collections::BTreeMap;

use pg_support::FreshDb;
use runlore_core::store::MetricRange;
use runlore_core::*;
use runlore_store::PostgresStore;

fn point(key: &str, step: i64, ts: i64, value: f64) -> MetricPoint {
    MetricPoint {
        key: key.into(),
        value: MetricValue(value),
        step,
        timestamp: Some(ts),
    }
}

fn metrics(points: Vec<MetricPoint>) -> LogBatch {
    LogBatch {
        metrics: points,
        ..LogBatch::default()
    }
}

/// Batches that exercise every placement path: a first append, a top-up,
/// repeats within and across batches, a late batch merged into stored
/// chunks, NaN and infinities, points without a step, a long history.
fn batches() -> Vec<LogBatch> {
    let mut out = vec![
        LogBatch {
            params: BTreeMap::from([("lr".into(), "0.1".into())]),
            tags: BTreeMap::from([("stage".into(), "warmup".into())]),
            metrics: (0..3000)
                .map(|s| point("loss", s * 2, 1_000 + s, 1.0 / (s + 1) as f64))
                .collect(),
            ..LogBatch::default()
        },
        metrics(
            (3000..3100)
                .map(|s| point("loss", s * 2, 1_000 + s, 0.001))
                .collect(),
        ),
        // Repeats: within the batch and of stored points.
        metrics(vec![
            point("loss", 0, 1_000, 1.0),
            point("loss", 0, 1_000, 1.0),
        ]),
        // Late points between stored steps: merged.
        metrics(
            (0..50)
                .map(|s| point("loss", s * 2 + 1, 5_000 + s, 0.5))
                .collect(),
        ),
        metrics(vec![
            point("acc", 1, 10, f64::NAN),
            point("acc", 2, 11, f64::INFINITY),
            point("acc", 3, 12, f64::NEG_INFINITY),
            point("acc", 4, 13, 0.9),
            point("acc", 4, 13, 0.95),
        ]),
        LogBatch {
            params: BTreeMap::from([("lr".into(), "0.1".into()), ("bs".into(), "32".into())]),
            tags: BTreeMap::from([("stage".into(), "train".into())]),
            metrics: (0..10)
                .map(|i| point("gpu", 0, 100 + i, i as f64))
                .collect(),
            ..LogBatch::default()
        },
    ];
    // A history long enough for many chunks, logged in reverse blocks.
    for block in (0..5).rev() {
        out.push(metrics(
            (0..2500)
                .map(|i| {
                    point(
                        "long",
                        block * 2500 + i,
                        i,
                        ((block * 2500 + i) % 97) as f64,
                    )
                })
                .collect(),
        ));
    }
    out
}

fn same_history(a: &[HistoryPoint], b: &[HistoryPoint], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: point counts");
    for (x, y) in a.iter().zip(b) {
        assert_eq!((x.step, x.timestamp), (y.step, y.timestamp), "{what}");
        assert!(
            x.value.0.to_bits() == y.value.0.to_bits()
                || (x.value.0.is_nan() && y.value.0.is_nan()),
            "{what}: {x:?} vs {y:?}"
        );
    }
}

async fn pg_layout(db: &FreshDb, run: &RunId) -> Vec<(String, i64, i64, i64, i64, bool)> {
    db.client()
        .await
        .query(
            "SELECT k.key, c.chunk_no, c.min_step, c.max_step, c.n, s.summary IS NOT NULL
             FROM metric_chunks c JOIN metric_keys k ON k.id = c.key_id
             JOIN runs r ON r.id = c.run_id
             LEFT JOIN metric_chunk_summaries s
                    ON (s.run_id, s.key_id, s.chunk_no) = (c.run_id, c.key_id, c.chunk_no)
             WHERE r.uuid = $1 ORDER BY k.key, c.chunk_no",
            &[&run.as_str()],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect()
}

fn sqlite_layout(dir: &std::path::Path, run: &RunId) -> Vec<(String, i64, i64, i64, i64, bool)> {
    let conn = rusqlite::Connection::open(dir.join(runlore_store::SQLITE_FILE)).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT k.key, c.chunk_no, c.min_step, c.max_step, c.n, s.summary IS NOT NULL
             FROM metric_chunks c JOIN metric_keys k ON k.id = c.key_id
             JOIN runs r ON r.id = c.run_id
             LEFT JOIN metric_chunk_summaries s
                    ON s.run_id = c.run_id AND s.key_id = c.key_id AND s.chunk_no = c.chunk_no
             WHERE r.uuid = ?1 ORDER BY k.key, c.chunk_no",
        )
        .unwrap();
    stmt.query_map([run.as_str()], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

#[tokio::test]
async fn the_same_batches_give_the_same_results_as_sqlite() {
    let Some(db) = FreshDb::create("metrics").await else {
        return;
    };
    let pg = PostgresStore::connect(&db.url).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = runlore_store::open_data_dir(dir.path()).unwrap();
    let new = NewRun {
        project: "p".into(),
        experiment: Some("e".into()),
        name: Some("r".into()),
        ..NewRun::default()
    };
    let pg_run = pg.create_run(new.clone()).await.unwrap();
    let lite_run = sqlite.create_run(new).await.unwrap();
    for (i, batch) in batches().into_iter().enumerate() {
        let a = pg.log_batch(&pg_run.id, batch.clone()).await.unwrap();
        let b = sqlite.log_batch(&lite_run.id, batch).await.unwrap();
        assert_eq!(a, b, "outcome of batch {i}");
    }
    let conflict = LogBatch {
        params: BTreeMap::from([("lr".into(), "0.2".into())]),
        metrics: vec![point("loss", 99_999, 1, 9.0)],
        ..LogBatch::default()
    };
    let a = pg
        .log_batch(&pg_run.id, conflict.clone())
        .await
        .unwrap_err();
    let b = sqlite.log_batch(&lite_run.id, conflict).await.unwrap_err();
    assert_eq!(a.kind(), ErrorKind::Conflict);
    assert_eq!(
        a.message().replace(pg_run.id.as_str(), "RUN"),
        b.message().replace(lite_run.id.as_str(), "RUN")
    );

    let keys = pg.metric_keys(&pg_run.id).await.unwrap();
    assert_eq!(keys, sqlite.metric_keys(&lite_run.id).await.unwrap());
    assert_eq!(keys, ["acc", "gpu", "long", "loss"]);
    for key in &keys {
        for (start_step, end_step) in [(None, None), (Some(10), Some(4_000)), (Some(6_000), None)] {
            let range = MetricRange {
                key: key.clone(),
                start_step,
                end_step,
            };
            let a = pg.metric_history(&pg_run.id, range.clone()).await.unwrap();
            let b = sqlite.metric_history(&lite_run.id, range).await.unwrap();
            same_history(&a, &b, &format!("{key} {start_step:?}..{end_step:?}"));
        }
    }
    let loss = pg
        .metric_history(
            &pg_run.id,
            MetricRange {
                key: "loss".into(),
                ..MetricRange::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        loss.len(),
        3150,
        "99,999 was refused with the param conflict"
    );

    let a = pg.get_run(&pg_run.id).await.unwrap();
    let b = sqlite.get_run(&lite_run.id).await.unwrap();
    assert_eq!(a.params, b.params);
    assert_eq!(a.tags, b.tags);
    assert_eq!(a.tags["stage"], "train");
    assert_eq!(a.metrics.len(), b.metrics.len());
    for (x, y) in a.metrics.iter().zip(&b.metrics) {
        assert_eq!((&x.key, x.step, x.timestamp), (&y.key, y.step, y.timestamp));
        assert!(x.value.0 == y.value.0 || (x.value.0.is_nan() && y.value.0.is_nan()));
    }
    let acc = a.metrics.iter().find(|m| m.key == "acc").unwrap();
    assert_eq!(acc.value.0, 0.95, "the larger value wins a tie");

    let a = pg
        .metric_summaries(std::slice::from_ref(&pg_run.id), &keys)
        .await
        .unwrap();
    let b = sqlite
        .metric_summaries(std::slice::from_ref(&lite_run.id), &keys)
        .await
        .unwrap();
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            (&x.key, x.count, x.min, x.max),
            (&y.key, y.count, y.min, y.max)
        );
        let (mx, my) = (x.mean.unwrap_or(0.0), y.mean.unwrap_or(0.0));
        assert!(
            (mx - my).abs() <= 1e-12 * mx.abs().max(1.0),
            "{x:?} vs {y:?}"
        );
    }

    // One placement planner: the chunks are the same on both.
    assert_eq!(
        pg_layout(&db, &pg_run.id).await,
        sqlite_layout(dir.path(), &lite_run.id)
    );
    db.drop_db().await;
}

#[tokio::test]
async fn replicas_logging_to_one_run_at_once_lose_and_double_nothing() {
    let Some(db) = FreshDb::create("concurrent").await else {
        return;
    };
    let one = std::sync::Arc::new(PostgresStore::connect(&db.url).await.unwrap());
    let two = std::sync::Arc::new(PostgresStore::connect(&db.url).await.unwrap());
    let run = one
        .create_run(NewRun {
            project: "p".into(),
            ..NewRun::default()
        })
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for writer in 0..8i64 {
        let store = if writer % 2 == 0 {
            one.clone()
        } else {
            two.clone()
        };
        let id = run.id.clone();
        tasks.push(tokio::spawn(async move {
            for batch in 0..5i64 {
                // Interleaved steps, and every batch repeated once.
                let points: Vec<_> = (0..500)
                    .map(|i| point("x", (batch * 500 + i) * 8 + writer, writer, i as f64))
                    .collect();
                for _ in 0..2 {
                    store.log_batch(&id, metrics(points.clone())).await.unwrap();
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let history = two
        .metric_history(
            &run.id,
            MetricRange {
                key: "x".into(),
                ..MetricRange::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(history.len(), 8 * 5 * 500);
    let steps: Vec<i64> = history.iter().map(|p| p.step).collect();
    assert_eq!(steps, (0..8 * 5 * 500).collect::<Vec<_>>());
    let summary = one
        .metric_summaries(std::slice::from_ref(&run.id), &["x".into()])
        .await
        .unwrap();
    assert_eq!(summary[0].count, 20_000);
    db.drop_db().await;
}
