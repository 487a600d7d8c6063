//! Upstream connections: connect with retries and a timeout per attempt, optional TLS,
//! read/write timeouts on the socket, and a keep-alive pool of HTTP/1.1 connections
//! per upstream (scheme, host, port and timeouts).
//!
//! A pooled connection is taken for one request and given back when the upstream's
//! response body has been read to its end (see `body.rs`); a response cut short
//! closes its connection. Pools live as long as a snapshot uses them: a new snapshot
//! with an equal upstream keeps the same pool (and its warm connections).

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use super::body::ReqBody;

/// Idle connections kept per upstream.
const MAX_IDLE: usize = 512;
/// An idle connection older than this is closed instead of reused.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// What makes two upstreams share a pool.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct UpstreamKey {
    pub https: bool,
    pub host: String,
    pub port: u16,
    pub retries: u32,
    pub connect_timeout_ms: u64,
    pub read_timeout_ms: u64,
    pub write_timeout_ms: u64,
}

/// Counters shared by all pools of a data plane.
#[derive(Debug, Default)]
pub(crate) struct UpstreamStats {
    pub connect_attempts: AtomicU64,
    pub connect_failures: AtomicU64,
}

/// Why a request could not be relayed.
#[derive(Debug)]
pub(crate) enum UpstreamError {
    /// Name resolution failed.
    Resolve(String),
    /// Every connection attempt failed; the last one with this error.
    Connect(String),
    /// Every connection attempt failed; the last one timed out.
    ConnectTimeout,
    /// Sending the request or reading the response headers timed out.
    Timeout,
    /// The upstream sent no valid response.
    Failed(String),
}

impl std::fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpstreamError::Resolve(e) => write!(f, "name resolution failed: {e}"),
            UpstreamError::Connect(e) => write!(f, "connection failed: {e}"),
            UpstreamError::ConnectTimeout => f.write_str("connection timed out"),
            UpstreamError::Timeout => f.write_str("timed out"),
            UpstreamError::Failed(e) => write!(f, "invalid response: {e}"),
        }
    }
}

/// Whether an error (or one of its sources) is an I/O timeout.
pub(crate) fn is_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<io::Error>() {
            if io.kind() == io::ErrorKind::TimedOut {
                return true;
            }
        }
        cur = err.source();
    }
    false
}

fn tls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let mut config = match rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
            {
                Ok(b) => b.with_root_certificates(roots).with_no_client_auth(),
                // The ring provider supports the default versions; keep a working
                // config anyway.
                Err(_) => rustls::ClientConfig::builder()
                    .with_root_certificates(rustls::RootCertStore {
                        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                    })
                    .with_no_client_auth(),
            };
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            Arc::new(config)
        })
        .clone()
}

/// The transport of an upstream connection.
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }
    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A stream with Kong's (nginx's) socket timeouts: a read that waits longer than the
/// read timeout since the last read or write fails with `TimedOut`, and so does a
/// write that cannot proceed for the write timeout. The read timer only runs while
/// the connection is in use (`active`), so idle pooled connections stay open.
pub(crate) struct TimedIo {
    inner: Stream,
    active: Arc<AtomicBool>,
    read_timeout: Duration,
    write_timeout: Duration,
    read_sleep: Pin<Box<Sleep>>,
    read_armed: bool,
    write_sleep: Pin<Box<Sleep>>,
    write_armed: bool,
}

fn timed_out(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("upstream {what} timed out"),
    )
}

impl TimedIo {
    fn new(
        inner: Stream,
        active: Arc<AtomicBool>,
        read_timeout: Duration,
        write_timeout: Duration,
    ) -> Self {
        let now = Instant::now();
        TimedIo {
            inner,
            active,
            read_timeout,
            write_timeout,
            read_sleep: Box::pin(tokio::time::sleep_until(now + read_timeout)),
            read_armed: false,
            write_sleep: Box::pin(tokio::time::sleep_until(now + write_timeout)),
            write_armed: false,
        }
    }

