//! The accept loop: HTTP/1.1 connections with bounded waits and a cap on
//! how many are open at once, so clients that connect and then stall
//! (slow-loris) cannot hold the server's sockets and memory forever.
//!
//! - A request head (request line and headers) must arrive within
//!   `header_read_timeout` of the server starting to wait for it; else the
//!   connection is closed. On a kept-alive connection the wait starts when
//!   the previous response is done, so this is also how long an idle
//!   connection stays open.
//! - A request body may pause for at most `body_idle_timeout` between two
//!   chunks; a stalled upload is then answered with an error.
//! - At most `max_connections` connections are served at once. When all
//!   slots are taken the server stops accepting: new connections wait in
//!   the kernel's listen queue (they are not refused) and are served in
//!   order as slots free up.
//!
//! Every accepted socket gets TCP_NODELAY (Nagle against delayed ACKs costs
//! ~40 ms per small request/response pair). On shutdown the loop stops
//! accepting, tells every connection to finish the request it is serving
//! and close, and returns once they all have.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::Service;
use tower_http::timeout::TimeoutBody;

use crate::guard::ArrivedOn;

/// The bounds of the accept loop (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub body_idle_timeout: Duration,
    pub max_connections: usize,
}

/// How long to wait before accepting again after the listener failed (out
/// of file descriptors, typically): a pause that lets connections close.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

pub async fn serve_connections(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A slot first, then accept: with the cap reached, connections wait
        // in the listen queue instead of being accepted and starved.
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (tcp, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {e}");
        }
        let arrived_on = tcp.local_addr().ok().map(ArrivedOn);
        let app = app.clone();
        let body_idle_timeout = limits.body_idle_timeout;
        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let mut req = req.map(|body| TimeoutBody::new(body_idle_timeout, body));
            if let Some(arrived_on) = arrived_on {
                req.extensions_mut().insert(arrived_on);
            }
            let mut app = app.clone();
            async move { Ok::<_, Infallible>(app.call(req).await.unwrap_or_else(|e| match e {})) }
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(tcp), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("connection ended with an error: {e}");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
