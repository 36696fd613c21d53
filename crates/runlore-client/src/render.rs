//! Renders a parsed filter or order key back into the filter language, so a
//! query built (or parsed) on this side travels as text to the server, which
//! parses it again into the same tree.
//!
//! Keys are always backtick-quoted, strings single-quoted with `'` doubled
//! and `\\` escaped (the lexer reads `\\` as one backslash). The parser
//! groups a chain `a AND b AND c …` into a balanced tree; a chain that has
//! exactly that shape is written flat, anything else gets parentheses, so
//! `parse_filter(&render_filter(e)) == Ok(Some(e))` for every tree the parser
//! makes.

use std::fmt::Write as _;

use runlore_core::filter::{CompareOp, Comparison, Expr, Field, Literal, Operand, OrderKey};

/// The filter text of an expression: `parse_filter(&render_filter(e)) == Ok(Some(e))`.
pub fn render_filter(expr: &Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, expr);
    out
}

/// One order key as text: `` metrics.`loss` ASC ``.
pub fn render_order_key(key: &OrderKey) -> String {
    let mut out = String::new();
    write_field(&mut out, &key.field);
    out.push_str(if key.descending { " DESC" } else { " ASC" });
    out
}

/// A field as text: `` metrics.`acc` `` or `attributes.start_time`.
pub fn render_field(field: &Field) -> String {
    let mut out = String::new();
    write_field(&mut out, field);
    out
}

fn write_expr(out: &mut String, expr: &Expr) {
    let keyword = match expr {
        Expr::And(..) => "AND",
        Expr::Or(..) => "OR",
        Expr::Compare(comparison) => return write_comparison(out, comparison),
    };
    let mut terms = Vec::new();
    chain_terms(expr, &mut terms);
    // Written flat when the parser rebuilds exactly this tree from the flat
    // chain (or when the tree is too deep to nest in parentheses, where the
    // meaning, not the shape, is kept: AND and OR are associative).
    let flat = terms.len() > 2
        && (depth(expr) > FLAT_DEPTH
            || balance(&terms, keyword == "AND").is_some_and(|tree| tree == *expr));
    if !flat {
        terms.clear();
        if let Expr::And(a, b) | Expr::Or(a, b) = expr {
            terms.extend([a.as_ref(), b.as_ref()]);
        }
    }
    for (i, term) in terms.into_iter().enumerate() {
        if i > 0 {
            out.push(' ');
            out.push_str(keyword);
            out.push(' ');
        }
        if let Expr::Compare(comparison) = term {
            write_comparison(out, comparison);
        } else {
            out.push('(');
            write_expr(out, term);
            out.push(')');
        }
    }
}

/// Nesting past this is written flat (the parser allows 64 levels).
const FLAT_DEPTH: usize = 32;

/// The operands of a maximal chain of one operator, left to right.
fn chain_terms<'a>(expr: &'a Expr, out: &mut Vec<&'a Expr>) {
    match expr {
        Expr::And(a, b) => {
            for side in [a.as_ref(), b.as_ref()] {
                if matches!(side, Expr::And(..)) {
                    chain_terms(side, out);
                } else {
                    out.push(side);
                }
            }
        }
        Expr::Or(a, b) => {
            for side in [a.as_ref(), b.as_ref()] {
                if matches!(side, Expr::Or(..)) {
                    chain_terms(side, out);
                } else {
                    out.push(side);
                }
            }
        }
        Expr::Compare(_) => out.push(expr),
    }
}

fn depth(expr: &Expr) -> usize {
    match expr {
        Expr::And(a, b) | Expr::Or(a, b) => 1 + depth(a).max(depth(b)),
        Expr::Compare(_) => 0,
    }
}

/// The tree the parser builds from a flat chain of `terms` (see
/// `balance` in `runlore_core::filter`'s parser): join the head with the
/// next term, pair the remaining neighbours, and repeat.
fn balance(terms: &[&Expr], and: bool) -> Option<Expr> {
    let join = |a: Expr, b: Expr| {
        if and {
            Expr::And(Box::new(a), Box::new(b))
        } else {
            Expr::Or(Box::new(a), Box::new(b))
        }
    };
    let mut all = terms.iter().map(|t| (*t).clone());
    let mut head = all.next()?;
    let mut rest: Vec<Expr> = all.collect();
    while !rest.is_empty() {
        let mut items = rest.into_iter();
        if let Some(b) = items.next() {
            head = join(head, b);
        }
        let mut next = Vec::with_capacity(items.len().div_ceil(2));
        while let Some(a) = items.next() {
            next.push(match items.next() {
                Some(b) => join(a, b),
                None => a,
            });
        }
        rest = next;
    }
    Some(head)
}

fn write_comparison(out: &mut String, comparison: &Comparison) {
    write_field(out, &comparison.field);
    out.push(' ');
    out.push_str(op_text(comparison.op));
    match &comparison.value {
        Operand::None => {}
        Operand::Number(v) => {
            out.push(' ');
            write_number(out, *v);
        }
        Operand::String(s) => {
            out.push(' ');
            write_string(out, s);
        }
        Operand::List(items) => {
            out.push_str(" (");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                match item {
                    Literal::Number(v) => write_number(out, *v),
                    Literal::String(s) => write_string(out, s),
                }
            }
            out.push(')');
        }
    }
}

fn op_text(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "=",
        CompareOp::Ne => "!=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
        CompareOp::Like => "LIKE",
        CompareOp::ILike => "ILIKE",
        CompareOp::In => "IN",
        CompareOp::NotIn => "NOT IN",
        CompareOp::IsNull => "IS NULL",
        CompareOp::IsNotNull => "IS NOT NULL",
    }
}

fn write_field(out: &mut String, field: &Field) {
    let (entity, key) = match field {
        Field::Metric(key) => ("metrics", key),
        Field::Param(key) => ("params", key),
        Field::Tag(key) => ("tags", key),
        Field::Feature(key) => ("features", key),
        Field::Attribute(attribute) => {
            out.push_str("attributes.");
            out.push_str(attribute.name());
            return;
        }
        Field::Dataset(part) => {
            out.push_str("datasets.");
            out.push_str(part.name());
            return;
        }
    };
    out.push_str(entity);
    out.push_str(".`");
    // Valid keys hold no backtick; a doubled one stands for itself anyway.
    out.push_str(&key.replace('`', "``"));
    out.push('`');
}

/// Rust's `Display` and `LowerExp` for `f64` write the shortest text that
/// reads back to the same value; the exponent form keeps huge and tiny
/// magnitudes short (`1e-300`, not 300 zeros).
fn write_number(out: &mut String, v: f64) {
    let magnitude = v.abs();
    if magnitude != 0.0 && !(1e-6..1e15).contains(&magnitude) {
        let _ = write!(out, "{v:e}");
    } else {
        let _ = write!(out, "{v}");
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('\'');
    for c in s.chars() {
        if c == '\'' || c == '\\' {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
}

#[cfg(test)]
mod tests;
