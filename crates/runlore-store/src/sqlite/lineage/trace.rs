//! Traces: from a blob up (the runs that made it, their inputs, the runs
//! that made those, …) or down (the runs that used it, their outputs, …),
//! breadth first, to a depth.
//!
//! The walk runs here, two small prepared statements per run, and stops at
//! the depth. It used to be one recursive query over run keys, but a
//! recursion that carries each run's depth (needed to stop at the depth)
//! cannot drop a run it reached before by another path: on a DAG with
//! paths of many lengths it grows with the number of (run, depth) pairs (a
//! 2,000-run random DAG gave 125,000 rows at depth 100, 0.85 s). Without
//! the depth it walked every reachable run whatever the depth. Inside one
//! read transaction a statement costs little, and each run and blob is
//! visited once.
//!
//! A step reads a run's next blobs from the (run, direction, sha256) index
//! alone, then each new blob's rows, which hold both the rows of the runs
//! it leads to and the stepping run's own row: each artifact row is read
//! from the table once.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};

use runlore_core::lineage::TraceDirection;
use runlore_core::{Result, Sha256Hex};
use rusqlite::{Connection, Statement};

use super::{Answer, DATASET_ROWS, assemble, db_err, read_rows, touches, touches_sql};
use crate::assembled_lineage::{Rows, blob_alone};

/// The statements of one walk.
struct Steps<'c> {
    /// A run's blobs further on: its inputs (up) or outputs (down).
    blobs_of_run: Statement<'c>,
    /// Every row (artifact or dataset input) on a blob.
    rows_of_blob: Statement<'c>,
}

impl<'c> Steps<'c> {
    fn prepare(conn: &'c Connection, direction: TraceDirection) -> Result<Steps<'c>> {
        // Datasets known by SHA-256 are rare; without any, a walk skips
        // their lookups.
        let datasets: bool = conn
            .prepare_cached(&format!(
                "SELECT EXISTS ({})",
                DATASET_ROWS.replace("{filter}", "1")
            ))
            .map_err(db_err)?
            .query_row([], |r| r.get(0))
            .map_err(db_err)?;
        // Both read indexes only. Dataset inputs lead further up only.
        let mut blobs_of_run = match direction {
            TraceDirection::Up => {
                "SELECT sha256 FROM artifacts INDEXED BY artifacts_by_run_direction
                 WHERE run_id = ?1 AND direction = 'input'"
            }
            TraceDirection::Down => {
                "SELECT sha256 FROM artifacts INDEXED BY artifacts_by_run_direction
                 WHERE run_id = ?1 AND direction = 'output'"
            }
        }
        .to_owned();
        if datasets && direction == TraceDirection::Up {
            blobs_of_run.push_str(
                " UNION ALL SELECT digest FROM run_inputs WHERE run_id = ?1
                  AND length(digest) = 64 AND digest NOT GLOB '*[^0-9a-f]*'",
            );
        }
        Ok(Steps {
            blobs_of_run: conn.prepare(&blobs_of_run).map_err(db_err)?,
            rows_of_blob: conn
                .prepare(&touches_sql("sha256 = ?1", datasets))
                .map_err(db_err)?,
        })
    }
}

/// A walk under way.
struct Walk<'c> {
    steps: Steps<'c>,
    direction: TraceDirection,
    max_depth: u32,
    rows: Rows,
    run_depth: HashMap<i64, u32>,
    /// By blob index; `None` until the walk reaches the blob.
    blob_depth: Vec<Option<u32>>,
    queue: VecDeque<(i64, u32)>,
}

impl Walk<'_> {
    /// The blobs one step past a run (indexes into the rows' digests).
    fn blobs_of_run(&mut self, run: i64, out: &mut Vec<usize>) -> Result<()> {
        out.clear();
        let mut found = self.steps.blobs_of_run.query([run]).map_err(db_err)?;
        while let Some(r) = found.next().map_err(db_err)? {
            let sha = r
                .get_ref(0)
                .map_err(db_err)?
                .as_str()
                .map_err(|e| db_err(e.into()))?;
            out.push(self.rows.blob(sha));
        }
        Ok(())
    }

    /// Reads a newly reached blob's rows. The runs it leads to (its
    /// producers going up, its consumers going down) are one hop further,
    /// unless the blob is at the depth already: then it is shown but not
    /// followed.
    fn reach(&mut self, blob: usize, depth: u32) -> Result<()> {
        self.blob_depth.resize(self.rows.digests.len(), None);
        if self.blob_depth[blob].is_some() {
            return Ok(());
        }
        self.blob_depth[blob] = Some(depth);
        let first = self.rows.touches.len();
        // Lent out while its rows are read (they name it by index anyway).
        let sha = std::mem::take(&mut self.rows.digests[blob]);
        let read = read_rows(&mut self.rows, &mut self.steps.rows_of_blob, &sha);
        self.rows.digests[blob] = sha;
        read?;
        if depth >= self.max_depth {
            return Ok(());
        }
        for t in &self.rows.touches[first..] {
            let leads_on = match self.direction {
                TraceDirection::Up => t.output,
                TraceDirection::Down => !t.output,
            };
            if leads_on && let Entry::Vacant(e) = self.run_depth.entry(t.run) {
                e.insert(depth + 1);
                self.queue.push_back((t.run, depth + 1));
            }
        }
        Ok(())
    }
}

pub(super) fn trace(
    conn: &Connection,
    start: &Sha256Hex,
    direction: TraceDirection,
    max_depth: u32,
) -> Result<Answer> {
    let mut walk = Walk {
        steps: Steps::prepare(conn, direction)?,
        direction,
        max_depth,
        rows: Rows::default(),
        run_depth: HashMap::new(),
        blob_depth: Vec::new(),
        queue: VecDeque::new(),
    };
    let start_blob = walk.rows.blob(start.as_str());
    walk.reach(start_blob, 0)?;
    // Breadth first, so the first depth a run or blob gets is its least.
    let mut next: Vec<usize> = Vec::new();
    while let Some((run, depth)) = walk.queue.pop_front() {
        walk.blobs_of_run(run, &mut next)?;
        for &blob in &next {
            walk.reach(blob, depth)?;
        }
    }
    let Walk {
        mut rows,
        run_depth,
        mut blob_depth,
        ..
    } = walk;
    if run_depth.is_empty() {
        let mut known = Rows::default();
        touches(conn, &mut known, "sha256 = ?1", start.as_str())?;
        return blob_alone(start, &known).map(Answer::Graph);
    }
    // The reached runs' rows, all on reached blobs: what a run made (up) or
    // used (down) on the way, and what it used (up) or made (down) further
    // on. (A blob's rows include runs the walk never reached.)
    rows.keep_reached(&run_depth);
    blob_depth.resize(rows.digests.len(), None);
    assemble::build(conn, rows, &[], &blob_depth, &run_depth, false).map(Answer::Rows)
}
