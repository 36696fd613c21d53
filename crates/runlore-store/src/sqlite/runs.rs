//! Runs: creation (creating the project and experiment when missing),
//! loading with params, tags and latest metrics, updates and soft delete.

use std::collections::{BTreeMap, HashMap};

use runlore_core::naming_rule::NamingOutcome;
use runlore_core::time::now_ms;
use runlore_core::*;
use rusqlite::{Connection, OptionalExtension, params};

use super::{db_err, experiments, models, projects};

/// The run's internal key, refusing unknown ids.
pub fn key_of(conn: &Connection, id: &RunId) -> Result<i64> {
    conn.prepare_cached("SELECT id FROM runs WHERE uuid = ?1")
        .map_err(db_err)?
        .query_row([id.as_str()], |r| r.get(0))
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| Error::not_found("run", id))
}

/// Like [`key_of`], also refusing runs that are soft-deleted (as MLflow
/// does: a deleted run takes no more writes until it is restored).
pub fn active_key_of(conn: &Connection, id: &RunId) -> Result<i64> {
    let (key, lifecycle): (i64, String) = conn
        .prepare_cached("SELECT id, lifecycle FROM runs WHERE uuid = ?1")
        .map_err(db_err)?
        .query_row([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| Error::not_found("run", id))?;
    if lifecycle != Lifecycle::Active.as_str() {
        return Err(Error::invalid(format!(
            "run '{id}' is deleted; restore it before writing to it"
        )));
    }
    Ok(key)
}

fn resolve_experiment(conn: &Connection, new: &NewRun) -> Result<(i64, i64)> {
    if let Some(id) = new.experiment_id {
        let row: Option<(i64, String)> = conn
            .query_row(
                "SELECT project_id, lifecycle FROM experiments WHERE id = ?1",
                [id.value()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db_err)?;
        let (project_id, lifecycle) = row.ok_or_else(|| Error::not_found("experiment", id))?;
        if lifecycle != Lifecycle::Active.as_str() {
            return Err(Error::invalid(format!(
                "experiment '{id}' is deleted; restore it before adding runs"
            )));
        }
        return Ok((project_id, id.value()));
    }
    let project_id = projects::ensure(conn, &new.project)?;
    let name = new.experiment.as_deref().unwrap_or(DEFAULT_EXPERIMENT);
    let existing: Option<(i64, String)> = conn
        .query_row(
            "SELECT id, lifecycle FROM experiments WHERE project_id = ?1 AND name = ?2",
            params![project_id, name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db_err)?;
    match existing {
        Some((id, lifecycle)) if lifecycle == Lifecycle::Active.as_str() => Ok((project_id, id)),
        Some(_) => Err(Error::invalid(format!(
            "experiment '{}/{name}' is deleted; restore it before adding runs",
            new.project
        ))),
        None => Ok((
            project_id,
            experiments::insert(conn, project_id, &new.project, name, "")?,
        )),
    }
}

pub fn create(conn: &mut Connection, mut new: NewRun) -> Result<Run> {
    let tx = conn.transaction().map_err(db_err)?;
    let (project_id, experiment_id) = resolve_experiment(&tx, &new)?;
    let parent = match &new.parent_run_id {
        Some(parent) => Some(key_of(&tx, parent)?),
        None => None,
    };
    let id = match &new.id {
        Some(id) => {
            if let Some(existing) = repeated_create(&tx, id, experiment_id)? {
                return Ok(existing);
            }
            id.clone()
        }
        None => RunId::generate(),
    };
    let name = match &new.name {
        Some(name) => name.clone(),
        None => names::friendly_run_name(u128::from_str_radix(id.as_str(), 16).unwrap_or(0)),
    };
    apply_naming_rule(&tx, project_id, &new.project, &name, &mut new.parents)?;
    let status = new.status.unwrap_or(RunStatus::Running);
    let now = now_ms();
    let start_time = match (new.start_time, status) {
        (Some(t), _) => Some(t),
        (None, RunStatus::Planned) => None,
        (None, _) => Some(now),
    };
    let end_time = status.is_terminal().then_some(now);
    tx.execute(
        "INSERT INTO runs (uuid, project_id, experiment_id, name, status, lifecycle, start_time,
                           end_time, user, parent_run_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6, ?7, ?8, ?9, ?10, ?10)",
        params![
            id.as_str(),
            project_id,
            experiment_id,
            name,
            status.as_str(),
            start_time,
            end_time,
            new.user.as_deref().unwrap_or(""),
            parent,
            now
        ],
    )
    .map_err(db_err)?;
    let key = tx.last_insert_rowid();
    super::graph::attach(&tx, key, project_id, &new.parents, new.features.as_ref())?;
    for (k, v) in &new.params {
        tx.execute(
            "INSERT INTO params (run_id, key, value) VALUES (?1, ?2, ?3)",
            params![key, k, v],
        )
        .map_err(db_err)?;
    }
    for (k, v) in &new.tags {
        tx.execute(
            "INSERT INTO tags (run_id, key, value) VALUES (?1, ?2, ?3)",
            params![key, k, v],
        )
        .map_err(db_err)?;
    }
    let run = get(&tx, &id)?;
    tx.commit().map_err(db_err)?;
    Ok(run)
}

/// The project's naming rule (decided by `runlore_core::naming_rule`):
/// refuses names it does not allow, and finds the primary parent the name
/// points at among the project's runs, newest first, in this transaction.
fn apply_naming_rule(
    conn: &Connection,
    project_id: i64,
    project: &str,
    name: &str,
    parents: &mut Vec<runlore_core::ParentLink>,
) -> Result<()> {
    let Some(rule) = super::projects::settings_of(conn, project_id)?.naming else {
        return Ok(());
    };
    let search = match rule.for_new_run(project, name, parents)? {
        NamingOutcome::Accept => return Ok(()),
        NamingOutcome::FindParent(search) => search,
    };
    let mut stmt = conn
        .prepare_cached(
            "SELECT uuid, name FROM runs
             WHERE project_id = ?1 AND lifecycle <> 'deleted' ORDER BY id DESC",
        )
        .map_err(db_err)?;
    let mut rows = stmt.query([project_id]).map_err(db_err)?;
    while let Some(row) = rows.next().map_err(db_err)? {
        let candidate: String = row.get(1).map_err(db_err)?;
        if search.names(&candidate) {
            let uuid: String = row.get(0).map_err(db_err)?;
            parents.push(search.link(RunId::parse(&uuid)?));
            return Ok(());
        }
    }
    Err(search.not_found())
}

/// A creation with a client-chosen id that already exists: the same run
/// again when it lives in the same experiment (a replayed request), a
/// conflict otherwise.
fn repeated_create(conn: &Connection, id: &RunId, experiment_id: i64) -> Result<Option<Run>> {
    let existing: Option<i64> = conn
        .query_row(
            "SELECT experiment_id FROM runs WHERE uuid = ?1",
            [id.as_str()],
            |r| r.get(0),
        )
        .optional()
        .map_err(db_err)?;
    match existing {
        None => Ok(None),
        Some(exp) if exp == experiment_id => get(conn, id).map(Some),
        Some(_) => Err(Error::already_exists("run", id)),
    }
}

pub fn get(conn: &Connection, id: &RunId) -> Result<Run> {
    let key = key_of(conn, id)?;
    load(conn, &[key])?
        .pop()
        .ok_or_else(|| Error::not_found("run", id))
}

/// Loads whole runs by internal key, in the order given, with a fixed number
/// of queries whatever the count (no query per run).
pub fn load(conn: &Connection, keys: &[i64]) -> Result<Vec<Run>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let list = keys
        .iter()
        .map(|k| k.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let mut runs: HashMap<i64, Run> = HashMap::with_capacity(keys.len());
    let sql = format!(
        "SELECT r.id, r.uuid, p.name, r.experiment_id, e.name, r.name, r.status, r.lifecycle,
                r.start_time, r.end_time, r.user, pr.uuid, r.created_at, r.updated_at
         FROM runs r
         JOIN projects p ON p.id = r.project_id
         JOIN experiments e ON e.id = r.experiment_id
         LEFT JOIN runs pr ON pr.id = r.parent_run_id
         WHERE r.id IN ({list})"
    );
    let mut stmt = conn.prepare(&sql).map_err(db_err)?;
    let mut rows = stmt.query([]).map_err(db_err)?;
    while let Some(row) = rows.next().map_err(db_err)? {
        let key: i64 = row.get(0).map_err(db_err)?;
        let uuid: String = row.get(1).map_err(db_err)?;
        let status: String = row.get(6).map_err(db_err)?;
        let lifecycle: String = row.get(7).map_err(db_err)?;
        let parent: Option<String> = row.get(11).map_err(db_err)?;
        runs.insert(
            key,
            Run {
                id: RunId::parse(&uuid)?,
                project: row.get(2).map_err(db_err)?,
                experiment_id: ExperimentId::new(row.get(3).map_err(db_err)?),
                experiment: row.get(4).map_err(db_err)?,
                name: row.get(5).map_err(db_err)?,
                status: status.parse()?,
                lifecycle: lifecycle.parse()?,
                start_time: row.get(8).map_err(db_err)?,
                end_time: row.get(9).map_err(db_err)?,
                user: row.get(10).map_err(db_err)?,
                parent_run_id: parent.map(|p| RunId::parse(&p)).transpose()?,
                params: BTreeMap::new(),
                tags: BTreeMap::new(),
                metrics: Vec::new(),
                inputs: Vec::new(),
                model_outputs: Vec::new(),
                components: Vec::new(),
                created_at: row.get(12).map_err(db_err)?,
                updated_at: row.get(13).map_err(db_err)?,
            },
        );
    }
    for (table, is_param) in [("params", true), ("tags", false)] {
        let mut stmt = conn
            .prepare(&format!(
                "SELECT run_id, key, value FROM {table} WHERE run_id IN ({list})"
            ))
            .map_err(db_err)?;
        let mut rows = stmt.query([]).map_err(db_err)?;
        while let Some(row) = rows.next().map_err(db_err)? {
            let key: i64 = row.get(0).map_err(db_err)?;
            if let Some(run) = runs.get_mut(&key) {
                let map = if is_param {
                    &mut run.params
                } else {
                    &mut run.tags
                };
                map.insert(row.get(1).map_err(db_err)?, row.get(2).map_err(db_err)?);
            }
        }
    }
    let mut stmt = conn
        .prepare(&format!(
            "SELECT run_id, name, status, reason, updated_at FROM components
             WHERE run_id IN ({list}) ORDER BY name"
        ))
        .map_err(db_err)?;
    let mut rows = stmt.query([]).map_err(db_err)?;
    while let Some(row) = rows.next().map_err(db_err)? {
        let key: i64 = row.get(0).map_err(db_err)?;
        let status: String = row.get(2).map_err(db_err)?;
        if let Some(run) = runs.get_mut(&key) {
            run.components.push(Component {
                name: row.get(1).map_err(db_err)?,
                status: status.parse()?,
                reason: row.get(3).map_err(db_err)?,
                updated_at: row.get(4).map_err(db_err)?,
            });
        }
    }
    let mut stmt = conn
        .prepare(&format!(
            "SELECT lm.run_id, mk.key, lm.value, lm.is_nan, lm.step, lm.timestamp
             FROM latest_metrics lm JOIN metric_keys mk ON mk.id = lm.key_id
             WHERE lm.run_id IN ({list}) ORDER BY mk.key"
        ))
        .map_err(db_err)?;
    let mut rows = stmt.query([]).map_err(db_err)?;
    while let Some(row) = rows.next().map_err(db_err)? {
        let key: i64 = row.get(0).map_err(db_err)?;
        let value: Option<f64> = row.get(2).map_err(db_err)?;
        let is_nan: bool = row.get(3).map_err(db_err)?;
        if let Some(run) = runs.get_mut(&key) {
            run.metrics.push(LatestMetric {
                key: row.get(1).map_err(db_err)?,
                value: MetricValue(if is_nan {
                    f64::NAN
                } else {
                    value.unwrap_or(f64::NAN)
                }),
                step: row.get(4).map_err(db_err)?,
                timestamp: row.get(5).map_err(db_err)?,
            });
        }
    }
    models::attach_io(conn, &list, &mut runs)?;
    Ok(keys.iter().filter_map(|k| runs.remove(k)).collect())
}

pub fn update(conn: &mut Connection, id: &RunId, patch: &RunPatch) -> Result<Run> {
    let tx = conn.transaction().map_err(db_err)?;
    let current = get(&tx, id)?;
    let now = now_ms();
    let next = runlore_core::lifecycle_rules::patch_run(&current, patch, now)?;
    tx.execute(
        "UPDATE runs SET name = ?1, status = ?2, start_time = ?3, end_time = ?4, updated_at = ?5
         WHERE uuid = ?6",
        params![
            next.name,
            next.status.as_str(),
            next.start_time,
            next.end_time,
            now,
            id.as_str()
        ],
    )
    .map_err(db_err)?;
    let run = get(&tx, id)?;
    tx.commit().map_err(db_err)?;
    Ok(run)
}

pub fn set_lifecycle(conn: &Connection, id: &RunId, lifecycle: Lifecycle) -> Result<Run> {
    let key = key_of(conn, id)?;
    conn.execute(
        "UPDATE runs SET lifecycle = ?1, updated_at = ?2 WHERE id = ?3",
        params![lifecycle.as_str(), now_ms(), key],
    )
    .map_err(db_err)?;
    get(conn, id)
}

pub fn delete_tag(conn: &Connection, id: &RunId, key: &str) -> Result<()> {
    let run = active_key_of(conn, id)?;
    let n = conn
        .execute(
            "DELETE FROM tags WHERE run_id = ?1 AND key = ?2",
            params![run, key],
        )
        .map_err(db_err)?;
    if n == 0 {
        return Err(Error::not_found("tag", key));
    }
    Ok(())
}
