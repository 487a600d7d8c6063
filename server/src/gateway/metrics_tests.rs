//! The metrics a `prometheus` plugin config records, read back through the text
//! exposition (strictly parsed): Kong's names, labels, buckets and switches.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::*;
use crate::gateway::log::ErrorKind;

#[path = "../../tests/common/prom.rs"]
mod prom;

fn route(name: Option<&str>) -> Arc<RouteInfo> {
    Arc::new(RouteInfo {
        route_id: "r-1".into(),
        route_name: name.map(String::from),
        package_id: "p-1".into(),
        package_key: "orders".into(),
        version_id: "v-1".into(),
        version_name: "v1".into(),
    })
}

fn entry(route: Option<Arc<RouteInfo>>, status: u16, upstream_us: Option<u64>) -> LogEntry {
    LogEntry {
        time: chrono::Utc::now(),
        runtime_group: Arc::from("default"),
        route,
        method: hyper::Method::GET,
        status,
        request_bytes: 10,
        response_bytes: 250,
        total_latency_us: 12_500,
        upstream_latency_us: upstream_us,
        gateway_latency_us: 1_500,
        error: upstream_us
            .is_none()
            .then_some(ErrorKind::UpstreamUnavailable),
        consumer: Some(Arc::from("alice")),
    }
}

fn all_on() -> Prometheus {
    Prometheus {
        per_consumer: true,
        status_code_metrics: true,
        latency_metrics: true,
        bandwidth_metrics: true,
        upstream_health_metrics: false,
        ..Prometheus::default()
    }
}

fn scrape(m: &Metrics) -> prom::Exposition {
    prom::parse(&encode(m.gather(3, Some(7))))
}

