//! The standalone data plane node (`portico gateway`): serves the proxy and status
//! listeners (`/status`, `/metrics`), keeps the last applied snapshot in its cache
//! directory (so it serves at once after a restart, even while the control plane is
//! unreachable) and long-polls the control plane for new snapshots (see [`super::snapshot`] for the protocol).
//!
//! Cache directory: `config.json` (the last applied snapshot) and `node-id` (the
//! node's UUID, created once), each replaced by [`write_atomically`]: a crash leaves
//! the old or the new file, never a mix, and two nodes sharing the directory never
//! write into each other's temporary file.
//!
//! Analytics (on unless `--analytics off`): a [`Recorder`] aggregates the requests and
//! ships sealed batches with [`HttpTransport`] to `POST /dp/v1/analytics`, with the
//! same headers as the config poll; batches wait in a bounded buffer while the control
//! plane is unreachable.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::dataplane::DataPlane;
use super::log::{CountingSink, LogSink};
use super::recorder::{
    Batch, IngestOutcome, Recorder, RecorderOptions, RecorderTasks, SendError, Transport,
    DEFAULT_MAX_BATCHES, DEFAULT_MAX_BUFFER_BYTES, DEFAULT_SHUTDOWN_GRACE,
};
use super::snapshot::{headers, Report, Snapshot};
use crate::config::{GatewayArgs, Switch};
use crate::gateway::backoff::Backoff;

/// How long the control plane may hold a config poll open.
const WAIT_MS: u64 = 25_000;

/// What a node needs besides its listeners.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    /// Base URL of the control plane, e.g. `https://portico.example.com`.
    pub control_plane: String,
    pub runtime_group: String,
    /// The data plane token (`Authorization: Bearer …`).
    pub token: Option<String>,
    pub cache_dir: PathBuf,
    /// The proxy listener's limits.
    pub limits: super::ProxyLimits,
}

impl From<&GatewayArgs> for NodeOptions {
    fn from(a: &GatewayArgs) -> Self {
        NodeOptions {
            control_plane: a.control_plane.clone(),
            runtime_group: a.runtime_group.clone(),
            token: a.token.clone(),
            cache_dir: a.cache_dir.clone(),
            limits: a.limits.limits(),
        }
    }
}

/// Analytics of a node (see [`super::recorder`]).
#[derive(Debug, Clone)]
pub struct NodeAnalytics {
    pub flush_interval: Duration,
    pub max_batches: usize,
    pub max_buffer_bytes: usize,
    /// How long a shutdown tries to deliver the last batches.
    pub shutdown_grace: Duration,
}

