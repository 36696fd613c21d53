//! Per-chunk digests, so a download can check every piece before sending it.
//!
//! A blob's address is the SHA-256 of all its bytes, which can only be
//! checked after the last byte. To verify while streaming, the store also
//! keeps the SHA-256 of each fixed-size chunk ([`CHUNK_SIZE`]) in a small
//! sidecar object next to the blob, `sha256/ab/cdef….chunks`:
//!
//! ```text
//! runlore-chunks 1
//! address <the blob's sha256>
//! size <bytes>
//! chunk-size <bytes>
//! <sha256 of chunk 0>
//! …
//! check <sha256 of every line above, newlines included>
//! ```
//!
//! A blob no larger than one chunk needs no sidecar: its only chunk is the
//! whole blob, whose digest is the address. The sidecar is read back as
//! untrusted input: bounded before reading, parsed strictly, and refused
//! (the blob is then verified whole instead) unless it names this blob, its
//! current size and the right number of chunks, and its `check` line
//! matches. The check line catches a damaged sidecar, not a forged one; a
//! whole read still compares the blob with its address before the last
//! chunk goes out.

use sha2::{Digest, Sha256};

use runlore_core::Sha256Hex;

/// Bytes per verified chunk: large enough that the sidecar of a 1 GiB blob
/// is 66 KiB, small enough that holding one chunk per download is cheap.
pub(crate) const CHUNK_SIZE: u64 = 1 << 20;

/// Chunk sizes a sidecar may declare (written by this or a later version).
const CHUNK_SIZES: std::ops::RangeInclusive<u64> = (64 << 10)..=(64 << 20);

const MAGIC: &str = "runlore-chunks 1";

/// One chunk's SHA-256.
pub(crate) type ChunkDigest = [u8; 32];

/// The digests of a blob's chunks: chunk `i` covers bytes
/// `i × chunk_size .. min(size, (i + 1) × chunk_size)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChunkDigests {
    pub(crate) size: u64,
    pub(crate) chunk_size: u64,
    pub(crate) digests: Vec<ChunkDigest>,
}

impl ChunkDigests {
    /// The digests of a blob of at most one chunk: its address, when it has
    /// any bytes.
    pub(crate) fn single(address: &Sha256Hex, size: u64) -> Option<ChunkDigests> {
        if size > CHUNK_SIZE {
            return None;
        }
        let digests = if size == 0 {
            Vec::new()
        } else {
            vec![decode_digest(address.as_str())?]
        };
        Some(ChunkDigests {
            size,
            chunk_size: CHUNK_SIZE,
            digests,
        })
    }

    /// How many chunks a blob of `size` bytes has.
    pub(crate) fn count_for(size: u64, chunk_size: u64) -> u64 {
        size.div_ceil(chunk_size)
    }

    /// The byte range of chunk `index`.
    pub(crate) fn bounds(&self, index: u64) -> std::ops::Range<u64> {
        let start = index.saturating_mul(self.chunk_size).min(self.size);
        start..start.saturating_add(self.chunk_size).min(self.size)
    }

    /// Whether this blob needs a sidecar (more than one chunk).
    pub(crate) fn needs_sidecar(&self) -> bool {
        self.digests.len() > 1
    }

    /// The sidecar text for a blob.
    pub(crate) fn encode(&self, address: &Sha256Hex) -> String {
        let mut text = format!(
            "{MAGIC}\naddress {address}\nsize {}\nchunk-size {}\n",
            self.size, self.chunk_size
        );
        for digest in &self.digests {
            text.push_str(&hex::encode(digest));
            text.push('\n');
        }
        let check = hex::encode(Sha256::digest(text.as_bytes()));
        text.push_str("check ");
        text.push_str(&check);
        text.push('\n');
        text
    }

    /// Parses a sidecar, accepting it only for this blob at its current
    /// size; `None` for anything else (the caller then verifies whole).
    pub(crate) fn decode(text: &[u8], address: &Sha256Hex, size: u64) -> Option<ChunkDigests> {
        if text.len() as u64 > max_sidecar_len(size) {
            return None;
        }
        let text = std::str::from_utf8(text).ok()?;
        let body = text.strip_suffix('\n')?;
        let (signed, check) = body.rsplit_once('\n')?;
        let signed_len = signed.len() + 1;
        let expected = hex::encode(Sha256::digest(&text.as_bytes()[..signed_len]));
        if check.strip_prefix("check ")? != expected {
            return None;
        }
        let mut lines = signed.split('\n');
        if lines.next()? != MAGIC
            || lines.next()?.strip_prefix("address ")? != address.as_str()
            || lines.next()?.strip_prefix("size ")?.parse::<u64>().ok()? != size
        {
            return None;
        }
        let chunk_size = lines.next()?.strip_prefix("chunk-size ")?.parse().ok()?;
        if !CHUNK_SIZES.contains(&chunk_size) {
            return None;
        }
        let count = Self::count_for(size, chunk_size);
        let digests = lines.map(decode_digest).collect::<Option<Vec<_>>>()?;
        (digests.len() as u64 == count).then_some(ChunkDigests {
            size,
            chunk_size,
            digests,
        })
    }
}

