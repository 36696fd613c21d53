//! Logging (metrics, params, tags and components in one transaction) and
//! metric reads on PostgreSQL (the semantics of sqlite/metrics.rs). The
//! batches of one run are applied one at a time (the run's row is locked
//! for the transaction), so replicas logging to one run concurrently lose
//! and double nothing.

use std::collections::BTreeMap;

use deadpool_postgres::GenericClient;
use runlore_core::store::MetricRange;
use runlore_core::time::now_ms;
use runlore_core::*;

use super::{PostgresStore, chunks, pg_err, runs};
use crate::codec::{chunk, ingest};

/// A stored summary: count, sum, min and max of the finite values.
type Folded = (i64, f64, Option<f64>, Option<f64>);

/// The internal id of a metric key, made when missing (once, under races).
async fn metric_key_id(client: &impl GenericClient, key: &str) -> Result<i64> {
    // Looked up first: an insert that meets a conflict still uses an id.
    if let Some(id) = key_id_of(client, key).await? {
        return Ok(id);
    }
    client
        .execute(
            "INSERT INTO metric_keys (key) VALUES ($1) ON CONFLICT (key) DO NOTHING",
            &[&key],
        )
        .await
        .map_err(pg_err)?;
    Ok(client
        .query_one("SELECT id FROM metric_keys WHERE key = $1", &[&key])
        .await
        .map_err(pg_err)?
        .get(0))
}

/// The internal id of a metric key, `None` when no run ever logged it.
pub(crate) async fn key_id_of(client: &impl GenericClient, key: &str) -> Result<Option<i64>> {
    Ok(client
        .query_opt("SELECT id FROM metric_keys WHERE key = $1", &[&key])
        .await
        .map_err(pg_err)?
        .map(|r| r.get(0)))
}

async fn log_params(
    client: &impl GenericClient,
    run: i64,
    id: &RunId,
    params: &BTreeMap<String, String>,
) -> Result<u64> {
    if params.is_empty() {
        return Ok(0);
    }
    let keys: Vec<&str> = params.keys().map(String::as_str).collect();
    let stored: BTreeMap<String, String> = client
        .query(
            "SELECT key, value FROM params WHERE run_id = $1 AND key = ANY($2)",
            &[&run, &keys],
        )
        .await
        .map_err(pg_err)?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let (mut new_keys, mut new_values) = (Vec::new(), Vec::new());
    for (k, v) in params {
        match stored.get(k) {
            Some(old) if old == v => {}
            Some(old) => return Err(ingest::param_conflict(id, k, old, v)),
            None => {
                new_keys.push(k.as_str());
                new_values.push(v.as_str());
            }
        }
    }
    if !new_keys.is_empty() {
        client
            .execute(
                "INSERT INTO params (run_id, key, value)
                 SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS t(k, v)",
                &[&run, &new_keys, &new_values],
            )
            .await
            .map_err(pg_err)?;
    }
    Ok(new_keys.len() as u64)
}

async fn log_tags(
    client: &impl GenericClient,
    run: i64,
    tags: &BTreeMap<String, String>,
) -> Result<u64> {
    if tags.is_empty() {
        return Ok(0);
    }
    let (keys, values): (Vec<&str>, Vec<&str>) =
        tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).unzip();
    client
        .execute(
            "INSERT INTO tags (run_id, key, value)
             SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS t(k, v)
             ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
            &[&run, &keys, &values],
        )
        .await
        .map_err(pg_err)?;
    Ok(keys.len() as u64)
}

