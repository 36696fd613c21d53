#![allow(clippy::unwrap_used)] // test helpers panic on failure by design
//! Runs on the throwaway PostgreSQL cluster: creation (project and
//! experiment made when missing, replayed creations, naming-rule parents,
//! features diffed against the parent and indexed), patches, lifecycle and
//! tags, with the answers SQLite gives.

#[allow(dead_code)] // each test binary uses part of it
mod pg_support;

use std::collections::BTreeMap;

use pg_support::FreshDb;
use runlore_core::*;
use runlore_store::PostgresStore;
use serde_json::json;

fn new_run(project: &str, name: &str) -> NewRun {
    NewRun {
        project: project.into(),
        experiment: Some("exp".into()),
        name: Some(name.into()),
        ..NewRun::default()
    }
}

#[tokio::test]
async fn runs_are_created_loaded_patched_deleted_and_untagged() {
    let Some(db) = FreshDb::create("runs").await else {
        return;
    };
    let store = PostgresStore::connect(&db.url).await.unwrap();
    let mut new = new_run("vision", "first");
    new.params = BTreeMap::from([("lr".into(), "0.1".into()), ("bs".into(), "32".into())]);
    new.tags = BTreeMap::from([("team".into(), "a".into())]);
    new.user = Some("ada".into());
    let run = store.create_run(new).await.unwrap();
    assert_eq!(
        (run.project.as_str(), run.experiment.as_str()),
        ("vision", "exp")
    );
    assert_eq!(run.status, RunStatus::Running);
    assert!(run.start_time.is_some() && run.end_time.is_none());
    assert_eq!(run.params.len(), 2);
    assert_eq!(run.tags["team"], "a");
    assert_eq!(run.user, "ada");
    assert_eq!(store.get_run(&run.id).await.unwrap(), run);
    store.get_project("vision").await.unwrap();
    let exp = store.get_experiment_by_name("vision", "exp").await.unwrap();
    assert_eq!(exp.id, run.experiment_id);

    // A second run lands in the same experiment; a planned run has no start.
    let mut planned = new_run("vision", "later");
    planned.status = Some(RunStatus::Planned);
    let planned = store.create_run(planned).await.unwrap();
    assert_eq!(planned.experiment_id, run.experiment_id);
    assert!(planned.start_time.is_none());
    let started = store
        .update_run(
            &planned.id,
            RunPatch {
                status: Some(RunStatus::Running),
                ..RunPatch::default()
            },
        )
        .await
        .unwrap();
    assert!(started.start_time.is_some());

    // A terminal status ends the run; an end before the start is refused.
    let done = store
        .update_run(
            &run.id,
            RunPatch {
                name: Some("renamed".into()),
                status: Some(RunStatus::Finished),
                end_time: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(done.name, "renamed");
    assert!(done.end_time.is_some());
    let err = store
        .update_run(
            &run.id,
            RunPatch {
                end_time: Some(1),
                ..RunPatch::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(
        err.message().contains("before the run's start_time"),
        "{}",
        err.message()
    );

    store.delete_run_tag(&run.id, "team").await.unwrap();
    let err = store.delete_run_tag(&run.id, "team").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let deleted = store
        .set_run_lifecycle(&run.id, Lifecycle::Deleted)
        .await
        .unwrap();
    assert_eq!(deleted.lifecycle, Lifecycle::Deleted);
    let err = store.delete_run_tag(&run.id, "x").await.unwrap_err();
    assert!(err.message().contains("is deleted"), "{}", err.message());
    let err = store.get_run(&RunId::generate()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);

    // A deleted experiment takes no runs.
    store
        .set_experiment_lifecycle(exp.id, Lifecycle::Deleted)
        .await
        .unwrap();
    let err = store.create_run(new_run("vision", "x")).await.unwrap_err();
    assert!(err.message().contains("is deleted"), "{}", err.message());
    db.drop_db().await;
}

#[tokio::test]
async fn a_client_chosen_id_makes_creation_repeatable_even_across_replicas() {
    let Some(db) = FreshDb::create("repeat").await else {
        return;
    };
    let one = PostgresStore::connect(&db.url).await.unwrap();
    let two = PostgresStore::connect(&db.url).await.unwrap();
    let id = RunId::generate();
    let mut new = new_run("p", "once");
    new.id = Some(id.clone());
    // Both replicas at once: one run, and both answer it.
    let (a, b) = tokio::join!(one.create_run(new.clone()), two.create_run(new.clone()));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.id.clone(), b.id.clone()), (id.clone(), id.clone()));
    let again = one.create_run(new.clone()).await.unwrap();
    assert_eq!(again.created_at, a.created_at);
    let mut elsewhere = new;
    elsewhere.experiment = Some("other".into());
    let err = two.create_run(elsewhere).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    db.drop_db().await;
}

#[tokio::test]
async fn the_naming_rule_finds_the_parent_and_features_are_diffed_and_indexed() {
    let Some(db) = FreshDb::create("naming").await else {
        return;
    };
    let store = PostgresStore::connect(&db.url).await.unwrap();
    store
        .create_project(NewProject {
            name: "sweep".into(),
            description: String::new(),
        })
        .await
        .unwrap();
    store
        .set_project_settings(
            "sweep",
            ProjectSettings {
                naming: Some(NamingRule {
                    pattern: r"(?P<id>\d+)_from_(?P<parent>\d+)_.*".into(),
                    parent_from: ParentFrom::Group,
                    enforce: false,
                }),
                key_metrics: Vec::new(),
            },
        )
        .await
        .unwrap();
    let mut root = new_run("sweep", "8_base");
    root.features = Some(json!({"model": {"lr": 0.1, "layers": [64, 128]}, "seed": 1}));
    let root = store.create_run(root).await.unwrap();
    let mut child = new_run("sweep", "12_from_8_lr");
    child.features = Some(json!({"model": {"lr": 0.01, "layers": [64, 128]}, "seed": 1}));
    let child = store.create_run(child).await.unwrap();

    let client = db.client().await;
    let parent: String = client
        .query_one(
            "SELECT p.uuid FROM run_edges e JOIN runs p ON p.id = e.parent_id
             JOIN runs c ON c.id = e.child_id WHERE c.uuid = $1",
            &[&child.id.as_str()],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(parent, root.id.as_str());
    let diff: String = client
        .query_one(
            "SELECT f.diff FROM run_features f JOIN runs r ON r.id = f.run_id WHERE r.uuid = $1",
            &[&child.id.as_str()],
        )
        .await
        .unwrap()
        .get(0);
    let diff: serde_json::Value = serde_json::from_str(&diff).unwrap();
    assert_eq!(
        diff,
        json!([{"op": "replace", "path": "/model/lr", "value": 0.01}])
    );
    let leaves: Vec<(String, i16, Option<String>, Option<String>)> = client
        .query(
            "SELECT v.path, v.kind, v.num::text, v.txt FROM feature_values v
             JOIN runs r ON r.id = v.run_id WHERE r.uuid = $1 ORDER BY v.path",
            &[&child.id.as_str()],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    let paths: Vec<&str> = leaves.iter().map(|l| l.0.as_str()).collect();
    assert_eq!(
        paths,
        [
            "$.model.layers[0]",
            "$.model.layers[1]",
            "$.model.lr",
            "$.seed"
        ]
    );
    assert_eq!(leaves[2].2.as_deref(), Some("0.01"));

    // A name that points at no run is refused, naming what it looked for.
    let err = store
        .create_run(new_run("sweep", "13_from_99_x"))
        .await
        .unwrap_err();
    assert_eq!(
        err.message(),
        "run name '13_from_99_x' names parent '99', but no run of project 'sweep' has that id"
    );
    db.drop_db().await;
}
