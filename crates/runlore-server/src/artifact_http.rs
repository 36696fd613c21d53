//! How a user's file goes out over HTTP, on the native API and the MLflow
//! proxy alike: headers that keep it from ever running as part of this
//! origin, and the validator (`ETag`) that `If-Range` is checked against.
//!
//! Artifacts are whatever a user (or a script they ran) uploaded, served
//! from the same origin as the UI. An HTML or SVG file opened in a browser
//! would run its script with the UI's cookies and API. So every artifact
//! response carries `X-Content-Type-Options: nosniff` (the browser keeps the
//! declared type) and `Content-Security-Policy: sandbox` (a document shown
//! anyway gets an opaque origin and no scripts); anything not on a small
//! list of inert types is sent `Content-Disposition: attachment` (saved,
//! not shown) and, where its type could execute, as `text/plain` or
//! `application/octet-stream`. SVG keeps `image/svg+xml` so the UI can show
//! it with `<img>`, which never runs an image's scripts.

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use runlore_core::Sha256Hex;

/// No scripts, no plugins, no forms, an opaque origin, nothing loaded but
/// the file itself: Chromium shows an audio or video file opened in a tab
/// through a player that loads the same URL again, which `media-src`
/// allows; images likewise. Inline styles stay allowed so a file shown
/// alone looks normal.
const SANDBOX: &str =
    "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'";

/// Types a browser shows without running anything: served as stored and
/// inline (the UI previews them, `<img>`, `<audio>`, `<video>`).
const INERT: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/bmp",
    "image/avif",
    "text/plain",
    "text/csv",
    "text/tab-separated-values",
    "text/markdown",
    "application/json",
];

/// What an artifact of a stored media type is served as.
#[derive(Debug, PartialEq, Eq)]
pub struct Served {
    pub content_type: String,
    /// Shown in the browser (inert types) rather than saved.
    pub inline: bool,
}

/// Decides the `Content-Type` and disposition of a stored media type.
pub fn served_as(media_type: &str) -> Served {
    let essence = media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let inert = INERT.contains(&essence.as_str())
        || ((essence.starts_with("audio/") || essence.starts_with("video/"))
            && !essence.contains("xml"));
    if inert && HeaderValue::from_str(media_type).is_ok() {
        return Served {
            content_type: media_type.to_owned(),
            inline: true,
        };
    }
    let content_type = if essence == "image/svg+xml" {
        // Shown only through <img> (no scripts); opened directly it is an
        // attachment in a sandbox.
        essence
    } else if essence.starts_with("text/")
        || essence.ends_with("+xml")
        || essence.ends_with("/xml")
        || essence.ends_with("javascript")
        || essence.ends_with("+json")
    {
        "text/plain; charset=utf-8".to_owned()
    } else {
        "application/octet-stream".to_owned()
    };
    Served {
        content_type,
        inline: false,
    }
}

/// Sets the type, disposition and protection headers of an artifact
/// response. `always_attachment` for clients that only ever save (the
/// MLflow proxy).
pub fn protect(headers: &mut HeaderMap, media_type: &str, path: &str, always_attachment: bool) {
    let served = served_as(media_type);
    if let Ok(v) = HeaderValue::from_str(&served.content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(SANDBOX),
    );
    let inline = served.inline && !always_attachment;
    headers.insert(header::CONTENT_DISPOSITION, disposition(path, inline));
}

/// `inline` or `attachment` with the file's name, always a valid header:
/// an ASCII `filename` (other characters as `_`) and the exact name as
/// RFC 8187 `filename*`.
fn disposition(path: &str, inline: bool) -> HeaderValue {
    let name = path.rsplit('/').next().unwrap_or(path);
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    let kind = if inline { "inline" } else { "attachment" };
    let text = format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| {
        if inline {
            HeaderValue::from_static("inline")
        } else {
            HeaderValue::from_static("attachment")
        }
    })
}

/// The strong validator of an artifact's bytes: their address.
pub fn etag(sha256: &Sha256Hex) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{sha256}\"")).unwrap_or(HeaderValue::from_static("\"\""))
}

/// Whether a `Range` may be honoured (RFC 9110 §13.1.5): always without
/// `If-Range`; with it, only when it is exactly the current strong ETag. A
/// date or anything else gets the whole, current file.
pub fn if_range_allows(request: &HeaderMap, sha256: &Sha256Hex) -> bool {
    match request.get(HeaderName::from_static("if-range")) {
        None => true,
        Some(value) => value.as_bytes() == etag(sha256).as_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_types_are_neutralised_and_inert_ones_kept() {
        let cases = [
            ("image/png", "image/png", true),
            (
                "text/plain; charset=utf-8",
                "text/plain; charset=utf-8",
                true,
            ),
            ("application/json", "application/json", true),
            ("audio/wav", "audio/wav", true),
            ("video/mp4", "video/mp4", true),
            ("text/html", "text/plain; charset=utf-8", false),
            ("TEXT/HTML; charset=x", "text/plain; charset=utf-8", false),
            ("application/xhtml+xml", "text/plain; charset=utf-8", false),
            ("text/xml", "text/plain; charset=utf-8", false),
            ("text/javascript", "text/plain; charset=utf-8", false),
            ("image/svg+xml", "image/svg+xml", false),
            ("application/pdf", "application/octet-stream", false),
            (
                "application/x-shockwave-flash",
                "application/octet-stream",
                false,
            ),
            ("", "application/octet-stream", false),
            ("garbage", "application/octet-stream", false),
        ];
        for (stored, content_type, inline) in cases {
            let served = served_as(stored);
            assert_eq!(served.content_type, content_type, "{stored}");
            assert_eq!(served.inline, inline, "{stored}");
        }
    }

    #[test]
    fn every_name_gets_a_valid_disposition() {
        let v = disposition("plots/a \"b\".svg", false);
        assert_eq!(
            v.to_str().unwrap_or(""),
            "attachment; filename=\"a _b_.svg\"; filename*=UTF-8''a%20%22b%22.svg"
        );
        let v = disposition("résumé\u{202e}.html", false);
        let text = v.to_str().unwrap_or("");
        assert!(
            text.starts_with("attachment; filename=\"r_sum__.html\""),
            "{text}"
        );
        assert!(text.contains("r%C3%A9sum%C3%A9%E2%80%AE.html"), "{text}");
        assert!(
            disposition("x.png", true)
                .to_str()
                .unwrap_or("")
                .starts_with("inline;")
        );
    }

    #[test]
    fn if_range_needs_the_exact_strong_etag() -> runlore_core::Result<()> {
        let sha = Sha256Hex::parse(&"ab".repeat(32))?;
        let mut request = HeaderMap::new();
        assert!(if_range_allows(&request, &sha));
        request.insert("if-range", etag(&sha));
        assert!(if_range_allows(&request, &sha));
        for other in [
            "garbage",
            "W/\"x\"",
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "\"abab\"",
        ] {
            request.insert("if-range", HeaderValue::from_static(other));
            assert!(!if_range_allows(&request, &sha), "{other}");
        }
        Ok(())
    }
}
