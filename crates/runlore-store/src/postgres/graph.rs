//! The experiment graph on PostgreSQL (the semantics of sqlite/graph.rs).
//! So far: what a new run brings, its parent edges and its features (the
//! full tree, its diff against the primary parent, and the indexed leaves).

use deadpool_postgres::GenericClient;
use runlore_core::{Error, ParentLink, Result, graph};
use serde_json::{Value, json};

use super::pg_err;
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
