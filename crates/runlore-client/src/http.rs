//! The HTTP plumbing of [`HttpStore`]: URLs, requests, and turning transport
//! failures and error bodies back into [`runlore_core::Error`]s.

use std::time::Duration;

use reqwest::{Method, RequestBuilder, StatusCode, Url};
use runlore_core::{Error, ErrorKind, Result};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// How long to wait for a TCP connection before calling the server unreachable.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one request may take end to end (a large log batch included).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// A [`runlore_core::MetadataStore`] that talks to a Runlore server over its
/// native API (`/api/v1`). Errors come back with the kind and message the
/// server sent, so callers cannot tell it from the embedded store.
#[derive(Debug, Clone)]
pub struct HttpStore {
    pub(crate) client: reqwest::Client,
    base: Url,
    /// The base URL as shown in messages, without a trailing slash.
    shown: String,
    request_timeout: Duration,
}

impl HttpStore {
    /// A client of the server at `base_url` (`http://127.0.0.1:5000`; the
    /// scheme may be left out) with the default timeouts.
    pub fn new(base_url: &str) -> Result<HttpStore> {
        HttpStore::with_timeouts(base_url, DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT)
    }

    pub fn with_timeouts(
        base_url: &str,
        connect: Duration,
        request: Duration,
    ) -> Result<HttpStore> {
        let base = parse_base_url(base_url)?;
        let client = reqwest::Client::builder()
            .connect_timeout(connect)
            .timeout(request)
            .tcp_nodelay(true)
            .user_agent(concat!("runlore-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::internal(format!("cannot build HTTP client: {e}")))?;
        let shown = base.as_str().trim_end_matches('/').to_owned();
        Ok(HttpStore {
            client,
            base,
            shown,
            request_timeout: request,
        })
    }

    /// The server's base URL, as given (normalised, no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.shown
    }

    /// Checks that the server answers `GET /health`.
    pub async fn health(&self) -> Result<()> {
        let url = self.url(&["health"])?;
        self.send_empty(self.client.get(url)).await
    }

    /// `base` + the given path segments, each percent-encoded (a `/` inside a
    /// metric key becomes `%2F`, so it stays one segment).
    pub(crate) fn url(&self, segments: &[&str]) -> Result<Url> {
        if let Some(bad) = segments
            .iter()
            .find(|s| s.is_empty() || **s == "." || **s == "..")
        {
            return Err(Error::invalid(format!(
                "'{bad}' cannot name a resource: names must not be empty, '.' or '..'"
            )));
        }
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| {
                Error::invalid(format!("server URL '{}' cannot have a path", self.shown))
            })?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// `/api/v1/…` with the given segments after it.
    pub(crate) fn api(&self, segments: &[&str]) -> Result<Url> {
        let mut all = Vec::with_capacity(segments.len() + 2);
        all.extend_from_slice(&["api", "v1"]);
        all.extend_from_slice(segments);
        self.url(&all)
    }

    pub(crate) fn request(&self, method: Method, url: Url) -> RequestBuilder {
        self.client.request(method, url)
    }

    /// Sends and decodes a JSON answer.
    pub(crate) async fn send<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T> {
        let body = self.execute(request).await?;
        serde_json::from_slice(&body).map_err(|e| {
            Error::internal(format!(
                "unexpected answer from Runlore server at {}: {e}",
                self.shown
            ))
        })
    }

    /// Sends and decodes a JSON answer, or `None` when the body is empty
    /// (a `204 No Content`).
    pub(crate) async fn send_optional<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
    ) -> Result<Option<T>> {
        let body = self.execute(request).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        serde_json::from_slice(&body).map(Some).map_err(|e| {
            Error::internal(format!(
                "unexpected answer from Runlore server at {}: {e}",
                self.shown
            ))
        })
    }

    /// Sends and ignores a successful answer's body.
    pub(crate) async fn send_empty(&self, request: RequestBuilder) -> Result<()> {
        self.execute(request).await.map(drop)
    }

    async fn execute(&self, request: RequestBuilder) -> Result<bytes::Bytes> {
        let response = request.send().await.map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(&e))?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(error_from_response(status, &body))
        }
    }

    fn transport_error(&self, err: &reqwest::Error) -> Error {
        let reason = if err.is_timeout() {
            format!("no answer within {}s", self.request_timeout.as_secs())
        } else {
            root_cause(err)
        };
        Error::new(
            ErrorKind::Unavailable,
            format!("cannot reach Runlore server at {}: {reason}", self.shown),
        )
    }
}

