#![allow(clippy::unwrap_used)] // test helpers panic on failure by design
//! Artifact rows, lineage and logged models on the throwaway PostgreSQL
//! cluster, against SQLite: the same runs (same client-chosen ids), files
//! and dataset inputs give the same listings, refusals, lineage graphs
//! (run, project, blob, and traces both ways at several depths; times
//! aside, since each store stamps its own) and model searches.

#[allow(dead_code)] // each test binary uses part of it
mod pg_support;

use std::collections::BTreeMap;
use std::sync::Arc;

use pg_support::FreshDb;
use runlore_core::lineage::{LineageScope, TraceDirection};
use runlore_core::*;
use runlore_store::PostgresStore;
use serde_json::Value;

fn sha(n: u32) -> Sha256Hex {
    Sha256Hex::parse(&format!("{n:064x}")).unwrap()
}

/// Both stores, behind the validating wrapper as the factory gives them.
struct Both {
    pg: Arc<Validated<PostgresStore>>,
    sqlite: Arc<Validated<runlore_store::SqliteStore>>,
}

impl Both {
    async fn run(&self, project: &str, name: &str, start: i64, parents: &[&RunId]) -> RunId {
        let new = NewRun {
            id: Some(RunId::generate()),
            project: project.into(),
            name: Some(name.into()),
            user: Some("ada".into()),
            start_time: Some(start),
            tags: BTreeMap::from([("mlflow.source.name".to_owned(), "train.py".to_owned())]),
            parents: parents
                .iter()
                .map(|p| ParentLink {
                    run_id: (*p).clone(),
                    kind: EdgeKind::DerivedFrom,
                    resume_step: None,
                })
                .collect(),
            ..NewRun::default()
        };
        let a = self.pg.create_run(new.clone()).await.unwrap();
        self.sqlite.create_run(new).await.unwrap();
        a.id
    }

    async fn file(
        &self,
        owner: ArtifactOwner,
        path: &str,
        blob: u32,
        direction: ArtifactDirection,
    ) {
        let new = NewArtifact {
            path: path.into(),
            sha256: sha(blob),
            size: 100 + u64::from(blob),
            media_type: if blob.is_multiple_of(2) {
                "text/csv"
            } else {
                "application/octet-stream"
            }
            .into(),
            direction,
            step: None,
        };
        let a = self.pg.put_artifact(&owner, new.clone()).await;
        let b = self.sqlite.put_artifact(&owner, new).await;
        match (a, b) {
            (Ok(a), Ok(b)) => assert_eq!((a.path, a.sha256), (b.path, b.sha256)),
            (Err(a), Err(b)) => assert_eq!((a.kind(), a.message()), (b.kind(), b.message())),
            (a, b) => panic!("{path}: {a:?} vs {b:?}"),
        }
    }

    async fn same_lineage(&self, scope: LineageScope) {
        let a = self.pg.lineage_json(scope.clone()).await;
        let b = self.sqlite.lineage_json(scope.clone()).await;
        match (a, b) {
            (Ok(a), Ok(b)) => {
                let (a, b) = (timeless(&a), timeless(&b));
                assert_eq!(a, b, "lineage of {scope:?}");
            }
            (Err(a), Err(b)) => assert_eq!((a.kind(), a.message()), (b.kind(), b.message())),
            (a, b) => panic!("{scope:?}: {a:?} vs {b:?}"),
        }
    }
}

/// The JSON with every time removed (each store stamps rows itself).
fn timeless(bytes: &[u8]) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for key in [
                    "time",
                    "first_seen",
                    "created_at",
                    "prov:time",
                    "prov:startTime",
                ] {
                    map.remove(key);
                }
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v: Value = serde_json::from_slice(bytes).unwrap();
    strip(&mut v);
    v
}

