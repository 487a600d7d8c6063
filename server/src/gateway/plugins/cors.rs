//! `cors` (priority 2000), as Kong 3.x's `kong/plugins/cors/handler.lua`.
//!
//! - A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is
//!   answered 200 by the gateway with `Access-Control-Allow-Origin`,
//!   `-Allow-Credentials`, `-Allow-Headers` (`headers`, else the request's
//!   `Access-Control-Request-Headers`), `-Allow-Methods` (`methods`), `-Max-Age` and
//!   `-Allow-Private-Network`; with `preflight_continue` it goes upstream untouched.
//! - Every other response (the upstream's and the plugins' own answers) gets
//!   `Access-Control-Allow-Origin`, `-Allow-Credentials` and `-Expose-Headers`
//!   (unless the request has no `Origin` and `allow_origin_absent` is false).
//! - `origins`: none or `*` allows all (`*`); one plain origin is sent as it is
//!   (`Vary: Origin`); otherwise the request's `Origin` (normalized: default port
//!   dropped) is matched against each entry: exactly, or as an anchored regex (an
//!   entry with characters other than `A-Za-z0-9.:/-`), against the origin's host
//!   when the entry has no `:`; no match removes `Access-Control-Allow-Origin`.
//! - `credentials` with all origins allowed echoes the request's `Origin` instead of
//!   `*`, as browsers require.

use hyper::header::{
    HeaderMap, HeaderName, HeaderValue, ACCESS_CONTROL_ALLOW_CREDENTIALS,
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_HEADERS,
    ACCESS_CONTROL_REQUEST_METHOD, ORIGIN, VARY,
};
use hyper::{Method, StatusCode};
use portico_plugins::config;

use super::{value, Access, Answer, RequestState};

static ALLOW_PRIVATE_NETWORK: HeaderName =
    HeaderName::from_static("access-control-allow-private-network");
static REQUEST_PRIVATE_NETWORK: HeaderName =
    HeaderName::from_static("access-control-request-private-network");

enum Match {
    Exact(String),
    Regex(regex::Regex),
}

struct Domain {
    m: Match,
    /// The entry has no `:`: a regex is matched against the origin's host only.
    by_host: bool,
}

enum Origins {
    /// No origins, or only `*`.
    All,
    /// One origin that is no regex: sent as it is.
    Single(HeaderValue),
    List {
        star: bool,
        domains: Vec<Domain>,
    },
}

pub(crate) struct Cors {
    origins: Origins,
    credentials: bool,
    preflight_continue: bool,
    allow_origin_absent: bool,
    private_network: bool,
    methods: HeaderValue,
    headers: Option<HeaderValue>,
    exposed: Option<HeaderValue>,
    max_age: Option<HeaderValue>,
}

fn plain(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'/' | b'-'))
}

/// Kong's `normalize_origin`: `(domain, host)`; the default port is dropped.
fn normalize(origin: &str) -> (String, String) {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return (origin.to_string(), origin.to_string());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => (&authority[..i], Some(&authority[i + 1..])),
        _ => (authority, None),
    };
    if host.is_empty() {
        return (origin.to_string(), origin.to_string());
    }
    let port = match (scheme, port) {
        ("http", Some("80")) | ("https", Some("443")) => None,
        (_, p) => p.filter(|p| !p.is_empty()),
    };
    let domain = match port {
        Some(p) => format!("{scheme}://{host}:{p}"),
        None => format!("{scheme}://{host}"),
    };
    (domain, host.to_string())
}

fn join(list: &[String]) -> Option<HeaderValue> {
    (!list.is_empty()).then(|| value(&list.join(","))).flatten()
}

