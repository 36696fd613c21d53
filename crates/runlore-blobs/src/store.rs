//! [`ObjectBlobStore`]: the `BlobStore` contract on any object_store backend.
//! Local folders and S3 differ only in how the backend is built
//! (`location.rs`); everything here runs the same on both.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutPayload, WriteMultipart};
use runlore_core::{BlobCheck, BlobInfo, BlobStore, ByteStream, Error, Result, Sha256Hex};
use sha2::{Digest, Sha256};

use crate::chunks::{CHUNK_SIZE, ChunkHasher};
use crate::layout::{self, blob_path};
use crate::location::Location;
use crate::upload_chunks::UploadChunks;
use crate::verify::{blob_error, digest_hex, internal};

/// Upload part size. S3 wants parts of at least 5 MiB and at most 10,000 of
/// them, so 8 MiB parts allow blobs up to ~78 GiB.
const PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts written concurrently per upload; with the part being filled this
/// bounds an upload's memory to about 3 × `PART_SIZE`, whatever its length.
const PARTS_IN_FLIGHT: usize = 2;
/// `get_bytes` pre-allocates at most this much, so a wrong size in the
/// backend's metadata cannot make it reserve a huge buffer up front.
const MAX_PREALLOCATION: u64 = 64 * 1024 * 1024;

/// A content-addressed blob store on an object store (see the crate docs for
/// the layout).
#[derive(Debug, Clone)]
pub struct ObjectBlobStore {
    pub(crate) store: Arc<dyn ObjectStore>,
}

impl ObjectBlobStore {
    /// Opens a location string: see [`crate::open`].
    pub fn open(location: &str) -> Result<ObjectBlobStore> {
        let store = Location::parse(location)?.open()?;
        Ok(ObjectBlobStore { store })
    }

    /// Opens (creating it if missing) a local blob folder, e.g.
    /// `<data-dir>/blobs`; takes a path so that non-UTF-8 folders work too.
    pub fn local(dir: impl AsRef<std::path::Path>) -> Result<ObjectBlobStore> {
        let store = Location::Local(dir.as_ref().to_owned()).open()?;
        Ok(ObjectBlobStore { store })
    }

    /// The size of the object at a blob's key, or `None` when absent.
    async fn stored_size(&self, sha256: &Sha256Hex, key: &Path) -> Result<Option<u64>> {
        match self.store.head(key).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(blob_error(sha256, "inspecting", e)),
        }
    }

    /// Moves a fully written, hashed upload to its address. The address may
    /// already hold the blob (dedup), or another writer may publish the same
    /// bytes at the same moment; both end with the blob stored once.
    async fn publish(&self, temp: TempObject, sha256: &Sha256Hex, size: u64) -> Result<()> {
        let key = blob_path(sha256);
        match self.stored_size(sha256, &key).await? {
            Some(stored) if stored == size => {
                tracing::debug!(blob = %sha256, size, "blob already stored");
                temp.discard().await;
                return Ok(());
            }
            // Same name, other length: the stored copy was damaged (e.g. torn
            // by a crash). Our bytes are verified, so they replace it rather
            // than letting every later upload trust the damaged one.
            Some(stored) => {
                tracing::warn!(blob = %sha256, stored, size, "replacing damaged blob");
                return self.replace(temp, sha256, &key).await;
            }
            None => {}
        }
        match self.store.rename_if_not_exists(&temp.path, &key).await {
            Ok(()) => {
                temp.disarm();
                tracing::debug!(blob = %sha256, size, "blob stored");
                Ok(())
            }
            // Another upload of the same bytes won the race: same content.
            Err(object_store::Error::AlreadyExists { .. }) => {
                temp.discard().await;
                Ok(())
            }
            // S3 without a copy-if-absent mechanism. The key names its
            // content, so overwriting can only ever put the same bytes there,
            // and the copy itself is atomic.
            Err(
                object_store::Error::NotSupported { .. }
                | object_store::Error::NotImplemented { .. },
            ) => self.replace(temp, sha256, &key).await,
            Err(e) => Err(blob_error(sha256, "storing", e)),
        }
    }

    /// Atomically puts the upload at `key`, replacing whatever is there.
    async fn replace(&self, temp: TempObject, sha256: &Sha256Hex, key: &Path) -> Result<()> {
        self.store
            .rename(&temp.path, key)
            .await
            .map_err(|e| blob_error(sha256, "storing", e))?;
        temp.disarm();
        Ok(())
    }
}

