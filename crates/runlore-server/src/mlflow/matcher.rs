//! Evaluates a parsed filter against one in-memory record. Used where the
//! set is small enough to scan (experiments), so the same grammar, with
//! `OR` and parentheses, filters experiments as it filters runs.

use runlore_core::filter::{CompareOp, Comparison, Expr, Field, Literal, Operand};

/// A field's value on one record.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Number(f64),
    Text(String),
}

pub fn matches(expr: &Expr, lookup: &dyn Fn(&Field) -> Option<FieldValue>) -> bool {
    match expr {
        Expr::And(a, b) => matches(a, lookup) && matches(b, lookup),
        Expr::Or(a, b) => matches(a, lookup) || matches(b, lookup),
        Expr::Compare(cmp) => compare(cmp, lookup(&cmp.field)),
    }
}

fn compare(cmp: &Comparison, actual: Option<FieldValue>) -> bool {
    match (cmp.op, &cmp.value) {
        (CompareOp::IsNull, _) => return actual.is_none(),
        (CompareOp::IsNotNull, _) => return actual.is_some(),
        _ => {}
    }
    // A record lacking the field matches no comparison (`!=` included), as
    // in run search.
    let Some(actual) = actual else {
        return false;
    };
    match (&cmp.value, actual) {
        (Operand::Number(want), FieldValue::Number(have)) => ordered(cmp.op, &have, want),
        (Operand::String(want), FieldValue::Text(have)) => match cmp.op {
            CompareOp::Like => like(want, &have, false),
            CompareOp::ILike => like(want, &have, true),
            op => ordered(op, have.as_str(), want.as_str()),
        },
        (Operand::List(items), have) => {
            let found = items.iter().any(|item| match (item, &have) {
                (Literal::Number(n), FieldValue::Number(h)) => n == h,
                (Literal::String(s), FieldValue::Text(h)) => s == h,
                _ => false,
            });
            match cmp.op {
                CompareOp::In => found,
                CompareOp::NotIn => !found,
                _ => false,
            }
        }
        _ => false,
    }
}

fn ordered<T: PartialOrd + ?Sized>(op: CompareOp, have: &T, want: &T) -> bool {
    match op {
        CompareOp::Eq => have == want,
        CompareOp::Ne => have != want,
        CompareOp::Lt => have < want,
        CompareOp::Le => have <= want,
        CompareOp::Gt => have > want,
        CompareOp::Ge => have >= want,
        _ => false,
    }
}

/// SQL LIKE: `%` any run of characters, `_` one character, `\` escapes.
pub fn like(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let fold = |s: &str| -> Vec<char> {
        if ignore_case {
            s.to_lowercase().chars().collect()
        } else {
            s.chars().collect()
        }
    };
    let (p, t) = (fold(pattern), fold(text));
    // Iterative matcher with one backtrack point for the last `%`: linear
    // in practice, and never recursive on hostile patterns.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('%') => {
                star = Some((pi, ti));
                pi += 1;
                continue;
            }
            Some('\\') if p.get(pi + 1) == Some(&t[ti]) => {
                pi += 2;
                ti += 1;
                continue;
            }
            Some('_') => {
                pi += 1;
                ti += 1;
                continue;
            }
            Some(c) if *c != '\\' && *c == t[ti] => {
                pi += 1;
                ti += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|c| *c == '%')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_follows_sql() {
        assert!(like("exp-%", "exp-1", false));
        assert!(like("%-1", "exp-1", false));
        assert!(like("e_p%", "exp-1", false));
        assert!(!like("EXP%", "exp-1", false));
        assert!(like("EXP%", "exp-1", true));
        assert!(like("a\\%b", "a%b", false));
        assert!(!like("a\\%b", "axb", false));
        assert!(like("%", "", false));
        assert!(!like("_", "", false));
        assert!(like("%a%b%c%", "xxaxxbxxcxx", false));
    }
}
