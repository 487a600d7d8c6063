//! Helpers of the data plane tests: upstream servers on ephemeral ports, a data plane
//! serving on an ephemeral port, a log sink that collects entries, snapshot builders,
//! streaming bodies.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use portico_router::RouteConfig;
use serde_json::{json, Value};
use server::gateway::snapshot::{ServiceConfig, Snapshot, Upstream};
use server::gateway::{DataPlane, LogEntry, LogSink, ProxyLimits};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, Notify};

pub type TestBody = BoxBody<Bytes, Infallible>;

/// A body of `remaining` bytes made of one repeated chunk (no allocation per chunk).
pub struct GenBody {
    remaining: u64,
    chunk: Bytes,
}

impl GenBody {
    pub fn new(total: u64) -> Self {
        GenBody {
            remaining: total,
            chunk: Bytes::from(vec![b'x'; 64 * 1024]),
        }
    }
}

impl Body for GenBody {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let n = self.remaining.min(self.chunk.len() as u64) as usize;
        self.remaining -= n as u64;
        Poll::Ready(Some(Ok(Frame::data(self.chunk.slice(..n)))))
    }
    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }
    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

/// A body fed through a channel (chunked on the wire).
pub struct ChannelBody {
    rx: mpsc::Receiver<Bytes>,
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.rx.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b))))
    }
}

/// What the upstreams have seen.
#[derive(Default)]
pub struct UpstreamState {
    pub connections: AtomicUsize,
    pub requests: AtomicUsize,
    /// Opened by the test to let `/gated/N` send the rest of its body.
    pub gate: Notify,
    /// Set by `/gated/N` when the rest has been sent.
    pub gated_done: std::sync::atomic::AtomicBool,
}

pub struct TestUpstream {
    pub addr: SocketAddr,
    pub state: Arc<UpstreamState>,
}

