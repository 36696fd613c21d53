//! Filter expressions as PostgreSQL conditions on `runs r`, with SQLite's
//! answers: each comparison on a key-value table becomes `r.id IN (SELECT
//! run_id …)` (or `NOT IN` for IS NULL), answered from its (key, value)
//! index.

use runlore_core::filter::{
    Attribute, CompareOp, Comparison, DatasetField, Expr, Field, Literal, Operand,
};
use runlore_core::{Error, Result};

use crate::sql_common::experiment_id_comparison;
use tokio_postgres::types::ToSql;

use crate::codec::feature_leaves::tree_path;

/// One typed argument. Each placeholder is written with its cast, so the
/// type never depends on what PostgreSQL infers from the context.
enum Arg {
    Float(f64),
    Text(String),
    Ints(Vec<i64>),
}

/// Query arguments, numbered in the order they are added.
#[derive(Default)]
pub struct Sql {
    args: Vec<Arg>,
}

impl Sql {
    fn push(&mut self, arg: Arg, cast: &str) -> String {
        self.args.push(arg);
        format!("${}::{cast}", self.args.len())
    }

    pub fn text(&mut self, value: String) -> String {
        self.push(Arg::Text(value), "text")
    }

    pub fn float(&mut self, value: f64) -> String {
        self.push(Arg::Float(value), "float8")
    }

    pub fn ints(&mut self, values: Vec<i64>) -> String {
        self.push(Arg::Ints(values), "int8[]")
    }

    /// A number as NUMERIC, exactly as Rust writes the double (the shortest
    /// text that reads back as it), to compare with stored feature values.
    fn numeric(&mut self, value: f64) -> String {
        self.push(Arg::Text(value.to_string()), "text::numeric")
    }

    pub fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.args
            .iter()
            .map(|a| match a {
                Arg::Float(v) => v as &(dyn ToSql + Sync),
                Arg::Text(v) => v as &(dyn ToSql + Sync),
                Arg::Ints(v) => v as &(dyn ToSql + Sync),
            })
            .collect()
    }

    fn literal(&mut self, lit: &Literal) -> String {
        match lit {
            Literal::Number(n) => self.float(*n),
            Literal::String(s) => self.text(s.clone()),
        }
    }
}

pub use crate::sql_common::attribute_column;

pub fn expr_sql(sql: &mut Sql, expr: &Expr) -> Result<String> {
    Ok(match expr {
        Expr::And(a, b) => format!("({} AND {})", expr_sql(sql, a)?, expr_sql(sql, b)?),
        Expr::Or(a, b) => format!("({} OR {})", expr_sql(sql, a)?, expr_sql(sql, b)?),
        Expr::Compare(c) => compare_sql(sql, c)?,
    })
}

/// A condition on the rows of a key-value table `f` that belong to the run
/// and match `key_match`: holds when such a row matches `matches` (or, for
/// IS NULL, when no row exists).
fn keyed(c: &Comparison, table: &str, key_match: &str, matches: Option<String>) -> String {
    let rows = format!("SELECT f.run_id FROM {table} f WHERE {key_match}");
    match (c.op, matches) {
        (CompareOp::IsNull, _) => format!("r.id NOT IN ({rows})"),
        (CompareOp::IsNotNull, _) | (_, None) => format!("r.id IN ({rows})"),
        (_, Some(matches)) => format!("r.id IN ({rows} AND {matches})"),
    }
}

fn compare_sql(sql: &mut Sql, c: &Comparison) -> Result<String> {
    let with_value = |c: &Comparison| !matches!(c.op, CompareOp::IsNull | CompareOp::IsNotNull);
    match &c.field {
        Field::Metric(key) => {
            let k = sql.text(key.clone());
            let key_match = format!("f.key_id = (SELECT id FROM metric_keys WHERE key = {k})");
            let matches = with_value(c)
                .then(|| predicate(sql, "f.value", c))
                .transpose()?;
            Ok(keyed(c, "latest_metrics", &key_match, matches))
        }
        Field::Param(key) | Field::Tag(key) => {
            let table = if matches!(c.field, Field::Param(_)) {
                "params"
            } else {
                "tags"
            };
            let k = sql.text(key.clone());
            let matches = with_value(c)
                .then(|| predicate(sql, "f.value", c))
                .transpose()?;
            Ok(keyed(c, table, &format!("f.key = {k}"), matches))
        }
        Field::Attribute(Attribute::ExperimentId) => match experiment_id_comparison(c) {
            Some(c) => predicate(sql, "r.experiment_id", &c),
            None => Ok("FALSE".to_owned()),
        },
        Field::Attribute(attr) => predicate(sql, attribute_column(*attr), c),
        Field::Feature(path) => {
            let p = sql.text(tree_path(path)?);
            let matches = if with_value(c) {
                Some(feature_predicate(sql, c)?)
            } else {
                None
            };
            Ok(keyed(
                c,
                "feature_values",
                &format!("f.path = {p}"),
                matches,
            ))
        }
        Field::Dataset(part) => {
            let column = match part {
                DatasetField::Name => "f.name",
                DatasetField::Digest => "f.digest",
                DatasetField::Context => "(f.tags::jsonb ->> 'mlflow.data.context')",
            };
            // IS NULL: no input of the run has the value.
            let key_match = format!("{column} IS NOT NULL");
            let matches = with_value(c)
                .then(|| predicate(sql, column, c))
                .transpose()?;
            Ok(keyed(c, "run_inputs", &key_match, matches))
        }
    }
}

