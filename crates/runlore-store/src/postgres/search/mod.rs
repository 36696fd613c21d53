//! Run search on PostgreSQL: the filter and the order become one SQL query
//! over `runs r` whose answers and order are SQLite's (checked by
//! `tests/postgres_search.rs` against SQLite on the same runs). One plan:
//! PostgreSQL's planner picks between the (key, value) indexes and an
//! ordered walk itself, which SQLite's store has to do by hand.
//!
//! Where SQLite's dynamic typing decides an answer, this says the same
//! thing explicitly: feature values are typed (`kind` 0 numbers, 1 text,
//! numbers first ascending as SQLite orders types), `LIKE` has no escape
//! character, and every argument carries its type so no comparison
//! depends on inference.

mod predicate;

use runlore_core::filter::{Attribute, Field, OrderKey};
use runlore_core::store::RunQuery;
use runlore_core::{LifecycleView, Page, Result, Run, cursor};

use super::{PostgresStore, pg_err, runs};
use crate::codec::feature_leaves::tree_path;
use crate::sql_common::page_size;
use predicate::{Sql, attribute_column, expr_sql};

impl PostgresStore {
    pub async fn search_runs(&self, query: RunQuery) -> Result<Page<Run>> {
        let limit = page_size(query.limit)?;
        // The same fingerprint as SQLite's, so a cursor means the same
        // query on either backend.
        let fingerprint = cursor::fingerprint(&[&format!(
            "runs|{:?}|{:?}|{:?}|{:?}|{:?}",
            query.project, query.experiment_ids, query.filter, query.order_by, query.view
        )]);
        let offset = match &query.cursor {
            Some(c) => cursor::decode(c, fingerprint)?,
            None => 0,
        };
        let want = limit + 1;
        let (text, sql) = plan(&query, want, offset)?;
        let client = self.client().await?;
        let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = sql.params();
        let keys: Vec<i64> = client
            .query(&text, &params)
            .await
            .map_err(pg_err)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let more = keys.len() > limit;
        let items = runs::load(&client, &keys[..keys.len().min(limit)]).await?;
        let next_cursor = more.then(|| cursor::encode(offset + limit as u64, fingerprint));
        Ok(Page { items, next_cursor })
    }
}

fn direction(descending: bool) -> &'static str {
    if descending { "DESC" } else { "ASC" }
}

/// The query text and its arguments.
fn plan(query: &RunQuery, want: usize, offset: u64) -> Result<(String, Sql)> {
    let mut sql = Sql::default();
    let mut joins = String::new();
    let mut order = Vec::new();
    for (i, key) in query.order_by.iter().enumerate() {
        let dir = direction(key.descending);
        // Runs that lack the key sort last in both directions.
        let columns = order_columns(&mut sql, &mut joins, i, &key.field);
        let Some(first) = columns.first() else {
            continue;
        };
        order.push(format!("{first} IS NULL"));
        for column in &columns {
            order.push(format!("{column} {dir}"));
        }
    }
    let primary = query.order_by.first().cloned().unwrap_or(OrderKey {
        field: Field::Attribute(Attribute::StartTime),
        descending: true,
    });
    if query.order_by.is_empty() {
        order.push("r.start_time IS NULL, r.start_time DESC".to_owned());
    }
    order.push(format!("r.id {}", direction(primary.descending)));
    let mut conditions = vec![
        match query.view {
            LifecycleView::Active => "r.lifecycle = 'active'",
            LifecycleView::Inactive => "r.lifecycle <> 'active'",
            LifecycleView::All => "TRUE",
        }
        .to_owned(),
    ];
    if let Some(project) = &query.project {
        let p = sql.text(project.clone());
        conditions.push(format!(
            "r.project_id = (SELECT id FROM projects WHERE name = {p})"
        ));
    }
    if !query.experiment_ids.is_empty() {
        let ids = sql.ints(query.experiment_ids.iter().map(|id| id.value()).collect());
        conditions.push(format!("r.experiment_id = ANY({ids})"));
    }
    if let Some(filter) = &query.filter {
        conditions.push(expr_sql(&mut sql, filter)?);
    }
    let text = format!(
        "SELECT r.id FROM runs r{joins} WHERE {} ORDER BY {} LIMIT {want} OFFSET {offset}",
        conditions.join(" AND "),
        order.join(", "),
    );
    Ok((text, sql))
}

/// The columns one order key sorts by (the first is NULL for runs that
/// lack the key), joining what they need.
fn order_columns(sql: &mut Sql, joins: &mut String, i: usize, field: &Field) -> Vec<String> {
    let alias = format!("o{i}");
    match field {
        Field::Metric(key) => {
            let k = sql.text(key.clone());
            joins.push_str(&format!(
                " LEFT JOIN latest_metrics {alias} ON {alias}.run_id = r.id
                  AND {alias}.key_id = (SELECT id FROM metric_keys WHERE key = {k})"
            ));
            vec![format!("{alias}.value")]
        }
        Field::Param(key) | Field::Tag(key) => {
            let table = if matches!(field, Field::Param(_)) {
                "params"
            } else {
                "tags"
            };
            let k = sql.text(key.clone());
            joins.push_str(&format!(
                " LEFT JOIN {table} {alias} ON {alias}.run_id = r.id AND {alias}.key = {k}"
            ));
            vec![format!("{alias}.value")]
        }
        Field::Attribute(attr) => vec![attribute_column(*attr).to_owned()],
        // Numbers before strings, as SQLite orders types; JSON null, arrays
        // and objects have no value, so they sort last.
        Field::Feature(path) => match tree_path(path) {
            Ok(tree_path) => {
                let p = sql.text(tree_path);
                joins.push_str(&format!(
                    " LEFT JOIN feature_values {alias} ON {alias}.run_id = r.id AND {alias}.path = {p}"
                ));
                vec![
                    format!("{alias}.kind"),
                    format!("{alias}.num"),
                    format!("{alias}.txt"),
                ]
            }
            // Paths are checked when the order is parsed; one built in code
            // that is not a path orders nothing.
            Err(_) => Vec::new(),
        },
        // The parser refuses dataset order keys (a run may have several).
        Field::Dataset(_) => Vec::new(),
    }
}
