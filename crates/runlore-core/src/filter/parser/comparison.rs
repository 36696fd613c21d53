//! The operator and right-hand side of a comparison.

use super::{FieldAt, KEYWORDS, Parsed, Parser};
use crate::filter::ast::{CompareOp, Literal};
use crate::filter::check::{Item, Value};
use crate::filter::lexer::{SyntaxError, Token, TokenKind};

impl Parser<'_> {
    /// The operator and the byte span of its (one to three) words.
    pub(super) fn operator(&mut self, field: &FieldAt) -> Parsed<(CompareOp, usize, usize)> {
        let token = self.bump()?;
        let simple = match token.kind {
            TokenKind::Eq => Some(CompareOp::Eq),
            TokenKind::Ne => Some(CompareOp::Ne),
            TokenKind::Lt => Some(CompareOp::Lt),
            TokenKind::Le => Some(CompareOp::Le),
            TokenKind::Gt => Some(CompareOp::Gt),
            TokenKind::Ge => Some(CompareOp::Ge),
            _ if self.is_keyword(&token, "LIKE") => Some(CompareOp::Like),
            _ if self.is_keyword(&token, "ILIKE") => Some(CompareOp::ILike),
            _ if self.is_keyword(&token, "IN") => Some(CompareOp::In),
            _ => None,
        };
        if let Some(op) = simple {
            return Ok((op, token.start, token.end));
        }
        if self.is_keyword(&token, "NOT") {
            let next = self.bump()?;
            if self.is_keyword(&next, "IN") {
                return Ok((CompareOp::NotIn, token.start, next.end));
            }
            return self.unexpected(
                &next,
                "IN after NOT (NOT is only allowed in NOT IN and IS NOT NULL)",
            );
        }
        if self.is_keyword(&token, "IS") {
            let next = self.bump()?;
            if self.is_keyword(&next, "NULL") {
                return Ok((CompareOp::IsNull, token.start, next.end));
            }
            if self.is_keyword(&next, "NOT") {
                let last = self.bump()?;
                if self.is_keyword(&last, "NULL") {
                    return Ok((CompareOp::IsNotNull, token.start, last.end));
                }
                return self.unexpected(&last, "NULL after IS NOT");
            }
            return self.unexpected(&next, "NULL or NOT NULL after IS");
        }
        let field = &self.text[field.start..field.end];
        self.unexpected(
            &token,
            &format!(
                "an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL or IS NOT NULL) after {field}"
            ),
        )
    }

    pub(super) fn value(&mut self, op: CompareOp, op_text: &str) -> Parsed<Value> {
        let token = self.bump()?;
        let is_list_op = matches!(op, CompareOp::In | CompareOp::NotIn);
        match (token.kind == TokenKind::LParen, is_list_op) {
            (true, true) => self.list(op_text),
            (false, false) => Ok(Value::Scalar(self.literal(token, op_text)?)),
            (false, true) => self.unexpected(
                &token,
                &format!("a parenthesised list after '{op_text}', such as ('a', 'b'),"),
            ),
            (true, false) => Err(SyntaxError::new(
                token.start,
                format!("a list of values needs IN or NOT IN, not '{op_text}'"),
            )),
        }
    }

    /// The elements of `( … )` after its opening parenthesis.
    fn list(&mut self, op_text: &str) -> Parsed<Value> {
        let mut items: Vec<Item> = Vec::new();
        let mut after = "(";
        loop {
            let token = self.bump()?;
            if token.kind == TokenKind::RParen && items.is_empty() {
                return Err(SyntaxError::new(
                    token.start,
                    format!("the list after '{op_text}' is empty; give at least one value"),
                ));
            }
            let item = self.literal(token, after)?;
            if let Some(first) = items.first()
                && std::mem::discriminant(&first.literal) != std::mem::discriminant(&item.literal)
            {
                let (this, other) = match item.literal {
                    Literal::Number(_) => ("a number", "strings"),
                    Literal::String(_) => ("a string", "numbers"),
                };
                return Err(SyntaxError::new(
                    item.start,
                    format!(
                        "a list holds values of one type, but this is {this} in a list of {other}"
                    ),
                ));
            }
            items.push(item);
            let next = self.bump()?;
            match next.kind {
                TokenKind::Comma => after = ",",
                TokenKind::RParen => return Ok(Value::List(items)),
                _ => return self.unexpected(&next, "',' or ')' in the list"),
            }
        }
    }

    fn literal(&self, token: Token, after: &str) -> Parsed<Item> {
        let literal = match &token.kind {
            TokenKind::Number(v) => Literal::Number(*v),
            TokenKind::SingleQuoted(s) | TokenKind::DoubleQuoted(s) => Literal::String(s.clone()),
            TokenKind::Backticked(s) => {
                let message = format!(
                    "backticks quote keys, not values; write the string in single quotes: '{}'",
                    s.replace('\'', "''")
                );
                return Err(SyntaxError::new(token.start, message));
            }
            TokenKind::Word => return Err(self.bad_word(&token, after)),
            _ => return self.unexpected(&token, &format!("a value after '{after}'")),
        };
        Ok(Item {
            literal,
            start: token.start,
            end: token.end,
        })
    }

    /// A bare word where a value belongs: explain the likely intent.
    fn bad_word(&self, token: &Token, after: &str) -> SyntaxError {
        let word = self.source(token);
        let lower = word.to_ascii_lowercase();
        let message = if matches!(lower.as_str(), "nan" | "inf" | "infinity") {
            format!("'{word}' is not a number a filter can compare with; use a finite number")
        } else if lower == "null" {
            "compare with NULL using IS NULL or IS NOT NULL".to_owned()
        } else if KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word)) {
            format!("expected a value after '{after}' but found '{word}'")
        } else {
            format!("expected a value after '{after}' but found '{word}' (quote strings: '{word}')")
        };
        SyntaxError::new(token.start, message)
    }
}
