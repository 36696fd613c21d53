//! `runlore server`: binds, says where it listens, serves until SIGINT/SIGTERM.

use std::net::IpAddr;

use anyhow::{Context, Result};
use runlore_core::Error;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::output;

pub async fn run(
    config: &Config,
    allow_remote: bool,
    durability: runlore_store::Durability,
) -> Result<()> {
    let host = config.host.value.trim();
    // `[::1]` as in URLs is accepted as well as `::1`.
    let bare_host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let port = config.port.value;
    if !is_loopback(bare_host).await {
        if !allow_remote {
            return Err(Error::invalid(format!(
                "refusing to listen on '{host}': it is not a loopback address and Runlore has no \
                 authentication yet, so anyone who can reach it could read and change all data; \
                 use --host 127.0.0.1 (the default), or pass --allow-remote on a trusted network"
            ))
            .into());
        }
        eprintln!(
            "warning: listening on '{host}' without authentication: anyone who can reach it can \
             read and change all data"
        );
        if config.public_names.value.is_empty() {
            // The Host check answers IP addresses the server is reached on,
            // not names: say so before a client meets a 403.
            eprintln!(
                "note: clients that reach this server by a host name (not an IP address) need \
                 that name given with --public-name"
            );
        }
    }
    for name in &config.public_names.value {
        runlore_server::guard::parse_public_name(name).map_err(Error::invalid)?;
    }
    let listener = TcpListener::bind((bare_host, port))
        .await
        .with_context(|| format!("cannot listen on {host} port {port}"))?;
    let address = listener
        .local_addr()
        .context("cannot read the listening address")?;
    let data_dir = config.data_dir.value.clone();
    let server_config = runlore_server::ServerConfig {
        data_dir: data_dir.clone(),
        db: config.db.value.0.clone(),
        ui_dir: config.ui_dir.value.clone(),
        artifacts: config.artifacts.value.clone(),
        public_names: config.public_names.value.clone(),
        durability,
        ..runlore_server::ServerConfig::default()
    };
    // Tests and benchmarks parse this line for the URL (port 0 included).
    output::println_flush(&format!(
        "Runlore listening on http://{address} (data: {}, db: {})",
        data_dir.display(),
        config.db.value.0
    ))?;
    runlore_server::serve(server_config, listener, runlore_server::shutdown_signal())
        .await
        .context("server stopped with an error")?;
    Ok(())
}

/// `localhost`, a loopback IP, or a name that resolves to loopback only.
async fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return ip.is_loopback();
    }
    match tokio::net::lookup_host((host, 0)).await {
        Ok(addrs) => {
            let addrs: Vec<_> = addrs.collect();
            !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback())
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_loopback_counts_as_local() {
        assert!(is_loopback("127.0.0.1").await);
        assert!(is_loopback("::1").await);
        assert!(is_loopback("localhost").await);
        assert!(!is_loopback("0.0.0.0").await);
        assert!(!is_loopback("::").await);
        assert!(!is_loopback("192.168.1.10").await);
    }
}
