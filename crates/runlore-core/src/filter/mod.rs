//! The run filter language: a small SQL-like grammar shared by the native
//! API, the MLflow API (a superset of MLflow's: adds OR and parentheses),
//! the CLI and the UI.
//!
//! ```text
//! metrics.acc > 0.5 AND (params.lr = '0.01' OR tags.`team.name` LIKE 'vision%')
//! ```
//!
//! The parser produces an [`Expr`]; stores translate it into their own query
//! language (SQL), so search never loads every run into memory. Every value
//! is type-checked here (metrics and time attributes against numbers, params,
//! tags and the other attributes against strings, statuses against the known
//! ones; features against either, as the value says), so a store can
//! translate the tree without re-validating it.
//!
//! ```text
//! filter     := or
//! or         := and (OR and)*                  -- AND binds tighter than OR
//! and        := primary (AND primary)*
//! primary    := '(' or ')' | comparison        -- at most 64 levels deep
//! comparison := field op value | field IS [NOT] NULL
//! op         := = | == | != | <> | < | <= | > | >= | LIKE | ILIKE | IN | NOT IN
//! field      := prefix '.' key | attribute     -- e.g. metrics.loss, start_time
//! prefix     := metrics | metric | params | param | tags | tag
//!             | attributes | attribute | attr | run | datasets | dataset
//!             | features | feature | config      -- features.model.lr
//! key        := word | `quoted` | "quoted"     -- a word runs to the next space
//!                                              -- or operator: letters, digits, _ - . / :
//! value      := number | 'string' | "string" | '(' value (',' value)* ')'
//! order key  := field [ASC | DESC]
//! ```
//!
//! Keywords, prefixes and attribute names are case-insensitive; keys and
//! strings are not. In strings a doubled quote or a backslash escapes the
//! quote (`'it''s'`, `'it\'s'`) and `\\` is one backslash; any other
//! backslash is kept as written. Errors name the 1-based character where the
//! problem is: `invalid filter at character 15: expected a value after '>'
//! but found 'AND'`.

mod ast;
mod check;
mod feature;
mod fields;
mod lexer;
mod parser;

pub use ast::*;
pub use feature::{FeatureStep, feature_path};
pub use parser::{MAX_DEPTH, MAX_FILTER_CHARS, parse_filter, parse_order_by, parse_order_key};

#[cfg(test)]
mod tests;
