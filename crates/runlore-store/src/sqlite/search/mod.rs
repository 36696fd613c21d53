//! Run search: the filter and the order become SQL, and only the requested
//! page of runs is loaded.
//!
//! Three plans answer the same query with the same order:
//! - the *ordered scan* walks an index in the requested order (a metric's
//!   latest values, a param or tag's values, or start times), checks each run
//!   against the filter with primary-key probes, and stops after one page:
//!   milliseconds when many runs match, but slow when few do;
//! - the *grouped scan* (`grouped.rs`), for two or more order keys whose
//!   first has large groups of ties, fills the page group by group along
//!   the second key's index;
//! - the *set plan* builds the set of matching runs from the filter's
//!   indexes and sorts it: fast when few runs match.
//!
//! With two or more keys the grouped scan looks at the first group and
//! either answers, hands over to the ordered scan (small groups), or to the
//! set plan. The ordered scan runs under a small time budget (SQLite's
//! progress handler interrupts it); when it runs out, or cannot prove the
//! page is complete (runs that lack the order key sort last and are not in
//! its index), the set plan answers. Every plan orders by the keys, then the
//! run's internal id in the first key's direction, so pages agree whichever
//! plan ran (`tests.rs` compares them).

mod feature_path;
mod grouped;
mod predicate;
mod source;
#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use runlore_core::filter::{Attribute, Field, OrderKey};
use runlore_core::store::RunQuery;
use runlore_core::{LifecycleView, Page, Result, Run, cursor};
use rusqlite::Connection;

use super::{db_err, experiments, runs};
use grouped::{Grouped, MIN_WALKED_GROUP, grouped_scan};
use predicate::{Mode, Sql, attribute_column, expr_sql};
use source::{key_source, pushdown};

/// How long the ordered scan may run before the set plan takes over.
const ORDERED_SCAN_BUDGET: Duration = Duration::from_millis(8);
/// SQLite VM instructions between two checks of the budget.
const PROGRESS_OPS: i32 = 2_000;

pub fn search(conn: &Connection, query: &RunQuery) -> Result<Page<Run>> {
    let limit = experiments::page_size(query.limit)?;
    let fingerprint = cursor::fingerprint(&[&format!(
        "runs|{:?}|{:?}|{:?}|{:?}|{:?}",
        query.project, query.experiment_ids, query.filter, query.order_by, query.view
    )]);
    let offset = match &query.cursor {
        Some(c) => cursor::decode(c, fingerprint)?,
        None => 0,
    };
    let want = limit + 1;
    let keys = match grouped_scan(conn, query, want, offset, MIN_WALKED_GROUP)? {
        Grouped::Page(keys) => keys,
        Grouped::Ordered => match ordered_scan(conn, query, want, offset)? {
            Some(keys) => keys,
            None => set_plan(conn, query, want, offset)?,
        },
        Grouped::SetPlan => set_plan(conn, query, want, offset)?,
    };
    let more = keys.len() > limit;
    let items = runs::load(conn, &keys[..keys.len().min(limit)])?;
    let next_cursor = more.then(|| cursor::encode(offset + limit as u64, fingerprint));
    Ok(Page { items, next_cursor })
}

/// The first order key, or the default (newest first).
fn primary_order(query: &RunQuery) -> OrderKey {
    query.order_by.first().cloned().unwrap_or(OrderKey {
        field: Field::Attribute(Attribute::StartTime),
        descending: true,
    })
}

fn direction(descending: bool) -> &'static str {
    if descending { "DESC" } else { "ASC" }
}

/// Scope conditions (lifecycle, project, experiments) on `runs r`.
fn scope(sql: &mut Sql, query: &RunQuery) -> Vec<String> {
    let mut conditions = vec![
        match query.view {
            LifecycleView::Active => "r.lifecycle = 'active'",
            LifecycleView::Inactive => "r.lifecycle <> 'active'",
            LifecycleView::All => "1 = 1",
        }
        .to_owned(),
    ];
    if let Some(project) = &query.project {
        let p = sql.arg(project.clone());
        conditions.push(format!(
            "r.project_id = (SELECT id FROM projects WHERE name = {p})"
        ));
    }
    if !query.experiment_ids.is_empty() {
        let ids = query
            .experiment_ids
            .iter()
            .map(|id| id.value().to_string())
            .collect::<Vec<_>>()
            .join(",");
        conditions.push(format!("r.experiment_id IN ({ids})"));
    }
    conditions
}

fn run_keys(conn: &Connection, text: &str, sql: &Sql) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare(text)?;
    stmt.query_map(rusqlite::params_from_iter(sql.args.iter()), |r| r.get(0))?
        .collect()
}

