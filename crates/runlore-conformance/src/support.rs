//! Helpers the cases share.

use std::sync::Arc;

use runlore_core::filter::{parse_filter, parse_order_by};
use runlore_core::store::RunQuery;
use runlore_core::*;

pub fn point(key: &str, step: i64, ts: i64, value: f64) -> MetricPoint {
    MetricPoint {
        key: key.into(),
        value: MetricValue(value),
        step,
        timestamp: Some(ts),
    }
}

pub fn batch(points: Vec<MetricPoint>) -> LogBatch {
    LogBatch {
        metrics: points,
        ..LogBatch::default()
    }
}

pub async fn new_run(store: &dyn MetadataStore, project: &str, name: &str) -> Run {
    store
        .create_run(NewRun {
            project: project.into(),
            experiment: Some("exp".into()),
            name: Some(name.into()),
            ..NewRun::default()
        })
        .await
        .unwrap()
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
