//! What researchers do with artifacts beyond listing rows: move bytes in
//! and out, record inputs by hash, compare two runs' files, ask for
//! lineage, verify integrity and collect garbage. One trait, implemented on
//! the local data dir (runlore-server's `LocalArtifacts`, which the HTTP
//! handlers also call) and over HTTP (runlore-client), so the CLI's
//! `artifact`, `lineage` and `gc` commands are written once.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use similar::{ChangeTag, TextDiff};
use utoipa::ToSchema;

use crate::artifact::{Artifact, ArtifactDirection};
use crate::blob::{ByteStream, Sha256Hex};
use crate::error::Result;
use crate::ids::RunId;
use crate::lineage::{GcReport, LineageGraph, LineageScope, VerifyReport};

#[derive(Debug, Clone, Default)]
pub struct UploadOptions {
    /// Refuse (and store nothing) unless the bytes hash to this.
    pub expected_sha256: Option<Sha256Hex>,
    pub direction: ArtifactDirection,
    pub step: Option<i64>,
    /// What the client says the bytes are; the path's extension wins when
    /// it names a type.
    pub media_type: Option<String>,
}

/// Bytes a run used, named by hash: a blob already stored (by any run),
/// recorded as an input artifact at `path`; or, with `uri`, an external
/// file Runlore does not hold (a dataset on S3), recorded by reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UseInput {
    #[schema(value_type = String)]
    pub sha256: Sha256Hex,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

/// What to re-hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyTarget {
    Run(RunId),
    Project(String),
    Blob(Sha256Hex),
    /// Every blob any artifact refers to.
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GcOptions {
    /// Remove; otherwise only report (the default).
    #[serde(default)]
    pub apply: bool,
    /// Unreferenced blobs younger than this stay: an upload may be about to
    /// record them.
    #[serde(default = "default_min_age_ms")]
    pub min_age_ms: i64,
}

pub const DEFAULT_GC_MIN_AGE_MS: i64 = 60 * 60 * 1000;

fn default_min_age_ms() -> i64 {
    DEFAULT_GC_MIN_AGE_MS
}

/// A file in both runs whose bytes differ.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChangedArtifact {
    pub path: String,
    pub before: Artifact,
    pub after: Artifact,
    /// Side-by-side lines, when one path was asked for and both sides are
    /// text of a readable size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<DiffLine>>,
}

/// One row of a side-by-side text diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DiffLine {
    /// `equal`, `delete` (only on the left) or `insert` (only on the right).
    pub tag: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_line: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_line: Option<u32>,
    pub text: String,
}

/// `runlore artifact diff A B`: paths only in B (added), only in A
/// (removed), in both with other bytes (changed), and how many match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ArtifactDiff {
    pub added: Vec<Artifact>,
    pub removed: Vec<Artifact>,
    pub changed: Vec<ChangedArtifact>,
    pub unchanged: u64,
}

/// Largest file shown as a text diff, per side.
pub const MAX_TEXT_DIFF_BYTES: u64 = 1 << 20;

/// Compares two runs' artifact lists (each sorted by path or not).
pub fn diff_lists(before: &[Artifact], after: &[Artifact]) -> ArtifactDiff {
    use std::collections::BTreeMap;
    let old: BTreeMap<&str, &Artifact> = before.iter().map(|a| (a.path.as_str(), a)).collect();
    let new: BTreeMap<&str, &Artifact> = after.iter().map(|a| (a.path.as_str(), a)).collect();
    let mut diff = ArtifactDiff::default();
    for (path, a) in &old {
        match new.get(path) {
            None => diff.removed.push((*a).clone()),
            Some(b) if b.sha256 == a.sha256 => diff.unchanged += 1,
            Some(b) => diff.changed.push(ChangedArtifact {
                path: (*path).to_owned(),
                before: (*a).clone(),
                after: (*b).clone(),
                lines: None,
            }),
        }
    }
    diff.added = new
        .iter()
        .filter(|(path, _)| !old.contains_key(*path))
        .map(|(_, b)| (*b).clone())
        .collect();
    diff
}

/// Whether a file is worth showing as text: a textual media type, or
/// bytes that decode as UTF-8 without NULs.
pub fn looks_like_text(media_type: &str, bytes: &[u8]) -> bool {
    let textual = media_type.starts_with("text/")
        || ["json", "yaml", "xml", "csv", "toml", "javascript"]
            .iter()
            .any(|t| media_type.contains(t));
    (textual || std::str::from_utf8(bytes).is_ok()) && !bytes.contains(&0)
}

