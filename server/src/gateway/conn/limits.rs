//! What a data plane allows its clients, so that slow and greedy ones cannot hold its
//! connections, memory or upstream connections: each limit is a flag of `portico serve`
//! and `portico gateway` (`--proxy-…`), with nginx's or Kong's default where they have
//! one.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The limits of one data plane's proxy listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyLimits {
    /// Time a client has to send a complete request head; also how long an idle
    /// HTTP/1 keep-alive connection waits for its next request (nginx's
    /// `client_header_timeout`, 60 s).
    pub header_timeout: Duration,
    /// Longest wait for the next piece of a request body, after which the request
    /// fails with 408 and its upstream connection is closed (nginx's
    /// `client_body_timeout`, 60 s).
    pub body_timeout: Duration,
    /// A connection with no request in flight for this long is closed (HTTP/2: a
    /// GOAWAY first); nginx's `keepalive_timeout`, Kong's 60 s.
    pub idle_timeout: Duration,
    /// Client connections open at once on one listener; further ones wait in the
    /// kernel's backlog until one closes.
    pub max_connections: usize,
    /// Largest request head (request line and headers, or an HTTP/2 header list):
    /// larger ones are refused (HTTP/1: 400, or 431 from hyper).
    pub max_head_bytes: usize,
    /// HTTP/2: a PING this often on a quiet connection (`None`: never) ...
    pub h2_keepalive_interval: Option<Duration>,
    /// ... which must be answered within this time, or the connection is closed.
    pub h2_keepalive_timeout: Duration,
}

impl Default for ProxyLimits {
    fn default() -> Self {
        ProxyLimits {
            header_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(60),
            max_connections: 10_000,
            max_head_bytes: 32 * 1024,
            h2_keepalive_interval: Some(Duration::from_secs(30)),
            h2_keepalive_timeout: Duration::from_secs(20),
        }
    }
}

/// Requests in flight on one client connection, and when the last one ended: what the
/// idle timeout watches.
#[derive(Debug)]
pub(crate) struct Activity {
    base: Instant,
    active: AtomicU32,
    /// Milliseconds after `base` when a request last ended.
    last_ms: AtomicU64,
}

impl Activity {
    pub(crate) fn new() -> Self {
        Activity {
            base: Instant::now(),
            active: AtomicU32::new(0),
            last_ms: AtomicU64::new(0),
        }
    }

    pub(crate) fn begin(&self) {
        self.active.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn end(&self) {
        let ms = u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
        self.active.fetch_sub(1, Ordering::Relaxed);
    }

    /// How long the connection has had no request in flight (`None`: one is).
    pub(crate) fn idle_for(&self) -> Option<Duration> {
        if self.active.load(Ordering::Relaxed) > 0 {
            return None;
        }
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        Some(self.base.elapsed().saturating_sub(last))
    }
}
