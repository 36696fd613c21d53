//! Lineage on PostgreSQL (the semantics of sqlite/lineage/): the rows are
//! read here, in one repeatable-read transaction so a trace sees one
//! version of the tables, and assembled by the shared code
//! (`crate::assembled_lineage`). Rows of a question are put in the order a
//! trace reads them (artifact rows, then dataset inputs, each by run, then
//! path), so which media type and location a blob shows never depends on a
//! plan's scan order.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap, VecDeque};

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use runlore_core::graph::EdgeKind;
use runlore_core::lineage::{
    LineageActivity, LineageGraph, LineageScope, MAX_TRACE_DEPTH, TraceDirection, to_json,
};
use runlore_core::*;
use tokio_postgres::types::ToSql;

use super::{PostgresStore, pg_err, runs};
use crate::assembled_lineage::{
    ActivityRow, Assembled, Rows, SOURCE_TAG, Touch, blob_alone, no_such_blob,
};

/// Artifact rows and dataset inputs known by SHA-256 digest, as touches;
/// `{filter}` is a condition on `run_id` and `sha256` with one argument.
const TOUCHES: &str =
    "SELECT run_id, sha256, path, size, media_type, output, uri, created_at FROM (
       SELECT run_id, sha256, path, size, media_type, direction = 'output' AS output,
              NULL::text AS uri, created_at, 0 AS part
       FROM artifacts WHERE run_id IS NOT NULL
       UNION ALL
       SELECT d.run_id, d.digest, d.name, 0, '', FALSE, d.source, r.created_at, 1
       FROM run_inputs d JOIN runs r ON r.id = d.run_id
       WHERE d.digest ~ '^[0-9a-f]{64}$'
     ) t WHERE {filter}";

async fn touches(
    client: &impl GenericClient,
    rows: &mut Rows,
    filter: &str,
    arg: &(dyn ToSql + Sync),
) -> Result<()> {
    let found = client
        .query(&TOUCHES.replace("{filter}", filter), &[arg])
        .await
        .map_err(pg_err)?;
    for r in found {
        let blob = rows.blob(r.get(1));
        rows.touches.push(Touch {
            run: r.get(0),
            blob,
            path: r.get(2),
            size: u64::try_from(r.get::<_, i64>(3)).unwrap_or(0),
            media_type: r.get(4),
            output: r.get(5),
            uri: r.get(6),
            time: r.get(7),
        });
    }
    Ok(())
}

async fn activities(
    client: &impl GenericClient,
    keys: &[i64],
    run_depth: &HashMap<i64, u32>,
) -> Result<Vec<ActivityRow>> {
    let rows = client
        .query(
            r#"SELECT r.id, r.uuid, r.name, p.name, e.name, r.status, r."user",
                      coalesce(r.start_time, r.created_at), r.end_time,
                      (SELECT value FROM tags t WHERE t.run_id = r.id AND t.key = $2)
               FROM runs r JOIN projects p ON p.id = r.project_id
                           JOIN experiments e ON e.id = r.experiment_id
               WHERE r.id = ANY($1) ORDER BY r.id"#,
            &[&keys, &SOURCE_TAG],
        )
        .await
        .map_err(pg_err)?;
    rows.iter()
        .map(|r| {
            let key: i64 = r.get(0);
            let status: &str = r.get(5);
            Ok(ActivityRow {
                key,
                activity: LineageActivity {
                    run_id: RunId::parse(r.get(1))?,
                    name: r.get(2),
                    project: r.get(3),
                    experiment: r.get(4),
                    status: status.parse::<RunStatus>()?,
                    user: r.get(6),
                    start_time: r.get(7),
                    end_time: r.get(8),
                    depth: run_depth.get(&key).copied(),
                },
                source: r.get(9),
            })
        })
        .collect()
}

async fn edges(client: &impl GenericClient, keys: &[i64]) -> Result<Vec<(i64, i64, EdgeKind)>> {
    client
        .query(
            "SELECT child_id, parent_id, kind FROM run_edges WHERE child_id = ANY($1)",
            &[&keys],
        )
        .await
        .map_err(pg_err)?
        .iter()
        .map(|r| Ok((r.get(0), r.get(1), EdgeKind::parse(r.get(2))?)))
        .collect()
}