/// Line-by-line diff of two texts, in order, with line numbers.
pub fn text_lines(old: &str, new: &str) -> Vec<DiffLine> {
    let diff = TextDiff::from_lines(old, new);
    diff.iter_all_changes()
        .map(|change| {
            let number = |i: Option<usize>| i.and_then(|i| u32::try_from(i + 1).ok());
            DiffLine {
                tag: match change.tag() {
                    ChangeTag::Equal => "equal",
                    ChangeTag::Delete => "delete",
                    ChangeTag::Insert => "insert",
                }
                .to_owned(),
                old_line: number(change.old_index()),
                new_line: number(change.new_index()),
                text: change.value().trim_end_matches(['\n', '\r']).to_owned(),
            }
        })
        .collect()
}

#[async_trait]
pub trait ArtifactService: Send + Sync {
    /// Streams a file into a run's artifacts (stored once by SHA-256).
    async fn upload(
        &self,
        run: &RunId,
        path: &str,
        body: ByteStream,
        options: UploadOptions,
    ) -> Result<Artifact>;

    /// Streams a run's artifact out; the stream ends with an error if the
    /// stored bytes no longer match their hash.
    async fn download(&self, run: &RunId, path: &str) -> Result<(Artifact, ByteStream)>;

    /// Every artifact of a run under `dir` (`""` for all).
    async fn list(&self, run: &RunId, dir: &str) -> Result<Vec<Artifact>>;

    /// Records that a run used bytes known by hash.
    async fn use_input(&self, run: &RunId, input: UseInput) -> Result<()>;

    /// Compares two runs' files; with `path`, that file's lines too.
    async fn diff(&self, a: &RunId, b: &RunId, path: Option<&str>) -> Result<ArtifactDiff>;

    async fn lineage(&self, scope: LineageScope) -> Result<LineageGraph>;

    /// [`lineage`](Self::lineage) as JSON ([`crate::lineage::to_json`]);
    /// a local service hands the work to the store (see
    /// [`crate::ArtifactIndex::lineage_json`]).
    async fn lineage_json(&self, scope: LineageScope) -> Result<Vec<u8>> {
        Ok(crate::lineage::to_json(&self.lineage(scope).await?))
    }

    async fn verify(&self, target: VerifyTarget) -> Result<VerifyReport>;

    async fn gc(&self, options: GcOptions) -> Result<GcReport>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact(path: &str, sha: u8) -> Artifact {
        Artifact {
            path: path.into(),
            sha256: Sha256Hex::parse(&format!("{sha:02x}").repeat(32)).expect("sha"),
            size: 1,
            media_type: "text/plain".into(),
            direction: ArtifactDirection::Output,
            step: None,
            created_at: 0,
        }
    }

    #[test]
    fn lists_compare_by_path_then_hash() {
        let a = [
            artifact("same", 1),
            artifact("edited", 2),
            artifact("gone", 3),
        ];
        let b = [
            artifact("same", 1),
            artifact("edited", 4),
            artifact("new", 5),
        ];
        let d = diff_lists(&a, &b);
        assert_eq!(d.unchanged, 1);
        assert_eq!(d.removed[0].path, "gone");
        assert_eq!(d.added[0].path, "new");
        assert_eq!(d.changed[0].path, "edited");
    }

    #[test]
    fn text_lines_number_both_sides() {
        let lines = text_lines("a\nb\nc\n", "a\nB\nc\nd\n");
        let tags: Vec<&str> = lines.iter().map(|l| l.tag.as_str()).collect();
        assert_eq!(tags, ["equal", "delete", "insert", "equal", "insert"]);
        assert_eq!(lines[1].old_line, Some(2));
        assert_eq!(lines[2].new_line, Some(2));
        assert_eq!(lines[4].text, "d");
    }

    #[test]
    fn binary_bytes_are_not_text() {
        assert!(looks_like_text("application/octet-stream", b"plain words"));
        assert!(!looks_like_text("text/plain", b"a\0b"));
        assert!(!looks_like_text(
            "application/octet-stream",
            &[0xff, 0xfe, 0x00]
        ));
    }
}
