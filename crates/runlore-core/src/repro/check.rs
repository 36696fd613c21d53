//! Checks of a snapshot manifest and an exec record read back from a store.
//!
//! Both come from wherever the run's artifacts live (a server, a data dir,
//! a file someone handed over), so whoever wrote them may be hostile. A
//! restore writes, deletes and clones what they name: every path must stay
//! inside the restored tree and every value passed to git must be what a
//! capture could have written. Anything else refuses the whole document
//! with a message naming the entry, before the filesystem is touched.

use std::collections::BTreeSet;

use super::MANIFEST_VERSION;
use super::manifest::{FileEntry, Manifest};
use super::record::ExecRecord;
use crate::{Error, Result};

/// Larger manifests are refused unread. A capture stops at the policy's
/// `max_files` (50,000 by default); a manifest entry takes a few hundred
/// bytes, so this leaves room for ten times the default.
pub const MAX_MANIFEST_BYTES: u64 = 256 << 20;
/// At most this many files, and as many deleted ones.
pub const MAX_MANIFEST_ENTRIES: usize = 500_000;
/// Longest relative path (Linux's PATH_MAX) and path component (NAME_MAX).
pub const MAX_TREE_PATH_BYTES: usize = 4_096;
pub const MAX_TREE_COMPONENT_BYTES: usize = 255;
/// Longest symlink target kept in a manifest.
pub const MAX_LINK_TARGET_BYTES: u64 = 4_095;
/// Top-level names a restore owns: the checkout's repository and the run
/// files written beside the tree. No capture lists them.
pub const RESERVED_TOP_LEVEL: [&str; 2] = [".git", ".runlore-run"];

const MODES: [&str; 3] = ["100644", "100755", "120000"];

/// Why `raw` is not a path inside a tree: relative, `/`-separated, no
/// empty, `.` or `..` components, no NUL, bounded. `None` when it is one.
pub fn tree_path_problem(raw: &[u8]) -> Option<&'static str> {
    if raw.is_empty() {
        return Some("it is empty");
    }
    if raw.len() > MAX_TREE_PATH_BYTES {
        return Some("it is longer than 4096 bytes");
    }
    if raw.starts_with(b"/") {
        return Some("it is absolute");
    }
    if raw.contains(&0) {
        return Some("it contains a NUL byte");
    }
    for component in raw.split(|&b| b == b'/') {
        match component {
            b"" => return Some("it has an empty component ('//' or a trailing '/')"),
            b"." | b".." => return Some("it has a '.' or '..' component"),
            c if c.len() > MAX_TREE_COMPONENT_BYTES => {
                return Some("a component is longer than 255 bytes");
            }
            _ => {}
        }
    }
    let top = raw.split(|&b| b == b'/').next().unwrap_or_default();
    if RESERVED_TOP_LEVEL
        .iter()
        .any(|name| top.eq_ignore_ascii_case(name.as_bytes()))
    {
        return Some("its top-level folder is reserved for the restore (.git, .runlore-run)");
    }
    None
}

/// A path as it goes into a message: lossy, control characters escaped.
fn shown(raw: &[u8]) -> String {
    crate::ids::truncate_for_message(&String::from_utf8_lossy(raw).escape_debug().to_string())
}

fn refused(what: String) -> Error {
    Error::invalid(format!("the snapshot manifest is refused: {what}"))
}

fn decoded(text: &str, hex_form: Option<&str>, what: &str) -> Result<Vec<u8>> {
    match hex_form {
        None => Ok(text.as_bytes().to_vec()),
        Some(h) => hex::decode(h).map_err(|_| {
            refused(format!(
                "{what} \"{}\" has a path_hex that is not hex",
                shown(text.as_bytes())
            ))
        }),
    }
}

fn is_hex(text: &str, lens: &[usize]) -> bool {
    lens.contains(&text.len()) && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A clone source git would take as an option or a remote helper
/// (`--upload-pack=…`, `ext::sh -c …`) runs commands: never one of those.
fn source_problem(source: &str) -> Option<&'static str> {
    if source.is_empty() {
        return Some("it is empty");
    }
    if source.starts_with('-') {
        return Some("it starts with '-'");
    }
    if source.chars().any(char::is_control) {
        return Some("it contains control characters");
    }
    let helper = source.split_once("::").is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    });
    helper.then_some("it names a git remote helper ('<helper>::')")
}

impl Manifest {
    /// Parses and checks a manifest read from anywhere; see [`Manifest::check`].
    pub fn from_untrusted_json(bytes: &[u8]) -> Result<Manifest> {
        if bytes.len() as u64 > MAX_MANIFEST_BYTES {
            return Err(refused(format!(
                "it is {} bytes, over the limit of {MAX_MANIFEST_BYTES}",
                bytes.len()
            )));
        }
        let manifest: Manifest = serde_json::from_slice(bytes)
            .map_err(|e| refused(format!("it is not a valid manifest: {e}")))?;
        manifest.check()?;
        Ok(manifest)
    }