impl Default for NodeAnalytics {
    fn default() -> Self {
        NodeAnalytics {
            flush_interval: super::recorder::DEFAULT_FLUSH,
            max_batches: DEFAULT_MAX_BATCHES,
            max_buffer_bytes: DEFAULT_MAX_BUFFER_BYTES,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

/// `portico gateway`: run until SIGINT or SIGTERM, then drain.
pub async fn run_standalone(args: GatewayArgs) -> anyhow::Result<()> {
    run_standalone_until(args, shutdown_signal()).await
}

/// Bind the listeners of `args` and run the node until `shutdown` resolves.
pub async fn run_standalone_until(
    args: GatewayArgs,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let proxy = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {} (--listen)", args.listen))?;
    let status = TcpListener::bind(args.status_listen)
        .await
        .with_context(|| format!("cannot listen on {} (--status-listen)", args.status_listen))?;
    let analytics = (args.analytics == Switch::On).then(|| NodeAnalytics {
        flush_interval: Duration::from_millis(args.analytics_flush_ms),
        ..NodeAnalytics::default()
    });
    if analytics.is_none() {
        tracing::info!("analytics off (--analytics off): requests are counted, not recorded");
    }
    run_node_with(NodeOptions::from(&args), proxy, status, analytics, shutdown).await
}

/// Run a node on already bound listeners until `shutdown` resolves: serve the cached
/// snapshot (if any) at once, sync with the control plane, then drain the listeners.
/// Requests are logged to `sink` (no analytics are shipped).
pub async fn run_node(
    opts: NodeOptions,
    proxy: TcpListener,
    status: TcpListener,
    sink: Arc<dyn LogSink>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    run_node_inner(opts, proxy, status, Sink::Given(sink), shutdown).await
}

/// [`run_node`] with analytics: recorded and shipped to the control plane when
/// `analytics` is set (the last batches are delivered while shutting down, within
/// the grace), only counted when not.
pub async fn run_node_with(
    opts: NodeOptions,
    proxy: TcpListener,
    status: TcpListener,
    analytics: Option<NodeAnalytics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let sink = match analytics {
        Some(a) => Sink::Analytics(a),
        None => Sink::Given(Arc::new(CountingSink::new())),
    };
    run_node_inner(opts, proxy, status, sink, shutdown).await
}

enum Sink {
    Given(Arc<dyn LogSink>),
    Analytics(NodeAnalytics),
}

async fn run_node_inner(
    opts: NodeOptions,
    proxy: TcpListener,
    status: TcpListener,
    sink: Sink,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let cache = opts.cache_dir.clone();
    std::fs::create_dir_all(&cache)
        .with_context(|| format!("cannot create the cache directory {}", cache.display()))?;
    let node_id = node_id(&cache)?;
    let (sink, recording): (Arc<dyn LogSink>, Option<RecorderTasks>) = match sink {
        Sink::Given(s) => (s, None),
        Sink::Analytics(a) => {
            let transport = HttpTransport::new(&opts, &node_id, &hostname())?;
            let recorder = Recorder::new(RecorderOptions {
                node_id: node_id.clone(),
                flush_interval: a.flush_interval,
                max_batches: a.max_batches,
                max_buffer_bytes: a.max_buffer_bytes,
                shutdown_grace: a.shutdown_grace,
            });
            let tasks = recorder.start(Arc::new(transport));
            (recorder, Some(tasks))
        }
    };
    let dp = DataPlane::with_limits(opts.runtime_group.clone(), sink, opts.limits.clone());
    dp.set_node_id(&node_id);
    load_cache(&dp, &cache, &opts.runtime_group).await;

    tracing::info!(
        "Portico data plane node {node_id} (runtime group \"{}\"): proxy on http://{}, status on http://{}/status, control plane {}",
        opts.runtime_group,
        proxy.local_addr()?,
        status.local_addr()?,
        opts.control_plane
    );

    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let proxy_task = {
        let dp = dp.clone();
        let stop = stopped(stop_rx.clone());
        tokio::spawn(async move { dp.serve(proxy, stop).await })
    };
    let status_task = {
        let dp = dp.clone();
        let stop = stopped(stop_rx.clone());
        tokio::spawn(async move { dp.serve_status(status, stop).await })
    };
    let sync_task = {
        let sync = Sync {
            dp: dp.clone(),
            opts,
            node_id,
            hostname: hostname(),
        };
        let stop = stop_rx.clone();
        tokio::spawn(async move { sync.run(stop).await })
    };

    shutdown.await;
    tracing::info!("shutting down: draining in-flight requests");
    let _ = stop_tx.send(true);
    let _ = sync_task.await;
    let proxy_result = proxy_task.await;
    let status_result = status_task.await;
    if let Some(tasks) = recording {
        // the proxy has drained: seal the last requests and deliver what is left
        tasks.shutdown().await;
    }
    proxy_result.context("proxy listener task")??;
    status_result.context("status listener task")??;
    tracing::info!("data plane node stopped");
    Ok(())
}

/// The node's id, kept in `<cache>/node-id` (created on first start).
fn node_id(cache: &Path) -> anyhow::Result<String> {
    let path = cache.join("node-id");
    if let Ok(text) = std::fs::read_to_string(&path) {
        if let Ok(id) = uuid::Uuid::parse_str(text.trim()) {
            return Ok(id.to_string());
        }
        tracing::warn!(
            "{} does not hold a UUID: making a new node id",
            path.display()
        );
    }
    let id = uuid::Uuid::new_v4().to_string();
    write_atomically(&path, format!("{id}\n").as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(id)
}

/// Write `bytes` to `path` so that a crash leaves either the old or the new file, and
/// two nodes sharing a cache directory cannot mix their writes: the bytes go to a
/// temporary file of a unique name in the same directory (created, never reused),
/// which is flushed to disk, renamed over `path`, and the directory is flushed so the
/// rename itself is durable. The temporary file is removed when any step fails.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = TempFile(dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    )));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp.0)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp.0, path)?;
    std::mem::forget(tmp);
    sync_dir(dir)
}

/// A temporary file, removed when dropped (forgotten once renamed).
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Flushes a directory's entries (a rename in it) to disk.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Directories cannot be opened as files here: the rename is as durable as the
/// file system makes it.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Apply the cached snapshot, if there is a valid one for this runtime group.
async fn load_cache(dp: &DataPlane, cache: &Path, group: &str) {
    let path = cache.join("config.json");
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::info!(
                "no cached config in {}: waiting for the control plane",
                cache.display()
            );
            return;
        }
        Err(e) => {
            tracing::warn!("cannot read {}: {e}", path.display());
            return;
        }
    };
    let snapshot: Snapshot = match serde_json::from_slice(&bytes) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("ignoring the cached config {}: {e}", path.display());
            return;
        }
    };
    if snapshot.runtime_group != group {
        tracing::warn!(
            "ignoring the cached config {}: it belongs to runtime group \"{}\", not \"{group}\"",
            path.display(),
            snapshot.runtime_group
        );
        return;
    }
    let version = snapshot.config_version;
    let plane = dp.clone();
    match tokio::task::spawn_blocking(move || plane.apply(snapshot)).await {
        Ok(Ok(_)) => tracing::info!("serving cached config version {version}"),
        Ok(Err(e)) => tracing::warn!("the cached config version {version} was refused: {e}"),
        Err(e) => tracing::warn!("applying the cached config failed: {e}"),
    }
}

