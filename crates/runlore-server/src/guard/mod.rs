//! Browser-facing safety, checked before any route (native API, MLflow API,
//! web UI) sees a request. A web page the user happens to open must not be
//! able to read or change Runlore's data, even on a laptop with no auth:
//!
//! - **DNS rebinding**: every request's `Host` must be `localhost`, a
//!   loopback address, the IP address the connection arrived on, or a
//!   configured public name (`--public-name`). A page on
//!   `attacker.example` that rebinds its name to 127.0.0.1 still sends
//!   `Host: attacker.example` and is refused (403). HTTP/1.1 without `Host`
//!   is a 400.
//! - **Cross-site writes**: a state-changing request (POST, PUT, PATCH,
//!   DELETE) that carries an `Origin` must come from the same origin as its
//!   `Host`, and `Sec-Fetch-Site: cross-site` is refused (403). Clients that
//!   are not browsers (curl, the mlflow client, the SDK) send no `Origin`.
//! - **Simple requests**: a browser may send a cross-site POST without asking
//!   first only as `text/plain`, `application/x-www-form-urlencoded` or
//!   `multipart/form-data`. Writes therefore need a JSON content type
//!   (`application/json` or `application/…+json`; 415 otherwise, or MLflow's
//!   own 400 on MLflow routes). A bodyless write (archive, restore, DELETE)
//!   may omit the content type. Artifact uploads (`PUT` on the native and
//!   the MLflow artifact routes) take any type: they carry file bytes, and a
//!   cross-site `PUT` always needs a CORS preflight, which this server never
//!   grants.
//!
//! Refusals use the error shape of the API they hit.

mod authority;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Version, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::ApiError;
pub use authority::HostPort;

/// The local address a connection was accepted on; the accept loop puts it
/// on every request so that `Host: <that address>` is accepted (an IP
/// literal cannot be rebound to another machine).
#[derive(Debug, Clone, Copy)]
pub struct ArrivedOn(pub SocketAddr);

/// What the guard accepts besides loopback names.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    public_names: Vec<HostPort>,
}

/// Checks one configured public name (`name` or `name:port`).
pub fn parse_public_name(text: &str) -> Result<HostPort, String> {
    HostPort::parse(text).ok_or_else(|| {
        format!(
            "invalid public name '{text}': expected a host name or address, optionally with \
             ':port' (no scheme, no path)"
        )
    })
}

impl Policy {
    /// Names that do not parse are logged and left out (the CLI checks them
    /// with [`parse_public_name`] before it starts a server).
    pub fn new(public_names: &[String]) -> Policy {
        let public_names = public_names
            .iter()
            .filter_map(|name| match parse_public_name(name) {
                Ok(parsed) => Some(parsed),
                Err(message) => {
                    tracing::warn!("{message}; ignored");
                    None
                }
            })
            .collect();
        Policy { public_names }
    }

    fn allows(&self, host: &HostPort, arrived_on: Option<ArrivedOn>) -> bool {
        host.is_loopback()
            || host
                .ip()
                .is_some_and(|ip| arrived_on.is_some_and(|a| a.0.ip().to_canonical() == ip))
            || self.public_names.iter().any(|name| name.covers(host))
    }

    /// The request's `Host` when it is allowed (`None`: an HTTP/1.0 request
    /// without one, which no browser sends).
    fn check_host(&self, req: &Request) -> Result<Option<HostPort>, Refusal> {
        let arrived_on = req.extensions().get::<ArrivedOn>().copied();
        let header = req.headers().get(header::HOST);
        let mut named = header.map(|v| v.to_str().unwrap_or("\u{fffd}").to_owned());
        // An absolute-form target (`POST http://name/… HTTP/1.1`) names the
        // host too; both must be allowed.
        let from_target = req.uri().authority().map(|a| a.as_str().to_owned());
        for text in from_target.iter().chain(named.iter()) {
            let allowed = HostPort::parse(text).filter(|host| self.allows(host, arrived_on));
            if allowed.is_none() {
                return Err(Refusal::HostNotAllowed(text.clone()));
            }
        }
        match named.take().or(from_target) {
            Some(text) => Ok(HostPort::parse(&text)),
            None if req.version() >= Version::HTTP_11 => Err(Refusal::HostMissing),
            None => Ok(None),
        }
    }
}

/// The middleware: refuses what the policy does not allow, passes the rest.
pub async fn check(State(policy): State<Arc<Policy>>, req: Request, next: Next) -> Response {
    match refusal(&policy, &req) {
        Some(refusal) => refusal.into_response(Surface::of(req.uri().path())),
        None => next.run(req).await,
    }
}

fn refusal(policy: &Policy, req: &Request) -> Option<Refusal> {
    let host = match policy.check_host(req) {
        Ok(host) => host,
        Err(refusal) => return Some(refusal),
    };
    if !is_state_changing(req.method()) {
        return None;
    }
    if let Some(refusal) = cross_site(req.headers(), host.as_ref()) {
        return Some(refusal);
    }
    if is_upload(req.method(), req.uri().path()) {
        return None;
    }
    match req.headers().get(header::CONTENT_TYPE) {
        Some(value) if is_json(value) => None,
        Some(value) => Some(Refusal::NotJson(Some(
            String::from_utf8_lossy(value.as_bytes()).into_owned(),
        ))),
        None if has_body(req.headers()) => Some(Refusal::NotJson(None)),
        None => None,
    }
}

