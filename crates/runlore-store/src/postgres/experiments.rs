//! Experiments on PostgreSQL (the semantics of sqlite/experiments.rs):
//! names unique within a project, deleted experiments included; pages by
//! offset cursors that any replica accepts.

use std::collections::BTreeMap;

use deadpool_postgres::GenericClient;
use runlore_core::store::ExperimentQuery;
use runlore_core::time::now_ms;
use runlore_core::{
    Error, Experiment, ExperimentId, Lifecycle, LifecycleView, NewExperiment, Page, Result, cursor,
};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::{PostgresStore, pg_err, projects};
use crate::sql_common::{escape_like, page_size};

const SELECT: &str =
    "SELECT e.id, p.name, e.name, e.description, e.lifecycle, e.created_at, e.updated_at,
            e.artifact_location
       FROM experiments e JOIN projects p ON p.id = e.project_id";

fn build(row: &Row, tags: BTreeMap<String, String>) -> Result<Experiment> {
    let lifecycle: String = row.get(4);
    Ok(Experiment {
        id: ExperimentId::new(row.get(0)),
        project: row.get(1),
        name: row.get(2),
        description: row.get(3),
        lifecycle: lifecycle.parse()?,
        tags,
        artifact_location: row.get(7),
        created_at: row.get(5),
        updated_at: row.get(6),
    })
}

/// The tags of each of `ids`, in one query.
async fn tags_of(
    client: &impl GenericClient,
    ids: &[i64],
) -> Result<BTreeMap<i64, BTreeMap<String, String>>> {
    let rows = client
        .query(
            "SELECT experiment_id, key, value FROM experiment_tags WHERE experiment_id = ANY($1)",
            &[&ids],
        )
        .await
        .map_err(pg_err)?;
    let mut out: BTreeMap<i64, BTreeMap<String, String>> = BTreeMap::new();
    for row in rows {
        out.entry(row.get(0))
            .or_default()
            .insert(row.get(1), row.get(2));
    }
    Ok(out)
}

async fn get_with(client: &impl GenericClient, id: ExperimentId) -> Result<Experiment> {
    let row = client
        .query_opt(&format!("{SELECT} WHERE e.id = $1"), &[&id.value()])
        .await
        .map_err(pg_err)?
        .ok_or_else(|| Error::not_found("experiment", id))?;
    let mut tags = tags_of(client, &[id.value()]).await?;
    build(&row, tags.remove(&id.value()).unwrap_or_default())
}