impl Cors {
    pub(crate) fn compile(cfg: config::Cors) -> Result<Cors, String> {
        let list = cfg.origins.clone().unwrap_or_default();
        let origins = if list.is_empty() || (list.len() == 1 && list[0] == "*") {
            Origins::All
        } else if list.len() == 1 && plain(&list[0]) {
            Origins::Single(
                value(&list[0])
                    .ok_or_else(|| format!("config.origins: {:?} is invalid", list[0]))?,
            )
        } else {
            let mut domains = Vec::new();
            let mut star = false;
            for entry in &list {
                if entry == "*" {
                    star = true;
                    continue;
                }
                let by_host = !entry.contains(':');
                let m = if plain(entry) {
                    Match::Exact(normalize(entry).0)
                } else {
                    let mut re = entry.strip_prefix('^').unwrap_or(entry).to_string();
                    if !re.ends_with('$') {
                        re.push('$');
                    }
                    Match::Regex(
                        regex::Regex::new(&format!("^(?:{re})"))
                            .map_err(|e| format!("config.origins: {entry:?}: {e}"))?,
                    )
                };
                domains.push(Domain { m, by_host });
            }
            Origins::List { star, domains }
        };
        let max_age = cfg.max_age.map(|a| {
            if a.fract() == 0.0 {
                HeaderValue::from(a as i64)
            } else {
                value(&a.to_string()).unwrap_or(HeaderValue::from(0))
            }
        });
        let methods =
            value(&cfg.methods.join(",")).ok_or_else(|| "config.methods: invalid".to_string())?;
        Ok(Cors {
            origins,
            credentials: cfg.credentials,
            preflight_continue: cfg.preflight_continue,
            allow_origin_absent: cfg.allow_origin_absent,
            private_network: cfg.private_network,
            methods,
            headers: join(cfg.headers.as_deref().unwrap_or_default()),
            exposed: join(cfg.exposed_headers.as_deref().unwrap_or_default()),
            max_age,
        })
    }

    /// Kong's `configure_origin`: whether all origins are allowed (`*`).
    fn configure_origin(&self, h: &mut HeaderMap, filter: bool, origin: Option<&str>) -> bool {
        let vary = |h: &mut HeaderMap| {
            let v = HeaderValue::from_static("Origin");
            if filter {
                h.append(VARY, v);
            } else {
                h.insert(VARY, v);
            }
        };
        match &self.origins {
            Origins::All => {
                h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
                return true;
            }
            Origins::Single(v) => {
                vary(h);
                h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, v.clone());
                return false;
            }
            Origins::List { star, domains } => {
                vary(h);
                if let Some(origin) = origin {
                    if *star {
                        h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
                        return true;
                    }
                    let (domain, host) = normalize(origin);
                    let found = domains.iter().any(|d| match &d.m {
                        Match::Exact(e) => *e == domain,
                        Match::Regex(re) => re.is_match(if d.by_host { &host } else { &domain }),
                    });
                    if found {
                        if let Some(v) = value(&domain) {
                            h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, v);
                            return false;
                        }
                    }
                }
            }
        }
        h.remove(ACCESS_CONTROL_ALLOW_ORIGIN);
        false
    }

    /// Kong's `configure_credentials`.
    fn configure_credentials(
        &self,
        h: &mut HeaderMap,
        allow_all: bool,
        filter: bool,
        origin: Option<&str>,
    ) {
        if !self.credentials {
            return;
        }
        let yes = HeaderValue::from_static("true");
        if !allow_all {
            h.insert(ACCESS_CONTROL_ALLOW_CREDENTIALS, yes);
            return;
        }
        if let Some(o) = origin.and_then(value) {
            if filter {
                h.append(VARY, HeaderValue::from_static("Origin"));
            } else {
                h.insert(VARY, HeaderValue::from_static("Origin"));
            }
            h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, o);
            h.insert(ACCESS_CONTROL_ALLOW_CREDENTIALS, yes);
        }
    }

    pub(crate) fn access(&self, cx: &mut Access<'_>) -> Result<(), Answer> {
        let req = &cx.parts.headers;
        cx.state.origin = req
            .get(ORIGIN)
            .and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok());
        let origin = origin_of(req);
        if cx.parts.method != Method::OPTIONS
            || origin.is_none()
            || !req.contains_key(ACCESS_CONTROL_REQUEST_METHOD)
        {
            return Ok(());
        }
        cx.state.cors_skip = true;
        if self.preflight_continue {
            return Ok(());
        }
        let mut h = HeaderMap::new();
        let all = self.configure_origin(&mut h, false, origin);
        self.configure_credentials(&mut h, all, false, origin);
        match (&self.headers, req.get(ACCESS_CONTROL_REQUEST_HEADERS)) {
            (Some(v), _) => {
                h.insert(ACCESS_CONTROL_ALLOW_HEADERS, v.clone());
            }
            (None, Some(v)) => {
                h.insert(ACCESS_CONTROL_ALLOW_HEADERS, v.clone());
            }
            (None, None) => {}
        }
        h.insert(ACCESS_CONTROL_ALLOW_METHODS, self.methods.clone());
        if let Some(v) = &self.max_age {
            h.insert(ACCESS_CONTROL_MAX_AGE, v.clone());
        }
        if self.private_network
            && req
                .get(&REQUEST_PRIVATE_NETWORK)
                .is_some_and(|v| v.as_bytes() == b"true")
        {
            h.insert(
                ALLOW_PRIVATE_NETWORK.clone(),
                HeaderValue::from_static("true"),
            );
        }
        let mut headers = Vec::with_capacity(h.len());
        let mut last = None;
        for (n, v) in h {
            if let Some(n) = n {
                last = Some(n);
            }
            if let Some(n) = &last {
                headers.push((n.clone(), v));
            }
        }
        Err(Answer {
            status: StatusCode::OK,
            kind: None,
            body: bytes::Bytes::new(),
            headers,
        })
    }

    /// Kong's `header_filter`.
    pub(crate) fn response(&self, state: &RequestState, h: &mut HeaderMap) {
        if state.cors_skip {
            return;
        }
        let origin = state
            .origin
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .filter(|o| !o.is_empty());
        if origin.is_none() && !self.allow_origin_absent {
            return;
        }
        let all = self.configure_origin(h, true, origin);
        self.configure_credentials(h, all, true, origin);
        if let Some(v) = &self.exposed {
            h.insert(ACCESS_CONTROL_EXPOSE_HEADERS, v.clone());
        }
    }
}

