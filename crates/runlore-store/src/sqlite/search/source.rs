//! Where an order key's values live, as SQL over `runs r`: the index a scan
//! walks in the key's order, a run's membership in one value's group, and
//! the filter's conditions that can move onto the walked index.

use runlore_core::Result;
use runlore_core::filter::{Attribute, CompareOp, Expr, Field};

use super::predicate::{Sql, feature_guard, predicate};

/// An order key's rows joined to their runs; walking `from` in
/// `(value, id)` order follows an index.
pub struct KeySource {
    pub from: String,
    /// The rows that carry the key with a value.
    pub conditions: Vec<String>,
    /// The key's value column.
    pub value: String,
    /// The run id column, which orders ties inside the index.
    pub id: String,
}

/// The source of `field` with its table under `alias`; `None` when no index
/// yields runs in the key's order.
pub fn key_source(sql: &mut Sql, field: &Field, alias: &str) -> Option<KeySource> {
    match field {
        Field::Metric(key) => {
            let k = sql.arg(key.clone());
            Some(KeySource {
                from: format!("latest_metrics {alias} CROSS JOIN runs r ON r.id = {alias}.run_id"),
                conditions: vec![
                    format!("{alias}.key_id = (SELECT id FROM metric_keys WHERE key = {k})"),
                    // NaN is stored as NULL; runs without a value sort last
                    // and are not in the walk.
                    format!("{alias}.value IS NOT NULL"),
                ],
                value: format!("{alias}.value"),
                id: format!("{alias}.run_id"),
            })
        }
        Field::Param(key) | Field::Tag(key) => {
            let table = keyed_table(field);
            let k = sql.arg(key.clone());
            Some(KeySource {
                from: format!("{table} {alias} CROSS JOIN runs r ON r.id = {alias}.run_id"),
                conditions: vec![format!("{alias}.key = {k}")],
                value: format!("{alias}.value"),
                id: format!("{alias}.run_id"),
            })
        }
        Field::Attribute(Attribute::StartTime) => Some(KeySource {
            from: "runs r".to_owned(),
            conditions: vec!["r.start_time IS NOT NULL".to_owned()],
            value: "r.start_time".to_owned(),
            id: "r.id".to_owned(),
        }),
        Field::Feature(path) => {
            let p = sql.arg(super::feature_path::tree_path(path).ok()?);
            Some(KeySource {
                from: format!("feature_values {alias} CROSS JOIN runs r ON r.id = {alias}.run_id"),
                conditions: vec![format!("{alias}.path = {p}")],
                value: format!("{alias}.value"),
                id: format!("{alias}.run_id"),
            })
        }
        Field::Attribute(_) | Field::Dataset(_) => None,
    }
}

/// A condition on `runs r`: the run's value of `field` equals `value` (a
/// placeholder). Only for fields `key_source` walks.
pub fn has_value(sql: &mut Sql, field: &Field, value: &str) -> Option<String> {
    match field {
        Field::Metric(key) => {
            let k = sql.arg(key.clone());
            Some(format!(
                "EXISTS (SELECT 1 FROM latest_metrics g WHERE g.run_id = r.id \
                 AND g.key_id = (SELECT id FROM metric_keys WHERE key = {k}) AND g.value = {value})"
            ))
        }
        Field::Param(key) | Field::Tag(key) => {
            let table = keyed_table(field);
            let k = sql.arg(key.clone());
            Some(format!(
                "EXISTS (SELECT 1 FROM {table} g WHERE g.run_id = r.id \
                 AND g.key = {k} AND g.value = {value})"
            ))
        }
        Field::Attribute(Attribute::StartTime) => Some(format!("r.start_time = {value}")),
        Field::Feature(path) => {
            let p = sql.arg(super::feature_path::tree_path(path).ok()?);
            Some(format!(
                "EXISTS (SELECT 1 FROM feature_values g WHERE g.run_id = r.id \
                 AND g.path = {p} AND g.value = {value})"
            ))
        }
        Field::Attribute(_) | Field::Dataset(_) => None,
    }
}

fn keyed_table(field: &Field) -> &'static str {
    if matches!(field, Field::Tag(_)) {
        "tags"
    } else {
        "params"
    }
}

/// The filter's top-level conjuncts on `field` (a metric, param or tag),
/// restated on `column`, the field's value in the walked row. A run has at
/// most one row per key, so they hold exactly when the filter's own probes
/// do; stated on the walked index they let SQLite seek past values the
/// filter rejects instead of probing and rejecting runs one by one
/// (`params.lr IN ('0.1', '0.3')` ordered by `params.lr`). The whole filter
/// still applies as well.
pub fn pushdown(
    sql: &mut Sql,
    filter: Option<&Expr>,
    field: &Field,
    column: &str,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    if matches!(
        field,
        Field::Metric(_) | Field::Param(_) | Field::Tag(_) | Field::Feature(_)
    ) && let Some(filter) = filter
    {
        conjuncts(sql, filter, field, column, &mut out)?;
    }
    Ok(out)
}

fn conjuncts(
    sql: &mut Sql,
    expr: &Expr,
    field: &Field,
    column: &str,
    out: &mut Vec<String>,
) -> Result<()> {
    match expr {
        Expr::And(a, b) => {
            conjuncts(sql, a, field, column, out)?;
            conjuncts(sql, b, field, column, out)
        }
        // IS NULL and IS NOT NULL are about runs without the key, which the
        // walk does not see; the filter's own probe decides those.
        Expr::Compare(c)
            if c.field == *field && !matches!(c.op, CompareOp::IsNull | CompareOp::IsNotNull) =>
        {
            let condition = predicate(sql, column, c)?;
            match feature_guard(&c.value, column).filter(|_| matches!(field, Field::Feature(_))) {
                Some(guard) => out.push(format!("({condition} AND {guard})")),
                None => out.push(condition),
            }
            Ok(())
        }
        Expr::Compare(_) | Expr::Or(..) => Ok(()),
    }
}
