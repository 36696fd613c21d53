//! What a code snapshot takes: the `[snapshot]` table of `runlore.toml`.
//!
//! ```toml
//! [snapshot]
//! include = ["**/*.py", "configs/**"]   # untracked / plain files; empty: all
//! exclude = ["data/**"]                 # added to the default excludes
//! max_file_bytes = 10485760             # larger files are recorded, not stored
//! max_total_bytes = 209715200           # stored bytes per snapshot
//! max_files = 50000                     # a bigger tree: no snapshot, a warning
//! tracked = "auto"                      # auto | all | changed
//! ```
//!
//! Tracked files of a git repository are always part of the tree: the
//! globs only choose among untracked files (and every file without git),
//! because leaving out a tracked file would make the restored tree differ
//! from the commit in a way nobody asked for.

use std::path::Path;

use anyhow::{Context, Result, bail};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

pub use runlore_core::repro::policy::{DEFAULT_EXCLUDES, Policy, Tracked};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSection {
    include: Option<Vec<String>>,
    exclude: Option<Vec<String>>,
    default_excludes: Option<bool>,
    max_file_bytes: Option<u64>,
    max_total_bytes: Option<u64>,
    max_files: Option<u64>,
    tracked: Option<Tracked>,
}

/// The `[snapshot]` table of the config file in use, if any.
pub fn load(config_file: Option<&Path>) -> Result<Policy> {
    let mut policy = Policy::default();
    let Some(path) = config_file else {
        return Ok(policy);
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    let mut table: toml::Table =
        toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))?;
    let Some(section) = table.remove("snapshot") else {
        return Ok(policy);
    };
    let section: FileSection = section
        .try_into()
        .with_context(|| format!("invalid [snapshot] in {}", path.display()))?;
    if let Some(v) = section.include {
        policy.include = v;
    }
    if let Some(v) = section.exclude {
        policy.exclude = v;
    }
    if let Some(v) = section.default_excludes {
        policy.default_excludes = v;
    }
    if let Some(v) = section.max_file_bytes {
        policy.max_file_bytes = v;
    }
    if let Some(v) = section.max_total_bytes {
        policy.max_total_bytes = v;
    }
    if let Some(v) = section.max_files {
        policy.max_files = v;
    }
    if let Some(v) = section.tracked {
        policy.tracked = v;
    }
    // Compiled once here so a bad glob fails before the run starts.
    matcher(&policy)?;
    Ok(policy)
}

pub fn matcher(policy: &Policy) -> Result<Matcher> {
    let mut excludes: Vec<&str> = policy.exclude.iter().map(String::as_str).collect();
    if policy.default_excludes {
        excludes.extend(DEFAULT_EXCLUDES);
    }
    Ok(Matcher {
        include: if policy.include.is_empty() {
            None
        } else {
            Some(build(policy.include.iter().map(String::as_str))?)
        },
        exclude: build(excludes.into_iter())?,
    })
}

fn build<'a>(patterns: impl Iterator<Item = &'a str>) -> Result<GlobSet> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob =
            Glob::new(pattern).with_context(|| format!("invalid [snapshot] glob '{pattern}'"))?;
        builder.add(glob);
    }
    match builder.build() {
        Ok(set) => Ok(set),
        Err(e) => bail!("invalid [snapshot] globs: {e}"),
    }
}

/// The compiled include/exclude globs, matched against paths relative to
/// the snapshot's root.
pub struct Matcher {
    include: Option<GlobSet>,
    exclude: GlobSet,
}

impl Matcher {
    pub fn takes(&self, rel: &Path) -> bool {
        if self.exclude.is_match(rel) {
            return false;
        }
        self.include.as_ref().is_none_or(|set| set.is_match(rel))
    }

    /// Whether a whole folder is excluded (its content never read): true
    /// when a file inside it would be excluded by a `folder/**` pattern.
    pub fn prunes(&self, rel_dir: &Path) -> bool {
        self.exclude
            .is_match(rel_dir.join("\u{1}runlore-probe\u{1}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_excludes_drop_caches_and_keep_sources() {
        let m = matcher(&Policy::default()).expect("globs");
        assert!(m.takes(Path::new("src/train.py")));
        assert!(!m.takes(Path::new("src/__pycache__/train.cpython-312.pyc")));
        assert!(!m.takes(Path::new("x.pyc")));
        assert!(m.prunes(Path::new(".venv")));
        assert!(m.prunes(Path::new("a/node_modules")));
        assert!(!m.prunes(Path::new("src")));
    }

    #[test]
    fn include_narrows_and_exclude_wins() {
        let policy = Policy {
            include: vec!["**/*.py".into()],
            exclude: vec!["tmp/**".into()],
            ..Policy::default()
        };
        let m = matcher(&policy).expect("globs");
        assert!(m.takes(Path::new("a/b.py")));
        assert!(!m.takes(Path::new("a/b.txt")));
        assert!(!m.takes(Path::new("tmp/b.py")));
    }

    #[test]
    fn bad_globs_and_keys_are_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("runlore.toml");
        std::fs::write(&file, "[snapshot]\nexclude = [\"a[\"]\n").expect("write");
        let err = load(Some(&file)).expect_err("bad glob");
        assert!(
            format!("{err:#}").contains("invalid [snapshot] glob"),
            "{err:#}"
        );
        std::fs::write(&file, "[snapshot]\nmax_bytes = 3\n").expect("write");
        assert!(load(Some(&file)).is_err());
        std::fs::write(&file, "[snapshot]\nmax_file_bytes = 3\ntracked = \"all\"\n")
            .expect("write");
        let policy = load(Some(&file)).expect("ok");
        assert_eq!(policy.max_file_bytes, 3);
        assert_eq!(policy.tracked, Tracked::All);
    }
}
