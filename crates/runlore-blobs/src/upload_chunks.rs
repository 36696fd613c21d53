//! Chunk digests of an upload, computed beside it. An upload already hashes
//! every byte for the address; hashing each chunk again on the same thread
//! would halve its speed, so each completed chunk is hashed on the blocking
//! pool while the upload goes on. At most [`IN_FLIGHT`] chunks wait to be
//! hashed, which bounds the memory they hold whatever the blob's size.

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;

use crate::chunks::{CHUNK_SIZE, ChunkDigest, ChunkDigests};

/// Chunks handed to the blocking pool and not yet collected.
const IN_FLIGHT: usize = 4;

pub(crate) struct UploadChunks {
    /// The pieces of the chunk being filled (shared with the upload, no copy).
    pieces: Vec<Bytes>,
    filled: u64,
    size: u64,
    pending: std::collections::VecDeque<JoinHandle<ChunkDigest>>,
    digests: Vec<ChunkDigest>,
}

impl UploadChunks {
    pub(crate) fn new() -> UploadChunks {
        UploadChunks {
            pieces: Vec::new(),
            filled: 0,
            size: 0,
            pending: std::collections::VecDeque::new(),
            digests: Vec::new(),
        }
    }

    pub(crate) async fn update(&mut self, mut piece: Bytes) -> std::io::Result<()> {
        self.size += piece.len() as u64;
        while !piece.is_empty() {
            let room = usize::try_from(CHUNK_SIZE - self.filled).unwrap_or(usize::MAX);
            let head = piece.split_to(room.min(piece.len()));
            self.filled += head.len() as u64;
            self.pieces.push(head);
            if self.filled == CHUNK_SIZE {
                self.hash_filled_chunk();
                if self.pending.len() > IN_FLIGHT {
                    self.collect_oldest().await?;
                }
            }
        }
        Ok(())
    }

    fn hash_filled_chunk(&mut self) {
        let pieces = std::mem::take(&mut self.pieces);
        self.filled = 0;
        self.pending.push_back(tokio::task::spawn_blocking(move || {
            let mut hasher = Sha256::new();
            for piece in &pieces {
                hasher.update(piece);
            }
            hasher.finalize().into()
        }));
    }

    async fn collect_oldest(&mut self) -> std::io::Result<()> {
        if let Some(task) = self.pending.pop_front() {
            self.digests
                .push(task.await.map_err(std::io::Error::other)?);
        }
        Ok(())
    }

    /// The digests of every chunk. A blob of at most one chunk needs none
    /// (its address is its only chunk's digest), so none is computed.
    pub(crate) async fn finish(mut self) -> std::io::Result<ChunkDigests> {
        if self.size > CHUNK_SIZE && self.filled > 0 {
            self.hash_filled_chunk();
        }
        while !self.pending.is_empty() {
            self.collect_oldest().await?;
        }
        Ok(ChunkDigests {
            size: self.size,
            chunk_size: CHUNK_SIZE,
            digests: self.digests,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunks::ChunkHasher;

    #[tokio::test]
    async fn the_same_digests_as_hashing_in_line() -> std::io::Result<()> {
        let body: Vec<u8> = (0..(9 * CHUNK_SIZE + 333))
            .map(|i| (i % 253) as u8)
            .collect();
        let mut pipelined = UploadChunks::new();
        let mut in_line = ChunkHasher::new();
        for piece in body.chunks(300_001) {
            pipelined.update(Bytes::copy_from_slice(piece)).await?;
            in_line.update(piece);
        }
        assert_eq!(pipelined.finish().await?, in_line.finish());
        Ok(())
    }

    #[tokio::test]
    async fn a_one_chunk_upload_computes_nothing() -> std::io::Result<()> {
        let mut small = UploadChunks::new();
        small.update(Bytes::from(vec![7u8; 1000])).await?;
        let digests = small.finish().await?;
        assert!(digests.digests.is_empty() && !digests.needs_sidecar());
        Ok(())
    }
}