/// Stores the new points of one key; returns (written, duplicates skipped).
async fn store_points(
    client: &impl GenericClient,
    run: i64,
    key_id: i64,
    mut points: Vec<HistoryPoint>,
) -> Result<(u64, u64)> {
    let received = points.len() as u64;
    ingest::dedup(&mut points);
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return Ok((0, received));
    };
    let (min_step, max_step) = (first.step, last.step);
    let overlapping = chunks::overlapping(client, run, key_id, min_step, max_step).await?;
    ingest::drop_stored(
        &mut points,
        overlapping.iter().flat_map(|c| c.points.iter()),
    );
    let written = points.len() as u64;
    if points.is_empty() {
        return Ok((0, received));
    }
    update_latest(client, run, key_id, &points).await?;
    add_to_summary(client, run, key_id, &points).await?;
    chunks::place(client, run, key_id, overlapping, &points).await?;
    Ok((written, received - written))
}

async fn update_latest(
    client: &impl GenericClient,
    run: i64,
    key_id: i64,
    points: &[HistoryPoint],
) -> Result<()> {
    let Some(best) = ingest::latest_candidate(points) else {
        return Ok(());
    };
    let current = client
        .query_opt(
            "SELECT step, timestamp, value FROM latest_metrics WHERE run_id = $1 AND key_id = $2",
            &[&run, &key_id],
        )
        .await
        .map_err(pg_err)?
        .map(|r| (r.get(0), r.get(1), r.get(2)));
    if ingest::replaces_latest(best, current) {
        let v = best.value.0;
        client
            .execute(
                "INSERT INTO latest_metrics (run_id, key_id, value, is_nan, step, timestamp)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (run_id, key_id) DO UPDATE SET value = excluded.value,
                     is_nan = excluded.is_nan, step = excluded.step,
                     timestamp = excluded.timestamp",
                &[
                    &run,
                    &key_id,
                    &(!v.is_nan()).then_some(v),
                    &i16::from(v.is_nan()),
                    &best.step,
                    &best.timestamp,
                ],
            )
            .await
            .map_err(pg_err)?;
    }
    Ok(())
}

/// Adds new points to the (run, key) summary of finite values. Every
/// PostgreSQL history has had one from its first point (no database of
/// this backend predates the table).
async fn add_to_summary(
    client: &impl GenericClient,
    run: i64,
    key_id: i64,
    points: &[HistoryPoint],
) -> Result<()> {
    let (n, sum, min, max) = ingest::fold_finite(points);
    client
        .execute(
            "INSERT INTO metric_summaries (run_id, key_id, n, sum, min, max)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (run_id, key_id) DO UPDATE SET
                 n = metric_summaries.n + excluded.n,
                 sum = metric_summaries.sum + excluded.sum,
                 min = CASE WHEN metric_summaries.min IS NULL OR excluded.min < metric_summaries.min
                            THEN excluded.min ELSE metric_summaries.min END,
                 max = CASE WHEN metric_summaries.max IS NULL OR excluded.max > metric_summaries.max
                            THEN excluded.max ELSE metric_summaries.max END",
            &[&run, &key_id, &n, &sum, &min, &max],
        )
        .await
        .map_err(pg_err)?;
    Ok(())
}

