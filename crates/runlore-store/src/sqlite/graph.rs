//! Run edges and features (migration 0004).

use runlore_core::graph::{
    self, Direction, EdgeKind, Graph, GraphEdge, GraphNode, ParentChange, ParentLink, RunFeatures,
};
use runlore_core::time::now_ms;
use runlore_core::{Error, Result, RunId};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};

use super::{db_err, runs};

/// Writes the parents and features of a run being created (inside its
/// transaction). Parents must exist in the same project.
pub fn attach(
    conn: &Connection,
    run: i64,
    project_id: i64,
    parents: &[ParentLink],
    features: Option<&Value>,
) -> Result<()> {
    let primary = insert_edges(conn, run, project_id, parents)?;
    if let Some(features) = features {
        insert_features(conn, run, primary, features)?;
    }
    Ok(())
}

/// Replaces a run's parents after the fact. Refuses a parent that is the
/// run itself or one of its descendants (a cycle) or in another project.
/// The run's diff is recomputed against its new primary parent; its full
/// features (what was logged) and its descendants' stay as they are. The
/// change is recorded with who made it and when.
pub fn set_parents(
    conn: &mut Connection,
    id: &RunId,
    parents: &[ParentLink],
    changed_by: &str,
) -> Result<RunFeatures> {
    let tx = conn.transaction().map_err(db_err)?;
    let (run, project_id): (i64, i64) = tx
        .query_row(
            "SELECT id, project_id FROM runs WHERE uuid = ?1",
            [id.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| Error::not_found("run", id))?;
    let old = features(&tx, id)?.parents;
    for parent in parents {
        let descendant: bool = tx
            .query_row(
                "WITH RECURSIVE below(id) AS (
                     SELECT child_id FROM run_edges WHERE parent_id = ?1
                     UNION
                     SELECT e.child_id FROM run_edges e JOIN below b ON e.parent_id = b.id
                 )
                 SELECT EXISTS (SELECT 1 FROM below b JOIN runs r ON r.id = b.id
                                WHERE r.uuid = ?2)",
                params![run, parent.run_id.as_str()],
                |r| r.get(0),
            )
            .map_err(db_err)?;
        if descendant {
            return Err(Error::invalid(format!(
                "run {} descends from run {id}: making it a parent would close a cycle",
                parent.run_id
            )));
        }
    }
    tx.execute("DELETE FROM run_edges WHERE child_id = ?1", [run])
        .map_err(db_err)?;
    let primary = insert_edges(&tx, run, project_id, parents)?;
    if let Some(full) = stored_full(&tx, run)? {
        let diff = diff_from(&tx, primary, &full)?;
        tx.execute(
            "UPDATE run_features SET base_run_id = ?1, diff = ?2 WHERE run_id = ?3",
            params![primary, diff.to_string(), run],
        )
        .map_err(db_err)?;
    }
    let encode = |links: &[ParentLink]| serde_json::to_string(links).unwrap_or_default();
    tx.execute(
        "INSERT INTO run_parent_changes (run_id, old_parents, new_parents, changed_by, changed_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![run, encode(&old), encode(parents), changed_by, now_ms()],
    )
    .map_err(db_err)?;
    let result = features(&tx, id)?;
    tx.commit().map_err(db_err)?;
    Ok(result)
}