/// An upload's temporary key. If a put ends early (an error, or its future
/// dropped because the client went away) the object is deleted in the
/// background, so `tmp/` does not fill with orphans.
struct TempObject {
    store: Arc<dyn ObjectStore>,
    path: Path,
    armed: bool,
}

impl TempObject {
    fn new(store: &Arc<dyn ObjectStore>) -> TempObject {
        TempObject {
            store: Arc::clone(store),
            path: layout::temp_path(),
            armed: true,
        }
    }

    /// Deletes the temporary object now. A failure only leaves an orphan
    /// under `tmp/`, never a wrong blob, so it is logged, not returned.
    async fn discard(mut self) {
        self.armed = false;
        match self.store.delete(&self.path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => tracing::warn!(path = %self.path, error = %e, "cannot delete upload"),
        }
    }

    /// The object was moved to its address; nothing to clean up.
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for TempObject {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        // Drop cannot await; without a runtime there is nothing to run the
        // delete on and the orphan stays (harmless, see `discard`).
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let store = Arc::clone(&self.store);
            let path = std::mem::take(&mut self.path);
            runtime.spawn(async move {
                if let Err(e) = store.delete(&path).await
                    && !matches!(e, object_store::Error::NotFound { .. })
                {
                    tracing::warn!(path = %path, error = %e, "cannot delete upload");
                }
            });
        }
    }
}

