//! Rebuilding a captured tree in an empty folder: the commit checked out
//! when some clone source still has it, then every stored file written
//! over it and the deleted ones removed; finally every file hashed.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use runlore_core::RunId;

use crate::run_files::RunFiles;
use crate::snapshot::verify::{Verification, verify};
use crate::snapshot::{FileEntry, Kind, Manifest, Origin, git_ok};

pub struct Rebuilt {
    /// The clone source the commit came from, when checked out.
    pub checkout: Option<String>,
    pub notes: Vec<String>,
    pub verification: Verification,
}

/// `dest` must be missing or an empty folder: a restore never mixes with
/// (or overwrites) files that are already there.
pub fn prepare(dest: &Path) -> Result<()> {
    if dest.exists() {
        let mut entries =
            std::fs::read_dir(dest).with_context(|| format!("cannot open {}", dest.display()))?;
        if entries.next().is_some() {
            return Err(runlore_core::Error::invalid(format!(
                "{} is not empty; restore into a new or empty folder",
                dest.display()
            ))
            .into());
        }
    }
    std::fs::create_dir_all(dest).with_context(|| format!("cannot create {}", dest.display()))
}

pub async fn rebuild(
    files: &RunFiles,
    run: &RunId,
    manifest: &Manifest,
    dest: &Path,
) -> Result<Rebuilt> {
    // Absolute, so git (run from the parent folder) clones to the right place.
    let dest = &dest
        .canonicalize()
        .with_context(|| format!("cannot open {}", dest.display()))?;
    let mut notes = Vec::new();
    let mut checkout = None;
    if let (Kind::Git, Some(git)) = (manifest.kind, &manifest.git)
        && let Some(commit) = &git.commit
    {
        let mut sources: Vec<&str> = git.remote.iter().map(String::as_str).collect();
        sources.push(&git.repo_path);
        for source in sources {
            match clone_at(source, commit, dest) {
                Ok(()) => {
                    checkout = Some(source.to_owned());
                    break;
                }
                Err(e) => notes.push(format!(
                    "commit {commit} not checked out from {source}: {e:#}"
                )),
            }
        }
        if checkout.is_some() {
            notes.clear();
        }
    }
    if checkout.is_some() {
        // The run files beside the tree are not changes of the checkout.
        let exclude = dest.join(".git").join("info").join("exclude");
        if let Some(parent) = exclude.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut text = std::fs::read_to_string(&exclude).unwrap_or_default();
        text.push_str(&format!("/{}/\n", crate::restore::EXTRAS_DIR));
        std::fs::write(&exclude, text)?;
        for (i, path) in manifest.deleted.iter().enumerate() {
            let raw = match manifest.deleted_hex.get(i).cloned().flatten() {
                Some(h) => hex::decode(h).unwrap_or_else(|_| path.clone().into_bytes()),
                None => path.clone().into_bytes(),
            };
            let abs = dest.join(OsStr::from_bytes(&raw));
            if std::fs::symlink_metadata(&abs).is_ok() {
                std::fs::remove_file(&abs)
                    .with_context(|| format!("cannot remove {}", abs.display()))?;
            }
        }
    }
    let mut unavailable = 0usize;
    let mut writes = Vec::new();
    for file in &manifest.files {
        match &file.artifact {
            Some(artifact) => writes.push(write_file(files, run, file, artifact, dest)),
            None if file.origin == Origin::Commit && checkout.is_some() => {}
            None => unavailable += 1,
        }
    }
    // A few downloads at a time: a server round trip per file adds up.
    let results: Vec<Result<()>> = futures::stream::iter(writes)
        .buffer_unordered(8)
        .collect()
        .await;
    results.into_iter().collect::<Result<()>>()?;
    if unavailable > 0 && checkout.is_none() && manifest.kind == Kind::Git {
        notes.push(format!(
            "{unavailable} file(s) of the commit were not stored and the commit could not be checked out"
        ));
    }
    let verification = verify(dest, manifest)?;
    Ok(Rebuilt {
        checkout,
        notes,
        verification,
    })
}

/// Clones `source` into the empty `dest` and checks out `commit` (detached).
/// On failure `dest` is emptied again.
fn clone_at(source: &str, commit: &str, dest: &Path) -> Result<()> {
    let result = (|| -> Result<()> {
        let parent = dest.parent().unwrap_or(Path::new("."));
        let dest_arg = dest.as_os_str().to_string_lossy().into_owned();
        // Byte-exact: no line-ending or filter conversions on the way out.
        git_ok(
            parent,
            &[
                "-c",
                "core.autocrlf=false",
                "clone",
                "-q",
                "--no-checkout",
                "--config",
                "core.autocrlf=false",
                source,
                &dest_arg,
            ],
        )?;
        git_ok(dest, &["cat-file", "-e", &format!("{commit}^{{commit}}")])
            .map_err(|_| anyhow::anyhow!("the commit is not in that repository any more"))?;
        git_ok(
            dest,
            &[
                "-c",
                "advice.detachedHead=false",
                "checkout",
                "-q",
                "--detach",
                commit,
            ],
        )?;
        Ok(())
    })();
    if result.is_err() {
        empty(dest)?;
    }
    result
}

fn empty(dest: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dest)? {
        let path: PathBuf = entry?.path();
        if std::fs::symlink_metadata(&path)?.is_dir() {
            std::fs::remove_dir_all(&path)?;
        } else {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

async fn write_file(
    files: &RunFiles,
    run: &RunId,
    file: &FileEntry,
    artifact: &str,
    dest: &Path,
) -> Result<()> {
    let rel = file.rel_path();
    if rel.is_absolute()
        || rel
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        bail!("the manifest names a path outside the tree: {}", file.path);
    }
    let bytes = files
        .get(run, artifact)
        .await
        .with_context(|| format!("reading {artifact}"))?;
    if crate::snapshot::sha256_hex(&bytes) != file.sha256 {
        bail!(
            "{artifact} does not hash to the manifest's digest for {}",
            file.path
        );
    }
    let abs = dest.join(&rel);
    if let Some(parent) = abs.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    if std::fs::symlink_metadata(&abs).is_ok() {
        std::fs::remove_file(&abs).with_context(|| format!("cannot replace {}", abs.display()))?;
    }
    if file.mode == "120000" {
        std::os::unix::fs::symlink(OsStr::from_bytes(&bytes), &abs)
            .with_context(|| format!("cannot create link {}", abs.display()))?;
        return Ok(());
    }
    std::fs::write(&abs, &bytes).with_context(|| format!("cannot write {}", abs.display()))?;
    let mode = if file.mode == "100755" { 0o755 } else { 0o644 };
    std::fs::set_permissions(&abs, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of {}", abs.display()))?;
    Ok(())
}
