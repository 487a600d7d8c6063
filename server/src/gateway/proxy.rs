//! The request path as named phases (see [`handle`]): match a route, answer what
//! Portico answers itself (no route, https required), run the route's plugins, rewrite
//! the request (upstream path and `Host`, hop-by-hop headers, `X-Forwarded-*`, `Via`,
//! `X-Request-Id`) and relay it and the upstream's response, both bodies streamed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body::Body as _;
use hyper::body::Incoming;
use hyper::header::{
    HeaderName, HeaderValue, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, EXPECT, HOST,
    LOCATION, SERVER, UPGRADE, VIA,
};
use hyper::{Method, Request, Response, StatusCode, Version};
use portico_router::{Protocol, RequestContext};

use super::body::{LogState, ProxyBody, ReqBody, ReqCounter};
use super::compiled::{Compiled, RouteTarget};
use super::dataplane::{Shared, SERVER_NAME};
use super::h1client::{connection_named, is_hop_by_hop, ReqFraming};
use super::limits::Activity;
use super::log::{ErrorKind, RouteInfo};
use super::plugins::{self, Access, Answer, Chain, ClientBody, RequestState};
use super::upstream::UpstreamError;

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
static X_FORWARDED_PORT: HeaderName = HeaderName::from_static("x-forwarded-port");
static X_FORWARDED_PREFIX: HeaderName = HeaderName::from_static("x-forwarded-prefix");
static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
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
const REQUEST_TIMEOUT: &str = r#"{"message":"Request timeout"}"#;
const PAYLOAD_TOO_LARGE: &str = r#"{"message":"Request size limit exceeded"}"#;

/// What a proxy connection knows about itself, shared by its requests.
pub(crate) struct ConnInfo {
    shared: Arc<Shared>,
    peer: SocketAddr,
    local: SocketAddr,
    /// The client's IP, ready for `X-Forwarded-For`.
    peer_ip: HeaderValue,
    /// The local port, for `X-Forwarded-Port`.
    local_port: HeaderValue,
    /// Requests in flight (for the idle timeout).
    activity: Arc<Activity>,
}

impl ConnInfo {
    pub(crate) fn new(
        shared: Arc<Shared>,
        peer: SocketAddr,
        local: SocketAddr,
        activity: Arc<Activity>,
    ) -> Self {
        let peer_ip = HeaderValue::from_str(&peer.ip().to_string())
            .unwrap_or_else(|_| HeaderValue::from_static("unknown"));
        ConnInfo {
            shared,
            peer,
            local,
            peer_ip,
            local_port: HeaderValue::from(local.port()),
            activity,
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
    log: LogState,
    status: StatusCode,
    kind: ErrorKind,
    body: &'static str,
    extra: &[(&HeaderName, HeaderValue)],
) -> Response<ProxyBody> {
    let json = !body.is_empty();
    let mut resp = own_answer(
        log,
        status,
        Some(kind),
        Bytes::from_static(body.as_bytes()),
        json,
    );
    let h = resp.headers_mut();
    for (n, v) in extra {
        h.insert((*n).clone(), v.clone());
    }
    resp
}

/// An answer Portico or a plugin gives itself; `json`: the body is JSON.
fn own_answer(
    mut log: LogState,
    status: StatusCode,
    kind: Option<ErrorKind>,
    body: Bytes,
    json: bool,
) -> Response<ProxyBody> {
    let elapsed = log.started.elapsed();
    log.status = status.as_u16();
    log.error = kind;
    log.responded = true;
    log.gateway_latency = Some(elapsed);
    let mut resp = Response::new(ProxyBody::full(body, log));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    if json {
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }
    h.insert(SERVER, HeaderValue::from_static(SERVER_NAME));
    h.insert(X_RESPONSE_LATENCY.clone(), millis(elapsed));
    resp
}

fn via(version: Version) -> HeaderValue {
    HeaderValue::from_static(match version {
        Version::HTTP_2 => "2 portico",
        Version::HTTP_10 => "1.0 portico",
        _ => "1.1 portico",
    })
}

fn request_id_value() -> HeaderValue {
    let bytes: [u8; 16] = rand::random();
    let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let s = id.hyphenated().encode_lower(&mut buf);
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static("-"))
}

/// One of Portico's own answers decided before the request went anywhere.
struct Own {
    status: StatusCode,
    kind: ErrorKind,
    body: &'static str,
    extra: Vec<(&'static HeaderName, HeaderValue)>,
}

impl Own {
    fn new(status: StatusCode, kind: ErrorKind, body: &'static str) -> Own {
        Own {
            status,
            kind,
            body,
            extra: Vec::new(),
        }
    }

