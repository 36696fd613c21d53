//! Blob store throughput on a local folder: streaming a 256 MiB body in
//! (hash + write + fsync + move into place) and out (read + verify), in
//! 1 MiB chunks as the server receives them. `cargo bench -p runlore-blobs`;
//! criterion reports the throughput in MiB/s.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::StreamExt;
use runlore_core::{BlobStore, ByteStream};

const BODY: usize = 256 * 1024 * 1024;
const CHUNK: usize = 1024 * 1024;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn body() -> Bytes {
    // xorshift: incompressible, so no layer below can shortcut the work.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut out = Vec::with_capacity(BODY);
    while out.len() < BODY {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    Bytes::from(out)
}

/// The body in 1 MiB chunks with its first 8 bytes replaced by `tag`, so
/// every upload is a new blob rather than a cheap duplicate.
fn stream(body: &Bytes, tag: u64) -> ByteStream {
    let mut first = body.slice(..CHUNK).to_vec();
    first[..8].copy_from_slice(&tag.to_le_bytes());
    let body = body.clone();
    let rest = (1..BODY / CHUNK).map(move |i| Ok(body.slice(i * CHUNK..(i + 1) * CHUNK)));
    futures_util::stream::iter(std::iter::once(Ok(Bytes::from(first))).chain(rest)).boxed()
}

fn put_and_get(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("temp dir");
    let store: Arc<dyn BlobStore> =
        runlore_blobs::open(dir.path().to_str().expect("utf-8 path")).expect("store");
    let body = body();

    let mut group = c.benchmark_group("blobs_256MiB");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.throughput(Throughput::Bytes(BODY as u64));

    let mut tag = 0u64;
    group.bench_function("put", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    tag += 1;
                    let start = Instant::now();
                    let info = store.put(stream(&body, tag), None).await.expect("put");
                    total += start.elapsed();
                    // Keep the disk from filling up; not part of the figure.
                    store.delete(&info.sha256).await.expect("delete");
                }
                total
            })
        })
    });

    let stored = rt.block_on(store.put(stream(&body, 0), None)).expect("put");
    group.bench_function("get", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (_, mut download) = store.get(&stored.sha256).await.expect("get");
                let mut read = 0usize;
                while let Some(chunk) = download.next().await {
                    read += chunk.expect("verified chunk").len();
                }
                assert_eq!(read, BODY);
            })
        })
    });
    group.finish();
}

criterion_group!(benches, put_and_get);
criterion_main!(benches);
