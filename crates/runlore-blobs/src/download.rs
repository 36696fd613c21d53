//! The read side of [`ObjectBlobStore`]: finding a blob's chunk digests
//! (its address for a one-chunk blob, else its sidecar; a blob without a
//! usable sidecar, such as one stored by an older version, is verified
//! whole before its first byte is served and its sidecar written then),
//! and opening downloads whose every chunk is checked before it is sent.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use object_store::{GetOptions, GetRange, ObjectStoreExt, PutPayload};
use runlore_core::{ByteStream, Error, Result, Sha256Hex};
use sha2::{Digest, Sha256};

use crate::chunks::{ChunkDigests, ChunkHasher, max_sidecar_len};
use crate::layout::{blob_path, sidecar_path};
use crate::read::{self, Plan};
use crate::store::ObjectBlobStore;
use crate::verify::{blob_error, corrupt, digest_hex, download_error, read_error};

impl ObjectBlobStore {
    /// A verified download of `wanted` (the whole blob when `None`): the
    /// blob's size and a stream whose first piece has already been checked,
    /// so a blob damaged there fails here, before any byte is sent.
    pub(crate) async fn open_verified(
        &self,
        sha256: &Sha256Hex,
        wanted: Option<Range<u64>>,
    ) -> Result<(u64, ByteStream)> {
        let key = blob_path(sha256);
        let size = self
            .store
            .head(&key)
            .await
            .map_err(|e| blob_error(sha256, "inspecting", e))?
            .size;
        let wanted = match wanted {
            Some(range) if range.start >= range.end || range.end > size => {
                return Err(Error::invalid(format!(
                    "bytes {}..{} are not inside blob '{sha256}' of {size} bytes",
                    range.start, range.end
                )));
            }
            Some(range) => range,
            None => 0..size,
        };
        let digests = self.chunk_digests(sha256, size).await?;
        if size == 0 {
            // No chunk to compare: the address itself must be the empty digest.
            let empty = digest_hex(Sha256::new())?;
            if empty != *sha256 {
                return Err(download_error(sha256, corrupt(sha256, &empty)));
            }
            return Ok((0, Box::pin(futures_util::stream::empty())));
        }
        let plan = Plan {
            address: sha256.clone(),
            digests,
            wanted,
        };
        let covering = plan.covering();
        let source = self.read_bytes(sha256, covering).await?;
        let mut stream = read::verified(source, plan);
        let first = match stream.next().await {
            Some(Ok(first)) => first,
            Some(Err(e)) => return Err(download_error(sha256, e)),
            None => Bytes::new(),
        };
        let rest = futures_util::stream::once(async move { Ok(first) }).chain(stream);
        Ok((size, Box::pin(rest)))
    }

    /// The raw bytes `range` of a blob.
    async fn read_bytes(
        &self,
        sha256: &Sha256Hex,
        range: Range<u64>,
    ) -> Result<futures_util::stream::BoxStream<'static, object_store::Result<Bytes>>> {
        let options = GetOptions {
            range: Some(GetRange::Bounded(range)),
            ..GetOptions::default()
        };
        let found = self
            .store
            .get_opts(&blob_path(sha256), options)
            .await
            .map_err(|e| blob_error(sha256, "reading", e))?;
        read::payload(found)
            .await
            .map_err(|e| blob_error(sha256, "reading", e))
    }

    /// The digests to check a blob of `size` bytes against.
    async fn chunk_digests(&self, sha256: &Sha256Hex, size: u64) -> Result<Arc<ChunkDigests>> {
        if let Some(single) = ChunkDigests::single(sha256, size) {
            return Ok(Arc::new(single));
        }
        if let Some(recorded) = self.read_sidecar(sha256, size).await {
            return Ok(Arc::new(recorded));
        }
        let digests = self.verify_whole(sha256, size).await?;
        self.write_sidecar(sha256, &digests).await;
        Ok(Arc::new(digests))
    }

    /// The blob's sidecar when it is present, bounded, and names this blob at
    /// this size; `None` otherwise (the blob is then verified whole).
    async fn read_sidecar(&self, sha256: &Sha256Hex, size: u64) -> Option<ChunkDigests> {
        let key = sidecar_path(sha256);
        let found = match self.store.get(&key).await {
            Ok(found) => found,
            Err(object_store::Error::NotFound { .. }) => return None,
            Err(e) => {
                tracing::warn!(blob = %sha256, error = %e, "cannot read chunk digests");
                return None;
            }
        };
        if found.meta.size > max_sidecar_len(size) {
            tracing::warn!(blob = %sha256, size = found.meta.size, "oversized chunk digests ignored");
            return None;
        }
        let text = match found.bytes().await {
            Ok(text) => text,
            Err(e) => {
                tracing::warn!(blob = %sha256, error = %e, "cannot read chunk digests");
                return None;
            }
        };
        let parsed = ChunkDigests::decode(&text, sha256, size);
        if parsed.is_none() {
            tracing::warn!(blob = %sha256, "damaged or stale chunk digests ignored");
        }
        parsed
    }

    /// Reads the whole blob, and returns its chunk digests only when all of
    /// its bytes hash to the address.
    async fn verify_whole(&self, sha256: &Sha256Hex, size: u64) -> Result<ChunkDigests> {
        let mut source = self.read_bytes(sha256, 0..size).await?;
        let mut chunks = ChunkHasher::new();
        let mut whole = Sha256::new();
        while let Some(piece) = source.next().await {
            let piece = piece.map_err(|e| download_error(sha256, read_error(sha256, e)))?;
            chunks.update(&piece);
            whole.update(&piece);
        }
        let actual = digest_hex(whole)?;
        if actual != *sha256 {
            tracing::warn!(blob = %sha256, %actual, "corrupt blob found before serving it");
            return Err(download_error(sha256, corrupt(sha256, &actual)));
        }
        let digests = chunks.finish();
        if digests.size != size {
            return Err(Error::internal(format!(
                "blob '{sha256}' changed size while being read ({size} then {} bytes)",
                digests.size
            )));
        }
        Ok(digests)
    }

    /// Stores a blob's chunk digests next to it (multi-chunk blobs only).
    /// The text depends only on the blob's bytes, so rewriting it is
    /// harmless; a failure is logged, not returned, because the next read
    /// verifies the blob whole and writes it again.
    pub(crate) async fn write_sidecar(&self, sha256: &Sha256Hex, digests: &ChunkDigests) {
        if !digests.needs_sidecar() {
            return;
        }
        let text = digests.encode(sha256);
        let payload = PutPayload::from_bytes(Bytes::from(text));
        if let Err(e) = self.store.put(&sidecar_path(sha256), payload).await {
            tracing::warn!(blob = %sha256, error = %e, "cannot store chunk digests");
        }
    }

    /// Removes a blob's chunk digests (a missing sidecar is fine).
    pub(crate) async fn delete_sidecar(&self, sha256: &Sha256Hex) -> Result<()> {
        match self.store.delete(&sidecar_path(sha256)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(blob_error(sha256, "deleting the chunk digests of", e)),
        }
    }
}
