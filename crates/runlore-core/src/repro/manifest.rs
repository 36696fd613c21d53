//! The manifest of a code snapshot (`runlore/code/manifest.json`): every
//! file of the captured tree with its hash and mode, where its bytes are,
//! and what was left out and why. Every file is hashed, stored or not, so a
//! restored tree can be checked against the captured one.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Policy;

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Git,
    Folder,
}

/// Where a file's bytes come from at restore time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Unchanged from the commit.
    Commit,
    /// Tracked and different from the commit.
    Modified,
    /// Tracked (in the index) but not in the commit.
    Added,
    /// Not tracked and not ignored.
    Untracked,
    /// A plain file of a snapshot without git.
    File,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitInfo {
    /// `None` in a repository without commits.
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub remote: Option<String>,
    /// The repository's folder on the machine that ran (a clone source
    /// when the remote is gone or was never set).
    pub repo_path: String,
    pub dirty: bool,
    /// HEAD was on a remote-tracking branch when captured.
    pub pushed: bool,
}

/// One file of the captured tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative to the root, `/`-separated; lossy when the name is not UTF-8.
    pub path: String,
    /// The exact name bytes, hex, only when the name is not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_hex: Option<String>,
    pub sha256: String,
    pub size: u64,
    /// Git's modes: `100644`, `100755` or `120000` (a symlink; its bytes
    /// are the link target).
    pub mode: String,
    pub origin: Origin,
    /// The artifact holding the bytes, when stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<String>,
    /// Why the bytes were not stored although they were wanted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

impl FileEntry {
    pub fn raw_path(&self) -> Vec<u8> {
        match &self.path_hex {
            Some(h) => hex::decode(h).unwrap_or_else(|_| self.path.clone().into_bytes()),
            None => self.path.clone().into_bytes(),
        }
    }

    pub fn rel_path(&self) -> PathBuf {
        PathBuf::from(OsStr::from_bytes(&self.raw_path()))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub kind: Kind,
    /// The root folder on the machine that ran.
    pub root: String,
    /// The working directory relative to the root (`""`: the root).
    pub cwd: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitInfo>,
    pub policy: Policy,
    pub files: Vec<FileEntry>,
    /// Files of the commit that were gone from the working tree.
    #[serde(default)]
    pub deleted: Vec<String>,
    #[serde(default)]
    pub deleted_hex: Vec<Option<String>>,
    /// Untracked or plain files the include/exclude globs left out.
    pub excluded: u64,
    /// Things seen but not captured (submodules, nested repositories, …).
    #[serde(default)]
    pub notes: Vec<String>,
    pub stored_files: u64,
    pub stored_bytes: u64,
    /// Digest of the whole tree (see [`tree_digest`]).
    pub tree_sha256: String,
}

/// A digest of a tree: SHA-256 over `mode sha256 hex(path)\n` lines sorted
/// by path bytes. Equal digests mean equal names, modes and contents.
pub fn tree_digest<'a>(files: impl Iterator<Item = (Vec<u8>, &'a str, &'a str)>) -> String {
    let mut lines: Vec<(Vec<u8>, String)> = files
        .map(|(path, mode, sha)| {
            let line = format!("{mode} {sha} {}\n", hex::encode(&path));
            (path, line)
        })
        .collect();
    lines.sort();
    let mut hasher = Sha256::new();
    for (_, line) in lines {
        hasher.update(line.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// A relative path as `/`-separated text plus, when not UTF-8, its bytes.
pub fn path_repr(raw: &[u8]) -> (String, Option<String>) {
    match std::str::from_utf8(raw) {
        Ok(text) => (text.to_owned(), None),
        Err(_) => (
            String::from_utf8_lossy(raw).into_owned(),
            Some(hex::encode(raw)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tree_digest_ignores_order_and_sees_every_field() {
        let a = tree_digest(
            [
                (b"b".to_vec(), "100644", "11"),
                (b"a".to_vec(), "100755", "22"),
            ]
            .into_iter(),
        );
        let b = tree_digest(
            [
                (b"a".to_vec(), "100755", "22"),
                (b"b".to_vec(), "100644", "11"),
            ]
            .into_iter(),
        );
        assert_eq!(a, b);
        let mode = tree_digest(
            [
                (b"a".to_vec(), "100644", "22"),
                (b"b".to_vec(), "100644", "11"),
            ]
            .into_iter(),
        );
        assert_ne!(a, mode);
        let name = tree_digest(
            [
                (b"a2".to_vec(), "100755", "22"),
                (b"b".to_vec(), "100644", "11"),
            ]
            .into_iter(),
        );
        assert_ne!(a, name);
    }

    #[test]
    fn names_that_are_not_utf8_keep_their_bytes() {
        let (text, raw) = path_repr(b"caf\xe9.txt");
        assert_eq!(text, "caf\u{fffd}.txt");
        let entry = FileEntry {
            path: text,
            path_hex: raw,
            sha256: String::new(),
            size: 0,
            mode: "100644".into(),
            origin: Origin::Untracked,
            artifact: None,
            skipped: None,
        };
        assert_eq!(entry.raw_path(), b"caf\xe9.txt");
        assert_eq!(path_repr(b"ok.txt"), ("ok.txt".to_owned(), None));
    }
}
