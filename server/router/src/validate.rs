//! Route validation (and compilation into matcher-ready form).
//!
//! Every rule produces a [`RouteError`] naming the route (its id), the field
//! (with the element index, e.g. `paths[1]`) and the broken rule.
//! [`validate_route`] is usable on its own, e.g. by a control plane when a
//! route is saved.

use crate::context::normalize_header_name;
use crate::expr::{self, Expr, Predicate};
use crate::lazy_regex::LazyRegex;
use crate::model::RouteConfig;
use crate::normalize::normalize_config_prefix;
use std::fmt;

/// A validation failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteError {
    /// Route id.
    pub route: String,
    /// Offending field, e.g. `hosts[0]`.
    pub field: String,
    /// The rule that was broken.
    pub message: String,
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "route {}: {}: {}", self.route, self.field, self.message)
    }
}

impl std::error::Error for RouteError {}

/// Largest accepted expression priority (2^46 - 1), as in Kong.
pub const MAX_EXPRESSION_PRIORITY: u64 = (1u64 << 46) - 1;

/// Accepted `https_redirect_status_code` values.
pub const REDIRECT_CODES: [u16; 5] = [426, 301, 302, 307, 308];

/// Validate one route.
pub fn validate_route(route: &RouteConfig) -> Result<(), Vec<RouteError>> {
    compile_route(route).map(|_| ())
}

#[derive(Debug, Clone)]
pub(crate) enum HostKind {
    /// exact host (lower-case)
    Exact(String),
    /// `*.example.com` stored as `example.com`
    Suffix(String),
    /// `example.*` stored as `example`
    Prefix(String),
}

#[derive(Debug, Clone)]
pub(crate) struct HostPattern {
    pub kind: HostKind,
    pub port: Option<u16>,
    pub raw: String,
}

