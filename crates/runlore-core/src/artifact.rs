//! Artifacts: rows that name a blob by its SHA-256 under a path of a run (or
//! of a logged model). The bytes live once in the blob store; any number of
//! rows may point at them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::blob::Sha256Hex;
use crate::error::{Error, Result};
use crate::ids::{RunId, truncate_for_message};

/// Longest artifact path, in bytes, and longest single path segment.
pub const MAX_ARTIFACT_PATH_BYTES: usize = 4_096;
pub const MAX_ARTIFACT_SEGMENT_BYTES: usize = 255;

/// Whose artifact tree a path belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ArtifactOwner {
    Run(RunId),
    /// A logged model (`m-<32 hex>`), MLflow 3's unit of model artifacts.
    Model(ModelId),
}

impl fmt::Display for ArtifactOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArtifactOwner::Run(id) => write!(f, "run '{id}'"),
            ArtifactOwner::Model(id) => write!(f, "model '{id}'"),
        }
    }
}

/// A logged model id: `m-` and 32 lowercase hex characters, as MLflow makes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ModelId(String);

impl ModelId {
    pub fn generate() -> ModelId {
        ModelId(format!("m-{}", uuid::Uuid::new_v4().simple()))
    }

    pub fn parse(text: &str) -> Result<ModelId> {
        let ok = text.strip_prefix("m-").is_some_and(|hex| {
            hex.len() == 32
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
        if ok {
            Ok(ModelId(text.to_owned()))
        } else {
            Err(Error::invalid(format!(
                "invalid model id '{}': expected 'm-' and 32 lowercase hex characters",
                truncate_for_message(text)
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ModelId {
    type Error = Error;
    fn try_from(s: String) -> Result<ModelId> {
        ModelId::parse(&s)
    }
}

impl From<ModelId> for String {
    fn from(id: ModelId) -> String {
        id.0
    }
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a run produced the artifact or used it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactDirection {
    #[default]
    Output,
    Input,
}

impl ArtifactDirection {
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactDirection::Output => "output",
            ArtifactDirection::Input => "input",
        }
    }

    pub fn parse(text: &str) -> Result<ArtifactDirection> {
        match text {
            "output" => Ok(ArtifactDirection::Output),
            "input" => Ok(ArtifactDirection::Input),
            other => Err(Error::invalid(format!(
                "unknown artifact direction '{other}': expected output or input"
            ))),
        }
    }
}

/// An artifact row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Artifact {
    /// Relative to the owner's artifact root, `/`-separated.
    pub path: String,
    #[schema(value_type = String)]
    pub sha256: Sha256Hex,
    pub size: u64,
    pub media_type: String,
    pub direction: ArtifactDirection,
    /// For media logged per step (images, audio …).
    pub step: Option<i64>,
    pub created_at: i64,
}

/// What recording an artifact needs; the blob must already be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewArtifact {
    pub path: String,
    pub sha256: Sha256Hex,
    pub size: u64,
    pub media_type: String,
    pub direction: ArtifactDirection,
    pub step: Option<i64>,
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ArtifactEntry {
    /// The entry's name inside the listed directory.
    pub name: String,
    /// Its full path from the owner's root.
    pub path: String,
    pub is_dir: bool,
    /// Files only.
    pub size: Option<u64>,
}

/// Checks an artifact path: relative, `/`-separated, no empty, `.` or `..`
/// segments, no NUL or backslash, bounded lengths. Paths name files on disk
/// when runs are restored or exported, so nothing may climb out of the root.
pub fn validate_path(path: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(Error::invalid(format!(
            "invalid artifact path '{}': {why}",
            truncate_for_message(&path.escape_debug().to_string())
        )))
    };
    if path.is_empty() {
        return bad("it is empty");
    }
    if path.len() > MAX_ARTIFACT_PATH_BYTES {
        return bad("it is longer than 4096 bytes");
    }
    if path.starts_with('/') {
        return bad("it must be relative, not start with '/'");
    }
    if path.contains('\0') || path.contains('\\') {
        return bad("it must not contain NUL or backslash characters");
    }
    for segment in path.split('/') {
        match segment {
            "" => return bad("it has an empty segment ('//' or a trailing '/')"),
            "." | ".." => return bad("'.' and '..' segments are not allowed"),
            s if s.len() > MAX_ARTIFACT_SEGMENT_BYTES => {
                return bad("a segment is longer than 255 bytes");
            }
            s if s.chars().any(char::is_control) => {
                return bad("it contains control characters");
            }
            _ => {}
        }
    }
    Ok(())
}

/// Normalises a directory argument of a listing: `""`, `"."` and `"/"` mean
/// the root; trailing slashes are dropped; the rest must be a valid path.
pub fn normalize_dir(dir: &str) -> Result<String> {
    let trimmed = dir.trim_end_matches('/');
    if trimmed.is_empty() || trimmed == "." {
        return Ok(String::new());
    }
    validate_path(trimmed)?;
    Ok(trimmed.to_owned())
}

/// The immediate entries of `dir` (normalised, `""` for the root) among the
/// given artifacts (all under `dir/`), sorted by name: files with their size,
/// sub-directories once each.
pub fn list_dir(dir: &str, artifacts: &[Artifact]) -> Vec<ArtifactEntry> {
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let mut entries: BTreeMap<String, ArtifactEntry> = BTreeMap::new();
    for artifact in artifacts {
        let Some(rest) = artifact.path.strip_prefix(&prefix) else {
            continue;
        };
        match rest.split_once('/') {
            Some((sub, _)) => {
                entries
                    .entry(sub.to_owned())
                    .or_insert_with(|| ArtifactEntry {
                        name: sub.to_owned(),
                        path: format!("{prefix}{sub}"),
                        is_dir: true,
                        size: None,
                    });
            }
            None => {
                entries.insert(
                    rest.to_owned(),
                    ArtifactEntry {
                        name: rest.to_owned(),
                        path: artifact.path.clone(),
                        is_dir: false,
                        size: Some(artifact.size),
                    },
                );
            }
        }
    }
    entries.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_climb_or_hide_are_refused() {
        for ok in ["a.txt", "dir/sub/b.json", "my file+v1 é.txt", "a..b/c"] {
            assert!(validate_path(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a/./b",
            "a//b",
            "a/",
            "a\0b",
            "a\\b",
            "..",
        ] {
            assert!(validate_path(bad).is_err(), "{bad:?}");
        }
        assert!(validate_path(&"x".repeat(256)).is_err());
        assert!(validate_path(&["y"; 3000].join("/")).is_err());
    }

    #[test]
    fn listing_shows_files_and_each_directory_once() {
        let artifact = |path: &str, size| Artifact {
            path: path.to_owned(),
            sha256: Sha256Hex::parse(&"0".repeat(64)).unwrap(),
            size,
            media_type: String::new(),
            direction: ArtifactDirection::Output,
            step: None,
            created_at: 0,
        };
        let all = [
            artifact("a.txt", 3),
            artifact("out/b.json", 5),
            artifact("out/sub/c.bin", 7),
            artifact("out/sub/d.bin", 9),
        ];
        let root = list_dir("", &all);
        let names: Vec<_> = root.iter().map(|e| (e.name.as_str(), e.is_dir)).collect();
        assert_eq!(names, [("a.txt", false), ("out", true)]);
        let out = list_dir("out", &all[1..]);
        assert_eq!(out[0].path, "out/b.json");
        assert_eq!(out[0].size, Some(5));
        assert_eq!(out[1].path, "out/sub");
        assert!(out[1].is_dir);
        assert_eq!(normalize_dir("/").unwrap(), "");
        assert_eq!(normalize_dir("out/").unwrap(), "out");
        assert!(normalize_dir("../x").is_err());
    }
}
