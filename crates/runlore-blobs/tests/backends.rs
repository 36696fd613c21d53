#![allow(clippy::unwrap_used)] // test helpers panic on failure by design
//! One suite, every backend: each test runs on a local folder and, when
//! `cargo xtask test` started an S3-compatible server
//! (`RUNLORE_TEST_S3_ENDPOINT`, with the `AWS_*` settings object_store
//! reads), on a fresh bucket there. Tampering goes behind the store's back
//! on each backend's own storage.

mod support;

use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use runlore_core::{BlobCheck, ErrorKind};
use support::backends::backends;
use support::*;

#[tokio::test]
async fn bytes_round_trip_stat_list_and_delete() {
    for b in backends().await {
        let body = noise(300_000, 1);
        let info = b.store.put(chunked(&body, 7_000), None).await.unwrap();
        assert_eq!(info.sha256, sha(&body), "{}", b.name);
        assert_eq!(
            b.store.get_bytes(&info.sha256).await.unwrap(),
            body,
            "{}",
            b.name
        );
        assert_eq!(b.store.stat(&info.sha256).await.unwrap(), Some(300_000));
        assert_eq!(
            b.store.check(&info.sha256).await.unwrap(),
            BlobCheck::Intact { size: 300_000 }
        );
        let empty = b.store.put_bytes(Bytes::new()).await.unwrap();
        assert_eq!(empty.size, 0);
        let mut listed = addrs(b.store.list().await.unwrap());
        listed.sort();
        let mut want = vec![(info.sha256.clone(), 300_000), (empty.sha256.clone(), 0)];
        want.sort();
        assert_eq!(listed, want, "{}", b.name);
        b.store.delete(&info.sha256).await.unwrap();
        b.store.delete(&info.sha256).await.unwrap();
        assert_eq!(
            b.store.stat(&info.sha256).await.unwrap(),
            None,
            "{}",
            b.name
        );
    }
}

#[tokio::test]
async fn byte_ranges_read_just_those_bytes() {
    for b in backends().await {
        let body = noise(3_000_000, 4);
        let info = b.store.put_bytes(Bytes::from(body.clone())).await.unwrap();
        for range in [
            0..1,
            10..2_000_000,
            2_999_000..3_000_000,
            1_048_575..1_048_577,
        ] {
            let mut stream = b
                .store
                .get_range(&info.sha256, range.clone())
                .await
                .unwrap();
            let mut got = Vec::new();
            while let Some(chunk) = stream.next().await {
                got.extend_from_slice(&chunk.unwrap());
            }
            let want = &body[range.start as usize..range.end as usize];
            assert!(
                got == want,
                "{}: range {range:?} read {} bytes",
                b.name,
                got.len()
            );
        }
    }
}

#[tokio::test]
async fn the_same_bytes_twenty_times_are_stored_once() {
    for b in backends().await {
        let body = noise(1024 * 1024, 2);
        for _ in 0..20 {
            b.store.put(chunked(&body, 64 * 1024), None).await.unwrap();
        }
        let listed = b.store.list().await.unwrap();
        assert_eq!(listed.len(), 1, "{}", b.name);
        assert_eq!(listed[0].size, 1024 * 1024);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_uploads_of_the_same_bytes_store_one_blob() {
    for b in backends().await {
        let body = Arc::new(noise(2 * 1024 * 1024, 3));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let store = Arc::clone(&b.store);
                let body = Arc::clone(&body);
                tokio::spawn(async move { store.put(chunked(&body, 256 * 1024), None).await })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap().sha256, sha(&body));
        }
        assert_eq!(b.store.list().await.unwrap().len(), 1, "{}", b.name);
        assert_eq!(b.store.get_bytes(&sha(&body)).await.unwrap(), *body);
    }
}

#[tokio::test]
async fn a_wrong_declared_hash_or_a_broken_body_stores_nothing() {
    for b in backends().await {
        let body = noise(100_000, 4);
        let wrong = sha(b"something else");
        let err = b
            .store
            .put(chunked(&body, 10_000), Some(&wrong))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{}", b.name);
        // Larger than one upload part, so parts were already sent.
        let good = noise(12 * 1024 * 1024, 5);
        let failure = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "client went away");
        let broken = chunked(&good, 1024 * 1024)
            .chain(futures_util::stream::iter([Err(failure)]))
            .boxed();
        let err = b.store.put(broken, None).await.unwrap_err();
        assert!(
            err.message().contains("client went away"),
            "{}: {err}",
            b.name
        );
        assert!(b.store.list().await.unwrap().is_empty(), "{}", b.name);
    }
}

#[tokio::test]
async fn tampered_and_missing_blobs_are_reported_not_served() {
    for b in backends().await {
        let body = noise(50_000, 6);
        let info = b.store.put_bytes(Bytes::from(body.clone())).await.unwrap();
        b.overwrite(&info.sha256, &noise(50_000, 7)).await;
        match b.store.check(&info.sha256).await.unwrap() {
            BlobCheck::Corrupt { actual, .. } => assert_ne!(actual, info.sha256),
            other => panic!("{}: {other:?}", b.name),
        }
        // A one-chunk blob is checked whole before the download opens.
        let Err(err) = b.store.get(&info.sha256).await else {
            panic!("{}: altered bytes were served", b.name);
        };
        assert_eq!(err.kind(), ErrorKind::Internal, "{}", b.name);
        assert!(b.store.get_bytes(&info.sha256).await.is_err(), "{}", b.name);

        b.remove(&info.sha256).await;
        assert_eq!(
            b.store.check(&info.sha256).await.unwrap(),
            BlobCheck::Missing
        );
        let Err(err) = b.store.get(&info.sha256).await else {
            panic!("{}: a missing blob was served", b.name);
        };
        assert_eq!(err.kind(), ErrorKind::NotFound, "{}", b.name);
        // Uploading the bytes again repairs the store.
        b.store.put_bytes(Bytes::from(body.clone())).await.unwrap();
        assert_eq!(b.store.get_bytes(&info.sha256).await.unwrap(), body);
    }
}

#[tokio::test]
async fn a_64_mib_body_streams_in_and_out() {
    for b in backends().await {
        let body = noise(64 * 1024 * 1024, 8);
        let info = b
            .store
            .put(chunked(&body, 1024 * 1024), None)
            .await
            .unwrap();
        let (size, mut stream) = b.store.get(&info.sha256).await.unwrap();
        assert_eq!(size, 64 * 1024 * 1024);
        let mut total = 0usize;
        let mut largest = 0usize;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.unwrap();
            total += chunk.len();
            largest = largest.max(chunk.len());
        }
        assert_eq!(total, body.len(), "{}", b.name);
        assert!(
            largest <= 16 * 1024 * 1024,
            "{}: a {largest}-byte chunk",
            b.name
        );
    }
}