    fn respond(self, log: LogState, close: &[(&HeaderName, HeaderValue)]) -> Response<ProxyBody> {
        let mut resp = local(log, self.status, self.kind, self.body, &self.extra);
        for (n, v) in close {
            resp.headers_mut().insert((*n).clone(), v.clone());
        }
        resp
    }
}

/// Where `X-Forwarded-Host` comes from: the first `len` bytes of the request's host
/// (its authority, else its `Host` header), or a lower-cased copy.
enum ForwardedHost {
    None,
    Prefix { authority: bool, len: usize },
    Owned(String),
}

/// `X-Forwarded-Prefix`: none, the first `len` bytes of the request's path, or a
/// copy (when the router normalized the path).
enum Prefix {
    None,
    Raw(usize),
    Owned(String),
}

/// A request the router matched to a route that proxies it.
struct Matched {
    /// The route's index in the compiled config.
    route: usize,
    /// Upstream path and query.
    path_and_query: String,
    /// `X-Forwarded-Prefix`: the part of the path the route stripped.
    prefix: Prefix,
    forwarded_host: ForwardedHost,
    preserve_host: bool,
}

static HTTPS_UPGRADE: HeaderValue = HeaderValue::from_static("TLS/1.2, HTTP/1.1");
static CONNECTION_UPGRADE: HeaderValue = HeaderValue::from_static("Upgrade");
static WEBSOCKET: HeaderValue = HeaderValue::from_static("websocket");
#[allow(clippy::declare_interior_mutable_const)]
const CONNECTION_CLOSE: HeaderValue = HeaderValue::from_static("close");

/// The request path, phase by phase: route -> access (plugins) -> upstream request ->
/// response headers -> body (streamed by [`ProxyBody`]) -> log (when the body ends).
pub(crate) async fn handle(conn: Arc<ConnInfo>, mut req: Request<Incoming>) -> Response<ProxyBody> {
    let started = Instant::now();
    // a WebSocket handshake: the client's side of the tunnel, once hyper hands it over
    let websocket = is_websocket(&req).then(|| hyper::upgrade::on(&mut req));
    let mut log = LogState::new(
        conn.shared.clone(),
        conn.activity.clone(),
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
    // an HTTP/1 request that asked to upgrade (or to tunnel) and is not upgraded ends
    // its connection: the client may already be sending bytes of another protocol,
    // which the framing guard no longer reads as requests
    let close = version == Version::HTTP_11
        && (parts.headers.contains_key(UPGRADE) || parts.method == Method::CONNECT);
    let close_header: &[(&HeaderName, HeaderValue)] = if close {
        &[(&CONNECTION, CONNECTION_CLOSE)]
    } else {
        &[]
    };
    let mut matched = match route(&conn, &cfg, &parts, websocket.is_some(), &mut log) {
        Ok(m) => m,
        Err(own) => return own.respond(log, close_header),
    };
    let Some(target) = cfg.routes.get(matched.route) else {
        return Own::new(StatusCode::NOT_FOUND, ErrorKind::NoRoute, NO_ROUTE)
            .respond(log, close_header);
    };
    let mut body = body;
    let mut size = BodySize::of(&body);
    let mut plugins = None;
    let mut full = None;
    if let Some(chain) = &target.chain {
        let mut state = RequestState::default();
        let r = access(
            chain,
            &conn,
            &target.info,
            &mut parts,
            &mut matched,
            (&mut body, size),
            &mut state,
        )
        .await;
        log.consumer = state.consumer.as_ref().map(|c| c.id.clone());
        log.prometheus = state.prometheus.clone();
        match r {
            Ok(f) => full = f,
            Err(answer) => return plugin_answer(log, answer, &state, close_header),
        }
        if let Some(b) = &full {
            // a plugin read the body (and maybe rewrote it)
            size = if b.is_empty() {
                BodySize::Empty
            } else {
                BodySize::Exact(b.len() as u64)
            };
        }
        plugins = Some(state);
    }
    let Some((head, framing, request_id)) =
        upstream_request(&conn, &parts, &matched, target, size, websocket.is_some())
    else {
        return Own::new(StatusCode::BAD_REQUEST, ErrorKind::BadRequest, BAD_REQUEST)
            .respond(log, close_header);
    };
    let method = parts.method.clone();
    // nothing of the request head is kept while the upstream answers: hyper can reuse
    // its read buffer for the next request instead of allocating another one
    drop(parts);
    let body = if framing == ReqFraming::Empty {
        None
    } else {
        let c = Arc::new(ReqCounter::default());
        log.req = Some(c.clone());
        let limit = plugins.as_ref().and_then(|p: &RequestState| p.body_limit);
        Some(
            ReqBody::new(body, Some(c), conn.shared.limits.body_timeout)
                .with_limit(limit)
                .with_full(full),
        )
    };
    let via = via(version);

    let sent = Instant::now();
    let gateway = sent.saturating_duration_since(started);
    log.gateway_latency = Some(gateway);
    let pool = &target.service.pool;
    let upgrade = websocket.is_some();
    let answer = pool
        .send(&method, head, body, framing, upgrade, sent.into())
        .await;
    let mut resp = match answer {
        Ok(answer) if answer.head.status == StatusCode::SWITCHING_PROTOCOLS => {
            let Some(client) = websocket else {
                return local(
                    log,
                    StatusCode::BAD_GATEWAY,
                    ErrorKind::UpstreamUnavailable,
                    BAD_GATEWAY,
                    close_header,
                );
            };
            switch_protocols(log, answer, client, via, sent)
        }
        Ok(answer) => response(log, answer, via, sent, gateway, request_id, version, close),
        Err(e) => upstream_failed(log, e, pool, request_id, version, close_header),
    };
    if let Some(state) = &plugins {
        state.response_headers(resp.headers_mut());
    }
    resp
}

/// route: answer what Portico answers itself (CONNECT, a disagreeing `:authority`, no
/// route, https required), or the matched route with the upstream path.
fn route(
    conn: &ConnInfo,
    cfg: &Compiled,
    parts: &hyper::http::request::Parts,
    websocket: bool,
    log: &mut LogState,
) -> Result<Matched, Own> {
    if parts.method == Method::CONNECT {
        // tunnels are not proxied
        return Err(Own::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorKind::BadRequest,
            METHOD_NOT_ALLOWED,
        ));
    }
    if !authority_agrees(parts) {
        return Err(Own::new(
            StatusCode::BAD_REQUEST,
            ErrorKind::BadRequest,
            BAD_REQUEST,
        ));
    }
    let authority = parts.uri.authority();
    let host: &str = match authority {
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
        .with_protocol(if websocket {
            Protocol::Ws
        } else {
            Protocol::Http
        })
        .with_src(conn.peer.ip(), conn.peer.port())
        .with_dst(conn.local.ip(), conn.local.port());
    let no_route = || Own::new(StatusCode::NOT_FOUND, ErrorKind::NoRoute, NO_ROUTE);
    let mut m = cfg.router.find(&ctx).ok_or_else(no_route)?;
    let target = cfg.routes.get(m.route_index).ok_or_else(no_route)?;
    log.route = Some(target.info.clone());
    match m.https_redirect {
        Some(code @ (301 | 302 | 307 | 308)) => {
            let location = HeaderValue::from_str(&format!("https://{}{pq}", ctx.host));
            return Err(match (location, StatusCode::from_u16(code)) {
                (Ok(l), Ok(status)) => Own {
                    status,
                    kind: ErrorKind::HttpsRequired,
                    body: "",
                    extra: vec![(&LOCATION, l)],
                },
                _ => Own::new(StatusCode::BAD_REQUEST, ErrorKind::BadRequest, BAD_REQUEST),
            });
        }
        Some(_) => {
            let mut own = Own::new(
                StatusCode::UPGRADE_REQUIRED,
                ErrorKind::HttpsRequired,
                HTTPS_REQUIRED,
            );
            // connection-specific headers are not allowed in HTTP/2
            if parts.version != Version::HTTP_2 {
                own.extra = vec![
                    (&CONNECTION, CONNECTION_UPGRADE.clone()),
                    (&UPGRADE, HTTPS_UPGRADE.clone()),
                ];
            }
            return Err(own);
        }
        None => {}
    }
    let mut path_and_query = match &target.service.path {
        None => std::mem::take(&mut m.upstream_path),
        Some(p) => m.upstream_path_for(Some(p), &ctx),
    };
    if let Some(q) = ctx.query {
        path_and_query.reserve(q.len() + 1);
        path_and_query.push('?');
        path_and_query.push_str(q);
    }
    let prefix = match ctx.path.get(..m.matched_prefix_len) {
        Some(p) if m.strip_path && m.matched_prefix_len > 0 && valid_value(p.as_bytes()) => {
            match &ctx.path {
                std::borrow::Cow::Borrowed(_) => Prefix::Raw(m.matched_prefix_len),
                std::borrow::Cow::Owned(_) => Prefix::Owned(p.to_string()),
            }
        }
        _ => Prefix::None,
    };
    let forwarded_host = match &ctx.host {
        h if h.is_empty() => ForwardedHost::None,
        std::borrow::Cow::Borrowed(h) => ForwardedHost::Prefix {
            authority: authority.is_some(),
            len: h.len(),
        },
        std::borrow::Cow::Owned(h) => ForwardedHost::Owned(h.clone()),
    };
    Ok(Matched {
        route: m.route_index,
        path_and_query,
        prefix,
        forwarded_host,
        preserve_host: m.preserve_host,
    })
}

/// access: the route's plugins in Kong's priority order; `Err`: a plugin answered.
/// `Ok(Some(body))`: a plugin read the whole body (maybe rewrote it): it is sent
/// instead of the client's stream.
async fn access(
    chain: &Chain,
    conn: &ConnInfo,
    route: &RouteInfo,
    parts: &mut hyper::http::request::Parts,
    matched: &mut Matched,
    (body, size): (&mut Incoming, BodySize),
    state: &mut RequestState,
) -> Result<Option<Bytes>, Answer> {
    let mut cx = Access {
        parts,
        path_and_query: &mut matched.path_and_query,
        peer: conn.peer.ip(),
        route,
        body_len: match size {
            BodySize::Empty => Some(0),
            BodySize::Exact(n) => Some(n),
            BodySize::Unknown => None,
        },
        has_body: size != BodySize::Empty,
        body: ClientBody {
            inner: body,
            full: None,
            timeout: conn.shared.limits.body_timeout,
        },
        state,
    };
    plugins::access(chain, &mut cx).await?;
    Ok(cx.body.full.take())
}

/// A plugin's own answer, with the response phase of the plugins that ran.
fn plugin_answer(
    log: LogState,
    answer: Answer,
    state: &RequestState,
    close: &[(&HeaderName, HeaderValue)],
) -> Response<ProxyBody> {
    let json = !answer.body.is_empty();
    let mut resp = own_answer(log, answer.status, answer.kind, answer.body, json);
    let h = resp.headers_mut();
    for (n, v) in answer.headers {
        h.insert(n, v);
    }
    for (n, v) in close {
        h.insert((*n).clone(), v.clone());
    }
    state.response_headers(h);
    resp
}

/// upstream request: the head sent upstream (`None`: it cannot be written).
fn upstream_request(
    conn: &ConnInfo,
    parts: &hyper::http::request::Parts,
    matched: &Matched,
    target: &RouteTarget,
    size: BodySize,
    websocket: bool,
) -> Option<(Vec<u8>, ReqFraming, HeaderValue)> {
    let forwarded_host: Option<&[u8]> = match &matched.forwarded_host {
        ForwardedHost::None => None,
        ForwardedHost::Prefix { authority, len } => {
            let host: &[u8] = match (authority, parts.uri.authority()) {
                (true, Some(a)) => a.as_str().as_bytes(),
                _ => parts.headers.get(HOST).map_or(&[][..], |h| h.as_bytes()),
            };
            host.get(..*len)
        }
        ForwardedHost::Owned(h) => Some(h.as_bytes()),
    }
    .filter(|h| !h.is_empty() && valid_value(h));
    RequestHead {
        conn,
        parts,
        host_header: &target.service.host_header,
        path_and_query: &matched.path_and_query,
        prefix: match &matched.prefix {
            Prefix::None => None,
            Prefix::Raw(len) => parts.uri.path().get(..*len),
            Prefix::Owned(p) => Some(p.as_str()),
        },
        forwarded_host,
        preserve_host: matched.preserve_host,
        body: size,
        websocket,
    }
    .write()
}

/// response headers: a WebSocket handshake the upstream accepted; the tunnel starts
/// once hyper hands over the client's side.
fn switch_protocols(
    mut log: LogState,
    answer: super::upstream::Answer,
    client: hyper::upgrade::OnUpgrade,
    via: HeaderValue,
    sent: Instant,
) -> Response<ProxyBody> {
    log.upstream_latency = Some(sent.elapsed());
    log.status = 101;
    log.responded = true;
    log.finished = true;
    let mut h = answer.head.headers;
    h.insert(CONNECTION, CONNECTION_UPGRADE.clone());
    h.insert(UPGRADE, WEBSOCKET.clone());
    h.append(VIA, via);
    let (upstream, early) = answer.conn.into_upgraded();
    tokio::spawn(tunnel(client, upstream, early));
    // the log step runs once, for the handshake (status 101)
    let mut resp = Response::new(ProxyBody::full(Bytes::new(), log));
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    *resp.headers_mut() = h;
    resp
}

/// response headers: the upstream's answer with Portico's headers; its body is
/// streamed to the client by [`ProxyBody`], which runs the log step at its end.
#[allow(clippy::too_many_arguments)]
fn response(
    mut log: LogState,
    answer: super::upstream::Answer,
    via: HeaderValue,
    sent: Instant,
    gateway: Duration,
    request_id: HeaderValue,
    version: Version,
    close: bool,
) -> Response<ProxyBody> {
    let upstream = sent.elapsed();
    log.upstream_latency = Some(upstream);
    let mut h = answer.head.headers;
    h.append(VIA, via);
    h.insert(X_UPSTREAM_LATENCY.clone(), millis(upstream));
    h.insert(X_PROXY_LATENCY.clone(), millis(gateway));
    if !h.contains_key(&X_REQUEST_ID) {
        h.insert(X_REQUEST_ID.clone(), request_id);
    }
    if close {
        h.insert(CONNECTION, CONNECTION_CLOSE);
    }
    log.status = answer.head.status.as_u16();
    log.responded = true;
    let mut resp = Response::new(ProxyBody::upstream(answer.body, answer.conn, log));
    *resp.status_mut() = answer.head.status;
    *resp.version_mut() = version;
    *resp.headers_mut() = h;
    resp
}

/// response headers: the upstream request failed; the answer says why (the client's
/// body failing or going over the size limit comes first).
fn upstream_failed(
    log: LogState,
    e: UpstreamError,
    pool: &super::upstream::UpstreamPool,
    request_id: HeaderValue,
    version: Version,
    close_header: &[(&HeaderName, HeaderValue)],
) -> Response<ProxyBody> {
    let flag = |f: fn(&ReqCounter) -> &std::sync::atomic::AtomicBool| {
        log.req
            .as_ref()
            .is_some_and(|c| f(c).load(std::sync::atomic::Ordering::Relaxed))
    };
    let client_failed = flag(|c| &c.failed);
    let client_slow = flag(|c| &c.timed_out);
    let too_large = flag(|c| &c.too_large);
    let (status, kind, body) = match &e {
        _ if too_large => (
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::PayloadTooLarge,
            PAYLOAD_TOO_LARGE,
        ),
        _ if client_slow => (
            StatusCode::REQUEST_TIMEOUT,
            ErrorKind::ClientAbort,
            REQUEST_TIMEOUT,
        ),
        _ if client_failed => (StatusCode::BAD_REQUEST, ErrorKind::ClientAbort, BAD_REQUEST),
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
    if !matches!(kind, ErrorKind::ClientAbort | ErrorKind::PayloadTooLarge) {
        tracing::debug!(
            upstream = %pool.key.host,
            port = pool.key.port,
            "upstream request failed: {e}"
        );
    }
    let mut resp = local(log, status, kind, body, close_header);
    resp.headers_mut().insert(X_REQUEST_ID.clone(), request_id);
    if (client_slow || client_failed || too_large) && version != Version::HTTP_2 {
        // the rest of the body may still come: not a request
        resp.headers_mut().insert(CONNECTION, CONNECTION_CLOSE);
    }
    resp
}

/// A request target Portico can send (the router builds it from the client's, which
/// hyper checked, and the upstream path): no spaces, controls or fragment.
fn valid_target(t: &str) -> bool {
    t.starts_with('/') && t.bytes().all(|b| b > b' ' && b != 0x7f && b != b'#')
}

/// Bytes that can be sent as a header value.
fn valid_value(v: &[u8]) -> bool {
    v.iter().all(|&b| (b >= b' ' && b != 0x7f) || b == b'\t')
}

fn push_header(head: &mut Vec<u8>, name: &str, value: &[u8]) {
    head.extend_from_slice(name.as_bytes());
    head.extend_from_slice(b": ");
    head.extend_from_slice(value);
    head.extend_from_slice(b"\r\n");
}

/// What the upstream request head is made of.
struct RequestHead<'a> {
    conn: &'a ConnInfo,
    parts: &'a hyper::http::request::Parts,
    /// `Host` of the upstream (unless the route preserves the client's).
    host_header: &'a HeaderValue,
    path_and_query: &'a str,
    /// `X-Forwarded-Prefix`: the part of the path the route stripped.
    prefix: Option<&'a str>,
    /// `X-Forwarded-Host`.
    forwarded_host: Option<&'a [u8]>,
    preserve_host: bool,
    /// The client's body as hyper reads it.
    body: BodySize,
    /// A WebSocket handshake: the upstream is asked to upgrade too.
    websocket: bool,
}

/// A WebSocket handshake (RFC 6455 4.1): HTTP/1.1 `GET` with `Upgrade: websocket` and
/// `Connection: upgrade`.
fn is_websocket<B>(req: &Request<B>) -> bool {
    req.version() == Version::HTTP_11
        && req.method() == Method::GET
        && req
            .headers()
            .get_all(UPGRADE)
            .iter()
            .any(|v| v.as_bytes().trim_ascii().eq_ignore_ascii_case(b"websocket"))
        && req.headers().get_all(CONNECTION).iter().any(|v| {
            v.as_bytes()
                .split(|b| *b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"upgrade"))
        })
}

/// Relay bytes both ways between the client and the upstream until either side
/// closes; `early`: what the upstream sent right after its 101.
async fn tunnel(
    client: hyper::upgrade::OnUpgrade,
    mut upstream: super::upstream::Stream,
    early: bytes::BytesMut,
) {
    use tokio::io::AsyncWriteExt;
    let Ok(client) = client.await else {
        return;
    };
    let mut client = hyper_util::rt::TokioIo::new(client);
    if !early.is_empty() && client.write_all(&early).await.is_err() {
        return;
    }
    if let Err(e) = tokio::io::copy_bidirectional(&mut client, &mut upstream).await {
        tracing::debug!("websocket tunnel ended: {e}");
    }
}

/// The size of the client's body, as hyper read its framing (`Content-Length`, chunked,
/// or HTTP/2 frames): the upstream request's framing is written from this alone, never
/// copied from the client's headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodySize {
    Empty,
    Exact(u64),
    Unknown,
}

impl BodySize {
    fn of(body: &Incoming) -> Self {
        if body.is_end_stream() {
            return BodySize::Empty;
        }
        match body.size_hint().exact() {
            Some(0) => BodySize::Empty,
            Some(n) => BodySize::Exact(n),
            None => BodySize::Unknown,
        }
    }
}

/// An HTTP/2 request's `:authority` and `Host` name the same host (when both are
/// given).
fn authority_agrees(parts: &hyper::http::request::Parts) -> bool {
    if parts.version != Version::HTTP_2 {
        return true;
    }
    match (parts.uri.authority(), parts.headers.get(HOST)) {
        (Some(a), Some(h)) => a.as_str().as_bytes().eq_ignore_ascii_case(h.as_bytes()),
        _ => true,
    }
}

/// Cookies Portico sets for its own UI (sessions, one-time tokens, flash messages):
/// never sent upstream, since the UI and the proxy may share a host name.
fn portico_cookie(name: &[u8]) -> bool {
    let name = name
        .strip_prefix(b"__Host-")
        .or_else(|| name.strip_prefix(b"__Secure-"))
        .unwrap_or(name);
    name.starts_with(b"portico_")
}

/// A `Cookie` value without Portico's own cookies (`None`: none is left).
fn strip_portico_cookies(v: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(v.len());
    for pair in v.split(|b| *b == b';') {
        let pair = pair.trim_ascii();
        if pair.is_empty() {
            continue;
        }
        let name = pair
            .split(|b| *b == b'=')
            .next()
            .unwrap_or(pair)
            .trim_ascii();
        if portico_cookie(name) {
            continue;
        }
        if !out.is_empty() {
            out.extend_from_slice(b"; ");
        }
        out.extend_from_slice(pair);
    }
    (!out.is_empty()).then_some(out)
}

impl RequestHead<'_> {
    /// The head, written once: the request line, the client's headers less the
    /// hop-by-hop ones and those Portico sets, then Portico's. Also the body's framing
    /// and the request id (the client's or a new one). `None`: a target or
    /// `Content-Length` that cannot be sent.
    fn write(&self) -> Option<(Vec<u8>, ReqFraming, HeaderValue)> {
        let parts = self.parts;
        let h = &parts.headers;
        if !valid_target(self.path_and_query) {
            return None;
        }
        let mut head = Vec::with_capacity(384 + self.path_and_query.len() + 48 * h.len());
        head.extend_from_slice(parts.method.as_str().as_bytes());
        head.push(b' ');
        head.extend_from_slice(self.path_and_query.as_bytes());
        head.extend_from_slice(b" HTTP/1.1\r\n");
        if !self.preserve_host {
            push_header(&mut head, "host", self.host_header.as_bytes());
        }
        // the headers `Connection` names
        let named: Vec<HeaderName> = match h.get(CONNECTION) {
            Some(_) => connection_named(h.get_all(CONNECTION).iter()).collect(),
            None => Vec::new(),
        };
        let mut host_seen = false;
        let mut request_id: Option<&HeaderValue> = None;
        let mut xff: Option<&HeaderValue> = None;
        let mut xff_more = false;
        for (n, v) in h.iter() {
            if let Some(kind) = special_request_header(n) {
                match kind {
                    Special::Skip => continue,
                    Special::Host => {
                        // an absolute-form target's authority is the host
                        // (RFC 9112 3.2.2)
                        if self.preserve_host && !host_seen && parts.uri.authority().is_none() {
                            host_seen = true;
                            push_header(&mut head, "host", v.as_bytes());
                        }
                        continue;
                    }
                    Special::Cookie => {
                        if memchr_portico(v.as_bytes()) {
                            if let Some(kept) = strip_portico_cookies(v.as_bytes()) {
                                push_header(&mut head, "cookie", &kept);
                            }
                            continue;
                        }
                    }
                    Special::ForwardedFor => {
                        xff_more |= xff.is_some();
                        xff = Some(v);
                        continue;
                    }
                    Special::RequestId => {
                        request_id.get_or_insert(v);
                    }
                }
            }
            if !named.is_empty() && named.contains(n) {
                continue;
            }
            push_header(&mut head, n.as_str(), v.as_bytes());
        }
        if self.preserve_host && !host_seen {
            if let Some(a) = parts.uri.authority() {
                push_header(&mut head, "host", a.as_str().as_bytes());
            }
        }
        head.extend_from_slice(b"x-forwarded-for: ");
        if xff_more {
            for v in h.get_all(&X_FORWARDED_FOR) {
                head.extend_from_slice(v.as_bytes());
                head.extend_from_slice(b", ");
            }
        } else if let Some(v) = xff {
            head.extend_from_slice(v.as_bytes());
            head.extend_from_slice(b", ");
        }
        head.extend_from_slice(self.conn.peer_ip.as_bytes());
        head.extend_from_slice(b"\r\nx-forwarded-proto: http\r\n");
        if let Some(v) = self.forwarded_host {
            push_header(&mut head, "x-forwarded-host", v);
        }
        push_header(
            &mut head,
            "x-forwarded-port",
            self.conn.local_port.as_bytes(),
        );
        if let Some(p) = self.prefix {
            push_header(&mut head, "x-forwarded-prefix", p.as_bytes());
        }
        push_header(&mut head, "via", via(parts.version).as_bytes());
        if self.websocket {
            // what Kong sends upstream for a WebSocket handshake
            head.extend_from_slice(b"connection: keep-alive, Upgrade\r\nupgrade: websocket\r\n");
        }
        let request_id = match request_id {
            // a copy: a clone would keep hyper's whole read buffer alive
            Some(v) => HeaderValue::from_bytes(v.as_bytes()).ok()?,
            None => {
                let id = request_id_value();
                push_header(&mut head, "x-request-id", id.as_bytes());
                id
            }
        };
        let framing = match self.body {
            BodySize::Empty => {
                if matches!(parts.method, Method::POST | Method::PUT | Method::PATCH) {
                    head.extend_from_slice(b"content-length: 0\r\n");
                }
                ReqFraming::Empty
            }
            BodySize::Exact(n) => {
                head.extend_from_slice(b"content-length: ");
                head.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
                head.extend_from_slice(b"\r\n");
                ReqFraming::Length(n)
            }
            BodySize::Unknown => {
                head.extend_from_slice(b"transfer-encoding: chunked\r\n");
                ReqFraming::Chunked
            }
        };
        head.extend_from_slice(b"\r\n");
        Some((head, framing, request_id))
    }
}

