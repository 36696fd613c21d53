//! Taking a snapshot: list the tree, hash every file, decide what to
//! store, then upload the stored files and the manifest as artifacts.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use bytes::Bytes;
use futures::StreamExt;
use runlore_core::RunId;
use sha2::{Digest, Sha256};

use super::policy::{Matcher, Policy, Tracked, matcher};
use super::{
    CODE_PREFIX, DIFF_PATH, FileEntry, GitInfo, Kind, MANIFEST_PATH, MANIFEST_VERSION, Manifest,
    Origin, git, path_repr, tree_digest,
};
use crate::run_files::RunFiles;

/// A snapshot taken but not yet uploaded.
pub struct Captured {
    pub root: PathBuf,
    pub manifest: Manifest,
    pub diff: Option<Vec<u8>>,
}

/// What one file of the working tree is.
pub(super) struct Seen {
    pub mode: &'static str,
    pub sha256: String,
    pub size: u64,
}

/// Hashes a file without reading it whole; a symlink is its target's bytes.
/// `None` for what is neither (sockets, folders) or vanished.
pub(super) fn look(abs: &Path) -> Result<Option<Seen>> {
    let Ok(meta) = std::fs::symlink_metadata(abs) else {
        return Ok(None);
    };
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(abs)
            .with_context(|| format!("cannot read link {}", abs.display()))?;
        let bytes = target.as_os_str().as_bytes();
        return Ok(Some(Seen {
            mode: "120000",
            sha256: super::sha256_hex(bytes),
            size: bytes.len() as u64,
        }));
    }
    if !meta.is_file() {
        return Ok(None);
    }
    let mut file =
        std::fs::File::open(abs).with_context(|| format!("cannot read {}", abs.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("cannot read {}", abs.display()))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    let mode = if meta.permissions().mode() & 0o111 != 0 {
        "100755"
    } else {
        "100644"
    };
    Ok(Some(Seen {
        mode,
        sha256: hex::encode(hasher.finalize()),
        size,
    }))
}

fn entry(raw: &[u8], seen: Seen, origin: Origin) -> FileEntry {
    let (path, path_hex) = path_repr(raw);
    FileEntry {
        path,
        path_hex,
        sha256: seen.sha256,
        size: seen.size,
        mode: seen.mode.to_owned(),
        origin,
        artifact: None,
        skipped: None,
    }
}

/// [`look`], with a file that cannot be read noted and left out instead
/// of failing the whole snapshot.
fn look_or_note(abs: &Path, notes: &mut Vec<String>) -> Option<Seen> {
    match look(abs) {
        Ok(seen) => seen,
        Err(e) => {
            notes.push(format!("{e:#}; left out"));
            None
        }
    }
}

fn os(raw: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(raw))
}

