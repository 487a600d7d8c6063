//! The analytics recorder of a data plane: a [`LogSink`] that aggregates requests per
//! minute and (runtime group, version, route, package, status, consumer, error kind),
//! seals the aggregates
//! into [`Batch`]es every flush interval and ships them, in order, through a
//! [`Transport`]: HTTP to the control plane for a standalone node
//! (`gateway::node::HttpTransport`), the hub itself for the embedded data planes
//! (`control::HubTransport`). The control plane counts a batch once by its id, which a
//! batch keeps across retries.
//!
//! Request path ([`Recorder::log`]): one short mutex section over a hash map keyed by
//! the minute, the status, the error kind and the addresses of the entry's shared
//! `Arc`s (runtime group name, route info, consumer id); in the common case (a key seen before in this interval) it
//! allocates nothing and never waits on I/O. Keys that differ only by the `Arc`
//! (a route or consumer in two applied snapshots) are merged by their ids when sealing.
//!
//! Buffer: at most [`RecorderOptions::max_batches`] sealed batches (default
//! [`DEFAULT_MAX_BATCHES`] = 2,000: 2 h 46 min of batches at the default 5 s interval
//! for one runtime group) and at most [`RecorderOptions::max_buffer_bytes`] of their
//! JSON (estimated; default [`DEFAULT_MAX_BUFFER_BYTES`] = 256 MiB, which only binds
//! for very many routes); on overflow the OLDEST batch is dropped, counted
//! ([`Recorder::dropped_batches`]) and logged.
//!
//! Wire format (`POST /dp/v1/analytics`, JSON):
//!
//! ```json
//! {"id": "<uuid v4>", "node_id": "<node uuid>", "runtime_group": "default",
//!  "rows": [{"bucket": 1764504000, "package_id": "<uuid>", "version_id": "<uuid>",
//!            "route_id": "<uuid>", "status": 200, "requests": 37,
//!            "request_bytes": 0, "response_bytes": 1221, "total_latency_us": 51234,
//!            "upstream_latency_us": 40011, "upstream_requests": 37,
//!            "gateway_latency_us": 3100, "total_sketch": "<base64>",
//!            "upstream_sketch": "<base64>", "gateway_sketch": "<base64>",
//!            "request_size_sketch": "<base64>", "response_size_sketch": "<base64>",
//!            "consumer_id": "<uuid>", "error": "rate_limited"}]}
//! ```
//!
//! `bucket`: Unix seconds (UTC) of the minute's start. Ids are absent (or null) for
//! requests no route matched. `consumer_id`: the consumer a plugin identified (absent:
//! anonymous); `error`: why Portico answered itself ([`ErrorKind::as_str`](super::log::ErrorKind::as_str),
//! absent: the upstream's answer). Both are left out when absent, so a batch of a node
//! that predates them reads the same. Sketches: [`Sketch::encode`] in standard base64;
//! latencies in µs, sizes in bytes; the upstream sketch holds `upstream_requests`
//! values, the others `requests`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use tokio::sync::{watch, Notify};
use tokio::time::Instant;
use uuid::Uuid;

use super::log::{ErrorKind, LogEntry, LogSink, RouteInfo};
use crate::analytics::sketch::Sketch;
use crate::gateway::backoff::Backoff;

/// Default flush interval.
pub const DEFAULT_FLUSH: Duration = Duration::from_secs(5);
/// Default bound of the batch buffer, in batches.
pub const DEFAULT_MAX_BATCHES: usize = 2_000;
/// Default bound of the batch buffer, in (estimated) bytes of JSON.
pub const DEFAULT_MAX_BUFFER_BYTES: usize = 256 * 1024 * 1024;
/// Most rows in one batch (the control plane refuses more).
pub const MAX_ROWS_PER_BATCH: usize = 10_000;
/// A batch is split before its JSON would exceed about this many bytes (the control
/// plane takes at most 8 MiB).
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;
/// How long a shutdown waits for the last batches to be delivered, by default.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// One sealed batch of aggregates of one runtime group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// Chosen when sealed, kept across retries: the control plane counts it once.
    pub id: Uuid,
    /// The node that recorded it (missing or `null`: the node of the token's poll).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub node_id: String,
    /// The runtime group's name.
    pub runtime_group: String,
    pub rows: Vec<BatchRow>,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// The aggregates of one minute, route, version, status, consumer and error kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchRow {
    /// Unix seconds (UTC) of the minute's start.
    pub bucket: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_id: Option<String>,
    pub status: u16,
    pub requests: u64,
    pub request_bytes: u64,
    pub response_bytes: u64,
    pub total_latency_us: u64,
    /// Sum over the requests that have an upstream latency.
    pub upstream_latency_us: u64,
    /// How many requests have an upstream latency.
    pub upstream_requests: u64,
    pub gateway_latency_us: u64,
    pub total_sketch: String,
    pub upstream_sketch: String,
    pub gateway_sketch: String,
    pub request_size_sketch: String,
    pub response_size_sketch: String,
    /// The consumer (UUID) a plugin identified; absent: anonymous.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_id: Option<String>,
    /// Why Portico answered itself (`ErrorKind::as_str`: `no_route`,
    /// `rate_limited` …); absent: the upstream answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What the control plane did with a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum IngestOutcome {
    /// Counted: `rows` rows added to the minute, hour and day aggregates.
    Stored { rows: usize },
    /// A batch with this id was counted before: nothing added.
    Duplicate,
}

