//! Lineage queries on a real SQLite file: runs, the bytes they made and
//! used, traces up and down to any depth, and dataset inputs by digest.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use runlore_core::lineage::{AgentKind, LineageGraph, LineageScope, LineageUse, TraceDirection};
use runlore_core::*;

fn sha(n: u32) -> Sha256Hex {
    Sha256Hex::parse(&format!("{n:064x}")).unwrap()
}

struct World {
    _dir: tempfile::TempDir,
    store: std::sync::Arc<runlore_core::Validated<runlore_store::SqliteStore>>,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let store = runlore_store::open_sqlite(dir.path()).unwrap();
        World { _dir: dir, store }
    }

    async fn run(&self, project: &str, name: &str, parents: &[&RunId]) -> RunId {
        let mut tags = BTreeMap::new();
        tags.insert("mlflow.source.name".to_owned(), "train.py".to_owned());
        self.store
            .create_run(NewRun {
                project: project.into(),
                name: Some(name.into()),
                user: Some("ada".into()),
                tags,
                parents: parents
                    .iter()
                    .map(|p| ParentLink {
                        run_id: (*p).clone(),
                        kind: EdgeKind::DerivedFrom,
                        resume_step: None,
                    })
                    .collect(),
                ..NewRun::default()
            })
            .await
            .unwrap()
            .id
    }

    async fn file(&self, run: &RunId, path: &str, blob: u32, direction: ArtifactDirection) {
        self.store
            .put_artifact(
                &ArtifactOwner::Run(run.clone()),
                NewArtifact {
                    path: path.into(),
                    sha256: sha(blob),
                    size: 100 + u64::from(blob),
                    media_type: "application/octet-stream".into(),
                    direction,
                    step: None,
                },
            )
            .await
            .unwrap();
    }

    async fn lineage(&self, scope: LineageScope) -> LineageGraph {
        self.store.lineage(scope).await.unwrap()
    }
}

use ArtifactDirection::{Input, Output};

fn names(g: &LineageGraph) -> Vec<&str> {
    g.activities
        .iter()
        .map(|a| a.name.as_str())
        .collect::<Vec<_>>()
}