#[tokio::test]
async fn artifacts_lineage_and_models_match_sqlite() {
    let Some(db) = FreshDb::create("artifacts").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let both = Both {
        pg: Arc::new(Validated::new(
            PostgresStore::connect(&db.url).await.unwrap(),
        )),
        sqlite: runlore_store::open_sqlite(dir.path()).unwrap(),
    };
    use ArtifactDirection::{Input, Output};
    let prep = both.run("lab", "prep", 10, &[]).await;
    let train = both.run("lab", "train", 20, &[&prep]).await;
    let eval = both.run("lab", "eval", 30, &[&train]).await;
    let lonely = both.run("lab", "lonely", 40, &[]).await;
    let (p, t, e) = (
        ArtifactOwner::Run(prep.clone()),
        ArtifactOwner::Run(train.clone()),
        ArtifactOwner::Run(eval.clone()),
    );
    both.file(p.clone(), "raw/data.csv", 1, Input).await;
    both.file(p.clone(), "clean/data.csv", 2, Output).await;
    both.file(p.clone(), "clean/stats.json", 3, Output).await;
    both.file(t.clone(), "inputs/data.csv", 2, Input).await;
    both.file(t.clone(), "model/weights.bin", 4, Output).await;
    both.file(t.clone(), "model/config.json", 6, Output).await;
    both.file(e.clone(), "weights.bin", 4, Input).await;
    both.file(e.clone(), "report.csv", 8, Output).await;
    // Refusals: a path under a file, a directory as a file.
    both.file(t.clone(), "model/weights.bin/x", 9, Output).await;
    both.file(t.clone(), "model", 9, Output).await;
    // Replacing a file keeps one row.
    both.file(e.clone(), "report.csv", 10, Output).await;

    // A dataset input known by SHA-256 (followed) and one by another digest.
    let datasets = vec![
        DatasetInput {
            name: "cifar".into(),
            digest: sha(1).to_string(),
            source_type: "s3".into(),
            source: "s3://data/cifar".into(),
            ..DatasetInput::default()
        },
        DatasetInput {
            name: "short".into(),
            digest: "abc123".into(),
            source_type: "local".into(),
            source: "/tmp/x".into(),
            ..DatasetInput::default()
        },
    ];
    both.pg.log_inputs(&train, datasets.clone()).await.unwrap();
    both.sqlite.log_inputs(&train, datasets).await.unwrap();

    for owner in [&p, &t, &e] {
        for dir in ["", "model", "clean/", "nothing"] {
            let a = both.pg.list_artifacts(owner, dir).await.unwrap();
            let b = both.sqlite.list_artifacts(owner, dir).await.unwrap();
            let view = |l: &[Artifact]| -> Vec<(String, String, u64, String)> {
                l.iter()
                    .map(|x| {
                        (
                            x.path.clone(),
                            x.sha256.to_string(),
                            x.size,
                            x.media_type.clone(),
                        )
                    })
                    .collect()
            };
            assert_eq!(view(&a), view(&b), "{owner} {dir}");
        }
    }
    let missing = both.pg.get_artifact(&t, "nope").await.unwrap_err();
    let expected = both.sqlite.get_artifact(&t, "nope").await.unwrap_err();
    assert_eq!(missing.message(), expected.message());

    for scope in [
        LineageScope::Run(train.clone()),
        LineageScope::Run(lonely.clone()),
        LineageScope::Project("lab".into()),
        LineageScope::Project("nope".into()),
        LineageScope::Blob(sha(2)),
        LineageScope::Blob(sha(77)),
    ] {
        both.same_lineage(scope).await;
    }
    for direction in [TraceDirection::Up, TraceDirection::Down] {
        for (blob, depth) in [(1, 0), (1, 5), (2, 1), (4, 2), (8, 9), (10, 3), (77, 2)] {
            both.same_lineage(LineageScope::Trace {
                sha256: sha(blob),
                direction,
                depth,
            })
            .await;
        }
    }

    // Deleting a directory removes what is under it; blobs stay referenced
    // until no row names them.
    let a = both.pg.delete_artifacts(&t, "model").await.unwrap();
    let b = both.sqlite.delete_artifacts(&t, "model").await.unwrap();
    assert_eq!((a, b), (2, 2));
    assert_eq!(
        both.pg.referenced_blobs().await.unwrap(),
        both.sqlite.referenced_blobs().await.unwrap()
    );

    // Logged models: created, tagged, searched the same way.
    let exp = both.pg.get_run(&train).await.unwrap().experiment_id;
    for name in ["m1", "m2", "m1"] {
        let new = NewLoggedModel {
            experiment_id: exp,
            name: name.into(),
            model_type: "sklearn".into(),
            source_run_id: Some(train.clone()),
            tags: BTreeMap::from([("stage".into(), "dev".into())]),
            params: BTreeMap::from([("alpha".into(), "0.5".into())]),
        };
        let a = both.pg.create_logged_model(new.clone()).await.unwrap();
        let b = both.sqlite.create_logged_model(new).await.unwrap();
        assert_eq!(
            (&a.name, &a.tags, &a.params, a.status),
            (&b.name, &b.tags, &b.params, b.status)
        );
        let a = both
            .pg
            .set_logged_model_tags(&a.id, BTreeMap::from([("stage".into(), "prod".into())]))
            .await
            .unwrap();
        assert_eq!(a.tags["stage"], "prod");
        both.pg
            .set_logged_model_status(&a.id, ModelStatus::Ready)
            .await
            .unwrap();
        let artifact = ArtifactOwner::Model(a.id.clone());
        both.pg
            .put_artifact(
                &artifact,
                NewArtifact {
                    path: "model.pkl".into(),
                    sha256: sha(50),
                    size: 5,
                    media_type: String::new(),
                    direction: Output,
                    step: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(
            both.pg.list_artifacts(&artifact, "").await.unwrap().len(),
            1
        );
    }
    let query = ModelQuery {
        name: Some("m1".into()),
        limit: 1,
        ..ModelQuery::default()
    };
    let a = both.pg.search_logged_models(query.clone()).await.unwrap();
    let b = both.sqlite.search_logged_models(query).await.unwrap();
    assert_eq!(
        (a.items.len(), a.next_cursor.clone()),
        (b.items.len(), b.next_cursor)
    );
    assert_eq!(a.items[0].status, ModelStatus::Ready);
    let err = both
        .pg
        .delete_logged_model_tag(&a.items[0].id, "missing")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let outputs = vec![ModelOutput {
        model_id: a.items[0].id.clone(),
        step: 3,
    }];
    both.pg
        .log_model_outputs(&eval, outputs.clone())
        .await
        .unwrap();
    both.pg.log_model_outputs(&eval, outputs).await.unwrap();
    let run = both.pg.get_run(&eval).await.unwrap();
    assert_eq!(run.model_outputs.len(), 1);
    db.drop_db().await;
}
