//! Downloads that check every chunk before handing it on. The reader holds
//! one chunk at a time, compares it with its recorded digest and only then
//! yields it (or the part of it a range asked for); on a mismatch it yields
//! an `InvalidData` error and stops, so altered bytes never reach the
//! consumer. A read of a whole multi-chunk blob also hashes everything and
//! compares it with the address before yielding the last chunk.

use std::io;
use std::ops::Range;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::stream::{BoxStream, StreamExt};
use object_store::GetResult;
use runlore_core::Sha256Hex;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::chunks::ChunkDigests;
use crate::verify::{corrupt, digest_hex, read_error};

/// Read size for local blobs: object_store's own stream reads 8 KiB at a
/// time, which halves download speed.
const READ_CHUNK: usize = 1 << 20;

/// The bytes of a get (whole or ranged) as a stream.
pub(crate) async fn payload(
    found: GetResult,
) -> object_store::Result<BoxStream<'static, object_store::Result<Bytes>>> {
    let range = found.range.clone();
    match found.payload {
        object_store::GetResultPayload::File(file, path) => {
            let mut file = tokio::fs::File::from_std(file);
            let local_error = move |e: io::Error| object_store::Error::Generic {
                store: "LocalFileSystem",
                source: format!("reading {}: {e}", path.display()).into(),
            };
            file.seek(io::SeekFrom::Start(range.start))
                .await
                .map_err(&local_error)?;
            let reader = file.take(range.end - range.start);
            Ok(
                tokio_util::io::ReaderStream::with_capacity(reader, READ_CHUNK)
                    .map(move |chunk| chunk.map_err(&local_error))
                    .boxed(),
            )
        }
        object_store::GetResultPayload::Stream(stream) => Ok(stream),
    }
}

/// What one verified read delivers.
pub(crate) struct Plan {
    pub(crate) address: Sha256Hex,
    pub(crate) digests: Arc<ChunkDigests>,
    /// The bytes wanted (end exclusive); the source starts at the first
    /// byte of the chunk that holds `wanted.start`.
    pub(crate) wanted: Range<u64>,
}

impl Plan {
    /// The chunk-aligned bytes to read for `wanted`.
    pub(crate) fn covering(&self) -> Range<u64> {
        let first = self.wanted.start / self.digests.chunk_size;
        let last = self.wanted.end.div_ceil(self.digests.chunk_size);
        self.digests.bounds(first).start..self.digests.bounds(last.saturating_sub(1)).end
    }
}

struct Reader {
    source: BoxStream<'static, object_store::Result<Bytes>>,
    plan: Plan,
    /// A chunk being assembled from pieces that do not line up with it.
    buffer: BytesMut,
    /// What is left of the last piece after the chunk it completed.
    carry: Bytes,
    next_chunk: u64,
    end_chunk: u64,
    /// Hashes everything when the read covers a whole multi-chunk blob.
    whole: Option<Sha256>,
    done: bool,
}

/// Verifies `source` (the bytes of [`Plan::covering`]) chunk by chunk.
pub(crate) fn verified(
    source: BoxStream<'static, object_store::Result<Bytes>>,
    plan: Plan,
) -> BoxStream<'static, io::Result<Bytes>> {
    let chunk_size = plan.digests.chunk_size;
    let whole =
        (plan.wanted == (0..plan.digests.size) && plan.digests.needs_sidecar()).then(Sha256::new);
    let reader = Reader {
        source,
        next_chunk: plan.wanted.start / chunk_size,
        end_chunk: plan.wanted.end.div_ceil(chunk_size),
        plan,
        buffer: BytesMut::new(),
        carry: Bytes::new(),
        whole,
        done: false,
    };
    futures_util::stream::unfold(reader, |mut reader| async move {
        let item = reader.next_piece().await?;
        Some((item, reader))
    })
    .boxed()
}

impl Reader {
    async fn next_piece(&mut self) -> Option<io::Result<Bytes>> {
        if self.done || self.next_chunk >= self.end_chunk {
            return None;
        }
        let result = self.read_chunk().await;
        if result.is_err() {
            self.done = true;
        }
        Some(result)
    }

    async fn read_chunk(&mut self) -> io::Result<Bytes> {
        let index = self.next_chunk;
        let bounds = self.plan.digests.bounds(index);
        let need = usize::try_from(bounds.end - bounds.start).map_err(io::Error::other)?;
        let chunk = self.assemble(need).await?;
        let digest = match self.whole.as_mut() {
            // A whole read hashes each chunk twice (its own digest and the
            // address); the two run side by side, the chunk's on the blocking
            // pool. The address hash may see a bad chunk first: it is only
            // consulted after every chunk has matched.
            Some(whole) => {
                let own = chunk.clone();
                let digest = tokio::task::spawn_blocking(move || Sha256::digest(&own));
                whole.update(&chunk);
                digest.await.map_err(io::Error::other)?.into()
            }
            None => Sha256::digest(&chunk).into(),
        };
        let expected = usize::try_from(index)
            .ok()
            .and_then(|i| self.plan.digests.digests.get(i));
        if expected != Some(&digest) {
            tracing::warn!(blob = %self.plan.address, chunk = index, "corrupt chunk read");
            return Err(corrupt_chunk(&self.plan.address, index, bounds));
        }
        self.next_chunk += 1;
        if bounds.end == self.plan.digests.size
            && let Some(whole) = self.whole.take()
        {
            let actual = digest_hex(whole).map_err(io::Error::other)?;
            if actual != self.plan.address {
                tracing::warn!(blob = %self.plan.address, %actual, "corrupt blob read");
                return Err(corrupt(&self.plan.address, &actual));
            }
        }
        let from = self.plan.wanted.start.max(bounds.start) - bounds.start;
        let to = self.plan.wanted.end.min(bounds.end) - bounds.start;
        let (from, to) = (
            usize::try_from(from).map_err(io::Error::other)?,
            usize::try_from(to).map_err(io::Error::other)?,
        );
        Ok(chunk.slice(from..to))
    }
}

