//! Plugins on the request path, Kong 3.x's behaviour: each plugin is a module with the
//! phases it needs (access: before the request goes upstream, may answer itself;
//! response: edits the response headers), compiled once per snapshot into a per-route
//! [`Chain`] in Kong's priority order.
//!
//! A route without plugins has no chain (`None`): it pays nothing for this machinery.

mod acl;
mod chain;
mod consumers;
mod cors;
mod fields;
mod ip_restriction;
mod key_auth;
mod rate_limiting;
mod request_size_limiting;
mod request_transformer;
mod response_transformer;
mod transform;

use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::StatusCode;

pub(crate) use chain::{compile_chains, Chain, ChainStores, RouteScope};
pub(crate) use consumers::Consumer;
pub(crate) use fields::ClientBody;

use super::log::{ErrorKind, RouteInfo};

/// A plugin instance, compiled.
pub(crate) enum Plugin {
    Cors(cors::Cors),
    KeyAuth(key_auth::KeyAuth),
    IpRestriction(ip_restriction::IpRestriction),
    RequestSizeLimiting(request_size_limiting::RequestSizeLimiting),
    Acl(acl::Acl),
    RateLimiting(rate_limiting::RateLimiting),
    RequestTransformer(request_transformer::RequestTransformer),
    ResponseTransformer(response_transformer::ResponseTransformer),
    Prometheus(Arc<portico_plugins::config::Prometheus>),
}

impl Plugin {
    /// The access phase: `Err` is the plugin's own answer (the request goes no
    /// further).
    async fn access(&self, cx: &mut Access<'_>) -> Result<(), Answer> {
        match self {
            Plugin::Cors(p) => p.access(cx),
            Plugin::KeyAuth(p) => p.access(cx).await,
            Plugin::IpRestriction(p) => p.access(cx),
            Plugin::RequestSizeLimiting(p) => p.access(cx),
            Plugin::Acl(p) => p.access(cx),
            Plugin::RateLimiting(p) => p.access(cx).await,
            Plugin::RequestTransformer(p) => p.access(cx).await,
            Plugin::ResponseTransformer(_) => Ok(()),
            // set by `access` (also after another plugin answered)
            Plugin::Prometheus(_) => Ok(()),
        }
    }

    /// Whether the plugin edits response headers.
    fn has_response(&self) -> bool {
        matches!(self, Plugin::Cors(_) | Plugin::ResponseTransformer(_))
    }

    /// The response-headers phase (Kong's `header_filter`), on the upstream's answer
    /// and on the answers plugins gave themselves.
    fn response(&self, state: &RequestState, headers: &mut HeaderMap) {
        match self {
            Plugin::Cors(p) => p.response(state, headers),
            Plugin::ResponseTransformer(p) => p.response(headers),
            _ => {}
        }
    }
}

/// What the access phase sees and may change: the client's request (its headers,
/// method and upstream target are what goes upstream) and the request's plugin state.
pub(crate) struct Access<'a> {
    pub parts: &'a mut hyper::http::request::Parts,
    /// The upstream path and query (`/path?query`), as the route rewrote it.
    pub path_and_query: &'a mut String,
    /// The client's IP (the peer address).
    pub peer: IpAddr,
    pub route: &'a RouteInfo,
    /// The client's body length when known (`Content-Length` or HTTP/2 frames).
    pub body_len: Option<u64>,
    /// The client sends a body.
    pub has_body: bool,
    /// The client's body, for the plugins that read it (key-auth's `key_in_body`,
    /// request-transformer's body edits).
    pub body: ClientBody<'a>,
    pub state: &'a mut RequestState,
}

impl Access<'_> {
    /// The upstream query string (without `?`), if any.
    pub fn query(&self) -> Option<&str> {
        self.path_and_query.split_once('?').map(|(_, q)| q)
    }

    /// Replace the upstream query string (`None` or empty: no query).
    pub fn set_query(&mut self, q: Option<&str>) {
        let end = self
            .path_and_query
            .find('?')
            .unwrap_or(self.path_and_query.len());
        self.path_and_query.truncate(end);
        if let Some(q) = q.filter(|q| !q.is_empty()) {
            self.path_and_query.push('?');
            self.path_and_query.push_str(q);
        }
    }
}

/// A request's plugin state, from the access phase to the log.
#[derive(Default)]
pub(crate) struct RequestState {
    /// The consumer an auth plugin identified (or the anonymous one).
    pub consumer: Option<Arc<Consumer>>,
    /// The credential that identified it (`X-Credential-Identifier`); `None` for the
    /// anonymous consumer.
    pub credential: Option<Arc<str>>,
    /// Headers to add to the response (rate-limiting's), whoever answers.
    pub resp_headers: Vec<(HeaderName, HeaderValue)>,
    /// request-size-limiting's limit on the streamed body, in bytes.
    pub body_limit: Option<u64>,
    /// cors answered the preflight or passed it on: no CORS response headers.
    pub cors_skip: bool,
    /// The request's `Origin` (a copy, for cors's response phase).
    pub origin: Option<HeaderValue>,
    /// The plugins whose response phase runs, in priority order.
    pub response: Vec<Arc<Plugin>>,
    /// prometheus applies to this request.
    pub prometheus: Option<Arc<portico_plugins::config::Prometheus>>,
}

impl RequestState {
    /// The response-headers phase of the request's plugins, then the headers stored
    /// by the access phase.
    pub fn response_headers(&self, headers: &mut HeaderMap) {
        for p in &self.response {
            p.response(self, headers);
        }
        for (n, v) in &self.resp_headers {
            headers.insert(n.clone(), v.clone());
        }
    }
}

/// A plugin's own answer.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    /// `None`: not an error (a CORS preflight).
    pub kind: Option<ErrorKind>,
    pub body: Bytes,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl Answer {
    /// Kong's `kong.response.error(status, message)`: `{"message":"…"}`.
    pub fn error(status: StatusCode, kind: ErrorKind, message: &str) -> Answer {
        let body = serde_json::json!({ "message": message }).to_string();
        Answer {
            status,
            kind: Some(kind),
            body: Bytes::from(body),
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Answer {
        self.headers.push((name, value));
        self
    }
}

/// Run the access phase of `chain` in priority order, resolving consumer-scoped
/// instances once a consumer is known; on success the state holds what the later
/// phases need. After a plugin answered, the rest of the chain is only collected for
/// the response phase (Kong runs `header_filter` on plugin answers too).
pub(crate) async fn access(chain: &Chain, cx: &mut Access<'_>) -> Result<(), Answer> {
    let mut answer = None;
    for entry in chain.entries() {
        let Some(p) = entry.resolve(cx.state.consumer.as_deref()) else {
            continue;
        };
        if p.has_response() {
            cx.state.response.push(p.clone());
        }
        if let Plugin::Prometheus(cfg) = &**p {
            // the log step records plugin answers in the metrics too
            cx.state.prometheus = Some(cfg.clone());
        }
        if answer.is_none() {
            if let Err(a) = p.access(cx).await {
                answer = Some(a);
            }
        }
    }
    match answer {
        Some(a) => Err(a),
        None => Ok(()),
    }
}

/// A header value from a string known to be printable; `None` otherwise.
fn value(s: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(s).ok()
}
