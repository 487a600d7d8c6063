//! Prometheus metrics of one data plane, with the names, labels and buckets of Kong's
//! prometheus plugin (`kong/plugins/prometheus/exporter.lua`), in Prometheus' text
//! format 0.0.4 (the `prometheus` crate, whose counters keep Kong's exact names).
//!
//! Per request (the log step, when a `prometheus` plugin applies to the matched route;
//! nothing is recorded for requests that matched no route, as in Kong):
//! - `kong_http_requests_total{service,route,code,source,workspace,consumer}`
//!   (`status_code_metrics`); `source` is `service` when the upstream answered,
//!   `kong` when Portico or a plugin did;
//! - `kong_kong_latency_ms`, `kong_upstream_latency_ms`, `kong_request_latency_ms`
//!   `{service,route,workspace}` (`latency_metrics`), Kong's buckets;
//! - `kong_bandwidth_bytes{service,route,direction,workspace,consumer}`
//!   (`bandwidth_metrics`): body bytes, `ingress` from the client, `egress` to it.
//!
//! `consumer` is empty unless `per_consumer`; `service` is `<service key>@<version>`,
//! `route` the route's name, else its id; `workspace` the runtime group.
//!
//! Per node, read when scraped: `kong_nginx_connections_total{node_id,subsystem,state}`
//! (`accepted`, `handled`, `active`, `writing`: connections with a request in flight,
//! `waiting`: idle keep-alive connections, `total`: requests),
//! `kong_nginx_requests_total{node_id,subsystem}`, `kong_node_info{node_id,version}` and
//! `portico_data_plane_config_version{node_id}` (Kong's data planes report a config
//! hash to their control plane; Portico's configs have a version number).

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use portico_plugins::config::Prometheus;
use prometheus::proto::MetricFamily;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use super::log::{LogEntry, RouteInfo};

/// Kong's `KONG_LATENCY_BUCKETS` (ms).
pub(crate) const KONG_LATENCY_BUCKETS: [f64; 17] = [
    1.0, 2.0, 5.0, 7.0, 10.0, 15.0, 20.0, 30.0, 50.0, 75.0, 100.0, 200.0, 500.0, 750.0, 1000.0,
    3000.0, 6000.0,
];
/// Kong's `UPSTREAM_LATENCY_BUCKETS` (ms), also those of the request latency.
pub(crate) const UPSTREAM_LATENCY_BUCKETS: [f64; 13] = [
    25.0, 50.0, 80.0, 100.0, 250.0, 400.0, 700.0, 1000.0, 2000.0, 5000.0, 10000.0, 30000.0, 60000.0,
];

/// The content type of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = prometheus::TEXT_FORMAT;

/// Client connections of a proxy listener (counted by the accept loop and the
/// connections' [`super::limits::Activity`]).
#[derive(Debug, Default)]
pub(crate) struct ConnCounts {
    pub accepted: AtomicU64,
    pub active: AtomicI64,
    /// Connections with at least one request in flight.
    pub busy: AtomicI64,
}

/// One open connection: counted from [`ConnCounts::open`] until dropped.
pub(crate) struct OpenConn(Arc<ConnCounts>);

impl ConnCounts {
    pub(crate) fn open(self: &Arc<Self>) -> OpenConn {
        self.accepted.fetch_add(1, Ordering::Relaxed);
        self.active.fetch_add(1, Ordering::Relaxed);
        OpenConn(self.clone())
    }
}

