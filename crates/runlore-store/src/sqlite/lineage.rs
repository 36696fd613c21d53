//! Lineage from the artifact rows: runs (activities) and the blobs they
//! wrote (`output` rows) and read (`input` rows, and MLflow dataset inputs
//! whose digest is a SHA-256). Traces follow blob → producing run → its
//! inputs (up) or blob → consuming run → its outputs (down) in one
//! recursive query, so a 10,000-run chain is one round trip.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use runlore_core::graph::EdgeKind;
use runlore_core::lineage::{
    AgentKind, LineageActivity, LineageAgent, LineageAssociation, LineageEntity, LineageGraph,
    LineageInformed, LineageScope, LineageUse, MAX_TRACE_DEPTH, TraceDirection,
};
use runlore_core::{Error, ErrorKind, Result, RunId, RunStatus, Sha256Hex};
use rusqlite::{Connection, params};

use super::{db_err, runs};

/// The tag MLflow (and the SDK) put the entry point in; it names the
/// software agent of a run.
const SOURCE_TAG: &str = "mlflow.source.name";

/// One artifact row or dataset input, by run key.
#[derive(Debug, Clone)]
struct Touch {
    run: i64,
    sha256: String,
    path: String,
    size: u64,
    media_type: String,
    output: bool,
    uri: Option<String>,
    time: i64,
}

/// Artifact rows of runs; `{filter}` is a condition on `run_id`/`sha256`.
const ARTIFACT_ROWS: &str = "SELECT run_id, sha256, path, size, media_type, \
     direction = 'output', NULL, created_at FROM artifacts \
     WHERE run_id IS NOT NULL AND {filter}";

/// Dataset inputs recorded by digest (MLflow `log_inputs`, `runlore
/// artifact use`); only SHA-256 digests name bytes we can follow. They are
/// aliased so the same `{filter}` applies.
const DATASET_ROWS: &str = "SELECT run_id, sha256, path, 0, '', 0, source, created_at FROM \
     (SELECT d.run_id AS run_id, d.digest AS sha256, d.name AS path, d.source AS source, \
             r.created_at AS created_at \
      FROM run_inputs d JOIN runs r ON r.id = d.run_id \
      WHERE length(d.digest) = 64 AND d.digest NOT GLOB '*[^0-9a-f]*') \
     WHERE {filter}";

/// Every artifact row and dataset input matching `filter` (a condition on
/// `run_id` and `sha256` with one parameter, `?1`), in one statement that
/// may start with a `WITH` clause the filter uses.
fn touches(conn: &Connection, filter: &str, arg: impl rusqlite::ToSql) -> Result<Vec<Touch>> {
    touches_with(conn, "", filter, true, arg)
}

fn touches_with(
    conn: &Connection,
    with: &str,
    filter: &str,
    datasets: bool,
    arg: impl rusqlite::ToSql,
) -> Result<Vec<Touch>> {
    let mut sql = format!("{with} {}", ARTIFACT_ROWS.replace("{filter}", filter));
    if datasets {
        sql = format!(
            "{sql} UNION ALL {}",
            DATASET_ROWS.replace("{filter}", filter)
        );
    }
    let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
    let rows = stmt
        .query_map([&arg], |r| {
            Ok(Touch {
                run: r.get(0)?,
                sha256: r.get(1)?,
                path: r.get(2)?,
                size: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
                media_type: r.get(4)?,
                output: r.get(5)?,
                uri: r.get(6)?,
                time: r.get(7)?,
            })
        })
        .map_err(db_err)?;
    rows.collect::<rusqlite::Result<_>>().map_err(db_err)
}

fn json_list<T: ToString>(items: impl IntoIterator<Item = T>) -> String {
    serde_json::Value::Array(
        items
            .into_iter()
            .map(|i| serde_json::Value::String(i.to_string()))
            .collect(),
    )
    .to_string()
}