#[test]
fn requests_are_recorded_with_kongs_names_labels_and_buckets() {
    let m = Metrics::new(Arc::from("default"));
    let r = route(Some("orders-list"));
    m.record(&entry(Some(r.clone()), 200, Some(8_000)), &all_on());
    m.record(&entry(Some(r.clone()), 200, Some(9_000)), &all_on());
    m.record(&entry(Some(r), 502, None), &all_on());
    let x = scrape(&m);

    let base = [
        ("service", "orders@v1"),
        ("route", "orders-list"),
        ("workspace", "default"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut l = base.to_vec();
        l.extend_from_slice(extra);
        l
    };
    assert_eq!(x.types["kong_http_requests_total"], "counter");
    assert_eq!(
        x.value(
            "kong_http_requests_total",
            &with(&[
                ("code", "200"),
                ("source", "service"),
                ("consumer", "alice")
            ])
        ),
        2.0
    );
    assert_eq!(
        x.value(
            "kong_http_requests_total",
            &with(&[("code", "502"), ("source", "kong"), ("consumer", "alice")])
        ),
        1.0,
        "Portico's own answer counts with source kong"
    );

    for (name, buckets) in [
        ("kong_kong_latency_ms", &KONG_LATENCY_BUCKETS[..]),
        ("kong_upstream_latency_ms", &UPSTREAM_LATENCY_BUCKETS[..]),
        ("kong_request_latency_ms", &UPSTREAM_LATENCY_BUCKETS[..]),
    ] {
        assert_eq!(x.types[name], "histogram");
        let les: Vec<String> = x
            .find(&format!("{name}_bucket"), &base)
            .iter()
            .map(|s| s.labels["le"].clone())
            .collect();
        let mut want: Vec<String> = buckets.iter().map(|b| b.to_string()).collect();
        want.push("+Inf".into());
        assert_eq!(les, want, "{name} has Kong's buckets");
    }
    assert_eq!(x.value("kong_request_latency_ms_count", &base), 3.0);
    assert_eq!(
        x.value("kong_upstream_latency_ms_count", &base),
        2.0,
        "no upstream latency when the upstream did not answer"
    );
    assert_eq!(x.value("kong_upstream_latency_ms_sum", &base), 17.0);
    // 1.5 ms of Portico's own time: in the 2 ms bucket, not the 1 ms one
    assert_eq!(
        x.value("kong_kong_latency_ms_bucket", &with(&[("le", "1")])),
        0.0
    );
    assert_eq!(
        x.value("kong_kong_latency_ms_bucket", &with(&[("le", "2")])),
        3.0
    );

    assert_eq!(x.types["kong_bandwidth_bytes"], "counter");
    assert_eq!(
        x.value(
            "kong_bandwidth_bytes",
            &with(&[("direction", "ingress"), ("consumer", "alice")])
        ),
        30.0
    );
    assert_eq!(
        x.value(
            "kong_bandwidth_bytes",
            &with(&[("direction", "egress"), ("consumer", "alice")])
        ),
        750.0
    );
}

#[test]
fn each_switch_of_the_plugin_turns_its_metrics_on() {
    let m = Metrics::new(Arc::from("default"));
    // Kong's defaults: everything off
    m.record(
        &entry(Some(route(None)), 200, Some(1_000)),
        &Prometheus::default(),
    );
    let x = scrape(&m);
    assert!(x.find("kong_http_requests_total", &[]).is_empty());
    assert!(x.find("kong_bandwidth_bytes", &[]).is_empty());
    assert!(x.find("kong_request_latency_ms_count", &[]).is_empty());

    // status codes only, without per_consumer: the consumer label is empty, and a
    // route without a name is labelled with its id
    let cfg = Prometheus {
        status_code_metrics: true,
        ..Prometheus::default()
    };
    m.record(&entry(Some(route(None)), 201, Some(1_000)), &cfg);
    let x = scrape(&m);
    assert_eq!(
        x.value(
            "kong_http_requests_total",
            &[("route", "r-1"), ("code", "201"), ("consumer", "")]
        ),
        1.0
    );
    assert!(x.find("kong_request_latency_ms_count", &[]).is_empty());
    assert!(x.find("kong_bandwidth_bytes", &[]).is_empty());

    // no route matched: nothing is recorded (as in Kong)
    m.record(&entry(None, 404, None), &all_on());
    let x = scrape(&m);
    assert!(x
        .find("kong_http_requests_total", &[("code", "404")])
        .is_empty());
}

#[test]
fn node_metrics_say_connections_requests_version_and_node() {
    let m = Metrics::new(Arc::from("default"));
    m.set_node_id("node-a");
    let c1 = m.conns.open();
    let _c2 = m.conns.open();
    m.conns.busy.fetch_add(1, Ordering::Relaxed);
    drop(c1);
    let _c3 = m.conns.open();
    let x = scrape(&m);
    let conn = |state: &str| {
        x.value(
            "kong_nginx_connections_total",
            &[
                ("node_id", "node-a"),
                ("subsystem", "http"),
                ("state", state),
            ],
        )
    };
    assert_eq!(conn("accepted"), 3.0);
    assert_eq!(conn("handled"), 3.0);
    assert_eq!(conn("active"), 2.0);
    assert_eq!(conn("writing"), 1.0);
    assert_eq!(conn("waiting"), 1.0);
    assert_eq!(conn("total"), 3.0);
    assert_eq!(
        x.value("kong_nginx_requests_total", &[("node_id", "node-a")]),
        3.0
    );
    assert_eq!(
        x.value(
            "kong_node_info",
            &[
                ("node_id", "node-a"),
                ("version", env!("CARGO_PKG_VERSION"))
            ]
        ),
        1.0
    );
    assert_eq!(x.find("kong_node_info", &[]).len(), 1);
    assert_eq!(
        x.value(
            "portico_data_plane_config_version",
            &[("node_id", "node-a")]
        ),
        7.0
    );
}

#[test]
fn several_planes_are_one_exposition_with_each_family_declared_once() {
    let a = Metrics::new(Arc::from("default"));
    a.set_node_id("a");
    let b = Metrics::new(Arc::from("partners"));
    b.set_node_id("b");
    let cfg = all_on();
    a.record(&entry(Some(route(Some("x"))), 200, Some(1_000)), &cfg);
    b.record(&entry(Some(route(Some("x"))), 200, Some(1_000)), &cfg);
    let mut families = a.gather(1, Some(1));
    families.extend(b.gather(1, Some(2)));
    // the strict reader refuses a family declared twice
    let x = prom::parse(&encode(families));
    assert_eq!(x.find("kong_http_requests_total", &[]).len(), 2);
    assert_eq!(
        x.value("kong_http_requests_total", &[("workspace", "partners")]),
        1.0
    );
    assert_eq!(x.find("kong_node_info", &[]).len(), 2);
    assert_eq!(
        x.value("portico_data_plane_config_version", &[("node_id", "b")]),
        2.0
    );
}
