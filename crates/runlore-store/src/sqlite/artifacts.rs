//! Artifact rows of runs and logged models. Each row names a blob by its
//! digest; the blob store holds the bytes once however many rows point at
//! them.

use async_trait::async_trait;
use runlore_core::time::now_ms;
use runlore_core::*;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{SqliteStore, db_err, models, runs};

/// The owner column and the owner's internal key.
struct OwnerKey {
    column: &'static str,
    key: i64,
}

fn owner_key(conn: &Connection, owner: &ArtifactOwner, for_write: bool) -> Result<OwnerKey> {
    Ok(match owner {
        ArtifactOwner::Run(id) => OwnerKey {
            column: "run_id",
            key: if for_write {
                runs::active_key_of(conn, id)?
            } else {
                runs::key_of(conn, id)?
            },
        },
        ArtifactOwner::Model(id) => OwnerKey {
            column: "model_id",
            key: models::key_of(conn, id)?,
        },
    })
}

const COLUMNS: &str = "path, sha256, size, media_type, direction, step, created_at";

/// An artifact row as SQLite holds it, in `COLUMNS` order.
type RawArtifact = (String, String, i64, String, String, Option<i64>, i64);

fn from_row(row: &Row<'_>) -> rusqlite::Result<RawArtifact> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
    ))
}

fn build(raw: RawArtifact) -> Result<Artifact> {
    let (path, sha256, size, media_type, direction, step, created_at) = raw;
    Ok(Artifact {
        path,
        sha256: Sha256Hex::parse(&sha256)?,
        size: u64::try_from(size).unwrap_or(0),
        media_type,
        direction: ArtifactDirection::parse(&direction)?,
        step,
        created_at,
    })
}

/// `[lo, hi)` bounds of the paths strictly under `dir/` ('0' follows '/').
fn under(dir: &str) -> (String, String) {
    (format!("{dir}/"), format!("{dir}0"))
}

fn put(conn: &mut Connection, owner: &ArtifactOwner, new: NewArtifact) -> Result<Artifact> {
    let tx = conn.transaction().map_err(db_err)?;
    let OwnerKey { column, key } = owner_key(&tx, owner, true)?;
    let (lo, hi) = under(&new.path);
    let has_children: bool = tx
        .query_row(
            &format!(
                "SELECT EXISTS (SELECT 1 FROM artifacts WHERE {column} = ?1 AND path >= ?2 AND path < ?3)"
            ),
            params![key, lo, hi],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    if has_children {
        return Err(Error::invalid(format!(
            "artifact path '{}' of {owner} is a directory; choose another name",
            new.path
        )));
    }
    let mut parent = new.path.as_str();
    while let Some((dir, _)) = parent.rsplit_once('/') {
        let is_file: bool = tx
            .query_row(
                &format!(
                    "SELECT EXISTS (SELECT 1 FROM artifacts WHERE {column} = ?1 AND path = ?2)"
                ),
                params![key, dir],
                |r| r.get(0),
            )
            .map_err(db_err)?;
        if is_file {
            return Err(Error::invalid(format!(
                "cannot store '{}' of {owner}: '{dir}' is a file, not a directory",
                new.path
            )));
        }
        parent = dir;
    }
    tx.execute(
        &format!("DELETE FROM artifacts WHERE {column} = ?1 AND path = ?2"),
        params![key, new.path],
    )
    .map_err(db_err)?;
    let now = now_ms();
    tx.execute(
        &format!(
            "INSERT INTO artifacts ({column}, {COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        ),
        params![
            key,
            new.path,
            new.sha256.as_str(),
            i64::try_from(new.size).unwrap_or(i64::MAX),
            new.media_type,
            new.direction.as_str(),
            new.step,
            now
        ],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(Artifact {
        path: new.path,
        sha256: new.sha256,
        size: new.size,
        media_type: new.media_type,
        direction: new.direction,
        step: new.step,
        created_at: now,
    })
}

fn get(conn: &Connection, owner: &ArtifactOwner, path: &str) -> Result<Artifact> {
    let OwnerKey { column, key } = owner_key(conn, owner, false)?;
    let raw = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM artifacts WHERE {column} = ?1 AND path = ?2"
        ))
        .map_err(db_err)?
        .query_row(params![key, path], from_row)
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| Error::not_found(&format!("artifact of {owner}"), path))?;
    build(raw)
}

