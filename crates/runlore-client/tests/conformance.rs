//! The store conformance suite (`runlore-conformance`) through `HttpStore`
//! against the real server (in-process, loopback port 0, a temporary data
//! dir): what a store does, the network client does too.

#![allow(clippy::unwrap_used)] // test helpers panic on failure by design

use std::sync::Arc;

use runlore_client::HttpStore;
use runlore_conformance::{Opened, conformance_suite};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Keeps the server's folder and its stop signal for the case's length.
struct Running {
    _stop: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

async fn open() -> Option<Opened> {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let config = runlore_server::ServerConfig {
        data_dir: dir.path().join("data"),
        ..runlore_server::ServerConfig::default()
    };
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
        };
        runlore_server::serve(config, listener, shutdown)
            .await
            .unwrap();
    });
    let store = HttpStore::new(&url).unwrap();
    store.health().await.unwrap();
    Some(Opened::new(
        Arc::new(store),
        Running {
            _stop: stop,
            _dir: dir,
        },
    ))
}

conformance_suite!(open);
