//! Translation of filter expressions into SQL conditions on `runs r`.
//!
//! Two forms: `Sets` turns each condition into `r.id IN (SELECT run_id …)`,
//! which SQLite answers from the (key, value) indexes and suits selective
//! filters; `Probe` turns it into a correlated `EXISTS`, which costs one
//! primary-key lookup per candidate run and suits a scan that walks runs in
//! the requested order and stops after one page.

use runlore_core::filter::{
    Attribute, CompareOp, Comparison, DatasetField, Expr, Field, Literal, Operand,
};
use runlore_core::{Error, Result};

use crate::sql_common::experiment_id_comparison;
use rusqlite::types::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Sets,
    Probe,
}

/// Query text plus its numbered arguments (`?1`, `?2` …), so pieces can be
/// written in any order.
#[derive(Default)]
pub struct Sql {
    pub args: Vec<Value>,
}

impl Sql {
    pub fn arg(&mut self, value: impl Into<Value>) -> String {
        self.args.push(value.into());
        format!("?{}", self.args.len())
    }

    /// A parameter set before each execution of a statement run several
    /// times: its index in `args` and its placeholder.
    pub fn slot(&mut self) -> (usize, String) {
        let placeholder = self.arg(Value::Null);
        (self.args.len() - 1, placeholder)
    }

    fn literal(&mut self, lit: &Literal) -> String {
        match lit {
            Literal::Number(n) => self.arg(*n),
            Literal::String(s) => self.arg(s.clone()),
        }
    }
}

pub use crate::sql_common::attribute_column;

pub fn expr_sql(sql: &mut Sql, expr: &Expr, mode: Mode) -> Result<String> {
    Ok(match expr {
        Expr::And(a, b) => format!(
            "({} AND {})",
            expr_sql(sql, a, mode)?,
            expr_sql(sql, b, mode)?
        ),
        Expr::Or(a, b) => format!(
            "({} OR {})",
            expr_sql(sql, a, mode)?,
            expr_sql(sql, b, mode)?
        ),
        Expr::Compare(c) => compare_sql(sql, c, mode)?,
    })
}

/// `rows` selects the run's rows of a key-value table (`f`); the condition
/// holds when such a row exists and matches (or, for IS NULL, when none does).
fn keyed(
    sql: &mut Sql,
    c: &Comparison,
    table: &str,
    key_match: &str,
    mode: Mode,
) -> Result<String> {
    keyed_column(sql, c, table, key_match, "f.value", mode)
}

fn keyed_column(
    sql: &mut Sql,
    c: &Comparison,
    table: &str,
    key_match: &str,
    column: &str,
    mode: Mode,
) -> Result<String> {
    let (exists, not_exists, tail) = match mode {
        Mode::Sets => ("r.id IN", "r.id NOT IN", String::new()),
        Mode::Probe => ("EXISTS", "NOT EXISTS", " AND f.run_id = r.id".to_owned()),
    };
    let select = match mode {
        Mode::Sets => "SELECT f.run_id",
        Mode::Probe => "SELECT 1",
    };
    let rows = format!("{select} FROM {table} f WHERE {key_match}{tail}");
    Ok(match c.op {
        CompareOp::IsNull => format!("{not_exists} ({rows})"),
        CompareOp::IsNotNull => format!("{exists} ({rows})"),
        _ => format!("{exists} ({rows} AND {})", predicate(sql, column, c)?),
    })
}

fn compare_sql(sql: &mut Sql, c: &Comparison, mode: Mode) -> Result<String> {
    match &c.field {
        Field::Metric(key) => {
            let k = sql.arg(key.clone());
            let key_match = format!("f.key_id = (SELECT id FROM metric_keys WHERE key = {k})");
            keyed(sql, c, "latest_metrics", &key_match, mode)
        }
        Field::Param(key) | Field::Tag(key) => {
            let table = if matches!(c.field, Field::Param(_)) {
                "params"
            } else {
                "tags"
            };
            let k = sql.arg(key.clone());
            keyed(sql, c, table, &format!("f.key = {k}"), mode)
        }
        Field::Attribute(Attribute::ExperimentId) => match experiment_id_comparison(c) {
            Some(c) => predicate(sql, "r.experiment_id", &c),
            None => Ok("0 = 1".to_owned()),
        },
        Field::Attribute(attr) => predicate(sql, attribute_column(*attr), c),
        Field::Feature(path) => {
            let p = sql.arg(super::feature_path::tree_path(path)?);
            // IS NULL means the run has no value there.
            let key_match = match feature_guard(&c.value, "f.value") {
                Some(guard) => format!("f.path = {p} AND {guard}"),
                None => format!("f.path = {p}"),
            };
            keyed_column(sql, c, "feature_values", &key_match, "f.value", mode)
        }
        Field::Dataset(part) => {
            let column = match part {
                DatasetField::Name => "f.name",
                DatasetField::Digest => "f.digest",
                DatasetField::Context => "json_extract(f.tags, '$.\"mlflow.data.context\"')",
            };
            // IS NULL: no input of the run has the value.
            let key_match = format!("{column} IS NOT NULL");
            keyed_column(sql, c, "run_inputs", &key_match, column, mode)
        }
    }
}

pub fn predicate(sql: &mut Sql, column: &str, c: &Comparison) -> Result<String> {
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

/// Keeps a feature comparison to values of the operand's type: every
/// number sorts before every text in SQLite, so `< ''` means "a number" and
/// `>= ''` "a string" (booleans are the strings 'true' and 'false'), and
/// both still seek the `(path, value)` index. `None` for IS [NOT] NULL.
pub fn feature_guard(operand: &Operand, column: &str) -> Option<String> {
    let numeric = match operand {
        Operand::None => return None,
        Operand::Number(_) => true,
        Operand::List(items) => matches!(items.first(), Some(Literal::Number(_))),
        Operand::String(_) => false,
    };
    Some(if numeric {
        format!("{column} < ''")
    } else {
        format!("{column} >= ''")
    })
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