impl PostgresStore {
    pub async fn create_experiment(&self, new: NewExperiment) -> Result<Experiment> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_err)?;
        let project_id = projects::ensure(&tx, &new.project).await?;
        let now = now_ms();
        let id: i64 = tx
            .query_opt(
                "INSERT INTO experiments
                     (project_id, name, description, lifecycle, created_at, updated_at, artifact_location)
                 VALUES ($1, $2, $3, 'active', $4, $4, $5)
                 ON CONFLICT (project_id, name) DO NOTHING RETURNING id",
                &[&project_id, &new.name, &new.description, &now, &new.artifact_location],
            )
            .await
            .map_err(pg_err)?
            .ok_or_else(|| {
                Error::already_exists("experiment", format!("{}/{}", new.project, new.name))
            })?
            .get(0);
        for (k, v) in &new.tags {
            tx.execute(
                "INSERT INTO experiment_tags (experiment_id, key, value) VALUES ($1, $2, $3)",
                &[&id, k, v],
            )
            .await
            .map_err(pg_err)?;
        }
        let experiment = get_with(&tx, ExperimentId::new(id)).await?;
        tx.commit().await.map_err(pg_err)?;
        Ok(experiment)
    }

    pub async fn get_experiment(&self, id: ExperimentId) -> Result<Experiment> {
        get_with(&self.client().await?, id).await
    }

    pub async fn get_experiment_by_name(&self, project: &str, name: &str) -> Result<Experiment> {
        let client = self.client().await?;
        let id: i64 = client
            .query_opt(
                "SELECT e.id FROM experiments e JOIN projects p ON p.id = e.project_id
                  WHERE p.name = $1 AND e.name = $2",
                &[&project, &name],
            )
            .await
            .map_err(pg_err)?
            .ok_or_else(|| Error::not_found("experiment", format!("{project}/{name}")))?
            .get(0);
        get_with(&client, ExperimentId::new(id)).await
    }

    pub async fn list_experiments(&self, query: ExperimentQuery) -> Result<Page<Experiment>> {
        let limit = page_size(query.limit)?;
        // The same fingerprint as SQLite's, so a cursor means one thing.
        let fingerprint = cursor::fingerprint(&[&format!(
            "experiments|{:?}|{:?}|{:?}",
            query.project, query.view, query.name_contains
        )]);
        let offset = match &query.cursor {
            Some(c) => cursor::decode(c, fingerprint)?,
            None => 0,
        };
        let mut sql = format!("{SELECT} WHERE 1 = 1");
        let mut args: Vec<String> = Vec::new();
        if let Some(project) = &query.project {
            args.push(project.clone());
            sql.push_str(&format!(" AND p.name = ${}", args.len()));
        }
        match query.view {
            LifecycleView::Active => sql.push_str(" AND e.lifecycle = 'active'"),
            LifecycleView::Inactive => sql.push_str(" AND e.lifecycle <> 'active'"),
            LifecycleView::All => {}
        }
        if let Some(part) = &query.name_contains {
            // SQLite's LIKE ignores ASCII case; ILIKE does here.
            args.push(format!("%{}%", escape_like(part)));
            sql.push_str(&format!(" AND e.name ILIKE ${} ESCAPE '\\'", args.len()));
        }
        sql.push_str(&format!(
            " ORDER BY e.id LIMIT {} OFFSET {offset}",
            limit + 1
        ));
        let params: Vec<&(dyn ToSql + Sync)> =
            args.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
        let client = self.client().await?;
        let rows = client.query(&sql, &params).await.map_err(pg_err)?;
        let more = rows.len() > limit;
        let ids: Vec<i64> = rows.iter().take(limit).map(|r| r.get(0)).collect();
        let mut tags = tags_of(&client, &ids).await?;
        let items = rows
            .iter()
            .take(limit)
            .map(|row| build(row, tags.remove(&row.get::<_, i64>(0)).unwrap_or_default()))
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = more.then(|| cursor::encode(offset + limit as u64, fingerprint));
        Ok(Page { items, next_cursor })
    }

    pub async fn rename_experiment(&self, id: ExperimentId, new_name: &str) -> Result<Experiment> {
        let client = self.client().await?;
        let current = get_with(&client, id).await?;
        if current.name == new_name {
            return Ok(current);
        }
        let renamed = client
            .execute(
                "UPDATE experiments SET name = $1, updated_at = $2
                  WHERE id = $3 AND NOT EXISTS (
                      SELECT 1 FROM experiments o
                       WHERE o.project_id = experiments.project_id AND o.name = $1)",
                &[&new_name, &now_ms(), &id.value()],
            )
            .await;
        match renamed {
            Ok(1) => get_with(&client, id).await,
            Ok(_) => Err(taken(&current.project, new_name)),
            // A concurrent rename to the same name lost the race.
            Err(e) if is_unique_violation(&e) => Err(taken(&current.project, new_name)),
            Err(e) => Err(pg_err(e)),
        }
    }

    pub async fn set_experiment_lifecycle(
        &self,
        id: ExperimentId,
        lifecycle: Lifecycle,
    ) -> Result<Experiment> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE experiments SET lifecycle = $1, updated_at = $2 WHERE id = $3",
                &[&lifecycle.as_str(), &now_ms(), &id.value()],
            )
            .await
            .map_err(pg_err)?;
        if changed == 0 {
            return Err(Error::not_found("experiment", id));
        }
        get_with(&client, id).await
    }

    pub async fn set_experiment_tag(&self, id: ExperimentId, key: &str, value: &str) -> Result<()> {
        let client = self.client().await?;
        get_with(&client, id).await?;
        client
            .execute(
                "INSERT INTO experiment_tags (experiment_id, key, value) VALUES ($1, $2, $3)
                 ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value",
                &[&id.value(), &key, &value],
            )
            .await
            .map_err(pg_err)?;
        Ok(())
    }

    pub async fn delete_experiment_tag(&self, id: ExperimentId, key: &str) -> Result<()> {
        let client = self.client().await?;
        get_with(&client, id).await?;
        let n = client
            .execute(
                "DELETE FROM experiment_tags WHERE experiment_id = $1 AND key = $2",
                &[&id.value(), &key],
            )
            .await
            .map_err(pg_err)?;
        if n == 0 {
            return Err(Error::not_found("experiment tag", key));
        }
        Ok(())
    }
}

fn taken(project: &str, name: &str) -> Error {
    Error::already_exists("experiment", format!("{project}/{name}"))
}

fn is_unique_violation(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
}
