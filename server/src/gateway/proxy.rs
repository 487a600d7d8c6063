//! The request path: match a route, answer what Portico answers itself (no route,
//! https required), rewrite the request (upstream path and `Host`, hop-by-hop headers,
//! `X-Forwarded-*`, `Via`, `X-Request-Id`) and relay it and the upstream's response,
//! both bodies streamed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body::Body as _;
use hyper::body::Incoming;
use hyper::header::{
    HeaderMap, HeaderName, HeaderValue, CONNECTION, CONTENT_TYPE, EXPECT, HOST, LOCATION,
    PROXY_AUTHENTICATE, PROXY_AUTHORIZATION, SERVER, TE, TRAILER, TRANSFER_ENCODING, UPGRADE, VIA,
};
use hyper::{Method, Request, Response, StatusCode, Uri, Version};
use portico_router::{Protocol, RequestContext};

use super::body::{LogState, ProxyBody, ReqBody, ReqCounter};
use super::dataplane::{Shared, SERVER_NAME};
use super::log::ErrorKind;
use super::upstream::UpstreamError;

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
static X_FORWARDED_PORT: HeaderName = HeaderName::from_static("x-forwarded-port");
static X_FORWARDED_PREFIX: HeaderName = HeaderName::from_static("x-forwarded-prefix");
static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
static KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
static PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");
static X_UPSTREAM_LATENCY: HeaderName = HeaderName::from_static("x-portico-upstream-latency");
static X_PROXY_LATENCY: HeaderName = HeaderName::from_static("x-portico-proxy-latency");
static X_RESPONSE_LATENCY: HeaderName = HeaderName::from_static("x-portico-response-latency");

const NO_ROUTE: &str = r#"{"message":"no Route matched with those values"}"#;
const HTTPS_REQUIRED: &str = r#"{"message":"Please use HTTPS protocol"}"#;
const BAD_GATEWAY: &str =
    r#"{"message":"An invalid response was received from the upstream server"}"#;
const TIMEOUT: &str = r#"{"message":"The upstream server is timing out"}"#;
const NAME_RESOLUTION: &str = r#"{"message":"name resolution failed"}"#;
const NOT_READY: &str = r#"{"message":"The gateway has no configuration yet"}"#;
const BAD_REQUEST: &str = r#"{"message":"Bad request"}"#;
const METHOD_NOT_ALLOWED: &str = r#"{"message":"Method not allowed"}"#;

/// What a proxy connection knows about itself, shared by its requests.
pub(crate) struct ConnInfo {
    shared: Arc<Shared>,
    peer: SocketAddr,
    local: SocketAddr,
    /// The client's IP, ready for `X-Forwarded-For`.
    peer_ip: HeaderValue,
    /// The local port, for `X-Forwarded-Port`.
    local_port: HeaderValue,
}

impl ConnInfo {
    pub(crate) fn new(shared: Arc<Shared>, peer: SocketAddr, local: SocketAddr) -> Self {
        let peer_ip = HeaderValue::from_str(&peer.ip().to_string())
            .unwrap_or_else(|_| HeaderValue::from_static("unknown"));
        ConnInfo {
            shared,
            peer,
            local,
            peer_ip,
            local_port: HeaderValue::from(local.port()),
        }
    }
}

fn millis(d: Duration) -> HeaderValue {
    static SMALL: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    match SMALL.get(ms as usize) {
        Some(s) if ms < 10 => HeaderValue::from_static(s),
        _ => HeaderValue::from(ms),
    }
}

/// One of Portico's own answers (JSON body).
fn local(
    mut log: LogState,
    status: StatusCode,
    kind: ErrorKind,
    body: &'static str,
    extra: &[(&HeaderName, HeaderValue)],
) -> Response<ProxyBody> {
    let elapsed = log.started.elapsed();
    log.status = status.as_u16();
    log.error = Some(kind);
    log.responded = true;
    log.gateway_latency = Some(elapsed);
    let mut resp = Response::new(ProxyBody::full(Bytes::from_static(body.as_bytes()), log));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    if !body.is_empty() {
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }
    h.insert(SERVER, HeaderValue::from_static(SERVER_NAME));
    h.insert(X_RESPONSE_LATENCY.clone(), millis(elapsed));
    for (n, v) in extra {
        h.insert((*n).clone(), v.clone());
    }
    resp
}

