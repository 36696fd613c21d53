//! Tokens of the filter language. The lexer is pulled one token at a time by
//! the parser, so an error reports the first problem from the left, not a
//! lexing problem further on that the user has not reached yet.

/// A problem at a byte offset of the input; the parser turns it into an
/// [`Error`](crate::error::Error) with a 1-based character position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SyntaxError {
    pub at: usize,
    pub message: String,
}

impl SyntaxError {
    pub fn new(at: usize, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            at,
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum TokenKind {
    /// A run of word characters: a keyword, a bare attribute, or a whole
    /// `prefix.key` (dots are word characters, so `metrics.loss.recon` is one
    /// word and the parser splits it at the first dot).
    Word,
    /// A finite number; the source text is kept for messages.
    Number(f64),
    /// `'…'`: always a string value.
    SingleQuoted(String),
    /// `"…"`: a key after `prefix.`, a string value elsewhere (MLflow accepts
    /// both uses).
    DoubleQuoted(String),
    /// `` `…` ``: only ever a key.
    Backticked(String),
    LParen,
    RParen,
    Comma,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    pub kind: TokenKind,
    /// Byte offsets into the input.
    pub start: usize,
    pub end: usize,
}

pub(super) struct Lexer<'a> {
    text: &'a str,
    pos: usize,
}

/// Characters that may appear inside a word after its first character;
/// `- . / :` let keys like `val/loss`, `mlflow.runName` or `a-b` go unquoted.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':')
}

fn is_word_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

impl<'a> Lexer<'a> {
    pub fn new(text: &'a str) -> Lexer<'a> {
        Lexer { text, pos: 0 }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.rest().chars().nth(n)
    }

    fn bump_while(&mut self, keep: impl Fn(char) -> bool) {
        let len: usize = self
            .rest()
            .chars()
            .take_while(|&c| keep(c))
            .map(char::len_utf8)
            .sum();
        self.pos += len;
    }

    pub fn next_token(&mut self) -> Result<Token, SyntaxError> {
        self.bump_while(char::is_whitespace);
        let start = self.pos;
        let Some(c) = self.peek_at(0) else {
            return Ok(self.token(TokenKind::Eof, start));
        };
        let next = self.peek_at(1);
        let digit_after = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
        let number_start = c.is_ascii_digit()
            || (c == '.' && digit_after(next))
            || (c == '-'
                && (digit_after(next) || (next == Some('.') && digit_after(self.peek_at(2)))));
        if number_start {
            return self.number(start);
        }
        // `` `metrics`.acc ``: a dot right after a backticked prefix starts
        // the word that holds the key.
        let after_backtick = c == '.' && self.text[..start].ends_with('`');
        if is_word_start(c) || after_backtick {
            self.bump_while(is_word_char);
            return Ok(self.token(TokenKind::Word, start));
        }
        if matches!(c, '\'' | '"' | '`') {
            return self.quoted(c, start);
        }
        let (kind, len) = match (c, next) {
            ('(', _) => (TokenKind::LParen, 1),
            (')', _) => (TokenKind::RParen, 1),
            (',', _) => (TokenKind::Comma, 1),
            ('=', Some('=')) => (TokenKind::Eq, 2),
            ('=', _) => (TokenKind::Eq, 1),
            ('!', Some('=')) | ('<', Some('>')) => (TokenKind::Ne, 2),
            ('<', Some('=')) => (TokenKind::Le, 2),
            ('<', _) => (TokenKind::Lt, 1),
            ('>', Some('=')) => (TokenKind::Ge, 2),
            ('>', _) => (TokenKind::Gt, 1),
            _ => {
                return Err(SyntaxError::new(
                    start,
                    format!("unexpected character '{c}'"),
                ));
            }
        };
        self.pos += len;
        Ok(self.token(kind, start))
    }

    fn token(&self, kind: TokenKind, start: usize) -> Token {
        Token {
            kind,
            start,
            end: self.pos,
        }
    }

    /// `-?(digits[.digits*] | .digits)([eE][+-]?digits)?`, refused when a
    /// word character follows (`1abc`, `1.2.3`) rather than split silently.
    fn number(&mut self, start: usize) -> Result<Token, SyntaxError> {
        if self.peek_at(0) == Some('-') {
            self.pos += 1;
        }
        self.bump_while(|c| c.is_ascii_digit());
        if self.peek_at(0) == Some('.') {
            self.pos += 1;
            self.bump_while(|c| c.is_ascii_digit());
        }
        if matches!(self.peek_at(0), Some('e' | 'E')) {
            let sign = usize::from(matches!(self.peek_at(1), Some('+' | '-')));
            if self.peek_at(1 + sign).is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1 + sign;
                self.bump_while(|c| c.is_ascii_digit());
            }
        }
        if self.peek_at(0).is_some_and(is_word_char) {
            self.bump_while(is_word_char);
            let text = &self.text[start..self.pos];
            return Err(SyntaxError::new(
                start,
                format!("malformed number '{text}'"),
            ));
        }
        let text = &self.text[start..self.pos];
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(self.token(TokenKind::Number(v), start)),
            _ => Err(SyntaxError::new(
                start,
                format!("number '{text}' is out of range"),
            )),
        }
    }

    /// A doubled delimiter stands for itself in every kind of quote; in
    /// strings a backslash also escapes the delimiter or another backslash
    /// (MLflow users write `'it\'s'`). Other backslashes are kept as they
    /// are, so Windows paths need no doubling.
    fn quoted(&mut self, quote: char, start: usize) -> Result<Token, SyntaxError> {
        self.pos += 1;
        let mut value = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            if c == quote {
                if self.rest()[i + 1..].starts_with(quote) {
                    chars.next();
                    value.push(quote);
                    continue;
                }
                self.pos += i + 1;
                let kind = match quote {
                    '\'' => TokenKind::SingleQuoted(value),
                    '"' => TokenKind::DoubleQuoted(value),
                    _ => TokenKind::Backticked(value),
                };
                return Ok(self.token(kind, start));
            }
            if c == '\\' && quote != '`' {
                let escaped = self.rest()[i + 1..].chars().next();
                if let Some(e @ ('\\' | '\'' | '"')) = escaped
                    && (e == quote || e == '\\')
                {
                    chars.next();
                    value.push(e);
                    continue;
                }
            }
            value.push(c);
        }
        let what = if quote == '`' { "key" } else { "string" };
        Err(SyntaxError::new(
            start,
            format!("unterminated {what}: the opening {quote} is never closed"),
        ))
    }
}