/// This machine's host name, as far as it can be told (nodes report it; embedded
/// data planes derive their stable id from it).
pub(crate) fn hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| {
            std::fs::read_to_string(p)
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        })
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".to_string())
}

enum Polled {
    /// A new snapshot, and its JSON as received (for the cache).
    Snapshot(Box<Snapshot>, bytes::Bytes),
    NotModified,
}

struct Sync {
    dp: DataPlane,
    opts: NodeOptions,
    node_id: String,
    hostname: String,
}

impl Sync {
    fn base(&self) -> &str {
        self.opts.control_plane.trim_end_matches('/')
    }

    fn request(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let rb = rb
            .header(headers::NODE_ID, &self.node_id)
            .header(headers::NODE_HOSTNAME, &self.hostname)
            .header(headers::NODE_VERSION, env!("CARGO_PKG_VERSION"))
            .header(headers::RUNTIME_GROUP, &self.opts.runtime_group)
            .header(
                headers::CONFIG_VERSION,
                self.dp.config_version().unwrap_or(0).to_string(),
            );
        match &self.opts.token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    async fn run(self, mut stop: watch::Receiver<bool>) {
        if self.opts.token.is_none() {
            tracing::warn!("no data plane token (--token / PORTICO_DP_TOKEN): the control plane will refuse this node");
        }
        let client = match reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("cannot build the HTTP client for the control plane: {e}");
                return;
            }
        };
        // the last version received (applied or refused): the next poll asks for newer
        let mut after = self.dp.config_version().unwrap_or(0);
        let mut backoff = Backoff::new();
        let mut failing = false;
        loop {
            let polled = tokio::select! {
                r = self.poll(&client, after) => r,
                _ = stop.wait_for(|s| *s) => return,
            };
            match polled {
                Ok(Polled::NotModified) => {
                    backoff.reset();
                    if std::mem::take(&mut failing) {
                        tracing::info!("control plane reachable again");
                    }
                }
                Ok(Polled::Snapshot(snapshot, raw)) => {
                    backoff.reset();
                    if std::mem::take(&mut failing) {
                        tracing::info!("control plane reachable again");
                    }
                    let version = snapshot.config_version;
                    after = version;
                    self.install(&client, *snapshot, raw).await;
                }
                Err(e) => {
                    failing = true;
                    let wait = backoff.next();
                    tracing::warn!(
                        "control plane {}: {e}; still serving config version {}; retrying in {:.1} s",
                        self.base(),
                        self.dp.config_version().map_or("none".to_string(), |v| v.to_string()),
                        wait.as_secs_f64()
                    );
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stop.wait_for(|s| *s) => return,
                    }
                }
            }
        }
    }

    async fn poll(&self, client: &reqwest::Client, after: u64) -> Result<Polled, String> {
        let url = format!(
            "{}/dp/v1/config?after={after}&wait_ms={WAIT_MS}",
            self.base()
        );
        let resp = self
            .request(client.get(&url))
            .timeout(Duration::from_millis(WAIT_MS) + Duration::from_secs(15))
            .send()
            .await
            .map_err(|e| format!("unreachable ({e})"))?;
        let status = resp.status();
        match status.as_u16() {
            200 => {
                let raw = resp
                    .bytes()
                    .await
                    .map_err(|e| format!("reading the config failed: {e}"))?;
                let snapshot: Snapshot = serde_json::from_slice(&raw)
                    .map_err(|e| format!("the config is not a valid snapshot: {e}"))?;
                Ok(Polled::Snapshot(Box::new(snapshot), raw))
            }
            204 => Ok(Polled::NotModified),
            401 | 403 => {
                let message = message_of(resp).await;
                Err(format!(
                    "{} {}: {message} (check --token and --runtime-group)",
                    status.as_u16(),
                    status.canonical_reason().unwrap_or("")
                ))
            }
            _ => {
                let message = message_of(resp).await;
                Err(format!("answered {status}: {message}"))
            }
        }
    }

    async fn install(&self, client: &reqwest::Client, snapshot: Snapshot, raw: bytes::Bytes) {
        let version = snapshot.config_version;
        if snapshot.runtime_group != self.opts.runtime_group {
            tracing::warn!(
                "config version {version} is for runtime group \"{}\" (this node: \"{}\")",
                snapshot.runtime_group,
                self.opts.runtime_group
            );
        }
        let plane = self.dp.clone();
        let applied = match tokio::task::spawn_blocking(move || plane.apply(snapshot)).await {
            Ok(r) => r,
            Err(e) => Err(format!("applying the snapshot failed: {e}")),
        };
        match applied {
            Ok(_) => {
                let path = self.opts.cache_dir.join("config.json");
                let written =
                    tokio::task::spawn_blocking(move || write_atomically(&path, &raw)).await;
                match written {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::warn!("cannot cache config version {version}: {e}"),
                    Err(e) => tracing::warn!("cannot cache config version {version}: {e}"),
                }
            }
            Err(error) => {
                let report = Report {
                    config_version: version,
                    error,
                };
                let url = format!("{}/dp/v1/report", self.base());
                let sent = self
                    .request(client.post(&url))
                    .timeout(Duration::from_secs(15))
                    .json(&report)
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status().is_success() => {}
                    Ok(r) => tracing::warn!(
                        "reporting the refused config version {version} answered {}",
                        r.status()
                    ),
                    Err(e) => {
                        tracing::warn!("reporting the refused config version {version} failed: {e}")
                    }
                }
            }
        }
    }
}

