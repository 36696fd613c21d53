//! `Range: bytes=…` on artifact downloads (RFC 9110 §14), so the UI can
//! read only the end of a long log. One range is served; several are
//! answered with the whole file, which the RFC allows. `If-Range` is
//! checked first (`crate::artifact_http::if_range_allows`).

use std::ops::Range;

use axum::http::HeaderValue;
use http_range_header::{RangeUnsatisfiableError, StartPosition};

#[derive(Debug, PartialEq, Eq)]
pub enum Wanted {
    /// No usable range: send everything with 200.
    Whole,
    /// These bytes (end exclusive), with 206.
    Part(Range<u64>),
    /// A range the file cannot satisfy: 416.
    Unsatisfiable,
}

pub fn parse(header: &HeaderValue, size: u64) -> Wanted {
    let Ok(text) = header.to_str() else {
        return Wanted::Whole;
    };
    if is_empty_suffix(text) {
        return Wanted::Unsatisfiable;
    }
    let Ok(parsed) = http_range_header::parse_range_header(text) else {
        // Not a byte range this server understands: ignore it.
        return Wanted::Whole;
    };
    if parsed.ranges.len() != 1 {
        return Wanted::Whole;
    }

    // A suffix longer than the file means the whole file (RFC 9110
    // §14.1.2); the crate calls it out of bounds.
    if let StartPosition::FromLast(n) = parsed.ranges[0].start
        && n >= size
        && size > 0
    {
        return Wanted::Part(0..size);
    }
    // A first byte past the end cannot be served (the crate would call it
    // reversed, which means a malformed header).
    if let StartPosition::Index(first) = parsed.ranges[0].start
        && first >= size
    {
        return Wanted::Unsatisfiable;
    }
    match parsed.validate(size) {
        Ok(ranges) => match ranges.first() {
            Some(r) if size > 0 && *r.start() < size && r.start() <= r.end() => {
                Wanted::Part(*r.start()..*r.end() + 1)
            }
            _ => Wanted::Unsatisfiable,
        },
        // `5-2` is not a valid range at all, so the header is ignored.
        Err(RangeUnsatisfiableError::RangeReversed) => Wanted::Whole,
        Err(_) => Wanted::Unsatisfiable,
    }
}

/// `bytes=-0`: the last zero bytes, no byte at all, which no file can
/// satisfy (RFC 9110 §14.1.3: a suffix length of 0 is unsatisfiable). The
/// parser calls it malformed, which would mean the whole file.
fn is_empty_suffix(text: &str) -> bool {
    text.trim()
        .strip_prefix("bytes=")
        .and_then(|spec| spec.trim().strip_prefix('-'))
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b == b'0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted(text: &str, size: u64) -> Wanted {
        parse(&HeaderValue::from_str(text).expect("header"), size)
    }

    #[test]
    fn single_ranges_suffixes_and_open_ends() {
        assert_eq!(wanted("bytes=0-9", 100), Wanted::Part(0..10));
        assert_eq!(wanted("bytes=90-", 100), Wanted::Part(90..100));
        assert_eq!(wanted("bytes=-10", 100), Wanted::Part(90..100));
        assert_eq!(wanted("bytes=95-200", 100), Wanted::Part(95..100));
        assert_eq!(wanted("bytes=-500", 100), Wanted::Part(0..100));
    }

    #[test]
    fn ranges_outside_the_file_and_odd_headers() {
        assert_eq!(wanted("bytes=100-", 100), Wanted::Unsatisfiable);
        assert_eq!(wanted("bytes=0-", 0), Wanted::Unsatisfiable);
        assert_eq!(wanted("bytes=0-1,5-6", 100), Wanted::Whole);
        assert_eq!(wanted("items=0-1", 100), Wanted::Whole);
        assert_eq!(wanted("bytes=5-2", 100), Wanted::Whole);
        assert_eq!(wanted("bytes=-0", 100), Wanted::Unsatisfiable);
        assert_eq!(wanted("bytes=-0", 0), Wanted::Unsatisfiable);
    }
}
