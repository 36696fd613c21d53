//! The experiment graph's promises, checked through the HTTP API of a real
//! server: random feature trees logged along random parents (merges
//! included), then random re-parenting (cycles included, which must be
//! refused and change nothing). Every run's stored diff, applied to its
//! primary parent's features, gives back exactly what was logged, and so
//! does the diff between any two runs.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::TestServer;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

/// A change to one level of a tree: set a key, drop it, or edit inside it.
#[derive(Debug, Clone)]
enum Edit {
    Set(Value),
    Remove,
    Inside(BTreeMap<String, Edit>),
}

#[derive(Debug, Clone)]
struct RunPlan {
    /// Raw parent choices, reduced modulo the number of earlier runs.
    parents: Vec<usize>,
    kind: usize,
    /// Features from scratch instead of an edit of the primary parent's.
    fresh: bool,
    edits: BTreeMap<String, Edit>,
}

#[derive(Debug, Clone)]
struct Plan {
    runs: Vec<RunPlan>,
    reparents: Vec<(usize, Vec<usize>)>,
    diff_pairs: Vec<(usize, usize)>,
}

/// Keys that need JSON Pointer escaping (`/`, `~`), the empty key and
/// non-ASCII, beside plain ones.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-d]{1,2}",
        1 => Just("a/b".to_owned()),
        1 => Just("t~1".to_owned()),
        1 => Just(String::new()),
        1 => Just("größe".to_owned()),
    ]
}

