//! The control plane's side of config sync: the `/dp/v1` endpoints that standalone
//! nodes long-poll (see `gateway::snapshot` for the protocol), and the embedded data
//! planes of `portico serve`, which take the same snapshots in-process.
//!
//! Analytics in: `POST /dp/v1/analytics` takes a node's [`Batch`] (JSON, see
//! `gateway::recorder`; at most 8 MiB) with the token and headers of the config poll
//! (401/403 alike; a batch of another runtime group than the token's: 403). 200 with
//! `{"status": "stored", "rows": N}`, or `{"status": "duplicate", …}` when a batch with
//! this id was counted before (nothing added). A batch that breaks a rule: 422 with
//! `{"message": …, "field": "rows[3].status"}`, nothing stored. The embedded data
//! planes record with the same recorder and hand their batches to the same
//! [`Hub::ingest_analytics`] through [`HubTransport`]. A data plane is trusted for its
//! own group only: its rows may name the packages, versions, routes and consumers of
//! that group's snapshots (see `hub::snapshot_ids`), its node row is the group's own, and
//! what it says about itself (`/dp/v1/report`, host name, version) is cut and
//! cleaned of control characters before it is logged or shown.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use sha2::Digest;
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::gateway::node::hostname;
use crate::gateway::recorder::{
    Batch, IngestOutcome, Recorder, RecorderOptions, RecorderTasks, SendError, Transport,
};
use crate::gateway::snapshot::{headers, Report, Snapshot};
use crate::gateway::{DataPlane, LogSink};
use crate::hub::dataplanes::{node_text, MAX_REPORT_CHARS};
use crate::hub::{Hub, NodeHello};
use crate::store::runtime_group;

/// How long a long poll waits for a change by default, and at most.
const WAIT_DEFAULT_MS: u64 = 25_000;
const WAIT_MAX_MS: u64 = 60_000;
/// How often an embedded data plane says it is alive.
const HEARTBEAT: Duration = Duration::from_secs(15);
/// The largest analytics batch body.
pub const MAX_ANALYTICS_BODY: usize = 8 * 1024 * 1024;

fn message(status: StatusCode, text: &str) -> Response {
    (status, Json(serde_json::json!({ "message": text }))).into_response()
}

/// The `/dp/v1` routes (public: they authenticate with a data plane token).
pub fn router<S: Clone + Send + Sync + 'static>(hub: Hub) -> Router<S> {
    Router::new()
        .route("/dp/v1/config", get(config))
        .route("/dp/v1/report", post(report))
        .route(
            "/dp/v1/analytics",
            post(analytics).layer(DefaultBodyLimit::max(MAX_ANALYTICS_BODY)),
        )
        .with_state(hub)
}

#[derive(Deserialize)]
struct ConfigQuery {
    after: Option<u64>,
    wait_ms: Option<u64>,
}

fn header_text<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

/// Checks the token and the group the node names; the node's hello.
async fn node_of(hub: &Hub, h: &HeaderMap) -> Result<(runtime_group::Model, NodeHello), Response> {
    let token = header_text(h, header::AUTHORIZATION.as_str())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    if token.is_empty() {
        return Err(message(
            StatusCode::UNAUTHORIZED,
            "A data plane token is required (Authorization: Bearer pdp_…).",
        ));
    }
    let group = match hub.authenticate_data_plane(token).await {
        Ok(Some(g)) => g,
        Ok(None) => {
            return Err(message(
                StatusCode::UNAUTHORIZED,
                "The data plane token is unknown or revoked.",
            ))
        }
        Err(e) => return Err(message(StatusCode::INTERNAL_SERVER_ERROR, e.message())),
    };
    let named = header_text(h, headers::RUNTIME_GROUP).unwrap_or("");
    if app::model::validate::slug(named) != group.name_key {
        return Err(message(
            StatusCode::FORBIDDEN,
            &format!(
                "This token belongs to runtime group \"{}\", not \"{named}\".",
                group.name
            ),
        ));
    }
    let Some(id) = header_text(h, headers::NODE_ID).and_then(|v| Uuid::parse_str(v).ok()) else {
        return Err(message(
            StatusCode::BAD_REQUEST,
            "X-Portico-Node-Id must be a UUID.",
        ));
    };
    let hello = NodeHello {
        id,
        hostname: header_text(h, headers::NODE_HOSTNAME)
            .unwrap_or("unknown")
            .to_string(),
        version: header_text(h, headers::NODE_VERSION)
            .unwrap_or("unknown")
            .to_string(),
        config_version: header_text(h, headers::CONFIG_VERSION)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        embedded: false,
    };
    Ok((group, hello))
}