impl Drop for OpenConn {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A route's labels and latency histograms, resolved once per route and snapshot.
struct RouteSeries {
    route: Arc<RouteInfo>,
    service: String,
    route_label: String,
    /// Kong's, the upstream's and the whole request's latency (made only when the
    /// route's config records latencies: a series appears once it has a value).
    latency: Option<[Histogram; 3]>,
}

/// The metrics of one data plane.
pub(crate) struct Metrics {
    registry: Registry,
    workspace: Arc<str>,
    requests: IntCounterVec,
    kong_latency: HistogramVec,
    upstream_latency: HistogramVec,
    request_latency: HistogramVec,
    bandwidth: IntCounterVec,
    connections: IntGaugeVec,
    nginx_requests: IntGaugeVec,
    node_info: IntGaugeVec,
    config_version: IntGaugeVec,
    pub conns: Arc<ConnCounts>,
    node_id: RwLock<String>,
    routes: RwLock<HashMap<String, Arc<RouteSeries>>>,
}

fn counter(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let v = IntCounterVec::new(Opts::new(name, help), labels)
        .unwrap_or_else(|e| unreachable!("metric {name}: {e}"));
    register(r, name, Box::new(v.clone()));
    v
}

fn gauge(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let v = IntGaugeVec::new(Opts::new(name, help), labels)
        .unwrap_or_else(|e| unreachable!("metric {name}: {e}"));
    register(r, name, Box::new(v.clone()));
    v
}

fn histogram(r: &Registry, name: &str, help: &str, buckets: &[f64]) -> HistogramVec {
    let v = HistogramVec::new(
        HistogramOpts::new(name, help).buckets(buckets.to_vec()),
        &["service", "route", "workspace"],
    )
    .unwrap_or_else(|e| unreachable!("metric {name}: {e}"));
    register(r, name, Box::new(v.clone()));
    v
}

fn register(r: &Registry, name: &str, c: Box<dyn prometheus::core::Collector>) {
    if let Err(e) = r.register(c) {
        tracing::error!("metric {name} not registered: {e}");
    }
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl Metrics {
    pub(crate) fn new(runtime_group: Arc<str>) -> Self {
        let r = Registry::new();
        let metrics = Metrics {
            requests: counter(
                &r,
                "kong_http_requests_total",
                "HTTP status codes per consumer/service/route in Kong",
                &[
                    "service",
                    "route",
                    "code",
                    "source",
                    "workspace",
                    "consumer",
                ],
            ),
            kong_latency: histogram(
                &r,
                "kong_kong_latency_ms",
                "Latency added by Kong and enabled plugins for each service/route in Kong",
                &KONG_LATENCY_BUCKETS,
            ),
            upstream_latency: histogram(
                &r,
                "kong_upstream_latency_ms",
                "Latency added by upstream response for each service/route in Kong",
                &UPSTREAM_LATENCY_BUCKETS,
            ),
            request_latency: histogram(
                &r,
                "kong_request_latency_ms",
                "Total latency incurred during requests for each service/route in Kong",
                &UPSTREAM_LATENCY_BUCKETS,
            ),
            bandwidth: counter(
                &r,
                "kong_bandwidth_bytes",
                "Total bandwidth (ingress/egress) throughput in bytes",
                &["service", "route", "direction", "workspace", "consumer"],
            ),
            connections: gauge(
                &r,
                "kong_nginx_connections_total",
                "Number of connections by subsystem",
                &["node_id", "subsystem", "state"],
            ),
            nginx_requests: gauge(
                &r,
                "kong_nginx_requests_total",
                "Number of requests total",
                &["node_id", "subsystem"],
            ),
            node_info: gauge(
                &r,
                "kong_node_info",
                "Kong Node metadata information",
                &["node_id", "version"],
            ),
            config_version: gauge(
                &r,
                "portico_data_plane_config_version",
                "Version of the configuration the data plane serves (0: none yet)",
                &["node_id"],
            ),
            registry: r,
            workspace: runtime_group,
            conns: Arc::default(),
            node_id: RwLock::new(String::new()),
            routes: RwLock::default(),
        };
        metrics.set_node_id("");
        metrics
    }

    /// The node's id (the `node_id` label).
    pub(crate) fn set_node_id(&self, id: &str) {
        let mut node = self.node_id.write().unwrap_or_else(|e| e.into_inner());
        *node = id.to_string();
        self.node_info.reset();
        if let Ok(g) = self
            .node_info
            .get_metric_with_label_values(&[id, env!("CARGO_PKG_VERSION")])
        {
            g.set(1);
        }
    }

    /// The series of `route` (made on its first request in a snapshot, again when
    /// latencies are asked for and were not made).
    fn route_series(&self, route: &Arc<RouteInfo>, latency: bool) -> Option<Arc<RouteSeries>> {
        if let Some(s) = self
            .routes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&route.route_id)
        {
            if Arc::ptr_eq(&s.route, route) && (s.latency.is_some() || !latency) {
                return Some(s.clone());
            }
        }
        let service = format!("{}@{}", route.package_key, route.version_name);
        let route_label = route
            .route_name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| route.route_id.clone());
        let labels = [service.as_str(), route_label.as_str(), &self.workspace];
        let latency = if latency {
            Some([
                self.kong_latency
                    .get_metric_with_label_values(&labels)
                    .ok()?,
                self.upstream_latency
                    .get_metric_with_label_values(&labels)
                    .ok()?,
                self.request_latency
                    .get_metric_with_label_values(&labels)
                    .ok()?,
            ])
        } else {
            None
        };
        let series = Arc::new(RouteSeries {
            route: route.clone(),
            service,
            route_label,
            latency,
        });
        let mut routes = self.routes.write().unwrap_or_else(|e| e.into_inner());
        routes.insert(route.route_id.clone(), series.clone());
        Some(series)
    }

