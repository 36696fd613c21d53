//! Recursive-descent parser of the filter language and of order keys.

use super::ast::{CompareOp, Comparison, Expr, Field, OrderKey};
use super::check::{self, Texts, Value};
use super::fields;
use super::lexer::{Lexer, SyntaxError, Token, TokenKind};
use crate::error::{Error, Result};

mod comparison;

/// Longest accepted filter or order key, in characters; filters arrive from
/// the network, and a bound keeps parsing and the SQL built from it small.
pub const MAX_FILTER_CHARS: usize = 10_000;

/// Deepest accepted nesting of parentheses; the parser recurses once per
/// level, so this bound is what keeps hostile input from overflowing the
/// stack.
pub const MAX_DEPTH: usize = 64;

const KEYWORDS: [&str; 10] = [
    "AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE", "ASC", "DESC",
];

/// Parses a filter; `None` when the text is empty or only whitespace.
pub fn parse_filter(text: &str) -> Result<Option<Expr>> {
    check_length(text, "filter")?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    Parser::new(text, "filter")
        .filter()
        .map(Some)
        .map_err(|e| located(text, "filter", e))
}

/// Parses one order key: `field [ASC|DESC]`, ascending by default.
pub fn parse_order_key(text: &str) -> Result<OrderKey> {
    check_length(text, "order_by key")?;
    if text.trim().is_empty() {
        return Err(Error::invalid(
            "empty order_by key: expected a field such as metrics.loss, optionally followed by ASC or DESC",
        ));
    }
    let label = if text.chars().count() <= 80 {
        format!("order_by key '{text}'")
    } else {
        "order_by key".to_owned()
    };
    Parser::new(text, "order_by key")
        .order_key()
        .map_err(|e| located(text, &label, e))
}

/// Parses every key of an `order_by` list, in order of precedence.
pub fn parse_order_by<S: AsRef<str>>(keys: &[S]) -> Result<Vec<OrderKey>> {
    keys.iter().map(|k| parse_order_key(k.as_ref())).collect()
}

fn check_length(text: &str, what: &str) -> Result<()> {
    if text.len() > MAX_FILTER_CHARS {
        let chars = text.chars().count();
        if chars > MAX_FILTER_CHARS {
            return Err(Error::invalid(format!(
                "{what} is too long: {chars} characters, at most {MAX_FILTER_CHARS}"
            )));
        }
    }
    Ok(())
}

/// 1-based character position of a byte offset, as users count.
fn position(text: &str, at: usize) -> usize {
    text.get(..at).unwrap_or(text).chars().count() + 1
}

fn located(text: &str, what: &str, e: SyntaxError) -> Error {
    let at = position(text, e.at);
    Error::invalid(format!("invalid {what} at character {at}: {}", e.message))
}

/// AND and OR are associative, so a chain may be grouped freely; pairing
/// neighbours keeps the tree's depth logarithmic in the chain's length, so
/// stores that recurse over it (or hand it to SQLite, whose expression depth
/// is limited to 1000) never meet a thousand-deep left spine.
fn balance(first: Expr, mut rest: Vec<Expr>, join: fn(Box<Expr>, Box<Expr>) -> Expr) -> Expr {
    let mut head = first;
    while !rest.is_empty() {
        let mut terms = rest.into_iter();
        if let Some(b) = terms.next() {
            head = join(Box::new(head), Box::new(b));
        }
        let mut next = Vec::with_capacity(terms.len().div_ceil(2));
        while let Some(a) = terms.next() {
            next.push(match terms.next() {
                Some(b) => join(Box::new(a), Box::new(b)),
                None => a,
            });
        }
        rest = next;
    }
    head
}

struct Parser<'a> {
    text: &'a str,
    lexer: Lexer<'a>,
    peeked: Option<Token>,
    /// "filter" or "order_by key", for messages.
    what: &'static str,
    depth: usize,
}

type Parsed<T> = std::result::Result<T, SyntaxError>;

/// A field with the span of its source text.
struct FieldAt {
    field: Field,
    start: usize,
    end: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, what: &'static str) -> Parser<'a> {
        Parser {
            text,
            lexer: Lexer::new(text),
            peeked: None,
            what,
            depth: 0,
        }
    }

