//! The run filter language: a small SQL-like grammar shared by the native
//! API, the MLflow API (a superset of MLflow's: adds OR and parentheses),
//! the CLI and the UI.
//!
//! ```text
//! metrics.acc > 0.5 AND (params.lr = '0.01' OR tags.`team.name` LIKE 'vision%')
//! ```
//!
//! The parser produces an [`Expr`]; stores translate it into their own query
//! language (SQL), so search never loads every run into memory.

mod ast;
mod lexer;
mod parser;

pub use ast::*;
pub use parser::{parse_filter, parse_order_by, parse_order_key};
