//! A lineage answer as the rows gave it, before it becomes a graph or
//! JSON; every backend builds one from its own queries.
//!
//! [`Assembled`] holds it in `LineageGraph::finish`'s order, each string
//! once, and becomes either the graph or its JSON (`render`). The JSON is
//! written straight from it: a 10,000-run trace as a graph is some 160,000
//! small allocations, which took longer to make, serialise and free than
//! the walk that found the rows.

mod assemble;
mod render;
mod rows;

pub(crate) use rows::{ActivityRow, Rows, SOURCE_TAG, Touch, blob_alone, no_such_blob};

use runlore_core::graph::EdgeKind;
use runlore_core::lineage::{LineageActivity, LineageEntity};

pub(crate) struct Assembled {
    /// The runs, by public id.
    pub(crate) runs: Vec<LineageActivity>,
    /// Each run's program (`mlflow.source.name`), when it names one.
    pub(crate) sources: Vec<Option<String>>,
    /// The blobs, by digest; their `paths` stay empty (the records have them).
    pub(crate) blobs: Vec<LineageEntity>,
    /// By (run, blob, path).
    pub(crate) records: Vec<Record>,
    /// (run, informant, kind) by run, then informant.
    pub(crate) informed: Vec<(usize, usize, EdgeKind)>,
}

/// A run (index in `runs`) read or wrote a blob (index in `blobs`).
pub(crate) struct Record {
    pub(crate) run: usize,
    pub(crate) blob: usize,
    pub(crate) output: bool,
    pub(crate) path: String,
    pub(crate) time: i64,
}
