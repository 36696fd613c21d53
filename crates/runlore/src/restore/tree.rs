//! Rebuilding a captured tree in an empty folder: the commit checked out
//! when some clone source still has it, then every stored file written
//! over it and the deleted ones removed; finally every file hashed.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use runlore_core::RunId;

use super::confine::Confined;
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
    let confined = Confined::new(dest)?;
    let dest = confined.root();
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
        for raw in manifest.deleted_raw() {
            confined.remove(Path::new(OsStr::from_bytes(&raw)))?;
        }
    }
    let mut unavailable = 0usize;
    let mut fetches = Vec::new();
    for file in &manifest.files {
        match &file.artifact {
            Some(artifact) => fetches.push(fetch_file(files, run, file, artifact, &confined)),
            None if file.origin == Origin::Commit && checkout.is_some() => {}
            None => unavailable += 1,
        }
    }
    // A few downloads at a time: a server round trip per file adds up.
    let fetched: Vec<Result<Option<(PathBuf, bytes::Bytes)>>> = futures::stream::iter(fetches)
        .buffer_unordered(8)
        .collect()
        .await;
    let mut links = Vec::new();
    for result in fetched {
        links.extend(result?);
    }
    // Links last, once every file and folder is in place, so no write can
    // go through a link this restore made (and `Confined` follows none).
    for (rel, target) in links {
        confined.symlink(&rel, &target)?;
    }
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
        // The source comes from a manifest: `--` keeps it from being read
        // as an option, and the `ext` transport (which runs a command) is
        // off whatever the user's git allows.
        git_ok(
            parent,
            &[
                "-c",
                "core.autocrlf=false",
                "-c",
                "protocol.ext.allow=never",
                "clone",
                "-q",
                "--no-checkout",
                "--config",
                "core.autocrlf=false",
                "--",
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
                "--",
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

/// Fetches one stored file and checks it against the manifest; writes a
/// regular file at once and hands a link back to be made at the end.
async fn fetch_file(
    files: &RunFiles,
    run: &RunId,
    file: &FileEntry,
    artifact: &str,
    confined: &Confined,
) -> Result<Option<(PathBuf, bytes::Bytes)>> {
    let rel = file.rel_path();
    let bytes = files
        .get(run, artifact)
        .await
        .with_context(|| format!("reading {artifact}"))?;
    if bytes.len() as u64 != file.size || crate::snapshot::sha256_hex(&bytes) != file.sha256 {
        bail!(
            "{artifact} does not match the manifest's size and digest for {}",
            file.path
        );
    }
    if file.mode == "120000" {
        return Ok(Some((rel, bytes)));
    }
    let mode = if file.mode == "100755" { 0o755 } else { 0o644 };
    confined.write(&rel, &bytes, mode)?;
    Ok(None)
}