    /// Every rule a restore relies on; the first broken one is named.
    pub fn check(&self) -> Result<()> {
        if self.version != MANIFEST_VERSION {
            return Err(refused(format!(
                "version {} is not {MANIFEST_VERSION}, the one this Runlore reads",
                self.version
            )));
        }
        if self.files.len() > MAX_MANIFEST_ENTRIES || self.deleted.len() > MAX_MANIFEST_ENTRIES {
            return Err(refused(format!(
                "it lists more than {MAX_MANIFEST_ENTRIES} files"
            )));
        }
        if !self.cwd.is_empty()
            && let Some(why) = tree_path_problem(self.cwd.as_bytes())
        {
            return Err(refused(format!(
                "its working directory \"{}\" is not inside the tree: {why}",
                shown(self.cwd.as_bytes())
            )));
        }
        let mut paths = BTreeSet::new();
        for file in &self.files {
            let raw = check_file(file)?;
            if !paths.insert(raw.clone()) {
                return Err(refused(format!("file \"{}\" is listed twice", shown(&raw))));
            }
        }
        // A capture never lists a path beneath another entry: git tracks a
        // symlink, not what it points at. Such a pair is how a hostile
        // manifest writes through a link it made.
        for raw in &paths {
            for (i, _) in raw.iter().enumerate().filter(|(_, b)| **b == b'/') {
                if paths.contains(&raw[..i]) {
                    return Err(refused(format!(
                        "file \"{}\" lies beneath \"{}\", which is itself a file or symlink of the manifest",
                        shown(raw),
                        shown(&raw[..i])
                    )));
                }
            }
        }
        self.check_deleted(&paths)?;
        self.check_git()
    }

    /// The paths of [`Manifest::deleted`] as bytes (call after [`Manifest::check`]).
    pub fn deleted_raw(&self) -> Vec<Vec<u8>> {
        self.deleted
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let hex_form = self.deleted_hex.get(i).cloned().flatten();
                decoded(text, hex_form.as_deref(), "deleted file")
                    .unwrap_or_else(|_| text.as_bytes().to_vec())
            })
            .collect()
    }

    fn check_deleted(&self, files: &BTreeSet<Vec<u8>>) -> Result<()> {
        if self.deleted_hex.len() > self.deleted.len() {
            return Err(refused(
                "deleted_hex has more entries than deleted".to_owned(),
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, text) in self.deleted.iter().enumerate() {
            let hex_form = self.deleted_hex.get(i).cloned().flatten();
            let raw = decoded(text, hex_form.as_deref(), "deleted file")?;
            if let Some(why) = tree_path_problem(&raw) {
                return Err(refused(format!(
                    "deleted file \"{}\" is not a path inside the tree: {why}",
                    shown(&raw)
                )));
            }
            if files.contains(&raw) || !seen.insert(raw.clone()) {
                return Err(refused(format!(
                    "deleted file \"{}\" is listed twice",
                    shown(&raw)
                )));
            }
        }
        Ok(())
    }

    fn check_git(&self) -> Result<()> {
        let Some(git) = &self.git else {
            return Ok(());
        };
        if let Some(commit) = &git.commit
            && !is_hex(commit, &[40, 64])
        {
            return Err(refused(format!(
                "commit \"{}\" is not a 40- or 64-digit lowercase hex id",
                shown(commit.as_bytes())
            )));
        }
        for source in git.remote.iter().chain([&git.repo_path]) {
            if let Some(why) = source_problem(source) {
                return Err(refused(format!(
                    "clone source \"{}\" is refused: {why}",
                    shown(source.as_bytes())
                )));
            }
        }
        Ok(())
    }
}

/// One file entry's rules; its path as bytes when they hold.
fn check_file(file: &FileEntry) -> Result<Vec<u8>> {
    let raw = decoded(&file.path, file.path_hex.as_deref(), "file")?;
    let name = shown(&raw);
    if let Some(why) = tree_path_problem(&raw) {
        return Err(refused(format!(
            "file \"{name}\" is not a path inside the tree: {why}"
        )));
    }
    if !MODES.contains(&file.mode.as_str()) {
        return Err(refused(format!(
            "file \"{name}\" has mode \"{}\", not 100644, 100755 or 120000",
            shown(file.mode.as_bytes())
        )));
    }
    if !is_hex(&file.sha256, &[64]) {
        return Err(refused(format!(
            "file \"{name}\" has a sha256 that is not 64 lowercase hex digits"
        )));
    }
    if file.mode == "120000" && file.size > MAX_LINK_TARGET_BYTES {
        return Err(refused(format!(
            "symlink \"{name}\" has a target of {} bytes, over {MAX_LINK_TARGET_BYTES}",
            file.size
        )));
    }
    if let Some(artifact) = &file.artifact {
        crate::artifact::validate_path(artifact).map_err(|e| {
            refused(format!(
                "file \"{name}\" is stored at a bad artifact path: {}",
                e.message()
            ))
        })?;
    }
    Ok(raw)
}

impl ExecRecord {
    /// What `rerun` and `restore` take from a record read back from a
    /// store: the working directory inside the tree, and the config's
    /// artifact and format (the format names a file beside the tree).
    pub fn check(&self) -> Result<()> {
        let bad = |what: String| Error::invalid(format!("the exec record is refused: {what}"));
        if let Some(cwd) = self.cwd_in_tree.as_deref().filter(|c| !c.is_empty())
            && let Some(why) = tree_path_problem(cwd.as_bytes())
        {
            return Err(bad(format!(
                "its working directory \"{}\" is not inside the tree: {why}",
                shown(cwd.as_bytes())
            )));
        }
        if let Some(config) = &self.config {
            if !matches!(config.format.as_str(), "yaml" | "json") {
                return Err(bad(format!(
                    "config format \"{}\" is not yaml or json",
                    shown(config.format.as_bytes())
                )));
            }
            crate::artifact::validate_path(&config.artifact)
                .map_err(|e| bad(format!("config artifact: {}", e.message())))?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