/// Rows deleted by a retention pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Purged {
    pub minute_rows: u64,
    pub hour_rows: u64,
    pub day_rows: u64,
    pub batch_ids: u64,
}

/// Why a batch was not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth trying again later (unreachable, timeout, 5xx, token refused).
    Retry(String),
    /// The control plane refused the batch itself (invalid): it is dropped.
    Reject(String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Retry(m) | SendError::Reject(m) => f.write_str(m),
        }
    }
}

/// Delivers batches to the control plane.
#[async_trait::async_trait]
pub trait Transport: Send + Sync + 'static {
    async fn send(&self, batch: &Batch) -> Result<IngestOutcome, SendError>;
}

/// Options of a [`Recorder`].
#[derive(Debug, Clone)]
pub struct RecorderOptions {
    /// Written into every batch.
    pub node_id: String,
    /// How often the aggregates are sealed into batches.
    pub flush_interval: Duration,
    /// Bound of the batch buffer (at least 1).
    pub max_batches: usize,
    /// Bound of the batch buffer in estimated bytes (the newest batch is always kept).
    pub max_buffer_bytes: usize,
    /// How long [`RecorderTasks::shutdown`] tries to deliver what is left.
    pub shutdown_grace: Duration,
}

impl RecorderOptions {
    pub fn new(node_id: impl Into<String>) -> Self {
        RecorderOptions {
            node_id: node_id.into(),
            flush_interval: DEFAULT_FLUSH,
            max_batches: DEFAULT_MAX_BATCHES,
            max_buffer_bytes: DEFAULT_MAX_BUFFER_BYTES,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

/// Sums and sketches of one key.
#[derive(Debug, Default, Clone)]
struct Agg {
    requests: u64,
    request_bytes: u64,
    response_bytes: u64,
    total_latency_us: u64,
    upstream_latency_us: u64,
    upstream_requests: u64,
    gateway_latency_us: u64,
    total: Sketch,
    upstream: Sketch,
    gateway: Sketch,
    request_size: Sketch,
    response_size: Sketch,
}

impl Agg {
    fn add(&mut self, e: &LogEntry) {
        self.requests += 1;
        self.request_bytes = self.request_bytes.saturating_add(e.request_bytes);
        self.response_bytes = self.response_bytes.saturating_add(e.response_bytes);
        self.total_latency_us = self.total_latency_us.saturating_add(e.total_latency_us);
        self.gateway_latency_us = self.gateway_latency_us.saturating_add(e.gateway_latency_us);
        self.total.add(e.total_latency_us);
        self.gateway.add(e.gateway_latency_us);
        self.request_size.add(e.request_bytes);
        self.response_size.add(e.response_bytes);
        if let Some(up) = e.upstream_latency_us {
            self.upstream_requests += 1;
            self.upstream_latency_us = self.upstream_latency_us.saturating_add(up);
            self.upstream.add(up);
        }
    }

    fn merge(&mut self, o: &Agg) {
        self.requests = self.requests.saturating_add(o.requests);
        self.request_bytes = self.request_bytes.saturating_add(o.request_bytes);
        self.response_bytes = self.response_bytes.saturating_add(o.response_bytes);
        self.total_latency_us = self.total_latency_us.saturating_add(o.total_latency_us);
        self.upstream_latency_us = self
            .upstream_latency_us
            .saturating_add(o.upstream_latency_us);
        self.upstream_requests = self.upstream_requests.saturating_add(o.upstream_requests);
        self.gateway_latency_us = self.gateway_latency_us.saturating_add(o.gateway_latency_us);
        self.total.merge(&o.total);
        self.upstream.merge(&o.upstream);
        self.gateway.merge(&o.gateway);
        self.request_size.merge(&o.request_size);
        self.response_size.merge(&o.response_size);
    }
}

/// The hot key: minute, status, error kind and the addresses of the entry's `Arc`s
/// (kept alive by the cell, so an address cannot be reused while the key is in the
/// map).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    minute: i64,
    group: usize,
    route: usize,
    consumer: usize,
    status: u16,
    error: Option<ErrorKind>,
}

struct Cell {
    group: Arc<str>,
    route: Option<Arc<RouteInfo>>,
    consumer: Option<Arc<str>>,
    agg: Agg,
}

/// A small multiplicative hasher (FxHash): the keys are a few machine words.
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    fn mix(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.mix(u64::from(*b));
        }
    }
    fn write_u16(&mut self, v: u16) {
        self.mix(u64::from(v));
    }
    fn write_u64(&mut self, v: u64) {
        self.mix(v);
    }
    fn write_i64(&mut self, v: i64) {
        self.mix(v as u64);
    }
    fn write_usize(&mut self, v: usize) {
        self.mix(v as u64);
    }
}

