//! The answer from the rows: entities from the blobs, activities from the
//! runs, and (when asked) the DAG edges among those runs, in
//! `LineageGraph::finish`'s order.

use std::collections::BTreeSet;

use runlore_core::graph::EdgeKind;
use runlore_core::lineage::{LineageActivity, LineageEntity};
use runlore_core::{Result, Sha256Hex};

use super::rows::{ActivityRow, Rows, Touch};
use super::{Assembled, Record};

impl Assembled {
    /// The run keys an answer's activities are read for: every run with
    /// rows, and `extra_runs` (activities without rows), ascending.
    pub(crate) fn run_keys(rows: &Rows, extra_runs: &[i64]) -> Vec<i64> {
        rows.touches
            .iter()
            .map(|t| t.run)
            .chain(extra_runs.iter().copied())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// The answer from its rows, the activities of [`Assembled::run_keys`]
    /// (read by internal key, ascending) and, when asked, the DAG edges
    /// among them as (child, parent, kind) keys. `blob_depth` (by blob
    /// index) is a trace's hop count (empty otherwise).
    pub(crate) fn from_parts(
        rows: Rows,
        activities: Vec<ActivityRow>,
        blob_depth: &[Option<u32>],
        edges: Option<Vec<(i64, i64, EdgeKind)>>,
    ) -> Result<Assembled> {
        let Rows {
            touches, digests, ..
        } = rows;
        let runs = Runs::new(activities);
        // Entity of each blob index, made when a row first names it.
        let mut blob_of: Vec<Option<usize>> = vec![None; digests.len()];
        let mut blobs: Vec<LineageEntity> = Vec::with_capacity(digests.len());
        let mut records: Vec<Record> = Vec::with_capacity(touches.len());
        for t in touches {
            let Touch {
                run,
                blob,
                path,
                size,
                media_type,
                output,
                uri,
                time,
            } = t;
            let Some(run) = runs.rank_of(run) else {
                continue;
            };
            let blob = match blob_of[blob] {
                Some(i) => i,
                None => {
                    blobs.push(LineageEntity {
                        sha256: Sha256Hex::parse(&digests[blob])?,
                        size,
                        media_type: String::new(),
                        paths: Vec::new(),
                        uri: None,
                        first_seen: time,
                        depth: blob_depth.get(blob).copied().flatten(),
                    });
                    blob_of[blob] = Some(blobs.len() - 1);
                    blobs.len() - 1
                }
            };
            // Rows come in a fixed order; the first media type and the last
            // location win.
            let entity = &mut blobs[blob];
            entity.first_seen = entity.first_seen.min(time);
            entity.size = entity.size.max(size);
            if entity.media_type.is_empty() {
                entity.media_type = media_type;
            }
            if uri.is_some() {
                entity.uri = uri;
            }
            records.push(Record {
                run,
                blob,
                output,
                path,
                time,
            });
        }
        // Blobs sorted once by digest; records then sort on ranks.
        let (blobs, blob_rank) = sorted_by_id(blobs, |b| b.sha256.as_str());
        for r in &mut records {
            r.blob = blob_rank[r.blob];
        }
        // Stable: records alike in run, blob and path keep the rows' order.
        records.sort_by(|a, b| (a.run, a.blob, &a.path).cmp(&(b.run, b.blob, &b.path)));
        // A record alike in every field to the one before it in its list
        // (used or generated) is left out, as `finish` does.
        let mut kept: Vec<Record> = Vec::with_capacity(records.len());
        let mut last: [Option<usize>; 2] = [None, None];
        for r in records {
            let list = usize::from(r.output);
            if let Some(p) = last[list].map(|i| &kept[i])
                && (p.run, p.blob, p.time, &p.path) == (r.run, r.blob, r.time, &r.path)
            {
                continue;
            }
            last[list] = Some(kept.len());
            kept.push(r);
        }
        let informed = edges.map(|e| informed(e, &runs)).unwrap_or_default();
        Ok(Assembled {
            runs: runs.sorted,
            sources: runs.sources,
            blobs,
            records: kept,
            informed,
        })
    }
}

/// `items` sorted by the text `id` gives each (a run id or a digest), and
/// where each item (by its old index) went.
fn sorted_by_id<T>(items: Vec<T>, id: impl Fn(&T) -> &str) -> (Vec<T>, Vec<usize>) {
    // Ids are lowercase hex of one length, so their first 32 digits as a
    // number order them as the text does; the text only breaks ties. Sorting
    // 10,000 digests by text cost more than sorting everything else.
    let mut order: Vec<(u128, usize)> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let text = id(item);
            let head = text.get(..32.min(text.len())).unwrap_or("");
            (u128::from_str_radix(head, 16).unwrap_or(0), i)
        })
        .collect();
    order.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| id(&items[a.1]).cmp(id(&items[b.1])))
    });
    let mut rank = vec![0; order.len()];
    for (r, &(_, i)) in order.iter().enumerate() {
        rank[i] = r;
    }
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    let sorted = order.iter().filter_map(|&(_, i)| slots[i].take()).collect();
    (sorted, rank)
}

/// The runs of a graph as activities, sorted by public id, and the program
/// behind each.
struct Runs {
    /// Internal keys, ascending.
    keys: Vec<i64>,
    /// `rank[i]`: where the run with `keys[i]` sits in `sorted`.
    rank: Vec<usize>,
    sorted: Vec<LineageActivity>,
    sources: Vec<Option<String>>,
}

impl Runs {
    fn new(activities: Vec<ActivityRow>) -> Runs {
        let keys = activities.iter().map(|a| a.key).collect();
        let runs: Vec<(LineageActivity, Option<String>)> = activities
            .into_iter()
            .map(|a| (a.activity, a.source.filter(|s| !s.is_empty())))
            .collect();
        let (sorted, rank) = sorted_by_id(runs, |r| r.0.run_id.as_str());
        let (sorted, sources) = sorted.into_iter().unzip();
        Runs {
            keys,
            rank,
            sorted,
            sources,
        }
    }

    fn rank_of(&self, key: i64) -> Option<usize> {
        let i = self.keys.binary_search(&key).ok()?;
        self.rank.get(i).copied()
    }
}

/// DAG edges between runs of the graph (both ends in it), by run rank.
fn informed(edges: Vec<(i64, i64, EdgeKind)>, runs: &Runs) -> Vec<(usize, usize, EdgeKind)> {
    let mut out: Vec<(usize, usize, EdgeKind)> = edges
        .into_iter()
        .filter_map(|(child, parent, kind)| {
            Some((runs.rank_of(child)?, runs.rank_of(parent)?, kind))
        })
        .collect();
    // Stable, then alike edges once, as `finish` orders them.
    out.sort_by_key(|&(run, informant, _)| (run, informant));
    out.dedup();
    out
}
