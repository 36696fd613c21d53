//! Helpers shared by the blob store tests: a store on a temporary folder,
//! body streams, and a look at what is really on disk.
#![allow(dead_code, clippy::unwrap_used)] // each test file uses a subset

pub mod backends;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use runlore_core::{BlobStore, ByteStream, Sha256Hex};
use sha2::{Digest, Sha256};

pub fn open() -> (tempfile::TempDir, Arc<dyn BlobStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = runlore_blobs::open(dir.path().to_str().unwrap()).unwrap();
    (dir, store)
}

/// The digest computed independently of the store.
pub fn sha(bytes: &[u8]) -> Sha256Hex {
    Sha256Hex::parse(&hex::encode(Sha256::digest(bytes))).unwrap()
}

/// Deterministic, incompressible-looking bytes (xorshift), so a corrupted or
/// reordered chunk changes the digest.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.max(1);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A body streamed in `chunk`-sized pieces.
pub fn chunked(bytes: &[u8], chunk: usize) -> ByteStream {
    let chunks: Vec<std::io::Result<Bytes>> = bytes
        .chunks(chunk)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures_util::stream::iter(chunks).boxed()
}

/// Every item of a download, errors included.
pub async fn drain(mut stream: ByteStream) -> (Vec<u8>, Option<std::io::Error>) {
    let mut bytes = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(e) => {
                assert!(stream.next().await.is_none(), "the error must be last");
                return (bytes, Some(e));
            }
        }
    }
    (bytes, None)
}

/// A download that must end cleanly.
pub async fn read_clean(stream: ByteStream) -> Vec<u8> {
    let (bytes, err) = drain(stream).await;
    if let Some(err) = err {
        panic!("download failed: {err}");
    }
    bytes
}

/// The files under `root/sub` (recursively), as paths relative to `root`.
pub fn files_under(root: &Path, sub: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root.join(sub), &mut out);
    out.iter()
        .map(|p| p.strip_prefix(root).unwrap().to_owned())
        .collect()
}

/// Where the store keeps a blob on disk (the documented layout).
pub fn blob_file(root: &Path, sha256: &Sha256Hex) -> PathBuf {
    let hex = sha256.as_str();
    root.join("sha256").join(&hex[..2]).join(&hex[2..])
}

/// Addresses and sizes of a listing (what a listing promises; the write
/// time is the backend's).
pub fn addrs(list: Vec<runlore_core::BlobInfo>) -> Vec<(Sha256Hex, u64)> {
    list.into_iter().map(|b| (b.sha256, b.size)).collect()
}