pub fn parent_changes(conn: &Connection, id: &RunId) -> Result<Vec<ParentChange>> {
    let run = runs::key_of(conn, id)?;
    let mut stmt = conn
        .prepare_cached(
            "SELECT old_parents, new_parents, changed_by, changed_at
             FROM run_parent_changes WHERE run_id = ?1 ORDER BY id",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([run], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .map_err(db_err)?;
    let decode = |text: &str| -> Result<Vec<ParentLink>> {
        serde_json::from_str(text)
            .map_err(|e| Error::internal(format!("stored parent change is not valid JSON: {e}")))
    };
    let mut changes = Vec::new();
    for row in rows {
        let (old, new, changed_by, changed_at) = row.map_err(db_err)?;
        changes.push(ParentChange {
            old_parents: decode(&old)?,
            new_parents: decode(&new)?,
            changed_by,
            changed_at,
        });
    }
    Ok(changes)
}

/// Inserts a run's parent edges in order; returns the primary parent's key.
fn insert_edges(
    conn: &Connection,
    run: i64,
    project_id: i64,
    parents: &[ParentLink],
) -> Result<Option<i64>> {
    let now = now_ms();
    let mut primary = None;
    for (position, parent) in parents.iter().enumerate() {
        let (key, parent_project): (i64, i64) = conn
            .query_row(
                "SELECT id, project_id FROM runs WHERE uuid = ?1",
                [parent.run_id.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db_err)?
            .ok_or_else(|| Error::not_found("parent run", &parent.run_id))?;
        if parent_project != project_id {
            return Err(Error::invalid(format!(
                "parent run {} is in another project; edges stay inside one project",
                parent.run_id
            )));
        }
        conn.execute(
            "INSERT INTO run_edges (child_id, parent_id, kind, resume_step, position, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                run,
                key,
                parent.kind.as_str(),
                parent.resume_step,
                position as i64,
                now
            ],
        )
        .map_err(db_err)?;
        if position == 0 {
            primary = Some(key);
        }
    }
    Ok(primary)
}

/// A run's stored full features, if it has any.
fn stored_full(conn: &Connection, run: i64) -> Result<Option<Value>> {
    let text: Option<String> = conn
        .query_row(
            "SELECT full FROM run_features WHERE run_id = ?1",
            [run],
            |r| r.get(0),
        )
        .optional()
        .map_err(db_err)?;
    text.map(|t| {
        serde_json::from_str(&t)
            .map_err(|e| Error::internal(format!("stored features are not JSON: {e}")))
    })
    .transpose()
}

/// A run's full features (`{}` when it has none).
fn full_of(conn: &Connection, run: i64) -> Result<Value> {
    Ok(stored_full(conn, run)?.unwrap_or_else(|| json!({})))
}

/// The diff of `features` against the primary parent's (`{}` without one).
fn diff_from(conn: &Connection, primary: Option<i64>, features: &Value) -> Result<Value> {
    let base = match primary {
        Some(key) => full_of(conn, key)?,
        None => json!({}),
    };
    Ok(graph::diff(&base, features))
}

fn insert_features(
    conn: &Connection,
    run: i64,
    primary: Option<i64>,
    features: &Value,
) -> Result<()> {
    let diff = diff_from(conn, primary, features)?;
    conn.execute(
        "INSERT INTO run_features (run_id, base_run_id, diff, full) VALUES (?1, ?2, ?3, ?4)",
        params![run, primary, diff.to_string(), features.to_string()],
    )
    .map_err(db_err)?;
    // Each leaf, for `features.<path>` filters and orders (migration 0008
    // has the layout).
    conn.execute(
        "INSERT INTO feature_values (run_id, path, value)
         SELECT ?1, t.fullkey,
                CASE t.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE t.atom END
         FROM json_tree(?2) t
         WHERE t.type IN ('integer', 'real', 'text', 'true', 'false')",
        params![run, features.to_string()],
    )
    .map_err(db_err)?;
    Ok(())
}

pub fn features(conn: &Connection, id: &RunId) -> Result<RunFeatures> {
    let run = runs::key_of(conn, id)?;
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT diff, full FROM run_features WHERE run_id = ?1",
            [run],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db_err)?;
    let parse = |text: &str| {
        serde_json::from_str::<Value>(text)
            .map_err(|e| Error::internal(format!("stored features are not JSON: {e}")))
    };
    let (diff, full) = match row {
        Some((diff, full)) => (parse(&diff)?, parse(&full)?),
        None => (json!([]), json!({})),
    };
    let mut stmt = conn
        .prepare_cached(
            "SELECT p.uuid, e.kind, e.resume_step FROM run_edges e
             JOIN runs p ON p.id = e.parent_id WHERE e.child_id = ?1 ORDER BY e.position",
        )
        .map_err(db_err)?;
    let mut rows = stmt.query([run]).map_err(db_err)?;
    let mut parents = Vec::new();
    while let Some(row) = rows.next().map_err(db_err)? {
        let uuid: String = row.get(0).map_err(db_err)?;
        let kind: String = row.get(1).map_err(db_err)?;
        parents.push(ParentLink {
            run_id: RunId::parse(&uuid)?,
            kind: EdgeKind::parse(&kind)?,
            resume_step: row.get(2).map_err(db_err)?,
        });
    }
    Ok(RunFeatures {
        full,
        diff,
        parents,
        root: root_of(conn, run)?,
    })
}