    /// `wrote`: bytes were written (restarts the read timer: nginx counts the read
    /// timeout from the last write of the request).
    fn write_result<T>(
        &mut self,
        cx: &mut Context<'_>,
        r: Poll<io::Result<T>>,
        wrote: bool,
    ) -> Poll<io::Result<T>> {
        match r {
            Poll::Ready(r) => {
                self.write_armed = false;
                if wrote {
                    self.read_armed = false;
                }
                Poll::Ready(r)
            }
            Poll::Pending => {
                if !self.write_armed {
                    let deadline = Instant::now() + self.write_timeout;
                    self.write_sleep.as_mut().reset(deadline);
                    self.write_armed = true;
                }
                if self.write_sleep.as_mut().poll(cx).is_ready() {
                    self.write_armed = false;
                    return Poll::Ready(Err(timed_out("write")));
                }
                Poll::Pending
            }
        }
    }
}

impl AsyncRead for TimedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                this.read_armed = false;
                Poll::Ready(r)
            }
            Poll::Pending => {
                if !this.active.load(Ordering::Acquire) {
                    this.read_armed = false;
                    return Poll::Pending;
                }
                if !this.read_armed {
                    let deadline = Instant::now() + this.read_timeout;
                    this.read_sleep.as_mut().reset(deadline);
                    this.read_armed = true;
                }
                if this.read_sleep.as_mut().poll(cx).is_ready() {
                    this.read_armed = false;
                    return Poll::Ready(Err(timed_out("read")));
                }
                Poll::Pending
            }
        }
    }
}

impl AsyncWrite for TimedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        let wrote = matches!(r, Poll::Ready(Ok(n)) if n > 0);
        this.write_result(cx, r, wrote)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        let wrote = matches!(r, Poll::Ready(Ok(n)) if n > 0);
        this.write_result(cx, r, wrote)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_flush(cx);
        this.write_result(cx, r, false)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

type Conn = hyper::client::conn::http1::Connection<TokioIo<TimedIo>, ReqBody>;

/// A request that failed: given back before it was written, or failed.
enum Sent {
    NotSent(Box<Request<ReqBody>>),
    Failed(UpstreamError),
}

/// One upstream connection: the request sender and the connection itself. The
/// connection is not a task of its own: whoever uses it drives it (the request future
/// until the response headers, then the response body), which saves a task switch
/// and a cross-task wake-up per read and write. Idle connections are not driven; one
/// is polled once when taken from the pool, which notices an upstream that closed it.
struct Connection {
    sender: SendRequest<ReqBody>,
    conn: Pin<Box<Conn>>,
    /// The connection future has completed (closed or failed).
    done: bool,
    active: Arc<AtomicBool>,
    /// When it was last taken for a request (or opened): how long it has been idle
    /// is measured from there, which saves reading the clock when it is released.
    since: Instant,
}

impl Connection {
    fn poll_conn(&mut self, cx: &mut Context<'_>) {
        if self.done {
            return;
        }
        if let Poll::Ready(r) = self.conn.as_mut().poll(cx) {
            self.done = true;
            if let Err(e) = r {
                tracing::debug!("upstream connection ended: {e}");
            }
        }
    }

    /// Whether a new request can be sent now.
    fn usable(&mut self, cx: &mut Context<'_>) -> bool {
        self.poll_conn(cx);
        !self.done && !self.sender.is_closed() && self.sender.is_ready()
    }
}

/// A connection taken from its pool (or just opened) for one request.
pub(crate) struct PooledConn {
    c: Connection,
    pool: Arc<UpstreamPool>,
}

impl PooledConn {
    /// The connection future has completed.
    pub(crate) fn is_done(&self) -> bool {
        self.c.done
    }

    /// Drive the connection (read and write what can be).
    pub(crate) fn poll_conn(&mut self, cx: &mut Context<'_>) {
        self.c.poll_conn(cx)
    }