impl PostgresStore {
    pub async fn log_batch(&self, id: &RunId, batch: LogBatch) -> Result<LogOutcome> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_err)?;
        let run = runs::lock_active(&tx, id).await?;
        let mut outcome = LogOutcome {
            params_written: log_params(&tx, run, id, &batch.params).await?,
            tags_written: log_tags(&tx, run, &batch.tags).await?,
            ..LogOutcome::default()
        };
        let now = now_ms();
        for c in &batch.components {
            tx.execute(
                "INSERT INTO components (run_id, name, status, reason, updated_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (run_id, name) DO UPDATE SET
                     status = excluded.status, reason = excluded.reason,
                     updated_at = excluded.updated_at",
                &[&run, &c.name, &c.status.as_str(), &c.reason, &now],
            )
            .await
            .map_err(pg_err)?;
            outcome.components_written += 1;
        }
        for (key, points) in ingest::by_key(batch.metrics, now) {
            let key_id = metric_key_id(&tx, &key).await?;
            let (written, duplicate) = store_points(&tx, run, key_id, points).await?;
            outcome.metrics_written += written;
            outcome.metrics_duplicate += duplicate;
        }
        if outcome != LogOutcome::default() {
            tx.execute(
                "UPDATE runs SET updated_at = $1 WHERE id = $2",
                &[&now, &run],
            )
            .await
            .map_err(pg_err)?;
        }
        tx.commit().await.map_err(pg_err)?;
        Ok(outcome)
    }

    pub async fn metric_history(
        &self,
        id: &RunId,
        range: MetricRange,
    ) -> Result<Vec<HistoryPoint>> {
        let client = self.client().await?;
        let run = runs::key_of(&client, id).await?;
        let Some(key_id) = key_id_of(&client, &range.key).await? else {
            return Ok(Vec::new());
        };
        let lo = range.start_step.unwrap_or(i64::MIN);
        let hi = range.end_step.unwrap_or(i64::MAX);
        let rows = client
            .query(
                "SELECT data FROM metric_chunks
                 WHERE run_id = $1 AND key_id = $2 AND max_step >= $3 AND min_step <= $4
                 ORDER BY min_step, chunk_no",
                &[&run, &key_id, &lo, &hi],
            )
            .await
            .map_err(pg_err)?;
        let total: usize = rows
            .iter()
            .map(|r| r.get::<_, &[u8]>(0).len() / chunk::POINT_BYTES)
            .sum();
        let mut points = Vec::with_capacity(total);
        for row in &rows {
            chunk::decode_into(row.get(0), &mut points)?;
        }
        if range.start_step.is_some() || range.end_step.is_some() {
            points.retain(|p| p.step >= lo && p.step <= hi);
        }
        if !points.is_sorted_by_key(|p| (p.step, p.timestamp)) {
            chunk::sort_points(&mut points);
        }
        Ok(points)
    }

    pub async fn metric_keys(&self, id: &RunId) -> Result<Vec<String>> {
        let client = self.client().await?;
        let run = runs::key_of(&client, id).await?;
        Ok(client
            .query(
                "SELECT mk.key FROM latest_metrics lm JOIN metric_keys mk ON mk.id = lm.key_id
                 WHERE lm.run_id = $1 ORDER BY mk.key",
                &[&run],
            )
            .await
            .map_err(pg_err)?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    /// Count, min, max and mean of each run's history of each key (runs
    /// that never logged a key are left out), in one query.
    pub async fn metric_summaries(
        &self,
        ids: &[RunId],
        keys: &[String],
    ) -> Result<Vec<MetricSummary>> {
        let client = self.client().await?;
        let mut run_keys = Vec::with_capacity(ids.len());
        for id in ids {
            run_keys.push(runs::key_of(&client, id).await?);
        }
        let rows = client
            .query(
                "SELECT s.run_id, mk.key, s.n, s.sum, s.min, s.max
                 FROM metric_summaries s JOIN metric_keys mk ON mk.id = s.key_id
                 WHERE s.run_id = ANY($1) AND mk.key = ANY($2)",
                &[&run_keys, &keys],
            )
            .await
            .map_err(pg_err)?;
        let mut found: BTreeMap<(i64, String), Folded> = rows
            .iter()
            .map(|r| {
                (
                    (r.get(0), r.get(1)),
                    (r.get(2), r.get(3), r.get(4), r.get(5)),
                )
            })
            .collect();
        // In the order asked: runs, then keys.
        let mut out = Vec::new();
        for (id, run) in ids.iter().zip(&run_keys) {
            for key in keys {
                if let Some((n, sum, min, max)) = found.remove(&(*run, key.clone())) {
                    out.push(MetricSummary {
                        run_id: id.clone(),
                        key: key.clone(),
                        count: u64::try_from(n).unwrap_or(0),
                        min,
                        max,
                        mean: (n > 0).then(|| sum / n as f64),
                    });
                }
            }
        }
        Ok(out)
    }
}
