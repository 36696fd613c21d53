//! What both SQL backends share about query text: page sizes, LIKE
//! patterns (SQLite and PostgreSQL escape LIKE the same way), and the
//! columns and operands of run attributes in the filter language.

use runlore_core::filter::{Attribute, Comparison, Literal, Operand};
use runlore_core::store::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use runlore_core::{Error, Result};

/// The page size a query asked for: the default for 0, refused above the
/// maximum.
pub fn page_size(limit: usize) -> Result<usize> {
    match limit {
        0 => Ok(DEFAULT_PAGE_SIZE),
        n if n > MAX_PAGE_SIZE => Err(Error::invalid(format!(
            "page size {n} is larger than the maximum {MAX_PAGE_SIZE}"
        ))),
        n => Ok(n),
    }
}

/// `text` with LIKE's wildcards escaped by `\` (used with `ESCAPE '\'`).
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The SQL over `runs r` that an attribute of the filter language names;
/// the same text on both backends (`"user"` is quoted: PostgreSQL reserves
/// the word, and SQLite reads a quoted name the same way).
pub fn attribute_column(attr: Attribute) -> &'static str {
    match attr {
        Attribute::RunId => "r.uuid",
        Attribute::RunName => "r.name",
        Attribute::Status => "r.status",
        Attribute::StartTime => "r.start_time",
        Attribute::EndTime => "r.end_time",
        Attribute::Created => "r.created_at",
        Attribute::Updated => "r.updated_at",
        Attribute::ExperimentId => "r.experiment_id",
        Attribute::User => "r.\"user\"",
        // Derived, as the MLflow API reports it: experiments without a
        // location of their own use the artifact proxy's.
        Attribute::ArtifactUri => {
            "(COALESCE((SELECT e.artifact_location FROM experiments e WHERE e.id = r.experiment_id), \
             'mlflow-artifacts:/' || r.experiment_id) || '/' || r.uuid || '/artifacts')"
        }
    }
}

/// An `attributes.experiment_id` comparison with its operand as integers:
/// ids are strings on the wire and integers inside. `None` when a single
/// string is not a number (the comparison matches nothing); list items
/// that are not numbers are dropped.
pub fn experiment_id_comparison(c: &Comparison) -> Option<Comparison> {
    let as_id = |l: &Literal| match l {
        Literal::String(s) => s
            .trim()
            .parse::<i64>()
            .ok()
            .map(|v| Literal::Number(v as f64)),
        Literal::Number(n) => Some(Literal::Number(*n)),
    };
    let value = match &c.value {
        Operand::String(s) => match as_id(&Literal::String(s.clone())) {
            Some(Literal::Number(n)) => Operand::Number(n),
            _ => return None,
        },
        Operand::List(items) => Operand::List(items.iter().filter_map(as_id).collect()),
        other => other.clone(),
    };
    Some(Comparison {
        field: c.field.clone(),
        op: c.op,
        value,
    })
}
