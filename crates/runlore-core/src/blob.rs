//! The content-addressed blob store contract. Every artifact byte lives once,
//! addressed by its SHA-256; `runlore-blobs` implements this on a local
//! folder or S3-compatible object storage.
//!
//! Bodies move as streams of [`Bytes`] so that a 1 GiB upload or download
//! never sits whole in memory.

use std::fmt;
use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures_core::Stream;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A stream of body chunks. An `Err` item aborts the transfer: an upload
/// that errors stores nothing; a download stops with an error at the first
/// chunk whose bytes do not match, before handing that chunk on.
pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// A SHA-256 digest as 64 lowercase hex characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct Sha256Hex(String);

/// Written as the string it holds. (`#[serde(into = "String")]` would clone
/// each digest first: a lineage trace writes some 30,000 of them.)
impl Serialize for Sha256Hex {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl Sha256Hex {
    pub fn parse(text: &str) -> Result<Sha256Hex> {
        let ok = text.len() == 64
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if ok {
            Ok(Sha256Hex(text.to_owned()))
        } else {
            Err(Error::invalid(format!(
                "'{text}' is not a SHA-256 digest (64 lowercase hex characters)"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Sha256Hex {
    type Error = Error;
    fn try_from(text: String) -> Result<Sha256Hex> {
        Sha256Hex::parse(&text)
    }
}

impl From<Sha256Hex> for String {
    fn from(hash: Sha256Hex) -> String {
        hash.0
    }
}

impl fmt::Display for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stored blob: its address and length in bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobInfo {
    pub sha256: Sha256Hex,
    pub size: u64,
    /// When the blob was last written (ms since the epoch), where the
    /// listing says; garbage collection spares young blobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<i64>,
}

/// What re-hashing a stored blob found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobCheck {
    /// The bytes hash to the address.
    Intact { size: u64 },
    /// The blob is gone from the backing storage.
    Missing,
    /// The bytes no longer hash to the address (altered behind our back).
    Corrupt { actual: Sha256Hex, size: u64 },
}

#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Streams a body in, hashing it on the way, and stores it under its
    /// digest. Storing bytes that are already there costs a hash and no
    /// space. When `expected` is given and the bytes hash to something else,
    /// nothing is stored and the error is `InvalidArgument`. A body stream
    /// that fails part way stores nothing. Writes are atomic: no reader
    /// ever sees a partial blob.
    async fn put(&self, body: ByteStream, expected: Option<&Sha256Hex>) -> Result<BlobInfo>;

    /// Stores an in-memory body (small artifacts, snapshots).
    async fn put_bytes(&self, body: Bytes) -> Result<BlobInfo>;

    /// Opens a blob for streaming. `NotFound` when it is missing. Every chunk
    /// is checked against the digests recorded at upload before it is
    /// yielded; the first chunk is checked before this returns (damage there
    /// is an error here), a later damaged chunk makes the stream yield an
    /// `InvalidData` error instead of it and end. A whole read also compares
    /// all bytes with the address before yielding the last chunk.
    async fn get(&self, sha256: &Sha256Hex) -> Result<(u64, ByteStream)>;

    /// Streams the bytes `range` (end exclusive, within the blob's size) of
    /// a blob, verified like [`BlobStore::get`]: the chunks covering the
    /// range are read and checked whole, then sliced. For HTTP range
    /// requests (the tail of a log).
    async fn get_range(
        &self,
        sha256: &Sha256Hex,
        range: std::ops::Range<u64>,
    ) -> Result<ByteStream>;

    /// Reads a whole blob into memory, verified. For small blobs only.
    async fn get_bytes(&self, sha256: &Sha256Hex) -> Result<Bytes>;

    /// The blob's size, or `None` when it is not stored.
    async fn stat(&self, sha256: &Sha256Hex) -> Result<Option<u64>>;

    /// Re-hashes a stored blob.
    async fn check(&self, sha256: &Sha256Hex) -> Result<BlobCheck>;

    /// Removes a blob. Removing a missing blob is not an error. Callers
    /// (garbage collection) must first make sure no artifact row refers to it.
    async fn delete(&self, sha256: &Sha256Hex) -> Result<()>;

    /// Every stored blob, for garbage collection and verification.
    async fn list(&self) -> Result<Vec<BlobInfo>>;
}
