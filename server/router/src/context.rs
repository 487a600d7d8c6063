//! The request as seen by the router.

use crate::normalize::normalize_path;
use std::borrow::Cow;
use std::net::IpAddr;

/// Request scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Protocol {
    /// plain http
    #[default]
    Http,
    /// http over TLS
    Https,
    /// a WebSocket upgrade over plain http
    Ws,
    /// a WebSocket upgrade over TLS
    Wss,
}

impl Protocol {
    /// `"http"`, `"https"`, `"ws"` or `"wss"` (the value of `net.protocol`).
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Https => "https",
            Protocol::Ws => "ws",
            Protocol::Wss => "wss",
        }
    }

    /// 80 or 443.
    pub fn default_port(self) -> u16 {
        match self {
            Protocol::Http | Protocol::Ws => 80,
            Protocol::Https | Protocol::Wss => 443,
        }
    }

    /// Without TLS.
    pub fn is_plain(self) -> bool {
        matches!(self, Protocol::Http | Protocol::Ws)
    }
}

/// Everything the router may look at. Building one borrows its inputs and
/// allocates only when the host has upper-case letters or the path needs
/// normalization.
#[derive(Debug, Clone)]
pub struct RequestContext<'a> {
    /// Method as received (compared case-sensitively, like Kong).
    pub method: &'a str,
    /// Host without port, ASCII lower-cased.
    pub host: Cow<'a, str>,
    /// Port given in the Host header, if any.
    pub host_port: Option<u16>,
    /// Normalized path (no query string).
    pub path: Cow<'a, str>,
    /// Raw query string (after `?`), if any.
    pub query: Option<&'a str>,
    /// Request headers in arrival order (a repeated header appears repeatedly).
    pub headers: &'a [(&'a str, &'a str)],
    /// Scheme.
    pub protocol: Protocol,
    /// Client address.
    pub src_ip: Option<IpAddr>,
    /// Client port.
    pub src_port: Option<u16>,
    /// Local address the request arrived on.
    pub dst_ip: Option<IpAddr>,
    /// Local port the request arrived on.
    pub dst_port: Option<u16>,
    /// TLS server name indication.
    pub sni: Option<&'a str>,
}

/// Split `host[:port]` (also `[v6]:port`). An unparsable port is dropped.
pub fn split_host_port(h: &str) -> (&str, Option<u16>) {
    if h.starts_with('[') {
        if let Some(end) = h.find(']') {
            let port = h[end + 1..].strip_prefix(':').and_then(|p| p.parse().ok());
            return (&h[..=end], port);
        }
        return (h, None);
    }
    match h.rfind(':') {
        Some(i) if !h[..i].contains(':') => (&h[..i], h[i + 1..].parse().ok()),
        _ => (h, None),
    }
}

impl<'a> RequestContext<'a> {
    /// A request with method, Host header value (port optional) and path
    /// (query string optional; an empty path is `/`). Protocol defaults to
    /// http, no headers.
    pub fn new(method: &'a str, host: &'a str, path_and_query: &'a str) -> Self {
        let (host, host_port) = split_host_port(host);
        let host = if host.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(host.to_ascii_lowercase())
        } else {
            Cow::Borrowed(host)
        };
        let (raw_path, query) = match memchr::memchr(b'?', path_and_query.as_bytes()) {
            Some(i) => (&path_and_query[..i], Some(&path_and_query[i + 1..])),
            None => (path_and_query, None),
        };
        let raw_path = if raw_path.is_empty() { "/" } else { raw_path };
        RequestContext {
            method,
            host,
            host_port,
            path: normalize_path(raw_path),
            query,
            headers: &[],
            protocol: Protocol::Http,
            src_ip: None,
            src_port: None,
            dst_ip: None,
            dst_port: None,
            sni: None,
        }
    }

    /// Set the request headers.
    pub fn with_headers(mut self, headers: &'a [(&'a str, &'a str)]) -> Self {
        self.headers = headers;
        self
    }

    /// Set the scheme.
    pub fn with_protocol(mut self, p: Protocol) -> Self {
        self.protocol = p;
        self
    }

    /// Set the client address.
    pub fn with_src(mut self, ip: IpAddr, port: u16) -> Self {
        self.src_ip = Some(ip);
        self.src_port = Some(port);
        self
    }

    /// Set the local address.
    pub fn with_dst(mut self, ip: IpAddr, port: u16) -> Self {
        self.dst_ip = Some(ip);
        self.dst_port = Some(port);
        self
    }

    /// Set the TLS SNI.
    pub fn with_sni(mut self, sni: &'a str) -> Self {
        self.sni = Some(sni);
        self
    }

    /// Port used for `host:port` route entries: the Host header's port, else
    /// the local port, else the scheme's default port.
    pub fn effective_port(&self) -> u16 {
        self.host_port
            .or(self.dst_port)
            .unwrap_or(self.protocol.default_port())
    }

    /// Values of a header, by Kong-normalized name (lower-case, `-` as `_`).
    pub fn header_values<'s>(&'s self, normalized: &'s str) -> impl Iterator<Item = &'a str> + 's {
        self.headers
            .iter()
            .filter(move |(n, _)| header_name_matches(n, normalized))
            .map(|(_, v)| *v)
    }
}

/// Whether a request header name equals a normalized name (ASCII
/// case-insensitive, `-` and `_` equivalent).
pub fn header_name_matches(name: &str, normalized: &str) -> bool {
    name.len() == normalized.len()
        && name.bytes().zip(normalized.bytes()).all(|(a, b)| {
            let a = if a == b'-' {
                b'_'
            } else {
                a.to_ascii_lowercase()
            };
            a == b
        })
}

/// Kong's header-name normalization: lower-case, `-` becomes `_`.
pub fn normalize_header_name(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b == b'-' {
                '_'
            } else {
                char::from(b.to_ascii_lowercase())
            }
        })
        .collect::<String>()
}
