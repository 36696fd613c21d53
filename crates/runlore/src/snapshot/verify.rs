//! Checking a restored folder against the manifest: every file hashed,
//! names, modes and contents compared, so "restored" means "identical".

use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use super::capture::look;
use super::{Manifest, path_repr, tree_digest};

/// Folders at the top of a restored tree that are not part of it.
pub const NOT_TREE: [&str; 2] = [".git", crate::restore::EXTRAS_DIR];

#[derive(Debug, Default, Serialize)]
pub struct Verification {
    pub identical: usize,
    pub missing: Vec<String>,
    pub differing: Vec<String>,
    pub extra: Vec<String>,
    /// Files the snapshot could not store and the restore could not get.
    pub skipped: Vec<(String, String)>,
    pub tree_sha256: String,
    pub matches: bool,
}

pub fn verify(dir: &Path, manifest: &Manifest) -> Result<Verification> {
    let mut found: BTreeMap<Vec<u8>, (String, String)> = BTreeMap::new();
    collect(dir, dir, &mut found)?;
    let mut report = Verification {
        tree_sha256: tree_digest(
            found
                .iter()
                .map(|(p, (mode, sha))| (p.clone(), mode.as_str(), sha.as_str())),
        ),
        ..Verification::default()
    };
    for file in &manifest.files {
        let raw = file.raw_path();
        match found.remove(&raw) {
            Some((mode, sha)) if mode == file.mode && sha == file.sha256 => report.identical += 1,
            Some(_) => report.differing.push(file.path.clone()),
            None => match &file.skipped {
                Some(why) => report.skipped.push((file.path.clone(), why.clone())),
                None => report.missing.push(file.path.clone()),
            },
        }
    }
    report.extra = found.keys().map(|raw| path_repr(raw).0).collect();
    report.matches = report.tree_sha256 == manifest.tree_sha256;
    Ok(report)
}

fn collect(root: &Path, dir: &Path, found: &mut BTreeMap<Vec<u8>, (String, String)>) -> Result<()> {
    for child in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let abs = child?.path();
        let rel = abs.strip_prefix(root).unwrap_or(&abs).to_owned();
        let meta = std::fs::symlink_metadata(&abs)?;
        if meta.is_dir() {
            let top = dir == root && NOT_TREE.iter().any(|n| rel.as_os_str() == *n);
            if !top {
                collect(root, &abs, found)?;
            }
            continue;
        }
        if let Some(seen) = look(&abs)? {
            found.insert(
                rel.as_os_str().as_bytes().to_vec(),
                (seen.mode.to_owned(), seen.sha256),
            );
        }
    }
    Ok(())
}
