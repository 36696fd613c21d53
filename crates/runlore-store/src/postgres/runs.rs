//! Runs on PostgreSQL (the semantics of sqlite/runs.rs): creation creates
//! the project and experiment when missing, a client-chosen id makes it
//! repeatable, the naming rule (decided in runlore-core) finds the parent;
//! loading reads whole runs with a fixed number of queries.

use std::collections::{BTreeMap, HashMap};

use deadpool_postgres::GenericClient;
use runlore_core::naming_rule::NamingOutcome;
use runlore_core::time::now_ms;
use runlore_core::*;

use super::{PostgresStore, graph, models, pg_err, projects};

/// The run's internal key, refusing unknown ids.
pub(crate) async fn key_of(client: &impl GenericClient, id: &RunId) -> Result<i64> {
    Ok(client
        .query_opt("SELECT id FROM runs WHERE uuid = $1", &[&id.as_str()])
        .await
        .map_err(pg_err)?
        .ok_or_else(|| Error::not_found("run", id))?
        .get(0))
}

/// Like [`key_of`], also refusing soft-deleted runs (a deleted run takes no
/// writes until it is restored). `FOR SHARE` keeps it from being deleted
/// while the caller's transaction writes to it.
pub(crate) async fn active_key_of(client: &impl GenericClient, id: &RunId) -> Result<i64> {
    let row = client
        .query_opt(
            "SELECT id, lifecycle FROM runs WHERE uuid = $1 FOR SHARE",
            &[&id.as_str()],
        )
        .await
        .map_err(pg_err)?
        .ok_or_else(|| Error::not_found("run", id))?;
    let lifecycle: String = row.get(1);
    if lifecycle != Lifecycle::Active.as_str() {
        return Err(Error::invalid(format!(
            "run '{id}' is deleted; restore it before writing to it"
        )));
    }
    Ok(row.get(0))
}

async fn resolve_experiment(client: &impl GenericClient, new: &NewRun) -> Result<(i64, i64)> {
    if let Some(id) = new.experiment_id {
        let row = client
            .query_opt(
                "SELECT project_id, lifecycle FROM experiments WHERE id = $1",
                &[&id.value()],
            )
            .await
            .map_err(pg_err)?
            .ok_or_else(|| Error::not_found("experiment", id))?;
        let lifecycle: String = row.get(1);
        if lifecycle != Lifecycle::Active.as_str() {
            return Err(Error::invalid(format!(
                "experiment '{id}' is deleted; restore it before adding runs"
            )));
        }
        return Ok((row.get(0), id.value()));
    }
    let project_id = projects::ensure_with(client, &new.project).await?;
    let name = new.experiment.as_deref().unwrap_or(DEFAULT_EXPERIMENT);
    let select = "SELECT id, lifecycle FROM experiments WHERE project_id = $1 AND name = $2";
    let found = client
        .query_opt(select, &[&project_id, &name])
        .await
        .map_err(pg_err)?;
    let row = match found {
        Some(row) => row,
        None => {
            // Replicas creating runs in a new experiment at once make it
            // once. (Looked up first: a conflicting insert would still use
            // up an id, and ids are what MLflow clients see.)
            let now = now_ms();
            client
                .execute(
                    "INSERT INTO experiments
                         (project_id, name, description, lifecycle, created_at, updated_at)
                     VALUES ($1, $2, '', 'active', $3, $3) ON CONFLICT (project_id, name) DO NOTHING",
                    &[&project_id, &name, &now],
                )
                .await
                .map_err(pg_err)?;
            client
                .query_one(select, &[&project_id, &name])
                .await
                .map_err(pg_err)?
        }
    };
    let lifecycle: String = row.get(1);
    if lifecycle != Lifecycle::Active.as_str() {
        return Err(Error::invalid(format!(
            "experiment '{}/{name}' is deleted; restore it before adding runs",
            new.project
        )));
    }
    Ok((project_id, row.get(0)))
}

