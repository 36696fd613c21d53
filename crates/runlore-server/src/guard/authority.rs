//! Host names as the guard compares them: the authority of a `Host` header,
//! of an `Origin`, or of a configured public name, reduced to a lowercase
//! host and an optional port.

use std::net::IpAddr;
use std::str::FromStr;

/// `host[:port]`, lowercased, without a trailing dot on a name (`localhost.`
/// is `localhost`) and without the brackets of an IPv6 literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    pub host: String,
    pub port: Option<u16>,
}

impl HostPort {
    /// Parses `host`, `host:port`, `[v6]` or `[v6]:port`. Userinfo
    /// (`user@host`), paths and empty hosts are refused: none of them is a
    /// valid `Host` header.
    pub fn parse(text: &str) -> Option<HostPort> {
        let text = text.trim();
        if text.is_empty() || text.contains(['@', '/', '?', '#', '\\']) {
            return None;
        }
        let authority = axum::http::uri::Authority::from_str(text).ok()?;
        let host = authority.host();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
        if host.is_empty() {
            return None;
        }
        // `host:` (a colon without digits) reads as no port, as in HTTP.
        Some(HostPort {
            host,
            port: authority.port_u16(),
        })
    }

    pub fn ip(&self) -> Option<IpAddr> {
        self.host.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
    }

    /// `localhost` or an address on the loopback interface (127.0.0.0/8,
    /// ::1, and 127.x written as an IPv4-mapped IPv6 address). Browsers
    /// never resolve `localhost` through DNS, so no web page can rebind it.
    pub fn is_loopback(&self) -> bool {
        self.host == "localhost" || self.ip().is_some_and(|ip| ip.is_loopback())
    }

    /// Whether `self` (a configured name) covers `requested`: the same host,
    /// and the same port when the configured name has one.
    pub fn covers(&self, requested: &HostPort) -> bool {
        self.host == requested.host && self.port.is_none_or(|port| requested.port == Some(port))
    }
}

/// An `Origin` header, `scheme://host[:port]`: its host and port, and the
/// default port of its scheme (80 for http, 443 for https). `None` for
/// `null`, other schemes, or anything that is not a bare origin.
pub fn parse_origin(text: &str) -> Option<(HostPort, u16)> {
    let (scheme, rest) = text.trim().split_once("://")?;
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    Some((HostPort::parse(rest)?, default_port))
}

/// Whether an `Origin` names the same host and port as the request's `Host`.
/// A port left out on either side is the default port of the origin's
/// scheme (a TLS proxy in front of the server forwards `Host: name`).
pub fn same_origin(origin: &str, host: &HostPort) -> bool {
    let Some((origin, default_port)) = parse_origin(origin) else {
        return false;
    };
    origin.host == host.host
        && origin.port.unwrap_or(default_port) == host.port.unwrap_or(default_port)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hp(text: &str) -> HostPort {
        HostPort::parse(text).unwrap_or_else(|| panic!("{text} should parse"))
    }

    #[test]
    fn hosts_are_normalised() {
        assert_eq!(
            hp("LocalHost.:5000"),
            HostPort {
                host: "localhost".into(),
                port: Some(5000)
            }
        );
        assert_eq!(hp("[::1]:80").host, "::1");
        assert_eq!(hp("runlore.example").port, None);
        for bad in ["", "user@localhost", "localhost/x", ":5000", "a b"] {
            assert!(HostPort::parse(bad).is_none(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn loopback_means_localhost_or_a_loopback_address() {
        for host in [
            "localhost",
            "127.0.0.1:5000",
            "127.8.9.10",
            "[::1]:5000",
            "[::ffff:127.0.0.1]",
        ] {
            assert!(hp(host).is_loopback(), "{host}");
        }
        for host in [
            "attacker-rebind.example:5000",
            "localhost.attacker.example",
            "10.0.0.1",
            "[::2]",
            "0.0.0.0",
        ] {
            assert!(!hp(host).is_loopback(), "{host}");
        }
    }

    #[test]
    fn a_configured_name_without_a_port_covers_every_port() {
        assert!(hp("runlore.example").covers(&hp("RUNLORE.example:8443")));
        assert!(hp("runlore.example:443").covers(&hp("runlore.example:443")));
        assert!(!hp("runlore.example:443").covers(&hp("runlore.example:5000")));
        assert!(!hp("runlore.example:443").covers(&hp("runlore.example")));
        assert!(!hp("runlore.example").covers(&hp("evil.runlore.example")));
    }

    #[test]
    fn origins_match_host_and_port() {
        let host = hp("127.0.0.1:5000");
        assert!(same_origin("http://127.0.0.1:5000", &host));
        assert!(!same_origin("http://127.0.0.1:5173", &host));
        assert!(!same_origin("http://localhost:5000", &host));
        assert!(!same_origin("null", &host));
        assert!(!same_origin("file://127.0.0.1:5000", &host));
        assert!(!same_origin("http://127.0.0.1:5000/path", &host));
        let behind_proxy = hp("runlore.example");
        assert!(same_origin("https://runlore.example", &behind_proxy));
        assert!(same_origin("https://runlore.example:443", &behind_proxy));
        assert!(!same_origin("https://runlore.example:8443", &behind_proxy));
        assert!(same_origin("http://localhost", &hp("localhost:80")));
    }
}