async fn build(
    client: &impl GenericClient,
    mut rows: Rows,
    extra_runs: &[i64],
    blob_depth: &[Option<u32>],
    run_depth: &HashMap<i64, u32>,
    with_edges: bool,
) -> Result<Assembled> {
    if run_depth.is_empty() {
        rows.sort_as_read();
    }
    let keys = Assembled::run_keys(&rows, extra_runs);
    let activities = activities(client, &keys, run_depth).await?;
    let edges = if with_edges {
        Some(edges(client, &keys).await?)
    } else {
        None
    };
    Assembled::from_parts(rows, activities, blob_depth, edges)
}

/// What a question comes to before it is written out.
enum Answer {
    Rows(Assembled),
    Graph(LineageGraph),
}

async fn answer(client: &impl GenericClient, scope: &LineageScope) -> Result<Answer> {
    Ok(match scope {
        LineageScope::Run(id) => {
            let run = runs::key_of(client, id).await?;
            let mut rows = Rows::default();
            touches(client, &mut rows, "run_id = $1", &run).await?;
            // Who made this run's inputs: one generation upstream.
            let inputs: Vec<String> = rows
                .touches
                .iter()
                .filter(|t| !t.output)
                .map(|t| rows.digests[t.blob].clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            if !inputs.is_empty() {
                let mine = rows.touches.len();
                touches(client, &mut rows, "sha256 = ANY($1)", &inputs).await?;
                rows.keep_producers(mine, run);
            }
            // The run itself (even without artifacts) and the runs it was
            // informed by are activities of its lineage.
            let mut extra = vec![run];
            for row in client
                .query(
                    "SELECT parent_id FROM run_edges WHERE child_id = $1",
                    &[&run],
                )
                .await
                .map_err(pg_err)?
            {
                extra.push(row.get(0));
            }
            Answer::Rows(build(client, rows, &extra, &[], &HashMap::new(), true).await?)
        }
        LineageScope::Project(name) => {
            let project: i64 = client
                .query_opt("SELECT id FROM projects WHERE name = $1", &[name])
                .await
                .map_err(pg_err)?
                .ok_or_else(|| Error::not_found("project", name))?
                .get(0);
            let mut rows = Rows::default();
            touches(
                client,
                &mut rows,
                "run_id IN (SELECT id FROM runs WHERE project_id = $1 AND lifecycle <> 'deleted')",
                &project,
            )
            .await?;
            // Runs without artifacts belong to the project's lineage too.
            let keys: Vec<i64> = client
                .query(
                    "SELECT id FROM runs WHERE project_id = $1 AND lifecycle <> 'deleted'",
                    &[&project],
                )
                .await
                .map_err(pg_err)?
                .iter()
                .map(|r| r.get(0))
                .collect();
            Answer::Rows(build(client, rows, &keys, &[], &HashMap::new(), true).await?)
        }
        LineageScope::Blob(sha) => {
            let mut rows = Rows::default();
            touches(client, &mut rows, "sha256 = $1", &sha.as_str()).await?;
            if rows.touches.is_empty() {
                return Err(no_such_blob(sha));
            }
            Answer::Rows(build(client, rows, &[], &[], &HashMap::new(), false).await?)
        }
        LineageScope::Trace {
            sha256,
            direction,
            depth,
        } => trace(client, sha256, *direction, (*depth).min(MAX_TRACE_DEPTH)).await?,
    })
}

/// A trace, breadth first, each run and blob visited once (see
/// sqlite/lineage/trace.rs for why the walk is not one recursive query).
async fn trace(
    client: &impl GenericClient,
    start: &Sha256Hex,
    direction: TraceDirection,
    max_depth: u32,
) -> Result<Answer> {
    let blobs_of_run = match direction {
        TraceDirection::Up => {
            "SELECT sha256 FROM artifacts WHERE run_id = $1 AND direction = 'input'
             UNION ALL SELECT digest FROM run_inputs
             WHERE run_id = $1 AND digest ~ '^[0-9a-f]{64}$'"
        }
        TraceDirection::Down => {
            "SELECT sha256 FROM artifacts WHERE run_id = $1 AND direction = 'output'"
        }
    };
    let blobs_of_run = client.prepare(blobs_of_run).await.map_err(pg_err)?;
    let mut rows = Rows::default();
    let mut run_depth: HashMap<i64, u32> = HashMap::new();
    let mut blob_depth: Vec<Option<u32>> = Vec::new();
    let mut queue: VecDeque<(i64, u32)> = VecDeque::new();
    let mut pending = vec![(rows.blob(start.as_str()), 0u32)];
    loop {
        // Reach each pending blob: read its rows; the runs it leads to are
        // one hop further unless it is at the depth already.
        for (blob, depth) in pending.drain(..) {
            blob_depth.resize(rows.digests.len(), None);
            if blob_depth[blob].is_some() {
                continue;
            }
            blob_depth[blob] = Some(depth);
            let first = rows.touches.len();
            let sha = rows.digests[blob].clone();
            touches(client, &mut rows, "sha256 = $1", &sha).await?;
            if depth >= max_depth {
                continue;
            }
            for t in &rows.touches[first..] {
                let leads_on = match direction {
                    TraceDirection::Up => t.output,
                    TraceDirection::Down => !t.output,
                };
                if leads_on && let Entry::Vacant(e) = run_depth.entry(t.run) {
                    e.insert(depth + 1);
                    queue.push_back((t.run, depth + 1));
                }
            }
        }
        let Some((run, depth)) = queue.pop_front() else {
            break;
        };
        for row in client.query(&blobs_of_run, &[&run]).await.map_err(pg_err)? {
            let sha: &str = row.get(0);
            pending.push((rows.blob(sha), depth));
        }
    }
    if run_depth.is_empty() {
        let mut known = Rows::default();
        touches(client, &mut known, "sha256 = $1", &start.as_str()).await?;
        return blob_alone(start, &known).map(Answer::Graph);
    }
    rows.keep_reached(&run_depth);
    blob_depth.resize(rows.digests.len(), None);
    Ok(Answer::Rows(
        build(client, rows, &[], &blob_depth, &run_depth, false).await?,
    ))
}

impl PostgresStore {
    async fn lineage_answer(&self, scope: &LineageScope) -> Result<Answer> {
        let mut client = self.client().await?;
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(pg_err)?;
        let answer = answer(&tx, scope).await?;
        tx.commit().await.map_err(pg_err)?;
        Ok(answer)
    }
}

#[async_trait]
impl ArtifactIndex for PostgresStore {
    async fn put_artifact(&self, owner: &ArtifactOwner, new: NewArtifact) -> Result<Artifact> {
        PostgresStore::put_artifact(self, owner, new).await
    }
    async fn get_artifact(&self, owner: &ArtifactOwner, path: &str) -> Result<Artifact> {
        PostgresStore::get_artifact(self, owner, path).await
    }
    async fn list_artifacts(&self, owner: &ArtifactOwner, dir: &str) -> Result<Vec<Artifact>> {
        PostgresStore::list_artifacts(self, owner, dir).await
    }
    async fn delete_artifacts(&self, owner: &ArtifactOwner, path: &str) -> Result<u64> {
        PostgresStore::delete_artifacts(self, owner, path).await
    }
    async fn referenced_blobs(&self) -> Result<Vec<Sha256Hex>> {
        PostgresStore::referenced_blobs(self).await
    }
    async fn lineage(&self, scope: LineageScope) -> Result<LineageGraph> {
        Ok(match self.lineage_answer(&scope).await? {
            Answer::Rows(rows) => rows.into_graph(),
            Answer::Graph(graph) => graph,
        })
    }
    async fn lineage_json(&self, scope: LineageScope) -> Result<Vec<u8>> {
        Ok(match self.lineage_answer(&scope).await? {
            Answer::Rows(rows) => rows.to_json(),
            Answer::Graph(graph) => to_json(&graph),
        })
    }
}
