//! Runlore's content-addressed blob store: [`runlore_core::BlobStore`] on the
//! `object_store` crate, over a local folder or S3-compatible storage.
//!
//! Layout inside the store (the same on every backend):
//!
//! ```text
//! sha256/ab/cdef…   a blob: its SHA-256 split after the first two hex digits,
//!                   so no folder (or S3 listing page) holds every blob
//! sha256/ab/cdef….chunks
//!                   the SHA-256 of each 1 MiB chunk of a blob larger than
//!                   one chunk, so downloads check every chunk before sending
//! tmp/<uuid>        an upload in progress, moved to its address once hashed
//! ```
//!
//! Uploads are streamed into `tmp/` while being hashed and only then moved to
//! their address with a create-if-absent rename, so a reader never sees a
//! partial blob at an address, and two writers of the same bytes store them
//! once. Reads check each chunk against its digest before yielding it and
//! stop with an error at the first mismatch, so altered bytes are never
//! handed on (see `chunks.rs` and `read.rs`).

mod chunks;
mod download;
mod layout;
mod location;
mod read;
mod store;
mod upload_chunks;
mod verify;

use std::sync::Arc;

use runlore_core::{BlobStore, Result};

pub use store::ObjectBlobStore;

/// Opens the blob store at `location`: a folder path (created if missing),
/// `file:///absolute/path`, or `s3://bucket/prefix` for S3-compatible
/// storage configured by the usual `AWS_*` environment variables
/// (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_REGION`, `AWS_ALLOW_HTTP`, …). A malformed location is
/// `InvalidArgument`.
pub fn open(location: &str) -> Result<Arc<dyn BlobStore>> {
    Ok(Arc::new(ObjectBlobStore::open(location)?))
}