fn list(conn: &Connection, owner: &ArtifactOwner, dir: &str) -> Result<Vec<Artifact>> {
    let OwnerKey { column, key } = owner_key(conn, owner, false)?;
    let raws = if dir.is_empty() {
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM artifacts WHERE {column} = ?1 ORDER BY path"
            ))
            .map_err(db_err)?;
        stmt.query_map(params![key], from_row)
            .map_err(db_err)?
            .collect::<rusqlite::Result<Vec<_>>>()
    } else {
        let (lo, hi) = under(dir);
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM artifacts
                 WHERE {column} = ?1 AND path >= ?2 AND path < ?3 ORDER BY path"
            ))
            .map_err(db_err)?;
        stmt.query_map(params![key, lo, hi], from_row)
            .map_err(db_err)?
            .collect::<rusqlite::Result<Vec<_>>>()
    }
    .map_err(db_err)?;
    raws.into_iter().map(build).collect()
}

fn delete(conn: &Connection, owner: &ArtifactOwner, path: &str) -> Result<u64> {
    let OwnerKey { column, key } = owner_key(conn, owner, true)?;
    let (lo, hi) = under(path);
    let n = conn
        .execute(
            &format!(
                "DELETE FROM artifacts WHERE {column} = ?1
                 AND (path = ?2 OR (path >= ?3 AND path < ?4))"
            ),
            params![key, path, lo, hi],
        )
        .map_err(db_err)?;
    Ok(n as u64)
}

fn referenced(conn: &Connection) -> Result<Vec<Sha256Hex>> {
    let mut stmt = conn
        .prepare("SELECT DISTINCT sha256 FROM artifacts ORDER BY sha256")
        .map_err(db_err)?;
    let hashes = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(db_err)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(db_err)?;
    hashes.iter().map(|h| Sha256Hex::parse(h)).collect()
}

#[async_trait]
impl ArtifactIndex for SqliteStore {
    async fn lineage(
        &self,
        scope: runlore_core::lineage::LineageScope,
    ) -> Result<runlore_core::lineage::LineageGraph> {
        self.read(move |c| super::lineage::lineage(c, &scope)).await
    }

    async fn lineage_json(&self, scope: runlore_core::lineage::LineageScope) -> Result<Vec<u8>> {
        // Written from the rows on the reader's thread (see the trait).
        self.read(move |c| super::lineage::lineage_json(c, &scope))
            .await
    }

    async fn put_artifact(&self, owner: &ArtifactOwner, new: NewArtifact) -> Result<Artifact> {
        let owner = owner.clone();
        self.write(move |c| put(c, &owner, new)).await
    }

    async fn get_artifact(&self, owner: &ArtifactOwner, path: &str) -> Result<Artifact> {
        let (owner, path) = (owner.clone(), path.to_owned());
        self.read(move |c| get(c, &owner, &path)).await
    }

    async fn list_artifacts(&self, owner: &ArtifactOwner, dir: &str) -> Result<Vec<Artifact>> {
        let (owner, dir) = (owner.clone(), dir.to_owned());
        self.read(move |c| list(c, &owner, &dir)).await
    }

    async fn delete_artifacts(&self, owner: &ArtifactOwner, path: &str) -> Result<u64> {
        let (owner, path) = (owner.clone(), path.to_owned());
        self.write(move |c| delete(c, &owner, &path)).await
    }

    async fn referenced_blobs(&self) -> Result<Vec<Sha256Hex>> {
        self.read(referenced).await
    }
}
