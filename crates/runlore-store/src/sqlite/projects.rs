//! Projects: named research directions; archived ones hide from lists.

use runlore_core::time::now_ms;
use runlore_core::{Error, Lifecycle, LifecycleView, NewProject, Project, ProjectSettings, Result};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::db_err;

const COLUMNS: &str = "name, description, lifecycle, created_at, updated_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<(String, String, String, i64, i64)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

fn build(raw: (String, String, String, i64, i64)) -> Result<Project> {
    let (name, description, lifecycle, created_at, updated_at) = raw;
    Ok(Project {
        name,
        description,
        lifecycle: lifecycle.parse()?,
        created_at,
        updated_at,
    })
}

pub fn create(conn: &Connection, new: &NewProject) -> Result<Project> {
    if id_of(conn, &new.name)?.is_some() {
        return Err(Error::already_exists("project", &new.name));
    }
    let now = now_ms();
    conn.execute(
        "INSERT INTO projects (name, description, lifecycle, created_at, updated_at)
         VALUES (?1, ?2, 'active', ?3, ?3)",
        params![new.name, new.description, now],
    )
    .map_err(db_err)?;
    get(conn, &new.name)
}

pub fn get(conn: &Connection, name: &str) -> Result<Project> {
    let raw = conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM projects WHERE name = ?1"),
            [name],
            from_row,
        )
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| Error::not_found("project", name))?;
    build(raw)
}

pub fn id_of(conn: &Connection, name: &str) -> Result<Option<i64>> {
    conn.query_row("SELECT id FROM projects WHERE name = ?1", [name], |r| {
        r.get(0)
    })
    .optional()
    .map_err(db_err)
}

/// The project's id, creating the project when missing (runs and
/// experiments may name a project that nobody created yet).
pub fn ensure(conn: &Connection, name: &str) -> Result<i64> {
    if let Some(id) = id_of(conn, name)? {
        return Ok(id);
    }
    let now = now_ms();
    conn.execute(
        "INSERT INTO projects (name, description, lifecycle, created_at, updated_at)
         VALUES (?1, '', 'active', ?2, ?2)",
        params![name, now],
    )
    .map_err(db_err)?;
    Ok(conn.last_insert_rowid())
}

pub fn list(conn: &Connection, view: LifecycleView) -> Result<Vec<Project>> {
    let filter = match view {
        LifecycleView::Active => "WHERE lifecycle = 'active'",
        LifecycleView::Inactive => "WHERE lifecycle <> 'active'",
        LifecycleView::All => "",
    };
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {COLUMNS} FROM projects {filter} ORDER BY name"
        ))
        .map_err(db_err)?;
    let rows = stmt
        .query_map([], from_row)
        .map_err(db_err)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(db_err)?;
    rows.into_iter().map(build).collect()
}

pub fn set_lifecycle(conn: &Connection, name: &str, lifecycle: Lifecycle) -> Result<Project> {
    let changed = conn
        .execute(
            "UPDATE projects SET lifecycle = ?1, updated_at = ?2 WHERE name = ?3",
            params![lifecycle.as_str(), now_ms(), name],
        )
        .map_err(db_err)?;
    if changed == 0 {
        return Err(Error::not_found("project", name));
    }
    get(conn, name)
}

pub fn settings_of(conn: &Connection, project_id: i64) -> Result<ProjectSettings> {
    let text: String = conn
        .query_row(
            "SELECT settings FROM projects WHERE id = ?1",
            [project_id],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    serde_json::from_str(&text)
        .map_err(|e| Error::internal(format!("stored project settings are not valid: {e}")))
}

pub fn settings(conn: &Connection, name: &str) -> Result<ProjectSettings> {
    let id = id_of(conn, name)?.ok_or_else(|| Error::not_found("project", name))?;
    settings_of(conn, id)
}

pub fn set_settings(
    conn: &Connection,
    name: &str,
    settings: &ProjectSettings,
) -> Result<ProjectSettings> {
    let text = serde_json::to_string(settings)
        .map_err(|e| Error::internal(format!("cannot encode project settings: {e}")))?;
    let changed = conn
        .execute(
            "UPDATE projects SET settings = ?1, updated_at = ?2 WHERE name = ?3",
            params![text, now_ms(), name],
        )
        .map_err(db_err)?;
    if changed == 0 {
        return Err(Error::not_found("project", name));
    }
    Ok(settings.clone())
}