    /// Record one request as `cfg` asks (the log step).
    pub(crate) fn record(&self, e: &LogEntry, cfg: &Prometheus) {
        let Some(route) = &e.route else {
            return;
        };
        let Some(s) = self.route_series(route, cfg.latency_metrics) else {
            return;
        };
        let consumer = match (&e.consumer, cfg.per_consumer) {
            (Some(c), true) => c,
            _ => "",
        };
        if cfg.status_code_metrics {
            let mut code = itoa::Buffer::new();
            let source = if e.upstream_latency_us.is_some() {
                "service"
            } else {
                "kong"
            };
            if let Ok(c) = self.requests.get_metric_with_label_values(&[
                s.service.as_str(),
                &s.route_label,
                code.format(e.status),
                source,
                &self.workspace,
                consumer,
            ]) {
                c.inc();
            }
        }
        if let (true, Some([kong, upstream, request])) = (cfg.latency_metrics, &s.latency) {
            request.observe(ms(e.total_latency_us));
            if let Some(u) = e.upstream_latency_us {
                upstream.observe(ms(u));
            }
            kong.observe(ms(e.gateway_latency_us));
        }
        if cfg.bandwidth_metrics {
            for (direction, bytes) in [("ingress", e.request_bytes), ("egress", e.response_bytes)] {
                if bytes == 0 {
                    continue;
                }
                if let Ok(c) = self.bandwidth.get_metric_with_label_values(&[
                    s.service.as_str(),
                    &s.route_label,
                    direction,
                    &self.workspace,
                    consumer,
                ]) {
                    c.inc_by(bytes);
                }
            }
        }
    }

    /// Every metric family, the node's gauges read now.
    pub(crate) fn gather(&self, requests: u64, config_version: Option<u64>) -> Vec<MetricFamily> {
        let node = self
            .node_id
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let c = &self.conns;
        let accepted = i64::try_from(c.accepted.load(Ordering::Relaxed)).unwrap_or(i64::MAX);
        let active = c.active.load(Ordering::Relaxed).max(0);
        let busy = c.busy.load(Ordering::Relaxed).clamp(0, active);
        let total = i64::try_from(requests).unwrap_or(i64::MAX);
        for (state, v) in [
            ("accepted", accepted),
            ("handled", accepted),
            ("total", total),
            ("active", active),
            ("writing", busy),
            ("waiting", active - busy),
        ] {
            if let Ok(g) =
                self.connections
                    .get_metric_with_label_values(&[node.as_str(), "http", state])
            {
                g.set(v);
            }
        }
        if let Ok(g) = self
            .nginx_requests
            .get_metric_with_label_values(&[node.as_str(), "http"])
        {
            g.set(total);
        }
        if let Ok(g) = self.config_version.get_metric_with_label_values(&[&node]) {
            g.set(config_version.map_or(0, |v| i64::try_from(v).unwrap_or(i64::MAX)));
        }
        self.registry.gather()
    }
}

/// The text exposition of the families of one or several data planes (families of the
/// same name merged, so that each is declared once).
pub fn encode(families: Vec<MetricFamily>) -> String {
    let mut merged: Vec<MetricFamily> = Vec::new();
    for mut f in families {
        match merged.iter_mut().find(|m| m.name() == f.name()) {
            Some(m) => m.mut_metric().extend(f.take_metric()),
            None => merged.push(f),
        }
    }
    merged.sort_by(|a, b| a.name().cmp(b.name()));
    let mut out = Vec::new();
    if let Err(e) = TextEncoder::new().encode(&merged, &mut out) {
        tracing::error!("encoding the metrics failed: {e}");
    }
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