    /// Send a request, driving the connection until the response headers arrive.
    async fn request(&mut self, req: Request<ReqBody>) -> Result<Response<Incoming>, Sent> {
        let c = &mut self.c;
        c.active.store(true, Ordering::Release);
        let fut = c.sender.try_send_request(req);
        let mut fut = std::pin::pin!(fut);
        std::future::poll_fn(|cx| {
            c.poll_conn(cx);
            match fut.as_mut().poll(cx) {
                Poll::Ready(Ok(resp)) => Poll::Ready(Ok(resp)),
                Poll::Ready(Err(mut e)) => Poll::Ready(Err(match e.take_message() {
                    Some(req) => Sent::NotSent(Box::new(req)),
                    None => Sent::Failed(classify(&e.into_error())),
                })),
                // the connection ended without answering (hyper reports that as an
                // error first; this only guards against waiting forever)
                Poll::Pending if c.done => Poll::Ready(Err(Sent::Failed(UpstreamError::Failed(
                    "upstream connection closed".to_string(),
                )))),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
    }

    /// Give the connection back to its pool once the response was read to its end
    /// (`cx`: the current task, else the connection is polled with a no-op waker).
    pub(crate) fn release(self, cx: Option<&mut Context<'_>>) {
        let PooledConn { mut c, pool } = self;
        c.active.store(false, Ordering::Release);
        // let the connection finish the exchange and wait for the next request
        match cx {
            Some(cx) => c.poll_conn(cx),
            None => c.poll_conn(&mut Context::from_waker(std::task::Waker::noop())),
        }
        if c.done || c.sender.is_closed() {
            return;
        }
        let mut idle = pool.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push_back(c);
        }
    }
}

/// The connections to one upstream.
pub(crate) struct UpstreamPool {
    pub key: UpstreamKey,
    ip: Option<IpAddr>,
    tls: Option<(
        tokio_rustls::TlsConnector,
        rustls::pki_types::ServerName<'static>,
    )>,
    connect_timeout: Duration,
    read_timeout: Duration,
    write_timeout: Duration,
    /// Most recently used at the back.
    idle: Mutex<VecDeque<Connection>>,
    stats: Arc<UpstreamStats>,
}

impl std::fmt::Debug for UpstreamPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamPool")
            .field("key", &self.key)
            .finish()
    }
}

impl UpstreamPool {
    pub(crate) fn new(key: UpstreamKey, stats: Arc<UpstreamStats>) -> Result<Self, String> {
        let ip = key
            .host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .ok();
        let tls = if key.https {
            let name = match ip {
                Some(ip) => rustls::pki_types::ServerName::IpAddress(ip.into()),
                None => rustls::pki_types::ServerName::try_from(key.host.clone())
                    .map_err(|e| format!("invalid upstream host {:?} for TLS: {e}", key.host))?,
            };
            Some((tokio_rustls::TlsConnector::from(tls_config()), name))
        } else {
            None
        };
        Ok(UpstreamPool {
            ip,
            tls,
            connect_timeout: Duration::from_millis(key.connect_timeout_ms.max(1)),
            read_timeout: Duration::from_millis(key.read_timeout_ms.max(1)),
            write_timeout: Duration::from_millis(key.write_timeout_ms.max(1)),
            key,
            idle: Mutex::new(VecDeque::new()),
            stats,
        })
    }

    /// The most recently used idle connection that is still open (closing expired
    /// ones on the way, also the oldest one when it expired).
    fn checkout(self: &Arc<Self>, cx: &mut Context<'_>, now: Instant) -> Option<PooledConn> {
        let expired = |c: &Connection| now.saturating_duration_since(c.since) > IDLE_TIMEOUT;
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.front().is_some_and(expired) {
            idle.pop_front();
        }
        while let Some(mut c) = idle.pop_back() {
            if expired(&c) || !c.usable(cx) {
                continue;
            }
            c.since = now;
            return Some(PooledConn {
                c,
                pool: self.clone(),
            });
        }
        None
    }

