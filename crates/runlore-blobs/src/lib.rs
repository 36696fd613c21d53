//! Runlore's content-addressed blob store: [`runlore_core::BlobStore`] on the
//! `object_store` crate, over a local folder or S3-compatible storage.
//!
//! Layout inside the store (the same on every backend):
//!
//! ```text
//! sha256/ab/cdef…   a blob: its SHA-256 split after the first two hex digits,
//!                   so no folder (or S3 listing page) holds every blob
//! tmp/<uuid>        an upload in progress, moved to its address once hashed
//! ```
//!
//! Uploads are streamed into `tmp/` while being hashed and only then moved to
//! their address with a create-if-absent rename, so a reader never sees a
//! partial blob at an address, and two writers of the same bytes store them
//! once. Reads re-hash and end with an error when the bytes do not match.

mod layout;
mod location;
mod store;
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
