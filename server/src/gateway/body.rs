//! Streaming bodies: the client's request body on its way upstream (counted), and the
//! response body on its way to the client (counted; carries the request's log state
//! and the upstream connection, so that its end or drop fires the log step exactly
//! once and gives the connection back to its pool when the response was complete).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::time::Sleep;

use super::dataplane::Shared;
use super::h1client::{BodyEvent, RespBody};
use super::limits::Activity;
use super::log::{ErrorKind, LogEntry, RouteInfo};
use super::upstream::PooledConn;

/// Request body bytes seen so far, shared between the request body and the log state.
#[derive(Debug, Default)]
pub(crate) struct ReqCounter {
    pub bytes: AtomicU64,
    pub failed: AtomicBool,
    /// The client sent nothing for the body timeout.
    pub timed_out: AtomicBool,
    /// The body went over request-size-limiting's limit and was cut off.
    pub too_large: AtomicBool,
}

/// The client's request body, forwarded upstream as it arrives; fails when the client
/// sends nothing of it for `timeout` (so a trickled body cannot hold an upstream
/// connection forever).
pub(crate) struct ReqBody {
    inner: Incoming,
    counter: Option<Arc<ReqCounter>>,
    timeout: Duration,
    /// Armed when a wait for the client begins (made on the first wait).
    timer: Option<Pin<Box<Sleep>>>,
    waiting: bool,
    /// request-size-limiting: the body fails once more than this many bytes came.
    limit: Option<u64>,
    seen: u64,
    /// The body as a plugin read (and maybe rewrote) it; `inner` has ended then.
    full: Option<Bytes>,
}

impl ReqBody {
    pub(crate) fn new(
        inner: Incoming,
        counter: Option<Arc<ReqCounter>>,
        timeout: Duration,
    ) -> Self {
        ReqBody {
            inner,
            counter,
            timeout,
            timer: None,
            waiting: false,
            limit: None,
            seen: 0,
            full: None,
        }
    }

    /// The body a plugin read whole (`inner` has ended): sent instead.
    pub(crate) fn with_full(mut self, full: Option<Bytes>) -> Self {
        self.full = full.filter(|b| !b.is_empty());
        self
    }

    /// Fail the body once more than `limit` bytes came (request-size-limiting).
    pub(crate) fn with_limit(mut self, limit: Option<u64>) -> Self {
        self.limit = limit;
        self
    }
}

impl Body for ReqBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if let Some(b) = this.full.take() {
            if let Some(c) = &this.counter {
                c.bytes.fetch_add(b.len() as u64, Ordering::Relaxed);
            }
            return Poll::Ready(Some(Ok(Frame::data(b))));
        }
        let r = match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Pending => {
                let deadline = tokio::time::Instant::now() + this.timeout;
                let timer = match &mut this.timer {
                    Some(t) => {
                        if !this.waiting {
                            t.as_mut().reset(deadline);
                        }
                        t
                    }
                    None => this
                        .timer
                        .insert(Box::pin(tokio::time::sleep_until(deadline))),
                };
                this.waiting = true;
                if timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                if let Some(c) = &this.counter {
                    c.timed_out.store(true, Ordering::Relaxed);
                }
                Poll::Ready(Some(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client sent nothing of the request body for the body timeout",
                ))))
            }
            Poll::Ready(r) => Poll::Ready(r.map(|f| f.map_err(io::Error::other))),
        };
        this.waiting = false;
        if let (Some(limit), Poll::Ready(Some(Ok(f)))) = (this.limit, &r) {
            this.seen += f.data_ref().map_or(0, |d| d.len() as u64);
            if this.seen > limit {
                if let Some(c) = &this.counter {
                    c.too_large.store(true, Ordering::Relaxed);
                }
                return Poll::Ready(Some(Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the request body is over the size limit",
                ))));
            }
        }
        if let Some(c) = &this.counter {
            match &r {
                Poll::Ready(Some(Ok(f))) => {
                    if let Some(d) = f.data_ref() {
                        c.bytes.fetch_add(d.len() as u64, Ordering::Relaxed);
                    }
                }
                Poll::Ready(Some(Err(_))) => c.failed.store(true, Ordering::Relaxed),
                _ => {}
            }
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.full.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        match &self.full {
            Some(b) => SizeHint::with_exact(b.len() as u64),
            None => self.inner.size_hint(),
        }
    }
}

/// What the log step records about one request, filled in as the request goes; its
/// `Drop` hands the [`LogEntry`] to the sink (exactly once, since it is owned by the
/// request future and then by the response body).
pub(crate) struct LogState {
    shared: Arc<Shared>,
    /// The client connection's count of requests in flight (this one ends on drop).
    activity: Arc<Activity>,
    time: SystemTime,
    pub started: Instant,
    method: hyper::Method,
    pub route: Option<Arc<RouteInfo>>,
    pub status: u16,
    pub req: Option<Arc<ReqCounter>>,
    pub response_bytes: u64,
    pub upstream_latency: Option<Duration>,
    pub gateway_latency: Option<Duration>,
    pub error: Option<ErrorKind>,
    /// The consumer identified by an auth plugin (id).
    pub consumer: Option<Arc<str>>,
    /// The route's `prometheus` plugin config, when one applies: the log step then
    /// records the request in the node's metrics.
    #[allow(dead_code)] // read by the metrics of the log step (in progress)
    pub prometheus: Option<Arc<portico_plugins::config::Prometheus>>,
    /// Response headers were produced.
    pub responded: bool,
    /// The response body was handed over completely.
    pub finished: bool,
}