/// The ordered scan; `None` when it does not apply, ran out of time, or
/// found fewer than `want` runs (the rest may lack the order key).
fn ordered_scan(
    conn: &Connection,
    query: &RunQuery,
    want: usize,
    offset: u64,
) -> Result<Option<Vec<i64>>> {
    let order = primary_order(query);
    let dir = direction(order.descending);
    let mut sql = Sql::default();
    // The source's index yields rows in (key, run id) order.
    let Some(src) = key_source(&mut sql, &order.field, "o") else {
        return Ok(None);
    };
    let mut conditions = src.conditions;
    conditions.extend(pushdown(
        &mut sql,
        query.filter.as_ref(),
        &order.field,
        &src.value,
    )?);
    let (from, key_column, id_column) = (src.from, src.value, src.id);
    // Later keys order runs that tie on the first; SQLite sorts each group
    // of ties as the scan reaches it and still stops after one page.
    let mut joins = String::new();
    let mut order_by = vec![format!("{key_column} {dir}")];
    for (i, key) in query.order_by.iter().enumerate().skip(1) {
        let column = order_column(&mut sql, &mut joins, i, &key.field);
        order_by.push(format!(
            "{column} IS NULL, {column} {}",
            direction(key.descending)
        ));
    }
    order_by.push(format!("{id_column} {dir}"));
    conditions.extend(scope(&mut sql, query));
    if let Some(filter) = &query.filter {
        conditions.push(expr_sql(&mut sql, filter, Mode::Probe)?);
    }
    let text = format!(
        "SELECT r.id FROM {from}{joins} WHERE {} ORDER BY {} LIMIT {want} OFFSET {offset}",
        conditions.join(" AND "),
        order_by.join(", ")
    );
    let started = Instant::now();
    conn.progress_handler(
        PROGRESS_OPS,
        Some(move || started.elapsed() > ORDERED_SCAN_BUDGET),
    );
    let result = run_keys(conn, &text, &sql);
    conn.progress_handler(0, None::<fn() -> bool>);
    match result {
        Ok(keys) if keys.len() == want => Ok(Some(keys)),
        Ok(_) => Ok(None),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::OperationInterrupted =>
        {
            Ok(None)
        }
        Err(e) => Err(db_err(e)),
    }
}

/// The set plan: complete for any query.
fn set_plan(conn: &Connection, query: &RunQuery, want: usize, offset: u64) -> Result<Vec<i64>> {
    let mut sql = Sql::default();
    let mut joins = String::new();
    let mut order = Vec::new();
    for (i, key) in query.order_by.iter().enumerate() {
        let column = order_column(&mut sql, &mut joins, i, &key.field);
        // Runs that lack the key sort last in both directions.
        order.push(format!(
            "{column} IS NULL, {column} {}",
            direction(key.descending)
        ));
    }
    let primary = primary_order(query);
    if query.order_by.is_empty() {
        order.push("r.start_time IS NULL, r.start_time DESC".to_owned());
    }
    order.push(format!("r.id {}", direction(primary.descending)));
    let mut conditions = scope(&mut sql, query);
    if let Some(filter) = &query.filter {
        conditions.push(expr_sql(&mut sql, filter, Mode::Sets)?);
    }
    let text = format!(
        "SELECT r.id FROM runs r{joins} WHERE {} ORDER BY {} LIMIT {want} OFFSET {offset}",
        conditions.join(" AND "),
        order.join(", "),
    );
    run_keys(conn, &text, &sql).map_err(db_err)
}

fn order_column(sql: &mut Sql, joins: &mut String, i: usize, field: &Field) -> String {
    let alias = format!("o{i}");
    match field {
        Field::Metric(key) => {
            let k = sql.arg(key.clone());
            joins.push_str(&format!(
                " LEFT JOIN latest_metrics {alias} ON {alias}.run_id = r.id
                  AND {alias}.key_id = (SELECT id FROM metric_keys WHERE key = {k})"
            ));
            format!("{alias}.value")
        }
        Field::Param(key) | Field::Tag(key) => {
            let table = if matches!(field, Field::Param(_)) {
                "params"
            } else {
                "tags"
            };
            let k = sql.arg(key.clone());
            joins.push_str(&format!(
                " LEFT JOIN {table} {alias} ON {alias}.run_id = r.id AND {alias}.key = {k}"
            ));
            format!("{alias}.value")
        }
        Field::Attribute(attr) => attribute_column(*attr).to_owned(),
        // Numbers before strings (SQLite's order of types); JSON null,
        // arrays and objects have no value, so they sort last.
        Field::Feature(path) => match feature_path::tree_path(path) {
            Ok(tree_path) => {
                let p = sql.arg(tree_path);
                joins.push_str(&format!(
                    " LEFT JOIN feature_values {alias} ON {alias}.run_id = r.id AND {alias}.path = {p}"
                ));
                format!("{alias}.value")
            }
            // Paths are checked when the order is parsed; one built in code
            // that is not a path orders nothing.
            Err(_) => "NULL".to_owned(),
        },
        // The parser refuses dataset order keys (a run may have several);
        // one built in code orders nothing.
        Field::Dataset(_) => "NULL".to_owned(),
    }
}
