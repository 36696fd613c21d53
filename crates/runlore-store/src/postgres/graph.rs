//! The experiment graph on PostgreSQL (the semantics of sqlite/graph.rs):
//! parent edges, features (the full tree, its diff against the primary
//! parent, the indexed leaves), re-parenting and its record. The graph
//! views (lineage, project graph) are in `graph_views.rs`.

use std::collections::HashMap;

use deadpool_postgres::GenericClient;
use runlore_core::time::now_ms;
use runlore_core::{EdgeKind, Error, ParentChange, ParentLink, Result, RunFeatures, RunId, graph};
use serde_json::{Value, json};

use super::{PostgresStore, pg_err, runs};
use crate::codec::feature_leaves::{Leaf, leaves};

/// Records a new run's parents and features, in the creating transaction.
pub(crate) async fn attach(
    client: &impl GenericClient,
    run: i64,
    project_id: i64,
    parents: &[ParentLink],
    features: Option<&Value>,
) -> Result<()> {
    let primary = insert_edges(client, run, project_id, parents).await?;
    if let Some(features) = features {
        insert_features(client, run, primary, features).await?;
    }
    Ok(())
}

/// Inserts a run's parent edges in order; returns the primary parent's key.
async fn insert_edges(
    client: &impl GenericClient,
    run: i64,
    project_id: i64,
    parents: &[ParentLink],
) -> Result<Option<i64>> {
    let now = runlore_core::time::now_ms();
    let mut primary = None;
    for (position, parent) in parents.iter().enumerate() {
        let row = client
            .query_opt(
                "SELECT id, project_id FROM runs WHERE uuid = $1",
                &[&parent.run_id.as_str()],
            )
            .await
            .map_err(pg_err)?
            .ok_or_else(|| Error::not_found("parent run", &parent.run_id))?;
        let (key, parent_project): (i64, i64) = (row.get(0), row.get(1));
        if parent_project != project_id {
            return Err(Error::invalid(format!(
                "parent run {} is in another project; edges stay inside one project",
                parent.run_id
            )));
        }
        client
            .execute(
                "INSERT INTO run_edges (child_id, parent_id, kind, resume_step, position, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &run,
                    &key,
                    &parent.kind.as_str(),
                    &parent.resume_step,
                    &(position as i64),
                    &now,
                ],
            )
            .await
            .map_err(pg_err)?;
        if position == 0 {
            primary = Some(key);
        }
    }
    Ok(primary)
}

/// A run's stored full features, if it has any.
async fn stored_full(client: &impl GenericClient, run: i64) -> Result<Option<Value>> {
    let row = client
        .query_opt(
            r#"SELECT "full" FROM run_features WHERE run_id = $1"#,
            &[&run],
        )
        .await
        .map_err(pg_err)?;
    row.map(|r| {
        serde_json::from_str(r.get(0))
            .map_err(|e| Error::internal(format!("stored features are not JSON: {e}")))
    })
    .transpose()
}

async fn insert_features(
    client: &impl GenericClient,
    run: i64,
    primary: Option<i64>,
    features: &Value,
) -> Result<()> {
    let base = match primary {
        Some(key) => stored_full(client, key).await?.unwrap_or_else(|| json!({})),
        None => json!({}),
    };
    let diff = graph::diff(&base, features);
    client
        .execute(
            r#"INSERT INTO run_features (run_id, base_run_id, diff, "full") VALUES ($1, $2, $3, $4)"#,
            &[&run, &primary, &diff.to_string(), &features.to_string()],
        )
        .await
        .map_err(pg_err)?;
    insert_leaves(client, run, features).await
}

/// Each leaf, for `features.<path>` filters and orders, in one statement:
/// numbers travel as text and become NUMERIC exactly as written.
async fn insert_leaves(client: &impl GenericClient, run: i64, features: &Value) -> Result<()> {
    let leaves = leaves(features);
    if leaves.is_empty() {
        return Ok(());
    }
    let mut paths = Vec::with_capacity(leaves.len());
    let mut kinds: Vec<i16> = Vec::with_capacity(leaves.len());
    let mut values = Vec::with_capacity(leaves.len());
    for (path, leaf) in leaves {
        paths.push(path);
        match leaf {
            Leaf::Number(n) => {
                kinds.push(0);
                values.push(n.to_string());
            }
            Leaf::Text(t) => {
                kinds.push(1);
                values.push(t);
            }
        }
    }
    client
        .execute(
            "INSERT INTO feature_values (run_id, path, kind, num, txt)
             SELECT $1, p, k, CASE WHEN k = 0 THEN v::numeric END, CASE WHEN k = 1 THEN v END
             FROM unnest($2::text[], $3::smallint[], $4::text[]) AS t(p, k, v)",
            &[&run, &paths, &kinds, &values],
        )
        .await
        .map_err(pg_err)?;
    Ok(())
}

