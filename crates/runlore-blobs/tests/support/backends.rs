//! Every backend a test should run on: a local folder always and, when
//! `cargo xtask test` started an S3-compatible server
//! (`RUNLORE_TEST_S3_ENDPOINT`, with the `AWS_*` settings object_store
//! reads), a fresh bucket there. Tampering goes behind the store's back on
//! each backend's own storage.

use std::sync::Arc;

use bytes::Bytes;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use runlore_core::{BlobStore, Sha256Hex};

/// The raw storage under a blob store, for tampering.
pub enum Raw {
    Local(tempfile::TempDir),
    S3(Arc<dyn ObjectStore>),
}

pub struct Backend {
    pub name: &'static str,
    pub store: Arc<dyn BlobStore>,
    pub raw: Raw,
}

/// The S3 prefix the store writes under (a prefix, so the PrefixStore path
/// is covered too).
const PREFIX: &str = "team/blobs";

impl Backend {
    /// A blob's key inside the store (the documented layout).
    pub fn key(sha256: &Sha256Hex) -> String {
        let hex = sha256.as_str();
        format!("sha256/{}/{}", &hex[..2], &hex[2..])
    }

    /// The key of a blob's chunk digests.
    pub fn sidecar_key(sha256: &Sha256Hex) -> String {
        format!("{}.chunks", Self::key(sha256))
    }

    fn s3_path(key: &str) -> Path {
        Path::from(format!("{PREFIX}/{key}"))
    }

    pub async fn write_key(&self, key: &str, bytes: &[u8]) {
        match &self.raw {
            Raw::Local(dir) => std::fs::write(dir.path().join(key), bytes).unwrap(),
            Raw::S3(store) => {
                let bytes = Bytes::copy_from_slice(bytes);
                store.put(&Self::s3_path(key), bytes.into()).await.unwrap();
            }
        }
    }

    /// The object at `key`, or `None` when there is none.
    pub async fn read_key(&self, key: &str) -> Option<Vec<u8>> {
        match &self.raw {
            Raw::Local(dir) => std::fs::read(dir.path().join(key)).ok(),
            Raw::S3(store) => match store.get(&Self::s3_path(key)).await {
                Ok(found) => Some(found.bytes().await.unwrap().to_vec()),
                Err(object_store::Error::NotFound { .. }) => None,
                Err(e) => panic!("reading {key}: {e}"),
            },
        }
    }

    pub async fn remove_key(&self, key: &str) {
        match &self.raw {
            Raw::Local(dir) => std::fs::remove_file(dir.path().join(key)).unwrap(),
            Raw::S3(store) => store.delete(&Self::s3_path(key)).await.unwrap(),
        }
    }

    pub async fn overwrite(&self, sha256: &Sha256Hex, bytes: &[u8]) {
        self.write_key(&Self::key(sha256), bytes).await;
    }

    pub async fn remove(&self, sha256: &Sha256Hex) {
        self.remove_key(&Self::key(sha256)).await;
    }
}

pub async fn backends() -> Vec<Backend> {
    let (dir, local) = super::open();
    let mut all = vec![Backend {
        name: "local",
        store: local,
        raw: Raw::Local(dir),
    }];
    match std::env::var("RUNLORE_TEST_S3_ENDPOINT") {
        Ok(endpoint) => {
            let bucket = format!("runlore-{}", uuid_like());
            // The server makes buckets on a plain PUT; object_store never
            // creates them.
            let created = reqwest::Client::new()
                .put(format!("{endpoint}/{bucket}"))
                .send()
                .await
                .unwrap();
            assert!(
                created.status().is_success(),
                "creating bucket: {}",
                created.status()
            );
            let store = runlore_blobs::open(&format!("s3://{bucket}/{PREFIX}")).unwrap();
            let raw = object_store::aws::AmazonS3Builder::from_env()
                .with_bucket_name(&bucket)
                .build()
                .unwrap();
            all.push(Backend {
                name: "s3",
                store,
                raw: Raw::S3(Arc::new(raw)),
            });
        }
        Err(_) => eprintln!(
            "note: RUNLORE_TEST_S3_ENDPOINT is not set, so only the local backend runs \
             (`cargo xtask test` starts an S3 server)"
        ),
    }
    all
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:x}{:x}", nanos, std::process::id())
}
