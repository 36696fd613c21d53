#![allow(clippy::unwrap_used)] // test helpers panic on failure by design
//! Downloads never hand on altered bytes: every 1 MiB chunk is checked
//! against the digests recorded at upload before it is yielded, on every
//! backend. Blobs altered behind the store's back (a flipped byte on disk,
//! an overwritten S3 object), blobs without chunk digests (stored by an
//! older version) and damaged digest files.

mod support;

use bytes::Bytes;
use runlore_core::{BlobCheck, ErrorKind, Sha256Hex};
use sha2::{Digest, Sha256};
use support::backends::{Backend, backends};
use support::*;

const MIB: usize = 1 << 20;

/// A blob of three and a half chunks, stored through the streaming upload.
async fn stored(b: &Backend, seed: u64) -> (Vec<u8>, Sha256Hex) {
    let body = noise(3 * MIB + MIB / 2, seed);
    let info = b.store.put(chunked(&body, 300_000), None).await.unwrap();
    assert!(
        b.read_key(&Backend::sidecar_key(&info.sha256))
            .await
            .is_some(),
        "{}: an upload records its chunk digests",
        b.name
    );
    (body, info.sha256)
}

async fn range(b: &Backend, sha: &Sha256Hex, range: std::ops::Range<u64>) -> Vec<u8> {
    read_clean(b.store.get_range(sha, range).await.unwrap()).await
}

#[tokio::test]
async fn a_flipped_byte_stops_the_download_before_its_chunk() {
    for b in backends().await {
        let (body, sha) = stored(&b, 21).await;
        let mut altered = body.clone();
        altered[2 * MIB + 12_345] ^= 0x01;
        b.overwrite(&sha, &altered).await;

        // Chunks 0 and 1 are intact and flow; chunk 2 never does.
        let (size, stream) = b.store.get(&sha).await.unwrap();
        assert_eq!(size, body.len() as u64);
        let (read, err) = drain(stream).await;
        assert_eq!(read.len(), 2 * MIB, "{}", b.name);
        assert_eq!(read, body[..2 * MIB], "{}", b.name);
        let err = err.expect("the altered chunk must end the download");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{}", b.name);
        assert!(err.to_string().contains("chunk 2"), "{}: {err}", b.name);

        // A range inside the altered chunk fails before its first byte.
        let inside = (2 * MIB + 10_000) as u64..(2 * MIB + 20_000) as u64;
        let Err(err) = b.store.get_range(&sha, inside).await else {
            panic!("{}: a range of altered bytes was served", b.name);
        };
        assert_eq!(err.kind(), ErrorKind::Internal, "{}", b.name);
        // A range over intact chunks is still served, byte for byte.
        let intact = 1_000..(MIB + 5_000) as u64;
        assert_eq!(
            range(&b, &sha, intact.clone()).await,
            body[1_000..MIB + 5_000]
        );
        // `lineage verify`'s check still names the blob corrupt.
        assert!(matches!(
            b.store.check(&sha).await.unwrap(),
            BlobCheck::Corrupt { .. }
        ));
        assert!(b.store.get_bytes(&sha).await.is_err(), "{}", b.name);
    }
}

#[tokio::test]
async fn a_blob_damaged_in_its_first_chunk_is_refused_before_any_byte() {
    for b in backends().await {
        let (body, sha) = stored(&b, 22).await;
        let mut altered = body.clone();
        altered[7] ^= 0x80;
        b.overwrite(&sha, &altered).await;
        let Err(err) = b.store.get(&sha).await else {
            panic!("{}: altered bytes were served", b.name);
        };
        assert_eq!(err.kind(), ErrorKind::Internal, "{}", b.name);
        // A cut blob too: its size no longer matches its digests, so it is
        // verified whole, which fails.
        b.overwrite(&sha, &body[..3 * MIB]).await;
        assert!(b.store.get(&sha).await.is_err(), "{}", b.name);
    }
}