/// A run's features, diff, parents and root.
pub(crate) async fn features(client: &impl GenericClient, id: &RunId) -> Result<RunFeatures> {
    let run = runs::key_of(client, id).await?;
    let row = client
        .query_opt(
            r#"SELECT diff, "full" FROM run_features WHERE run_id = $1"#,
            &[&run],
        )
        .await
        .map_err(pg_err)?;
    let parse = |text: &str| {
        serde_json::from_str::<Value>(text)
            .map_err(|e| Error::internal(format!("stored features are not JSON: {e}")))
    };
    let (diff, full) = match row {
        Some(row) => (parse(row.get(0))?, parse(row.get(1))?),
        None => (json!([]), json!({})),
    };
    let rows = client
        .query(
            "SELECT p.uuid, e.kind, e.resume_step FROM run_edges e
             JOIN runs p ON p.id = e.parent_id WHERE e.child_id = $1 ORDER BY e.position",
            &[&run],
        )
        .await
        .map_err(pg_err)?;
    let mut parents = Vec::with_capacity(rows.len());
    for row in rows {
        parents.push(ParentLink {
            run_id: RunId::parse(row.get(0))?,
            kind: EdgeKind::parse(row.get(1))?,
            resume_step: row.get(2),
        });
    }
    Ok(RunFeatures {
        full,
        diff,
        parents,
        root: root_of(client, run).await?,
    })
}

/// The run reached by following first `derived_from` parents upwards
/// (edges form no cycles; the walk is bounded all the same).
async fn root_of(client: &impl GenericClient, run: i64) -> Result<RunId> {
    let row = client
        .query_one(
            "WITH RECURSIVE up(id, depth) AS (
                 SELECT $1::bigint, 0
                 UNION ALL
                 SELECT (SELECT e.parent_id FROM run_edges e
                         WHERE e.child_id = up.id AND e.kind = 'derived_from'
                         ORDER BY e.position LIMIT 1), up.depth + 1
                 FROM up
                 WHERE up.depth < 1000000 AND EXISTS (
                     SELECT 1 FROM run_edges e
                     WHERE e.child_id = up.id AND e.kind = 'derived_from')
             )
             SELECT r.uuid FROM up JOIN runs r ON r.id = up.id
             ORDER BY up.depth DESC LIMIT 1",
            &[&run],
        )
        .await
        .map_err(pg_err)?;
    RunId::parse(row.get(0))
}

/// The lock that serialises re-parenting within a project, so two replicas
/// re-parenting at once cannot close a cycle neither saw (its high byte
/// keeps it apart from the migration lock).
fn edges_lock(project_id: i64) -> i64 {
    (0x45_i64 << 56) | (project_id & 0x00FF_FFFF_FFFF_FFFF)
}

impl PostgresStore {
    pub async fn run_features(&self, id: &RunId) -> Result<RunFeatures> {
        features(&self.client().await?, id).await
    }

    pub async fn feature_trees(&self, ids: &[RunId]) -> Result<Vec<(RunId, Value)>> {
        let client = self.client().await?;
        let uuids: Vec<&str> = ids.iter().map(RunId::as_str).collect();
        let rows = client
            .query(
                r#"SELECT r.uuid, f."full" FROM runs r LEFT JOIN run_features f ON f.run_id = r.id
                   WHERE r.uuid = ANY($1)"#,
                &[&uuids],
            )
            .await
            .map_err(pg_err)?;
        let mut found = HashMap::with_capacity(rows.len());
        for row in rows {
            let full: Option<&str> = row.get(1);
            let tree = match full {
                Some(text) => serde_json::from_str(text)
                    .map_err(|e| Error::internal(format!("stored features are not JSON: {e}")))?,
                None => json!({}),
            };
            found.insert(row.get::<_, String>(0), tree);
        }
        ids.iter()
            .map(|id| match found.remove(id.as_str()) {
                Some(tree) => Ok((id.clone(), tree)),
                None => Err(Error::not_found("run", id)),
            })
            .collect()
    }

