//! What the CLI's commands work on, opened once per command: a server
//! (one `HttpStore` for metadata and artifacts), or the local database
//! (through `runlore_store::open`, the one place that picks a backend) whose
//! stores the metadata commands and the local artifact service share, so
//! one command never opens the database twice.

use std::sync::{Arc, OnceLock};

use anyhow::Result;
use runlore_core::MetadataStore;
use runlore_core::artifact_service::ArtifactService;

use crate::config::Config;

/// The opened stores of one command; cheap to clone.
#[derive(Clone)]
pub struct Backend {
    inner: Arc<Inner>,
}

enum Place {
    Server(Arc<runlore_client::HttpStore>),
    Local {
        opened: runlore_store::OpenedStore,
        /// Where blobs live (`artifacts`, else `<data_dir>/blobs`).
        blobs: String,
    },
}

struct Inner {
    place: Place,
    /// The local artifact service, made on first use so that commands that
    /// never touch artifacts never open the blob store.
    local_service: OnceLock<Arc<dyn ArtifactService>>,
}

impl Backend {
    /// Opens the configured place: `server`, else the `db` database.
    pub async fn open(config: &Config) -> Result<Backend> {
        let place = match &config.server.value {
            Some(url) => Place::Server(Arc::new(runlore_client::HttpStore::new(url)?)),
            None => {
                let store_config = runlore_store::StoreConfig {
                    db: config.db.value.0.clone(),
                    ..runlore_store::StoreConfig::in_data_dir(&config.data_dir.value)
                };
                Place::Local {
                    opened: runlore_store::open(&store_config).await?,
                    blobs: runlore_server::blob_location(
                        &config.data_dir.value,
                        config.artifacts.value.as_deref(),
                    ),
                }
            }
        };
        Ok(Backend {
            inner: Arc::new(Inner {
                place,
                local_service: OnceLock::new(),
            }),
        })
    }

    pub fn metadata(&self) -> Arc<dyn MetadataStore> {
        match &self.inner.place {
            Place::Server(http) => Arc::clone(http) as Arc<dyn MetadataStore>,
            Place::Local { opened, .. } => Arc::clone(&opened.metadata),
        }
    }

    /// The artifact service on the same stores as [`Backend::metadata`].
    pub fn artifacts(&self) -> runlore_core::Result<Arc<dyn ArtifactService>> {
        let (opened, blobs) = match &self.inner.place {
            Place::Server(http) => return Ok(Arc::clone(http) as Arc<dyn ArtifactService>),
            Place::Local { opened, blobs } => (opened, blobs),
        };
        if let Some(service) = self.inner.local_service.get() {
            return Ok(Arc::clone(service));
        }
        let service: Arc<dyn ArtifactService> =
            Arc::new(runlore_server::local_artifacts::LocalArtifacts {
                store: Arc::clone(&opened.metadata),
                index: Arc::clone(&opened.artifacts),
                models: Arc::clone(&opened.models),
                blobs: runlore_blobs::open(blobs)?,
            });
        // A racing first use made an equal service; either one will do.
        Ok(Arc::clone(self.inner.local_service.get_or_init(|| service)))
    }
}