async fn group_version(hub: &Hub, id: Uuid) -> Option<u64> {
    use sea_orm::EntityTrait;
    runtime_group::Entity::find_by_id(id)
        .one(hub.db())
        .await
        .ok()
        .flatten()
        .map(|g| g.config_version.max(0) as u64)
}

async fn config(State(hub): State<Hub>, Query(q): Query<ConfigQuery>, h: HeaderMap) -> Response {
    let (group, hello) = match node_of(&hub, &h).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Err(e) = hub.record_node(group.id, &hello, None).await {
        tracing::warn!("could not record data plane node {}: {e}", hello.id);
    }
    let after = q.after.unwrap_or(0);
    let wait = Duration::from_millis(q.wait_ms.unwrap_or(WAIT_DEFAULT_MS).min(WAIT_MAX_MS));
    let mut changes = hub.gateway_changes();
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        changes.borrow_and_update();
        match group_version(&hub, group.id).await {
            Some(v) if v > after => break,
            Some(_) => {}
            None => return message(StatusCode::UNAUTHORIZED, "The runtime group is gone."),
        }
        match tokio::time::timeout_at(deadline, changes.changed()).await {
            Ok(Ok(())) => continue,
            _ => return StatusCode::NO_CONTENT.into_response(),
        }
    }
    match hub.snapshot(group.id).await {
        Ok(s) => Json(s.as_ref()).into_response(),
        Err(e) => message(
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            e.message(),
        ),
    }
}

async fn report(State(hub): State<Hub>, h: HeaderMap, body: axum::body::Bytes) -> Response {
    let (group, hello) = match node_of(&hub, &h).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let report: Report = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return message(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("The report must be {{\"config_version\": N, \"error\": \"…\"}}: {e}"),
            )
        }
    };
    // The node's words: cut and cleaned before they reach the log or the console.
    let text = node_text(
        &format!(
            "config version {} refused: {}",
            report.config_version, report.error
        ),
        MAX_REPORT_CHARS,
    );
    tracing::warn!(node = %hello.id, group = %group.name, "{text}");
    match hub.record_node(group.id, &hello, Some(Some(text))).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => message(StatusCode::INTERNAL_SERVER_ERROR, e.message()),
    }
}

/// A refused batch: 422 naming the field.
fn unprocessable(field: &str, text: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(serde_json::json!({ "message": text, "field": field })),
    )
        .into_response()
}

type Invalid = (String, String);

/// Reads a batch's JSON, naming the exact path of a value of the wrong shape
/// (`rows[3].status`, see `rest::json`); the rules on the values are
/// `Hub::ingest_analytics`'s.
fn parse_batch(body: &[u8]) -> Result<Batch, Invalid> {
    use crate::rest::json::{from_slice, JsonError};
    let batch: Batch = from_slice(body).map_err(|e| match e {
        JsonError::Syntax(m) => (
            "body".to_string(),
            format!("The batch is not valid JSON: {m}"),
        ),
        JsonError::Shape { field, message } => (field, message),
    })?;
    if batch.node_id.chars().count() > 128 {
        return Err((
            "node_id".into(),
            "must be a string of at most 128 characters".into(),
        ));
    }
    Ok(batch)
}

async fn analytics(State(hub): State<Hub>, h: HeaderMap, body: axum::body::Bytes) -> Response {
    let (group, hello) = match node_of(&hub, &h).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let batch = match parse_batch(&body) {
        Ok(b) => b,
        Err((field, text)) => return unprocessable(&field, &text),
    };
    let node = if batch.node_id.is_empty() {
        hello.id.to_string()
    } else {
        batch.node_id.clone()
    };
    match hub.ingest_analytics(group.id, &node, &batch).await {
        Ok(IngestOutcome::Stored { rows }) => {
            Json(serde_json::json!({ "status": "stored", "rows": rows })).into_response()
        }
        Ok(IngestOutcome::Duplicate) => Json(serde_json::json!({
            "status": "duplicate",
            "message": "This batch was counted before; nothing was added."
        }))
        .into_response(),
        Err(e) => match e.field() {
            Some(field) if e.status() == 422 => unprocessable(field, e.message()),
            _ => message(
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                e.message(),
            ),
        },
    }
}

