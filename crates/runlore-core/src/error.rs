//! The one error type of the domain, and the kinds every transport maps to
//! its own status codes (HTTP statuses, CLI exit codes, MLflow error codes).

use std::fmt;

/// What went wrong, independent of transport. The server maps each kind to an
/// HTTP status and a stable machine-readable code in one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    NotFound,
    AlreadyExists,
    InvalidArgument,
    Conflict,
    Unauthenticated,
    PermissionDenied,
    Unavailable,
    Internal,
}

impl ErrorKind {
    /// Stable code sent to clients; never change an existing one.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::AlreadyExists => "already_exists",
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
        }
    }

    pub fn from_code(code: &str) -> Option<ErrorKind> {
        ALL_KINDS.iter().copied().find(|k| k.code() == code)
    }
}

const ALL_KINDS: [ErrorKind; 8] = [
    ErrorKind::NotFound,
    ErrorKind::AlreadyExists,
    ErrorKind::InvalidArgument,
    ErrorKind::Conflict,
    ErrorKind::Unauthenticated,
    ErrorKind::PermissionDenied,
    ErrorKind::Unavailable,
    ErrorKind::Internal,
];

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A domain error: a kind plus a lowercase, human-readable message that names
/// the offending thing (`run 'abc' not found`, `param 'lr' already logged`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn not_found(what: &str, id: impl fmt::Display) -> Error {
        Error::new(ErrorKind::NotFound, format!("{what} '{id}' not found"))
    }

    pub fn already_exists(what: &str, id: impl fmt::Display) -> Error {
        Error::new(
            ErrorKind::AlreadyExists,
            format!("{what} '{id}' already exists"),
        )
    }

    pub fn invalid(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    pub fn conflict(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Conflict, message)
    }

    /// An unexpected failure (database, I/O). The message is for logs; the
    /// server replaces it with a generic one before it reaches a client.
    pub fn internal(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Internal, message)
    }
}