fn origin_of(h: &HeaderMap) -> Option<&str> {
    h.get(ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| !o.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors(origins: &[&str], credentials: bool) -> Cors {
        Cors::compile(config::Cors {
            origins: (!origins.is_empty()).then(|| origins.iter().map(|s| s.to_string()).collect()),
            credentials,
            ..Default::default()
        })
        .unwrap()
    }

    fn filter(c: &Cors, origin: Option<&str>) -> HeaderMap {
        let state = RequestState {
            origin: origin.map(|o| o.parse().unwrap()),
            ..Default::default()
        };
        let mut h = HeaderMap::new();
        c.response(&state, &mut h);
        h
    }

    fn acao(h: &HeaderMap) -> Option<&str> {
        h.get(ACCESS_CONTROL_ALLOW_ORIGIN)
            .map(|v| v.to_str().unwrap())
    }

    #[test]
    fn allow_origin_as_kong() {
        // (origins, credentials, request origin, ACAO, Vary: Origin)
        type Row<'a> = (&'a [&'a str], bool, Option<&'a str>, Option<&'a str>, bool);
        let table: &[Row] = &[
            (&[], false, Some("http://a.test"), Some("*"), false),
            (&["*"], false, Some("http://a.test"), Some("*"), false),
            (&[], false, None, Some("*"), false),
            (
                &["http://a.test"],
                false,
                Some("http://b.test"),
                Some("http://a.test"),
                true,
            ),
            (
                &["http://a.test", "http://b.test"],
                false,
                Some("http://b.test"),
                Some("http://b.test"),
                true,
            ),
            (
                &["http://a.test", "http://b.test"],
                false,
                Some("http://c.test"),
                None,
                true,
            ),
            // default port dropped on both sides
            (
                &["http://a.test:80", "http://b.test"],
                false,
                Some("http://a.test"),
                Some("http://a.test"),
                true,
            ),
            // a regex without ':' matches the host
            (
                &[r".*\.example\.com"],
                false,
                Some("https://api.example.com"),
                Some("https://api.example.com"),
                true,
            ),
            (
                &[r".*\.example\.com"],
                false,
                Some("https://example.org"),
                None,
                true,
            ),
            // anchored: no match on a longer host
            (
                &[r"(a|b)\.test"],
                false,
                Some("http://a.test.evil"),
                None,
                true,
            ),
            // a regex with ':' matches the whole origin
            (
                &[r"https://.*\.example\.com"],
                false,
                Some("http://x.example.com"),
                None,
                true,
            ),
            // credentials with every origin: the request's origin is echoed
            (
                &[],
                true,
                Some("http://a.test"),
                Some("http://a.test"),
                true,
            ),
        ];
        for (origins, creds, origin, want, vary) in table {
            let h = filter(&cors(origins, *creds), *origin);
            assert_eq!(acao(&h), *want, "origins {origins:?} origin {origin:?}");
            assert_eq!(
                h.get_all(VARY).iter().any(|v| v == "Origin"),
                *vary,
                "vary: origins {origins:?} origin {origin:?}"
            );
        }
    }

    #[test]
    fn normalize_drops_default_ports() {
        assert_eq!(normalize("http://a.test:80").0, "http://a.test");
        assert_eq!(normalize("https://a.test:443").0, "https://a.test");
        assert_eq!(normalize("https://a.test:8443").0, "https://a.test:8443");
        assert_eq!(normalize("a.test").1, "a.test");
    }
}