/// Hands the embedded data planes' batches to [`Hub::ingest_analytics`]: the same
/// batches, checks and counting once as over HTTP.
pub struct HubTransport {
    hub: Hub,
}

impl HubTransport {
    pub fn new(hub: Hub) -> Self {
        HubTransport { hub }
    }
}

#[async_trait::async_trait]
impl Transport for HubTransport {
    async fn send(&self, batch: &Batch) -> Result<IngestOutcome, SendError> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let key = app::model::validate::slug(&batch.runtime_group);
        let group = runtime_group::Entity::find()
            .filter(runtime_group::Column::NameKey.eq(key))
            .one(self.hub.db())
            .await
            .map_err(|e| SendError::Retry(format!("database: {e}")))?
            .ok_or_else(|| {
                SendError::Reject(format!(
                    "there is no runtime group \"{}\" any more",
                    batch.runtime_group
                ))
            })?;
        match self
            .hub
            .ingest_analytics(group.id, &batch.node_id, batch)
            .await
        {
            Ok(o) => Ok(o),
            Err(e) if e.status() >= 500 => Err(SendError::Retry(e.message().to_string())),
            Err(e) => Err(SendError::Reject(e.to_string())),
        }
    }
}

/// The node id of the embedded data planes' batches: stable per host.
pub fn embedded_analytics_node_id() -> String {
    let digest = sha2::Sha256::digest(format!("embedded-analytics|{}", hostname()).as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// The recorder of `portico serve`'s embedded data planes (pass it to
/// [`EmbeddedPlanes::start`]), sealing every `flush` and counting through the hub;
/// shut its tasks down after the planes.
pub fn start_embedded_analytics(hub: Hub, flush: Duration) -> (Arc<Recorder>, RecorderTasks) {
    let mut opts = RecorderOptions::new(embedded_analytics_node_id());
    opts.flush_interval = flush;
    let recorder = Recorder::new(opts);
    let tasks = recorder.start(Arc::new(HubTransport::new(hub)));
    (recorder, tasks)
}

/// Wakes long polls when another control plane (on the same PostgreSQL) changed a
/// group: compares the sum of config versions every second.
pub fn spawn_change_poller(hub: Hub) {
    tokio::spawn(async move {
        use sea_orm::{EntityTrait, QuerySelect};
        let mut last: Option<i64> = None;
        let mut every = tokio::time::interval(Duration::from_secs(1));
        loop {
            every.tick().await;
            let sum: Option<Option<i64>> = runtime_group::Entity::find()
                .select_only()
                .column_as(
                    sea_orm::sea_query::Expr::col(runtime_group::Column::ConfigVersion).sum(),
                    "s",
                )
                .into_tuple::<Option<i64>>()
                .one(hub.db())
                .await
                .ok()
                .flatten();
            let sum = sum.flatten();
            if last.is_some() && sum != last {
                hub.gateway_changed();
            }
            last = sum;
        }
    });
}

/// A stable node id for an embedded data plane: the same group and address on the
/// same host keep their row across restarts.
fn embedded_node_id(group: Uuid, listen: &str) -> Uuid {
    let host = hostname();
    let digest = sha2::Sha256::digest(format!("{group}|{listen}|{host}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

struct Running {
    group: String,
    listen: String,
    plane: DataPlane,
    node: NodeHello,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

/// What `/status` says about one embedded data plane.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EmbeddedStatus {
    pub runtime_group: String,
    pub listen: String,
    pub ready: bool,
    pub config_version: Option<u64>,
}

/// The embedded data planes of `portico serve`: one per runtime group with a proxy
/// address, started, moved and stopped as groups change.
#[derive(Clone)]
pub struct EmbeddedPlanes {
    running: Arc<Mutex<HashMap<Uuid, Running>>>,
    limits: crate::gateway::ProxyLimits,
}

impl EmbeddedPlanes {
    /// Starts the planes and keeps them in line with the database until `shutdown`.
    pub fn start(hub: Hub, sink: Arc<dyn LogSink>) -> Self {
        Self::start_with_limits(hub, sink, crate::gateway::ProxyLimits::default())
    }

    /// [`start`](Self::start), with the proxy listeners' limits.
    pub fn start_with_limits(
        hub: Hub,
        sink: Arc<dyn LogSink>,
        limits: crate::gateway::ProxyLimits,
    ) -> Self {
        let planes = Self {
            running: Arc::default(),
            limits,
        };
        let me = planes.clone();
        tokio::spawn(async move {
            let mut changes = hub.gateway_changes();
            let mut beat = tokio::time::interval(HEARTBEAT);
            loop {
                changes.borrow_and_update();
                me.reconcile(&hub, &sink).await;
                tokio::select! {
                    r = changes.changed() => if r.is_err() { break },
                    _ = beat.tick() => me.heartbeat(&hub).await,
                }
            }
        });
        planes
    }

    /// The metrics of every embedded plane, as Prometheus text (`GET /metrics`).
    pub fn metrics_text(&self) -> String {
        let families = match self.running.lock() {
            Ok(r) => r.values().flat_map(|r| r.plane.metric_families()).collect(),
            Err(_) => Vec::new(),
        };
        crate::gateway::metrics::encode(families)
    }

    /// Status of every embedded plane.
    pub fn status(&self) -> Vec<EmbeddedStatus> {
        let Ok(running) = self.running.lock() else {
            return Vec::new();
        };
        let mut out: Vec<EmbeddedStatus> = running
            .values()
            .map(|r| {
                let s = r.plane.status();
                EmbeddedStatus {
                    runtime_group: r.group.clone(),
                    listen: r.listen.clone(),
                    ready: s.ready,
                    config_version: s.config_version,
                }
            })
            .collect();
        out.sort_by(|a, b| a.listen.cmp(&b.listen));
        out
    }

    /// Stops every plane, letting in-flight requests finish.
    pub async fn shutdown(&self) {
        let all: Vec<Running> = match self.running.lock() {
            Ok(mut r) => r.drain().map(|(_, v)| v).collect(),
            Err(_) => return,
        };
        for mut r in all {
            if let Some(stop) = r.stop.take() {
                let _ = stop.send(());
            }
            let _ = r.task.await;
        }
    }

    async fn heartbeat(&self, hub: &Hub) {
        let nodes: Vec<(Uuid, NodeHello)> = match self.running.lock() {
            Ok(r) => r
                .iter()
                .map(|(g, r)| {
                    let mut n = r.node.clone();
                    n.config_version = r.plane.config_version().unwrap_or(0);
                    (*g, n)
                })
                .collect(),
            Err(_) => return,
        };
        for (group, node) in nodes {
            if let Err(e) = hub.record_node(group, &node, None).await {
                tracing::warn!("could not record the embedded data plane: {e}");
            }
        }
    }

    async fn reconcile(&self, hub: &Hub, sink: &Arc<dyn LogSink>) {
        let wanted = match hub.proxy_listeners().await {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!("could not read the runtime groups' proxy addresses: {e}");
                return;
            }
        };
        // Stop planes whose group is gone or moved.
        let stale: Vec<Running> = match self.running.lock() {
            Ok(mut running) => {
                let keep: HashMap<Uuid, &String> =
                    wanted.iter().map(|(id, _, l)| (*id, l)).collect();
                let gone: Vec<Uuid> = running
                    .iter()
                    .filter(|(id, r)| keep.get(id).is_none_or(|l| **l != r.listen))
                    .map(|(id, _)| *id)
                    .collect();
                gone.into_iter()
                    .filter_map(|id| running.remove(&id))
                    .collect()
            }
            Err(_) => return,
        };
        for mut r in stale {
            tracing::info!("stopping the embedded data plane on {}", r.listen);
            if let Some(stop) = r.stop.take() {
                let _ = stop.send(());
            }
            let _ = r.task.await;
        }
        for (id, name, listen) in wanted {
            let existing = self
                .running
                .lock()
                .ok()
                .and_then(|r| r.get(&id).map(|r| (r.plane.clone(), r.node.clone())));
            let (plane, node) = match existing {
                Some(x) => x,
                None => match self.launch(id, &name, &listen, sink.clone()).await {
                    Some(x) => x,
                    None => continue,
                },
            };
            self.refresh(hub, id, &plane, node).await;
        }
    }

    async fn launch(
        &self,
        id: Uuid,
        name: &str,
        listen: &str,
        sink: Arc<dyn LogSink>,
    ) -> Option<(DataPlane, NodeHello)> {
        let addr: SocketAddr = listen.parse().ok()?;
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(
                    "the data plane of runtime group \"{name}\" cannot listen on {listen}: {e}"
                );
                return None;
            }
        };
        let plane = DataPlane::with_limits(name.to_string(), sink, self.limits.clone());
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let serving = plane.clone();
        let group_name = name.to_string();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stop_rx.await;
            };
            if let Err(e) = serving.serve(listener, shutdown).await {
                tracing::error!("the data plane of runtime group \"{group_name}\" stopped: {e}");
            }
        });
        tracing::info!("data plane of runtime group \"{name}\" listening on http://{listen}");
        let node = NodeHello {
            id: embedded_node_id(id, listen),
            hostname: format!("{} (embedded)", hostname()),
            version: env!("CARGO_PKG_VERSION").to_string(),
            config_version: 0,
            embedded: true,
        };
        plane.set_node_id(&node.id.to_string());
        if let Ok(mut running) = self.running.lock() {
            running.insert(
                id,
                Running {
                    group: name.to_string(),
                    listen: listen.to_string(),
                    plane: plane.clone(),
                    node: node.clone(),
                    stop: Some(stop_tx),
                    task,
                },
            );
        }
        Some((plane, node))
    }

    /// Applies the group's current snapshot when the plane is behind.
    async fn refresh(&self, hub: &Hub, id: Uuid, plane: &DataPlane, mut node: NodeHello) {
        let snap: Arc<Snapshot> = match hub.snapshot(id).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("could not build the snapshot of a runtime group: {e}");
                return;
            }
        };
        let mut error = None;
        if plane.config_version() != Some(snap.config_version) {
            let p = plane.clone();
            let s = snap.as_ref().clone();
            match tokio::task::spawn_blocking(move || p.apply(s)).await {
                Ok(Ok(_)) => error = Some(None),
                Ok(Err(e)) => {
                    tracing::error!(
                        "the embedded data plane refused config version {}: {e}",
                        snap.config_version
                    );
                    error = Some(Some(format!(
                        "config version {} refused: {e}",
                        snap.config_version
                    )));
                }
                Err(e) => tracing::error!("applying a snapshot failed: {e}"),
            }
        }
        node.config_version = plane.config_version().unwrap_or(0);
        if let Err(e) = hub.record_node(id, &node, error).await {
            tracing::warn!("could not record the embedded data plane: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    fn row() -> serde_json::Value {
        json!({"bucket": 60, "status": 200, "requests": 1, "request_bytes": 0,
            "response_bytes": 0, "total_latency_us": 0, "upstream_latency_us": 0,
            "upstream_requests": 0, "gateway_latency_us": 0, "total_sketch": "",
            "upstream_sketch": "", "gateway_sketch": "", "request_size_sketch": "",
            "response_size_sketch": ""})
    }

    fn field(v: serde_json::Value) -> String {
        super::parse_batch(v.to_string().as_bytes())
            .map(|_| String::new())
            .unwrap_or_else(|(field, _)| field)
    }

    /// The batch is read by its own `Deserialize` (as the embedded planes hand it over),
    /// and a value of the wrong shape is named by its path.
    #[test]
    fn batches_name_the_path_of_a_bad_value() {
        let id = uuid::Uuid::new_v4();
        let good = json!({"id": id, "node_id": "n1", "runtime_group": "default",
            "rows": [row(), row()]});
        assert_eq!(field(good.clone()), "");
        let mut v = good.clone();
        v["node_id"] = json!(null);
        assert_eq!(field(v), "");
        let mut v = good.clone();
        v["rows"][1]
            .as_object_mut()
            .unwrap()
            .remove("gateway_sketch");
        assert_eq!(field(v), "rows[1].gateway_sketch");
        let mut v = good.clone();
        v["rows"][1]["status"] = json!("200");
        assert_eq!(field(v), "rows[1].status");
        let mut v = good.clone();
        v["node_id"] = json!("n".repeat(129));
        assert_eq!(field(v), "node_id");
        assert_eq!(super::parse_batch(b"{not json").unwrap_err().0, "body");
    }
}