    pub async fn parent_changes(&self, id: &RunId) -> Result<Vec<ParentChange>> {
        let client = self.client().await?;
        let run = runs::key_of(&client, id).await?;
        let rows = client
            .query(
                "SELECT old_parents, new_parents, changed_by, changed_at
                 FROM run_parent_changes WHERE run_id = $1 ORDER BY id",
                &[&run],
            )
            .await
            .map_err(pg_err)?;
        let decode = |text: &str| -> Result<Vec<ParentLink>> {
            serde_json::from_str(text).map_err(|e| {
                Error::internal(format!("stored parent change is not valid JSON: {e}"))
            })
        };
        rows.iter()
            .map(|row| {
                Ok(ParentChange {
                    old_parents: decode(row.get(0))?,
                    new_parents: decode(row.get(1))?,
                    changed_by: row.get(2),
                    changed_at: row.get(3),
                })
            })
            .collect()
    }

    /// Replaces a run's parents (cycles and other projects refused); the
    /// diff is recomputed against the new primary parent and the change
    /// recorded.
    pub async fn set_run_parents(
        &self,
        id: &RunId,
        parents: Vec<ParentLink>,
        changed_by: &str,
    ) -> Result<RunFeatures> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_err)?;
        let row = tx
            .query_opt(
                "SELECT id, project_id FROM runs WHERE uuid = $1",
                &[&id.as_str()],
            )
            .await
            .map_err(pg_err)?
            .ok_or_else(|| Error::not_found("run", id))?;
        let (run, project_id): (i64, i64) = (row.get(0), row.get(1));
        tx.execute(
            "SELECT pg_advisory_xact_lock($1)",
            &[&edges_lock(project_id)],
        )
        .await
        .map_err(pg_err)?;
        let old = features(&tx, id).await?.parents;
        for parent in &parents {
            let descendant: bool = tx
                .query_one(
                    "WITH RECURSIVE below(id) AS (
                         SELECT child_id FROM run_edges WHERE parent_id = $1
                         UNION
                         SELECT e.child_id FROM run_edges e JOIN below b ON e.parent_id = b.id
                     )
                     SELECT EXISTS (SELECT 1 FROM below b JOIN runs r ON r.id = b.id
                                    WHERE r.uuid = $2)",
                    &[&run, &parent.run_id.as_str()],
                )
                .await
                .map_err(pg_err)?
                .get(0);
            if descendant {
                return Err(Error::invalid(format!(
                    "run {} descends from run {id}: making it a parent would close a cycle",
                    parent.run_id
                )));
            }
        }
        tx.execute("DELETE FROM run_edges WHERE child_id = $1", &[&run])
            .await
            .map_err(pg_err)?;
        let primary = insert_edges(&tx, run, project_id, &parents).await?;
        if let Some(full) = stored_full(&tx, run).await? {
            let base = match primary {
                Some(key) => stored_full(&tx, key).await?.unwrap_or_else(|| json!({})),
                None => json!({}),
            };
            tx.execute(
                "UPDATE run_features SET base_run_id = $1, diff = $2 WHERE run_id = $3",
                &[&primary, &graph::diff(&base, &full).to_string(), &run],
            )
            .await
            .map_err(pg_err)?;
        }
        let encode = |links: &[ParentLink]| serde_json::to_string(links).unwrap_or_default();
        tx.execute(
            "INSERT INTO run_parent_changes (run_id, old_parents, new_parents, changed_by, changed_at)
             VALUES ($1, $2, $3, $4, $5)",
            &[&run, &encode(&old), &encode(&parents), &changed_by, &now_ms()],
        )
        .await
        .map_err(pg_err)?;
        let result = features(&tx, id).await?;
        tx.commit().await.map_err(pg_err)?;
        Ok(result)
    }

    /// Gives a run features after creation; the same tree again is fine, a
    /// different one is a conflict.
    pub async fn set_run_features(&self, id: &RunId, features_tree: Value) -> Result<RunFeatures> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_err)?;
        let run = runs::key_of_locked(&tx, id).await?;
        match stored_full(&tx, run).await? {
            Some(stored) if stored != features_tree => {
                return Err(Error::conflict(format!(
                    "run {id} already has features, and features cannot change once logged"
                )));
            }
            Some(_) => {}
            None => {
                let primary: Option<i64> = tx
                    .query_opt(
                        "SELECT parent_id FROM run_edges WHERE child_id = $1 AND position = 0",
                        &[&run],
                    )
                    .await
                    .map_err(pg_err)?
                    .map(|r| r.get(0));
                insert_features(&tx, run, primary, &features_tree).await?;
            }
        }
        let result = features(&tx, id).await?;
        tx.commit().await.map_err(pg_err)?;
        Ok(result)
    }
}
