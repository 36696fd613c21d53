#![allow(clippy::unwrap_used)] // test helpers panic on failure by design
//! The experiment graph on the throwaway PostgreSQL cluster, against
//! SQLite: the same runs (with the same client-chosen ids) and the same
//! re-parenting give the same features, diffs, roots, lineage, project
//! graph and change records; cycles and changed features are refused the
//! same way.

#[allow(dead_code)] // each test binary uses part of it
mod pg_support;

use std::sync::Arc;

use pg_support::FreshDb;
use runlore_core::graph::Direction;
use runlore_core::*;
use runlore_store::PostgresStore;
use serde_json::{Value, json};

/// The graph operations both stores are asked, in the same order.
struct Both {
    pg: PostgresStore,
    sqlite: Arc<dyn MetadataStore>,
}

impl Both {
    async fn run(&self, name: &str, parents: &[&RunId], features: Option<Value>) -> RunId {
        let new = NewRun {
            id: Some(RunId::generate()),
            project: "dag".into(),
            name: Some(name.into()),
            features,
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
        let b = self.sqlite.create_run(new).await.unwrap();
        assert_eq!(a.id, b.id);
        a.id
    }

    async fn same_features(&self, id: &RunId) -> RunFeatures {
        let a = self.pg.run_features(id).await.unwrap();
        assert_eq!(
            a,
            self.sqlite.run_features(id).await.unwrap(),
            "features of {id}"
        );
        a
    }
}

fn link(id: &RunId, kind: EdgeKind) -> ParentLink {
    ParentLink {
        run_id: id.clone(),
        kind,
        resume_step: (kind == EdgeKind::ResumedFrom).then_some(40),
    }
}

#[tokio::test]
async fn graphs_match_sqlite() {
    let Some(db) = FreshDb::create("graph").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let both = Both {
        pg: PostgresStore::connect(&db.url).await.unwrap(),
        sqlite: runlore_store::open_data_dir(dir.path()).unwrap(),
    };
    let base = json!({"model": {"lr": 0.1, "depth": 4}, "data": "cifar"});
    let root = both.run("root", &[], Some(base.clone())).await;
    let mut tuned = base.clone();
    tuned["model"]["lr"] = json!(0.01);
    let a = both.run("a", &[&root], Some(tuned)).await;
    let b = both.run("b", &[&a], None).await;
    let c = both
        .run("c", &[&a, &root], Some(json!({"model": {"lr": 0.5}})))
        .await;
    let other = both.run("other", &[], None).await;

    let fa = both.same_features(&a).await;
    assert_eq!(fa.root, root);
    assert_eq!(
        fa.diff,
        json!([{"op": "replace", "path": "/model/lr", "value": 0.01}])
    );
    both.same_features(&c).await;

    // Features given later: once, and the same tree again is fine.
    let later = json!({"model": {"lr": 0.01, "depth": 8}, "data": "cifar"});
    let x = both.pg.set_run_features(&b, later.clone()).await.unwrap();
    let y = both
        .sqlite
        .set_run_features(&b, later.clone())
        .await
        .unwrap();
    assert_eq!(x, y);
    both.pg.set_run_features(&b, later).await.unwrap();
    let e1 = both
        .pg
        .set_run_features(&b, json!({"k": 1}))
        .await
        .unwrap_err();
    let e2 = both
        .sqlite
        .set_run_features(&b, json!({"k": 1}))
        .await
        .unwrap_err();
    assert_eq!((e1.kind(), e1.message()), (e2.kind(), e2.message()));

    // Re-parenting: a cycle is refused; a new primary parent re-diffs.
    let e1 = both
        .pg
        .set_run_parents(&a, vec![link(&b, EdgeKind::DerivedFrom)], "ada")
        .await
        .unwrap_err();
    let e2 = both
        .sqlite
        .set_run_parents(&a, vec![link(&b, EdgeKind::DerivedFrom)], "ada")
        .await
        .unwrap_err();
    assert_eq!((e1.kind(), e1.message()), (e2.kind(), e2.message()));
    let parents = vec![
        link(&other, EdgeKind::DerivedFrom),
        link(&root, EdgeKind::ResumedFrom),
    ];
    let x = both
        .pg
        .set_run_parents(&c, parents.clone(), "ada")
        .await
        .unwrap();
    let y = both
        .sqlite
        .set_run_parents(&c, parents, "ada")
        .await
        .unwrap();
    assert_eq!(x, y);
    assert_eq!(x.root, other);
    let changes = both.pg.parent_changes(&c).await.unwrap();
    let expected = both.sqlite.parent_changes(&c).await.unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(
        (
            &changes[0].old_parents,
            &changes[0].new_parents,
            &changes[0].changed_by
        ),
        (
            &expected[0].old_parents,
            &expected[0].new_parents,
            &expected[0].changed_by
        )
    );

    for direction in [Direction::Up, Direction::Down] {
        for (start, depth) in [(&b, 1), (&b, 10), (&root, 2), (&c, 5)] {
            let x = both.pg.run_lineage(start, direction, depth).await.unwrap();
            let y = both
                .sqlite
                .run_lineage(start, direction, depth)
                .await
                .unwrap();
            assert_eq!(x, y, "lineage {direction:?} of {start} to {depth}");
        }
    }
    let x = both.pg.project_graph("dag").await.unwrap();
    let y = both.sqlite.project_graph("dag").await.unwrap();
    assert_eq!(x, y);
    assert_eq!(x.nodes.len(), 5);

    let ids = [c.clone(), root.clone(), other.clone()];
    assert_eq!(
        both.pg.feature_trees(&ids).await.unwrap(),
        both.sqlite.feature_trees(&ids).await.unwrap()
    );
    let missing = both
        .pg
        .feature_trees(&[RunId::generate()])
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    db.drop_db().await;
}
