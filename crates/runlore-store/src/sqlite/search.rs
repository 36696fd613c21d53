//! Run search: the filter and the order are translated into one SQL query,
//! so only the requested page of runs is ever loaded. Metric conditions read
//! `latest_metrics` through its (key, value) index; param and tag conditions
//! read their (key, value) indexes.

use runlore_core::filter::{
    Attribute, CompareOp, Comparison, Expr, Field, Literal, Operand, OrderKey,
};
use runlore_core::store::RunQuery;
use runlore_core::{Error, LifecycleView, Page, Result, Run, cursor};
use rusqlite::Connection;
use rusqlite::types::Value;

use super::{db_err, experiments, runs};

/// Query text plus its numbered arguments (`?1`, `?2` …), so pieces can be
/// written in any order.
#[derive(Default)]
struct Sql {
    args: Vec<Value>,
}

impl Sql {
    fn arg(&mut self, value: impl Into<Value>) -> String {
        self.args.push(value.into());
        format!("?{}", self.args.len())
    }

    fn literal(&mut self, lit: &Literal) -> String {
        match lit {
            Literal::Number(n) => self.arg(*n),
            Literal::String(s) => self.arg(s.clone()),
        }
    }
}

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
    let mut sql = Sql::default();
    let mut joins = String::new();
    let mut order = Vec::new();
    for (i, key) in query.order_by.iter().enumerate() {
        let column = order_column(&mut sql, &mut joins, i, &key.field);
        order.push(order_terms(&column, key));
    }
    if query.order_by.is_empty() {
        order.push("r.start_time IS NULL, r.start_time DESC".to_owned());
    }
    order.push("r.id DESC".to_owned());

    let mut conditions = vec![match query.view {
        LifecycleView::Active => "r.lifecycle = 'active'".to_owned(),
        LifecycleView::Inactive => "r.lifecycle <> 'active'".to_owned(),
        LifecycleView::All => "1 = 1".to_owned(),
    }];
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
    if let Some(filter) = &query.filter {
        conditions.push(format!("({})", expr_sql(&mut sql, filter)?));
    }
    let text = format!(
        "SELECT r.id FROM runs r{joins} WHERE {} ORDER BY {} LIMIT {} OFFSET {offset}",
        conditions.join(" AND "),
        order.join(", "),
        limit + 1
    );
    let mut stmt = conn.prepare(&text).map_err(db_err)?;
    let mut keys: Vec<i64> = stmt
        .query_map(rusqlite::params_from_iter(sql.args.iter()), |r| r.get(0))
        .map_err(db_err)?
        .collect::<rusqlite::Result<_>>()
        .map_err(db_err)?;
    let more = keys.len() > limit;
    keys.truncate(limit);
    let items = runs::load(conn, &keys)?;
    let next_cursor = more.then(|| cursor::encode(offset + limit as u64, fingerprint));
    Ok(Page { items, next_cursor })
}

fn order_terms(column: &str, key: &OrderKey) -> String {
    // Runs that lack the key sort last in both directions.
    let direction = if key.descending { "DESC" } else { "ASC" };
    format!("{column} IS NULL, {column} {direction}")
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
    }
}

fn attribute_column(attr: Attribute) -> &'static str {
    match attr {
        Attribute::RunId => "r.uuid",
        Attribute::RunName => "r.name",
        Attribute::Status => "r.status",
        Attribute::StartTime => "r.start_time",
        Attribute::EndTime => "r.end_time",
        Attribute::Created => "r.created_at",
        Attribute::ExperimentId => "r.experiment_id",
        Attribute::User => "r.user",
    }
}

fn expr_sql(sql: &mut Sql, expr: &Expr) -> Result<String> {
    Ok(match expr {
        Expr::And(a, b) => format!("({} AND {})", expr_sql(sql, a)?, expr_sql(sql, b)?),
        Expr::Or(a, b) => format!("({} OR {})", expr_sql(sql, a)?, expr_sql(sql, b)?),
        Expr::Compare(c) => compare_sql(sql, c)?,
    })
}

