//! The read path of analytics on SQLite and PostgreSQL: aggregate rows written directly
//! (minute, hour and day rows together, as the ingest writes them), then queried
//! through the engine and over REST: exact counts, percentiles within 2 % of the exact
//! values, bucket edges, daylight-saving days, time frames, filters and grouping, CSV,
//! saved reports and who may change them.

mod common;

use std::collections::HashMap;

use app::model::analytics::*;
use app::model::{Actor, Role};
use chrono::{DateTime, Duration, Utc};
use common::portal::{package_with_v1, send};
use reqwest::{Method as M, StatusCode};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{json, Value};
use server::analytics::row::{self, AggregateRow};
use server::analytics::sketch::Sketch;
use uuid::Uuid;

// ---------------------------------------------------------------------------------
// Writing aggregates
// ---------------------------------------------------------------------------------

/// One proxied request.
#[derive(Debug, Clone, Copy)]
struct Hit {
    t: i64,
    group: Uuid,
    package: Uuid,
    version: Uuid,
    route: Uuid,
    status: i32,
    total_us: u64,
    /// `None`: the request never reached an upstream.
    upstream_us: Option<u64>,
    gateway_us: u64,
    request_bytes: u64,
    response_bytes: u64,
}

impl Hit {
    fn new(t: i64, group: Uuid, status: i32, total_us: u64) -> Hit {
        Hit {
            t,
            group,
            package: Uuid::nil(),
            version: Uuid::nil(),
            route: Uuid::nil(),
            status,
            total_us,
            upstream_us: Some(total_us * 9 / 10),
            gateway_us: total_us / 10,
            request_bytes: 100,
            response_bytes: 1000,
        }
    }
    fn on(mut self, package: Uuid, version: Uuid, route: Uuid) -> Hit {
        self.package = package;
        self.version = version;
        self.route = route;
        self
    }
}

#[derive(Default)]
struct Agg {
    package: Uuid,
    requests: i64,
    request_bytes: i64,
    response_bytes: i64,
    total_us: i64,
    upstream_us: i64,
    upstream_requests: i64,
    gateway_us: i64,
    sketches: [Sketch; 5],
}

/// Writes the minute, hour and day rows of `hits` (the same sums three times, as the
/// ingest does). Each call must use runtime groups of its own (the primary key).
async fn record(db: &DatabaseConnection, hits: &[Hit]) {
    for (table, step) in [
        ("analytics_minute", 60),
        ("analytics_hour", 3600),
        ("analytics_day", 86400),
    ] {
        let mut rows: HashMap<(Uuid, i64, Uuid, Uuid, i32), Agg> = HashMap::new();
        for h in hits {
            let bucket = h.t.div_euclid(step) * step;
            let a = rows
                .entry((h.group, bucket, h.route, h.version, h.status))
                .or_default();
            a.package = h.package;
            a.requests += 1;
            a.request_bytes += h.request_bytes as i64;
            a.response_bytes += h.response_bytes as i64;
            a.total_us += h.total_us as i64;
            a.gateway_us += h.gateway_us as i64;
            a.sketches[0].add(h.total_us);
            if let Some(u) = h.upstream_us {
                a.upstream_us += u as i64;
                a.upstream_requests += 1;
                a.sketches[1].add(u);
            }
            a.sketches[2].add(h.gateway_us);
            a.sketches[3].add(h.request_bytes);
            a.sketches[4].add(h.response_bytes);
        }
        let rows: Vec<_> = rows.into_iter().collect();
        for chunk in rows.chunks(400) {
            let mut ins = row::insert_into(table);
            for ((group, bucket, route, version, status), a) in chunk {
                let values = AggregateRow {
                    bucket: *bucket,
                    runtime_group_id: *group,
                    package_id: a.package,
                    version_id: *version,
                    route_id: *route,
                    status: *status,
                    consumer_id: Uuid::nil(),
                    error_kind: "",
                    requests: a.requests,
                    request_bytes: a.request_bytes,
                    response_bytes: a.response_bytes,
                    total_latency_us: a.total_us,
                    upstream_latency_us: a.upstream_us,
                    upstream_requests: a.upstream_requests,
                    gateway_latency_us: a.gateway_us,
                    sketches: a.sketches.each_ref(),
                }
                .values();
                ins.values_panic(values);
            }
            let stmt = db.get_database_backend().build(&ins);
            db.execute(stmt).await.expect("insert aggregates");
        }
    }
}

// ---------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("time")
        .with_timezone(&Utc)
}

fn secs(s: &str) -> i64 {
    t(s).timestamp()
}

fn range(start: &str, end: &str, g: Granularity, metrics: &[Metric]) -> AnalyticsQuery {
    AnalyticsQuery {
        metrics: metrics.to_vec(),
        time_frame: None,
        start: Some(t(start)),
        end: Some(t(end)),
        granularity: Some(g),
        ..Default::default()
    }
}

fn in_group(mut q: AnalyticsQuery, group: Uuid) -> AnalyticsQuery {
    q.filters.runtime_groups = vec![group];
    q
}

async fn run(hub: &server::hub::Hub, q: AnalyticsQuery) -> AnalyticsResult {
    hub.analytics_query_at(&Actor::console(), q, t("2026-12-01T00:00:00Z"))
        .await
        .expect("query")
}

fn series(r: &AnalyticsResult, m: Metric) -> Vec<&Series> {
    r.series.iter().filter(|s| s.metric == m).collect()
}

fn counts(s: &Series) -> Vec<f64> {
    s.values.iter().map(|v| v.unwrap_or(-1.0)).collect()
}

/// The exact value of rank floor(q (n - 1)).
fn exact(sorted: &[u64], q: f64) -> f64 {
    sorted[(q * (sorted.len() - 1) as f64).floor() as usize] as f64
}

fn close(got: Option<f64>, want: f64, what: &str) {
    let got = got.unwrap_or_else(|| panic!("{what}: no value"));
    let err = if want == 0.0 {
        got.abs()
    } else {
        (got - want).abs() / want
    };
    assert!(err <= 0.02, "{what}: exact {want}, got {got} ({err:.4})");
}

/// xorshift: deterministic, no crate.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

