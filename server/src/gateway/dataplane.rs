//! [`DataPlane`]: the applied configuration (swapped atomically), the proxy listener
//! and the status listener.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE, SERVER};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use super::compiled::{compile, Compiled, Pools};
use super::framing::FramingGuard;
use super::limits::{Activity, ProxyLimits};
use super::log::LogSink;
use super::proxy::{self, ConnInfo};
use super::snapshot::Snapshot;
use super::upstream::UpstreamStats;

/// How long in-flight requests may take to finish after a shutdown began.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// `Server` header of Portico's own answers.
pub(crate) const SERVER_NAME: &str = concat!("portico/", env!("CARGO_PKG_VERSION"));

/// A snapshot the data plane refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefusedSnapshot {
    pub config_version: u64,
    pub message: String,
    pub at: DateTime<Utc>,
}

/// What `GET /status` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataPlaneStatus {
    /// A configuration is applied and served.
    pub ready: bool,
    pub config_version: Option<u64>,
    pub config_applied_at: Option<DateTime<Utc>>,
    pub runtime_group: String,
    pub services: usize,
    pub routes: usize,
    /// Requests served (logged) since start.
    pub requests: u64,
    pub upstream_connect_attempts: u64,
    pub upstream_connect_failures: u64,
    /// The last refused snapshot's message (kept after later successes; compare
    /// its version with `config_version`).
    pub last_error: Option<String>,
    pub last_error_version: Option<u64>,
    pub last_error_at: Option<DateTime<Utc>>,
}

pub(crate) struct Shared {
    pub runtime_group: Arc<str>,
    pub sink: Arc<dyn LogSink>,
    pub config: ArcSwapOption<Compiled>,
    pub requests: AtomicU64,
    pub stats: Arc<UpstreamStats>,
    pub limits: ProxyLimits,
    /// The pools of the applied config; also serializes `apply`.
    pools: Mutex<Pools>,
    applied_at: Mutex<Option<DateTime<Utc>>>,
    last_error: Mutex<Option<RefusedSnapshot>>,
}