type HotMap = HashMap<Key, Cell, BuildHasherDefault<FxHasher>>;

/// Sealed batches, oldest first, with their estimated sizes.
#[derive(Default)]
struct Buffer {
    queue: VecDeque<(Arc<Batch>, usize)>,
    bytes: usize,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The analytics [`LogSink`]: see the module documentation.
pub struct Recorder {
    opts: RecorderOptions,
    hot: Mutex<HotMap>,
    /// Size of the map at the last seal (the next map's capacity).
    last_len: AtomicUsize,
    buffer: Mutex<Buffer>,
    ready: Notify,
    dropped: AtomicU64,
    delivered: AtomicU64,
    rejected: AtomicU64,
    unrecorded: AtomicU64,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("node_id", &self.opts.node_id)
            .field("buffered", &self.buffered())
            .field("dropped", &self.dropped_batches())
            .finish()
    }
}

impl LogSink for Recorder {
    fn log(&self, entry: LogEntry) {
        if !(100..=599).contains(&entry.status) {
            // an upstream's 6xx-9xx: the control plane takes 100-599 only
            self.unrecorded.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let key = Key {
            minute: entry.time.timestamp().div_euclid(60) * 60,
            group: Arc::as_ptr(&entry.runtime_group) as *const u8 as usize,
            route: entry.route.as_ref().map_or(0, |r| Arc::as_ptr(r) as usize),
            consumer: entry
                .consumer
                .as_ref()
                .map_or(0, |c| Arc::as_ptr(c) as *const u8 as usize),
            status: entry.status,
            error: entry.error,
        };
        let mut hot = lock(&self.hot);
        match hot.get_mut(&key) {
            Some(cell) => cell.agg.add(&entry),
            None => {
                let mut agg = Agg::default();
                agg.add(&entry);
                hot.insert(
                    key,
                    Cell {
                        group: entry.runtime_group.clone(),
                        route: entry.route.clone(),
                        consumer: entry.consumer.clone(),
                        agg,
                    },
                );
            }
        }
    }
}

/// The merge key of a sealed row: minute, route, version, status, consumer, error kind
/// (and the package, which the version determines).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RowKey {
    bucket: i64,
    route_id: Option<String>,
    version_id: Option<String>,
    status: u16,
    consumer_id: Option<String>,
    error: Option<&'static str>,
    package_id: Option<String>,
}

fn b64(s: &Sketch) -> String {
    base64::engine::general_purpose::STANDARD.encode(s.encode())
}

impl Recorder {
    /// A recorder without tasks: [`seal`](Self::seal) by hand, or
    /// [`start`](Self::start) the flush and shipping tasks.
    pub fn new(opts: RecorderOptions) -> Arc<Recorder> {
        // the sketches' bucket table, built before the first request rather than in it
        crate::analytics::sketch::prepare();
        Arc::new(Recorder {
            opts,
            hot: Mutex::new(HotMap::default()),
            last_len: AtomicUsize::new(0),
            buffer: Mutex::new(Buffer::default()),
            ready: Notify::new(),
            dropped: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            unrecorded: AtomicU64::new(0),
        })
    }

    pub fn node_id(&self) -> &str {
        &self.opts.node_id
    }

    /// Sealed batches waiting for delivery.
    pub fn buffered(&self) -> usize {
        lock(&self.buffer).queue.len()
    }

    /// Estimated bytes of the buffered batches.
    pub fn buffered_bytes(&self) -> usize {
        lock(&self.buffer).bytes
    }