fn json_response(v: Value) -> Response<TestBody> {
    let mut r = Response::new(Full::new(Bytes::from(v.to_string())).boxed());
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

fn echo(label: &str, req: &Request<Incoming>, extra: Value) -> Value {
    let headers: Vec<Value> = req
        .headers()
        .iter()
        .map(|(n, v)| json!([n.as_str(), String::from_utf8_lossy(v.as_bytes())]))
        .collect();
    json!({
        "upstream": label,
        "method": req.method().as_str(),
        "uri": req.uri().to_string(),
        "version": format!("{:?}", req.version()),
        "headers": headers,
        "extra": extra,
    })
}

async fn upstream_handle(
    label: Arc<str>,
    state: Arc<UpstreamState>,
    req: Request<Incoming>,
) -> Response<TestBody> {
    state.requests.fetch_add(1, Ordering::SeqCst);
    let path = req.uri().path().to_string();
    let tail = |p: &str| path.strip_prefix(p).and_then(|n| n.parse::<u64>().ok());
    if let Some(ms) = tail("/slow/") {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        return json_response(echo(&label, &req, json!({"slept_ms": ms})));
    }
    if let Some(n) = tail("/download/") {
        return Response::new(GenBody::new(n).boxed());
    }
    if let Some(n) = tail("/gated/") {
        // first MiB at once, the rest only once the test opened the gate
        let (tx, rx) = mpsc::channel::<Bytes>(4);
        let chunk = Bytes::from(vec![b'g'; 64 * 1024]);
        tokio::spawn(async move {
            let first = (1024 * 1024).min(n);
            let mut sent = 0u64;
            while sent < n {
                if sent == first {
                    state.gate.notified().await;
                }
                let k = (n - sent).min(chunk.len() as u64).min(if sent < first {
                    first - sent
                } else {
                    u64::MAX
                }) as usize;
                if tx.send(chunk.slice(..k)).await.is_err() {
                    return;
                }
                sent += k as u64;
            }
            state.gated_done.store(true, Ordering::SeqCst);
        });
        return Response::new(ChannelBody { rx }.boxed());
    }
    if path == "/upload" || path.ends_with("/upload") {
        let label2 = label.clone();
        let (parts, mut body) = req.into_parts();
        let mut n = 0u64;
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(f) => {
                    if let Some(d) = f.data_ref() {
                        n += d.len() as u64;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = parts;
        return json_response(json!({"upstream": &*label2, "received": n}));
    }
    if path == "/hop" {
        let mut r = json_response(echo(&label, &req, Value::Null));
        let h = r.headers_mut();
        h.insert("connection", "x-up-custom".parse().unwrap());
        h.insert("x-up-custom", "secret".parse().unwrap());
        h.insert("keep-alive", "timeout=5".parse().unwrap());
        h.insert("x-up-plain", "kept".parse().unwrap());
        return r;
    }
    json_response(echo(&label, &req, Value::Null))
}

/// An HTTP/1.1 upstream on 127.0.0.1 that echoes requests as JSON (see
/// `upstream_handle` for the special paths).
pub async fn upstream(label: &str) -> TestUpstream {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = Arc::new(UpstreamState::default());
    let label: Arc<str> = Arc::from(label);
    let st = state.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            st.connections.fetch_add(1, Ordering::SeqCst);
            let label = label.clone();
            let st = st.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| {
                    let label = label.clone();
                    let st = st.clone();
                    async move { Ok::<_, Infallible>(upstream_handle(label, st, req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    TestUpstream { addr, state }
}

/// A port with nothing listening on it.
pub async fn closed_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = l.local_addr().unwrap();
    drop(l);
    a
}

/// A listener that accepts connections and closes them at once; counts them.
pub async fn accept_and_close() -> (SocketAddr, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = l.local_addr().unwrap();
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            n2.fetch_add(1, Ordering::SeqCst);
            drop(s);
        }
    });
    (a, n)
}

/// Collects log entries.
#[derive(Default)]
pub struct Collect {
    entries: Mutex<Vec<LogEntry>>,
}

impl LogSink for Collect {
    fn log(&self, entry: LogEntry) {
        self.entries.lock().unwrap().push(entry);
    }
}

impl Collect {
    pub fn entries(&self) -> Vec<LogEntry> {
        self.entries.lock().unwrap().clone()
    }
    /// Wait until at least `n` entries were logged (at most 5 s).
    pub async fn wait_for(&self, n: usize) -> Vec<LogEntry> {
        for _ in 0..500 {
            if self.entries.lock().unwrap().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.entries()
    }
}

pub struct Gateway {
    pub dp: DataPlane,
    pub addr: SocketAddr,
    pub sink: Arc<Collect>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Gateway {
    pub async fn start() -> Gateway {
        Self::start_with_limits(ProxyLimits::default()).await
    }

    /// A data plane whose proxy listener applies `limits`.
    pub async fn start_with_limits(limits: ProxyLimits) -> Gateway {
        let sink = Arc::new(Collect::default());
        let dp = DataPlane::with_limits("default".to_string(), sink.clone(), limits);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let serving = dp.clone();
        let task = tokio::spawn(async move {
            serving
                .serve(listener, async move {
                    let _ = rx.await;
                })
                .await
        });
        Gateway {
            dp,
            addr,
            sink,
            stop: Some(tx),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Begin the shutdown; returns the serve task.
    pub fn shutdown(&mut self) -> tokio::task::JoinHandle<std::io::Result<()>> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.task.take().expect("shut down once")
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A raw HTTP/1.1 connection to `addr`.
pub async fn raw<B>(addr: SocketAddr) -> hyper::client::conn::http1::SendRequest<B>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let s = TcpStream::connect(addr).await.unwrap();
    let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(s))
        .await
        .unwrap();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    send
}

pub fn up(addr: SocketAddr) -> Upstream {
    Upstream {
        protocol: "http".into(),
        host: addr.ip().to_string(),
        port: addr.port(),
        path: None,
        retries: 0,
        connect_timeout_ms: 2_000,
        read_timeout_ms: 5_000,
        write_timeout_ms: 5_000,
    }
}

pub fn route(id: &str, paths: &[&str]) -> RouteConfig {
    let mut r = RouteConfig::new(id);
    r.name = Some(format!("{id}-name"));
    r.paths = paths.iter().map(|p| p.to_string()).collect();
    r
}

pub fn service(key: &str, upstream: Upstream, routes: Vec<RouteConfig>) -> ServiceConfig {
    ServiceConfig {
        version_id: format!("{key}-version-id"),
        package_id: format!("{key}-package-id"),
        package_key: key.to_string(),
        package_name: format!("{key} package"),
        version_name: "v1".to_string(),
        upstream,
        routes,
    }
}

pub fn snapshot(version: u64, services: Vec<ServiceConfig>) -> Snapshot {
    Snapshot {
        runtime_group_id: "00000000-0000-0000-0000-000000000001".into(),
        runtime_group: "default".into(),
        config_version: version,
        generated_at: "2026-01-01T00:00:00Z".into(),
        services,
        plugins: Vec::new(),
        consumers: Vec::new(),
    }
}

/// Values of a header in an echo body.
pub fn echoed(v: &Value, name: &str) -> Vec<String> {
    v["headers"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|h| h[0].as_str() == Some(name))
                .filter_map(|h| h[1].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Resident set size of this process, in bytes.
pub fn rss() -> u64 {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = s
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// One request a [`recording_upstream`] parsed: method, target, `Host`, whole body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    pub target: String,
    pub host: String,
    pub body: Vec<u8>,
}

/// A keep-alive HTTP/1.1 upstream (hyper) that records every request it parses, with
/// its whole body, and answers `200` with the body `target=<target>`: what a smuggled
/// request would look like to a real upstream.
pub async fn recording_upstream() -> (SocketAddr, Arc<Mutex<Vec<Recorded>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Arc<Mutex<Vec<Recorded>>> = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let log = log.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body.collect().await.map(|b| b.to_bytes().to_vec());
                        let target = parts.uri.to_string();
                        if let Ok(body) = body {
                            log.lock().unwrap().push(Recorded {
                                method: parts.method.to_string(),
                                target: target.clone(),
                                host: parts
                                    .headers
                                    .get(hyper::header::HOST)
                                    .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
                                    .unwrap_or_default(),
                                body,
                            });
                        }
                        Ok::<_, Infallible>(Response::new(
                            Full::new(Bytes::from(format!("target={target}"))).boxed(),
                        ))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (addr, seen)
}

/// A response read off a raw connection.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Write `bytes` on a new connection to `addr` (then, with `half_close`, shut down the
/// writing side), and read up to `want` responses (`Content-Length` framed, as the
/// data plane sends them to HTTP/1.1 clients here) until the connection closes or
/// nothing comes for `wait`. Also says whether the connection was closed.
pub async fn raw_exchange(
    addr: SocketAddr,
    bytes: &[u8],
    want: usize,
    half_close: bool,
    wait: Duration,
) -> (Vec<RawResponse>, bool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = TcpStream::connect(addr).await.unwrap();
    // the peer may close before all is written (a refused head)
    let _ = s.write_all(bytes).await;
    if half_close {
        let _ = s.shutdown().await;
    }
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut closed = false;
    loop {
        // parse what is complete
        loop {
            let mut hs = [httparse::EMPTY_HEADER; 64];
            let mut r = httparse::Response::new(&mut hs);
            let Ok(httparse::Status::Complete(n)) = r.parse(&buf) else {
                break;
            };
            let headers: Vec<(String, String)> = r
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_ascii_lowercase(),
                        String::from_utf8_lossy(h.value).into_owned(),
                    )
                })
                .collect();
            let len: usize = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            if buf.len() < n + len {
                break;
            }
            let status = r.code.unwrap_or(0);
            if (100..200).contains(&status) && status != 101 {
                // interim (100 Continue): not an answer
                buf.drain(..n);
                continue;
            }
            out.push(RawResponse {
                status,
                headers,
                body: buf[n..n + len].to_vec(),
            });
            buf.drain(..n + len);
        }
        if out.len() >= want && !closed {
            // see whether the connection closes soon after
            let mut b = [0u8; 1];
            closed = matches!(
                tokio::time::timeout(Duration::from_millis(300), s.read(&mut b)).await,
                Ok(Ok(0) | Err(_))
            );
            break;
        }
        let mut chunk = [0u8; 8192];
        match tokio::time::timeout(wait, s.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Err(_) => break,
        }
    }
    (out, closed)
}