impl Reader {
    /// The next `need` bytes of the source. A piece that holds a whole chunk
    /// (local files are read in chunk-sized pieces) is used without a copy.
    async fn assemble(&mut self, need: usize) -> io::Result<Bytes> {
        while self.buffer.len() < need {
            let mut piece = if self.carry.is_empty() {
                match self.source.next().await {
                    Some(Ok(bytes)) => bytes,
                    Some(Err(e)) => return Err(read_error(&self.plan.address, e)),
                    None => return Err(truncated(&self.plan.address, self.plan.digests.size)),
                }
            } else {
                std::mem::take(&mut self.carry)
            };
            if self.buffer.is_empty() && piece.len() >= need {
                self.carry = piece.split_off(need);
                return Ok(piece);
            }
            let take = (need - self.buffer.len()).min(piece.len());
            self.buffer.extend_from_slice(&piece[..take]);
            self.carry = piece.split_off(take);
        }
        Ok(self.buffer.split_to(need).freeze())
    }
}

fn corrupt_chunk(address: &Sha256Hex, index: u64, bounds: Range<u64>) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "blob '{address}' is corrupt: chunk {index} (bytes {}..{}) does not match its recorded digest",
            bounds.start, bounds.end
        ),
    )
}

fn truncated(address: &Sha256Hex, size: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("blob '{address}' is corrupt: it ends before its recorded {size} bytes"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA: &[u8] = b"0123456789";

    /// Chunks of 4 bytes (the store uses 1 MiB; the logic is the same).
    fn plan(wanted: Range<u64>) -> Plan {
        let digests = DATA.chunks(4).map(|c| Sha256::digest(c).into()).collect();
        let address = Sha256Hex::parse(&hex::encode(Sha256::digest(DATA))).expect("a digest");
        Plan {
            address,
            digests: Arc::new(ChunkDigests {
                size: DATA.len() as u64,
                chunk_size: 4,
                digests,
            }),
            wanted,
        }
    }

    /// `bytes` as a source in pieces of `piece` bytes, lined up with nothing.
    fn source(bytes: &[u8], piece: usize) -> BoxStream<'static, object_store::Result<Bytes>> {
        let pieces: Vec<_> = bytes
            .chunks(piece)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        futures_util::stream::iter(pieces).boxed()
    }

    async fn collect(plan: Plan, bytes: &[u8], piece: usize) -> (Vec<u8>, Option<io::Error>) {
        let covering = plan.covering();
        let bytes = &bytes[covering.start as usize..covering.end as usize];
        let mut stream = verified(source(bytes, piece), plan);
        let mut out = Vec::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(chunk) => out.extend_from_slice(&chunk),
                Err(e) => {
                    assert!(stream.next().await.is_none(), "the error is last");
                    return (out, Some(e));
                }
            }
        }
        (out, None)
    }

    #[tokio::test]
    async fn pieces_of_any_size_are_verified_chunk_by_chunk() {
        for piece in [1, 3, 4, 7, 10] {
            let (out, err) = collect(plan(0..10), DATA, piece).await;
            assert!(err.is_none(), "{piece}: {err:?}");
            assert_eq!(out, DATA, "{piece}");
        }
        assert_eq!(plan(5..9).covering(), 4..10);
        let (out, err) = collect(plan(5..9), DATA, 3).await;
        assert!(err.is_none());
        assert_eq!(out, &DATA[5..9]);
    }

    #[tokio::test]
    async fn an_altered_chunk_is_never_yielded() {
        let mut altered = DATA.to_vec();
        altered[5] = b'x';
        let (out, err) = collect(plan(0..10), &altered, 3).await;
        assert_eq!(out, &DATA[..4], "only the chunk before the damage");
        let err = err.expect("an error in place of chunk 1");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("chunk 1 (bytes 4..8)"), "{err}");
        // A range wholly in chunk 2 never touches the damage.
        let (out, err) = collect(plan(8..10), &altered, 3).await;
        assert!(err.is_none());
        assert_eq!(out, &DATA[8..]);
    }

    #[tokio::test]
    async fn a_short_source_is_an_error() {
        let mut stream = verified(source(&DATA[..9], 4), plan(0..10));
        let mut items = Vec::new();
        while let Some(item) = stream.next().await {
            items.push(item);
        }
        assert_eq!(items.len(), 3);
        let Some(Err(err)) = items.pop() else {
            panic!("expected an error last");
        };
        assert!(err.to_string().contains("ends before"), "{err}");
    }
}