/// The proxy engine of one runtime group. Cheap to clone (an `Arc`).
#[derive(Clone)]
pub struct DataPlane {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for DataPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataPlane")
            .field("runtime_group", &self.shared.runtime_group)
            .field("config_version", &self.config_version())
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl DataPlane {
    pub fn new(runtime_group: String, sink: Arc<dyn LogSink>) -> Self {
        Self::with_limits(runtime_group, sink, ProxyLimits::default())
    }

    /// A data plane whose proxy listener applies `limits`.
    pub fn with_limits(runtime_group: String, sink: Arc<dyn LogSink>, limits: ProxyLimits) -> Self {
        DataPlane {
            shared: Arc::new(Shared {
                runtime_group: Arc::from(runtime_group),
                sink,
                config: ArcSwapOption::empty(),
                requests: AtomicU64::new(0),
                stats: Arc::new(UpstreamStats::default()),
                limits,
                pools: Mutex::new(Pools::new()),
                applied_at: Mutex::new(None),
                last_error: Mutex::new(None),
            }),
        }
    }

    /// Validate and compile `snapshot` (router over all routes, regexes compiled,
    /// upstream pools prepared; pools of unchanged upstreams are kept) and swap it in
    /// atomically. On error the message says which service/route is wrong, the
    /// refusal is recorded for [`status`](Self::status), and the previous
    /// configuration keeps serving. CPU-heavy for large snapshots: call it from
    /// `spawn_blocking` in async code.
    pub fn apply(&self, snapshot: Snapshot) -> Result<u64, String> {
        let version = snapshot.config_version;
        let mut pools = lock(&self.shared.pools);
        // the applied config's rate-limiting counters carry over
        let old = self.shared.config.load_full();
        match compile(snapshot, &pools, &self.shared.stats, old.as_deref()) {
            Ok((compiled, used)) => {
                let routes = compiled.routes.len();
                self.shared.config.store(Some(Arc::new(compiled)));
                *pools = used;
                *lock(&self.shared.applied_at) = Some(Utc::now());
                tracing::info!(
                    runtime_group = %self.shared.runtime_group,
                    "config version {version} applied ({routes} routes)"
                );
                Ok(version)
            }
            Err(message) => {
                tracing::warn!(
                    runtime_group = %self.shared.runtime_group,
                    "config version {version} refused: {message}"
                );
                *lock(&self.shared.last_error) = Some(RefusedSnapshot {
                    config_version: version,
                    message: message.clone(),
                    at: Utc::now(),
                });
                Err(message)
            }
        }
    }

    /// The applied config version (`None` before the first one).
    pub fn config_version(&self) -> Option<u64> {
        self.shared.config.load().as_ref().map(|c| c.version)
    }

    pub fn runtime_group(&self) -> &str {
        &self.shared.runtime_group
    }

    pub fn status(&self) -> DataPlaneStatus {
        let config = self.shared.config.load_full();
        let last_error = lock(&self.shared.last_error).clone();
        DataPlaneStatus {
            ready: config.is_some(),
            config_version: config.as_ref().map(|c| c.version),
            config_applied_at: *lock(&self.shared.applied_at),
            runtime_group: self.shared.runtime_group.to_string(),
            services: config.as_ref().map_or(0, |c| c.services),
            routes: config.as_ref().map_or(0, |c| c.routes.len()),
            requests: self.shared.requests.load(Ordering::Relaxed),
            upstream_connect_attempts: self.shared.stats.connect_attempts.load(Ordering::Relaxed),
            upstream_connect_failures: self.shared.stats.connect_failures.load(Ordering::Relaxed),
            last_error_version: last_error.as_ref().map(|e| e.config_version),
            last_error_at: last_error.as_ref().map(|e| e.at),
            last_error: last_error.map(|e| e.message),
        }
    }

    /// Serve the proxy (HTTP/1.1, and HTTP/2 with prior knowledge) on `listener` until
    /// `shutdown` resolves; then stop accepting, let in-flight requests finish (at
    /// most [`DRAIN_TIMEOUT`]) and return.
    pub async fn serve(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let shared = self.shared.clone();
        let limits = shared.limits.clone();
        serve_loop(
            listener,
            shutdown,
            "proxy",
            limits,
            move |peer, local, activity| {
                let conn = Arc::new(ConnInfo::new(shared.clone(), peer, local, activity));
                hyper::service::service_fn(move |req: Request<Incoming>| {
                    let conn = conn.clone();
                    async move { Ok::<_, Infallible>(proxy::handle(conn, req).await) }
                })
            },
        )
        .await
    }

    /// Serve `GET /status` (200 with [`DataPlaneStatus`] as JSON, 503 while no config
    /// is applied) on `listener` until `shutdown` resolves.
    pub async fn serve_status(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let dp = self.clone();
        serve_loop(
            listener,
            shutdown,
            "status",
            ProxyLimits::default(),
            move |_, _, _| {
                let dp = dp.clone();
                hyper::service::service_fn(move |req: Request<Incoming>| {
                    let dp = dp.clone();
                    async move { Ok::<_, Infallible>(dp.status_response(&req)) }
                })
            },
        )
        .await
    }

    fn status_response(&self, req: &Request<Incoming>) -> Response<Full<Bytes>> {
        let (status, body) = if req.uri().path() != "/status" {
            (
                StatusCode::NOT_FOUND,
                Bytes::from_static(br#"{"message":"Not found"}"#),
            )
        } else if req.method() != Method::GET && req.method() != Method::HEAD {
            (
                StatusCode::METHOD_NOT_ALLOWED,
                Bytes::from_static(br#"{"message":"Method not allowed"}"#),
            )
        } else {
            let s = self.status();
            let code = if s.ready {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            match serde_json::to_vec(&s) {
                Ok(v) => (code, Bytes::from(v)),
                Err(_) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Bytes::from_static(br#"{"message":"status unavailable"}"#),
                ),
            }
        };
        let mut resp = Response::new(Full::new(body));
        *resp.status_mut() = status;
        resp.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        resp.headers_mut()
            .insert(SERVER, HeaderValue::from_static(SERVER_NAME));
        resp
    }
}

fn builder(limits: &ProxyLimits) -> auto::Builder<TokioExecutor> {
    let mut b = auto::Builder::new(TokioExecutor::new());
    b.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    b.http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.h2_keepalive_interval)
        .keep_alive_timeout(limits.h2_keepalive_timeout)
        .max_header_list_size(u32::try_from(limits.max_head_bytes).unwrap_or(u32::MAX));
    b
}

/// Accept loop with graceful shutdown, shared by the proxy and status listeners: at
/// most `limits.max_connections` connections at once (more wait in the backlog), each
/// closed after `limits.idle_timeout` without a request in flight; proxy connections
/// are read through a [`FramingGuard`].
async fn serve_loop<M, S, B>(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    what: &'static str,
    limits: ProxyLimits,
    make_service: M,
) -> std::io::Result<()>
where
    M: Fn(SocketAddr, SocketAddr, Arc<Activity>) -> S,
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let builder = Arc::new(builder(&limits));
    let max = u32::try_from(limits.max_connections.max(1)).unwrap_or(u32::MAX >> 3);
    let slots = Arc::new(Semaphore::new(max as usize));
    let (stop_tx, stop_rx) = watch::channel(false);
    let guard = what == "proxy";
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let accepted = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // out of file descriptors and the like: don't spin
                tracing::warn!("{what} listener: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let local = match stream.local_addr() {
            Ok(l) => l,
            Err(_) => continue,
        };
        let activity = Arc::new(Activity::new());
        let service = make_service(peer, local, activity.clone());
        let builder = builder.clone();
        let stop = stop_rx.clone();
        let idle = limits.idle_timeout;
        let max_head = limits.max_head_bytes;
        tokio::spawn(async move {
            let r = if guard {
                let io = TokioIo::new(FramingGuard::new(stream, max_head));
                let conn = builder.serve_connection_with_upgrades(io, service);
                watch_connection(conn, stop, &activity, idle).await
            } else {
                let conn = builder.serve_connection(TokioIo::new(stream), service);
                watch_connection(conn, stop, &activity, idle).await
            };
            if let Err(e) = r {
                tracing::debug!("{what} connection from {peer}: {e}");
            }
            drop(permit);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    tokio::select! {
        _ = slots.acquire_many(max) => {}
        _ = tokio::time::sleep(DRAIN_TIMEOUT) => {
            tracing::warn!("{what} listener: requests still running after {DRAIN_TIMEOUT:?}, stopping anyway");
        }
    }
    Ok(())
}

/// A served connection that can be shut down gracefully (hyper-util's two kinds).
trait Graceful: Future<Output = Result<(), Box<dyn std::error::Error + Send + Sync>>> {
    fn shut_down(self: Pin<&mut Self>);
}

impl<I, S, B> Graceful for auto::Connection<'_, I, S, TokioExecutor>
where
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>>,
    S::Future: 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin + 'static,
    TokioExecutor: hyper::rt::bounds::Http2ServerConnExec<S::Future, B>,
{
    fn shut_down(self: Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}

impl<I, S, B> Graceful for auto::UpgradeableConnection<'_, I, S, TokioExecutor>
where
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>>,
    S::Future: 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    TokioExecutor: hyper::rt::bounds::Http2ServerConnExec<S::Future, B>,
{
    fn shut_down(self: Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}

/// Drive a connection to its end; shut it down gracefully when the listener stops or
/// when it had no request in flight for `idle`.
async fn watch_connection<C: Graceful>(
    conn: C,
    mut stop: watch::Receiver<bool>,
    activity: &Activity,
    idle: Duration,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut conn = std::pin::pin!(conn);
    let mut closing = false;
    let mut check = tokio::time::Instant::now() + idle;
    loop {
        tokio::select! {
            r = conn.as_mut() => return r,
            _ = stop.wait_for(|s| *s), if !closing => {
                conn.as_mut().shut_down();
                closing = true;
            }
            _ = tokio::time::sleep_until(check), if !closing => {
                match activity.idle_for() {
                    Some(d) if d >= idle => {
                        conn.as_mut().shut_down();
                        closing = true;
                    }
                    Some(d) => check = tokio::time::Instant::now() + (idle - d),
                    None => check = tokio::time::Instant::now() + idle,
                }
            }
        }
    }
}