/// The project's naming rule: refusals and the parent search come from
/// runlore-core; this walks the project's runs newest first.
async fn apply_naming_rule(
    client: &impl GenericClient,
    project_id: i64,
    project: &str,
    name: &str,
    parents: &mut Vec<ParentLink>,
) -> Result<()> {
    let Some(rule) = projects::settings_of(client, project_id).await?.naming else {
        return Ok(());
    };
    let search = match rule.for_new_run(project, name, parents)? {
        NamingOutcome::Accept => return Ok(()),
        NamingOutcome::FindParent(search) => search,
    };
    let rows = client
        .query(
            "SELECT uuid, name FROM runs
             WHERE project_id = $1 AND lifecycle <> 'deleted' ORDER BY id DESC",
            &[&project_id],
        )
        .await
        .map_err(pg_err)?;
    for row in rows {
        let candidate: &str = row.get(1);
        if search.names(candidate) {
            let uuid: &str = row.get(0);
            parents.push(search.link(RunId::parse(uuid)?));
            return Ok(());
        }
    }
    Err(search.not_found())
}

/// A creation with a client-chosen id that exists: the same run again in
/// the same experiment (a replayed request), a conflict otherwise.
async fn repeated_create(
    client: &impl GenericClient,
    id: &RunId,
    experiment_id: i64,
) -> Result<Option<Run>> {
    let existing = client
        .query_opt(
            "SELECT experiment_id FROM runs WHERE uuid = $1",
            &[&id.as_str()],
        )
        .await
        .map_err(pg_err)?;
    match existing.map(|r| r.get::<_, i64>(0)) {
        None => Ok(None),
        Some(exp) if exp == experiment_id => get_with(client, id).await.map(Some),
        Some(_) => Err(Error::already_exists("run", id)),
    }
}

pub(crate) async fn get_with(client: &impl GenericClient, id: &RunId) -> Result<Run> {
    let key = key_of(client, id).await?;
    load(client, &[key])
        .await?
        .pop()
        .ok_or_else(|| Error::not_found("run", id))
}