pub fn lineage(conn: &Connection, scope: &LineageScope) -> Result<LineageGraph> {
    match scope {
        LineageScope::Run(id) => of_run(conn, id),
        LineageScope::Project(name) => of_project(conn, name),
        LineageScope::Blob(sha) => {
            let found = touches(conn, "sha256 = ?1", sha.as_str())?;
            if found.is_empty() {
                return Err(Error::new(
                    ErrorKind::NotFound,
                    format!("no run used or made bytes with sha256 {sha}"),
                ));
            }
            assemble(conn, found, &[], &BTreeMap::new(), &BTreeMap::new(), false)
                .map(LineageGraph::finish)
        }
        LineageScope::Trace {
            sha256,
            direction,
            depth,
        } => trace(conn, sha256, *direction, (*depth).min(MAX_TRACE_DEPTH)),
    }
}

fn of_run(conn: &Connection, id: &RunId) -> Result<LineageGraph> {
    let run = runs::key_of(conn, id)?;
    let mut found = touches(conn, "run_id = ?1", run)?;
    // Who made this run's inputs: one generation upstream.
    let inputs: BTreeSet<String> = found
        .iter()
        .filter(|t| !t.output)
        .map(|t| t.sha256.clone())
        .collect();
    if !inputs.is_empty() {
        let producers = touches(
            conn,
            "sha256 IN (SELECT value FROM json_each(?1))",
            json_list(&inputs),
        )?;
        found.extend(producers.into_iter().filter(|t| t.output && t.run != run));
    }
    // The run itself (even without artifacts) and the runs it was
    // informed by are activities of its lineage.
    let mut extra = vec![run];
    let mut stmt = conn
        .prepare_cached("SELECT parent_id FROM run_edges WHERE child_id = ?1")
        .map_err(db_err)?;
    for parent in stmt.query_map([run], |r| r.get(0)).map_err(db_err)? {
        extra.push(parent.map_err(db_err)?);
    }
    assemble(
        conn,
        found,
        &extra,
        &BTreeMap::new(),
        &BTreeMap::new(),
        true,
    )
    .map(LineageGraph::finish)
}

fn of_project(conn: &Connection, name: &str) -> Result<LineageGraph> {
    let project: i64 = conn
        .query_row("SELECT id FROM projects WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .map_err(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Error::not_found("project", name),
            e => db_err(e),
        })?;
    let found = touches(
        conn,
        "run_id IN (SELECT id FROM runs WHERE project_id = ?1 AND lifecycle != 'deleted')",
        project,
    )?;
    // Runs without artifacts belong to the project's lineage too.
    let mut stmt = conn
        .prepare_cached("SELECT id FROM runs WHERE project_id = ?1 AND lifecycle != 'deleted'")
        .map_err(db_err)?;
    let keys: Vec<i64> = stmt
        .query_map([project], |r| r.get(0))
        .map_err(db_err)?
        .collect::<rusqlite::Result<_>>()
        .map_err(db_err)?;
    assemble(conn, found, &keys, &BTreeMap::new(), &BTreeMap::new(), true).map(LineageGraph::finish)
}

