//! Conformance cases: runs.

use std::collections::BTreeMap;
use std::sync::Arc;

use runlore_core::store::MetricRange;
use runlore_core::*;

use crate::support::{batch, new_run, point};

pub async fn runs_create_their_experiment_and_follow_status_rules(store: Arc<dyn MetadataStore>) {
    let run = store
        .create_run(NewRun {
            project: "vision".into(),
            experiment: Some("lr-sweep".into()),
            params: BTreeMap::from([("lr".into(), "0.01".into())]),
            tags: BTreeMap::from([("team".into(), "cv".into())]),
            ..NewRun::default()
        })
        .await
        .unwrap();
    assert_eq!(run.id.as_str().len(), 32);
    assert_eq!(run.status, RunStatus::Running);
    assert!(run.start_time.is_some() && run.end_time.is_none());
    assert!(!run.name.is_empty(), "a friendly name is generated");
    assert_eq!(run.experiment, "lr-sweep");
    assert_eq!(store.get_project("vision").await.unwrap().name, "vision");

    let done = store
        .update_run(
            &run.id,
            RunPatch {
                status: Some(RunStatus::Finished),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(done.end_time.is_some());
    assert_eq!(done.params.get("lr").map(String::as_str), Some("0.01"));

    store
        .set_run_lifecycle(&run.id, Lifecycle::Deleted)
        .await
        .unwrap();
    let refused = store
        .log_batch(&run.id, batch(vec![point("x", 0, 1, 1.0)]))
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::InvalidArgument);
    store
        .set_run_lifecycle(&run.id, Lifecycle::Active)
        .await
        .unwrap();
    store
        .log_batch(&run.id, batch(vec![point("x", 0, 1, 1.0)]))
        .await
        .unwrap();

    let unknown = RunId::generate();
    assert_eq!(
        store.get_run(&unknown).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let child = store
        .create_run(NewRun {
            parent_run_id: Some(run.id.clone()),
            ..NewRun::default()
        })
        .await
        .unwrap();
    assert_eq!(child.parent_run_id, Some(run.id.clone()));
    assert_eq!(child.experiment_id, ExperimentId::DEFAULT);
}

pub async fn params_are_immutable_and_a_conflict_rejects_the_whole_batch(
    store: Arc<dyn MetadataStore>,
) {
    let run = new_run(store.as_ref(), "p", "r").await;
    let mut first = batch(vec![point("loss", 0, 1, 0.5)]);
    first.params.insert("lr".into(), "0.01".into());
    store.log_batch(&run.id, first.clone()).await.unwrap();
    let again = store.log_batch(&run.id, first).await.unwrap();
    assert_eq!(again.params_written, 0);
    assert_eq!(again.metrics_duplicate, 1);

    let mut conflicting = batch(vec![point("loss", 1, 2, 0.4)]);
    conflicting.params.insert("lr".into(), "0.02".into());
    conflicting.tags.insert("t".into(), "x".into());
    let err = store.log_batch(&run.id, conflicting).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(err.message().contains("lr"), "{}", err.message());
    let after = store.get_run(&run.id).await.unwrap();
    assert_eq!(after.params["lr"], "0.01");
    assert!(after.tags.is_empty());
    let history = store
        .metric_history(
            &run.id,
            MetricRange {
                key: "loss".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(history.len(), 1, "nothing of the rejected batch was stored");
}

pub async fn history_is_sorted_deduplicated_and_range_readable(store: Arc<dyn MetadataStore>) {
    let run = new_run(store.as_ref(), "p", "r").await;
    // Enough points to span several chunks, sent in two overlapping batches
    // and out of order.
    let all: Vec<MetricPoint> = (0..5000)
        .map(|s| point("loss", s, 1000 + s, 1.0 / (s + 1) as f64))
        .collect();
    let mut second: Vec<MetricPoint> = all[3000..].to_vec();
    second.reverse();
    store
        .log_batch(&run.id, batch(all[..3500].to_vec()))
        .await
        .unwrap();
    let outcome = store.log_batch(&run.id, batch(second)).await.unwrap();
    assert_eq!(outcome.metrics_written, 1500);
    assert_eq!(outcome.metrics_duplicate, 500);
    let history = store
        .metric_history(
            &run.id,
            MetricRange {
                key: "loss".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(history.len(), 5000);
    assert!(history.windows(2).all(|w| w[0].step < w[1].step));
    let window = store
        .metric_history(
            &run.id,
            MetricRange {
                key: "loss".into(),
                start_step: Some(10),
                end_step: Some(19),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        window.iter().map(|p| p.step).collect::<Vec<_>>(),
        (10..20).collect::<Vec<_>>()
    );
    // A late point at an old step is kept; the same step with another
    // timestamp or value is a different point.
    store
        .log_batch(&run.id, batch(vec![point("loss", 10, 99_999, 7.0)]))
        .await
        .unwrap();
    let window = store
        .metric_history(
            &run.id,
            MetricRange {
                key: "loss".into(),
                start_step: Some(10),
                end_step: Some(10),
            },
        )
        .await
        .unwrap();
    assert_eq!(window.len(), 2);
    let latest = &store.get_run(&run.id).await.unwrap().metrics[0];
    assert_eq!((latest.step, latest.value.0), (4999, 1.0 / 5000.0));
    assert_eq!(
        store.metric_keys(&run.id).await.unwrap(),
        vec!["loss".to_string()]
    );
    let none = store
        .metric_history(
            &run.id,
            MetricRange {
                key: "nope".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(none.is_empty());
}