pub fn feature_trees(conn: &Connection, ids: &[RunId]) -> Result<Vec<(RunId, Value)>> {
    let list = Value::Array(ids.iter().map(|i| Value::String(i.to_string())).collect());
    let mut stmt = conn
        .prepare_cached(
            "SELECT r.uuid, f.full FROM runs r LEFT JOIN run_features f ON f.run_id = r.id
             WHERE r.uuid IN (SELECT value FROM json_each(?1))",
        )
        .map_err(db_err)?;
    let mut found = std::collections::HashMap::new();
    let mut rows = stmt.query([list.to_string()]).map_err(db_err)?;
    while let Some(row) = rows.next().map_err(db_err)? {
        let uuid: String = row.get(0).map_err(db_err)?;
        let full: Option<String> = row.get(1).map_err(db_err)?;
        let tree = match full {
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| Error::internal(format!("stored features are not JSON: {e}")))?,
            None => json!({}),
        };
        found.insert(uuid, tree);
    }
    ids.iter()
        .map(|id| match found.remove(id.as_str()) {
            Some(tree) => Ok((id.clone(), tree)),
            None => Err(Error::not_found("run", id)),
        })
        .collect()
}

/// The run reached by following first `derived_from` parents upwards.
/// Edges cannot form cycles, and the walk is bounded by the deepest
/// lineage the graph allows anyway.
fn root_of(conn: &Connection, run: i64) -> Result<RunId> {
    let uuid: String = conn
        .prepare_cached(
            "WITH RECURSIVE up(id, depth) AS (
                 SELECT ?1, 0
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
        )
        .map_err(db_err)?
        .query_row([run], |r| r.get(0))
        .map_err(db_err)?;
    RunId::parse(&uuid)
}

/// Nodes for the runs whose internal keys are listed in `keys_sql` (a
/// query returning `id`), with their latest metrics; keyed by internal id.
fn nodes(
    conn: &Connection,
    keys_sql: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<std::collections::BTreeMap<i64, GraphNode>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stmt = conn
        .prepare(&format!(
            "SELECT r.id, r.uuid, r.name, r.status FROM runs r WHERE r.id IN ({keys_sql})"
        ))
        .map_err(db_err)?;
    let mut rows = stmt.query(args).map_err(db_err)?;
    while let Some(row) = rows.next().map_err(db_err)? {
        let uuid: String = row.get(1).map_err(db_err)?;
        let status: String = row.get(3).map_err(db_err)?;
        out.insert(
            row.get::<_, i64>(0).map_err(db_err)?,
            GraphNode {
                id: RunId::parse(&uuid)?,
                name: row.get(2).map_err(db_err)?,
                status: status.parse()?,
                metrics: std::collections::BTreeMap::new(),
                depth: None,
            },
        );
    }
    let mut stmt = conn
        .prepare(&format!(
            "SELECT lm.run_id, mk.key, lm.value, lm.is_nan
             FROM latest_metrics lm JOIN metric_keys mk ON mk.id = lm.key_id
             WHERE lm.run_id IN ({keys_sql})"
        ))
        .map_err(db_err)?;
    let mut rows = stmt.query(args).map_err(db_err)?;
    while let Some(row) = rows.next().map_err(db_err)? {
        let key: i64 = row.get(0).map_err(db_err)?;
        let value: Option<f64> = row.get(2).map_err(db_err)?;
        let is_nan: bool = row.get(3).map_err(db_err)?;
        if let Some(node) = out.get_mut(&key) {
            let value = if is_nan {
                f64::NAN
            } else {
                value.unwrap_or(f64::NAN)
            };
            node.metrics.insert(
                row.get(1).map_err(db_err)?,
                runlore_core::MetricValue(value),
            );
        }
    }
    Ok(out)
}