#[tokio::test]
async fn a_blob_without_chunk_digests_is_verified_whole_first_and_repaired() {
    for b in backends().await {
        let (body, sha) = stored(&b, 23).await;
        let sidecar = Backend::sidecar_key(&sha);
        let recorded = b.read_key(&sidecar).await.unwrap();

        // As stored by an older version: no digests. It is still served, and
        // its digests are written after the whole blob checked out.
        b.remove_key(&sidecar).await;
        assert_eq!(read_clean(b.store.get(&sha).await.unwrap().1).await, body);
        assert_eq!(b.read_key(&sidecar).await.as_deref(), Some(&recorded[..]));

        // Damaged digests are refused (never trusted) and rebuilt.
        let mut damaged = recorded.clone();
        damaged[100] ^= 0x01;
        b.write_key(&sidecar, &damaged).await;
        assert_eq!(range(&b, &sha, 5..10).await, body[5..10]);
        assert_eq!(b.read_key(&sidecar).await.as_deref(), Some(&recorded[..]));

        // Without digests, altered bytes anywhere mean no byte is served,
        // even from chunks that are intact, and no digests get written.
        let mut altered = body.clone();
        altered[3 * MIB + 1] ^= 0x01;
        b.overwrite(&sha, &altered).await;
        b.remove_key(&sidecar).await;
        assert!(b.store.get(&sha).await.is_err(), "{}", b.name);
        assert!(b.store.get_range(&sha, 0..100).await.is_err(), "{}", b.name);
        assert!(b.read_key(&sidecar).await.is_none(), "{}", b.name);
    }
}

#[tokio::test]
async fn consistent_forged_digests_still_cannot_complete_a_whole_download() {
    for b in backends().await {
        let (body, sha) = stored(&b, 24).await;
        // Alter the last chunk and rewrite its digest (and the check line)
        // to match: only the address can tell.
        let mut altered = body.clone();
        let last = altered.len() - 1;
        altered[last] ^= 0x01;
        b.overwrite(&sha, &altered).await;
        b.write_key(&Backend::sidecar_key(&sha), &forged_sidecar(&sha, &altered))
            .await;
        let (_, stream) = b.store.get(&sha).await.unwrap();
        let (read, err) = drain(stream).await;
        assert!(err.is_some(), "{}: a forged blob completed", b.name);
        assert_eq!(read, body[..3 * MIB], "{}: the last chunk was sent", b.name);
    }
}

/// The sidecar format (crate docs of `chunks.rs`) written independently.
fn forged_sidecar(sha: &Sha256Hex, bytes: &[u8]) -> Vec<u8> {
    let mut text = format!(
        "runlore-chunks 1\naddress {sha}\nsize {}\nchunk-size {MIB}\n",
        bytes.len()
    );
    for chunk in bytes.chunks(MIB) {
        text.push_str(&hex::encode(Sha256::digest(chunk)));
        text.push('\n');
    }
    let check = hex::encode(Sha256::digest(text.as_bytes()));
    text.push_str(&format!("check {check}\n"));
    text.into_bytes()
}

#[tokio::test]
async fn small_blobs_need_no_digest_file_and_delete_removes_it() {
    for b in backends().await {
        let small = b
            .store
            .put_bytes(Bytes::from(noise(MIB, 25)))
            .await
            .unwrap();
        assert!(
            b.read_key(&Backend::sidecar_key(&small.sha256))
                .await
                .is_none(),
            "{}: one chunk is checked against the address itself",
            b.name
        );
        let big = b
            .store
            .put_bytes(Bytes::from(noise(MIB + 1, 26)))
            .await
            .unwrap();
        let sidecar = Backend::sidecar_key(&big.sha256);
        assert!(b.read_key(&sidecar).await.is_some(), "{}", b.name);
        // Digests never show up as blobs of their own.
        assert_eq!(b.store.list().await.unwrap().len(), 2, "{}", b.name);
        b.store.delete(&big.sha256).await.unwrap();
        assert!(b.read_key(&sidecar).await.is_none(), "{}", b.name);
        assert!(b.read_key(&Backend::key(&big.sha256)).await.is_none());
    }
}
