//! Conformance cases: catalog.

use std::collections::BTreeMap;
use std::sync::Arc;

use runlore_core::store::ExperimentQuery;
use runlore_core::*;

pub async fn default_project_and_experiment_exist(store: Arc<dyn MetadataStore>) {
    let default = store.get_experiment(ExperimentId::DEFAULT).await.unwrap();
    assert_eq!(default.name, DEFAULT_EXPERIMENT);
    assert_eq!(default.project, DEFAULT_PROJECT);
    let err = store
        .set_experiment_lifecycle(ExperimentId::DEFAULT, Lifecycle::Deleted)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}

pub async fn projects_are_created_listed_and_archived(store: Arc<dyn MetadataStore>) {
    let p = store
        .create_project(NewProject {
            name: "vit".into(),
            description: "ViT on ImageNet".into(),
        })
        .await
        .unwrap();
    assert_eq!(p.lifecycle, Lifecycle::Active);
    let dup = store
        .create_project(NewProject {
            name: "vit".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(dup.unwrap_err().kind(), ErrorKind::AlreadyExists);
    let bad = store
        .create_project(NewProject {
            name: "a b".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(bad.unwrap_err().kind(), ErrorKind::InvalidArgument);

    store
        .set_project_lifecycle("vit", Lifecycle::Archived)
        .await
        .unwrap();
    let active: Vec<_> = store.list_projects(LifecycleView::Active).await.unwrap();
    assert!(active.iter().all(|p| p.name != "vit"));
    let archived = store.list_projects(LifecycleView::Inactive).await.unwrap();
    assert_eq!(archived.len(), 1);
    store
        .set_project_lifecycle("vit", Lifecycle::Active)
        .await
        .unwrap();
    assert_eq!(
        store.get_project("vit").await.unwrap().description,
        "ViT on ImageNet"
    );
    let missing = store.get_project("nope").await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    assert!(missing.message().contains("nope"));
}

pub async fn experiments_rename_delete_restore_and_page(store: Arc<dyn MetadataStore>) {
    let mut ids = Vec::new();
    for i in 0..5 {
        let e = store
            .create_experiment(NewExperiment {
                project: "p".into(),
                name: format!("sweep-{i}"),
                tags: BTreeMap::from([("k".into(), "v".into())]),
                ..Default::default()
            })
            .await
            .unwrap();
        ids.push(e.id);
    }
    let dup = store
        .create_experiment(NewExperiment {
            project: "p".into(),
            name: "sweep-0".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(dup.unwrap_err().kind(), ErrorKind::AlreadyExists);
    let renamed = store.rename_experiment(ids[0], "baseline").await.unwrap();
    assert_eq!(renamed.name, "baseline");
    assert_eq!(renamed.tags.get("k").map(String::as_str), Some("v"));
    let clash = store
        .rename_experiment(ids[1], "baseline")
        .await
        .unwrap_err();
    assert_eq!(clash.kind(), ErrorKind::AlreadyExists);

    store
        .set_experiment_lifecycle(ids[2], Lifecycle::Deleted)
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut cursor = None;
    for _ in 0..10 {
        let page = store
            .list_experiments(ExperimentQuery {
                project: Some("p".into()),
                limit: 2,
                cursor: cursor.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        seen.extend(page.items.into_iter().map(|e| e.id));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, vec![ids[0], ids[1], ids[3], ids[4]]);
    store
        .set_experiment_lifecycle(ids[2], Lifecycle::Active)
        .await
        .unwrap();
    let deleted_runs_refused = store.get_experiment_by_name("p", "sweep-2").await.unwrap();
    assert_eq!(deleted_runs_refused.lifecycle, Lifecycle::Active);

    let other_query = ExperimentQuery {
        project: Some("other".into()),
        cursor: Some(cursor_of(&store).await),
        ..Default::default()
    };
    assert_eq!(
        store
            .list_experiments(other_query)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
}

async fn cursor_of(store: &Arc<dyn MetadataStore>) -> String {
    store
        .list_experiments(ExperimentQuery {
            project: Some("p".into()),
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .next_cursor
        .unwrap()
}