fn trace(
    conn: &Connection,
    start: &Sha256Hex,
    direction: TraceDirection,
    max_depth: u32,
) -> Result<LineageGraph> {
    // Datasets known by SHA-256 are rare; without any, the recursion
    // skips their branch (a third of its lookups).
    let datasets: bool = conn
        .prepare_cached(&format!(
            "SELECT EXISTS ({})",
            DATASET_ROWS.replace("{filter}", "1")
        ))
        .map_err(db_err)?
        .query_row([], |r| r.get(0))
        .map_err(db_err)?;
    let (artifact_step, dataset_step) = match direction {
        TraceDirection::Up => (
            "SELECT i.sha256 FROM reach r
               JOIN artifacts o ON o.sha256 = r.sha AND o.direction = 'output' AND o.run_id IS NOT NULL
               JOIN artifacts i ON i.run_id = o.run_id AND i.direction = 'input'",
            "SELECT d.digest FROM reach r
               JOIN artifacts o ON o.sha256 = r.sha AND o.direction = 'output' AND o.run_id IS NOT NULL
               JOIN run_inputs d ON d.run_id = o.run_id",
        ),
        TraceDirection::Down => (
            "SELECT o.sha256 FROM reach r
               JOIN artifacts i ON i.sha256 = r.sha AND i.direction = 'input' AND i.run_id IS NOT NULL
               JOIN artifacts o ON o.run_id = i.run_id AND o.direction = 'output'",
            "SELECT o.sha256 FROM reach r
               JOIN run_inputs d ON d.digest = r.sha
               JOIN artifacts o ON o.run_id = d.run_id AND o.direction = 'output'",
        ),
    };
    let recursive = if datasets {
        format!("{artifact_step} UNION {dataset_step}")
    } else {
        artifact_step.to_owned()
    };
    // One statement: the reachable blobs, then every row on them.
    let with = format!("WITH RECURSIVE reach(sha) AS (SELECT ?1 UNION {recursive})");
    let all = touches_with(
        conn,
        &with,
        "sha256 IN (SELECT sha FROM reach)",
        datasets,
        start.as_str(),
    )?;
    if all.is_empty() {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!("no run used or made bytes with sha256 {start}"),
        ));
    }
    // Hop depths by breadth-first search over the rows: a producing (up) or
    // consuming (down) run is one hop past the blob that reached it.
    let forward = |t: &Touch| match direction {
        TraceDirection::Up => t.output,
        TraceDirection::Down => !t.output,
    };
    let mut runs_of_blob: HashMap<&str, Vec<i64>> = HashMap::new();
    let mut blobs_of_run: HashMap<i64, Vec<&str>> = HashMap::new();
    for t in &all {
        if forward(t) {
            runs_of_blob.entry(&t.sha256).or_default().push(t.run);
        } else {
            blobs_of_run.entry(t.run).or_default().push(&t.sha256);
        }
    }
    let mut blob_depth: BTreeMap<String, u32> = BTreeMap::new();
    let mut run_depth: BTreeMap<i64, u32> = BTreeMap::new();
    blob_depth.insert(start.to_string(), 0);
    let mut queue = VecDeque::from([(start.as_str(), 0u32)]);
    let mut guard = 0usize;
    while let Some((sha, depth)) = queue.pop_front() {
        guard += 1;
        if depth >= max_depth || guard > all.len() + 1 {
            continue;
        }
        for &run in runs_of_blob.get(sha).into_iter().flatten() {
            if run_depth.contains_key(&run) {
                continue;
            }
            run_depth.insert(run, depth + 1);
            for &next in blobs_of_run.get(&run).into_iter().flatten() {
                if !blob_depth.contains_key(next) {
                    blob_depth.insert(next.to_owned(), depth + 1);
                    queue.push_back((next, depth + 1));
                }
            }
        }
    }
    drop((runs_of_blob, blobs_of_run));
    // A reached run's rows on reached blobs: what it made (up) or used
    // (down) on the way, and what it used (up) or made (down) further on.
    let kept: Vec<Touch> = all
        .into_iter()
        .filter(|t| run_depth.contains_key(&t.run) && blob_depth.contains_key(&t.sha256))
        .collect();
    assemble(conn, kept, &[], &blob_depth, &run_depth, false).map(LineageGraph::finish)
}

/// Builds the graph from the rows: entities from the blobs, activities from
/// the runs, and (when asked) the DAG edges among those runs.
fn assemble(
    conn: &Connection,
    found: Vec<Touch>,
    extra_runs: &[i64],
    blob_depth: &BTreeMap<String, u32>,
    run_depth: &BTreeMap<i64, u32>,
    with_edges: bool,
) -> Result<LineageGraph> {
    let run_keys: Vec<i64> = found
        .iter()
        .map(|t| t.run)
        .chain(extra_runs.iter().copied())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let public: HashMap<i64, RunId> = public_ids(conn, &run_keys)?;
    let (mut activities, associations) = activities(conn, &run_keys)?;
    let depth_of: HashMap<&RunId, u32> = run_depth
        .iter()
        .filter_map(|(key, depth)| public.get(key).map(|id| (id, *depth)))
        .collect();
    for a in &mut activities {
        a.depth = depth_of.get(&a.run_id).copied();
    }
    let mut entities: BTreeMap<String, LineageEntity> = BTreeMap::new();
    let mut graph = LineageGraph::default();
    for t in found {
        let Some(run_id) = public.get(&t.run).cloned() else {
            continue;
        };
        let sha256 = Sha256Hex::parse(&t.sha256)?;
        let entity = entities
            .entry(t.sha256.clone())
            .or_insert_with(|| LineageEntity {
                sha256: sha256.clone(),
                size: t.size,
                media_type: t.media_type.clone(),
                paths: Vec::new(),
                uri: None,
                first_seen: t.time,
                depth: blob_depth.get(&t.sha256).copied(),
            });
        entity.first_seen = entity.first_seen.min(t.time);
        entity.size = entity.size.max(t.size);
        if entity.media_type.is_empty() {
            entity.media_type.clone_from(&t.media_type);
        }
        if t.uri.is_some() {
            entity.uri.clone_from(&t.uri);
        }
        entity.paths.push(t.path.clone());
        let record = LineageUse {
            run_id,
            sha256,
            path: t.path,
            time: t.time,
        };
        if t.output {
            graph.generated.push(record);
        } else {
            graph.used.push(record);
        }
    }
    graph.entities = entities.into_values().collect();
    graph.activities = activities;
    graph.associations = associations;
    if with_edges {
        graph.informed = edges(conn, &run_keys, &public)?;
    }
    Ok(graph)
}

