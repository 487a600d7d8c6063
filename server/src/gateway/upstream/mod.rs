//! Upstream connections: connect with retries and a timeout per attempt, optional TLS,
//! read/write timeouts on the socket, and a keep-alive pool of HTTP/1.1 connections
//! per upstream (scheme, host, port and timeouts). The HTTP/1.1 client itself is
//! [`h1client`].
//!
//! A pooled connection is taken for one request and given back when the upstream's
//! response body has been read to its end (see `body.rs`); a response cut short
//! closes its connection. Pools live as long as a snapshot uses them: a new snapshot
//! with an equal upstream keeps the same pool (and its warm connections).

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::Method;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::body::ReqBody;
use h1client::{
    idle_by_reading, poll_exchange, replayable, Conn, ExchangeError, HeadError, IdleProbe,
    ReqFraming, ReqWriter, RespBody, RespHead,
};

pub(crate) mod h1client;

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

impl IdleProbe for Stream {
    fn idle_usable(&mut self, rbuf: &mut bytes::BytesMut, cx: &mut Context<'_>) -> bool {
        match self {
            Stream::Plain(tcp) => {
                let mut probe = [0u8; 1];
                match tcp.try_read(&mut probe) {
                    Err(e) => e.kind() == io::ErrorKind::WouldBlock,
                    // closed (0) or unexpected data
                    Ok(_) => false,
                }
            }
            Stream::Tls(_) => idle_by_reading(self, rbuf, cx),
        }
    }
}

/// A connection taken from its pool (or just opened) for one request.
pub(crate) struct PooledConn {
    /// Boxed: cheap to move between the pool, the request and the response body.
    c: Box<Conn<Stream>>,
    pool: Arc<UpstreamPool>,
}

impl PooledConn {
    pub(crate) fn conn(&mut self) -> &mut Conn<Stream> {
        &mut self.c
    }

    /// The transport and what the upstream sent past its 101 answer: the connection
    /// leaves its pool for good (a WebSocket tunnel).
    pub(crate) fn into_upgraded(self) -> (Stream, bytes::BytesMut) {
        (*self.c).into_parts()
    }

    /// Give the connection back to its pool (the exchange on it is complete and it
    /// can take another request).
    pub(crate) fn release(self) {
        let PooledConn { mut c, pool } = self;
        if !c.is_clean() {
            return;
        }
        c.idle();
        let mut idle = pool.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push_back(c);
        }
    }
}

/// An upstream's answer: its head, its body (read from the connection) and the
/// connection, given back by the body when it was read to its end.
pub(crate) struct Answer {
    pub head: RespHead,
    pub body: RespBody,
    pub conn: PooledConn,
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
    idle: Mutex<VecDeque<Box<Conn<Stream>>>>,
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
        let expired = |c: &Conn<Stream>| now.saturating_duration_since(c.since) > IDLE_TIMEOUT;
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.front().is_some_and(|c| expired(c)) {
            idle.pop_front();
        }
        while let Some(mut c) = idle.pop_back() {
            if expired(&c) || !c.idle_usable(cx) {
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

    /// Send a request (`head`: its complete head, framing headers included) on a
    /// pooled or new connection. The answer's body must be read to its end before its
    /// connection can be released. A pooled connection that turns out closed by the
    /// upstream before answering is replaced by another one (or a new one) when the
    /// request can be sent again (see [`replayable`]).
    /// `now`: the current time (read by the caller anyway).
    pub(crate) async fn send(
        self: &Arc<Self>,
        method: &Method,
        head: Vec<u8>,
        body: Option<ReqBody>,
        framing: ReqFraming,
        upgrade: bool,
        now: Instant,
    ) -> Result<Answer, UpstreamError> {
        let head_request = method == Method::HEAD;
        let mut w = ReqWriter::new(head, body, framing);
        w.upgrade = upgrade;
        while let Some(mut conn) =
            std::future::poll_fn(|cx| Poll::Ready(self.checkout(cx, now))).await
        {
            let r = std::future::poll_fn(|cx| poll_exchange(&mut conn.c, &mut w, head_request, cx))
                .await;
            match r {
                Ok(parsed) => {
                    let (head, body) = RespBody::new(parsed, w);
                    return Ok(Answer { head, body, conn });
                }
                Err(ExchangeError::Head(HeadError::Closed(e))) if replayable(method, &w) => {
                    tracing::debug!("pooled upstream connection was closed ({e}); retrying");
                    w.restart();
                }
                Err(e) => return Err(classify(e)),
            }
        }
        // boxed: the connect path (TLS handshake included) is large and cold; kept
        // inline it would make every request future bigger
        let mut conn = Box::pin(self.connect()).await?;
        let r =
            std::future::poll_fn(|cx| poll_exchange(&mut conn.c, &mut w, head_request, cx)).await;
        match r {
            Ok(parsed) => {
                let (head, body) = RespBody::new(parsed, w);
                Ok(Answer { head, body, conn })
            }
            Err(e) => Err(classify(e)),
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
        Ok(PooledConn {
            c: Box::new(Conn::new(stream, self.read_timeout, self.write_timeout)),
            pool: self.clone(),
        })
    }
}

fn classify(e: ExchangeError) -> UpstreamError {
    match e {
        ExchangeError::Client(e) => UpstreamError::Failed(format!("client request body: {e}")),
        ExchangeError::Head(HeadError::Io(e)) if e.kind() == io::ErrorKind::TimedOut => {
            UpstreamError::Timeout
        }
        ExchangeError::Head(HeadError::Io(e) | HeadError::Closed(e)) => {
            UpstreamError::Failed(e.to_string())
        }
        ExchangeError::Head(HeadError::Invalid(m)) => UpstreamError::Failed(m),
    }
}
