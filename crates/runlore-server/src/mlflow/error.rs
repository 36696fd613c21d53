//! MLflow's error shape: `{"error_code","message"}` with 400 or 404 for
//! anything the caller got wrong. Never a 5xx for a user's mistake: the
//! MLflow client retries 5xx answers for minutes before giving up. A busy
//! or unreachable database is 503 `TEMPORARILY_UNAVAILABLE` with
//! `Retry-After`, which is exactly when retrying helps.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use runlore_core::{Error, ErrorKind};
use serde_json::json;

#[derive(Debug)]
pub struct MlflowError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

pub type MlflowResult<T> = Result<T, MlflowError>;

pub const INVALID_PARAMETER_VALUE: &str = "INVALID_PARAMETER_VALUE";
pub const RESOURCE_DOES_NOT_EXIST: &str = "RESOURCE_DOES_NOT_EXIST";
pub const RESOURCE_ALREADY_EXISTS: &str = "RESOURCE_ALREADY_EXISTS";

impl MlflowError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> MlflowError {
        MlflowError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> MlflowError {
        MlflowError::new(StatusCode::BAD_REQUEST, INVALID_PARAMETER_VALUE, message)
    }

    pub fn not_found(message: impl Into<String>) -> MlflowError {
        MlflowError::new(StatusCode::NOT_FOUND, RESOURCE_DOES_NOT_EXIST, message)
    }

    /// `Missing value for required parameter 'x'.` as MLflow words it.
    pub fn missing(field: &str) -> MlflowError {
        MlflowError::invalid(format!(
            "Missing value for required parameter '{field}'. See the API docs for more \
             information about request parameters."
        ))
    }
}

impl From<Error> for MlflowError {
    fn from(e: Error) -> MlflowError {
        let (status, code) = match e.kind() {
            ErrorKind::NotFound => (StatusCode::NOT_FOUND, RESOURCE_DOES_NOT_EXIST),
            // MLflow answers 400, not 409, for an existing name.
            ErrorKind::AlreadyExists => (StatusCode::BAD_REQUEST, RESOURCE_ALREADY_EXISTS),
            ErrorKind::InvalidArgument | ErrorKind::Conflict => {
                (StatusCode::BAD_REQUEST, INVALID_PARAMETER_VALUE)
            }
            ErrorKind::Unauthenticated => (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
            ErrorKind::PermissionDenied => (StatusCode::FORBIDDEN, "PERMISSION_DENIED"),
            ErrorKind::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "TEMPORARILY_UNAVAILABLE"),
            ErrorKind::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR"),
        };
        let message = if e.kind() == ErrorKind::Internal {
            tracing::error!("internal error: {}", e.message());
            "internal error; the server log has the details".to_owned()
        } else {
            e.message().to_owned()
        };
        MlflowError {
            status,
            code,
            message,
        }
    }
}

impl IntoResponse for MlflowError {
    fn into_response(self) -> Response {
        let body = json!({"error_code": self.code, "message": self.message});
        crate::error::with_retry_hint(self.status, (self.status, Json(body)).into_response())
    }
}
