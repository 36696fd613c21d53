#![allow(clippy::unwrap_used)] // test helpers panic on failure by design
//! The blob store on a real temporary folder: what a user of the store (and
//! of the disk behind it) can observe.

mod support;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use runlore_core::{BlobCheck, BlobStore, ByteStream, ErrorKind};
use sha2::{Digest, Sha256};
use support::*;

#[tokio::test]
async fn bytes_round_trip_and_are_listed() {
    let (dir, store) = open();
    let body = b"hello, blobs".to_vec();
    let info = store.put(chunked(&body, 5), None).await.unwrap();
    assert_eq!(info.sha256, sha(&body));
    assert_eq!(info.size, body.len() as u64);
    assert!(blob_file(dir.path(), &info.sha256).is_file());

    let small = store.put_bytes(Bytes::from_static(b"small")).await.unwrap();
    assert_eq!(small.sha256, sha(b"small"));

    assert_eq!(store.get_bytes(&info.sha256).await.unwrap(), body);
    let (size, stream) = store.get(&small.sha256).await.unwrap();
    assert_eq!(size, 5);
    assert_eq!(read_clean(stream).await, b"small");
    assert_eq!(store.stat(&info.sha256).await.unwrap(), Some(12));
    assert_eq!(
        store.check(&info.sha256).await.unwrap(),
        BlobCheck::Intact { size: 12 }
    );

    let listed = store.list().await.unwrap();
    assert!(listed.iter().all(|b| b.modified.is_some()), "{listed:?}");
    let listed: Vec<_> = listed.into_iter().map(|b| (b.sha256, b.size)).collect();
    let mut expected = vec![(info.sha256, info.size), (small.sha256, small.size)];
    expected.sort();
    assert_eq!(listed, expected);
    assert!(files_under(dir.path(), "tmp").is_empty());
}

#[tokio::test]
async fn the_empty_body_is_a_blob_too() {
    let (_dir, store) = open();
    let info = store.put(chunked(b"", 1), None).await.unwrap();
    assert_eq!(info.sha256, sha(b""));
    assert_eq!(info.size, 0);
    let (size, stream) = store.get(&info.sha256).await.unwrap();
    assert_eq!(size, 0);
    assert!(read_clean(stream).await.is_empty());
}

#[tokio::test]
async fn the_same_bytes_are_stored_once() {
    let (dir, store) = open();
    let body = noise(100_000, 1);
    let first = store.put(chunked(&body, 4096), None).await.unwrap();
    let second = store
        .put(chunked(&body, 777), Some(&first.sha256))
        .await
        .unwrap();
    let third = store.put_bytes(Bytes::from(body.clone())).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(first, third);
    assert_eq!(addrs(store.list().await.unwrap()), addrs(vec![first]));
    assert_eq!(files_under(dir.path(), "sha256").len(), 1);
    assert!(files_under(dir.path(), "tmp").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_uploads_of_the_same_bytes_store_one_blob() {
    let (dir, store) = open();
    let body = Arc::new(noise(3 * 1024 * 1024 + 17, 2));
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let store = Arc::clone(&store);
            let body = Arc::clone(&body);
            tokio::spawn(async move {
                if i % 2 == 0 {
                    store.put(chunked(&body, 64 * 1024), None).await
                } else {
                    store.put_bytes(Bytes::from(body.to_vec())).await
                }
            })
        })
        .collect();
    for task in tasks {
        let info = task.await.unwrap().unwrap();
        assert_eq!(info.sha256, sha(&body));
    }
    let listed = store.list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].size, body.len() as u64);
    // The blob and its chunk digests, nothing half-written beside them.
    let blob = blob_file(dir.path(), &sha(&body));
    let mut want = vec![blob.clone(), blob.with_extension("chunks")];
    want.iter_mut()
        .for_each(|p| *p = p.strip_prefix(dir.path()).unwrap().to_owned());
    let mut files = files_under(dir.path(), "sha256");
    files.sort();
    assert_eq!(files, want);
    assert!(files_under(dir.path(), "tmp").is_empty());
    assert_eq!(store.get_bytes(&sha(&body)).await.unwrap(), body.as_slice());
}

