//! Conformance cases: features.

use std::collections::BTreeMap;
use std::sync::Arc;

use runlore_core::store::RunQuery;
use runlore_core::*;

use crate::support::{batch, new_run, point};

pub async fn a_client_chosen_id_makes_creation_repeatable(store: Arc<dyn MetadataStore>) {
    let id = RunId::parse("0123456789abcdef0123456789abcdef").unwrap();
    let new = || NewRun {
        id: Some(id.clone()),
        project: "sdk".into(),
        experiment: Some("offline".into()),
        name: Some("journaled".into()),
        params: BTreeMap::from([("lr".to_owned(), "0.1".to_owned())]),
        ..NewRun::default()
    };
    let first = store.create_run(new()).await.unwrap();
    assert_eq!(first.id, id);
    // A replayed creation returns the same run, untouched.
    store
        .log_batch(&id, batch(vec![point("loss", 0, 1, 0.5)]))
        .await
        .unwrap();
    let again = store.create_run(new()).await.unwrap();
    assert_eq!(again.id, id);
    assert_eq!(again.name, "journaled");
    assert_eq!(again.created_at, first.created_at);
    let page = store
        .search_runs(RunQuery {
            project: Some("sdk".into()),
            ..RunQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    // The same id in another experiment is someone else's run.
    let elsewhere = store
        .create_run(NewRun {
            experiment: Some("other".into()),
            ..new()
        })
        .await
        .unwrap_err();
    assert_eq!(elsewhere.kind(), ErrorKind::AlreadyExists);
}

pub async fn components_are_replaced_by_name_and_need_reasons(store: Arc<dyn MetadataStore>) {
    let run = new_run(store.as_ref(), "p", "r").await;
    let report = |name: &str, status, reason: &str| ComponentReport {
        name: name.into(),
        status,
        reason: reason.into(),
    };
    let batch = LogBatch {
        components: vec![
            report("tau", ComponentStatus::Disabled, "use_tau=false"),
            report("eval", ComponentStatus::Failed, "OOM"),
        ],
        ..LogBatch::default()
    };
    let outcome = store.log_batch(&run.id, batch.clone()).await.unwrap();
    assert_eq!(outcome.components_written, 2);
    // A replay changes nothing; a new report for a name replaces it.
    store.log_batch(&run.id, batch).await.unwrap();
    let retry = LogBatch {
        components: vec![report("eval", ComponentStatus::Success, "")],
        ..LogBatch::default()
    };
    store.log_batch(&run.id, retry).await.unwrap();
    let got = store.get_run(&run.id).await.unwrap().components;
    let got: Vec<_> = got.iter().map(|c| (c.name.as_str(), c.status)).collect();
    assert_eq!(
        got,
        vec![
            ("eval", ComponentStatus::Success),
            ("tau", ComponentStatus::Disabled)
        ]
    );
    let silent = LogBatch {
        components: vec![report("plots", ComponentStatus::Failed, " ")],
        ..LogBatch::default()
    };
    let err = store.log_batch(&run.id, silent).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(
        err.message().contains("needs a reason"),
        "{}",
        err.message()
    );
    assert_eq!(store.get_run(&run.id).await.unwrap().components.len(), 2);
}

/// Random feature trees along random parents, then random re-parenting:
/// every run's stored diff, applied to its primary parent's features,
/// gives back exactly the features it was created with.
pub async fn feature_diffs_replay_to_what_was_logged(store: Arc<dyn MetadataStore>) {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mutate = |tree: &serde_json::Value, r: &mut dyn FnMut(u64) -> u64| {
        let mut tree = tree.clone();
        let map = tree.as_object_mut().unwrap();
        for _ in 0..1 + r(3) {
            let key = format!("k{}", r(6));
            match r(4) {
                0 => {
                    map.remove(&key);
                }
                1 => {
                    map.insert(
                        key,
                        serde_json::json!({"inner": r(100), "list": [r(5), r(5)]}),
                    );
                }
                2 => {
                    map.insert(key, serde_json::json!(r(1000) as f64 / 7.0));
                }
                _ => {
                    map.insert(key, serde_json::json!(format!("v{}", r(50))));
                }
            }
        }
        tree
    };
    let mut runs: Vec<(RunId, serde_json::Value)> = Vec::new();
    for i in 0..60 {
        let parent = (i > 0 && next(5) > 0).then(|| next(i as u64) as usize);
        let base = parent.map_or_else(|| serde_json::json!({}), |p| runs[p].1.clone());
        let features = mutate(&base, &mut next);
        let run = store
            .create_run(NewRun {
                project: "prop".into(),
                features: Some(features.clone()),
                parents: parent
                    .map(|p| {
                        vec![ParentLink {
                            run_id: runs[p].0.clone(),
                            kind: EdgeKind::DerivedFrom,
                            resume_step: None,
                        }]
                    })
                    .unwrap_or_default(),
                ..NewRun::default()
            })
            .await
            .unwrap();
        runs.push((run.id, features));
    }
    // Re-parent a third of them onto earlier runs (edges point back in
    // creation order, so no cycle can form).
    for i in 1..runs.len() {
        if next(3) == 0 {
            let p = next(i as u64) as usize;
            let link = ParentLink {
                run_id: runs[p].0.clone(),
                kind: EdgeKind::MergedFrom,
                resume_step: None,
            };
            store
                .set_run_parents(&runs[i].0, vec![link], "prop-test")
                .await
                .unwrap();
        }
    }
    for (id, logged) in &runs {
        let f = store.run_features(id).await.unwrap();
        assert_eq!(&f.full, logged);
        let base = match f.parents.first() {
            Some(p) => store.run_features(&p.run_id).await.unwrap().full,
            None => serde_json::json!({}),
        };
        assert_eq!(&runlore_core::graph::apply(&base, &f.diff).unwrap(), logged);
    }
}