/// The edges whose both ends are among `nodes`.
fn edges_among(
    conn: &Connection,
    keys_sql: &str,
    args: &[&dyn rusqlite::ToSql],
    nodes: &std::collections::BTreeMap<i64, GraphNode>,
) -> Result<Vec<GraphEdge>> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT parent_id, child_id, kind, resume_step, position FROM run_edges
             WHERE child_id IN ({keys_sql}) ORDER BY child_id, position"
        ))
        .map_err(db_err)?;
    let mut rows = stmt.query(args).map_err(db_err)?;
    let mut edges = Vec::new();
    while let Some(row) = rows.next().map_err(db_err)? {
        let parent: i64 = row.get(0).map_err(db_err)?;
        let child: i64 = row.get(1).map_err(db_err)?;
        let (Some(p), Some(c)) = (nodes.get(&parent), nodes.get(&child)) else {
            continue;
        };
        let kind: String = row.get(2).map_err(db_err)?;
        edges.push(GraphEdge {
            parent: p.id.clone(),
            child: c.id.clone(),
            kind: EdgeKind::parse(&kind)?,
            resume_step: row.get(3).map_err(db_err)?,
            position: row.get(4).map_err(db_err)?,
        });
    }
    Ok(edges)
}

pub fn project_graph(conn: &Connection, project: &str) -> Result<Graph> {
    let project_id = super::projects::id_of(conn, project)?
        .ok_or_else(|| Error::not_found("project", project))?;
    let keys = "SELECT id FROM runs WHERE project_id = ?1 AND lifecycle <> 'deleted'";
    let nodes = nodes(conn, keys, &[&project_id])?;
    let edges = edges_among(conn, keys, &[&project_id], &nodes)?;
    Ok(Graph {
        nodes: nodes.into_values().collect(),
        edges,
    })
}

pub fn lineage(conn: &Connection, id: &RunId, direction: Direction, depth: u32) -> Result<Graph> {
    let run = runs::key_of(conn, id)?;
    let depth = depth.min(graph::MAX_DEPTH);
    let (from, to) = match direction {
        Direction::Up => ("e.parent_id", "e.child_id"),
        Direction::Down => ("e.child_id", "e.parent_id"),
    };
    // Generations reached, nearest first (a run reachable two ways keeps
    // its smallest depth).
    let walk = format!(
        "WITH RECURSIVE walk(id, depth) AS (
             SELECT ?1, 0
             UNION
             SELECT {from}, w.depth + 1 FROM run_edges e JOIN walk w ON {to} = w.id
             WHERE w.depth < ?2
         )
         SELECT id, MIN(depth) FROM walk GROUP BY id"
    );
    let mut depths = std::collections::BTreeMap::new();
    {
        let mut stmt = conn.prepare(&walk).map_err(db_err)?;
        let mut rows = stmt.query(params![run, depth]).map_err(db_err)?;
        while let Some(row) = rows.next().map_err(db_err)? {
            depths.insert(
                row.get::<_, i64>(0).map_err(db_err)?,
                row.get::<_, u32>(1).map_err(db_err)?,
            );
        }
    }
    let keys = depths
        .keys()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let mut nodes = nodes(conn, &keys, &[])?;
    for (key, node) in nodes.iter_mut() {
        node.depth = depths.get(key).copied();
    }
    let edges = edges_among(conn, &keys, &[], &nodes)?;
    let mut nodes: Vec<GraphNode> = nodes.into_values().collect();
    nodes.sort_by_key(|n| n.depth);
    Ok(Graph { nodes, edges })
}

/// Gives a run its features after creation (the MLflow API logs them as a
/// param). Like params they are written once: the same tree again is fine,
/// a different one is a conflict.
pub fn set_features(conn: &mut Connection, id: &RunId, features: &Value) -> Result<RunFeatures> {
    let tx = conn.transaction().map_err(db_err)?;
    let run = runs::key_of(&tx, id)?;
    match stored_full(&tx, run)? {
        Some(stored) if &stored != features => {
            return Err(Error::conflict(format!(
                "run {id} already has features, and features cannot change once logged"
            )));
        }
        Some(_) => {}
        None => {
            let primary: Option<i64> = tx
                .query_row(
                    "SELECT parent_id FROM run_edges WHERE child_id = ?1 AND position = 0",
                    [run],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db_err)?;
            insert_features(&tx, run, primary, features)?;
        }
    }
    let result = self::features(&tx, id)?;
    tx.commit().map_err(db_err)?;
    Ok(result)
}