// ---------------------------------------------------------------------------------
// The engine
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn counts_edges_filters_and_grouping() {
    for b in common::backends().await {
        let name = b.name;
        let hub = &b.hub;
        let g = Uuid::new_v4();
        let (p1, v1, v2, r1, r2) = (
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
        );
        let mut hits = vec![
            // Before the range's start but in its first hour: counts (whole hours).
            Hit::new(secs("2026-11-10T10:05:00Z"), g, 200, 1000).on(p1, v1, r1),
            Hit::new(secs("2026-11-10T10:59:59Z"), g, 200, 1000).on(p1, v1, r1),
            Hit::new(secs("2026-11-10T11:00:00Z"), g, 404, 3000).on(p1, v1, r2),
            Hit::new(secs("2026-11-10T11:30:00Z"), g, 503, 5000).on(p1, v2, r2),
            Hit::new(secs("2026-11-10T11:31:00Z"), g, 500, 5000).on(p1, v2, r2),
            // No route matched.
            Hit::new(secs("2026-11-10T11:45:00Z"), g, 404, 100),
        ];
        for k in 0..10 {
            hits.push(Hit::new(secs("2026-11-10T12:10:00Z") + k, g, 201, 2000).on(p1, v2, r1));
        }
        // After the range: never counted.
        hits.push(Hit::new(secs("2026-11-10T13:00:00Z"), g, 200, 1).on(p1, v1, r1));
        record(hub.db(), &hits).await;

        // Hours: 10:59:59 and 11:00:00 fall in different buckets; the first bucket is
        // the hour holding `start` and counts whole.
        let q = in_group(
            range(
                "2026-11-10T10:30:00Z",
                "2026-11-10T13:00:00Z",
                Granularity::Hour,
                &[
                    Metric::RequestCount,
                    Metric::RequestsPerMinute,
                    Metric::ErrorRate4xx,
                    Metric::ErrorRate5xx,
                    Metric::ResponseLatencyAvg,
                    Metric::UpstreamLatencyAvg,
                    Metric::GatewayLatencyAvg,
                ],
            ),
            g,
        );
        let r = run(hub, q).await;
        assert_eq!(
            r.buckets,
            vec![
                t("2026-11-10T10:00:00Z"),
                t("2026-11-10T11:00:00Z"),
                t("2026-11-10T12:00:00Z")
            ],
            "{name}"
        );
        let c = series(&r, Metric::RequestCount);
        assert_eq!(c.len(), 1);
        assert_eq!(counts(c[0]), [2.0, 4.0, 10.0], "{name}");
        assert_eq!(c[0].total, Some(16.0));
        let rpm = series(&r, Metric::RequestsPerMinute);
        assert_eq!(rpm[0].values[2], Some(10.0 / 60.0), "{name}");
        let e4 = series(&r, Metric::ErrorRate4xx);
        assert_eq!(e4[0].values, [Some(0.0), Some(50.0), Some(0.0)], "{name}");
        assert_eq!(e4[0].total, Some(2.0 * 100.0 / 16.0));
        let e5 = series(&r, Metric::ErrorRate5xx);
        assert_eq!(e5[0].values[1], Some(50.0), "{name}");
        let avg = series(&r, Metric::ResponseLatencyAvg);
        assert_eq!(avg[0].values[0], Some(1.0), "{name}");
        assert_eq!(
            avg[0].values[1],
            Some((3000.0 + 10000.0 + 100.0) / 4.0 / 1000.0)
        );
        assert_eq!(
            series(&r, Metric::UpstreamLatencyAvg)[0].values[0],
            Some(0.9)
        );
        assert_eq!(
            series(&r, Metric::GatewayLatencyAvg)[0].values[0],
            Some(0.1)
        );

        // Minutes around the edge.
        let q = in_group(
            range(
                "2026-11-10T10:58:00Z",
                "2026-11-10T11:01:00Z",
                Granularity::Minute,
                &[Metric::RequestCount, Metric::ResponseLatencyP99],
            ),
            g,
        );
        let r = run(hub, q).await;
        assert_eq!(r.buckets.len(), 3, "{name}");
        assert_eq!(
            counts(series(&r, Metric::RequestCount)[0]),
            [0.0, 1.0, 1.0],
            "{name}"
        );
        // No requests: no latency (counts are 0, latencies None).
        assert_eq!(
            series(&r, Metric::ResponseLatencyP99)[0].values[0],
            None,
            "{name}"
        );

        // Empty range: one series of zeros.
        let q = in_group(
            range(
                "2026-11-11T10:00:00Z",
                "2026-11-11T12:00:00Z",
                Granularity::Hour,
                &[Metric::RequestCount, Metric::ErrorRate5xx],
            ),
            g,
        );
        let r = run(hub, q).await;
        assert_eq!(r.series[0].values, [Some(0.0), Some(0.0)], "{name}");
        assert_eq!(r.series[1].values, [None, None], "{name}");

        // Filters.
        let day = |f: Filters| {
            let mut q = range(
                "2026-11-10T00:00:00Z",
                "2026-11-10T13:00:00Z",
                Granularity::Hour,
                &[Metric::RequestCount],
            );
            q.filters = f;
            q.filters.runtime_groups = vec![g];
            q
        };
        for (f, want) in [
            (Filters::default(), 16.0),
            (
                Filters {
                    status_classes: vec![4, 5],
                    ..Default::default()
                },
                4.0,
            ),
            (
                Filters {
                    status_classes: vec![4],
                    status_codes: vec![404, 500],
                    ..Default::default()
                },
                2.0,
            ),
            (
                Filters {
                    versions: vec![v2],
                    ..Default::default()
                },
                12.0,
            ),
            (
                Filters {
                    routes: vec![r2],
                    ..Default::default()
                },
                3.0,
            ),
            (
                Filters {
                    packages: vec![p1],
                    routes: vec![r1, Uuid::nil()],
                    ..Default::default()
                },
                12.0,
            ),
            (
                Filters {
                    routes: vec![Uuid::nil()],
                    ..Default::default()
                },
                1.0,
            ),
        ] {
            let r = run(hub, day(f.clone())).await;
            assert_eq!(r.series[0].total, Some(want), "{name}: {f:?}");
        }

        // group_by version, then_by status class: ordered by requests; labels.
        let mut q = day(Filters::default());
        q.group_by = Some(Dimension::Version);
        q.then_by = Some(Dimension::StatusClass);
        q.metrics = vec![Metric::RequestCount, Metric::ErrorRate5xx];
        let r = run(hub, q).await;
        let c = series(&r, Metric::RequestCount);
        let got: Vec<(String, String, f64)> = c
            .iter()
            .map(|s| {
                (
                    s.group.as_ref().map(|g| g.id.clone()).unwrap_or_default(),
                    s.then.as_ref().map(|g| g.label.clone()).unwrap_or_default(),
                    s.total.unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(got[0], (v2.to_string(), "2xx".to_string(), 10.0), "{name}");
        assert_eq!(got.len(), 5, "{name}: {got:?}");
        assert!(got.contains(&(v2.to_string(), "5xx".to_string(), 2.0)));
        assert!(got.contains(&(Uuid::nil().to_string(), "4xx".to_string(), 1.0)));
        // Unknown ids are "(deleted)", the nil id "(no route)".
        let labels: Vec<&str> = c
            .iter()
            .map(|s| s.group.as_ref().map(|g| g.label.as_str()).unwrap_or(""))
            .collect();
        assert!(labels.contains(&"(deleted)") && labels.contains(&"(no route)"));
        assert_eq!(
            series(&r, Metric::ErrorRate5xx).len(),
            5,
            "one series per metric and combination"
        );

        // group_by status code.
        let mut q = day(Filters::default());
        q.group_by = Some(Dimension::StatusCode);
        let r = run(hub, q).await;
        let codes: Vec<(String, f64)> = r
            .series
            .iter()
            .map(|s| {
                (
                    s.group
                        .as_ref()
                        .map(|g| g.label.clone())
                        .unwrap_or_default(),
                    s.total.unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(codes[0], ("201".to_string(), 10.0), "{name}");
        assert_eq!(codes.len(), 5, "{name}: {codes:?}");
    }
}

#[tokio::test]
async fn more_than_50_groups_fold_into_other() {
    let b = common::sqlite().await;
    let g = Uuid::new_v4();
    let base = secs("2026-11-12T08:00:00Z");
    let mut hits = Vec::new();
    // Route k gets k + 1 requests: 60 routes.
    let routes: Vec<Uuid> = (0..60).map(|_| Uuid::new_v4()).collect();
    for (k, r) in routes.iter().enumerate() {
        for i in 0..=k as i64 {
            hits.push(Hit::new(base + i, g, 200, 1000).on(Uuid::nil(), Uuid::nil(), *r));
        }
    }
    record(b.hub.db(), &hits).await;
    let mut q = in_group(
        range(
            "2026-11-12T08:00:00Z",
            "2026-11-12T09:00:00Z",
            Granularity::Hour,
            &[Metric::RequestCount],
        ),
        g,
    );
    q.group_by = Some(Dimension::Route);
    let r = run(&b.hub, q).await;
    assert_eq!(r.series.len(), 51);
    assert_eq!(r.series[0].total, Some(60.0));
    assert_eq!(
        r.series[0].group.as_ref().map(|g| g.id.clone()),
        Some(routes[59].to_string())
    );
    assert_eq!(r.series[49].total, Some(11.0));
    let other = &r.series[50];
    assert_eq!(
        other.group.as_ref().map(|g| g.label.as_str()),
        Some("Other")
    );
    assert_eq!(other.total, Some((1..=10).sum::<i64>() as f64));
}

/// A distribution of latencies (µs) and sizes.
fn distribution(kind: &str, n: usize) -> Vec<u64> {
    let mut r = Rng(match kind {
        "uniform" => 42,
        "bimodal" => 7,
        _ => 99,
    });
    (0..n)
        .map(|i| match kind {
            "uniform" => 1 + r.next() % 200_000,
            "bimodal" => {
                if i % 10 < 7 {
                    800 + r.next() % 400
                } else {
                    250_000 + r.next() % 50_000
                }
            }
            _ => (500.0 / (1.0 - r.unit()).max(1e-9).powf(1.0 / 1.2)) as u64,
        })
        .collect()
}

#[tokio::test]
async fn percentiles_within_two_percent_through_the_query_path() {
    for b in common::backends().await {
        let name = b.name;
        for kind in ["uniform", "bimodal", "long_tail"] {
            let g = Uuid::new_v4();
            let values = distribution(kind, 20_000);
            let base = secs("2026-11-05T00:00:00Z");
            let routes = [Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4()];
            // Spread over 3 days, 3 routes and 3 status codes: many rows to merge.
            let hits: Vec<Hit> = values
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let mut h = Hit::new(
                        base + (i as i64 * 13) % (3 * 86400),
                        g,
                        [200, 404, 500][i % 3],
                        v,
                    )
                    .on(Uuid::nil(), Uuid::nil(), routes[i % 3]);
                    h.upstream_us = (i % 5 != 0).then_some(v / 2);
                    h.request_bytes = v / 7;
                    h.response_bytes = v * 3;
                    h
                })
                .collect();
            record(b.hub.db(), &hits).await;
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let mut upstream: Vec<u64> = hits.iter().filter_map(|h| h.upstream_us).collect();
            upstream.sort_unstable();
            let metrics = [
                Metric::ResponseLatencyP50,
                Metric::ResponseLatencyP95,
                Metric::ResponseLatencyP99,
                Metric::UpstreamLatencyP99,
                Metric::RequestSizeP95,
                Metric::ResponseSizeP50,
                Metric::RequestCount,
            ];
            // Through day rows (1d, UTC), hour rows (1h) and minute rows (one day, 1m
            // is at most 1500 buckets: the first day's first 24 hours).
            for (g_, end) in [
                (Granularity::Day, "2026-11-08T00:00:00Z"),
                (Granularity::Hour, "2026-11-08T00:00:00Z"),
                (Granularity::Minute, "2026-11-06T00:00:00Z"),
            ] {
                let r = run(
                    &b.hub,
                    in_group(range("2026-11-05T00:00:00Z", end, g_, &metrics), g),
                )
                .await;
                let whole = g_ != Granularity::Minute;
                let (sorted, upstream) = if whole {
                    (sorted.clone(), upstream.clone())
                } else {
                    let cut = secs(end);
                    let mut a: Vec<u64> = hits
                        .iter()
                        .filter(|h| h.t < cut)
                        .map(|h| h.total_us)
                        .collect();
                    a.sort_unstable();
                    let mut u: Vec<u64> = hits
                        .iter()
                        .filter(|h| h.t < cut)
                        .filter_map(|h| h.upstream_us)
                        .collect();
                    u.sort_unstable();
                    (a, u)
                };
                let what = format!("{name} {kind} {}", g_.as_str());
                let total = |m| series(&r, m)[0].total;
                assert_eq!(
                    total(Metric::RequestCount),
                    Some(sorted.len() as f64),
                    "{what}"
                );
                for (m, q) in [
                    (Metric::ResponseLatencyP50, 0.5),
                    (Metric::ResponseLatencyP95, 0.95),
                    (Metric::ResponseLatencyP99, 0.99),
                ] {
                    close(
                        total(m),
                        exact(&sorted, q) / 1000.0,
                        &format!("{what} {m:?}"),
                    );
                }
                close(
                    total(Metric::UpstreamLatencyP99),
                    exact(&upstream, 0.99) / 1000.0,
                    &format!("{what} upstream p99"),
                );
                let sizes: Vec<u64> = sorted.iter().map(|v| v / 7).collect();
                close(
                    total(Metric::RequestSizeP95),
                    exact(&sizes, 0.95),
                    &format!("{what} request size p95"),
                );
                let sizes: Vec<u64> = sorted.iter().map(|v| v * 3).collect();
                close(
                    total(Metric::ResponseSizeP50),
                    exact(&sizes, 0.5),
                    &format!("{what} response size p50"),
                );
            }
            // Per bucket too: each day's p99 against the day's exact p99.
            let r = run(
                &b.hub,
                in_group(
                    range(
                        "2026-11-05T00:00:00Z",
                        "2026-11-08T00:00:00Z",
                        Granularity::Day,
                        &[Metric::ResponseLatencyP99],
                    ),
                    g,
                ),
            )
            .await;
            for d in 0..3 {
                let lo = base + d * 86400;
                let mut day: Vec<u64> = hits
                    .iter()
                    .filter(|h| h.t >= lo && h.t < lo + 86400)
                    .map(|h| h.total_us)
                    .collect();
                day.sort_unstable();
                close(
                    r.series[0].values[d as usize],
                    exact(&day, 0.99) / 1000.0,
                    &format!("{name} {kind} day {d}"),
                );
            }
        }
    }
}

#[tokio::test]
async fn berlin_days_on_daylight_saving_changes() {
    for b in common::backends().await {
        let name = b.name;
        let g = Uuid::new_v4();
        // One request per UTC hour around both changes.
        let mut hits = Vec::new();
        for (from, to) in [
            ("2026-03-27T00:00:00Z", "2026-04-01T00:00:00Z"),
            ("2026-10-23T00:00:00Z", "2026-10-28T00:00:00Z"),
        ] {
            let mut h = secs(from);
            while h < secs(to) {
                hits.push(Hit::new(h + 120, g, 200, 1000));
                h += 3600;
            }
        }
        record(b.hub.db(), &hits).await;
        let mut q = in_group(
            range(
                "2026-03-27T23:00:00Z",
                "2026-03-31T22:00:00Z",
                Granularity::Day,
                &[Metric::RequestCount, Metric::RequestsPerMinute],
            ),
            g,
        );
        q.time_zone = Some("Europe/Berlin".into());
        let r = run(&b.hub, q.clone()).await;
        assert_eq!(r.time_zone, "Europe/Berlin");
        // 28 March (24 h), 29 March (23 h: 02:00 → 03:00), 30, 31 March (24 h).
        assert_eq!(
            r.buckets,
            vec![
                t("2026-03-27T23:00:00Z"),
                t("2026-03-28T23:00:00Z"),
                t("2026-03-29T22:00:00Z"),
                t("2026-03-30T22:00:00Z"),
            ],
            "{name}"
        );
        assert_eq!(
            r.series[0].values,
            [24.0, 23.0, 24.0, 24.0].map(Some),
            "{name}"
        );
        assert_eq!(r.series[1].values[1], Some(23.0 / (23.0 * 60.0)), "{name}");

        q.start = Some(t("2026-10-23T22:00:00Z"));
        q.end = Some(t("2026-10-26T23:00:00Z"));
        let r = run(&b.hub, q.clone()).await;
        // 24, 25 (03:00 → 02:00 again), 24, 24 hours.
        assert_eq!(r.buckets[1], t("2026-10-24T22:00:00Z"), "{name}");
        assert_eq!(r.buckets[2], t("2026-10-25T23:00:00Z"), "{name}");
        assert_eq!(r.series[0].values, [24.0, 25.0, 24.0].map(Some), "{name}");

        // The same range in UTC reads day rows: UTC days.
        q.time_zone = None;
        q.start = Some(t("2026-10-24T00:00:00Z"));
        q.end = Some(t("2026-10-27T00:00:00Z"));
        let r = run(&b.hub, q.clone()).await;
        assert_eq!(r.series[0].values, [24.0, 24.0, 24.0].map(Some), "{name}");

        // Local hours over a DST change: 1h buckets in Berlin are UTC hours.
        q.time_zone = Some("Europe/Berlin".into());
        q.granularity = Some(Granularity::Hour);
        q.start = Some(t("2026-03-29T00:00:00Z"));
        q.end = Some(t("2026-03-29T03:00:00Z"));
        let r = run(&b.hub, q.clone()).await;
        assert_eq!(r.series[0].values, [1.0, 1.0, 1.0].map(Some), "{name}");

        // A zone at +5:30: hour buckets start at :30 UTC (minute rows).
        q.time_zone = Some("Asia/Kolkata".into());
        q.start = Some(t("2026-03-29T00:30:00Z"));
        q.end = Some(t("2026-03-29T03:30:00Z"));
        let r = run(&b.hub, q.clone()).await;
        assert_eq!(r.buckets[0], t("2026-03-29T00:30:00Z"), "{name}");
        // Requests at hh:02 UTC: one in each local hour.
        assert_eq!(r.series[0].values, [1.0, 1.0, 1.0].map(Some), "{name}");

        // An unknown zone is a 422 on time_zone.
        q.time_zone = Some("Mars/Olympus_Mons".into());
        let e = b
            .hub
            .analytics_query_at(&Actor::console(), q, t("2026-12-01T00:00:00Z"))
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("time_zone"), "{name}");
    }
}

/// Local days are read as day rows plus and minus the hours they borrow and lend:
/// counts, error rates and percentiles per local day must still be those of the
/// requests in it, per version, across the March change (23-hour day), with latencies
/// and errors concentrated in the hours that move, and a version whose only requests
/// fall in a lent hour.
#[tokio::test]
async fn berlin_days_equal_the_requests_of_each_local_day() {
    for b in common::backends().await {
        let name = b.name;
        let g = Uuid::new_v4();
        let versions = [Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4()];
        let mut hits = Vec::new();
        let (from, to) = (secs("2026-03-26T00:00:00Z"), secs("2026-04-03T00:00:00Z"));
        let mut r = Rng(77);
        for (k, h) in (0..).zip((from..to).step_by(3600)) {
            let hour = (h / 3600) % 24;
            let late = hour >= 22;
            for j in 0..1 + (k * 7 % 5) {
                let total_us = if late {
                    150_000 + r.next() % 100_000
                } else {
                    1_000 + r.next() % 9_000
                };
                let status = if hour == 23 && j == 0 { 503 } else { 200 };
                let v = versions[usize::from(k % 3 == 0)];
                hits.push(Hit::new(h + 60 * j, g, status, total_us).on(
                    Uuid::nil(),
                    v,
                    Uuid::nil(),
                ));
            }
        }
        // The third version: requests at 23:30 UTC on 28 March only (local 29 March).
        for j in 0..4 {
            let t0 = secs("2026-03-28T23:30:00Z");
            hits.push(Hit::new(t0 + j, g, 200, 40_000).on(Uuid::nil(), versions[2], Uuid::nil()));
        }
        record(b.hub.db(), &hits).await;

        let metrics = [
            Metric::RequestCount,
            Metric::ErrorRate5xx,
            Metric::ResponseLatencyP50,
            Metric::ResponseLatencyP95,
            Metric::ResponseLatencyP99,
        ];
        let mut q = in_group(
            range(
                "2026-03-26T23:00:00Z",
                "2026-04-01T22:00:00Z",
                Granularity::Day,
                &metrics,
            ),
            g,
        );
        q.time_zone = Some("Europe/Berlin".into());
        q.group_by = Some(Dimension::Version);
        let r = run(&b.hub, q).await;
        // 27 March … 1 April, local midnights (23:00 UTC, then 22:00 UTC).
        assert_eq!(r.buckets.len(), 6, "{name}");
        assert_eq!(r.buckets[3], t("2026-03-29T22:00:00Z"), "{name}");
        let mut edges: Vec<i64> = r.buckets.iter().map(|b| b.timestamp()).collect();
        edges.push(secs("2026-04-01T22:00:00Z"));
        for (vi, v) in versions.iter().enumerate() {
            let of = |m: Metric| {
                r.series
                    .iter()
                    .find(|s| {
                        s.metric == m && s.group.as_ref().is_some_and(|g| g.id == v.to_string())
                    })
                    .unwrap_or_else(|| panic!("{name}: no {m:?} series of version {vi}"))
            };
            for i in 0..6 {
                let mut mine: Vec<&Hit> = hits
                    .iter()
                    .filter(|h| h.version == *v && h.t >= edges[i] && h.t < edges[i + 1])
                    .collect();
                mine.sort_by_key(|h| h.total_us);
                let what = format!("{name}: version {vi}, day {i}");
                assert_eq!(
                    of(Metric::RequestCount).values[i],
                    Some(mine.len() as f64),
                    "{what}"
                );
                if mine.is_empty() {
                    assert_eq!(of(Metric::ResponseLatencyP99).values[i], None, "{what}");
                    continue;
                }
                let errors = mine.iter().filter(|h| h.status >= 500).count();
                let rate = of(Metric::ErrorRate5xx).values[i].unwrap_or(-1.0);
                let want = errors as f64 * 100.0 / mine.len() as f64;
                assert!(
                    (rate - want).abs() < 1e-9,
                    "{what}: error rate {rate} ≠ {want}"
                );
                let sorted: Vec<u64> = mine.iter().map(|h| h.total_us).collect();
                for (m, q) in [
                    (Metric::ResponseLatencyP50, 0.5),
                    (Metric::ResponseLatencyP95, 0.95),
                    (Metric::ResponseLatencyP99, 0.99),
                ] {
                    close(
                        of(m).values[i],
                        exact(&sorted, q) / 1000.0,
                        &format!("{what} {m:?}"),
                    );
                }
            }
        }
        // The third version's requests sit on local 29 March only.
        let third = r
            .series
            .iter()
            .find(|s| {
                s.metric == Metric::RequestCount
                    && s.group
                        .as_ref()
                        .is_some_and(|g| g.id == versions[2].to_string())
            })
            .unwrap_or_else(|| panic!("{name}: third version"));
        assert_eq!(
            third.values,
            [0.0, 0.0, 4.0, 0.0, 0.0, 0.0].map(Some),
            "{name}"
        );
    }
}

#[tokio::test]
async fn time_frames_summary_and_package_totals() {
    for b in common::backends().await {
        let name = b.name;
        let hub = &b.hub;
        let g = Uuid::new_v4();
        let (pa, pb) = (Uuid::new_v4(), Uuid::new_v4());
        let now = t("2026-11-30T12:34:56Z");
        let now_s = now.timestamp();
        // Every 10 minutes over 65 days: 1 request to package A (200, or 500 every
        // 10th), 1 to B (404).
        let mut hits = Vec::new();
        let mut k = 0;
        let mut at = now_s - 65 * 86400;
        while at <= now_s {
            let status = if k % 10 == 0 { 500 } else { 200 };
            hits.push(Hit::new(at, g, status, 1000 + (k % 100) * 10).on(pa, pa, pa));
            hits.push(Hit::new(at, g, 404, 2000).on(pb, pb, pb));
            k += 1;
            at += 600;
        }
        record(hub.db(), &hits).await;
        let actor = Actor::console();
        let frame = |f: TimeFrame| AnalyticsQuery {
            metrics: vec![Metric::RequestCount],
            time_frame: Some(f),
            filters: Filters {
                runtime_groups: vec![g],
                ..Default::default()
            },
            ..Default::default()
        };
        for (f, buckets) in [
            (TimeFrame::M15, 16),
            (TimeFrame::H1, 61),
            (TimeFrame::H24, 25),
            (TimeFrame::D7, 169),
            (TimeFrame::D30, 31),
        ] {
            let r = hub
                .analytics_query_at(&actor, frame(f), now)
                .await
                .expect("query");
            assert_eq!(r.buckets.len(), buckets, "{name} {}", f.as_str());
            assert_eq!(r.series[0].values.len(), buckets);
            assert!(r.buckets[0] <= r.start && r.start < r.buckets[1]);
        }
        // On a whole minute, a 15-minute frame has 15 buckets.
        let r = hub
            .analytics_query_at(&actor, frame(TimeFrame::M15), t("2026-11-30T12:30:00Z"))
            .await
            .expect("query");
        assert_eq!(r.buckets.len(), 15, "{name}");

        // 30d/1d (UTC days): every request from the start of the first day.
        let r = hub
            .analytics_query_at(&actor, frame(TimeFrame::D30), now)
            .await
            .expect("query");
        let lo = r.buckets[0].timestamp();
        let want = hits.iter().filter(|h| h.t >= lo && h.t <= now_s).count();
        assert_eq!(r.series[0].total, Some(want as f64), "{name}");

        // Summary: the frame and the one before, exact counts at hour precision.
        let filters = Filters {
            runtime_groups: vec![g],
            packages: vec![pa],
            ..Default::default()
        };
        for f in [TimeFrame::H1, TimeFrame::H24, TimeFrame::D7, TimeFrame::D30] {
            let s = hub
                .analytics_summary_at(&actor, filters.clone(), f, now)
                .await
                .expect("summary");
            let step = if f == TimeFrame::H1 { 60 } else { 3600 };
            let cur_lo = (now_s - f.seconds()).div_euclid(step) * step;
            let prev_lo = (now_s - 2 * f.seconds()).div_euclid(step) * step;
            let of = |lo: i64, hi: i64| -> Vec<&Hit> {
                hits.iter()
                    .filter(|h| h.package == pa && h.t >= lo && h.t < hi)
                    .collect()
            };
            let cur = of(cur_lo, now_s + 1);
            let prev = of(prev_lo, cur_lo);
            let what = format!("{name} summary {}", f.as_str());
            assert_eq!(s.current.requests, cur.len() as u64, "{what}");
            assert_eq!(s.previous.requests, prev.len() as u64, "{what}");
            let e5 = cur.iter().filter(|h| h.status == 500).count() as u64;
            assert_eq!(s.current.errors_5xx, e5, "{what}");
            assert_eq!(s.current.errors_4xx, 0, "{what}");
            assert_eq!(
                s.current.error_rate,
                Some(e5 as f64 * 100.0 / cur.len() as f64)
            );
            let avg = cur.iter().map(|h| h.total_us as f64).sum::<f64>() / cur.len() as f64;
            let got = s.current.latency_avg_ms.unwrap_or_default();
            assert!((got - avg / 1000.0).abs() < 1e-9, "{what}");
            let mut lat: Vec<u64> = cur.iter().map(|h| h.total_us).collect();
            lat.sort_unstable();
            close(s.current.latency_p99_ms, exact(&lat, 0.99) / 1000.0, &what);
            assert_eq!(s.end, now);
        }

        // Package totals: last 7 days (from the hour holding now - 7 days).
        let totals = hub
            .package_totals_at(&actor, &[pa, pb, Uuid::new_v4()], now)
            .await
            .expect("totals");
        assert_eq!(
            totals.len(),
            2,
            "{name}: packages without traffic are absent"
        );
        let lo = (now_s - 7 * 86400).div_euclid(3600) * 3600;
        let n = |p: Uuid| {
            hits.iter()
                .filter(|h| h.package == p && h.t >= lo && h.t <= now_s)
                .count() as u64
        };
        assert_eq!(totals[0], (pa, totals[0].1));
        assert_eq!(totals[0].1.requests, n(pa), "{name}");
        assert_eq!(totals[1].1.requests, n(pb), "{name}");
        assert_eq!(totals[1].1.errors_4xx, n(pb), "{name}");
        assert_eq!(totals[1].1.error_rate, Some(100.0));
        close(totals[1].1.latency_p99_ms, 2.0, "{name} p99");
    }
}

// ---------------------------------------------------------------------------------
// REST
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn rest_queries_csv_and_saved_reports() {
    for b in common::backends().await {
        let name = b.name;
        let s = common::start(b).await;
        let c = &s.client;
        let v = package_with_v1(&s, "Orders", "orders").await;
        let (_, pkg) = send(c, M::GET, s.url("/api/v1/service-packages/orders"), None).await;
        let (_, rg) = send(c, M::GET, s.url("/api/v1/runtime-groups/default"), None).await;
        let (st, e) = send(
            c,
            M::PUT,
            s.url(&format!(
                "/api/v1/service-packages/orders/versions/{v}/implementation"
            )),
            Some(json!({"url": "http://orders.internal:8080"})),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{name}: {e}");
        let routes = format!("/api/v1/service-packages/orders/versions/{v}/routes");
        let (st, named) = send(
            c,
            M::POST,
            s.url(&routes),
            Some(json!({"name": "orders-list", "paths": ["/orders"]})),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{name}: {named}");
        let (st, unnamed) = send(
            c,
            M::POST,
            s.url(&routes),
            Some(json!({"paths": ["/orders/items", "/orders/other"]})),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{name}: {unnamed}");
        let id = |v: &Value| Uuid::parse_str(v["id"].as_str().unwrap_or_default()).unwrap();
        let (g, p, ver) = (id(&rg), id(&pkg), Uuid::parse_str(&v).unwrap());
        let (r1, r2, gone) = (id(&named), id(&unnamed), Uuid::new_v4());
        let base = secs("2026-11-20T10:00:00Z");
        let mut hits = Vec::new();
        for i in 0..30 {
            hits.push(Hit::new(base + i * 60, g, 200, 1000).on(p, ver, r1));
        }
        for i in 0..20 {
            hits.push(Hit::new(base + i * 60, g, 502, 2000).on(p, ver, r2));
        }
        for i in 0..10 {
            hits.push(Hit::new(base + i * 60, g, 404, 100).on(p, ver, gone));
        }
        hits.push(Hit::new(base, g, 404, 100));
        record(s.hub.db(), &hits).await;

        let body = json!({
            "metrics": ["request_count", "error_rate_5xx"],
            "group_by": "route",
            "start": "2026-11-20T10:00:00Z",
            "end": "2026-11-20T11:00:00Z",
            "granularity": "1h",
        });
        let (st, r) = send(
            c,
            M::POST,
            s.url("/api/v1/analytics/query"),
            Some(body.clone()),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{name}: {r}");
        let labels: Vec<(String, f64)> = r["series"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["metric"] == "request_count")
            .map(|s| {
                (
                    s["group"]["label"].as_str().unwrap_or_default().to_string(),
                    s["total"].as_f64().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            labels,
            [
                ("orders-list".to_string(), 30.0),
                ("/orders/items".to_string(), 20.0),
                ("(deleted)".to_string(), 10.0),
                ("(no route)".to_string(), 1.0),
            ],
            "{name}"
        );
        assert_eq!(r["granularity"], "1h");
        assert_eq!(r["time_zone"], "UTC");
        assert_eq!(r["buckets"], json!(["2026-11-20T10:00:00Z"]));

        // Group by package and version: names.
        let mut b2 = body.clone();
        b2["group_by"] = json!("version");
        b2["then_by"] = json!("package");
        b2["filters"] = json!({"versions": [ver]});
        let (st, r) = send(c, M::POST, s.url("/api/v1/analytics/query"), Some(b2)).await;
        assert_eq!(st, StatusCode::OK, "{name}: {r}");
        assert_eq!(r["series"][0]["group"]["label"], "v1");
        assert_eq!(r["series"][0]["then"]["label"], "Orders");
        assert_eq!(r["series"][0]["total"], 60.0);
        let mut b3 = body.clone();
        b3["group_by"] = json!("runtime_group");
        let (_, r) = send(c, M::POST, s.url("/api/v1/analytics/query"), Some(b3)).await;
        assert_eq!(r["series"][0]["group"]["label"], "default", "{name}: {r}");

        // CSV with Accept.
        let res = c
            .post(s.url("/api/v1/analytics/query"))
            .header("accept", "text/csv")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        assert!(res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"));
        let csv = res.text().await.unwrap();
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some("bucket_start,metric,unit,group,group_id,then,then_id,value")
        );
        assert!(
            csv.contains(&format!(
                "2026-11-20T10:00:00Z,request_count,requests,orders-list,{r1},,,30"
            )),
            "{name}: {csv}"
        );
        assert!(csv.contains("error_rate_5xx,%,/orders/items"), "{csv}");
        assert_eq!(csv.lines().count(), 1 + 8);

        // The query-string export.
        let res = c
            .get(s.url(&format!(
                "/api/v1/analytics/export?start=2026-11-20T10:00:00Z&end=2026-11-20T12:00:00Z\
                 &metrics=request_count&group_by=status_class&granularity=1h&package={p}\
                 &status_class=4xx,5xx"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let csv = res.text().await.unwrap();
        assert!(
            csv.contains("2026-11-20T10:00:00Z,request_count,requests,5xx,5xx,,,20"),
            "{name}: {csv}"
        );
        assert!(csv.contains("2026-11-20T10:00:00Z,request_count,requests,4xx,4xx,,,10"));
        assert!(csv.contains("2026-11-20T11:00:00Z,request_count,requests,4xx,4xx,,,0"));
        let (st, e) = send(
            c,
            M::GET,
            s.url("/api/v1/analytics/export?time_frame=1w"),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["error"]["field"], "time_frame");

        // 422 naming the field.
        for (b, field) in [
            (json!({"metrics": [], "time_frame": "24h"}), "metrics"),
            (
                json!({"metrics": ["request_count"], "then_by": "route", "time_frame": "24h"}),
                "then_by",
            ),
            (
                json!({"metrics": ["request_count"], "time_frame": "24h", "time_zone": "Nowhere/Land"}),
                "time_zone",
            ),
            (
                json!({"metrics": ["request_count"], "time_frame": "30d", "granularity": "1m"}),
                "granularity",
            ),
        ] {
            let (st, e) = send(
                c,
                M::POST,
                s.url("/api/v1/analytics/query"),
                Some(b.clone()),
            )
            .await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {b} → {e}");
            assert_eq!(e["error"]["field"], field, "{name}: {b} → {e}");
        }
        for b in [
            json!({"metrics": ["request_count"], "bogus": 1}),
            json!({"metrics": ["no_such_metric"]}),
            json!({"metrics": ["request_count"], "filters": {"nope": []}}),
        ] {
            let (st, e) = send(
                c,
                M::POST,
                s.url("/api/v1/analytics/query"),
                Some(b.clone()),
            )
            .await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {b} → {e}");
        }

        // A body of the wrong shape: 422 naming the exact path of the value, also for a
        // field missing from a nested object (axum's error text named only `metrics`).
        for (b, field) in [
            (
                json!({"name": "r", "query": {"time_frame": "24h"}}),
                "query.metrics",
            ),
            (
                json!({"name": "r", "query": {"metrics": ["request_count"],
                    "filters": {"status_codes": [500, "5xx"]}}}),
                "query.filters.status_codes[1]",
            ),
        ] {
            let (st, e) = send(
                c,
                M::POST,
                s.url("/api/v1/analytics/reports"),
                Some(b.clone()),
            )
            .await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {b} → {e}");
            assert_eq!(e["error"]["field"], field, "{name}: {b} → {e}");
        }

        // Saved reports: a viewer saves its own, changes it, cannot delete another's.
        let viewer = s.client_as("viewer@example.com", Role::Viewer).await;
        let maintainer = s
            .client_as("maintainer@example.com", Role::Maintainer)
            .await;
        let report = json!({
            "name": "5xx by route",
            "description": "Server errors",
            "chart": "stacked_bar",
            "query": body,
        });
        let (st, admins) = send(
            c,
            M::POST,
            s.url("/api/v1/analytics/reports"),
            Some(report.clone()),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{name}: {admins}");
        assert_eq!(admins["created_by"], common::ADMIN_EMAIL);
        assert_eq!(admins["chart"], "stacked_bar");
        let mut mine = report.clone();
        mine["name"] = json!("Mine");
        let (st, own) = send(
            &viewer,
            M::POST,
            s.url("/api/v1/analytics/reports"),
            Some(mine.clone()),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{name}: {own}");
        assert_eq!(own["created_by"], "viewer@example.com");
        let own_url = s.url(&format!(
            "/api/v1/analytics/reports/{}",
            own["id"].as_str().unwrap()
        ));
        let admins_url = s.url(&format!(
            "/api/v1/analytics/reports/{}",
            admins["id"].as_str().unwrap()
        ));
        mine["description"] = json!("changed");
        let (st, r) = send(&viewer, M::PUT, own_url.clone(), Some(mine.clone())).await;
        assert_eq!(st, StatusCode::OK, "{name}: {r}");
        assert_eq!(r["description"], "changed");
        let (st, _) = send(&viewer, M::DELETE, admins_url.clone(), None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{name}");
        let (st, _) = send(&viewer, M::PUT, admins_url.clone(), Some(mine.clone())).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{name}");
        let (st, list) = send(&viewer, M::GET, s.url("/api/v1/analytics/reports"), None).await;
        assert_eq!(st, StatusCode::OK);
        let names: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["name"].as_str())
            .collect();
        assert_eq!(names, ["5xx by route", "Mine"], "{name}");
        let (st, got) = send(&viewer, M::GET, admins_url.clone(), None).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(got["query"]["group_by"], "route");

        // Its data, as JSON and CSV.
        let (st, data) = send(&viewer, M::GET, format!("{admins_url}/data"), None).await;
        assert_eq!(st, StatusCode::OK, "{name}: {data}");
        assert_eq!(data["series"][0]["total"], 30.0);
        let res = viewer
            .get(format!("{admins_url}/data"))
            .header("accept", "text/csv")
            .send()
            .await
            .unwrap();
        assert!(res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("5xx-by-route.csv"));
        assert!(res.text().await.unwrap().starts_with("bucket_start,"));

        // A maintainer may delete anyone's.
        let (st, _) = send(&maintainer, M::DELETE, own_url.clone(), None).await;
        assert_eq!(st, StatusCode::NO_CONTENT, "{name}");
        let (st, _) = send(&viewer, M::GET, own_url.clone(), None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = send(c, M::DELETE, admins_url.clone(), None).await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let (st, _) = send(
            c,
            M::GET,
            s.url("/api/v1/analytics/reports/not-a-uuid"),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::NOT_FOUND);

        // Report rules name their fields.
        let long = "x".repeat(256);
        for (patch, field) in [
            (json!({"name": long}), "name"),
            (json!({"name": "  "}), "name"),
            (json!({"description": long}), "description"),
            (
                json!({"query": {"metrics": [], "time_frame": "24h"}}),
                "query.metrics",
            ),
            (
                json!({"query": {"metrics": ["request_count"], "time_frame": "24h", "time_zone": "Nowhere/Land"}}),
                "query.time_zone",
            ),
        ] {
            let mut r = report.clone();
            for (k, v) in patch.as_object().unwrap() {
                r[k] = v.clone();
            }
            let (st, e) = send(
                &viewer,
                M::POST,
                s.url("/api/v1/analytics/reports"),
                Some(r),
            )
            .await;
            assert_eq!(
                st,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{name}: {patch} → {e}"
            );
            assert_eq!(e["error"]["field"], field, "{name}: {patch} → {e}");
        }
        // 255 characters are fine.
        let mut r = report.clone();
        r["name"] = json!("n".repeat(255));
        r["description"] = json!("d".repeat(255));
        let (st, e) = send(
            &viewer,
            M::POST,
            s.url("/api/v1/analytics/reports"),
            Some(r),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{name}: {e}");

        // Audited.
        let (_, audit) = send(
            c,
            M::GET,
            s.url("/api/v1/audit-events?action=analytics_report."),
            None,
        )
        .await;
        let actions: Vec<&str> = audit["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["action"].as_str())
            .collect();
        for a in [
            "analytics_report.create",
            "analytics_report.update",
            "analytics_report.delete",
        ] {
            assert!(actions.contains(&a), "{name}: {actions:?}");
        }

        // Without credentials: 401.
        for (m, path) in [
            (M::POST, "/api/v1/analytics/query"),
            (M::GET, "/api/v1/analytics/export"),
            (M::GET, "/api/v1/analytics/reports"),
        ] {
            let (st, e) = send(&s.anon, m, s.url(path), Some(body.clone())).await;
            assert_eq!(st, StatusCode::UNAUTHORIZED, "{name}: {path}");
            assert_eq!(e["error"]["code"], "unauthorized");
        }
        // A viewer may query (a read sent as POST).
        let (st, _) = send(
            &viewer,
            M::POST,
            s.url("/api/v1/analytics/query"),
            Some(body.clone()),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{name}");
    }
}

#[tokio::test]
async fn ranges_before_now_are_stable() {
    // A time frame is [now - frame, now): the same data, queried later, moves out.
    let b = common::sqlite().await;
    let g = Uuid::new_v4();
    let now = t("2026-11-30T12:00:30Z");
    record(
        b.hub.db(),
        &[
            Hit::new(now.timestamp() - 10, g, 200, 1000),
            Hit::new(now.timestamp() - 3600 * 2, g, 200, 1000),
        ],
    )
    .await;
    let q = AnalyticsQuery {
        metrics: vec![Metric::RequestCount],
        time_frame: Some(TimeFrame::H1),
        filters: Filters {
            runtime_groups: vec![g],
            ..Default::default()
        },
        ..Default::default()
    };
    let actor = Actor::console();
    let r = b
        .hub
        .analytics_query_at(&actor, q.clone(), now)
        .await
        .unwrap();
    assert_eq!(r.series[0].total, Some(1.0));
    let later = now + Duration::hours(2);
    let r = b.hub.analytics_query_at(&actor, q, later).await.unwrap();
    assert_eq!(r.series[0].total, Some(0.0));
}

#[tokio::test]
async fn huge_sums_saturate_instead_of_overflowing() {
    // Rows whose sums are i64::MAX (data planes send sums; the ingest saturates them)
    // and whose sketches hold more than half of u64::MAX values: every query that adds
    // them saturates instead of panicking or wrapping.
    let b = common::sqlite().await;
    let hub = &b.hub;
    let g = Uuid::new_v4();
    let p = Uuid::new_v4();
    let now = t("2026-11-30T12:34:56Z");
    let minute = secs("2026-11-30T12:20:00Z");
    let mut huge = Sketch::new();
    huge.add_n(1_000, u64::MAX / 2 + 1);
    for (table, step) in [
        ("analytics_minute", 60),
        ("analytics_hour", 3600),
        ("analytics_day", 86400),
    ] {
        let mut ins = row::insert_into(table);
        for (k, status) in [(0, 200), (1, 404), (2, 503)] {
            let bucket = if step == 60 {
                minute + 60 * k
            } else {
                minute.div_euclid(step) * step
            };
            let values = AggregateRow {
                bucket,
                runtime_group_id: g,
                package_id: p,
                version_id: p,
                route_id: p,
                status,
                consumer_id: Uuid::nil(),
                error_kind: "",
                requests: i64::MAX,
                request_bytes: i64::MAX,
                response_bytes: i64::MAX,
                total_latency_us: i64::MAX,
                upstream_latency_us: i64::MAX,
                upstream_requests: i64::MAX,
                gateway_latency_us: i64::MAX,
                sketches: [&huge; 5],
            }
            .values();
            ins.values_panic(values);
        }
        let db = hub.db();
        db.execute(db.get_database_backend().build(&ins))
            .await
            .expect("insert aggregates");
    }
    let actor = Actor::console();
    let q = in_group(
        AnalyticsQuery {
            metrics: vec![
                Metric::RequestCount,
                Metric::ErrorRate4xx,
                Metric::ResponseLatencyAvg,
                Metric::UpstreamLatencyAvg,
                Metric::ResponseLatencyP99,
            ],
            time_frame: Some(TimeFrame::H1),
            ..Default::default()
        },
        g,
    );
    let r = hub.analytics_query_at(&actor, q, now).await.expect("query");
    let count = series(&r, Metric::RequestCount)[0];
    assert_eq!(count.total, Some(i64::MAX as f64));
    assert!(series(&r, Metric::ResponseLatencyP99)[0].total.is_some());
    let filters = Filters {
        runtime_groups: vec![g],
        ..Default::default()
    };
    for f in [TimeFrame::H1, TimeFrame::H24, TimeFrame::D7] {
        let s = hub
            .analytics_summary_at(&actor, filters.clone(), f, now)
            .await
            .expect("summary");
        assert_eq!(s.current.requests, i64::MAX as u64, "{}", f.as_str());
        assert!(s.current.error_rate.is_some_and(f64::is_finite));
    }
    let totals = hub
        .package_totals_at(&actor, &[p], now)
        .await
        .expect("totals");
    assert_eq!(totals[0].1.requests, i64::MAX as u64);
    let days = in_group(
        range(
            "2026-11-20T00:00:00Z",
            "2026-12-01T00:00:00Z",
            Granularity::Day,
            &[Metric::RequestCount],
        ),
        g,
    );
    let mut berlin = days.clone();
    berlin.time_zone = Some("Europe/Berlin".into());
    for q in [days, berlin] {
        let r = run(hub, q).await;
        assert_eq!(r.series[0].total, Some(i64::MAX as f64));
    }
}