/// The longest sidecar a blob of `size` bytes can have at the smallest
/// accepted chunk size, so a huge or garbage object is refused unread.
pub(crate) fn max_sidecar_len(size: u64) -> u64 {
    let lines = ChunkDigests::count_for(size, *CHUNK_SIZES.start());
    512 + lines.saturating_mul(65)
}

fn decode_digest(text: &str) -> Option<ChunkDigest> {
    if text.len() != 64 {
        return None;
    }
    let mut digest = [0u8; 32];
    hex::decode_to_slice(text, &mut digest).ok()?;
    Some(digest)
}

/// Hashes bytes arriving in pieces of any size into [`CHUNK_SIZE`] chunks.
pub(crate) struct ChunkHasher {
    current: Sha256,
    filled: u64,
    size: u64,
    digests: Vec<ChunkDigest>,
}

impl ChunkHasher {
    pub(crate) fn new() -> ChunkHasher {
        ChunkHasher {
            current: Sha256::new(),
            filled: 0,
            size: 0,
            digests: Vec::new(),
        }
    }

    pub(crate) fn update(&mut self, mut bytes: &[u8]) {
        self.size += bytes.len() as u64;
        while !bytes.is_empty() {
            let room = usize::try_from(CHUNK_SIZE - self.filled).unwrap_or(usize::MAX);
            let (head, rest) = bytes.split_at(room.min(bytes.len()));
            self.current.update(head);
            self.filled += head.len() as u64;
            bytes = rest;
            if self.filled == CHUNK_SIZE {
                self.digests.push(self.current.finalize_reset().into());
                self.filled = 0;
            }
        }
    }

    pub(crate) fn finish(mut self) -> ChunkDigests {
        if self.filled > 0 {
            self.digests.push(self.current.finalize().into());
        }
        ChunkDigests {
            size: self.size,
            chunk_size: CHUNK_SIZE,
            digests: self.digests,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(bytes: &[u8]) -> Sha256Hex {
        Sha256Hex::parse(&hex::encode(Sha256::digest(bytes))).expect("a digest")
    }

    fn digests_of(bytes: &[u8], pieces: usize) -> ChunkDigests {
        let mut hasher = ChunkHasher::new();
        for piece in bytes.chunks(pieces) {
            hasher.update(piece);
        }
        hasher.finish()
    }

    #[test]
    fn chunks_do_not_depend_on_how_the_bytes_arrive() {
        let body: Vec<u8> = (0..(3 * CHUNK_SIZE + 17))
            .map(|i| (i % 251) as u8)
            .collect();
        let a = digests_of(&body, 7_001);
        let b = digests_of(&body, 1 << 20);
        assert_eq!(a, b);
        assert_eq!(a.digests.len(), 4);
        let last: [u8; 32] = Sha256::digest(&body[3 * CHUNK_SIZE as usize..]).into();
        assert_eq!(a.digests[3], last);
        assert_eq!(a.bounds(3), 3 * CHUNK_SIZE..3 * CHUNK_SIZE + 17);
    }

    #[test]
    fn a_one_chunk_blob_is_its_own_digest() {
        let body = b"small";
        let single = ChunkDigests::single(&address(body), 5).expect("one chunk");
        assert_eq!(single, digests_of(body, 2));
        assert!(!single.needs_sidecar());
        assert!(ChunkDigests::single(&address(body), CHUNK_SIZE + 1).is_none());
    }

    #[test]
    fn sidecars_round_trip_and_refuse_anything_else() {
        let body: Vec<u8> = (0..(2 * CHUNK_SIZE + 5)).map(|i| (i % 7) as u8).collect();
        let sha = address(&body);
        let digests = digests_of(&body, 65_536);
        let text = digests.encode(&sha);
        let size = body.len() as u64;
        assert_eq!(
            ChunkDigests::decode(text.as_bytes(), &sha, size),
            Some(digests)
        );
        // Another blob, another size, a flipped digit, a cut file, garbage.
        assert_eq!(
            ChunkDigests::decode(text.as_bytes(), &address(b"x"), size),
            None
        );
        assert_eq!(ChunkDigests::decode(text.as_bytes(), &sha, size + 1), None);
        let flipped = text.replacen("size ", "size 0", 1);
        assert_eq!(ChunkDigests::decode(flipped.as_bytes(), &sha, size), None);
        let mut damaged = text.clone().into_bytes();
        damaged[120] ^= 1;
        assert_eq!(ChunkDigests::decode(&damaged, &sha, size), None);
        assert_eq!(
            ChunkDigests::decode(&text.as_bytes()[..text.len() - 3], &sha, size),
            None
        );
        assert_eq!(ChunkDigests::decode(b"", &sha, size), None);
        let huge = vec![b'a'; max_sidecar_len(size) as usize + 1];
        assert_eq!(ChunkDigests::decode(&huge, &sha, size), None);
    }
}