    /// Batches dropped because the buffer was full (the oldest go first).
    pub fn dropped_batches(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Batches delivered (stored or found to be duplicates).
    pub fn delivered_batches(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    /// Batches the control plane refused as invalid (dropped).
    pub fn rejected_batches(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    /// Requests not recorded because their status is outside 100-599.
    pub fn unrecorded_requests(&self) -> u64 {
        self.unrecorded.load(Ordering::Relaxed)
    }

    /// A copy of the buffer, oldest first.
    pub fn batches(&self) -> Vec<Arc<Batch>> {
        lock(&self.buffer)
            .queue
            .iter()
            .map(|(b, _)| b.clone())
            .collect()
    }

    /// Seals what was recorded since the last seal into batches (one or more per
    /// runtime group) at the end of the buffer; returns how many batches it made.
    pub fn seal(&self) -> usize {
        let fresh = HotMap::with_capacity_and_hasher(
            self.last_len.load(Ordering::Relaxed),
            Default::default(),
        );
        let old = std::mem::replace(&mut *lock(&self.hot), fresh);
        self.last_len.store(old.len(), Ordering::Relaxed);
        if old.is_empty() {
            return 0;
        }
        // Merge by ids (the same route in two snapshots), per group.
        let mut groups: BTreeMap<String, BTreeMap<RowKey, Agg>> = BTreeMap::new();
        for (key, cell) in old {
            let route = cell.route.as_deref();
            let row_key = RowKey {
                bucket: key.minute,
                route_id: route.map(|r| r.route_id.clone()),
                version_id: route.map(|r| r.version_id.clone()),
                status: key.status,
                consumer_id: cell.consumer.as_deref().map(str::to_string),
                error: key.error.map(ErrorKind::as_str),
                package_id: route.map(|r| r.package_id.clone()),
            };
            let rows = groups.entry(cell.group.to_string()).or_default();
            match rows.get_mut(&row_key) {
                Some(a) => a.merge(&cell.agg),
                None => {
                    rows.insert(row_key, cell.agg);
                }
            }
        }
        let mut batches = Vec::new();
        for (group, rows) in groups {
            let mut current: Vec<BatchRow> = Vec::new();
            let mut bytes = 0usize;
            for (k, a) in rows {
                let row = BatchRow {
                    bucket: k.bucket,
                    package_id: k.package_id,
                    version_id: k.version_id,
                    route_id: k.route_id,
                    status: k.status,
                    requests: a.requests,
                    request_bytes: a.request_bytes,
                    response_bytes: a.response_bytes,
                    total_latency_us: a.total_latency_us,
                    upstream_latency_us: a.upstream_latency_us,
                    upstream_requests: a.upstream_requests,
                    gateway_latency_us: a.gateway_latency_us,
                    total_sketch: b64(&a.total),
                    upstream_sketch: b64(&a.upstream),
                    gateway_sketch: b64(&a.gateway),
                    request_size_sketch: b64(&a.request_size),
                    response_size_sketch: b64(&a.response_size),
                    consumer_id: k.consumer_id,
                    error: k.error.map(str::to_string),
                };
                let size = 700
                    + row.total_sketch.len()
                    + row.upstream_sketch.len()
                    + row.gateway_sketch.len()
                    + row.request_size_sketch.len()
                    + row.response_size_sketch.len();
                if !current.is_empty()
                    && (current.len() >= MAX_ROWS_PER_BATCH || bytes + size > MAX_BATCH_BYTES)
                {
                    batches.push((self.batch(&group, std::mem::take(&mut current)), bytes));
                    bytes = 0;
                }
                bytes += size;
                current.push(row);
            }
            if !current.is_empty() {
                batches.push((self.batch(&group, current), bytes));
            }
        }
        let made = batches.len();
        self.push(batches);
        made
    }

    fn batch(&self, group: &str, rows: Vec<BatchRow>) -> Batch {
        Batch {
            id: Uuid::new_v4(),
            node_id: self.opts.node_id.clone(),
            runtime_group: group.to_string(),
            rows,
        }
    }

    /// Appends sealed batches (with their estimated sizes), dropping the oldest
    /// beyond the bounds.
    fn push(&self, batches: Vec<(Batch, usize)>) {
        if batches.is_empty() {
            return;
        }
        let max = self.opts.max_batches.max(1);
        let max_bytes = self.opts.max_buffer_bytes;
        let mut dropped_now = 0u64;
        let mut requests_lost = 0u64;
        {
            let mut buf = lock(&self.buffer);
            for (b, size) in batches {
                buf.queue.push_back((Arc::new(b), size));
                buf.bytes += size;
            }
            while buf.queue.len() > max || (buf.bytes > max_bytes && buf.queue.len() > 1) {
                if let Some((old, size)) = buf.queue.pop_front() {
                    buf.bytes -= size;
                    dropped_now += 1;
                    requests_lost += old.rows.iter().map(|r| r.requests).sum::<u64>();
                }
            }
        }
        if dropped_now > 0 {
            let total = self.dropped.fetch_add(dropped_now, Ordering::Relaxed) + dropped_now;
            tracing::warn!(
                "analytics buffer full ({max} batches or {} MiB): dropped the {dropped_now} oldest ({requests_lost} requests); {total} batches dropped since start",
                max_bytes / (1024 * 1024)
            );
        }
        self.ready.notify_one();
    }

    fn front(&self) -> Option<Arc<Batch>> {
        lock(&self.buffer).queue.front().map(|(b, _)| b.clone())
    }

    /// Removes `id` if it is still the oldest (it may have been dropped meanwhile).
    fn pop(&self, id: Uuid) {
        let mut buf = lock(&self.buffer);
        if buf.queue.front().is_some_and(|(b, _)| b.id == id) {
            if let Some((_, size)) = buf.queue.pop_front() {
                buf.bytes -= size;
            }
        }
    }

    /// Starts the flush task (seals every flush interval) and the shipping task
    /// (delivers the buffer in order through `transport`, retrying with backoff).
    pub fn start(self: &Arc<Self>, transport: Arc<dyn Transport>) -> RecorderTasks {
        let (stop_tx, stop_rx) = watch::channel(false);
        let (drain_tx, drain_rx) = watch::channel::<Option<Instant>>(None);
        let sealer = {
            let rec = self.clone();
            let mut stop = stop_rx;
            tokio::spawn(async move {
                let every = rec.opts.flush_interval.max(Duration::from_millis(10));
                let mut tick = tokio::time::interval_at(Instant::now() + every, every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        _ = tick.tick() => { rec.seal(); }
                        _ = stop.wait_for(|s| *s) => return,
                    }
                }
            })
        };
        let shipper = {
            let rec = self.clone();
            tokio::spawn(async move { rec.ship(transport, drain_rx).await })
        };
        RecorderTasks {
            recorder: self.clone(),
            stop: stop_tx,
            drain: drain_tx,
            sealer,
            shipper,
        }
    }

    /// Sends the oldest batch until the buffer is empty; once `drain` holds a
    /// deadline, returns when the buffer is empty or the deadline passed.
    async fn ship(
        &self,
        transport: Arc<dyn Transport>,
        mut drain: watch::Receiver<Option<Instant>>,
    ) {
        let mut backoff = Backoff::new();
        let mut failing_since: Option<Instant> = None;
        let mut last_warn: Option<Instant> = None;
        loop {
            let deadline = *drain.borrow();
            let Some(batch) = self.front() else {
                if deadline.is_some() {
                    return;
                }
                tokio::select! {
                    _ = self.ready.notified() => {}
                    r = drain.changed() => if r.is_err() { return },
                }
                continue;
            };
            let sent = match deadline {
                None => {
                    tokio::select! {
                        r = transport.send(&batch) => Some(r),
                        // a shutdown began: go on in drain mode
                        r = drain.changed() => if r.is_err() { return } else { None },
                    }
                }
                Some(d) => match tokio::time::timeout_at(d, transport.send(&batch)).await {
                    Ok(r) => Some(r),
                    Err(_) => return,
                },
            };
            let Some(sent) = sent else { continue };
            match sent {
                Ok(_) => {
                    self.pop(batch.id);
                    self.delivered.fetch_add(1, Ordering::Relaxed);
                    backoff.reset();
                    if let Some(since) = failing_since.take() {
                        tracing::info!(
                            "analytics: the control plane takes batches again (after {:.0} s); {} waiting",
                            since.elapsed().as_secs_f64(),
                            self.buffered()
                        );
                    }
                }
                Err(SendError::Reject(message)) => {
                    self.pop(batch.id);
                    self.rejected.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(
                        "analytics batch {} ({} rows) refused, dropped: {message}",
                        batch.id,
                        batch.rows.len()
                    );
                }
                Err(SendError::Retry(message)) => {
                    let wait = backoff.next();
                    let now = Instant::now();
                    failing_since.get_or_insert(now);
                    if last_warn.is_none_or(|t| now - t >= Duration::from_secs(60)) {
                        last_warn = Some(now);
                        tracing::warn!(
                            "analytics: cannot deliver batch {}: {message}; {} batches buffered (at most {}); retrying in {:.1} s",
                            batch.id,
                            self.buffered(),
                            self.opts.max_batches,
                            wait.as_secs_f64()
                        );
                    }
                    match deadline {
                        None => {
                            tokio::select! {
                                _ = tokio::time::sleep(wait) => {}
                                r = drain.changed() => if r.is_err() { return },
                            }
                        }
                        Some(d) => {
                            if now + wait >= d {
                                return;
                            }
                            tokio::time::sleep(wait).await;
                        }
                    }
                }
            }
        }
    }
}

/// The running tasks of a started [`Recorder`].
pub struct RecorderTasks {
    recorder: Arc<Recorder>,
    stop: watch::Sender<bool>,
    drain: watch::Sender<Option<Instant>>,
    sealer: tokio::task::JoinHandle<()>,
    shipper: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for RecorderTasks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecorderTasks")
            .field("recorder", &self.recorder)
            .finish()
    }
}

impl RecorderTasks {
    pub fn recorder(&self) -> &Arc<Recorder> {
        &self.recorder
    }

