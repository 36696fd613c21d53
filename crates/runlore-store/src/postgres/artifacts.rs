//! Artifact rows of runs and logged models on PostgreSQL (the semantics of
//! sqlite/artifacts.rs). A write locks its owner's row, so replicas storing
//! `a` and `a/b` of one run at once cannot both succeed.

use deadpool_postgres::GenericClient;
use runlore_core::time::now_ms;
use runlore_core::*;
use tokio_postgres::Row;

use super::{PostgresStore, models, pg_err, runs};

/// The owner column and the owner's internal key.
struct OwnerKey {
    column: &'static str,
    key: i64,
}

async fn owner_key(
    client: &impl GenericClient,
    owner: &ArtifactOwner,
    for_write: bool,
) -> Result<OwnerKey> {
    Ok(match owner {
        ArtifactOwner::Run(id) => OwnerKey {
            column: "run_id",
            key: if for_write {
                runs::lock_active(client, id).await?
            } else {
                runs::key_of(client, id).await?
            },
        },
        ArtifactOwner::Model(id) => OwnerKey {
            column: "model_id",
            key: if for_write {
                models::lock(client, id).await?
            } else {
                models::key_of(client, id).await?
            },
        },
    })
}

const COLUMNS: &str = "path, sha256, size, media_type, direction, step, created_at";

fn build(row: &Row) -> Result<Artifact> {
    let size: i64 = row.get(2);
    Ok(Artifact {
        path: row.get(0),
        sha256: Sha256Hex::parse(row.get(1))?,
        size: u64::try_from(size).unwrap_or(0),
        media_type: row.get(3),
        direction: ArtifactDirection::parse(row.get(4))?,
        step: row.get(5),
        created_at: row.get(6),
    })
}

/// `[lo, hi)` bounds of the paths strictly under `dir/` ('0' follows '/').
fn under(dir: &str) -> (String, String) {
    (format!("{dir}/"), format!("{dir}0"))
}

impl PostgresStore {
    pub async fn put_artifact(&self, owner: &ArtifactOwner, new: NewArtifact) -> Result<Artifact> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_err)?;
        let OwnerKey { column, key } = owner_key(&tx, owner, true).await?;
        let (lo, hi) = under(&new.path);
        let has_children: bool = tx
            .query_one(
                &format!(
                    "SELECT EXISTS (SELECT 1 FROM artifacts
                                    WHERE {column} = $1 AND path >= $2 AND path < $3)"
                ),
                &[&key, &lo, &hi],
            )
            .await
            .map_err(pg_err)?
            .get(0);
        if has_children {
            return Err(Error::invalid(format!(
                "artifact path '{}' of {owner} is a directory; choose another name",
                new.path
            )));
        }
        let mut ancestors = Vec::new();
        let mut parent = new.path.as_str();
        while let Some((dir, _)) = parent.rsplit_once('/') {
            ancestors.push(dir);
            parent = dir;
        }
        if !ancestors.is_empty() {
            let file: Option<String> = tx
                .query_opt(
                    &format!(
                        "SELECT path FROM artifacts WHERE {column} = $1 AND path = ANY($2)
                         ORDER BY length(path) DESC LIMIT 1"
                    ),
                    &[&key, &ancestors],
                )
                .await
                .map_err(pg_err)?
                .map(|r| r.get(0));
            if let Some(dir) = file {
                return Err(Error::invalid(format!(
                    "cannot store '{}' of {owner}: '{dir}' is a file, not a directory",
                    new.path
                )));
            }
        }
        tx.execute(
            &format!("DELETE FROM artifacts WHERE {column} = $1 AND path = $2"),
            &[&key, &new.path],
        )
        .await
        .map_err(pg_err)?;
        let now = now_ms();
        tx.execute(
            &format!(
                "INSERT INTO artifacts ({column}, {COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            ),
            &[
                &key,
                &new.path,
                &new.sha256.as_str(),
                &i64::try_from(new.size).unwrap_or(i64::MAX),
                &new.media_type,
                &new.direction.as_str(),
                &new.step,
                &now,
            ],
        )
        .await
        .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)?;
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

    pub async fn get_artifact(&self, owner: &ArtifactOwner, path: &str) -> Result<Artifact> {
        let client = self.client().await?;
        let OwnerKey { column, key } = owner_key(&client, owner, false).await?;
        let row = client
            .query_opt(
                &format!("SELECT {COLUMNS} FROM artifacts WHERE {column} = $1 AND path = $2"),
                &[&key, &path],
            )
            .await
            .map_err(pg_err)?
            .ok_or_else(|| Error::not_found(&format!("artifact of {owner}"), path))?;
        build(&row)
    }

    pub async fn list_artifacts(&self, owner: &ArtifactOwner, dir: &str) -> Result<Vec<Artifact>> {
        let client = self.client().await?;
        let OwnerKey { column, key } = owner_key(&client, owner, false).await?;
        let rows = if dir.is_empty() {
            client
                .query(
                    &format!("SELECT {COLUMNS} FROM artifacts WHERE {column} = $1 ORDER BY path"),
                    &[&key],
                )
                .await
        } else {
            let (lo, hi) = under(dir);
            client
                .query(
                    &format!(
                        "SELECT {COLUMNS} FROM artifacts
                         WHERE {column} = $1 AND path >= $2 AND path < $3 ORDER BY path"
                    ),
                    &[&key, &lo, &hi],
                )
                .await
        }
        .map_err(pg_err)?;
        rows.iter().map(build).collect()
    }

    pub async fn delete_artifacts(&self, owner: &ArtifactOwner, path: &str) -> Result<u64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_err)?;
        let OwnerKey { column, key } = owner_key(&tx, owner, true).await?;
        let (lo, hi) = under(path);
        let n = tx
            .execute(
                &format!(
                    "DELETE FROM artifacts WHERE {column} = $1
                     AND (path = $2 OR (path >= $3 AND path < $4))"
                ),
                &[&key, &path, &lo, &hi],
            )
            .await
            .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)?;
        Ok(n)
    }

    pub async fn referenced_blobs(&self) -> Result<Vec<Sha256Hex>> {
        let client = self.client().await?;
        client
            .query("SELECT DISTINCT sha256 FROM artifacts ORDER BY sha256", &[])
            .await
            .map_err(pg_err)?
            .iter()
            .map(|r| Sha256Hex::parse(r.get(0)))
            .collect()
    }
}
