//! The log step of the data plane: one [`LogEntry`] per request, handed to a
//! [`LogSink`] once the response is finished (its body fully handed to the
//! connection, or dropped because the client went away or the upstream failed).
//!
//! Latencies are whole microseconds (`u64`):
//! - `total_latency_us`: from the request's arrival (its headers parsed) to the end of
//!   the response (last body byte handed to the connection, or the abort);
//! - `upstream_latency_us`: from sending the request upstream to receiving the
//!   upstream's response headers (`None` when nothing was sent upstream: Portico
//!   answered itself, or the connection failed);
//! - `gateway_latency_us`: the time Portico spent before the request went upstream
//!   (matching, rewriting, getting a connection); for Portico's own answers, the time
//!   until the answer was ready.
//!
//! Byte counts are body bytes (`request_bytes`: read from the client and forwarded;
//! `response_bytes`: handed to the client), headers not included.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Why Portico answered (or ended) a request itself instead of relaying the upstream's
/// complete response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// No configuration applied yet: 503.
    NotReady,
    /// The request cannot be proxied: a target that is no valid upstream URI (400),
    /// or the CONNECT method (405).
    BadRequest,
    /// No route matched: 404.
    NoRoute,
    /// An https-only route reached over http: 426 or the route's redirect code.
    HttpsRequired,
    /// The upstream could not be reached (connection refused after the retries) or
    /// gave no valid response: 502.
    UpstreamUnavailable,
    /// Connecting, reading from or writing to the upstream timed out: 504 (or the
    /// response was cut short when it happened while streaming the body).
    UpstreamTimeout,
    /// The upstream failed while its response body was streamed (the response was
    /// cut short).
    UpstreamAbort,
    /// The client went away before the response was complete (status 499 when it
    /// left before the response headers).
    ClientAbort,
    /// A plugin refused the request for want of valid credentials (key-auth, acl
    /// without a consumer): 401.
    Unauthorized,
    /// A plugin refused the request (acl, ip-restriction): 403 or the configured status.
    Forbidden,
    /// rate-limiting: 429 or the configured `error_code`.
    RateLimited,
    /// request-size-limiting: 413 (417 after `Expect: 100-continue`), also when a
    /// streamed body went over the limit.
    PayloadTooLarge,
    /// request-size-limiting with `require_content_length`: 411.
    LengthRequired,
    /// A plugin failed (rate-limiting's store with `fault_tolerant: false`, a missing
    /// anonymous consumer): 500.
    PluginError,
}

impl ErrorKind {
    /// Stable lower-case name (the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotReady => "not_ready",
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::NoRoute => "no_route",
            ErrorKind::HttpsRequired => "https_required",
            ErrorKind::UpstreamUnavailable => "upstream_unavailable",
            ErrorKind::UpstreamTimeout => "upstream_timeout",
            ErrorKind::UpstreamAbort => "upstream_abort",
            ErrorKind::ClientAbort => "client_abort",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::PayloadTooLarge => "payload_too_large",
            ErrorKind::LengthRequired => "length_required",
            ErrorKind::PluginError => "plugin_error",
        }
    }
}

/// What a log entry knows about the matched route (shared by all requests of the
/// route in one applied snapshot: cloning it is one atomic increment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteInfo {
    pub route_id: String,
    pub route_name: Option<String>,
    pub package_id: String,
    pub package_key: String,
    pub version_id: String,
    pub version_name: String,
}

/// One request as the log step sees it.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    /// When the request arrived.
    pub time: DateTime<Utc>,
    /// The runtime group of the data plane.
    pub runtime_group: Arc<str>,
    /// The matched route and its service version; `None` when no route matched.
    pub route: Option<Arc<RouteInfo>>,
    /// Request method.
    #[serde(serialize_with = "serialize_method")]
    pub method: hyper::Method,
    /// Status sent to the client (499 when the client left before the headers).
    pub status: u16,
    /// Request body bytes read from the client.
    pub request_bytes: u64,
    /// Response body bytes handed to the client.
    pub response_bytes: u64,
    pub total_latency_us: u64,
    pub upstream_latency_us: Option<u64>,
    pub gateway_latency_us: u64,
    /// Set when Portico answered itself or the exchange was cut short.
    pub error: Option<ErrorKind>,
    /// The consumer a plugin identified (key-auth), by id; `None`: anonymous or no
    /// authentication.
    pub consumer: Option<Arc<str>>,
}

fn serialize_method<S: serde::Serializer>(m: &hyper::Method, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(m.as_str())
}

impl LogEntry {
    pub fn route_id(&self) -> Option<&str> {
        self.route.as_deref().map(|r| r.route_id.as_str())
    }
    pub fn route_name(&self) -> Option<&str> {
        self.route.as_deref().and_then(|r| r.route_name.as_deref())
    }
    pub fn package_id(&self) -> Option<&str> {
        self.route.as_deref().map(|r| r.package_id.as_str())
    }
    pub fn version_id(&self) -> Option<&str> {
        self.route.as_deref().map(|r| r.version_id.as_str())
    }
}

/// Receives one [`LogEntry`] per request, on the request's task, after the response
/// is finished: it must be quick and must not block (hand heavy work to a channel).
pub trait LogSink: Send + Sync + 'static {
    fn log(&self, entry: LogEntry);
}

/// The default sink: atomic counters (requests, per status class, Portico's own
/// answers, bytes). Cheap enough for every request.
#[derive(Debug, Default)]
pub struct CountingSink {
    requests: AtomicU64,
    /// 1xx..5xx at 0..4; anything else (e.g. 499) counts as index 5.
    classes: [AtomicU64; 6],
    errors: AtomicU64,
    request_bytes: AtomicU64,
    response_bytes: AtomicU64,
}

/// A copy of a [`CountingSink`]'s counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub requests: u64,
    pub status_1xx: u64,
    pub status_2xx: u64,
    pub status_3xx: u64,
    pub status_4xx: u64,
    pub status_5xx: u64,
    pub status_other: u64,
    /// Requests Portico answered itself or cut short.
    pub errors: u64,
    pub request_bytes: u64,
    pub response_bytes: u64,
}

impl CountingSink {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn counts(&self) -> Counts {
        let c = |i: usize| self.classes[i].load(Ordering::Relaxed);
        Counts {
            requests: self.requests.load(Ordering::Relaxed),
            status_1xx: c(0),
            status_2xx: c(1),
            status_3xx: c(2),
            status_4xx: c(3),
            status_5xx: c(4),
            status_other: c(5),
            errors: self.errors.load(Ordering::Relaxed),
            request_bytes: self.request_bytes.load(Ordering::Relaxed),
            response_bytes: self.response_bytes.load(Ordering::Relaxed),
        }
    }
}

impl LogSink for CountingSink {
    fn log(&self, entry: LogEntry) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let class = match entry.status {
            100..=599 if entry.status != 499 => usize::from(entry.status / 100 - 1),
            _ => 5,
        };
        self.classes[class].fetch_add(1, Ordering::Relaxed);
        if entry.error.is_some() {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        self.request_bytes
            .fetch_add(entry.request_bytes, Ordering::Relaxed);
        self.response_bytes
            .fetch_add(entry.response_bytes, Ordering::Relaxed);
    }
}

impl<T: LogSink> LogSink for Arc<T> {
    fn log(&self, entry: LogEntry) {
        (**self).log(entry)
    }
}