impl HostPattern {
    pub fn matches(&self, host: &str, port: u16) -> bool {
        if let Some(p) = self.port {
            if p != port {
                return false;
            }
        }
        match &self.kind {
            HostKind::Exact(h) => host == h,
            HostKind::Suffix(s) => {
                host.len() > s.len()
                    && host.ends_with(s.as_str())
                    && host.as_bytes().get(host.len() - s.len() - 1) == Some(&b'.')
            }
            HostKind::Prefix(p) => {
                host.len() > p.len()
                    && host.starts_with(p.as_str())
                    && host.as_bytes().get(p.len()) == Some(&b'.')
            }
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum PathPattern {
    /// plain prefix (percent-normalized)
    Prefix(String),
    /// `~` regex, compiled as `^` + pattern
    Regex {
        re: LazyRegex,
        literal_prefix: String,
    },
}

/// Paths of one route that share a priority (Kong splits such routes).
#[derive(Debug, Clone)]
pub(crate) struct PathGroup {
    /// indexes into the route's `paths` with the compiled pattern
    pub paths: Vec<(usize, PathPattern)>,
    pub is_regex: bool,
    pub prefix_len: usize,
}

#[derive(Debug, Clone)]
pub(crate) enum HeaderValue {
    /// ASCII-lower-cased value, compared case-insensitively
    Exact(String),
    /// `~*` value: case-insensitive, unanchored regex
    Regex(LazyRegex),
}

impl HeaderValue {
    pub fn matches(&self, v: &str) -> bool {
        match self {
            HeaderValue::Exact(c) => {
                if v.is_ascii() {
                    v.eq_ignore_ascii_case(c)
                } else {
                    v.to_lowercase() == *c
                }
            }
            HeaderValue::Regex(re) => re.is_match(v),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct HeaderMatcher {
    /// Kong-normalized name (lower-case, `_` for `-`)
    pub name: String,
    pub values: Vec<HeaderValue>,
}

#[derive(Debug, Clone)]
pub(crate) struct Traditional {
    pub methods: Vec<String>,
    pub hosts: Vec<HostPattern>,
    pub headers: Vec<HeaderMatcher>,
    /// at least one group (an empty one when the route has no paths)
    pub groups: Vec<PathGroup>,
}

#[derive(Debug, Clone)]
pub(crate) enum Compiled {
    Traditional(Traditional),
    Expression {
        expr: Expr<Predicate>,
        priority: u64,
    },
}

/// Protocol handling derived from `protocols` (Kong's compat rules): a route
/// whose only protocol is `https` matches plain http too (so that the
/// gateway can redirect); otherwise the request protocol must be listed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Protocols {
    pub http: bool,
    pub https: bool,
    pub https_only: bool,
    /// WebSocket upgrades only (Kong's `ws`/`wss` routes); `http`/`https` routes take
    /// upgrades too.
    pub ws: bool,
    pub wss: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledRoute {
    pub compiled: Compiled,
    pub protocols: Protocols,
}

struct Errs<'a> {
    route: &'a str,
    list: Vec<RouteError>,
}

impl Errs<'_> {
    fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.list.push(RouteError {
            route: self.route.to_string(),
            field: field.into(),
            message: message.into(),
        });
    }
}

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Compile (and thereby validate) one route.
pub(crate) fn compile_route(r: &RouteConfig) -> Result<CompiledRoute, Vec<RouteError>> {
    let mut e = Errs {
        route: &r.id,
        list: Vec::new(),
    };
    if r.id.is_empty() {
        e.push("id", "must not be empty");
    }
    // protocols
    let mut protocols = Protocols {
        http: false,
        https: false,
        https_only: false,
        ws: false,
        wss: false,
    };
    if r.protocols.is_empty() {
        e.push(
            "protocols",
            "must contain at least one of http, https, ws, wss",
        );
    }
    for (i, p) in r.protocols.iter().enumerate() {
        match p.as_str() {
            "http" => protocols.http = true,
            "https" => protocols.https = true,
            "ws" => protocols.ws = true,
            "wss" => protocols.wss = true,
            other => e.push(
                format!("protocols[{i}]"),
                format!("unknown protocol `{other}` (expected http, https, ws or wss)"),
            ),
        }
    }
    if (protocols.ws || protocols.wss) && (protocols.http || protocols.https) {
        e.push(
            "protocols",
            "ws and wss cannot be combined with http or https",
        );
    }
    if protocols.https && !protocols.http {
        protocols.https_only = true;
        protocols.http = true;
    }
    if !REDIRECT_CODES.contains(&r.https_redirect_status_code) {
        e.push(
            "https_redirect_status_code",
            format!(
                "{} is not one of 426, 301, 302, 307, 308",
                r.https_redirect_status_code
            ),
        );
    }

    let compiled = if let Some(src) = &r.expression {
        for (field, set) in [
            ("methods", !r.methods.is_empty()),
            ("hosts", !r.hosts.is_empty()),
            ("paths", !r.paths.is_empty()),
            ("headers", !r.headers.is_empty()),
        ] {
            if set {
                e.push(field, "cannot be combined with `expression`");
            }
        }
        if r.regex_priority != 0 {
            e.push(
                "regex_priority",
                "cannot be used with `expression` (use `priority`)",
            );
        }
        let priority = r.priority.unwrap_or(0);
        if priority > MAX_EXPRESSION_PRIORITY {
            e.push(
                "priority",
                format!("{priority} is out of range 0..={MAX_EXPRESSION_PRIORITY}"),
            );
        }
        match expr::compile(src) {
            Ok(expr) => Some(Compiled::Expression { expr, priority }),
            Err(err) => {
                e.push("expression", err.to_string());
                None
            }
        }
    } else {
        if r.priority.is_some() {
            e.push("priority", "only applies to expression routes");
        }
        if r.methods.is_empty() && r.hosts.is_empty() && r.paths.is_empty() && r.headers.is_empty()
        {
            e.push(
                "methods, hosts, headers, paths",
                "must set at least one of methods, hosts, headers, paths (or an expression)",
            );
        }
        compile_traditional(r, &mut e).map(Compiled::Traditional)
    };
    match compiled {
        Some(compiled) if e.list.is_empty() => Ok(CompiledRoute {
            compiled,
            protocols,
        }),
        _ => Err(e.list),
    }
}

fn compile_traditional(r: &RouteConfig, e: &mut Errs<'_>) -> Option<Traditional> {
    let before = e.list.len();
    // methods
    for (i, m) in r.methods.iter().enumerate() {
        if m.is_empty() || !m.bytes().all(|b| b.is_ascii_uppercase()) {
            e.push(
                format!("methods[{i}]"),
                format!("invalid method `{m}`: must be an upper-case token (A-Z)"),
            );
        }
    }
    // hosts
    let mut hosts = Vec::with_capacity(r.hosts.len());
    for (i, h) in r.hosts.iter().enumerate() {
        match compile_host(h) {
            Ok(p) => hosts.push(p),
            Err(msg) => e.push(format!("hosts[{i}]"), msg),
        }
    }
    // headers
    let mut headers = Vec::with_capacity(r.headers.len());
    for (name, values) in &r.headers {
        let field = || format!("headers.{name}");
        if name.is_empty() || !name.bytes().all(is_token_char) {
            e.push(field(), "header name must be a non-empty token");
            continue;
        }
        if name.eq_ignore_ascii_case("host") {
            e.push(
                field(),
                "cannot contain `host` header, which must be specified in the `hosts` attribute",
            );
            continue;
        }
        if values.is_empty() {
            e.push(field(), "must have at least one value");
        }
        let mut vals = Vec::with_capacity(values.len());
        for (j, v) in values.iter().enumerate() {
            if let Some(pat) = v.strip_prefix("~*") {
                match LazyRegex::new(pat, true) {
                    Ok(re) => vals.push(HeaderValue::Regex(re)),
                    Err(err) => e.push(
                        format!("headers.{name}[{j}]"),
                        format!("invalid regex `{pat}`: {}", one_line(&err.to_string())),
                    ),
                }
            } else {
                vals.push(HeaderValue::Exact(v.to_ascii_lowercase()));
            }
        }
        headers.push(HeaderMatcher {
            name: normalize_header_name(name),
            values: vals,
        });
    }
    // paths, grouped by priority (regex vs prefix length)
    let mut groups: Vec<PathGroup> = Vec::new();
    for (i, p) in r.paths.iter().enumerate() {
        let field = || format!("paths[{i}]");
        let (pattern, is_regex, len) = if let Some(pat) = p.strip_prefix('~') {
            if !pat.starts_with('/') {
                e.push(field(), "regex path must start with `~/`");
                continue;
            }
            match LazyRegex::new(&format!("^{pat}"), false) {
                Ok(re) => (
                    PathPattern::Regex {
                        re,
                        literal_prefix: regex_literal_prefix(pat),
                    },
                    true,
                    0,
                ),
                Err(err) => {
                    e.push(
                        field(),
                        format!(
                            "invalid regex `{pat}` (look-around and back-references are not supported): {}",
                            one_line(&err.to_string())
                        ),
                    );
                    continue;
                }
            }
        } else {
            if !p.starts_with('/') {
                e.push(field(), "path must start with `/` (prefix) or `~/` (regex)");
                continue;
            }
            if p.contains("//") {
                e.push(field(), "must not have empty segments (`//`)");
                continue;
            }
            if let Some(bad) = invalid_percent(p) {
                e.push(field(), format!("invalid percent-encoding at byte {bad}"));
                continue;
            }
            if p.contains('?') || p.contains('#') {
                e.push(field(), "must not contain a query string or fragment");
                continue;
            }
            let n = normalize_config_prefix(p).into_owned();
            let len = n.len();
            (PathPattern::Prefix(n), false, len)
        };
        match groups
            .iter_mut()
            .find(|g| g.is_regex == is_regex && g.prefix_len == len)
        {
            Some(g) => g.paths.push((i, pattern)),
            None => groups.push(PathGroup {
                paths: vec![(i, pattern)],
                is_regex,
                prefix_len: len,
            }),
        }
    }
    if groups.is_empty() {
        groups.push(PathGroup {
            paths: Vec::new(),
            is_regex: false,
            prefix_len: 0,
        });
    }
    if e.list.len() != before {
        return None;
    }
    Some(Traditional {
        methods: r.methods.clone(),
        hosts,
        headers,
        groups,
    })
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn invalid_percent(p: &str) -> Option<usize> {
    let b = p.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let ok = b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
            if !ok {
                return Some(i);
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    None
}

/// Literal text every match of the `^`-anchored regex must start with
/// (conservative: empty when unsure, e.g. with any `|`).
pub(crate) fn regex_literal_prefix(pat: &str) -> String {
    if pat.contains('|') {
        return String::new();
    }
    let mut out = String::new();
    let mut chars = pat.chars().peekable();
    while let Some(c) = chars.next() {
        if "\\.+*?()[]{}^$#".contains(c) || c.is_whitespace() {
            break;
        }
        if matches!(chars.peek(), Some('?' | '*' | '{')) {
            break;
        }
        out.push(c);
    }
    out
}

fn compile_host(h: &str) -> Result<HostPattern, String> {
    if h.is_empty() {
        return Err("host must not be empty".to_string());
    }
    let (name, port) = if let Some(rest) = h.strip_prefix('[') {
        // [ipv6]:port
        let end = rest
            .find(']')
            .ok_or_else(|| format!("invalid host `{h}`: missing `]`"))?;
        let addr = &rest[..end];
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("invalid IPv6 host `{h}`"));
        }
        let port = match &rest[end + 1..] {
            "" => None,
            p => Some(parse_port(
                p.strip_prefix(':')
                    .ok_or_else(|| format!("invalid host `{h}`"))?,
                h,
            )?),
        };
        (&h[..end + 2], port)
    } else {
        match h.rsplit_once(':') {
            Some((n, p)) => (n, Some(parse_port(p, h)?)),
            None => (h, None),
        }
    };
    let stars = name.matches('*').count();
    if stars > 1 {
        return Err(format!(
            "invalid wildcard in `{h}`: must have at most one wildcard"
        ));
    }
    let lower = name.to_ascii_lowercase();
    let check_labels = |s: &str| -> Result<(), String> {
        if s.is_empty()
            || !s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
            || s.starts_with('.')
            || s.ends_with('.') && s.len() == 1
            || s.contains("..")
        {
            return Err(format!("invalid hostname `{h}`"));
        }
        Ok(())
    };
    let kind = if stars == 1 {
        if let Some(rest) = lower.strip_prefix("*.") {
            check_labels(rest)?;
            HostKind::Suffix(rest.to_string())
        } else if let Some(rest) = lower.strip_suffix(".*") {
            check_labels(rest)?;
            HostKind::Prefix(rest.to_string())
        } else {
            return Err(format!(
                "invalid wildcard in `{h}`: must be placed at leftmost or rightmost label"
            ));
        }
    } else {
        if !lower.starts_with('[') {
            check_labels(&lower)?;
        }
        HostKind::Exact(lower)
    };
    Ok(HostPattern {
        kind,
        port,
        raw: h.to_string(),
    })
}

fn parse_port(p: &str, h: &str) -> Result<u16, String> {
    match p.parse::<u16>() {
        Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(format!("invalid port in `{h}`: must be 1..65535")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_prefix() {
        assert_eq!(regex_literal_prefix("/users/(?<id>\\d+)"), "/users/");
        assert_eq!(regex_literal_prefix("/ab?c"), "/a");
        assert_eq!(regex_literal_prefix("/ab*"), "/a");
        assert_eq!(regex_literal_prefix("/ab{2}"), "/a");
        assert_eq!(regex_literal_prefix("/ab+"), "/ab");
        assert_eq!(regex_literal_prefix("/a|/b"), "");
        assert_eq!(regex_literal_prefix("(?i)/a"), "");
        assert_eq!(regex_literal_prefix("/a.b"), "/a");
    }

    #[test]
    fn host_patterns() {
        let p = compile_host("*.Example.com").unwrap_or_else(|e| panic!("{e}"));
        assert!(p.matches("a.example.com", 80));
        assert!(p.matches("a.b.example.com", 80));
        assert!(!p.matches("example.com", 80));
        assert!(!p.matches("aexample.com", 80));
        let p = compile_host("example.*:8080").unwrap_or_else(|e| panic!("{e}"));
        assert!(p.matches("example.org", 8080));
        assert!(!p.matches("example.org", 80));
        assert!(!p.matches("example", 8080));
        assert!(compile_host("a.*.com").is_err());
        assert!(compile_host("*.a.*").is_err());
        assert!(compile_host("a.com:0").is_err());
        assert!(compile_host("[::1]:8080").is_ok());
    }
}