fn is_hop_by_hop(n: &HeaderName) -> bool {
    n == CONNECTION
        || n == TRANSFER_ENCODING
        || n == TE
        || n == TRAILER
        || n == UPGRADE
        || n == PROXY_AUTHENTICATE
        || n == PROXY_AUTHORIZATION
        || n == KEEP_ALIVE
        || n == PROXY_CONNECTION
}

/// Remove the hop-by-hop headers: `Connection`, the headers it names, and the
/// standard ones. One pass over the names when there are none (the usual case).
fn strip_hop_by_hop(h: &mut HeaderMap) {
    if !h.keys().any(is_hop_by_hop) {
        return;
    }
    if h.contains_key(CONNECTION) {
        // the headers `Connection` names (beyond its usual keep-alive / close tokens)
        let tokens = || {
            h.get_all(CONNECTION)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .filter(|t| {
                    !t.eq_ignore_ascii_case("keep-alive")
                        && !t.eq_ignore_ascii_case("close")
                        && !t.is_empty()
                })
        };
        if tokens().next().is_some() {
            let named: Vec<HeaderName> = tokens()
                .filter_map(|t| HeaderName::from_bytes(t.as_bytes()).ok())
                .collect();
            for n in named {
                h.remove(n);
            }
        }
    }
    for n in [
        &CONNECTION,
        &TRANSFER_ENCODING,
        &TE,
        &TRAILER,
        &UPGRADE,
        &PROXY_AUTHENTICATE,
        &PROXY_AUTHORIZATION,
        &KEEP_ALIVE,
        &PROXY_CONNECTION,
    ] {
        h.remove(n);
    }
}

fn via(version: Version) -> HeaderValue {
    HeaderValue::from_static(match version {
        Version::HTTP_2 => "2 portico",
        Version::HTTP_10 => "1.0 portico",
        _ => "1.1 portico",
    })
}

fn request_id() -> HeaderValue {
    let bytes: [u8; 16] = rand::random();
    let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let s = id.hyphenated().encode_lower(&mut buf);
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static("-"))
}