    fn peek(&mut self) -> Parsed<&Token> {
        if self.peeked.is_none() {
            self.peeked = Some(self.lexer.next_token()?);
        }
        match &self.peeked {
            Some(token) => Ok(token),
            None => Err(SyntaxError::new(self.text.len(), "internal parser error")),
        }
    }

    fn bump(&mut self) -> Parsed<Token> {
        match self.peeked.take() {
            Some(token) => Ok(token),
            None => self.lexer.next_token(),
        }
    }

    fn source(&self, token: &Token) -> &'a str {
        &self.text[token.start..token.end]
    }

    fn is_keyword(&self, token: &Token, keyword: &str) -> bool {
        token.kind == TokenKind::Word && self.source(token).eq_ignore_ascii_case(keyword)
    }

    fn peek_keyword(&mut self, keyword: &str) -> Parsed<bool> {
        let token = self.peek()?.clone();
        Ok(self.is_keyword(&token, keyword))
    }

    /// How a token is named in "but found …".
    fn describe(&self, token: &Token) -> String {
        let mut text: String = self.source(token).chars().take(40).collect();
        if text.len() < token.end - token.start {
            text.push('…');
        }
        match token.kind {
            TokenKind::Eof => format!("the end of the {}", self.what),
            TokenKind::SingleQuoted(_) | TokenKind::DoubleQuoted(_) => format!("the string {text}"),
            TokenKind::Number(_) => format!("the number {text}"),
            TokenKind::Backticked(_) => format!("the quoted key {text}"),
            _ => format!("'{text}'"),
        }
    }

    fn unexpected<T>(&self, token: &Token, expected: &str) -> Parsed<T> {
        let found = self.describe(token);
        Err(SyntaxError::new(
            token.start,
            format!("expected {expected} but found {found}"),
        ))
    }

    fn filter(&mut self) -> Parsed<Expr> {
        let expr = self.or()?;
        let token = self.bump()?;
        match token.kind {
            TokenKind::Eof => Ok(expr),
            TokenKind::RParen => Err(SyntaxError::new(
                token.start,
                "unmatched ')': no '(' is open here",
            )),
            _ => self.unexpected(&token, "AND, OR or the end of the filter"),
        }
    }

    fn or(&mut self) -> Parsed<Expr> {
        let first = self.and()?;
        let mut rest = Vec::new();
        while self.peek_keyword("OR")? {
            self.bump()?;
            rest.push(self.and()?);
        }
        Ok(balance(first, rest, Expr::Or))
    }

    fn and(&mut self) -> Parsed<Expr> {
        let first = self.primary()?;
        let mut rest = Vec::new();
        while self.peek_keyword("AND")? {
            self.bump()?;
            rest.push(self.primary()?);
        }
        Ok(balance(first, rest, Expr::And))
    }

    fn primary(&mut self) -> Parsed<Expr> {
        if self.peek()?.kind != TokenKind::LParen {
            return self.comparison().map(Expr::Compare);
        }
        let open = self.bump()?;
        if self.depth >= MAX_DEPTH {
            return Err(SyntaxError::new(
                open.start,
                format!("parentheses are nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        self.depth += 1;
        let expr = self.or()?;
        self.depth -= 1;
        let close = self.bump()?;
        if close.kind != TokenKind::RParen {
            let at = position(self.text, open.start);
            return self.unexpected(
                &close,
                &format!("AND, OR or ')' to close the '(' at character {at}"),
            );
        }
        Ok(expr)
    }

    fn comparison(&mut self) -> Parsed<Comparison> {
        let field = self.field()?;
        let (op, op_start, op_end) = self.operator(&field)?;
        let texts = Texts {
            source: self.text,
            field: &self.text[field.start..field.end],
            op: &self.text[op_start..op_end],
        };
        check::operator(&field.field, &texts, op).map_err(|m| SyntaxError::new(op_start, m))?;
        let value = match op {
            CompareOp::IsNull | CompareOp::IsNotNull => Value::None,
            _ => self.value(op, texts.op)?,
        };
        let value = check::operand(&field.field, &texts, op, value)?;
        Ok(Comparison {
            field: field.field,
            op,
            value,
        })
    }

    /// `prefix.key`, `` prefix.`quoted key` ``, `prefix."quoted key"`,
    /// `` `prefix`.`key` `` (MLflow accepts a quoted prefix too) or a bare
    /// attribute name.
    fn field(&mut self) -> Parsed<FieldAt> {
        let token = self.bump()?;
        let expected = "a field (such as metrics.acc, params.`my key` or status)";
        if let TokenKind::Backticked(prefix_text) = &token.kind {
            let next = self.peek()?.clone();
            let rest = self.source(&next);
            if next.kind == TokenKind::Word && next.start == token.end && rest.starts_with('.') {
                self.bump()?;
                return self.prefixed(
                    prefix_text,
                    token.start,
                    &rest[1..],
                    next.start + 1,
                    next.end,
                );
            }
            return self.unexpected(&token, expected);
        }
        let word = self.source(&token);
        if token.kind != TokenKind::Word || KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word)) {
            return self.unexpected(&token, expected);
        }
        let Some((prefix_text, key)) = word.split_once('.') else {
            return match fields::attribute(word) {
                Some(a) => Ok(FieldAt {
                    field: Field::Attribute(a),
                    start: token.start,
                    end: token.end,
                }),
                None => Err(SyntaxError::new(
                    token.start,
                    format!(
                        "unknown field '{word}': write metrics.<key>, params.<key>, tags.<key> or an attribute ({})",
                        fields::attribute_list()
                    ),
                )),
            };
        };
        let key_start = token.start + prefix_text.len() + 1;
        self.prefixed(prefix_text, token.start, key, key_start, token.end)
    }

    /// The rest of a field once its prefix is known: `key` is the text after
    /// the dot (empty when a quoted key follows).
    fn prefixed(
        &mut self,
        prefix_text: &str,
        start: usize,
        key: &str,
        key_start: usize,
        end: usize,
    ) -> Parsed<FieldAt> {
        let Some(prefix) = fields::prefix(prefix_text) else {
            return Err(SyntaxError::new(
                start,
                format!(
                    "unknown field prefix '{prefix_text}': use metrics., params., tags., attributes. or datasets."
                ),
            ));
        };
        let (key, key_start, end) = if key.is_empty() {
            let next = self.peek()?.clone();
            match next.kind {
                TokenKind::Backticked(key) | TokenKind::DoubleQuoted(key) if next.start == end => {
                    self.bump()?;
                    (key, next.start, next.end)
                }
                _ => {
                    return Err(SyntaxError::new(
                        end,
                        format!(
                            "expected a key after '{prefix_text}.' (quote keys that hold spaces: {prefix_text}.`my key`)"
                        ),
                    ));
                }
            }
        } else {
            (key.to_owned(), key_start, end)
        };
        if key.is_empty() {
            return Err(SyntaxError::new(key_start, "empty key"));
        }
        let field = fields::build(prefix, key).map_err(|m| SyntaxError::new(key_start, m))?;
        Ok(FieldAt { field, start, end })
    }

    fn order_key(&mut self) -> Parsed<OrderKey> {
        let at = self.field()?;
        if let Field::Dataset(_) = at.field {
            return Err(SyntaxError::new(
                at.start,
                "datasets cannot be ordered on: a run may have several",
            ));
        }
        let field = at.field;
        let token = self.bump()?;
        let descending = if self.is_keyword(&token, "DESC") {
            true
        } else if self.is_keyword(&token, "ASC") || token.kind == TokenKind::Eof {
            false
        } else if token.kind == TokenKind::Comma {
            return Err(SyntaxError::new(
                token.start,
                "one order_by key holds one field; pass each key as its own order_by entry",
            ));
        } else {
            return self.unexpected(&token, "ASC, DESC or the end of the order_by key");
        };
        if token.kind != TokenKind::Eof {
            let end = self.bump()?;
            if end.kind != TokenKind::Eof {
                return self.unexpected(&end, "the end of the order_by key");
            }
        }
        Ok(OrderKey { field, descending })
    }
}
