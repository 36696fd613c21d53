//! The graph from the rows: entities from the blobs, activities from the
//! runs, and (when asked) the DAG edges among those runs.
//!
//! It is built into an [`Assembled`] (`crate::assembled_lineage`, shared
//! by the backends), which becomes either the graph or its JSON.

use std::collections::{BTreeSet, HashMap};

use runlore_core::graph::EdgeKind;
use runlore_core::lineage::{LineageActivity, LineageEntity};
use runlore_core::{Result, RunId, RunStatus, Sha256Hex};
use rusqlite::{Connection, params};

use super::{Rows, SOURCE_TAG, Touch, db_err, json_keys};
use crate::assembled_lineage::{Assembled, Record};

impl Assembled {
    /// `blob_depth` (by blob index) and `run_depth` are a trace's hop
    /// counts (empty otherwise); `extra_runs` are activities without rows.
    pub(super) fn build(
        conn: &Connection,
        rows: Rows,
        extra_runs: &[i64],
        blob_depth: &[Option<u32>],
        run_depth: &HashMap<i64, u32>,
        with_edges: bool,
    ) -> Result<Assembled> {
        let Rows {
            touches, digests, ..
        } = rows;
        let run_keys: Vec<i64> = touches
            .iter()
            .map(|t| t.run)
            .chain(extra_runs.iter().copied())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let runs = activities(conn, &run_keys, run_depth)?;
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
        let informed = if with_edges {
            edges(conn, &run_keys, &runs)?
        } else {
            Vec::new()
        };
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
    fn rank_of(&self, key: i64) -> Option<usize> {
        let i = self.keys.binary_search(&key).ok()?;
        self.rank.get(i).copied()
    }
}

/// The runs `keys` (ascending) as activities, with their trace depths.
fn activities(conn: &Connection, keys: &[i64], run_depth: &HashMap<i64, u32>) -> Result<Runs> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT r.id, r.uuid, r.name, p.name, e.name, r.status, r.user,
                    coalesce(r.start_time, r.created_at), r.end_time,
                    (SELECT value FROM tags t WHERE t.run_id = r.id AND t.key = ?2)
             FROM runs r JOIN projects p ON p.id = r.project_id
                         JOIN experiments e ON e.id = r.experiment_id
             WHERE r.id IN (SELECT value FROM json_each(?1))
             ORDER BY r.id",
        )
        .map_err(db_err)?;
    let mut rows = stmt
        .query(params![json_keys(keys), SOURCE_TAG])
        .map_err(db_err)?;
    let mut found = Vec::with_capacity(keys.len());
    let mut runs = Vec::with_capacity(keys.len());
    while let Some(r) = rows.next().map_err(db_err)? {
        // Read in place: only what the graph keeps is copied.
        let text = |i: usize| -> Result<&str> {
            r.get_ref(i)
                .map_err(db_err)?
                .as_str()
                .map_err(|e| db_err(e.into()))
        };
        let key: i64 = r.get(0).map_err(db_err)?;
        found.push(key);
        let source: Option<String> = r.get(9).map_err(db_err)?;
        runs.push((
            LineageActivity {
                run_id: RunId::parse(text(1)?)?,
                name: r.get(2).map_err(db_err)?,
                project: r.get(3).map_err(db_err)?,
                experiment: r.get(4).map_err(db_err)?,
                status: text(5)?.parse::<RunStatus>()?,
                user: r.get(6).map_err(db_err)?,
                start_time: r.get(7).map_err(db_err)?,
                end_time: r.get(8).map_err(db_err)?,
                depth: run_depth.get(&key).copied(),
            },
            source.filter(|s| !s.is_empty()),
        ));
    }
    let (sorted, rank) = sorted_by_id(runs, |r| r.0.run_id.as_str());
    let (sorted, sources) = sorted.into_iter().unzip();
    Ok(Runs {
        keys: found,
        rank,
        sorted,
        sources,
    })
}

/// DAG edges between runs of the graph (both ends in it), by run rank.
fn edges(conn: &Connection, keys: &[i64], runs: &Runs) -> Result<Vec<(usize, usize, EdgeKind)>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT child_id, parent_id, kind FROM run_edges
             WHERE child_id IN (SELECT value FROM json_each(?1))",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([json_keys(keys)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .map_err(db_err)?;
    let mut out = Vec::new();
    for row in rows {
        let (child, parent, kind) = row.map_err(db_err)?;
        if let (Some(run), Some(informant)) = (runs.rank_of(child), runs.rank_of(parent)) {
            out.push((run, informant, EdgeKind::parse(&kind)?));
        }
    }
    // Stable, then alike edges once, as `finish` orders them.
    out.sort_by_key(|&(run, informant, _)| (run, informant));
    out.dedup();
    Ok(out)
}