/// Takes the snapshot of the tree `cwd` is in. Folders in `skip` (the data
/// dir, say) are never read.
pub fn capture(cwd: &Path, policy: &Policy, skip: &[PathBuf]) -> Result<Captured> {
    let matcher = matcher(policy)?;
    let cwd = cwd
        .canonicalize()
        .with_context(|| format!("cannot open the working directory {}", cwd.display()))?;
    let skip: Vec<PathBuf> = skip.iter().filter_map(|p| p.canonicalize().ok()).collect();
    let mut notes = Vec::new();
    let mut excluded = 0u64;
    let mut files = Vec::new();
    let mut deleted = BTreeSet::new();
    let (root, git_info, diff, store_commit) = match git::open(&cwd)? {
        Some(repo) => {
            let changed: BTreeSet<&Vec<u8>> = repo.changed.iter().collect();
            too_many(
                repo.tracked.len() + repo.untracked.len(),
                policy.max_files + 1,
            )?;
            for (raw, mode) in &repo.tracked {
                if mode == "160000" {
                    notes.push(format!(
                        "submodule {} is not captured",
                        String::from_utf8_lossy(raw)
                    ));
                    continue;
                }
                let Some(seen) = look_or_note(&repo.root.join(os(raw)), &mut notes) else {
                    continue;
                };
                let origin = if !repo.head.contains_key(raw) {
                    Origin::Added
                } else if changed.contains(raw) {
                    Origin::Modified
                } else {
                    Origin::Commit
                };
                files.push(entry(raw, seen, origin));
            }
            for raw in &repo.untracked {
                if raw.ends_with(b"/") {
                    notes.push(format!(
                        "nested repository {} is not captured",
                        String::from_utf8_lossy(raw)
                    ));
                    continue;
                }
                let abs = repo.root.join(os(raw));
                if !matcher.takes(os(raw)) || skip.iter().any(|s| abs.starts_with(s)) {
                    excluded += 1;
                    continue;
                }
                if let Some(seen) = look_or_note(&abs, &mut notes) {
                    files.push(entry(raw, seen, Origin::Untracked));
                }
            }
            let present: BTreeSet<Vec<u8>> = files.iter().map(FileEntry::raw_path).collect();
            for (raw, mode) in &repo.head {
                if mode != "160000" && !present.contains(raw) {
                    deleted.insert(raw.clone());
                }
            }
            let dirty = !deleted.is_empty() || files.iter().any(|f| f.origin != Origin::Commit);
            let diff = match (&repo.commit, dirty) {
                (Some(_), true) => Some(git::diff_text(&repo.root)?),
                _ => None,
            };
            let store_commit = match policy.tracked {
                Tracked::All => true,
                Tracked::Changed => false,
                Tracked::Auto => !repo.pushed,
            };
            let info = GitInfo {
                commit: repo.commit.clone(),
                branch: repo.branch.clone(),
                remote: repo.remote.clone(),
                repo_path: repo.root.to_string_lossy().into_owned(),
                dirty,
                pushed: repo.pushed,
            };
            (repo.root, Some(info), diff, store_commit)
        }
        None => {
            let mut found = Found {
                files: &mut files,
                excluded: &mut excluded,
                notes: &mut notes,
                max_files: policy.max_files,
            };
            walk(&cwd, &cwd, &matcher, &skip, &mut found)?;
            (cwd.clone(), None, None, true)
        }
    };
    choose_stored(&mut files, policy, store_commit);
    let stored: Vec<&FileEntry> = files.iter().filter(|f| f.artifact.is_some()).collect();
    let stored_files = stored.len() as u64;
    let stored_bytes = stored.iter().map(|f| f.size).sum();
    let tree_sha256 = tree_digest(
        files
            .iter()
            .map(|f| (f.raw_path(), f.mode.as_str(), f.sha256.as_str())),
    );
    let rel_cwd = cwd.strip_prefix(&root).unwrap_or(Path::new(""));
    let (deleted, deleted_hex): (Vec<String>, Vec<Option<String>>) =
        deleted.iter().map(|raw| path_repr(raw)).unzip();
    let manifest = Manifest {
        version: MANIFEST_VERSION,
        kind: if git_info.is_some() {
            Kind::Git
        } else {
            Kind::Folder
        },
        root: root.to_string_lossy().into_owned(),
        cwd: rel_cwd.to_string_lossy().into_owned(),
        git: git_info,
        policy: policy.clone(),
        files,
        deleted_hex: if deleted_hex.iter().any(Option::is_some) {
            deleted_hex
        } else {
            Vec::new()
        },
        deleted,
        excluded,
        notes,
        stored_files,
        stored_bytes,
        tree_sha256,
    };
    Ok(Captured {
        root,
        manifest,
        diff,
    })
}

/// What a folder walk collects.
struct Found<'a> {
    files: &'a mut Vec<FileEntry>,
    excluded: &'a mut u64,
    notes: &'a mut Vec<String>,
    max_files: u64,
}