/// Whole runs by internal key, in the order given, with a fixed number of
/// queries whatever the count.
pub(crate) async fn load(client: &impl GenericClient, keys: &[i64]) -> Result<Vec<Run>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let rows = client
        .query(
            r#"SELECT r.id, r.uuid, p.name, r.experiment_id, e.name, r.name, r.status, r.lifecycle,
                      r.start_time, r.end_time, r."user", pr.uuid, r.created_at, r.updated_at
               FROM runs r
               JOIN projects p ON p.id = r.project_id
               JOIN experiments e ON e.id = r.experiment_id
               LEFT JOIN runs pr ON pr.id = r.parent_run_id
               WHERE r.id = ANY($1)"#,
            &[&keys],
        )
        .await
        .map_err(pg_err)?;
    let mut runs: HashMap<i64, Run> = HashMap::with_capacity(keys.len());
    for row in rows {
        let status: &str = row.get(6);
        let lifecycle: &str = row.get(7);
        let parent: Option<&str> = row.get(11);
        runs.insert(
            row.get(0),
            Run {
                id: RunId::parse(row.get(1))?,
                project: row.get(2),
                experiment_id: ExperimentId::new(row.get(3)),
                experiment: row.get(4),
                name: row.get(5),
                status: status.parse()?,
                lifecycle: lifecycle.parse()?,
                start_time: row.get(8),
                end_time: row.get(9),
                user: row.get(10),
                parent_run_id: parent.map(RunId::parse).transpose()?,
                params: BTreeMap::new(),
                tags: BTreeMap::new(),
                metrics: Vec::new(),
                inputs: Vec::new(),
                model_outputs: Vec::new(),
                components: Vec::new(),
                created_at: row.get(12),
                updated_at: row.get(13),
            },
        );
    }
    for (table, is_param) in [("params", true), ("tags", false)] {
        let rows = client
            .query(
                &format!("SELECT run_id, key, value FROM {table} WHERE run_id = ANY($1)"),
                &[&keys],
            )
            .await
            .map_err(pg_err)?;
        for row in rows {
            if let Some(run) = runs.get_mut(&row.get::<_, i64>(0)) {
                let map = if is_param {
                    &mut run.params
                } else {
                    &mut run.tags
                };
                map.insert(row.get(1), row.get(2));
            }
        }
    }
    let rows = client
        .query(
            "SELECT run_id, name, status, reason, updated_at FROM components
             WHERE run_id = ANY($1) ORDER BY name",
            &[&keys],
        )
        .await
        .map_err(pg_err)?;
    for row in rows {
        if let Some(run) = runs.get_mut(&row.get::<_, i64>(0)) {
            let status: &str = row.get(2);
            run.components.push(Component {
                name: row.get(1),
                status: status.parse()?,
                reason: row.get(3),
                updated_at: row.get(4),
            });
        }
    }
    let rows = client
        .query(
            "SELECT lm.run_id, mk.key, lm.value, lm.is_nan, lm.step, lm.timestamp
             FROM latest_metrics lm JOIN metric_keys mk ON mk.id = lm.key_id
             WHERE lm.run_id = ANY($1) ORDER BY mk.key",
            &[&keys],
        )
        .await
        .map_err(pg_err)?;
    for row in rows {
        if let Some(run) = runs.get_mut(&row.get::<_, i64>(0)) {
            let value: Option<f64> = row.get(2);
            let is_nan: i16 = row.get(3);
            run.metrics.push(LatestMetric {
                key: row.get(1),
                value: MetricValue(if is_nan != 0 {
                    f64::NAN
                } else {
                    value.unwrap_or(f64::NAN)
                }),
                step: row.get(4),
                timestamp: row.get(5),
            });
        }
    }
    models::attach_io(client, keys, &mut runs).await?;
    Ok(keys.iter().filter_map(|k| runs.remove(k)).collect())
}

