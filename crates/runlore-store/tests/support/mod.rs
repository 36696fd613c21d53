//! Helpers the store's test files share.
#![allow(clippy::unwrap_used, dead_code)] // test helpers panic on failure by design

use std::sync::Arc;

use runlore_core::MetadataStore;
use runlore_core::filter::{parse_filter, parse_order_by};
use runlore_core::store::RunQuery;

/// A fresh store on a real SQLite file in a temporary data dir.
pub fn open() -> (tempfile::TempDir, Arc<dyn MetadataStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = runlore_store::open_data_dir(dir.path()).unwrap();
    (dir, store)
}

/// The names of the first 100 runs of `project` a filter and order select.
pub async fn search_in(
    store: &Arc<dyn MetadataStore>,
    project: &str,
    filter: &str,
    order: &[&str],
) -> Vec<String> {
    let page = store
        .search_runs(RunQuery {
            project: Some(project.into()),
            filter: parse_filter(filter).unwrap(),
            order_by: parse_order_by(order).unwrap(),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    page.items.into_iter().map(|r| r.name).collect()
}

/// Every run of `project` in `order`, read page by page through the
/// cursors (`limit` a page, at most 100 pages).
pub async fn all_pages(
    store: &Arc<dyn MetadataStore>,
    project: &str,
    order: &str,
    limit: usize,
) -> Vec<runlore_core::Run> {
    let mut runs = Vec::new();
    let mut cursor = None;
    for _ in 0..100 {
        let page = store
            .search_runs(RunQuery {
                project: Some(project.into()),
                order_by: parse_order_by(&[order]).unwrap(),
                limit,
                cursor: cursor.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        runs.extend(page.items);
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    runs
}