fn is_state_changing(method: &Method) -> bool {
    [Method::POST, Method::PUT, Method::PATCH, Method::DELETE].contains(method)
}

fn cross_site(headers: &HeaderMap, host: Option<&HostPort>) -> Option<Refusal> {
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if fetch_site.is_some_and(|site| site.trim().eq_ignore_ascii_case("cross-site")) {
        return Some(Refusal::CrossSite(
            "the browser marked it Sec-Fetch-Site: cross-site".into(),
        ));
    }
    let origin = headers.get(header::ORIGIN)?;
    let text = origin.to_str().unwrap_or("\u{fffd}");
    match host {
        Some(host) if authority::same_origin(text, host) => None,
        _ => Some(Refusal::CrossSite(format!(
            "its Origin '{text}' is not this server's own origin"
        ))),
    }
}

/// `PUT` of artifact bytes: `/api/v1/runs/{id}/artifacts/{path}` and the
/// MLflow proxy's `/api/2.0/mlflow-artifacts/artifacts/{path}`.
fn is_upload(method: &Method, path: &str) -> bool {
    if method != Method::PUT {
        return false;
    }
    if path.starts_with("/api/2.0/mlflow-artifacts/artifacts/") {
        return true;
    }
    let segments: Vec<&str> = path.splitn(7, '/').collect();
    matches!(
        segments.as_slice(),
        ["", "api", "v1", "runs", _, "artifacts", rest] if !rest.is_empty()
    )
}

/// `application/json` or a structured `application/…+json` type, with any
/// parameters (`; charset=utf-8`).
pub fn is_json(value: &HeaderValue) -> bool {
    let Ok(text) = value.to_str() else {
        return false;
    };
    let essence = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn has_body(headers: &HeaderMap) -> bool {
    if headers.contains_key(header::TRANSFER_ENCODING) {
        return true;
    }
    match headers.get(header::CONTENT_LENGTH) {
        None => false,
        Some(value) => {
            value
                .to_str()
                .ok()
                .and_then(|t| t.trim().parse::<u64>().ok())
                != Some(0)
        }
    }
}

/// Which API a path belongs to, for the shape of a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Surface {
    Native,
    Mlflow,
}

impl Surface {
    fn of(path: &str) -> Surface {
        let mlflow = ["/api/2.0/mlflow", "/ajax-api/", "/api/3.0/"]
            .iter()
            .any(|prefix| path.starts_with(prefix))
            || path == "/version";
        if mlflow {
            Surface::Mlflow
        } else {
            Surface::Native
        }
    }
}

#[derive(Debug)]
enum Refusal {
    HostMissing,
    HostNotAllowed(String),
    CrossSite(String),
    /// The content type sent, if any.
    NotJson(Option<String>),
}

impl Refusal {
    fn into_response(self, surface: Surface) -> Response {
        let (status, native_code, mlflow_code, message) = match self {
            // The MLflow server's own answer, which its clients know.
            Refusal::NotJson(_) if surface == Surface::Mlflow => (
                StatusCode::BAD_REQUEST,
                "invalid_argument",
                "INVALID_PARAMETER_VALUE",
                "Bad Request. Content-Type must be one of ['application/json'].".to_owned(),
            ),
            Refusal::NotJson(sent) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "INVALID_PARAMETER_VALUE",
                match sent {
                    Some(sent) => format!(
                        "request body must be JSON (Content-Type: application/json), not \
                         '{sent}'"
                    ),
                    None => {
                        "request body must be JSON: send Content-Type: application/json".to_owned()
                    }
                },
            ),
            Refusal::HostMissing => (
                StatusCode::BAD_REQUEST,
                "invalid_argument",
                "INVALID_PARAMETER_VALUE",
                "the request has no Host header".to_owned(),
            ),
            Refusal::HostNotAllowed(host) => (
                StatusCode::FORBIDDEN,
                "host_not_allowed",
                "PERMISSION_DENIED",
                format!(
                    "this server does not answer to Host '{host}': it answers to localhost, \
                     loopback addresses, the address it was reached on, and the names given \
                     with --public-name (RUNLORE_PUBLIC_NAME); this protects against DNS \
                     rebinding"
                ),
            ),
            Refusal::CrossSite(why) => (
                StatusCode::FORBIDDEN,
                "cross_site_request",
                "PERMISSION_DENIED",
                format!(
                    "refusing a cross-site write: {why}; requests that change data must come \
                     from this server's own pages or from a client that is not a browser"
                ),
            ),
        };
        match surface {
            Surface::Native => ApiError::new(status, native_code, message).into_response(),
            Surface::Mlflow => (
                status,
                axum::Json(json!({"error_code": mlflow_code, "message": message})),
            )
                .into_response(),
        }
    }
}

#[cfg(test)]
mod tests;