/// Ships analytics batches to the control plane's `POST /dp/v1/analytics`, with the
/// headers of the config poll.
pub struct HttpTransport {
    client: reqwest::Client,
    url: String,
    token: Option<String>,
    runtime_group: String,
    node_id: String,
    hostname: String,
}

impl HttpTransport {
    pub fn new(opts: &NodeOptions, node_id: &str, hostname: &str) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .context("cannot build the HTTP client for analytics")?;
        Ok(HttpTransport {
            client,
            url: format!(
                "{}/dp/v1/analytics",
                opts.control_plane.trim_end_matches('/')
            ),
            token: opts.token.clone(),
            runtime_group: opts.runtime_group.clone(),
            node_id: node_id.to_string(),
            hostname: hostname.to_string(),
        })
    }
}

#[async_trait::async_trait]
impl Transport for HttpTransport {
    async fn send(&self, batch: &Batch) -> Result<IngestOutcome, SendError> {
        let mut rb = self
            .client
            .post(&self.url)
            .header(headers::NODE_ID, &self.node_id)
            .header(headers::NODE_HOSTNAME, &self.hostname)
            .header(headers::NODE_VERSION, env!("CARGO_PKG_VERSION"))
            .header(headers::RUNTIME_GROUP, &self.runtime_group)
            .json(batch);
        if let Some(t) = &self.token {
            rb = rb.bearer_auth(t);
        }
        let resp = rb
            .send()
            .await
            .map_err(|e| SendError::Retry(format!("control plane unreachable ({e})")))?;
        let status = resp.status();
        match status.as_u16() {
            200..=299 => {
                let text = resp.text().await.unwrap_or_default();
                Ok(
                    serde_json::from_str::<IngestOutcome>(&text).unwrap_or(IngestOutcome::Stored {
                        rows: batch.rows.len(),
                    }),
                )
            }
            400 | 413 | 422 => {
                let message = message_of(resp).await;
                Err(SendError::Reject(format!("{status}: {message}")))
            }
            _ => {
                let message = message_of(resp).await;
                Err(SendError::Retry(format!("answered {status}: {message}")))
            }
        }
    }
}

/// The `message` of a JSON error body, else the body's start.
async fn message_of(resp: reqwest::Response) -> String {
    let text = resp.text().await.unwrap_or_default();
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) => match v.get("message").and_then(|m| m.as_str()) {
            Some(m) => m.to_string(),
            None => text.chars().take(200).collect(),
        },
        Err(_) => text.chars().take(200).collect(),
    }
}

/// SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