    /// Stops sealing, seals what is left and tries to deliver the buffer for at most
    /// the shutdown grace; returns how many batches were left undelivered.
    pub async fn shutdown(self) -> usize {
        let _ = self.stop.send(true);
        let _ = self.sealer.await;
        self.recorder.seal();
        let grace = self.recorder.opts.shutdown_grace;
        let _ = self.drain.send(Some(Instant::now() + grace));
        let _ = tokio::time::timeout(grace + Duration::from_secs(1), self.shipper).await;
        let left = self.recorder.buffered();
        if left > 0 {
            let requests: u64 = self
                .recorder
                .batches()
                .iter()
                .flat_map(|b| b.rows.iter().map(|r| r.requests))
                .sum();
            tracing::warn!(
                "analytics: {left} batches ({requests} requests) not delivered before shutting down"
            );
        }
        left
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn route(id: &str) -> Arc<RouteInfo> {
        Arc::new(RouteInfo {
            route_id: format!("{id}-route"),
            route_name: None,
            package_id: format!("{id}-package"),
            package_key: id.to_string(),
            version_id: format!("{id}-version"),
            version_name: "v1".into(),
        })
    }

    fn entry(group: &Arc<str>, route: Option<Arc<RouteInfo>>, secs: i64, status: u16) -> LogEntry {
        LogEntry {
            time: Utc.timestamp_opt(secs, 0).single().unwrap(),
            runtime_group: group.clone(),
            route,
            method: hyper::Method::GET,
            status,
            request_bytes: 10,
            response_bytes: 100,
            total_latency_us: 1_000,
            upstream_latency_us: (status != 404).then_some(800),
            gateway_latency_us: 50,
            error: None,
            consumer: None,
        }
    }

    fn decode(s: &str) -> Sketch {
        let bytes = base64::engine::general_purpose::STANDARD.decode(s).unwrap();
        Sketch::decode(&bytes).unwrap()
    }

    #[test]
    fn seals_per_minute_route_and_status_and_merges_snapshots() {
        let rec = Recorder::new(RecorderOptions::new("node-1"));
        let g: Arc<str> = Arc::from("default");
        let a = route("a");
        let a_again = route("a"); // the same route in a later snapshot
        let t = 1_764_504_000; // a minute start
        for _ in 0..3 {
            rec.log(entry(&g, Some(a.clone()), t + 5, 200));
        }
        rec.log(entry(&g, Some(a_again.clone()), t + 59, 200));
        rec.log(entry(&g, Some(a.clone()), t + 60, 200));
        rec.log(entry(&g, Some(a.clone()), t + 1, 500));
        rec.log(entry(&g, None, t + 2, 404));
        rec.log(entry(&g, None, t + 2, 799));
        assert_eq!(rec.unrecorded_requests(), 1);
        assert_eq!(rec.seal(), 1);
        assert_eq!(rec.seal(), 0, "nothing new");
        let batches = rec.batches();
        let b = &batches[0];
        assert_eq!(b.runtime_group, "default");
        assert_eq!(b.node_id, "node-1");
        assert_eq!(b.rows.len(), 4, "{:?}", b.rows);
        let find = |bucket: i64, status: u16| {
            b.rows
                .iter()
                .find(|r| r.bucket == bucket && r.status == status)
                .unwrap()
        };
        let r = find(t, 200);
        assert_eq!(r.requests, 4);
        assert_eq!(r.route_id.as_deref(), Some("a-route"));
        assert_eq!(r.version_id.as_deref(), Some("a-version"));
        assert_eq!(r.package_id.as_deref(), Some("a-package"));
        assert_eq!(r.request_bytes, 40);
        assert_eq!(r.response_bytes, 400);
        assert_eq!(r.total_latency_us, 4_000);
        assert_eq!(r.upstream_requests, 4);
        assert_eq!(r.upstream_latency_us, 3_200);
        assert_eq!(r.gateway_latency_us, 200);
        assert_eq!(decode(&r.total_sketch).count(), 4);
        assert_eq!(decode(&r.upstream_sketch).count(), 4);
        assert_eq!(decode(&r.response_size_sketch).count(), 4);
        let p50 = decode(&r.total_sketch).quantile(0.5).unwrap();
        assert!((p50 - 1_000.0).abs() <= 10.0, "{p50}");
        assert_eq!(find(t + 60, 200).requests, 1);
        assert_eq!(find(t, 500).requests, 1);
        let none = find(t, 404);
        assert_eq!(none.route_id, None);
        assert_eq!(none.upstream_requests, 0);
        assert_eq!(decode(&none.upstream_sketch).count(), 0);
        // The JSON leaves absent ids out and round-trips.
        let json = serde_json::to_value(b).unwrap();
        let back: Batch = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(&back, b.as_ref());
        assert!(json["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.get("route_id").is_none()));
    }

    #[test]
    fn consumer_and_error_kind_keep_rows_apart() {
        let rec = Recorder::new(RecorderOptions::new("n"));
        let g: Arc<str> = Arc::from("default");
        let a = route("a");
        let alice: Arc<str> = Arc::from("5d2f1e60-3c1b-4f7e-9a3e-1f0c2b3d4e5f");
        let alice_again: Arc<str> = Arc::from(&*alice); // a later snapshot's
        let bob: Arc<str> = Arc::from("0b8c7d6e-5f4a-4b3c-8d2e-1a0f9e8d7c6b");
        let t = 1_764_504_000;
        let with = |consumer: Option<&Arc<str>>, status: u16, error: Option<ErrorKind>| {
            let mut e = entry(&g, Some(a.clone()), t + 1, status);
            e.consumer = consumer.cloned();
            e.error = error;
            e
        };
        rec.log(with(Some(&alice), 200, None));
        rec.log(with(Some(&alice_again), 200, None));
        rec.log(with(Some(&bob), 200, None));
        rec.log(with(None, 200, None));
        rec.log(with(None, 504, Some(ErrorKind::UpstreamTimeout)));
        rec.log(with(None, 504, None));
        rec.log(with(Some(&bob), 504, Some(ErrorKind::UpstreamTimeout)));
        rec.log(with(Some(&bob), 504, Some(ErrorKind::UpstreamTimeout)));
        assert_eq!(rec.seal(), 1);
        let b = rec.batches()[0].clone();
        let count = |consumer: Option<&str>, status: u16, error: Option<&str>| {
            b.rows
                .iter()
                .filter(|r| {
                    r.consumer_id.as_deref() == consumer
                        && r.status == status
                        && r.error.as_deref() == error
                })
                .map(|r| r.requests)
                .collect::<Vec<_>>()
        };
        assert_eq!(b.rows.len(), 6, "{:?}", b.rows);
        assert_eq!(count(Some(&alice), 200, None), [2], "merged by id");
        assert_eq!(count(Some(&bob), 200, None), [1]);
        assert_eq!(count(None, 200, None), [1]);
        assert_eq!(count(None, 504, Some("upstream_timeout")), [1]);
        assert_eq!(count(None, 504, None), [1]);
        assert_eq!(count(Some(&bob), 504, Some("upstream_timeout")), [2]);
        // on the wire: present when set, left out when not, and read back the same
        let json = serde_json::to_value(b.as_ref()).unwrap();
        let rows = json["rows"].as_array().unwrap();
        assert!(rows
            .iter()
            .any(|r| r["consumer_id"] == *alice && r["error"].is_null()));
        assert!(rows
            .iter()
            .any(|r| r.get("consumer_id").is_none() && r["error"] == "upstream_timeout"));
        let back: Batch = serde_json::from_value(json).unwrap();
        assert_eq!(&back, b.as_ref());
    }

    #[test]
    fn a_batch_without_consumer_and_error_still_parses() {
        // what a node that predates the two fields sends
        let old = serde_json::json!({"id": Uuid::new_v4(), "node_id": "n",
            "runtime_group": "default",
            "rows": [{"bucket": 1_764_504_000, "status": 200, "requests": 1,
                "request_bytes": 0, "response_bytes": 0, "total_latency_us": 1,
                "upstream_latency_us": 0, "upstream_requests": 0, "gateway_latency_us": 1,
                "total_sketch": "", "upstream_sketch": "", "gateway_sketch": "",
                "request_size_sketch": "", "response_size_sketch": ""}]});
        let b: Batch = serde_json::from_value(old).unwrap();
        assert_eq!(b.rows[0].consumer_id, None);
        assert_eq!(b.rows[0].error, None);
    }

    #[test]
    fn one_batch_per_group_and_split_at_the_row_limit() {
        let rec = Recorder::new(RecorderOptions::new("n"));
        let g1: Arc<str> = Arc::from("one");
        let g2: Arc<str> = Arc::from("two");
        let t = 1_764_504_000;
        rec.log(entry(&g1, None, t, 200));
        rec.log(entry(&g2, None, t, 200));
        assert_eq!(rec.seal(), 2);
        let groups: Vec<String> = rec
            .batches()
            .iter()
            .map(|b| b.runtime_group.clone())
            .collect();
        assert_eq!(groups, ["one", "two"]);

        let rec = Recorder::new(RecorderOptions::new("n"));
        // MAX_ROWS_PER_BATCH + 5 distinct minutes
        for m in 0..(MAX_ROWS_PER_BATCH as i64 + 5) {
            rec.log(entry(&g1, None, t + 60 * m, 200));
        }
        let made = rec.seal();
        assert!(made >= 2, "{made}");
        let b = rec.batches();
        assert_eq!(
            b.iter().map(|b| b.rows.len()).sum::<usize>(),
            MAX_ROWS_PER_BATCH + 5
        );
        for (k, batch) in b.iter().enumerate() {
            assert!(batch.rows.len() <= MAX_ROWS_PER_BATCH);
            let json = serde_json::to_vec(batch.as_ref()).unwrap();
            assert!(json.len() <= MAX_BATCH_BYTES, "{} bytes", json.len());
            if k > 0 {
                assert_ne!(b[k - 1].id, batch.id);
                assert!(b[k - 1].rows.last().unwrap().bucket < batch.rows[0].bucket);
            }
        }
    }

    #[test]
    fn the_buffer_is_bounded_and_drops_the_oldest() {
        let mut opts = RecorderOptions::new("n");
        opts.max_batches = 3;
        let rec = Recorder::new(opts);
        let g: Arc<str> = Arc::from("default");
        let t = 1_764_504_000;
        for k in 0..5 {
            rec.log(entry(&g, None, t + 60 * k, 200));
            assert_eq!(rec.seal(), 1);
        }
        assert_eq!(rec.buffered(), 3);
        assert_eq!(rec.dropped_batches(), 2);
        let buckets: Vec<i64> = rec.batches().iter().map(|b| b.rows[0].bucket).collect();
        assert_eq!(buckets, [t + 120, t + 180, t + 240], "the newest are kept");
        // pop only removes the oldest, by id
        let first = rec.batches()[0].id;
        let bytes = rec.buffered_bytes();
        rec.pop(Uuid::new_v4());
        assert_eq!(rec.buffered(), 3);
        rec.pop(first);
        assert_eq!(rec.buffered(), 2);
        assert!(rec.buffered_bytes() < bytes);

        // the byte bound: room for about two of these batches
        let mut opts = RecorderOptions::new("n");
        opts.max_buffer_bytes = bytes * 2 / 3 + 10;
        let rec = Recorder::new(opts);
        for k in 0..5 {
            rec.log(entry(&g, None, t + 60 * k, 200));
            rec.seal();
        }
        assert_eq!(rec.buffered(), 2);
        assert_eq!(rec.dropped_batches(), 3);
        assert_eq!(rec.batches()[1].rows[0].bucket, t + 240);
    }

    /// Fails the first `fail` sends, then records the ids it was given.
    struct Flaky {
        fail: Mutex<usize>,
        seen: Mutex<Vec<Uuid>>,
    }

    #[async_trait::async_trait]
    impl Transport for Flaky {
        async fn send(&self, batch: &Batch) -> Result<IngestOutcome, SendError> {
            self.seen.lock().unwrap().push(batch.id);
            let mut f = self.fail.lock().unwrap();
            if *f > 0 {
                *f -= 1;
                return Err(SendError::Retry("down".into()));
            }
            Ok(IngestOutcome::Stored {
                rows: batch.rows.len(),
            })
        }
    }

    #[tokio::test]
    async fn ships_in_order_keeps_ids_across_retries_and_drains_on_shutdown() {
        let mut opts = RecorderOptions::new("n");
        opts.flush_interval = Duration::from_millis(100);
        let rec = Recorder::new(opts);
        let t = Arc::new(Flaky {
            fail: Mutex::new(2),
            seen: Mutex::new(Vec::new()),
        });
        let tasks = rec.start(t.clone());
        let g: Arc<str> = Arc::from("default");
        rec.log(entry(&g, None, 1_764_504_000, 200));
        tokio::time::sleep(Duration::from_millis(150)).await;
        rec.log(entry(&g, None, 1_764_504_060, 200));
        for _ in 0..100 {
            if rec.delivered_batches() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(rec.buffered(), 0);
        let seen = t.seen.lock().unwrap().clone();
        // the first batch tried 3 times with the same id, then the second once
        assert_eq!(seen.len(), 4, "{seen:?}");
        assert!(seen[..3].iter().all(|id| *id == seen[0]));
        assert_ne!(seen[3], seen[0]);
        // what is recorded before the shutdown is sealed and delivered by it
        rec.log(entry(&g, None, 1_764_504_120, 200));
        assert_eq!(tasks.shutdown().await, 0);
        assert_eq!(t.seen.lock().unwrap().len(), 5);
        assert_eq!(rec.delivered_batches(), 3);
    }
}