#[tokio::test]
async fn a_run_shows_what_it_used_made_and_who_made_its_inputs() {
    let w = World::new();
    let prep = w.run("p", "prep", &[]).await;
    w.file(&prep, "data/train.csv", 1, Output).await;
    let train = w.run("p", "train", &[&prep]).await;
    w.file(&train, "inputs/train.csv", 1, Input).await;
    w.file(&train, "model.pt", 2, Output).await;
    w.file(&train, "best/model.pt", 2, Output).await;

    let g = w.lineage(LineageScope::Run(train.clone())).await;
    let mut got = names(&g);
    got.sort_unstable();
    assert_eq!(got, ["prep", "train"]);
    assert_eq!(g.used.len(), 1);
    assert_eq!(g.used[0].path, "inputs/train.csv");
    assert_eq!(g.generated.len(), 3, "train's two paths and prep's output");
    let model = g.entities.iter().find(|e| e.sha256 == sha(2)).unwrap();
    assert_eq!(model.paths, ["best/model.pt", "model.pt"]);
    assert_eq!(g.informed.len(), 1);
    assert_eq!(g.informed[0].informant, prep);
    let kinds: Vec<AgentKind> = g.agents.iter().map(|a| a.kind).collect();
    assert_eq!(kinds, [AgentKind::Person, AgentKind::Software]);
    let err = w
        .store
        .lineage(LineageScope::Run(RunId::generate()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn traces_follow_bytes_up_and_down_to_any_depth() {
    let w = World::new();
    // A chain: run i reads blob i and writes blob i + 1.
    let mut runs = Vec::new();
    for i in 0..50u32 {
        let run = w.run("chain", &format!("r{i}"), &[]).await;
        w.file(&run, "in.bin", i, Input).await;
        w.file(&run, "out.bin", i + 1, Output).await;
        runs.push(run);
    }
    // A side consumer of blob 10 that is not upstream of anything.
    let side = w.run("chain", "side", &[]).await;
    w.file(&side, "in.bin", 10, Input).await;

    let up = w
        .lineage(LineageScope::Trace {
            sha256: sha(50),
            direction: TraceDirection::Up,
            depth: 1_000,
        })
        .await;
    assert_eq!(up.activities.len(), 50, "{:?}", names(&up));
    assert!(!names(&up).contains(&"side"));
    let r0 = up.activities.iter().find(|a| a.name == "r0").unwrap();
    assert_eq!(r0.depth, Some(50));
    let first = up.entities.iter().find(|e| e.sha256 == sha(0)).unwrap();
    assert_eq!(first.depth, Some(50));

    let near = w
        .lineage(LineageScope::Trace {
            sha256: sha(50),
            direction: TraceDirection::Up,
            depth: 3,
        })
        .await;
    let mut got = names(&near);
    got.sort_unstable();
    assert_eq!(got, ["r47", "r48", "r49"]);

    let down = w
        .lineage(LineageScope::Trace {
            sha256: sha(10),
            direction: TraceDirection::Down,
            depth: 1_000,
        })
        .await;
    assert_eq!(down.activities.len(), 41, "r10..r49 and side");
    assert!(names(&down).contains(&"side"));

    // Nothing made the first input: its trace up is the blob alone.
    let origin = w
        .lineage(LineageScope::Trace {
            sha256: sha(0),
            direction: TraceDirection::Up,
            depth: 10,
        })
        .await;
    assert!(origin.activities.is_empty());
    assert_eq!(origin.entities.len(), 1);
    assert_eq!(origin.entities[0].paths, ["in.bin"]);

    let missing = w
        .store
        .lineage(LineageScope::Trace {
            sha256: sha(9_999),
            direction: TraceDirection::Up,
            depth: 5,
        })
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn a_cycle_of_bytes_ends() {
    let w = World::new();
    let a = w.run("c", "a", &[]).await;
    let b = w.run("c", "b", &[]).await;
    w.file(&a, "x", 1, Output).await;
    w.file(&a, "y", 2, Input).await;
    w.file(&b, "y", 2, Output).await;
    w.file(&b, "x", 1, Input).await;
    for direction in [TraceDirection::Up, TraceDirection::Down] {
        let g = w
            .lineage(LineageScope::Trace {
                sha256: sha(1),
                direction,
                depth: 10_000,
            })
            .await;
        assert_eq!(g.activities.len(), 2);
        assert_eq!(g.entities.len(), 2);
    }
}

#[tokio::test]
async fn dataset_inputs_by_sha256_are_entities_with_their_location() {
    let w = World::new();
    let run = w.run("d", "train", &[]).await;
    w.file(&run, "model.pt", 7, Output).await;
    w.store
        .log_inputs(
            &run,
            vec![
                DatasetInput {
                    name: "imagenet-train".into(),
                    digest: sha(5).to_string(),
                    source_type: "external".into(),
                    source: "s3://datasets/imagenet/train".into(),
                    schema: None,
                    profile: None,
                    tags: BTreeMap::new(),
                },
                // MLflow's short digests name no bytes: left out.
                DatasetInput {
                    name: "iris".into(),
                    digest: "1a2b3c4d".into(),
                    source_type: "code".into(),
                    source: "{}".into(),
                    schema: None,
                    profile: None,
                    tags: BTreeMap::new(),
                },
            ],
        )
        .await
        .unwrap();
    let g = w.lineage(LineageScope::Blob(sha(5))).await;
    assert_eq!(g.used.len(), 1);
    assert_eq!(
        g.entities[0].uri.as_deref(),
        Some("s3://datasets/imagenet/train")
    );
    let down = w
        .lineage(LineageScope::Trace {
            sha256: sha(5),
            direction: TraceDirection::Down,
            depth: 10,
        })
        .await;
    assert!(down.entities.iter().any(|e| e.sha256 == sha(7)));
    let of_run = w.lineage(LineageScope::Run(run)).await;
    assert_eq!(of_run.used.len(), 1, "only the SHA-256 dataset");
}

#[tokio::test]
async fn a_project_holds_every_live_run_and_its_edges() {
    let w = World::new();
    let a = w.run("proj", "a", &[]).await;
    let b = w.run("proj", "b", &[&a]).await;
    let gone = w.run("proj", "gone", &[]).await;
    w.file(&b, "out", 3, Output).await;
    w.store
        .set_run_lifecycle(&gone, Lifecycle::Deleted)
        .await
        .unwrap();
    w.run("other", "elsewhere", &[]).await;
    let g = w.lineage(LineageScope::Project("proj".into())).await;
    let mut got = names(&g);
    got.sort_unstable();
    assert_eq!(got, ["a", "b"]);
    assert_eq!(g.informed.len(), 1);
    assert_eq!(g.generated.len(), 1);
    let err = w
        .store
        .lineage(LineageScope::Project("nope".into()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

/// Runs 0..30 where run i reads the outputs of runs i - 1 and i - 3: two
/// paths of different lengths lead to most runs, so a walk that did not
/// keep each run's least depth would count wrong or blow up.
async fn skip_chain(w: &World) -> Vec<RunId> {
    let mut runs = Vec::new();
    for i in 0..30u32 {
        let run = w.run("skip", &format!("s{i:02}"), &[]).await;
        w.file(&run, "seed.bin", 1, Input).await;
        for back in [1, 3] {
            if i >= back {
                w.file(&run, &format!("in{back}.bin"), 1000 + i - back, Input)
                    .await;
            }
        }
        w.file(&run, "out.bin", 1000 + i, Output).await;
        runs.push(run);
    }
    runs
}

#[tokio::test]
async fn a_depth_limited_trace_holds_exactly_the_runs_within_the_depth() {
    let w = World::new();
    skip_chain(&w).await;
    // Hops from the last output to run i: steps of 1 or 3 back from run 29.
    let hops = |i: u32| {
        let k = 29 - i;
        1 + k / 3 + k % 3
    };
    let trace = |depth| {
        w.lineage(LineageScope::Trace {
            sha256: sha(1029),
            direction: TraceDirection::Up,
            depth,
        })
    };
    let full = trace(1_000).await;
    assert_eq!(full.activities.len(), 30);
    for a in &full.activities {
        let i: u32 = a.name[1..].parse().unwrap();
        assert_eq!(a.depth, Some(hops(i)), "{}", a.name);
    }
    for depth in 1..=12 {
        let near = trace(depth).await;
        let mut want: Vec<String> = (0..30u32)
            .filter(|&i| hops(i) <= depth)
            .map(|i| format!("s{i:02}"))
            .collect();
        want.sort();
        let mut got: Vec<String> = near.activities.iter().map(|a| a.name.clone()).collect();
        got.sort();
        assert_eq!(got, want, "depth {depth}");
        // Everything else is the full trace cut at the same depth.
        let within = |d: Option<u32>| d.is_some_and(|d| d <= depth);
        let mut cut = full.clone();
        cut.activities.retain(|a| within(a.depth));
        cut.entities.retain(|e| within(e.depth));
        let runs: Vec<RunId> = cut.activities.iter().map(|a| a.run_id.clone()).collect();
        let blobs: Vec<Sha256Hex> = cut.entities.iter().map(|e| e.sha256.clone()).collect();
        for list in [&mut cut.used, &mut cut.generated] {
            list.retain(|u| runs.contains(&u.run_id) && blobs.contains(&u.sha256));
        }
        cut.associations.retain(|a| runs.contains(&a.run_id));
        // A blob's paths and first sighting come from the rows kept.
        for e in &mut cut.entities {
            let rows: Vec<&LineageUse> = cut
                .used
                .iter()
                .chain(&cut.generated)
                .filter(|u| u.sha256 == e.sha256)
                .collect();
            let mut paths: Vec<String> = rows.iter().map(|u| u.path.clone()).collect();
            paths.sort();
            paths.dedup();
            e.paths = paths;
            e.first_seen = rows.iter().map(|u| u.time).min().unwrap();
        }
        assert_eq!(near, cut, "depth {depth}");
    }
    // Depth 0 is the blob alone.
    let zero = trace(0).await;
    assert!(zero.activities.is_empty());
    assert_eq!(zero.entities.len(), 1);
    assert_eq!(zero.entities[0].depth, Some(0));
}

#[tokio::test]
async fn lineage_json_is_the_graphs_json() {
    let w = World::new();
    let runs = skip_chain(&w).await;
    // A cycle, a blob with two media types, and a dataset input by digest.
    w.file(&runs[3], "again.bin", 1020, Input).await;
    w.store
        .put_artifact(
            &ArtifactOwner::Run(runs[5].clone()),
            NewArtifact {
                path: "copy.txt".into(),
                sha256: sha(1004),
                size: 7,
                media_type: "text/plain".into(),
                direction: Input,
                step: None,
            },
        )
        .await
        .unwrap();
    w.store
        .log_inputs(
            &runs[7],
            vec![DatasetInput {
                name: "raw \"quoted\"".into(),
                digest: sha(1002).to_string(),
                source_type: "external".into(),
                source: "s3://bucket/raw".into(),
                schema: None,
                profile: None,
                tags: BTreeMap::new(),
            }],
        )
        .await
        .unwrap();
    let child = w.run("skip", "child", &[&runs[29]]).await;
    w.file(&child, "in.bin", 1029, Input).await;
    let mut scopes = vec![
        LineageScope::Run(runs[7].clone()),
        LineageScope::Run(child),
        LineageScope::Project("skip".into()),
        LineageScope::Blob(sha(1002)),
        LineageScope::Blob(sha(1)),
    ];
    for direction in [TraceDirection::Up, TraceDirection::Down] {
        for depth in [0, 1, 2, 5, 1_000] {
            for blob in [1, 1002, 1020, 1029] {
                scopes.push(LineageScope::Trace {
                    sha256: sha(blob),
                    direction,
                    depth,
                });
            }
        }
    }
    for scope in scopes {
        let graph = w.lineage(scope.clone()).await;
        let json = w.store.lineage_json(scope.clone()).await.unwrap();
        assert_eq!(
            String::from_utf8(json).unwrap(),
            serde_json::to_string(&graph).unwrap(),
            "{scope:?}"
        );
    }
}