/// Every file under `dir`, not following symlinks, by the policy.
fn walk(
    root: &Path,
    dir: &Path,
    matcher: &Matcher,
    skip: &[PathBuf],
    found: &mut Found<'_>,
) -> Result<()> {
    let mut children: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    children.sort();
    for abs in children {
        let rel = abs.strip_prefix(root).unwrap_or(&abs);
        let meta = std::fs::symlink_metadata(&abs)?;
        if meta.is_dir() {
            if rel.file_name() != Some(OsStr::new(".git"))
                && !matcher.prunes(rel)
                && !skip.iter().any(|s| abs.starts_with(s))
            {
                walk(root, &abs, matcher, skip, found)?;
            }
            continue;
        }
        if !matcher.takes(rel) {
            *found.excluded += 1;
            continue;
        }
        too_many(found.files.len(), found.max_files)?;
        if let Some(seen) = look_or_note(&abs, found.notes) {
            found
                .files
                .push(entry(rel.as_os_str().as_bytes(), seen, Origin::File));
        }
    }
    Ok(())
}

/// A tree this big is almost always a data folder the policy should
/// leave out; hashing it would hold the run up for minutes.
fn too_many(count: usize, max_files: u64) -> Result<()> {
    if count as u64 >= max_files {
        anyhow::bail!(
            "more than {max_files} files (max_files); leave data folders out with \
             [snapshot] exclude or ignore them in git"
        );
    }
    Ok(())
}

/// Marks which files are stored: changed and untracked ones first, then
/// (when wanted) the commit's, within the per-file and total limits.
fn choose_stored(files: &mut [FileEntry], policy: &Policy, store_commit: bool) {
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&i| (files[i].origin == Origin::Commit, files[i].path.clone()));
    let mut total = 0u64;
    for i in order {
        let file = &mut files[i];
        if file.origin == Origin::Commit && !store_commit {
            continue;
        }
        if file.size > policy.max_file_bytes {
            file.skipped = Some(format!(
                "{} bytes, over max_file_bytes ({})",
                file.size, policy.max_file_bytes
            ));
            continue;
        }
        if total + file.size > policy.max_total_bytes {
            file.skipped = Some(format!(
                "the snapshot reached max_total_bytes ({})",
                policy.max_total_bytes
            ));
            continue;
        }
        total += file.size;
        let readable = format!("{CODE_PREFIX}/files/{}", file.path);
        file.artifact = Some(
            if file.path_hex.is_none() && runlore_core::artifact::validate_path(&readable).is_ok() {
                readable
            } else {
                format!("{CODE_PREFIX}/blobs/{}", file.sha256)
            },
        );
    }
}

/// Uploads the stored files, the diff and the manifest (last, so a
/// manifest is only there once everything it names is).
pub async fn upload(files: &RunFiles, run: &RunId, captured: &mut Captured) -> Result<()> {
    let root = captured.root.clone();
    let jobs = captured
        .manifest
        .files
        .iter()
        .enumerate()
        .filter(|(_, f)| f.artifact.is_some())
        .map(|(i, f)| {
            let abs = root.join(f.rel_path());
            let (artifact, expected) = (f.artifact.clone().unwrap_or_default(), f.sha256.clone());
            async move {
                let bytes = read_bytes(&abs)?;
                if super::sha256_hex(&bytes) != expected {
                    return Ok::<_, anyhow::Error>((i, false));
                }
                files
                    .put(run, &artifact, Bytes::from(bytes))
                    .await
                    .with_context(|| format!("storing {}", abs.display()))?;
                Ok((i, true))
            }
        });
    let results: Vec<Result<(usize, bool)>> = futures::stream::iter(jobs)
        .buffer_unordered(8)
        .collect()
        .await;
    for result in results {
        let (i, ok) = result?;
        if !ok {
            let file = &mut captured.manifest.files[i];
            file.artifact = None;
            file.skipped = Some("changed while the snapshot was taken".to_owned());
        }
    }
    if let Some(diff) = &captured.diff {
        files.put(run, DIFF_PATH, Bytes::from(diff.clone())).await?;
    }
    let json = serde_json::to_vec_pretty(&captured.manifest)?;
    files.put(run, MANIFEST_PATH, Bytes::from(json)).await?;
    Ok(())
}

fn read_bytes(abs: &Path) -> Result<Vec<u8>> {
    let meta = std::fs::symlink_metadata(abs)?;
    if meta.file_type().is_symlink() {
        return Ok(std::fs::read_link(abs)?.as_os_str().as_bytes().to_vec());
    }
    std::fs::read(abs).with_context(|| format!("cannot read {}", abs.display()))
}