    /// Send `req` (origin-form URI, Host set) on a pooled or new connection. The
    /// returned connection drives the response body and must be released once that
    /// has ended.
    /// `now`: the current time (read by the caller anyway).
    pub(crate) async fn send(
        self: &Arc<Self>,
        mut req: Request<ReqBody>,
        now: Instant,
    ) -> Result<(Response<Incoming>, PooledConn), UpstreamError> {
        // Pooled connections: one that turns out closed before the request was
        // written gives the request back, and the next one is tried.
        while let Some(mut conn) =
            std::future::poll_fn(|cx| Poll::Ready(self.checkout(cx, now))).await
        {
            match conn.request(req).await {
                Ok(resp) => return Ok((resp, conn)),
                Err(Sent::NotSent(r)) => req = *r,
                Err(Sent::Failed(e)) => return Err(e),
            }
        }
        // boxed: the connect path (TLS handshake included) is large and cold; kept
        // inline it would make every request future bigger
        let mut conn = Box::pin(self.connect()).await?;
        match conn.request(req).await {
            Ok(resp) => Ok((resp, conn)),
            Err(Sent::NotSent(_)) => Err(UpstreamError::Failed(
                "the new connection refused the request".to_string(),
            )),
            Err(Sent::Failed(e)) => Err(e),
        }
    }

    async fn resolve(&self) -> Result<Vec<SocketAddr>, UpstreamError> {
        if let Some(ip) = self.ip {
            return Ok(vec![SocketAddr::new(ip, self.key.port)]);
        }
        let addrs: Vec<SocketAddr> =
            tokio::net::lookup_host((self.key.host.as_str(), self.key.port))
                .await
                .map_err(|e| UpstreamError::Resolve(format!("{}: {e}", self.key.host)))?
                .collect();
        if addrs.is_empty() {
            return Err(UpstreamError::Resolve(format!(
                "{}: no address",
                self.key.host
            )));
        }
        Ok(addrs)
    }

    /// Open a connection: the first attempt and up to `retries` more, each limited by
    /// the connect timeout (TCP connect and TLS handshake), cycling through the
    /// resolved addresses.
    async fn connect(self: &Arc<Self>) -> Result<PooledConn, UpstreamError> {
        let addrs = self.resolve().await?;
        let mut last = UpstreamError::ConnectTimeout;
        for attempt in 0..=self.key.retries {
            let addr = addrs[attempt as usize % addrs.len()];
            self.stats.connect_attempts.fetch_add(1, Ordering::Relaxed);
            match tokio::time::timeout(self.connect_timeout, self.establish(addr)).await {
                Ok(Ok(conn)) => return Ok(conn),
                Ok(Err(e)) => {
                    tracing::debug!(upstream = %addr, attempt, "upstream connect failed: {e}");
                    last = UpstreamError::Connect(format!("{addr}: {e}"));
                }
                Err(_) => {
                    tracing::debug!(upstream = %addr, attempt, "upstream connect timed out");
                    last = UpstreamError::ConnectTimeout;
                }
            }
            self.stats.connect_failures.fetch_add(1, Ordering::Relaxed);
        }
        Err(last)
    }

    async fn establish(self: &Arc<Self>, addr: SocketAddr) -> io::Result<PooledConn> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let stream = match &self.tls {
            None => Stream::Plain(tcp),
            Some((connector, name)) => {
                Stream::Tls(Box::new(connector.connect(name.clone(), tcp).await?))
            }
        };
        let active = Arc::new(AtomicBool::new(false));
        let io = TimedIo::new(
            stream,
            active.clone(),
            self.read_timeout,
            self.write_timeout,
        );
        let (sender, conn) = hyper::client::conn::http1::Builder::new()
            .handshake::<_, ReqBody>(TokioIo::new(io))
            .await
            .map_err(io::Error::other)?;
        Ok(PooledConn {
            c: Connection {
                sender,
                conn: Box::pin(conn),
                done: false,
                active,
                since: Instant::now(),
            },
            pool: self.clone(),
        })
    }
}

fn classify(e: &hyper::Error) -> UpstreamError {
    if is_timeout(e) {
        return UpstreamError::Timeout;
    }
    UpstreamError::Failed(e.to_string())
}