fn parse_base_url(text: &str) -> Result<Url> {
    let text = text.trim();
    let with_scheme = if text.contains("://") {
        text.to_owned()
    } else {
        format!("http://{text}")
    };
    let url = Url::parse(&with_scheme)
        .map_err(|e| Error::invalid(format!("invalid server URL '{text}': {e}")))?;
    match url.scheme() {
        "http" => {}
        "https" => {
            return Err(Error::invalid(format!(
                "invalid server URL '{text}': https is not supported by this client yet; \
                 use http:// (through a TLS-terminating proxy on the same machine if needed)"
            )));
        }
        other => {
            return Err(Error::invalid(format!(
                "invalid server URL '{text}': unsupported scheme '{other}', expected http://"
            )));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid(format!(
            "invalid server URL '{text}': it names no host"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid(format!(
            "invalid server URL '{text}': it must not carry a query or a fragment"
        )));
    }
    Ok(url)
}

/// The innermost, most specific reason of a transport failure, lowercase:
/// `connection refused`, `dns error: …`.
fn root_cause(err: &reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    let mut last = err.to_string();
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            return io_reason(io);
        }
        last = current.to_string();
        source = current.source();
    }
    last
}

fn io_reason(io: &std::io::Error) -> String {
    use std::io::ErrorKind as Io;
    match io.kind() {
        Io::ConnectionRefused => "connection refused".to_owned(),
        Io::ConnectionReset => "connection reset by the server".to_owned(),
        Io::ConnectionAborted => "connection aborted".to_owned(),
        Io::TimedOut => "connection timed out".to_owned(),
        _ => {
            let text = io.to_string();
            // "Name or service not known (os error -2)" → without the errno.
            match text.find(" (os error") {
                Some(at) => text[..at].to_lowercase(),
                None => text,
            }
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorInfo,
}

#[derive(Deserialize)]
struct ErrorInfo {
    code: String,
    message: String,
}

/// `{"error":{"code","message"}}` back into an [`Error`] of the same kind;
/// anything else (a proxy's HTML page) gets a kind from the status alone.
pub(crate) fn error_from_response(status: StatusCode, body: &[u8]) -> Error {
    if let Ok(ErrorBody { error }) = serde_json::from_slice::<ErrorBody>(body) {
        let kind = ErrorKind::from_code(&error.code).unwrap_or_else(|| kind_from_status(status));
        return Error::new(kind, error.message);
    }
    let text = String::from_utf8_lossy(body);
    let snippet: String = text.trim().chars().take(200).collect();
    let message = if snippet.is_empty() {
        format!("server answered {status}")
    } else {
        format!("server answered {status}: {snippet}")
    };
    Error::new(kind_from_status(status), message)
}

fn kind_from_status(status: StatusCode) -> ErrorKind {
    match status {
        StatusCode::NOT_FOUND => ErrorKind::NotFound,
        StatusCode::CONFLICT => ErrorKind::Conflict,
        StatusCode::UNAUTHORIZED => ErrorKind::Unauthenticated,
        StatusCode::FORBIDDEN => ErrorKind::PermissionDenied,
        StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT => {
            ErrorKind::Unavailable
        }
        s if s.is_client_error() => ErrorKind::InvalidArgument,
        _ => ErrorKind::Internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalised() {
        let s = HttpStore::new("127.0.0.1:5000").unwrap();
        assert_eq!(s.base_url(), "http://127.0.0.1:5000");
        let url = s.api(&["runs", "abc", "metrics", "val/acc x"]).unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:5000/api/v1/runs/abc/metrics/val%2Facc%20x"
        );
        let s = HttpStore::new("http://host:1/prefix/").unwrap();
        assert_eq!(
            s.url(&["health"]).unwrap().as_str(),
            "http://host:1/prefix/health"
        );
        assert!(s.url(&[".."]).is_err());
        assert!(s.url(&[""]).is_err());
    }

    #[test]
    fn bad_base_urls_are_refused() {
        for bad in ["https://x", "ftp://x", "http://", "http://x/?a=1", "::"] {
            let err = HttpStore::new(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn error_bodies_keep_their_kind_and_message() {
        let body = br#"{"error":{"code":"already_exists","message":"project 'x' already exists"}}"#;
        let err = error_from_response(StatusCode::CONFLICT, body);
        assert_eq!(err.kind(), ErrorKind::AlreadyExists);
        assert_eq!(err.message(), "project 'x' already exists");
        let err = error_from_response(StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>");
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert!(err.message().contains("502"), "{}", err.message());
        let body = br#"{"error":{"code":"brand_new","message":"m"}}"#;
        assert_eq!(
            error_from_response(StatusCode::NOT_FOUND, body).kind(),
            ErrorKind::NotFound
        );
    }
}