impl PostgresStore {
    pub async fn create_run(&self, mut new: NewRun) -> Result<Run> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_err)?;
        let (project_id, experiment_id) = resolve_experiment(&tx, &new).await?;
        let parent = match &new.parent_run_id {
            Some(parent) => Some(key_of(&tx, parent).await?),
            None => None,
        };
        let id = match &new.id {
            Some(id) => {
                if let Some(existing) = repeated_create(&tx, id, experiment_id).await? {
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
        apply_naming_rule(&tx, project_id, &new.project, &name, &mut new.parents).await?;
        let status = new.status.unwrap_or(RunStatus::Running);
        let now = now_ms();
        let start_time = match (new.start_time, status) {
            (Some(t), _) => Some(t),
            (None, RunStatus::Planned) => None,
            (None, _) => Some(now),
        };
        let end_time = status.is_terminal().then_some(now);
        let user = new.user.as_deref().unwrap_or("");
        // A replayed creation racing its first attempt on another replica
        // meets the unique uuid: it then answers like a repeated create.
        let inserted = tx
            .query_opt(
                r#"INSERT INTO runs (uuid, project_id, experiment_id, name, status, lifecycle,
                                    start_time, end_time, "user", parent_run_id, created_at, updated_at)
                   VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8, $9, $10, $10)
                   ON CONFLICT (uuid) DO NOTHING RETURNING id"#,
                &[
                    &id.as_str(),
                    &project_id,
                    &experiment_id,
                    &name,
                    &status.as_str(),
                    &start_time,
                    &end_time,
                    &user,
                    &parent,
                    &now,
                ],
            )
            .await
            .map_err(pg_err)?;
        let Some(row) = inserted else {
            drop(tx);
            return repeated_create(&client, &id, experiment_id)
                .await?
                .ok_or_else(|| Error::internal(format!("run {id} vanished while created")));
        };
        let key: i64 = row.get(0);
        graph::attach(&tx, key, project_id, &new.parents, new.features.as_ref()).await?;
        let (param_keys, param_values): (Vec<&str>, Vec<&str>) = new
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .unzip();
        let (tag_keys, tag_values): (Vec<&str>, Vec<&str>) = new
            .tags
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .unzip();
        for (table, keys, values) in [
            ("params", &param_keys, &param_values),
            ("tags", &tag_keys, &tag_values),
        ] {
            if keys.is_empty() {
                continue;
            }
            tx.execute(
                &format!(
                    "INSERT INTO {table} (run_id, key, value)
                     SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS t(k, v)"
                ),
                &[&key, keys, values],
            )
            .await
            .map_err(pg_err)?;
        }
        let run = get_with(&tx, &id).await?;
        tx.commit().await.map_err(pg_err)?;
        Ok(run)
    }

    pub async fn get_run(&self, id: &RunId) -> Result<Run> {
        get_with(&self.client().await?, id).await
    }

    pub async fn update_run(&self, id: &RunId, patch: RunPatch) -> Result<Run> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_err)?;
        // The row is locked first, so two replicas patching one run apply
        // their patches one after the other, each to the other's result.
        key_of_locked(&tx, id).await?;
        let current = get_with(&tx, id).await?;
        let now = now_ms();
        let next = runlore_core::lifecycle_rules::patch_run(&current, &patch, now)?;
        tx.execute(
            "UPDATE runs SET name = $1, status = $2, start_time = $3, end_time = $4, updated_at = $5
             WHERE uuid = $6",
            &[
                &next.name,
                &next.status.as_str(),
                &next.start_time,
                &next.end_time,
                &now,
                &id.as_str(),
            ],
        )
        .await
        .map_err(pg_err)?;
        let run = get_with(&tx, id).await?;
        tx.commit().await.map_err(pg_err)?;
        Ok(run)
    }

    pub async fn set_run_lifecycle(&self, id: &RunId, lifecycle: Lifecycle) -> Result<Run> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE runs SET lifecycle = $1, updated_at = $2 WHERE uuid = $3",
                &[&lifecycle.as_str(), &now_ms(), &id.as_str()],
            )
            .await
            .map_err(pg_err)?;
        if changed == 0 {
            return Err(Error::not_found("run", id));
        }
        get_with(&client, id).await
    }

    pub async fn delete_run_tag(&self, id: &RunId, key: &str) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_err)?;
        let run = active_key_of(&tx, id).await?;
        let n = tx
            .execute(
                "DELETE FROM tags WHERE run_id = $1 AND key = $2",
                &[&run, &key],
            )
            .await
            .map_err(pg_err)?;
        if n == 0 {
            return Err(Error::not_found("tag", key));
        }
        tx.commit().await.map_err(pg_err)
    }
}

/// [`active_key_of`], locking the run's row until the transaction ends
/// (writes that check then change its rows take it).
pub(crate) async fn lock_active(client: &impl GenericClient, id: &RunId) -> Result<i64> {
    let row = client
        .query_opt(
            "SELECT id, lifecycle FROM runs WHERE uuid = $1 FOR NO KEY UPDATE",
            &[&id.as_str()],
        )
        .await
        .map_err(pg_err)?
        .ok_or_else(|| Error::not_found("run", id))?;
    let lifecycle: &str = row.get(1);
    if lifecycle != Lifecycle::Active.as_str() {
        return Err(Error::invalid(format!(
            "run '{id}' is deleted; restore it before writing to it"
        )));
    }
    Ok(row.get(0))
}

/// The run's key, its row locked until the transaction ends.
pub(crate) async fn key_of_locked(client: &impl GenericClient, id: &RunId) -> Result<i64> {
    Ok(client
        .query_opt(
            "SELECT id FROM runs WHERE uuid = $1 FOR UPDATE",
            &[&id.as_str()],
        )
        .await
        .map_err(pg_err)?
        .ok_or_else(|| Error::not_found("run", id))?
        .get(0))
}