fn tree() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-z ]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map(key(), inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn edits() -> impl Strategy<Value = BTreeMap<String, Edit>> {
    let edit = prop_oneof![
        3 => tree().prop_map(Edit::Set),
        1 => Just(Edit::Remove),
    ];
    let edit = edit.prop_recursive(2, 12, 3, |inner| {
        prop_oneof![
            3 => tree().prop_map(Edit::Set),
            1 => Just(Edit::Remove),
            2 => btree_map(key(), inner, 1..3).prop_map(Edit::Inside),
        ]
    });
    btree_map(key(), edit, 0..4)
}

fn plan() -> impl Strategy<Value = Plan> {
    let run = (
        vec(any::<usize>(), 0..3),
        0usize..4,
        proptest::bool::weighted(0.15),
        edits(),
    )
        .prop_map(|(parents, kind, fresh, edits)| RunPlan {
            parents,
            kind,
            fresh,
            edits,
        });
    (
        vec(run, 2..14),
        vec((any::<usize>(), vec(any::<usize>(), 0..3)), 0..8),
        vec((any::<usize>(), any::<usize>()), 1..4),
    )
        .prop_map(|(runs, reparents, diff_pairs)| Plan {
            runs,
            reparents,
            diff_pairs,
        })
}

fn apply_edits(base: &Value, edits: &BTreeMap<String, Edit>) -> Value {
    let mut map = base.as_object().cloned().unwrap_or_default();
    for (key, edit) in edits {
        match edit {
            Edit::Set(value) => {
                map.insert(key.clone(), value.clone());
            }
            Edit::Remove => {
                map.remove(key);
            }
            Edit::Inside(inner) => {
                let child = map.get(key).cloned().unwrap_or_else(|| json!({}));
                map.insert(key.clone(), apply_edits(&child, inner));
            }
        }
    }
    Value::Object(map)
}

fn link(run_id: &str, kind: usize) -> Value {
    match kind {
        0 => json!({"run_id": run_id}),
        1 => json!({"run_id": run_id, "kind": "merged_from"}),
        2 => json!({"run_id": run_id, "kind": "ablation_of"}),
        _ => json!({"run_id": run_id, "kind": "resumed_from", "resume_step": 7}),
    }
}

/// Distinct indices below `n`, in the order given.
fn pick(raw: &[usize], n: usize) -> Vec<usize> {
    let mut seen = BTreeSet::new();
    raw.iter()
        .map(|r| r % n)
        .filter(|i| seen.insert(*i))
        .collect()
}

/// Whether `to` can be reached from `from` by following child edges.
fn reaches(children_of: &BTreeMap<usize, Vec<usize>>, from: usize, to: usize) -> bool {
    let mut stack = vec![from];
    let mut seen = BTreeSet::new();
    while let Some(at) = stack.pop() {
        if at == to {
            return true;
        }
        if seen.insert(at) {
            stack.extend(children_of.get(&at).into_iter().flatten());
        }
    }
    false
}

fn check(cond: bool, what: String) -> Result<(), TestCaseError> {
    if cond {
        Ok(())
    } else {
        Err(TestCaseError::fail(what))
    }
}

/// How many re-parentings each case saw, so the test can show it exercised
/// both outcomes.
#[derive(Default)]
struct Seen {
    refused_cycles: usize,
    moved: usize,
}

async fn run_plan(
    s: &TestServer,
    case: usize,
    plan: &Plan,
    seen: &mut Seen,
) -> Result<(), TestCaseError> {
    let project = format!("prop{case}");
    let mut ids: Vec<String> = Vec::new();
    let mut logged: Vec<Value> = Vec::new();
    // Parents of each run, as indices, primary first, and their edge kind.
    let mut parents: Vec<Vec<usize>> = Vec::new();
    let mut kinds: Vec<usize> = Vec::new();
    for (i, run) in plan.runs.iter().enumerate() {
        let chosen = if i == 0 {
            Vec::new()
        } else {
            pick(&run.parents, i)
        };
        let base = match (run.fresh, chosen.first()) {
            (false, Some(&p)) => logged[p].clone(),
            _ => json!({}),
        };
        let features = apply_edits(&base, &run.edits);
        let links: Vec<Value> = chosen.iter().map(|&p| link(&ids[p], run.kind)).collect();
        let (status, made) = s
            .post(
                "/api/v1/runs",
                json!({"project": project, "name": format!("r{i}"),
                       "features": features, "parents": links}),
            )
            .await;
        check(status == 201, format!("create r{i}: {status} {made}"))?;
        ids.push(made["id"].as_str().unwrap().to_owned());
        logged.push(features);
        parents.push(chosen);
        kinds.push(run.kind);
    }

    let n = ids.len();
    for (child, raw) in &plan.reparents {
        let child = child % n;
        let new_parents = pick(raw, n);
        let mut children_of: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (c, ps) in parents.iter().enumerate() {
            for &p in ps {
                children_of.entry(p).or_default().push(c);
            }
        }
        let cycle = new_parents.iter().any(|&p| reaches(&children_of, child, p));
        let links: Vec<Value> = new_parents.iter().map(|&p| link(&ids[p], 0)).collect();
        let (status, body) = s
            .put(
                &format!("/api/v1/runs/{}/parents", ids[child]),
                json!({"parents": links, "changed_by": "proptest"}),
            )
            .await;
        if cycle {
            check(status == 400, format!("cycle accepted: {status} {body}"))?;
            seen.refused_cycles += 1;
        } else {
            seen.moved += 1;
            check(status == 200, format!("re-parent refused: {status} {body}"))?;
            parents[child] = new_parents;
            kinds[child] = 0;
        }
    }

    // The root follows first derived_from parents (kind 0) upwards.
    let root = |mut i: usize| {
        for _ in 0..n {
            match parents[i].first() {
                Some(&p) if kinds[i] == 0 => i = p,
                _ => break,
            }
        }
        i
    };
    for i in 0..n {
        let (status, f) = s.get(&format!("/api/v1/runs/{}/features", ids[i])).await;
        check(
            f["root"] == ids[root(i)].as_str(),
            format!("r{i} root {} != r{}", f["root"], root(i)),
        )?;
        check(status == 200, format!("features r{i}: {status} {f}"))?;
        check(
            f["full"] == logged[i],
            format!("r{i} full {} != logged {}", f["full"], logged[i]),
        )?;
        let got: Vec<&str> = f["parents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["run_id"].as_str().unwrap())
            .collect();
        let want: Vec<&str> = parents[i].iter().map(|&p| ids[p].as_str()).collect();
        check(got == want, format!("r{i} parents {got:?} != {want:?}"))?;
        let base = parents[i]
            .first()
            .map_or_else(|| json!({}), |&p| logged[p].clone());
        let replayed = runlore_core::graph::apply(&base, &f["diff"])
            .map_err(|e| TestCaseError::fail(format!("r{i} diff does not apply: {e}")))?;
        check(
            replayed == logged[i],
            format!("r{i} replayed {replayed} != logged {}", logged[i]),
        )?;
        if base == logged[i] {
            check(
                f["diff"] == json!([]),
                format!("r{i} same as parent, diff {}", f["diff"]),
            )?;
        }
    }
    for (a, b) in &plan.diff_pairs {
        let (a, b) = (a % n, b % n);
        let (status, d) = s
            .get(&format!("/api/v1/runs/{}/diff/{}", ids[a], ids[b]))
            .await;
        check(status == 200, format!("diff: {status} {d}"))?;
        let replayed = runlore_core::graph::apply(&logged[a], &d["diff"])
            .map_err(|e| TestCaseError::fail(format!("pair diff does not apply: {e}")))?;
        check(replayed == logged[b], format!("r{a}→r{b} diff wrong"))?;
    }
    Ok(())
}

#[test]
fn random_trees_and_reparenting_replay_exactly_through_the_api() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(TestServer::start());
    // A fixed seed (proptest's deterministic RNG) keeps CI repeatable;
    // PROPTEST_CASES raises the count for a longer local hunt.
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    let case = std::cell::Cell::new(0);
    let seen = std::cell::RefCell::new(Seen::default());
    let result = runner.run(&plan(), |plan| {
        case.set(case.get() + 1);
        runtime.block_on(run_plan(&server, case.get(), &plan, &mut seen.borrow_mut()))
    });
    runtime.block_on(server.stop());
    if let Err(e) = result {
        panic!("{e}");
    }
    let seen = seen.into_inner();
    assert!(
        seen.refused_cycles > 0 && seen.moved > 0,
        "the cases never tried both a cycle and a valid move ({} refused, {} moved)",
        seen.refused_cycles,
        seen.moved
    );
}

/// Graph operations on a project of 10,000 runs: a 100-generation chain
/// with a wide tree hanging from it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_operations_on_ten_thousand_runs() {
    const RUNS: usize = 10_000;
    const CHAIN: usize = 100;
    let s = TestServer::start().await;
    let mut ids: Vec<String> = Vec::with_capacity(RUNS);
    let parent_of = |i: usize| -> Option<usize> {
        match i {
            0 => None,
            i if i < CHAIN => Some(i - 1),
            // Spread the rest under the chain, three children a node.
            i => Some((i - CHAIN) / 3 + CHAIN / 2),
        }
    };
    let features_of = |i: usize| {
        json!({"model": {"lr": 0.1 / (1 + i % 7) as f64, "depth": 12 + i % 4},
               "data": {"shard": i % 10}, "gen": i})
    };
    for i in 0..RUNS {
        let parents: Vec<Value> = parent_of(i)
            .map(|p| vec![json!({"run_id": ids[p]})])
            .unwrap_or_default();
        let (status, made) = s
            .post(
                "/api/v1/runs",
                json!({"project": "big", "name": format!("r{i}"),
                       "features": features_of(i), "parents": parents}),
            )
            .await;
        assert_eq!(status, 201, "{made}");
        ids.push(made["id"].as_str().unwrap().to_owned());
    }

    let (status, g) = s.get("/api/v1/projects/big/graph").await;
    assert_eq!(status, 200);
    assert_eq!(g["nodes"].as_array().unwrap().len(), RUNS);
    assert_eq!(g["edges"].as_array().unwrap().len(), RUNS - 1);

    // The chain's end has 99 ancestors; a depth limit cuts them.
    let end = &ids[CHAIN - 1];
    let (_, up) = s
        .get(&format!("/api/v1/runs/{end}/ancestors?depth=1000"))
        .await;
    assert_eq!(up["nodes"].as_array().unwrap().len(), CHAIN);
    let (_, up) = s
        .get(&format!("/api/v1/runs/{end}/ancestors?depth=10"))
        .await;
    assert_eq!(up["nodes"].as_array().unwrap().len(), 11);
    let (_, f) = s.get(&format!("/api/v1/runs/{end}/features")).await;
    assert_eq!(f["full"], features_of(CHAIN - 1));
    assert_eq!(f["root"], ids[0].as_str(), "100 generations up to the root");
    let (_, down) = s
        .get(&format!("/api/v1/runs/{}/descendants?depth=2", ids[CHAIN]))
        .await;
    assert_eq!(down["nodes"].as_array().unwrap().len(), 1 + 3 + 9);

    // Move a big subtree from the middle of the chain to its root: every
    // descendant keeps exactly what it logged.
    let moved = &ids[CHAIN / 2];
    let (status, f) = s
        .put(
            &format!("/api/v1/runs/{moved}/parents"),
            json!({"parents": [{"run_id": ids[0]}], "changed_by": "big-test"}),
        )
        .await;
    assert_eq!(status, 200, "{f}");
    for i in [
        CHAIN / 2,
        CHAIN / 2 + 1,
        CHAIN,
        CHAIN + 1,
        RUNS / 2,
        RUNS - 1,
    ] {
        let (_, f) = s.get(&format!("/api/v1/runs/{}/features", ids[i])).await;
        assert_eq!(f["full"], features_of(i), "r{i}");
    }
    // A cycle through the big tree is refused and changes nothing.
    let (status, _) = s
        .put(
            &format!("/api/v1/runs/{}/parents", ids[0]),
            json!({"parents": [{"run_id": ids[RUNS - 1]}]}),
        )
        .await;
    assert_eq!(status, 400);
    let (_, f) = s.get(&format!("/api/v1/runs/{}/features", ids[0])).await;
    assert_eq!(f["parents"], json!([]));

    let sample: Vec<&String> = ids.iter().step_by(999).collect();
    let (status, d) = s
        .post(
            "/api/v1/runs/features/differing",
            json!({"run_ids": sample}),
        )
        .await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(
        d["paths"],
        json!(["/data/shard", "/gen", "/model/depth", "/model/lr"])
    );
    s.stop().await;
}
