//! The errors of a blob read (corrupt bytes, failed reads) and the mapping
//! of object_store errors.

use std::io;

use runlore_core::{Error, Sha256Hex};
use sha2::{Digest, Sha256};

/// The digest a finished hasher holds. (32 bytes always encode to 64
/// lowercase hex digits; the `Result` only avoids a panic path.)
pub(crate) fn digest_hex(hasher: Sha256) -> runlore_core::Result<Sha256Hex> {
    Sha256Hex::try_from(hex::encode(hasher.finalize()))
}

/// The error a download ends with when its bytes do not hash to its address.
pub(crate) fn corrupt(address: &Sha256Hex, actual: &Sha256Hex) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("blob '{address}' is corrupt: its bytes hash to '{actual}'"),
    )
}

/// A failure part way through reading a blob, with the blob named.
pub(crate) fn read_error(address: &Sha256Hex, e: object_store::Error) -> io::Error {
    let kind = match e {
        object_store::Error::NotFound { .. } => io::ErrorKind::NotFound,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, format!("reading blob '{address}' failed: {e}"))
}

/// Maps an unexpected object_store failure to `Internal`, keeping the detail
/// (for logs; the server never shows Internal messages to clients).
pub(crate) fn internal(action: &str, e: object_store::Error) -> Error {
    Error::internal(format!("blob store: {action} failed: {e}"))
}

/// Maps a failure on one blob: a missing object is the caller's `NotFound`,
/// anything else is `Internal`.
pub(crate) fn blob_error(sha256: &Sha256Hex, action: &str, e: object_store::Error) -> Error {
    match e {
        object_store::Error::NotFound { .. } => Error::not_found("blob", sha256),
        e => internal(&format!("{action} blob '{sha256}'"), e),
    }
}

/// Maps a failed first read of a download (before anything was sent) to
/// the store's error: gone is `NotFound`, corrupt or unreadable `Internal`.
pub(crate) fn download_error(sha256: &Sha256Hex, e: io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::NotFound => Error::not_found("blob", sha256),
        _ => Error::internal(e.to_string()),
    }
}
