//! Type rules of comparisons. They are enforced at parse time so that a
//! filter that could never match (a metric against a string, a param against
//! an unquoted number that the store would compare as text) is refused with
//! a position instead of silently returning no runs.

use super::ast::{Attribute, CompareOp, Field, Literal, Operand};
use super::lexer::SyntaxError;
use crate::model::RunStatus;

/// A literal with its byte span, so a type error can point at it.
#[derive(Debug, Clone)]
pub(super) struct Item {
    pub literal: Literal,
    pub start: usize,
    pub end: usize,
}

/// The right-hand side as parsed, before the type rules.
#[derive(Debug, Clone)]
pub(super) enum Value {
    None,
    Scalar(Item),
    List(Vec<Item>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    String,
    Status,
    /// A feature: a number or a string, whichever the value is.
    Any,
}

fn kind(field: &Field) -> Kind {
    match field {
        Field::Metric(_) => Kind::Number,
        Field::Param(_) | Field::Tag(_) | Field::Dataset(_) => Kind::String,
        Field::Attribute(Attribute::Status) => Kind::Status,
        Field::Attribute(a) if a.is_numeric() => Kind::Number,
        Field::Attribute(_) => Kind::String,
        Field::Feature(_) => Kind::Any,
    }
}

/// The source text of a comparison's parts, for messages and suggestions.
pub(super) struct Texts<'a> {
    pub source: &'a str,
    pub field: &'a str,
    pub op: &'a str,
}

/// Whether `op` applies to the field at all; checked before the value is
/// read so the error points at the operator.
pub(super) fn operator(field: &Field, texts: &Texts<'_>, op: CompareOp) -> Result<(), String> {
    let is_like = matches!(op, CompareOp::Like | CompareOp::ILike);
    let is_order = matches!(
        op,
        CompareOp::Lt | CompareOp::Le | CompareOp::Gt | CompareOp::Ge
    );
    match kind(field) {
        Kind::Number if is_like => Err(format!(
            "{} matches strings, but {} is a number; use =, !=, <, <=, >, >=, IN or NOT IN",
            texts.op.to_uppercase(),
            texts.field
        )),
        Kind::Status if is_order => Err(format!(
            "run statuses have no order, so '{}' does not apply to {}; use =, !=, IN, NOT IN, LIKE or ILIKE",
            texts.op, texts.field
        )),
        _ => Ok(()),
    }
}

/// Applies the type rules to the value and normalises it (status names).
pub(super) fn operand(
    field: &Field,
    texts: &Texts<'_>,
    op: CompareOp,
    value: Value,
) -> Result<Operand, SyntaxError> {
    let items = match &value {
        Value::None => return Ok(Operand::None),
        Value::Scalar(item) => std::slice::from_ref(item),
        Value::List(items) => items.as_slice(),
    };
    let kind = kind(field);
    for item in items {
        match (&item.literal, kind) {
            (Literal::Number(_), Kind::Number) | (Literal::String(_), Kind::String) => {}
            (Literal::String(s), Kind::Number) => {
                return Err(SyntaxError::new(
                    item.start,
                    number_expected(field, texts, s),
                ));
            }
            (Literal::Number(_), Kind::String | Kind::Status) => {
                let message = string_expected(field, texts, &value);
                return Err(SyntaxError::new(item.start, message));
            }
            (Literal::String(_), Kind::Status) => {}
            (_, Kind::Any) => {}
        }
    }
    let normalise = kind == Kind::Status && !matches!(op, CompareOp::Like | CompareOp::ILike);
    let literal = |item: Item| -> Result<Literal, SyntaxError> {
        match item.literal {
            Literal::String(s) if normalise => status(&s)
                .map(|st| Literal::String(st.as_str().to_owned()))
                .ok_or_else(|| SyntaxError::new(item.start, unknown_status(&s))),
            other => Ok(other),
        }
    };
    Ok(match value {
        Value::None => Operand::None,
        Value::Scalar(item) => match literal(item)? {
            Literal::Number(v) => Operand::Number(v),
            Literal::String(s) => Operand::String(s),
        },
        Value::List(items) => {
            Operand::List(items.into_iter().map(literal).collect::<Result<_, _>>()?)
        }
    })
}

/// MLflow calls `PLANNED` `SCHEDULED`; both spellings select the same runs.
fn status(text: &str) -> Option<RunStatus> {
    if text.eq_ignore_ascii_case("SCHEDULED") {
        return Some(RunStatus::Planned);
    }
    RunStatus::ALL
        .into_iter()
        .find(|st| st.as_str().eq_ignore_ascii_case(text))
}

fn unknown_status(text: &str) -> String {
    let valid = RunStatus::ALL.map(RunStatus::as_str).join(", ");
    format!("unknown run status '{text}'; valid statuses: {valid} (SCHEDULED means PLANNED)")
}

fn number_expected(field: &Field, texts: &Texts<'_>, s: &str) -> String {
    let what = match field {
        Field::Metric(_) => "metrics are numbers".to_owned(),
        _ => format!("{} is a number (milliseconds since the epoch)", texts.field),
    };
    format!(
        "{what}: compare {} with a number, not the string {}",
        texts.field,
        quote(s)
    )
}

fn string_expected(field: &Field, texts: &Texts<'_>, value: &Value) -> String {
    let what = match field {
        Field::Param(_) => "params are compared as strings".to_owned(),
        Field::Tag(_) => "tags are compared as strings".to_owned(),
        _ => format!("{} is compared as a string", texts.field),
    };
    let as_string = |item: &Item| match &item.literal {
        Literal::Number(_) => quote(&texts.source[item.start..item.end]),
        Literal::String(s) => quote(s),
    };
    let suggested = match value {
        Value::None => String::new(),
        Value::Scalar(item) => as_string(item),
        Value::List(items) => {
            let parts: Vec<String> = items.iter().map(as_string).collect();
            format!("({})", parts.join(", "))
        }
    };
    format!("{what}: write {} {} {suggested}", texts.field, texts.op)
}

/// A string literal as the user would type it.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
