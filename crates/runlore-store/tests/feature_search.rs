#![allow(clippy::unwrap_used)] // test helpers panic on failure by design
//! Filtering and ordering runs by their features (`features.<path>`), on a
//! real SQLite file: numbers, strings, booleans, arrays, JSON Pointer paths,
//! missing values, and pages of an ordered search.

use std::sync::Arc;

use runlore_core::filter::parse_filter;
use runlore_core::*;
use serde_json::json;

mod support;

async fn seeded() -> (tempfile::TempDir, Arc<dyn MetadataStore>) {
    let (dir, store) = support::open();
    let trees = [
        Some(
            json!({"model": {"lr": 0.1, "arch": "resnet18"}, "amp": true,
                    "layers": [64, 32], "a.b": {"c": 1}}),
        ),
        Some(json!({"model": {"lr": 0.01, "arch": "resnet34"}, "amp": false, "layers": [128]})),
        Some(json!({"model": {"lr": "auto", "arch": "vit"}})),
        None,
        Some(json!({"model": {"lr": null}})),
    ];
    for (i, features) in trees.into_iter().enumerate() {
        store
            .create_run(NewRun {
                project: "f".into(),
                name: Some(format!("f{i}")),
                start_time: Some(1_000 + i as i64),
                features,
                ..NewRun::default()
            })
            .await
            .unwrap();
    }
    (dir, store)
}

async fn search(store: &Arc<dyn MetadataStore>, filter: &str, order: &[&str]) -> Vec<String> {
    support::search_in(store, "f", filter, order).await
}

#[tokio::test]
async fn features_filter_by_type_path_and_presence() {
    let (_dir, store) = seeded().await;
    let by_name = ["name"];
    for (filter, want) in [
        ("features.model.lr > 0.05", &["f0"][..]),
        ("features.model.lr < 1", &["f0", "f1"]),
        ("features.model.lr = 'auto'", &["f2"]),
        ("features.model.lr IN (0.1, 0.01)", &["f0", "f1"]),
        ("features.model.arch LIKE 'resnet%'", &["f0", "f1"]),
        ("features.model.arch != 'vit'", &["f0", "f1"]),
        ("features.amp = 'true'", &["f0"]),
        ("config.amp = 'false'", &["f1"]),
        ("feature.layers.0 = 64", &["f0"]),
        ("features./layers/0 >= 64", &["f0", "f1"]),
        ("features.`/a.b/c` = 1", &["f0"]),
        ("features.model.lr IS NULL", &["f3", "f4"]),
        ("features.model.lr IS NOT NULL", &["f0", "f1", "f2"]),
        (
            "features.model.lr > 0.05 OR features.model.arch = 'vit'",
            &["f0", "f2"],
        ),
        ("features.missing.key = 1", &[]),
    ] {
        assert_eq!(search(&store, filter, &by_name).await, want, "{filter}");
    }
}

#[tokio::test]
async fn features_order_numbers_then_strings_with_missing_last() {
    let (_dir, store) = seeded().await;
    let asc = search(&store, "", &["features.model.lr ASC"]).await;
    assert_eq!(asc[..3], ["f1", "f0", "f2"], "{asc:?}");
    let desc = search(&store, "", &["features.model.lr DESC"]).await;
    assert_eq!(desc[..3], ["f2", "f0", "f1"], "{desc:?}");
    let mut missing = asc[3..].to_vec();
    missing.sort();
    assert_eq!(missing, ["f3", "f4"]);

    // Pages of an ordered search hold every run once, in order.
    let runs = support::all_pages(&store, "f", "features.model.lr ASC", 2).await;
    let names: Vec<String> = runs.into_iter().map(|r| r.name).collect();
    assert_eq!(names, asc);
}

#[test]
fn bad_feature_filters_are_refused_with_a_reason() {
    let mixed = parse_filter("features.x IN (1, 'a')")
        .unwrap_err()
        .to_string();
    assert!(mixed.contains("values of one type"), "{mixed}");
    let empty = parse_filter("features.a..b = 1").unwrap_err().to_string();
    assert!(empty.contains("empty part"), "{empty}");
}

#[tokio::test]
async fn a_database_from_before_the_feature_index_is_indexed_when_opened() {
    let (dir, store) = seeded().await;
    drop(store);
    // As a version-7 database left it: no index, and no record of 0008.
    let conn = rusqlite::Connection::open(dir.path().join(runlore_store::SQLITE_FILE)).unwrap();
    conn.execute_batch(
        "DROP TABLE feature_values; DELETE FROM schema_migrations WHERE version = 8;",
    )
    .unwrap();
    drop(conn);
    let store = runlore_store::open_data_dir(dir.path()).unwrap();
    assert_eq!(
        search(&store, "features.model.lr < 1", &["features.model.lr DESC"]).await,
        ["f0", "f1"]
    );
    assert_eq!(search(&store, "features.amp = 'false'", &[]).await, ["f1"]);
}