fn compare_sql(sql: &mut Sql, c: &Comparison) -> Result<String> {
    match &c.field {
        Field::Metric(key) => {
            let k = sql.arg(key.clone());
            let rows = format!(
                "SELECT run_id FROM latest_metrics WHERE key_id = (SELECT id FROM metric_keys WHERE key = {k})"
            );
            Ok(match c.op {
                CompareOp::IsNull => format!("r.id NOT IN ({rows})"),
                CompareOp::IsNotNull => format!("r.id IN ({rows})"),
                _ => format!("r.id IN ({rows} AND {})", predicate(sql, "value", c)?),
            })
        }
        Field::Param(key) | Field::Tag(key) => {
            let table = if matches!(c.field, Field::Param(_)) {
                "params"
            } else {
                "tags"
            };
            let k = sql.arg(key.clone());
            let rows = format!("SELECT run_id FROM {table} WHERE key = {k}");
            Ok(match c.op {
                CompareOp::IsNull => format!("r.id NOT IN ({rows})"),
                CompareOp::IsNotNull => format!("r.id IN ({rows})"),
                _ => format!("r.id IN ({rows} AND {})", predicate(sql, "value", c)?),
            })
        }
        Field::Attribute(Attribute::ExperimentId) => {
            // Experiment ids are strings on the wire and integers inside.
            let as_id = |l: &Literal| match l {
                Literal::String(s) => s
                    .trim()
                    .parse::<i64>()
                    .map(|v| Literal::Number(v as f64))
                    .ok(),
                Literal::Number(n) => Some(Literal::Number(*n)),
            };
            let value = match &c.value {
                Operand::String(s) => match as_id(&Literal::String(s.clone())) {
                    Some(Literal::Number(n)) => Operand::Number(n),
                    _ => return Ok("0 = 1".to_owned()),
                },
                Operand::List(items) => Operand::List(items.iter().filter_map(as_id).collect()),
                other => other.clone(),
            };
            let c = Comparison {
                field: c.field.clone(),
                op: c.op,
                value,
            };
            predicate(sql, "r.experiment_id", &c)
        }
        Field::Attribute(attr) => predicate(sql, attribute_column(*attr), c),
    }
}

fn predicate(sql: &mut Sql, column: &str, c: &Comparison) -> Result<String> {
    let single = |sql: &mut Sql| -> Result<String> {
        match &c.value {
            Operand::Number(n) => Ok(sql.arg(*n)),
            Operand::String(s) => Ok(sql.arg(s.clone())),
            _ => Err(Error::invalid("this comparison needs a single value")),
        }
    };
    Ok(match c.op {
        CompareOp::Eq => format!("{column} = {}", single(sql)?),
        CompareOp::Ne => format!("{column} <> {}", single(sql)?),
        CompareOp::Lt => format!("{column} < {}", single(sql)?),
        CompareOp::Le => format!("{column} <= {}", single(sql)?),
        CompareOp::Gt => format!("{column} > {}", single(sql)?),
        CompareOp::Ge => format!("{column} >= {}", single(sql)?),
        CompareOp::Like => match &c.value {
            // SQLite's LIKE ignores case; GLOB does not, so LIKE becomes GLOB.
            Operand::String(s) => format!("{column} GLOB {}", sql.arg(like_to_glob(s))),
            _ => return Err(Error::invalid("LIKE needs a string pattern")),
        },
        CompareOp::ILike => format!("{column} LIKE {}", single(sql)?),
        CompareOp::In | CompareOp::NotIn => {
            let Operand::List(items) = &c.value else {
                return Err(Error::invalid("IN needs a list of values"));
            };
            if items.is_empty() {
                return Ok(if c.op == CompareOp::In {
                    "0 = 1"
                } else {
                    "1 = 1"
                }
                .to_owned());
            }
            let list = items
                .iter()
                .map(|l| sql.literal(l))
                .collect::<Vec<_>>()
                .join(", ");
            let not = if c.op == CompareOp::NotIn { "NOT " } else { "" };
            format!("{column} {not}IN ({list})")
        }
        CompareOp::IsNull => format!("{column} IS NULL"),
        CompareOp::IsNotNull => format!("{column} IS NOT NULL"),
    })
}

/// Rewrites a LIKE pattern (`%`, `_`) as a GLOB pattern, quoting GLOB's own
/// special characters.
fn like_to_glob(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 4);
    for ch in pattern.chars() {
        match ch {
            '%' => out.push('*'),
            '_' => out.push('?'),
            '*' => out.push_str("[*]"),
            '?' => out.push_str("[?]"),
            '[' => out.push_str("[[]"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::like_to_glob;

    #[test]
    fn like_patterns_become_case_sensitive_globs() {
        assert_eq!(like_to_glob("vision%"), "vision*");
        assert_eq!(like_to_glob("a_b"), "a?b");
        assert_eq!(like_to_glob("what?*[x]"), "what[?][*][[]x]");
    }
}
