//! Projects on PostgreSQL (the semantics of sqlite/projects.rs). Several
//! replicas may create the same project at once: creation relies on the
//! unique name (`ON CONFLICT`), never on a read before the write.

use deadpool_postgres::GenericClient;
use runlore_core::time::now_ms;
use runlore_core::{Error, Lifecycle, LifecycleView, NewProject, Project, ProjectSettings, Result};
use tokio_postgres::Row;

use super::{PostgresStore, pg_err};

const COLUMNS: &str = "name, description, lifecycle, created_at, updated_at";

fn build(row: &Row) -> Result<Project> {
    let lifecycle: String = row.get(2);
    Ok(Project {
        name: row.get(0),
        description: row.get(1),
        lifecycle: lifecycle.parse()?,
        created_at: row.get(3),
        updated_at: row.get(4),
    })
}

impl PostgresStore {
    pub async fn create_project(&self, new: NewProject) -> Result<Project> {
        let client = self.client().await?;
        let now = now_ms();
        let row = client
            .query_opt(
                &format!(
                    "INSERT INTO projects (name, description, lifecycle, created_at, updated_at)
                     VALUES ($1, $2, 'active', $3, $3)
                     ON CONFLICT (name) DO NOTHING RETURNING {COLUMNS}"
                ),
                &[&new.name, &new.description, &now],
            )
            .await
            .map_err(pg_err)?;
        match row {
            Some(row) => build(&row),
            None => Err(Error::already_exists("project", &new.name)),
        }
    }

    pub async fn get_project(&self, name: &str) -> Result<Project> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!("SELECT {COLUMNS} FROM projects WHERE name = $1"),
                &[&name],
            )
            .await
            .map_err(pg_err)?
            .ok_or_else(|| Error::not_found("project", name))?;
        build(&row)
    }

    pub async fn list_projects(&self, view: LifecycleView) -> Result<Vec<Project>> {
        let filter = match view {
            LifecycleView::Active => "WHERE lifecycle = 'active'",
            LifecycleView::Inactive => "WHERE lifecycle <> 'active'",
            LifecycleView::All => "",
        };
        let client = self.client().await?;
        let rows = client
            .query(
                &format!("SELECT {COLUMNS} FROM projects {filter} ORDER BY name"),
                &[],
            )
            .await
            .map_err(pg_err)?;
        rows.iter().map(build).collect()
    }

    pub async fn set_project_lifecycle(&self, name: &str, lifecycle: Lifecycle) -> Result<Project> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!(
                    "UPDATE projects SET lifecycle = $1, updated_at = $2 WHERE name = $3
                     RETURNING {COLUMNS}"
                ),
                &[&lifecycle.as_str(), &now_ms(), &name],
            )
            .await
            .map_err(pg_err)?
            .ok_or_else(|| Error::not_found("project", name))?;
        build(&row)
    }

    pub async fn project_settings(&self, name: &str) -> Result<ProjectSettings> {
        let client = self.client().await?;
        let text: String = client
            .query_opt("SELECT settings FROM projects WHERE name = $1", &[&name])
            .await
            .map_err(pg_err)?
            .ok_or_else(|| Error::not_found("project", name))?
            .get(0);
        decode_settings(&text)
    }

    /// Stores settings that the validating wrapper has already checked.
    pub async fn set_project_settings(
        &self,
        name: &str,
        settings: ProjectSettings,
    ) -> Result<ProjectSettings> {
        let text = serde_json::to_string(&settings)
            .map_err(|e| Error::internal(format!("cannot encode project settings: {e}")))?;
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE projects SET settings = $1, updated_at = $2 WHERE name = $3",
                &[&text, &now_ms(), &name],
            )
            .await
            .map_err(pg_err)?;
        if changed == 0 {
            return Err(Error::not_found("project", name));
        }
        Ok(settings)
    }
}

fn decode_settings(text: &str) -> Result<ProjectSettings> {
    serde_json::from_str(text)
        .map_err(|e| Error::internal(format!("stored project settings are not valid: {e}")))
}

/// The project's id, creating the project when missing (runs and
/// experiments may name a project nobody created yet). Safe when replicas
/// race: the insert waits for a concurrent one and then does nothing, and
/// the read after it sees the committed row.
pub(crate) async fn ensure(tx: &deadpool_postgres::Transaction<'_>, name: &str) -> Result<i64> {
    ensure_with(tx, name).await
}

/// [`ensure`] on any client (a transaction, usually).
pub(crate) async fn ensure_with(client: &impl GenericClient, name: &str) -> Result<i64> {
    let select = "SELECT id FROM projects WHERE name = $1";
    // Looked up first: an insert that meets a conflict still uses an id.
    if let Some(row) = client.query_opt(select, &[&name]).await.map_err(pg_err)? {
        return Ok(row.get(0));
    }
    let now = now_ms();
    client
        .execute(
            "INSERT INTO projects (name, description, lifecycle, created_at, updated_at)
             VALUES ($1, '', 'active', $2, $2) ON CONFLICT (name) DO NOTHING",
            &[&name, &now],
        )
        .await
        .map_err(pg_err)?;
    let row = client.query_one(select, &[&name]).await.map_err(pg_err)?;
    Ok(row.get(0))
}

/// A project's settings by internal id.
pub(crate) async fn settings_of(
    client: &impl GenericClient,
    project_id: i64,
) -> Result<ProjectSettings> {
    let row = client
        .query_one(
            "SELECT settings FROM projects WHERE id = $1",
            &[&project_id],
        )
        .await
        .map_err(pg_err)?;
    decode_settings(row.get(0))
}
