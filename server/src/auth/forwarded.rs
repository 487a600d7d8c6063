//! What a reverse proxy in front says about the client: its address
//! (`X-Forwarded-For`), whether it came over TLS (`X-Forwarded-Proto`, or
//! `Forwarded: proto=`) and the host it asked for (`X-Forwarded-Host`). None of it is
//! believed without `--trust-forwarded`, nor when the direct peer is not one of the
//! `--trusted-proxies` (when that list is given).
//!
//! The client address is the right-most `X-Forwarded-For` entry that is not a trusted
//! proxy: every proxy appends the address it was connected from, so entries to the
//! left of the first untrusted one were written by the client and prove nothing. With
//! no `--trusted-proxies` (the default) only the direct peer is trusted, and the
//! right-most entry (the one it appended) is the client.

use std::net::{IpAddr, SocketAddr};

use axum::http::{header, HeaderMap};
use ipnet::IpNet;

use super::AuthSettings;

/// What Portico believes about a request's origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The client's address (for the audit log and sign-in throttling), or "unknown".
    pub client: String,
    /// Whether the client reached Portico over TLS.
    pub https: bool,
    /// The host the client asked for: `X-Forwarded-Host` from a trusted proxy, else
    /// `Host`; lower-cased.
    pub host: Option<String>,
}

/// Parses one `--trusted-proxies` entry: a CIDR block (`10.0.0.0/8`, `fd00::/8`) or a
/// single address.
pub fn parse_trusted_proxy(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    if let Ok(net) = s.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    s.parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| format!("\"{s}\" is not a CIDR block (10.0.0.0/8) or an IP address"))
}

fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`,
/// `[::1]:5678`) as some proxies write it.
fn hop(entry: &str) -> Option<IpAddr> {
    let e = entry.trim();
    e.parse::<IpAddr>()
        .ok()
        .or_else(|| e.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            e.strip_prefix('[')
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|r| r.parse().ok())
        })
        .map(canonical)
}

fn trusted(list: &[IpNet], ip: &IpAddr) -> bool {
    list.iter().any(|n| n.contains(ip))
}

fn header_values<'a>(headers: &'a HeaderMap, name: &str) -> impl Iterator<Item = &'a str> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
}

/// Whether a trusted proxy says the client came over TLS: the first
/// `X-Forwarded-Proto` value (the edge proxy's), or `proto=` of `Forwarded`.
fn proxy_says_https(headers: &HeaderMap) -> bool {
    if let Some(first) = header_values(headers, "x-forwarded-proto").next() {
        return first.eq_ignore_ascii_case("https");
    }
    header_values(headers, "forwarded")
        .next()
        .into_iter()
        .flat_map(|element| element.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .any(|(k, v)| {
            k.trim().eq_ignore_ascii_case("proto") && v.trim().trim_matches('"') == "https"
        })
}

/// What to believe about a request from `peer` (the TCP peer; `None` when unknown).
/// The control plane's own listener is plain HTTP: the request came over TLS only when
/// a trusted proxy says so.
pub fn origin(peer: Option<IpAddr>, headers: &HeaderMap, settings: &AuthSettings) -> Origin {
    let peer = peer.map(canonical);
    let list = &settings.trusted_proxies;
    let believe =
        settings.trust_forwarded && peer.is_some_and(|p| list.is_empty() || trusted(list, &p));
    let own_host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    if !believe {
        return Origin {
            client: peer.map_or_else(|| "unknown".into(), |p| p.to_string()),
            https: false,
            host: own_host,
        };
    }
    // Walk the chain from the right: each entry was appended by the proxy to its
    // right; stop at the first that is not a trusted proxy.
    let hops: Vec<&str> = header_values(headers, "x-forwarded-for")
        .filter(|e| !e.is_empty())
        .collect();
    let mut client = peer;
    for entry in hops.iter().rev() {
        let Some(ip) = hop(entry) else {
            // Not an address: written by the client, not by a proxy.
            break;
        };
        client = Some(ip);
        if !trusted(list, &ip) {
            break;
        }
    }
    let forwarded_host = header_values(headers, "x-forwarded-host")
        .next()
        .filter(|h| !h.is_empty())
        .map(str::to_ascii_lowercase);
    Origin {
        client: client.map_or_else(|| "unknown".into(), |c| c.to_string()),
        https: proxy_says_https(headers),
        host: forwarded_host.or(own_host),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(trust: bool, proxies: &[&str]) -> AuthSettings {
        AuthSettings {
            trust_forwarded: trust,
            trusted_proxies: proxies
                .iter()
                .map(|p| parse_trusted_proxy(p).unwrap())
                .collect(),
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    fn client(peer: &str, s: &AuthSettings, h: &HeaderMap) -> String {
        origin(Some(peer.parse().unwrap()), h, s).client
    }

    #[test]
    fn the_client_written_left_most_address_is_never_believed() {
        // The client wrote 6.6.6.6; the proxy at 127.0.0.1 appended 203.0.113.7.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7")]);
        assert_eq!(client("127.0.0.1", &settings(true, &[]), &h), "203.0.113.7");
        // Split over two headers, the same chain.
        let h2 = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "203.0.113.7"),
        ]);
        assert_eq!(
            client("127.0.0.1", &settings(true, &[]), &h2),
            "203.0.113.7"
        );
        // Without the flag: the peer.
        assert_eq!(client("127.0.0.1", &settings(false, &[]), &h), "127.0.0.1");
    }

    #[test]
    fn trusted_proxies_are_skipped_from_the_right() {
        // client 198.51.100.9 → CDN 10.1.2.3 → load balancer 10.0.0.2 → Portico.
        let s = settings(true, &["10.0.0.0/8", "192.0.2.1"]);
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.9, 10.1.2.3")]);
        assert_eq!(client("10.0.0.2", &s, &h), "198.51.100.9");
        // A peer outside the list is the client itself, whatever it writes.
        assert_eq!(client("198.51.100.50", &s, &h), "198.51.100.50");
        // Everyone in the chain trusted: the left-most.
        let h = headers(&[("x-forwarded-for", "10.9.9.9, 192.0.2.1")]);
        assert_eq!(client("10.0.0.2", &s, &h), "10.9.9.9");
        // Garbage stops the walk at the last address a proxy wrote.
        let h = headers(&[("x-forwarded-for", "1.1.1.1, not-an-ip, 10.3.3.3")]);
        assert_eq!(client("10.0.0.2", &s, &h), "10.3.3.3");
        // Ports and IPv4-mapped IPv6 addresses.
        let h = headers(&[("x-forwarded-for", "[2001:db8::1]:4711, ::ffff:10.4.4.4")]);
        assert_eq!(client("::ffff:10.0.0.2", &s, &h), "2001:db8::1");
        let h = headers(&[("x-forwarded-for", "203.0.113.8:1234")]);
        assert_eq!(client("10.0.0.2", &s, &h), "203.0.113.8");
    }

    #[test]
    fn proto_and_host_are_believed_only_from_a_trusted_proxy() {
        let h = headers(&[
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "Portico.Example"),
            ("host", "10.0.0.5:3000"),
        ]);
        let peer = Some("10.0.0.2".parse().unwrap());
        let o = origin(peer, &h, &settings(false, &[]));
        assert!(!o.https);
        assert_eq!(o.host.as_deref(), Some("10.0.0.5:3000"));
        let o = origin(peer, &h, &settings(true, &[]));
        assert!(o.https);
        assert_eq!(o.host.as_deref(), Some("portico.example"));
        let o = origin(peer, &h, &settings(true, &["192.168.0.0/16"]));
        assert!(!o.https, "the peer is not a trusted proxy");
        let forwarded = headers(&[("forwarded", "for=1.2.3.4;proto=https;host=x")]);
        assert!(origin(peer, &forwarded, &settings(true, &[])).https);
        let plain = headers(&[("x-forwarded-proto", "http, https")]);
        assert!(!origin(peer, &plain, &settings(true, &[])).https);
    }

    #[test]
    fn trusted_proxy_entries_parse() {
        assert_eq!(
            parse_trusted_proxy("10.1.2.3/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(parse_trusted_proxy("::1").unwrap().to_string(), "::1/128");
        assert!(parse_trusted_proxy("10.0.0.0/33").is_err());
        assert!(parse_trusted_proxy("proxy.local").is_err());
    }
}
