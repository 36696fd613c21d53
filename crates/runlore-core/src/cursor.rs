//! Opaque pagination cursors. A cursor carries the offset of the next page
//! and a fingerprint of the query that made it, so a cursor handed to a
//! different query is refused instead of silently returning the wrong page.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{Error, Result};

/// Builds the cursor of the page that starts at `offset`.
pub fn encode(offset: u64, fingerprint: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{offset}:{fingerprint:016x}"))
}

/// Reads a cursor back; `fingerprint` must be that of the current query.
pub fn decode(cursor: &str, fingerprint: u64) -> Result<u64> {
    let bad = || {
        Error::invalid(
            "invalid page cursor: pass back the next_cursor of a previous page of the same query",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let mut parts = text.split(':');
    let (Some("v1"), Some(offset), Some(print), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let offset: u64 = offset.parse().map_err(|_| bad())?;
    if print != format!("{fingerprint:016x}") {
        return Err(Error::invalid(
            "page cursor belongs to a different query (filter, order or scope changed)",
        ));
    }
    Ok(offset)
}

/// A stable 64-bit FNV-1a hash of the query's parts, the same in every
/// process and version, so any server replica accepts any replica's cursor.
pub fn fingerprint(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0xff)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_other_queries() {
        let f = fingerprint(&["proj", "metrics.acc > 1"]);
        let c = encode(300, f);
        assert_eq!(decode(&c, f).unwrap(), 300);
        assert!(decode(&c, fingerprint(&["proj", "metrics.acc > 2"])).is_err());
        assert!(decode("garbage!", f).is_err());
        assert!(decode("", f).is_err());
    }
}