/// A feature comparison sees only values of its operand's type, as on
/// SQLite (where every number sorts before every string): numbers compare
/// as NUMERIC, strings (booleans are `'true'` and `'false'`) as text.
fn feature_predicate(sql: &mut Sql, c: &Comparison) -> Result<String> {
    let numeric = match &c.value {
        Operand::Number(_) => true,
        Operand::List(items) => matches!(items.first(), Some(Literal::Number(_))),
        Operand::String(_) | Operand::None => false,
    };
    let (kind, column) = if numeric { (0, "f.num") } else { (1, "f.txt") };
    // A list keeps the items of its first item's type: the others could
    // not match a value of that type.
    let value = match &c.value {
        Operand::List(items) => Operand::List(
            items
                .iter()
                .filter(|l| matches!(l, Literal::Number(_)) == numeric)
                .cloned()
                .collect(),
        ),
        other => other.clone(),
    };
    let typed = Comparison {
        field: c.field.clone(),
        op: c.op,
        value,
    };
    let condition = if numeric {
        numeric_predicate(sql, column, &typed)?
    } else {
        predicate(sql, column, &typed)?
    };
    Ok(format!("f.kind = {kind} AND {condition}"))
}

/// [`predicate`] with NUMERIC arguments.
fn numeric_predicate(sql: &mut Sql, column: &str, c: &Comparison) -> Result<String> {
    let op = match c.op {
        CompareOp::Eq => "=",
        CompareOp::Ne => "<>",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
        CompareOp::In | CompareOp::NotIn => {
            let Operand::List(items) = &c.value else {
                return Err(Error::invalid("IN needs a list of values"));
            };
            if items.is_empty() {
                return Ok(if c.op == CompareOp::In {
                    "FALSE"
                } else {
                    "TRUE"
                }
                .to_owned());
            }
            let list = items
                .iter()
                .filter_map(|l| match l {
                    Literal::Number(n) => Some(sql.numeric(*n)),
                    Literal::String(_) => None,
                })
                .collect::<Vec<_>>()
                .join(", ");
            let not = if c.op == CompareOp::NotIn { "NOT " } else { "" };
            return Ok(format!("{column} {not}IN ({list})"));
        }
        _ => {
            return Err(Error::invalid(
                "numbers compare with =, <>, <, <=, >, >= and IN",
            ));
        }
    };
    let Operand::Number(n) = c.value else {
        return Err(Error::invalid("this comparison needs a single value"));
    };
    Ok(format!("{column} {op} {}", sql.numeric(n)))
}

pub fn predicate(sql: &mut Sql, column: &str, c: &Comparison) -> Result<String> {
    let single = |sql: &mut Sql| -> Result<String> {
        match &c.value {
            Operand::Number(n) => Ok(sql.float(*n)),
            Operand::String(s) => Ok(sql.text(s.clone())),
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
        // No escape character, as SQLite's LIKE and GLOB have none; both
        // compare bytes (COLLATE "C"), and ILIKE folds ASCII letters only.
        CompareOp::Like => format!("{column} LIKE {} ESCAPE ''", single(sql)?),
        CompareOp::ILike => format!("{column} ILIKE {} ESCAPE ''", single(sql)?),
        CompareOp::In | CompareOp::NotIn => {
            let Operand::List(items) = &c.value else {
                return Err(Error::invalid("IN needs a list of values"));
            };
            if items.is_empty() {
                return Ok(if c.op == CompareOp::In {
                    "FALSE"
                } else {
                    "TRUE"
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