fn public_ids(conn: &Connection, keys: &[i64]) -> Result<HashMap<i64, RunId>> {
    let mut stmt = conn
        .prepare_cached("SELECT id, uuid FROM runs WHERE id IN (SELECT value FROM json_each(?1))")
        .map_err(db_err)?;
    let rows = stmt
        .query_map([json_list(keys)], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })
        .map_err(db_err)?;
    let mut out = HashMap::new();
    for row in rows {
        let (key, uuid) = row.map_err(db_err)?;
        out.insert(key, RunId::parse(&uuid)?);
    }
    Ok(out)
}

/// The runs as activities, with the user and program behind each.
fn activities(
    conn: &Connection,
    keys: &[i64],
) -> Result<(Vec<LineageActivity>, Vec<LineageAssociation>)> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT r.uuid, r.name, p.name, e.name, r.status, r.user,
                    coalesce(r.start_time, r.created_at), r.end_time,
                    (SELECT value FROM tags t WHERE t.run_id = r.id AND t.key = ?2)
             FROM runs r JOIN projects p ON p.id = r.project_id
                         JOIN experiments e ON e.id = r.experiment_id
             WHERE r.id IN (SELECT value FROM json_each(?1))",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map(params![json_list(keys), SOURCE_TAG], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, Option<i64>>(7)?,
                r.get::<_, Option<String>>(8)?,
            ))
        })
        .map_err(db_err)?;
    let mut acts = Vec::new();
    let mut assoc = Vec::new();
    for row in rows {
        let (uuid, name, project, experiment, status, user, start, end, source) =
            row.map_err(db_err)?;
        let run_id = RunId::parse(&uuid)?;
        if !user.is_empty() {
            assoc.push(LineageAssociation {
                run_id: run_id.clone(),
                agent: LineageAgent {
                    kind: AgentKind::Person,
                    name: user.clone(),
                },
            });
        }
        if let Some(source) = source.filter(|s| !s.is_empty()) {
            assoc.push(LineageAssociation {
                run_id: run_id.clone(),
                agent: LineageAgent {
                    kind: AgentKind::Software,
                    name: source,
                },
            });
        }
        acts.push(LineageActivity {
            run_id,
            name,
            project,
            experiment,
            status: status.parse::<RunStatus>()?,
            user,
            start_time: start,
            end_time: end,
            depth: None,
        });
    }
    Ok((acts, assoc))
}

/// DAG edges between runs of the graph (both ends in it).
fn edges(
    conn: &Connection,
    keys: &[i64],
    public: &HashMap<i64, RunId>,
) -> Result<Vec<LineageInformed>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT child_id, parent_id, kind FROM run_edges
             WHERE child_id IN (SELECT value FROM json_each(?1))",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([json_list(keys)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .map_err(db_err)?;
    let mut out = Vec::new();
    for row in rows {
        let (child, parent, kind) = row.map_err(db_err)?;
        if let (Some(run_id), Some(informant)) = (public.get(&child), public.get(&parent)) {
            out.push(LineageInformed {
                run_id: run_id.clone(),
                informant: informant.clone(),
                kind: EdgeKind::parse(&kind)?,
            });
        }
    }
    Ok(out)
}