/// How a matched request goes on.
enum Routed {
    Local {
        status: StatusCode,
        kind: ErrorKind,
        body: &'static str,
        extra: Vec<(&'static HeaderName, HeaderValue)>,
    },
    Proxy {
        route: usize,
        path_and_query: String,
        prefix: Option<HeaderValue>,
        forwarded_host: Option<HeaderValue>,
        preserve_host: bool,
    },
}

static HTTPS_UPGRADE: HeaderValue = HeaderValue::from_static("TLS/1.2, HTTP/1.1");
static CONNECTION_UPGRADE: HeaderValue = HeaderValue::from_static("Upgrade");

pub(crate) async fn handle(conn: Arc<ConnInfo>, req: Request<Incoming>) -> Response<ProxyBody> {
    let started = Instant::now();
    let mut log = LogState::new(
        conn.shared.clone(),
        SystemTime::now(),
        started,
        req.method().clone(),
    );
    let Some(cfg) = conn.shared.config.load_full() else {
        return local(
            log,
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::NotReady,
            NOT_READY,
            &[],
        );
    };
    let (mut parts, body) = req.into_parts();
    let version = parts.version;
    if parts.method == Method::CONNECT {
        // tunnels are not proxied
        return local(
            log,
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorKind::BadRequest,
            METHOD_NOT_ALLOWED,
            &[],
        );
    }

    let routed = {
        let host: &str = match parts.uri.authority() {
            Some(a) => a.as_str(),
            None => parts
                .headers
                .get(HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or(""),
        };
        let pq = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let collected: Vec<(&str, &str)> = if cfg.needs_headers {
            parts
                .headers
                .iter()
                .filter_map(|(n, v)| Some((n.as_str(), v.to_str().ok()?)))
                .collect()
        } else {
            Vec::new()
        };
        let ctx = RequestContext::new(parts.method.as_str(), host, pq)
            .with_headers(&collected)
            .with_protocol(Protocol::Http)
            .with_src(conn.peer.ip(), conn.peer.port())
            .with_dst(conn.local.ip(), conn.local.port());
        match cfg.router.find(&ctx) {
            None => Routed::Local {
                status: StatusCode::NOT_FOUND,
                kind: ErrorKind::NoRoute,
                body: NO_ROUTE,
                extra: Vec::new(),
            },
            Some(mut m) => {
                log.route = cfg.routes.get(m.route_index).map(|t| t.info.clone());
                match (m.https_redirect, cfg.routes.get(m.route_index)) {
                    (_, None) => Routed::Local {
                        status: StatusCode::NOT_FOUND,
                        kind: ErrorKind::NoRoute,
                        body: NO_ROUTE,
                        extra: Vec::new(),
                    },
                    (Some(code @ (301 | 302 | 307 | 308)), _) => {
                        let location = HeaderValue::from_str(&format!("https://{}{pq}", ctx.host));
                        match (location, StatusCode::from_u16(code)) {
                            (Ok(l), Ok(status)) => Routed::Local {
                                status,
                                kind: ErrorKind::HttpsRequired,
                                body: "",
                                extra: vec![(&LOCATION, l)],
                            },
                            _ => Routed::Local {
                                status: StatusCode::BAD_REQUEST,
                                kind: ErrorKind::BadRequest,
                                body: BAD_REQUEST,
                                extra: Vec::new(),
                            },
                        }
                    }
                    (Some(_), _) => Routed::Local {
                        status: StatusCode::UPGRADE_REQUIRED,
                        kind: ErrorKind::HttpsRequired,
                        body: HTTPS_REQUIRED,
                        // connection-specific headers are not allowed in HTTP/2
                        extra: if version == Version::HTTP_2 {
                            Vec::new()
                        } else {
                            vec![
                                (&CONNECTION, CONNECTION_UPGRADE.clone()),
                                (&UPGRADE, HTTPS_UPGRADE.clone()),
                            ]
                        },
                    },
                    (None, Some(target)) => {
                        let mut path_and_query = match &target.service.path {
                            None => std::mem::take(&mut m.upstream_path),
                            Some(p) => m.upstream_path_for(Some(p), &ctx),
                        };
                        if let Some(q) = ctx.query {
                            path_and_query.reserve(q.len() + 1);
                            path_and_query.push('?');
                            path_and_query.push_str(q);
                        }
                        let prefix = if m.strip_path && m.matched_prefix_len > 0 {
                            ctx.path
                                .get(..m.matched_prefix_len)
                                .and_then(|p| HeaderValue::from_str(p).ok())
                        } else {
                            None
                        };
                        let forwarded_host = match parts.headers.get(HOST) {
                            Some(h) if h.as_bytes() == ctx.host.as_bytes() => Some(h.clone()),
                            _ if ctx.host.is_empty() => None,
                            _ => HeaderValue::from_str(&ctx.host).ok(),
                        };
                        Routed::Proxy {
                            route: m.route_index,
                            path_and_query,
                            prefix,
                            forwarded_host,
                            preserve_host: m.preserve_host,
                        }
                    }
                }
            }
        }
    };

    let (route, path_and_query, prefix, forwarded_host, preserve_host) = match routed {
        Routed::Local {
            status,
            kind,
            body,
            extra,
        } => return local(log, status, kind, body, &extra),
        Routed::Proxy {
            route,
            path_and_query,
            prefix,
            forwarded_host,
            preserve_host,
        } => (route, path_and_query, prefix, forwarded_host, preserve_host),
    };
    let Some(target) = cfg.routes.get(route) else {
        return local(
            log,
            StatusCode::NOT_FOUND,
            ErrorKind::NoRoute,
            NO_ROUTE,
            &[],
        );
    };
    let Ok(uri) = Uri::try_from(path_and_query) else {
        return local(
            log,
            StatusCode::BAD_REQUEST,
            ErrorKind::BadRequest,
            BAD_REQUEST,
            &[],
        );
    };

    // request headers
    let h = &mut parts.headers;
    strip_hop_by_hop(h);
    if h.contains_key(EXPECT) {
        // 100-continue is handled with the client; upstream gets the body at once
        h.remove(EXPECT);
    }
    if preserve_host {
        if !h.contains_key(HOST) {
            if let Some(a) = parts.uri.authority() {
                if let Ok(v) = HeaderValue::from_str(a.as_str()) {
                    h.insert(HOST, v);
                }
            }
        }
    } else {
        h.insert(HOST, target.service.host_header.clone());
    }
    let xff = {
        let mut values = h.get_all(&X_FORWARDED_FOR).iter();
        match (values.next(), values.next()) {
            (None, _) => conn.peer_ip.clone(),
            (Some(first), None) => {
                let mut v = Vec::with_capacity(first.len() + 2 + conn.peer_ip.len());
                v.extend_from_slice(first.as_bytes());
                v.extend_from_slice(b", ");
                v.extend_from_slice(conn.peer_ip.as_bytes());
                HeaderValue::from_maybe_shared(Bytes::from(v))
                    .unwrap_or_else(|_| conn.peer_ip.clone())
            }
            (Some(first), Some(second)) => {
                let mut v = Vec::new();
                for x in [first, second].into_iter().chain(values) {
                    v.extend_from_slice(x.as_bytes());
                    v.extend_from_slice(b", ");
                }
                v.extend_from_slice(conn.peer_ip.as_bytes());
                HeaderValue::from_maybe_shared(Bytes::from(v))
                    .unwrap_or_else(|_| conn.peer_ip.clone())
            }
        }
    };
    h.insert(X_FORWARDED_FOR.clone(), xff);
    h.insert(X_FORWARDED_PROTO.clone(), HeaderValue::from_static("http"));
    match forwarded_host {
        Some(v) => {
            h.insert(X_FORWARDED_HOST.clone(), v);
        }
        None => {
            h.remove(&X_FORWARDED_HOST);
        }
    }
    h.insert(X_FORWARDED_PORT.clone(), conn.local_port.clone());
    match prefix {
        Some(p) => {
            h.insert(X_FORWARDED_PREFIX.clone(), p);
        }
        None => {
            if h.contains_key(&X_FORWARDED_PREFIX) {
                h.remove(&X_FORWARDED_PREFIX);
            }
        }
    }
    let via = via(version);
    h.append(VIA, via.clone());
    let request_id = match h.get(&X_REQUEST_ID) {
        Some(v) => v.clone(),
        None => {
            let id = request_id();
            h.insert(X_REQUEST_ID.clone(), id.clone());
            id
        }
    };
    parts.uri = uri;
    parts.version = Version::HTTP_11;

    let counter = if body.is_end_stream() {
        None
    } else {
        let c = Arc::new(ReqCounter::default());
        log.req = Some(c.clone());
        Some(c)
    };
    let req = Request::from_parts(parts, ReqBody::new(body, counter));

    let sent = Instant::now();
    let gateway = sent.saturating_duration_since(started);
    log.gateway_latency = Some(gateway);
    match target.service.pool.send(req, sent.into()).await {
        Ok((resp, pooled)) => {
            let upstream = sent.elapsed();
            log.upstream_latency = Some(upstream);
            let (mut rp, incoming) = resp.into_parts();
            let h = &mut rp.headers;
            strip_hop_by_hop(h);
            h.append(VIA, via);
            h.insert(X_UPSTREAM_LATENCY.clone(), millis(upstream));
            h.insert(X_PROXY_LATENCY.clone(), millis(gateway));
            if !h.contains_key(&X_REQUEST_ID) {
                h.insert(X_REQUEST_ID.clone(), request_id);
            }
            rp.version = version;
            log.status = rp.status.as_u16();
            log.responded = true;
            Response::from_parts(rp, ProxyBody::upstream(incoming, pooled, log))
        }
        Err(e) => {
            let client_failed = log
                .req
                .as_ref()
                .is_some_and(|c| c.failed.load(std::sync::atomic::Ordering::Relaxed));
            let (status, kind, body) = match &e {
                _ if client_failed => {
                    (StatusCode::BAD_REQUEST, ErrorKind::ClientAbort, BAD_REQUEST)
                }
                UpstreamError::Resolve(_) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorKind::UpstreamUnavailable,
                    NAME_RESOLUTION,
                ),
                UpstreamError::Connect(_) | UpstreamError::Failed(_) => (
                    StatusCode::BAD_GATEWAY,
                    ErrorKind::UpstreamUnavailable,
                    BAD_GATEWAY,
                ),
                UpstreamError::ConnectTimeout | UpstreamError::Timeout => (
                    StatusCode::GATEWAY_TIMEOUT,
                    ErrorKind::UpstreamTimeout,
                    TIMEOUT,
                ),
            };
            if kind != ErrorKind::ClientAbort {
                tracing::debug!(
                    upstream = %target.service.pool.key.host,
                    port = target.service.pool.key.port,
                    "upstream request failed: {e}"
                );
            }
            let mut resp = local(log, status, kind, body, &[]);
            resp.headers_mut().insert(X_REQUEST_ID.clone(), request_id);
            resp
        }
    }
}
