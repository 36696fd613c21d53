//! What a lineage question reads, whatever the database: artifact rows and
//! dataset inputs ("touches") with each digest kept once, and the runs they
//! belong to. A backend fills these from its queries; `assemble.rs` makes
//! the answer from them.

use std::collections::HashMap;

use runlore_core::lineage::{LineageActivity, LineageEntity, LineageGraph};
use runlore_core::{Error, ErrorKind, Result, Sha256Hex};

/// The tag MLflow (and the SDK) put the entry point in; it names the
/// software agent of a run.
pub(crate) const SOURCE_TAG: &str = "mlflow.source.name";

/// One artifact row or dataset input, by run key and blob (an index into
/// [`Rows::digests`]).
#[derive(Debug, Clone)]
pub(crate) struct Touch {
    pub(crate) run: i64,
    pub(crate) blob: usize,
    pub(crate) path: String,
    pub(crate) size: u64,
    pub(crate) media_type: String,
    pub(crate) output: bool,
    pub(crate) uri: Option<String>,
    pub(crate) time: i64,
}

/// The rows read for a question, with each digest they name kept once: a
/// trace meets every blob twice or more, and rows compare and look up
/// blobs by index instead of by 64-character digest.
#[derive(Debug, Default)]
pub(crate) struct Rows {
    pub(crate) touches: Vec<Touch>,
    pub(crate) digests: Vec<String>,
    index: HashMap<String, usize>,
}

impl Rows {
    /// The index of a digest, added when new.
    pub(crate) fn blob(&mut self, sha: &str) -> usize {
        if let Some(&i) = self.index.get(sha) {
            return i;
        }
        self.digests.push(sha.to_owned());
        self.index.insert(sha.to_owned(), self.digests.len() - 1);
        self.digests.len() - 1
    }

    /// Keeps, of the rows after the first `mine` (the rows of the run asked
    /// about), only the outputs of other runs: who made the run's inputs.
    pub(crate) fn keep_producers(&mut self, mine: usize, run: i64) {
        let mut i = 0;
        self.touches.retain(|t| {
            i += 1;
            i <= mine || (t.output && t.run != run)
        });
    }

    /// Puts the rows in the order a trace reads them (see
    /// [`Rows::keep_reached`]), keeping all.
    pub(crate) fn sort_as_read(&mut self) {
        let digests = &self.digests;
        self.touches.sort_by(|a, b| {
            (a.uri.is_some(), a.run, &a.path)
                .cmp(&(b.uri.is_some(), b.run, &b.path))
                .then_with(|| digests[a.blob].cmp(&digests[b.blob]))
        });
    }

    /// A trace's rows: only the reached runs', in the order traces always
    /// read rows in (artifact rows, then dataset inputs, each by run key,
    /// then by path and digest), since when rows of one blob disagree the
    /// first media type and the last location win.
    pub(crate) fn keep_reached(&mut self, run_depth: &HashMap<i64, u32>) {
        self.touches.retain(|t| run_depth.contains_key(&t.run));
        self.sort_as_read();
    }
}

/// A run's activity and its program (`mlflow.source.name`), by internal key.
pub(crate) struct ActivityRow {
    pub(crate) key: i64,
    pub(crate) activity: LineageActivity,
    pub(crate) source: Option<String>,
}

pub(crate) fn no_such_blob(sha: &impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::NotFound,
        format!("no run used or made bytes with sha256 {sha}"),
    )
}

/// The answer when a trace reaches no run (nothing upstream or downstream,
/// or depth 0): the blob alone, from its rows, if any run knows it at all.
pub(crate) fn blob_alone(start: &Sha256Hex, known: &Rows) -> Result<LineageGraph> {
    let Some(first) = known.touches.first() else {
        return Err(no_such_blob(start));
    };
    let mut paths: Vec<String> = known.touches.iter().map(|t| t.path.clone()).collect();
    paths.sort();
    paths.dedup();
    Ok(LineageGraph {
        entities: vec![LineageEntity {
            sha256: start.clone(),
            size: first.size,
            media_type: first.media_type.clone(),
            paths,
            uri: known.touches.iter().find_map(|t| t.uri.clone()),
            first_seen: known
                .touches
                .iter()
                .map(|t| t.time)
                .min()
                .unwrap_or(first.time),
            depth: Some(0),
        }],
        ..LineageGraph::default()
    })
}