impl LogState {
    pub(crate) fn new(
        shared: Arc<Shared>,
        activity: Arc<Activity>,
        time: SystemTime,
        started: Instant,
        method: hyper::Method,
    ) -> Self {
        activity.begin();
        LogState {
            shared,
            activity,
            time,
            started,
            method,
            route: None,
            status: 0,
            req: None,
            response_bytes: 0,
            upstream_latency: None,
            gateway_latency: None,
            consumer: None,
            prometheus: None,
            error: None,
            responded: false,
            finished: false,
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Drop for LogState {
    fn drop(&mut self) {
        let total = self.started.elapsed();
        let (status, error) = if !self.responded {
            (499, Some(ErrorKind::ClientAbort))
        } else if !self.finished {
            (
                self.status,
                Some(self.error.unwrap_or(ErrorKind::ClientAbort)),
            )
        } else {
            (self.status, self.error)
        };
        let entry = LogEntry {
            time: self.time.into(),
            runtime_group: self.shared.runtime_group.clone(),
            route: self.route.take(),
            method: std::mem::take(&mut self.method),
            status,
            request_bytes: self
                .req
                .as_ref()
                .map_or(0, |c| c.bytes.load(Ordering::Relaxed)),
            response_bytes: self.response_bytes,
            total_latency_us: micros(total),
            upstream_latency_us: self.upstream_latency.map(micros),
            gateway_latency_us: micros(self.gateway_latency.unwrap_or(total)),
            error,
            consumer: self.consumer.take(),
        };
        self.shared.requests.fetch_add(1, Ordering::Relaxed);
        self.shared.sink.log(entry);
        self.activity.end();
    }
}

enum Kind {
    Upstream {
        body: RespBody,
        /// `None` once the body ended or failed.
        conn: Option<PooledConn>,
    },
    Full(Option<Bytes>),
}

/// The response body sent to the client.
pub(crate) struct ProxyBody {
    kind: Kind,
    log: LogState,
}

impl ProxyBody {
    pub(crate) fn full(bytes: Bytes, log: LogState) -> Self {
        let kind = Kind::Full((!bytes.is_empty()).then_some(bytes));
        ProxyBody { kind, log }
    }

    pub(crate) fn upstream(body: RespBody, conn: PooledConn, log: LogState) -> Self {
        ProxyBody {
            kind: Kind::Upstream {
                body,
                conn: Some(conn),
            },
            log,
        }
    }
}

/// The upstream body ended: the connection goes back to its pool when it can take
/// another request.
fn finish(log: &mut LogState, body: &RespBody, conn: &mut Option<PooledConn>) {
    log.finished = true;
    if let Some(c) = conn.take() {
        if body.reusable() {
            c.release();
        }
    }
}

impl Body for ProxyBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        let log = &mut this.log;
        match &mut this.kind {
            Kind::Full(b) => match b.take() {
                Some(b) => {
                    log.response_bytes += b.len() as u64;
                    log.finished = true;
                    Poll::Ready(Some(Ok(Frame::data(b))))
                }
                None => {
                    log.finished = true;
                    Poll::Ready(None)
                }
            },
            Kind::Upstream { body, conn } => {
                let Some(c) = conn.as_mut() else {
                    return Poll::Ready(None);
                };
                match body.poll_next(c.conn(), cx) {
                    Poll::Ready(Ok(BodyEvent::Data(d))) => {
                        log.response_bytes += d.len() as u64;
                        if body.is_end() {
                            finish(log, body, conn);
                        }
                        Poll::Ready(Some(Ok(Frame::data(d))))
                    }
                    Poll::Ready(Ok(BodyEvent::Trailers(t))) => {
                        finish(log, body, conn);
                        Poll::Ready(Some(Ok(Frame::trailers(t))))
                    }
                    Poll::Ready(Ok(BodyEvent::End)) => {
                        finish(log, body, conn);
                        Poll::Ready(None)
                    }
                    Poll::Ready(Err(e)) => {
                        let client_failed = log
                            .req
                            .as_ref()
                            .is_some_and(|c| c.failed.load(Ordering::Relaxed));
                        let too_large = log
                            .req
                            .as_ref()
                            .is_some_and(|c| c.too_large.load(Ordering::Relaxed));
                        log.error = Some(if too_large {
                            ErrorKind::PayloadTooLarge
                        } else if client_failed {
                            ErrorKind::ClientAbort
                        } else if e.kind() == io::ErrorKind::TimedOut {
                            ErrorKind::UpstreamTimeout
                        } else {
                            ErrorKind::UpstreamAbort
                        });
                        *conn = None;
                        Poll::Ready(Some(Err(e)))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(b) => b.is_none(),
            Kind::Upstream { body, .. } => body.is_end(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Upstream { body, .. } => match body.exact_len() {
                Some(n) => SizeHint::with_exact(n),
                None => SizeHint::default(),
            },
        }
    }
}

impl Drop for ProxyBody {
    fn drop(&mut self) {
        if self.log.finished {
            return;
        }
        match &mut self.kind {
            // Portico's own answers are handed over at once (HEAD: not at all).
            Kind::Full(_) => self.log.finished = true,
            Kind::Upstream { body, conn } => {
                if body.is_end() && self.log.error.is_none() {
                    // nothing was streamed (HEAD, 204, 304, empty body) or the end
                    // was not polled
                    finish(&mut self.log, body, conn);
                }
            }
        }
    }
}
