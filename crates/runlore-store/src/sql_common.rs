//! What both SQL backends share about query text: page sizes and LIKE
//! patterns (SQLite and PostgreSQL escape LIKE the same way).

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