#[async_trait]
impl BlobStore for ObjectBlobStore {
    async fn put(&self, mut body: ByteStream, expected: Option<&Sha256Hex>) -> Result<BlobInfo> {
        // Armed before the upload starts so that a put cancelled while the
        // upload completes still removes its temporary object.
        let temp = TempObject::new(&self.store);
        let upload = self
            .store
            .put_multipart(&temp.path)
            .await
            .map_err(|e| internal("starting an upload", e))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut hasher = Sha256::new();
        let mut chunks = UploadChunks::new();
        let mut size = 0u64;
        let streamed: Result<()> = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk
                    .map_err(|e| Error::invalid(format!("reading the blob body failed: {e}")))?;
                // Back-pressure: never more than PARTS_IN_FLIGHT parts queued.
                writer
                    .wait_for_capacity(PARTS_IN_FLIGHT)
                    .await
                    .map_err(|e| internal("writing an upload", e))?;
                hasher.update(&chunk);
                chunks
                    .update(chunk.clone())
                    .await
                    .map_err(|e| Error::internal(format!("hashing an upload's chunks: {e}")))?;
                size += chunk.len() as u64;
                writer.put(chunk);
            }
            Ok(())
        }
        .await;
        if let Err(e) = streamed {
            // Aborting removes the parts written so far and the temporary
            // key never comes into being; if aborting fails, the guard
            // deletes whatever got through.
            match writer.abort().await {
                Ok(()) => temp.disarm(),
                Err(abort) => tracing::warn!(error = %abort, "cannot abort upload"),
            }
            return Err(e);
        }
        // `finish` aborts the upload itself when completing fails.
        writer
            .finish()
            .await
            .map_err(|e| internal("completing an upload", e))?;

        let sha256 = digest_hex(hasher)?;
        if let Some(expected) = expected
            && *expected != sha256
        {
            temp.discard().await;
            return Err(Error::invalid(format!(
                "the uploaded bytes have sha256 '{sha256}', not the declared '{expected}'; nothing was stored"
            )));
        }
        self.publish(temp, &sha256, size).await?;
        // After the blob: a crash in between leaves a blob without chunk
        // digests, which the next read verifies whole and repairs.
        match chunks.finish().await {
            Ok(digests) => self.write_sidecar(&sha256, &digests).await,
            // The blob is stored; its next read verifies it whole instead.
            Err(e) => tracing::warn!(blob = %sha256, error = %e, "cannot hash chunks"),
        }
        Ok(BlobInfo {
            sha256,
            size,
            modified: None,
        })
    }

    async fn put_bytes(&self, body: Bytes) -> Result<BlobInfo> {
        let mut hasher = Sha256::new();
        hasher.update(&body);
        let sha256 = digest_hex(hasher)?;
        let size = body.len() as u64;
        let key = blob_path(&sha256);
        // One create-if-absent put: the backend writes it atomically (local:
        // a staged file linked into place; S3: a conditional PUT).
        let body_for_chunks = body.clone();
        let payload = PutPayload::from_bytes(body);
        let stored = match self
            .store
            .put_opts(&key, payload.clone(), PutMode::Create.into())
            .await
        {
            Ok(_) => true,
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => self.stored_size(&sha256, &key).await? == Some(size),
            // Conditional put disabled (some S3-compatible servers): a plain
            // put is safe for the same reason as in `publish`.
            Err(
                object_store::Error::NotSupported { .. }
                | object_store::Error::NotImplemented { .. },
            ) => false,
            Err(e) => return Err(blob_error(&sha256, "storing", e)),
        };
        if !stored {
            self.store
                .put(&key, payload)
                .await
                .map_err(|e| blob_error(&sha256, "storing", e))?;
        }
        if size > CHUNK_SIZE {
            let mut chunks = ChunkHasher::new();
            chunks.update(&body_for_chunks);
            self.write_sidecar(&sha256, &chunks.finish()).await;
        }
        Ok(BlobInfo {
            sha256,
            size,
            modified: None,
        })
    }

    async fn get(&self, sha256: &Sha256Hex) -> Result<(u64, ByteStream)> {
        self.open_verified(sha256, None).await
    }

    async fn get_range(
        &self,
        sha256: &Sha256Hex,
        range: std::ops::Range<u64>,
    ) -> Result<ByteStream> {
        let (_, stream) = self.open_verified(sha256, Some(range)).await?;
        Ok(stream)
    }

    async fn get_bytes(&self, sha256: &Sha256Hex) -> Result<Bytes> {
        let (size, mut stream) = self.get(sha256).await?;
        let capacity = usize::try_from(size.min(MAX_PREALLOCATION)).unwrap_or(0);
        let mut buffer = BytesMut::with_capacity(capacity);
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(chunk) => buffer.extend_from_slice(&chunk),
                // Deleted between opening and reading.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(Error::not_found("blob", sha256));
                }
                // Corrupt bytes or a storage failure: not the caller's doing.
                Err(e) => return Err(Error::internal(e.to_string())),
            }
        }
        Ok(buffer.freeze())
    }

    async fn stat(&self, sha256: &Sha256Hex) -> Result<Option<u64>> {
        self.stored_size(sha256, &blob_path(sha256)).await
    }

    async fn check(&self, sha256: &Sha256Hex) -> Result<BlobCheck> {
        let found = match self.store.get(&blob_path(sha256)).await {
            Ok(found) => found,
            Err(object_store::Error::NotFound { .. }) => return Ok(BlobCheck::Missing),
            Err(e) => return Err(blob_error(sha256, "reading", e)),
        };
        let mut stream = found.into_stream();
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(chunk) => {
                    hasher.update(&chunk);
                    size += chunk.len() as u64;
                }
                Err(object_store::Error::NotFound { .. }) => return Ok(BlobCheck::Missing),
                Err(e) => return Err(blob_error(sha256, "reading", e)),
            }
        }
        let actual = digest_hex(hasher)?;
        if actual == *sha256 {
            Ok(BlobCheck::Intact { size })
        } else {
            tracing::warn!(blob = %sha256, %actual, "corrupt blob found by check");
            Ok(BlobCheck::Corrupt { actual, size })
        }
    }

    async fn delete(&self, sha256: &Sha256Hex) -> Result<()> {
        // The digests first: a blob left without them is verified whole on
        // its next read, while digests left without a blob would be an
        // orphan no listing shows.
        self.delete_sidecar(sha256).await?;
        match self.store.delete(&blob_path(sha256)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(blob_error(sha256, "deleting", e)),
        }
    }

    async fn list(&self) -> Result<Vec<BlobInfo>> {
        let prefix = Path::from(layout::BLOBS);
        let mut listing = self.store.list(Some(&prefix));
        let mut blobs = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(|e| internal("listing blobs", e))?;
            if let Some(sha256) = layout::parse_blob_path(&meta.location) {
                blobs.push(BlobInfo {
                    sha256,
                    size: meta.size,
                    modified: Some(meta.last_modified.timestamp_millis()),
                });
            }
        }
        // Backends list in no particular order; callers get a stable one.
        blobs.sort_by(|a, b| a.sha256.cmp(&b.sha256));
        Ok(blobs)
    }
}