/// Whether a `Cookie` value may hold one of Portico's cookies (a quick look first: most
/// do not).
fn memchr_portico(v: &[u8]) -> bool {
    v.windows(8).any(|w| w == b"portico_")
}

/// Request headers that are not simply copied upstream.
enum Special {
    /// Hop-by-hop, `Expect` (100-continue is handled with the client), the framing
    /// (`Content-Length`: Portico writes its own) and the `X-Forwarded-*` Portico
    /// sets.
    Skip,
    Host,
    ForwardedFor,
    /// Copied without Portico's own cookies.
    Cookie,
    /// Copied, and kept for the response.
    RequestId,
}

fn special_request_header(n: &HeaderName) -> Option<Special> {
    if is_hop_by_hop(n) || n == EXPECT {
        return Some(Special::Skip);
    }
    if n == HOST {
        return Some(Special::Host);
    }
    if n == CONTENT_LENGTH {
        return Some(Special::Skip);
    }
    if n == COOKIE {
        return Some(Special::Cookie);
    }
    let s = n.as_str();
    if s.len() < 12 || !s.starts_with("x-") {
        return None;
    }
    if n == X_REQUEST_ID {
        return Some(Special::RequestId);
    }
    if n == X_FORWARDED_FOR {
        return Some(Special::ForwardedFor);
    }
    if n == X_FORWARDED_PROTO
        || n == X_FORWARDED_HOST
        || n == X_FORWARDED_PORT
        || n == X_FORWARDED_PREFIX
    {
        return Some(Special::Skip);
    }
    None
}
