//! What the graph view draws, on PostgreSQL (the semantics of the views in
//! sqlite/graph.rs): a project's runs and edges, and a run's ancestry or
//! descendants to a depth.

use std::collections::BTreeMap;

use deadpool_postgres::GenericClient;
use runlore_core::graph::{self, Direction, Graph, GraphEdge, GraphNode};
use runlore_core::{EdgeKind, Error, MetricValue, Result, RunId};

use super::{PostgresStore, pg_err, runs};

/// Nodes for the runs with these internal keys, with their latest metrics;
/// keyed by internal id.
async fn nodes(client: &impl GenericClient, keys: &[i64]) -> Result<BTreeMap<i64, GraphNode>> {
    let mut out = BTreeMap::new();
    let rows = client
        .query(
            "SELECT id, uuid, name, status FROM runs WHERE id = ANY($1)",
            &[&keys],
        )
        .await
        .map_err(pg_err)?;
    for row in rows {
        let status: &str = row.get(3);
        out.insert(
            row.get::<_, i64>(0),
            GraphNode {
                id: RunId::parse(row.get(1))?,
                name: row.get(2),
                status: status.parse()?,
                metrics: BTreeMap::new(),
                depth: None,
            },
        );
    }
    let rows = client
        .query(
            "SELECT lm.run_id, mk.key, lm.value, lm.is_nan
             FROM latest_metrics lm JOIN metric_keys mk ON mk.id = lm.key_id
             WHERE lm.run_id = ANY($1)",
            &[&keys],
        )
        .await
        .map_err(pg_err)?;
    for row in rows {
        if let Some(node) = out.get_mut(&row.get::<_, i64>(0)) {
            let value: Option<f64> = row.get(2);
            let is_nan: i16 = row.get(3);
            let value = if is_nan != 0 {
                f64::NAN
            } else {
                value.unwrap_or(f64::NAN)
            };
            node.metrics.insert(row.get(1), MetricValue(value));
        }
    }
    Ok(out)
}

/// The edges whose both ends are among `nodes`.
async fn edges_among(
    client: &impl GenericClient,
    keys: &[i64],
    nodes: &BTreeMap<i64, GraphNode>,
) -> Result<Vec<GraphEdge>> {
    let rows = client
        .query(
            "SELECT parent_id, child_id, kind, resume_step, position FROM run_edges
             WHERE child_id = ANY($1) ORDER BY child_id, position",
            &[&keys],
        )
        .await
        .map_err(pg_err)?;
    let mut edges = Vec::new();
    for row in rows {
        let (Some(p), Some(c)) = (
            nodes.get(&row.get::<_, i64>(0)),
            nodes.get(&row.get::<_, i64>(1)),
        ) else {
            continue;
        };
        let position: i64 = row.get(4);
        edges.push(GraphEdge {
            parent: p.id.clone(),
            child: c.id.clone(),
            kind: EdgeKind::parse(row.get(2))?,
            resume_step: row.get(3),
            position: u32::try_from(position)
                .map_err(|_| Error::internal(format!("edge position {position} out of range")))?,
        });
    }
    Ok(edges)
}

impl PostgresStore {
    pub async fn project_graph(&self, project: &str) -> Result<Graph> {
        let client = self.client().await?;
        let project_id: i64 = client
            .query_opt("SELECT id FROM projects WHERE name = $1", &[&project])
            .await
            .map_err(pg_err)?
            .ok_or_else(|| Error::not_found("project", project))?
            .get(0);
        let keys: Vec<i64> = client
            .query(
                "SELECT id FROM runs WHERE project_id = $1 AND lifecycle <> 'deleted'",
                &[&project_id],
            )
            .await
            .map_err(pg_err)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let nodes = nodes(&client, &keys).await?;
        let edges = edges_among(&client, &keys, &nodes).await?;
        Ok(Graph {
            nodes: nodes.into_values().collect(),
            edges,
        })
    }

    pub async fn run_lineage(&self, id: &RunId, direction: Direction, depth: u32) -> Result<Graph> {
        let client = self.client().await?;
        let run = runs::key_of(&client, id).await?;
        let depth = i64::from(depth.min(graph::MAX_DEPTH));
        let (from, to) = match direction {
            Direction::Up => ("e.parent_id", "e.child_id"),
            Direction::Down => ("e.child_id", "e.parent_id"),
        };
        // Generations reached, nearest first (a run reachable two ways
        // keeps its smallest depth).
        let rows = client
            .query(
                &format!(
                    "WITH RECURSIVE walk(id, depth) AS (
                         SELECT $1::bigint, 0::bigint
                         UNION
                         SELECT {from}, w.depth + 1 FROM run_edges e JOIN walk w ON {to} = w.id
                         WHERE w.depth < $2
                     )
                     SELECT id, MIN(depth) FROM walk GROUP BY id"
                ),
                &[&run, &depth],
            )
            .await
            .map_err(pg_err)?;
        let depths: BTreeMap<i64, u32> = rows
            .iter()
            .map(|r| {
                let d: i64 = r.get(1);
                (r.get(0), u32::try_from(d).unwrap_or(u32::MAX))
            })
            .collect();
        let keys: Vec<i64> = depths.keys().copied().collect();
        let mut nodes = nodes(&client, &keys).await?;
        for (key, node) in nodes.iter_mut() {
            node.depth = depths.get(key).copied();
        }
        let edges = edges_among(&client, &keys, &nodes).await?;
        let mut nodes: Vec<GraphNode> = nodes.into_values().collect();
        nodes.sort_by_key(|n| n.depth);
        Ok(Graph { nodes, edges })
    }
}
