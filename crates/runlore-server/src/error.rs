//! API errors: every failure becomes `{"error":{"code","message"}}` with the
//! status of its kind, from this one table.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use runlore_core::{Error, ErrorKind};
use serde::Serialize;
use utoipa::ToSchema;

pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::AlreadyExists => StatusCode::CONFLICT,
        ErrorKind::InvalidArgument => StatusCode::BAD_REQUEST,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::PermissionDenied => StatusCode::FORBIDDEN,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// An error as the API answers it.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code: not_found, already_exists,
    /// invalid_argument, conflict, payload_too_large, internal, …
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::from(Error::invalid(message))
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        let kind = e.kind();
        let message = if kind == ErrorKind::Internal {
            // Details go to the log, not to the client.
            tracing::error!("internal error: {}", e.message());
            "internal error; the server log has the details".to_owned()
        } else {
            e.message().to_owned()
        };
        ApiError {
            status: status_of(kind),
            code: kind.code(),
            message,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        with_retry_hint(self.status, (self.status, Json(body)).into_response())
    }
}

/// Seconds a client is told to wait before retrying a 503 (a busy or
/// unreachable database usually passes within a second or two).
pub const RETRY_AFTER_SECONDS: u32 = 1;

/// Adds `Retry-After` to a 503, the answer for `Unavailable`, so that
/// clients and proxies retry instead of giving up.
pub fn with_retry_hint(status: StatusCode, mut response: Response) -> Response {
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(RETRY_AFTER_SECONDS),
        );
    }
    response
}

pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error",
    )
    .into_response()
}

pub type ApiResult<T> = Result<T, ApiError>;