#[tokio::test]
async fn a_wrong_expected_digest_stores_nothing() {
    let (dir, store) = open();
    let body = noise(10_000, 3);
    let claimed = sha(b"something else");
    let err = store
        .put(chunked(&body, 1000), Some(&claimed))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().contains(claimed.as_str()), "{err}");
    assert!(err.message().contains(sha(&body).as_str()), "{err}");
    assert!(store.list().await.unwrap().is_empty());
    assert_eq!(store.stat(&sha(&body)).await.unwrap(), None);
    assert!(files_under(dir.path(), "sha256").is_empty());
    assert!(files_under(dir.path(), "tmp").is_empty());
}

/// A body that yields `good` bytes, then fails (a client that disconnects).
fn failing_body(good: &[u8]) -> ByteStream {
    let failure = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "client went away");
    chunked(good, 1024 * 1024)
        .chain(futures_util::stream::iter([Err(failure)]))
        .boxed()
}

#[tokio::test]
async fn a_body_that_fails_half_way_stores_nothing() {
    let (dir, store) = open();
    // Larger than one upload part, so parts were already written.
    let good = noise(20 * 1024 * 1024, 4);
    let err = store.put(failing_body(&good), None).await.unwrap_err();
    assert!(err.message().contains("client went away"), "{err}");
    assert!(store.list().await.unwrap().is_empty());
    assert!(files_under(dir.path(), "sha256").is_empty());
    assert!(files_under(dir.path(), "tmp").is_empty());
    // The failure left no trace that would stop the same bytes going in.
    let info = store.put(chunked(&good, 1024 * 1024), None).await.unwrap();
    assert_eq!(info.sha256, sha(&good));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_upload_leaves_nothing_behind() {
    let (dir, store) = open();
    // A body that sends 10 MiB and then stalls forever (a hung client).
    let body = chunked(&noise(10 * 1024 * 1024, 5), 1024 * 1024)
        .chain(futures_util::stream::pending())
        .boxed();
    let put = tokio::spawn({
        let store = Arc::clone(&store);
        async move { store.put(body, None).await }
    });
    // The upload is under way: its temporary file exists...
    let mut seen = false;
    for _ in 0..100 {
        seen = !files_under(dir.path(), "tmp").is_empty();
        if seen {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(seen, "an upload in progress writes under tmp/");
    // ...until the request is dropped (the server cancels it); cleanup runs
    // in the background, so give it a moment.
    put.abort();
    assert!(put.await.unwrap_err().is_cancelled());
    for _ in 0..100 {
        if files_under(dir.path(), "tmp").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(files_under(dir.path(), "tmp").is_empty());
    assert!(store.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn bytes_altered_on_disk_are_detected() {
    let (dir, store) = open();
    let body = noise(50_000, 6);
    let info = store.put_bytes(Bytes::from(body.clone())).await.unwrap();
    // Flip one byte behind the store's back, keeping the length.
    let mut altered = body.clone();
    altered[25_000] ^= 0x55;
    std::fs::write(blob_file(dir.path(), &info.sha256), &altered).unwrap();

    // One chunk, so the download fails before any byte is handed on.
    let Err(err) = store.get(&info.sha256).await else {
        panic!("a corrupt blob must not be served");
    };
    assert_eq!(err.kind(), ErrorKind::Internal);
    let message = err.message();
    assert!(message.contains(info.sha256.as_str()), "{message}");
    assert!(message.contains("corrupt"), "{message}");
    let Err(err) = store.get_range(&info.sha256, 0..10).await else {
        panic!("a range of a corrupt blob must not be served");
    };
    assert_eq!(err.kind(), ErrorKind::Internal);

    assert_eq!(
        store.check(&info.sha256).await.unwrap(),
        BlobCheck::Corrupt {
            actual: sha(&altered),
            size: body.len() as u64
        }
    );
    let err = store.get_bytes(&info.sha256).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Internal);
}

#[tokio::test]
async fn a_torn_blob_is_repaired_by_the_next_upload() {
    let (dir, store) = open();
    let body = noise(40_000, 7);
    let info = store.put_bytes(Bytes::from(body.clone())).await.unwrap();
    let file = blob_file(dir.path(), &info.sha256);
    std::fs::write(&file, &body[..1000]).unwrap();
    store.put(chunked(&body, 4096), None).await.unwrap();
    assert_eq!(std::fs::read(&file).unwrap(), body);
    std::fs::write(&file, b"").unwrap();
    store.put_bytes(Bytes::from(body.clone())).await.unwrap();
    assert_eq!(store.get_bytes(&info.sha256).await.unwrap(), body);
}

#[tokio::test]
async fn a_blob_deleted_on_disk_is_missing() {
    let (dir, store) = open();
    let info = store
        .put_bytes(Bytes::from_static(b"gone soon"))
        .await
        .unwrap();
    std::fs::remove_file(blob_file(dir.path(), &info.sha256)).unwrap();

    let Err(err) = store.get(&info.sha256).await else {
        panic!("get of a missing blob must fail");
    };
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.message(), format!("blob '{}' not found", info.sha256));
    let err = store.get_bytes(&info.sha256).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(store.check(&info.sha256).await.unwrap(), BlobCheck::Missing);
    assert_eq!(store.stat(&info.sha256).await.unwrap(), None);
    assert!(store.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn delete_removes_a_blob_and_tolerates_missing_ones() {
    let (dir, store) = open();
    let keep = store.put_bytes(Bytes::from_static(b"keep")).await.unwrap();
    let drop = store.put_bytes(Bytes::from_static(b"drop")).await.unwrap();
    store.delete(&drop.sha256).await.unwrap();
    store.delete(&drop.sha256).await.unwrap();
    assert!(!blob_file(dir.path(), &drop.sha256).exists());
    assert_eq!(addrs(store.list().await.unwrap()), addrs(vec![keep]));
    // Deleted bytes can be stored again.
    assert_eq!(
        store.put_bytes(Bytes::from_static(b"drop")).await.unwrap(),
        drop
    );
}

#[tokio::test]
async fn list_ignores_files_outside_the_layout() {
    let (dir, store) = open();
    let info = store.put_bytes(Bytes::from_static(b"real")).await.unwrap();
    let hex = info.sha256.as_str();
    for stray in [
        "README.txt".to_owned(),
        "sha256/notes.txt".to_owned(),
        format!("sha256/{}/{}.bak", &hex[..2], &hex[2..]),
        format!("sha256/{}/{}", hex[..2].to_uppercase(), &hex[2..]),
        format!("sha256/{}/{}", &hex[..3], &hex[3..]),
        format!("other/{}/{}", &hex[..2], &hex[2..]),
    ] {
        let path = dir.path().join(stray);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"stray").unwrap();
    }
    assert_eq!(addrs(store.list().await.unwrap()), addrs(vec![info]));
}

#[tokio::test]
async fn blobs_survive_reopening_the_folder() {
    let (dir, store) = open();
    let info = store
        .put_bytes(Bytes::from_static(b"durable"))
        .await
        .unwrap();
    drop(store);
    let reopened = runlore_blobs::ObjectBlobStore::local(dir.path()).unwrap();
    assert_eq!(reopened.get_bytes(&info.sha256).await.unwrap(), "durable");
    assert_eq!(addrs(reopened.list().await.unwrap()), addrs(vec![info]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_64_mib_body_streams_through_in_1_mib_chunks() {
    let (_dir, store) = open();
    let body = noise(64 * 1024 * 1024, 8);
    let digest = sha(&body);
    let info = store
        .put(chunked(&body, 1024 * 1024), Some(&digest))
        .await
        .unwrap();
    assert_eq!(info.sha256, digest);
    assert_eq!(info.size, body.len() as u64);

    let (size, mut stream) = store.get(&digest).await.unwrap();
    assert_eq!(size, body.len() as u64);
    // Hash the download independently rather than holding a second copy.
    let mut hasher = Sha256::new();
    let mut read = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        assert_eq!(chunk[..], body[read..read + chunk.len()]);
        hasher.update(&chunk);
        read += chunk.len();
    }
    assert_eq!(read, body.len());
    assert_eq!(hex::encode(hasher.finalize()), digest.as_str());
    assert_eq!(
        store.check(&digest).await.unwrap(),
        BlobCheck::Intact {
            size: body.len() as u64
        }
    );
}
