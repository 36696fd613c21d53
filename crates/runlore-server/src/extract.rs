//! Extractors whose failures speak the API's error shape with a message
//! that names the problem (axum's own answer plain text).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::ApiError;

/// A JSON body. `Content-Type: application/json` (or `application/…+json`)
/// is required, 415 otherwise: a browser can send `text/plain` or a form to
/// any site without asking, JSON only to its own (see [`crate::guard`]).
/// The body must parse, and a too-large body is a 413.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        if !req
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(crate::guard::is_json)
        {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "request body must be JSON: send Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!(
                        "request body is larger than the limit of {} bytes; send smaller batches",
                        state.max_body_bytes
                    ),
                )
            } else {
                ApiError::invalid(format!(
                    "cannot read request body: {}",
                    rejection.body_text()
                ))
            }
        })?;
        // Every body of this API is an object; serde would otherwise also
        // accept a list for a struct.
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            None => {
                return Err(ApiError::invalid(
                    "request body is empty: expected a JSON object",
                ));
            }
            Some(b'{') => {}
            Some(_) => {
                return Err(ApiError::invalid(
                    "invalid JSON body: expected a JSON object",
                ));
            }
        }
        serde_json::from_slice(&bytes)
            .map(Json)
            .map_err(|e| ApiError::invalid(format!("invalid JSON body: {e}")))
    }
}

/// Query parameters.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned> FromRequestParts<AppState> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(query)
            .map(Query)
            .map_err(|e| ApiError::invalid(format!("invalid query string: {e}")))
    }
}

/// Path parameters.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|e| ApiError::invalid(format!("invalid path: {}", e.body_text())))
    }
}

/// All query pairs in order, for parameters that may repeat (`order_by`).
pub fn query_pairs(parts_query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(parts_query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}
