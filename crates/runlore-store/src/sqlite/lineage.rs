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
    start_sha: &Sha256Hex,
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
    // Indexes are named: SQLite otherwise may build an automatic index at
    // every step of the recursion (seconds for a long chain).
    // The recursion walks run keys (integers compare and deduplicate
    // faster than 64-character digests): up, from the runs that made the
    // blob to the runs that made their inputs; down, from the runs that
    // used it to the runs that used their outputs.
    let (start_runs, artifact_step, dataset_start, dataset_step) = match direction {
        TraceDirection::Up => (
            "SELECT run_id FROM artifacts
             WHERE sha256 = ?1 AND direction = 'output' AND run_id IS NOT NULL",
            "SELECT o.run_id FROM rr
               JOIN artifacts i INDEXED BY artifacts_by_run_direction
                    ON i.run_id = rr.run AND i.direction = 'input'
               JOIN artifacts o INDEXED BY artifacts_by_blob
                    ON o.sha256 = i.sha256 AND o.direction = 'output' AND o.run_id IS NOT NULL",
            None,
            "SELECT o.run_id FROM rr
               JOIN run_inputs d ON d.run_id = rr.run
               JOIN artifacts o INDEXED BY artifacts_by_blob
                    ON o.sha256 = d.digest AND o.direction = 'output' AND o.run_id IS NOT NULL",
        ),
        TraceDirection::Down => (
            "SELECT run_id FROM artifacts
             WHERE sha256 = ?1 AND direction = 'input' AND run_id IS NOT NULL",
            "SELECT i.run_id FROM rr
               JOIN artifacts o INDEXED BY artifacts_by_run_direction
                    ON o.run_id = rr.run AND o.direction = 'output'
               JOIN artifacts i INDEXED BY artifacts_by_blob
                    ON i.sha256 = o.sha256 AND i.direction = 'input' AND i.run_id IS NOT NULL",
            Some("SELECT run_id FROM run_inputs WHERE digest = ?1"),
            "SELECT d.run_id FROM rr
               JOIN artifacts o INDEXED BY artifacts_by_run_direction
                    ON o.run_id = rr.run AND o.direction = 'output'
               JOIN run_inputs d ON d.digest = o.sha256",
        ),
    };
    let mut first = start_runs.to_owned();
    let mut step = artifact_step.to_owned();
    if datasets {
        if let Some(extra) = dataset_start {
            first = format!("{first} UNION {extra}");
        }
        step = format!("{step} UNION {dataset_step}");
    }
    // One statement: the reached runs, then every row of theirs.
    let with = format!("WITH RECURSIVE rr(run) AS ({first} UNION {step})");
    let all = touches_with(
        conn,
        &with,
        "run_id IN (SELECT run FROM rr)",
        datasets,
        start_sha.as_str(),
    )?;
    let start = start_sha;
    if all.is_empty() {
        // Nothing upstream (or downstream): the answer is the blob alone,
        // if any run knows it at all.
        let known = touches(conn, "sha256 = ?1", start.as_str())?;
        let Some(first) = known.first() else {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("no run used or made bytes with sha256 {start}"),
            ));
        };
        let mut paths: Vec<String> = known.iter().map(|t| t.path.clone()).collect();
        paths.sort();
        paths.dedup();
        return Ok(LineageGraph {
            entities: vec![LineageEntity {
                sha256: start.clone(),
                size: first.size,
                media_type: first.media_type.clone(),
                paths,
                uri: known.iter().find_map(|t| t.uri.clone()),
                first_seen: known.iter().map(|t| t.time).min().unwrap_or(first.time),
                depth: Some(0),
            }],
            ..LineageGraph::default()
        });
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
    let (mut activities, associations, public) = activities(conn, &run_keys)?;
    for (a, key) in activities.iter_mut().zip(public.keys_in_order.iter()) {
        a.depth = run_depth.get(key).copied();
    }
    let public = public.ids;
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

/// Internal keys to public ids of the runs `activities` read, and the key
/// of each activity in order.
struct PublicIds {
    ids: HashMap<i64, RunId>,
    keys_in_order: Vec<i64>,
}

/// The runs as activities, with the user and program behind each.
fn activities(
    conn: &Connection,
    keys: &[i64],
) -> Result<(Vec<LineageActivity>, Vec<LineageAssociation>, PublicIds)> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT r.id, r.uuid, r.name, p.name, e.name, r.status, r.user,
                    coalesce(r.start_time, r.created_at), r.end_time,
                    (SELECT value FROM tags t WHERE t.run_id = r.id AND t.key = ?2)
             FROM runs r JOIN projects p ON p.id = r.project_id
                         JOIN experiments e ON e.id = r.experiment_id
             WHERE r.id IN (SELECT value FROM json_each(?1))",
        )
        .map_err(db_err)?;
    let mut rows = stmt
        .query(params![json_list(keys), SOURCE_TAG])
        .map_err(db_err)?;
    let mut acts = Vec::with_capacity(keys.len());
    let mut assoc = Vec::with_capacity(keys.len());
    let mut public = PublicIds {
        ids: HashMap::with_capacity(keys.len()),
        keys_in_order: Vec::with_capacity(keys.len()),
    };
    while let Some(r) = rows.next().map_err(db_err)? {
        let key: i64 = r.get(0).map_err(db_err)?;
        let run_id = RunId::parse(&r.get::<_, String>(1).map_err(db_err)?)?;
        let user: String = r.get(6).map_err(db_err)?;
        let source: Option<String> = r.get(9).map_err(db_err)?;
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
        public.ids.insert(key, run_id.clone());
        public.keys_in_order.push(key);
        acts.push(LineageActivity {
            run_id,
            name: r.get(2).map_err(db_err)?,
            project: r.get(3).map_err(db_err)?,
            experiment: r.get(4).map_err(db_err)?,
            status: r
                .get::<_, String>(5)
                .map_err(db_err)?
                .parse::<RunStatus>()?,
            user,
            start_time: r.get(7).map_err(db_err)?,
            end_time: r.get(8).map_err(db_err)?,
            depth: None,
        });
    }
    Ok((acts, assoc, public))
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
