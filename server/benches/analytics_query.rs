//! `cargo bench -p server --bench analytics_query` (or `make bench-analytics`): the
//! 30-day package dashboard over a SQLite file holding 10 million requests' worth of
//! aggregates in the 30-day frame (and as many in the 30 days before it, which the
//! tiles compare with). Goal: each dashboard query ≤ 50 ms server time.
//!
//! The generator: 2 packages, 3 versions (2 + 1), 20 routes (7 + 7 + 6), 6 status
//! codes (200 70 %, 201 10 %, 304 8 %, 404 7 %, 500 3 %, 503 2 %), ~231 requests a
//! minute for 60 days, each request with its own latencies and sizes. Rows as the
//! ingest and the default retention leave them: minute rows for the last 7 days, hour
//! and day rows for all 60 days.

use std::hint::black_box;
use std::time::{Duration, Instant};

use app::model::analytics::*;
use app::model::Actor;
use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use server::analytics::row::{self, AggregateRow};
use server::analytics::sketch::Sketch;
use server::hub::Hub;
use uuid::Uuid;

const DAYS: i64 = 60;
const MINUTE_DAYS: i64 = 7;
const PER_MINUTE: f64 = 231.0;
const STATUSES: [(i32, f64); 6] = [
    (200, 0.70),
    (201, 0.10),
    (304, 0.08),
    (404, 0.07),
    (500, 0.03),
    (503, 0.02),
];

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
    /// `e` rounded up or down at random, keeping the mean.
    fn round(&mut self, e: f64) -> u64 {
        let f = e.floor();
        f as u64 + u64::from(self.unit() < e - f)
    }
}

#[derive(Clone, Copy)]
struct RouteOf {
    package: Uuid,
    version: Uuid,
    route: Uuid,
    /// Typical latency, µs.
    base_us: f64,
}

#[derive(Default, Clone)]
struct Agg {
    requests: i64,
    request_bytes: i64,
    response_bytes: i64,
    total_us: i64,
    upstream_us: i64,
    upstream_requests: i64,
    gateway_us: i64,
    sketches: [Sketch; 5],
}

impl Agg {
    fn add(&mut self, r: &mut Rng, base_us: f64, status: i32) {
        let tail = r.unit();
        let total = (base_us * (0.4 + r.unit() + 6.0 * tail * tail * tail)) as u64 + 200;
        let gateway = 100 + r.next() % 900;
        let upstream = total.saturating_sub(gateway);
        let req = 100 + r.next() % 2000;
        let resp = if status == 304 {
            0
        } else {
            200 + r.next() % 40_000
        };
        self.requests += 1;
        self.request_bytes += req as i64;
        self.response_bytes += resp as i64;
        self.total_us += total as i64;
        self.gateway_us += gateway as i64;
        self.upstream_us += upstream as i64;
        self.upstream_requests += 1;
        for (k, v) in [total, upstream, gateway, req, resp]
            .into_iter()
            .enumerate()
        {
            self.sketches[k].add(v);
        }
    }
    fn merge(&mut self, o: &Agg) {
        self.requests += o.requests;
        self.request_bytes += o.request_bytes;
        self.response_bytes += o.response_bytes;
        self.total_us += o.total_us;
        self.upstream_us += o.upstream_us;
        self.upstream_requests += o.upstream_requests;
        self.gateway_us += o.gateway_us;
        for (a, b) in self.sketches.iter_mut().zip(&o.sketches) {
            a.merge(b);
        }
    }
}

/// Rows waiting for insertion into one table.
struct Pending {
    table: &'static str,
    stmt: Option<sea_orm::sea_query::InsertStatement>,
    count: usize,
    written: usize,
}

impl Pending {
    fn new(table: &'static str) -> Pending {
        Pending {
            table,
            stmt: None,
            count: 0,
            written: 0,
        }
    }
    fn stmt(&mut self) -> &mut sea_orm::sea_query::InsertStatement {
        let table = self.table;
        self.stmt.get_or_insert_with(|| row::insert_into(table))
    }
    async fn push<C: ConnectionTrait>(
        &mut self,
        db: &C,
        bucket: i64,
        group: Uuid,
        r: &RouteOf,
        status: i32,
        a: &Agg,
    ) {
        if a.requests == 0 {
            return;
        }
        let values = AggregateRow {
            bucket,
            runtime_group_id: group,
            package_id: r.package,
            version_id: r.version,
            route_id: r.route,
            status,
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
        self.stmt().values_panic(values);
        self.count += 1;
        if self.count >= 500 {
            self.flush(db).await;
        }
    }
    async fn flush<C: ConnectionTrait>(&mut self, db: &C) {
        if let Some(ins) = self.stmt.take() {
            let stmt = db.get_database_backend().build(&ins);
            db.execute(stmt).await.expect("insert");
            self.written += self.count;
            self.count = 0;
        }
    }
}

struct Seeded {
    hub: Hub,
    now: DateTime<Utc>,
    package_a: Uuid,
    package_b: Uuid,
    _dir: tempfile::TempDir,
}

async fn seed() -> Seeded {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = server::db::default_sqlite_url(dir.path());
    let db: DatabaseConnection = server::db::connect_and_migrate(&url).await.expect("db");
    let hub = Hub::new(db).await.expect("hub");
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-11-30T12:34:56Z")
        .expect("now")
        .with_timezone(&Utc);
    let now_s = now.timestamp();
    let group = Uuid::new_v4();
    let (pa, pb) = (Uuid::new_v4(), Uuid::new_v4());
    let versions = [
        (pa, Uuid::new_v4(), 7),
        (pa, Uuid::new_v4(), 7),
        (pb, Uuid::new_v4(), 6),
    ];
    let mut r = Rng(0x5eed);
    let mut routes = Vec::new();
    for (p, v, n) in versions {
        for _ in 0..n {
            routes.push(RouteOf {
                package: p,
                version: v,
                route: Uuid::new_v4(),
                base_us: 3000.0 + (r.next() % 120_000) as f64,
            });
        }
    }
    let per_combo_minute: Vec<f64> = STATUSES
        .iter()
        .map(|(_, w)| PER_MINUTE / routes.len() as f64 * w)
        .collect();

    let started = Instant::now();
    let first_day = (now_s - DAYS * 86400).div_euclid(86400) * 86400;
    let minutes_from = now_s - MINUTE_DAYS * 86400;
    let mut minute = Pending::new("analytics_minute");
    let mut hour = Pending::new("analytics_hour");
    let mut day = Pending::new("analytics_day");
    let mut requests_in_frame: i64 = 0;
    let mut requests_total: i64 = 0;
    let combos = routes.len() * STATUSES.len();
    let txn = hub.db().begin().await.expect("begin");
    let mut d = first_day;
    while d <= now_s {
        let mut day_aggs = vec![Agg::default(); combos];
        for h in 0..24 {
            let hs = d + h * 3600;
            if hs > now_s {
                break;
            }
            let mut hour_aggs = vec![Agg::default(); combos];
            if hs + 3600 > minutes_from {
                for m in 0..60 {
                    let ms = hs + m * 60;
                    if ms > now_s {
                        break;
                    }
                    for (ri, route) in routes.iter().enumerate() {
                        for (si, (status, _)) in STATUSES.iter().enumerate() {
                            let n = r.round(per_combo_minute[si]);
                            let mut a = Agg::default();
                            for _ in 0..n {
                                a.add(&mut r, route.base_us, *status);
                            }
                            if ms >= minutes_from {
                                minute.push(&txn, ms, group, route, *status, &a).await;
                            }
                            hour_aggs[ri * STATUSES.len() + si].merge(&a);
                        }
                    }
                }
            } else {
                for (ri, route) in routes.iter().enumerate() {
                    for (si, (status, _)) in STATUSES.iter().enumerate() {
                        let n = r.round(per_combo_minute[si] * 60.0);
                        let a = &mut hour_aggs[ri * STATUSES.len() + si];
                        for _ in 0..n {
                            a.add(&mut r, route.base_us, *status);
                        }
                    }
                }
            }
            for (k, a) in hour_aggs.iter().enumerate() {
                let (route, status) = (&routes[k / STATUSES.len()], STATUSES[k % STATUSES.len()].0);
                hour.push(&txn, hs, group, route, status, a).await;
                requests_total += a.requests;
                if hs >= now_s - 30 * 86400 {
                    requests_in_frame += a.requests;
                }
                day_aggs[k].merge(a);
            }
        }
        for (k, a) in day_aggs.iter().enumerate() {
            let (route, status) = (&routes[k / STATUSES.len()], STATUSES[k % STATUSES.len()].0);
            day.push(&txn, d, group, route, status, a).await;
        }
        d += 86400;
    }
    for p in [&mut minute, &mut hour, &mut day] {
        p.flush(&txn).await;
    }
    txn.commit().await.expect("commit");
    hub.db()
        .execute_unprepared("ANALYZE")
        .await
        .expect("analyze");
    hub.db()
        .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
        .await
        .expect("checkpoint");
    // ANALYTICS_BENCH_KEEP=<path>: keep a copy of the seeded database there.
    if let Ok(keep) = std::env::var("ANALYTICS_BENCH_KEEP") {
        std::fs::copy(dir.path().join("portico.db"), &keep).expect("copy the database");
        eprintln!("the seeded database is kept at {keep} (now = {now})");
    }
    let size = std::fs::metadata(dir.path().join("portico.db"))
        .map(|m| m.len())
        .unwrap_or(0);
    eprintln!(
        "seeded in {:.1?}: {requests_total} requests ({requests_in_frame} in the last 30 days); \
         rows: {} minute, {} hour, {} day; database file {:.0} MB",
        started.elapsed(),
        minute.written,
        hour.written,
        day.written,
        size as f64 / 1048576.0
    );
    Seeded {
        hub,
        now,
        package_a: pa,
        package_b: pb,
        _dir: dir,
    }
}

fn package_query(package: Uuid, metrics: &[Metric], group_by: Option<Dimension>) -> AnalyticsQuery {
    AnalyticsQuery {
        metrics: metrics.to_vec(),
        group_by,
        time_frame: Some(TimeFrame::D30),
        filters: Filters {
            packages: vec![package],
            ..Default::default()
        },
        ..Default::default()
    }
}

/// The median of `runs` timings of `f`.
fn median<F: FnMut()>(runs: usize, mut f: F) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn analytics_query(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let s = rt.block_on(seed());
    let actor = Actor::console();
    let latency = [
        Metric::ResponseLatencyP50,
        Metric::ResponseLatencyP95,
        Metric::ResponseLatencyP99,
    ];
    let mut by_version_and_latency = vec![Metric::RequestCount];
    by_version_and_latency.extend(latency);
    let queries: Vec<(&str, AnalyticsQuery)> = vec![
        (
            "requests_by_version",
            package_query(
                s.package_a,
                &[Metric::RequestCount],
                Some(Dimension::Version),
            ),
        ),
        (
            "latency_p50_p95_p99",
            package_query(s.package_a, &latency, None),
        ),
        (
            "requests_by_status_class",
            package_query(
                s.package_a,
                &[Metric::RequestCount],
                Some(Dimension::StatusClass),
            ),
        ),
        (
            "requests_and_percentiles_by_version",
            package_query(
                s.package_a,
                &by_version_and_latency,
                Some(Dimension::Version),
            ),
        ),
        ("latency_p50_p95_p99_europe_berlin", {
            let mut q = package_query(s.package_a, &latency, None);
            q.time_zone = Some("Europe/Berlin".into());
            q
        }),
        ("latency_p50_p95_p99_7d_1h", {
            let mut q = package_query(s.package_a, &latency, None);
            q.time_frame = Some(TimeFrame::D7);
            q
        }),
    ];
    let filters = Filters {
        packages: vec![s.package_a],
        ..Default::default()
    };
    let run = |q: &AnalyticsQuery| {
        rt.block_on(s.hub.analytics_query_at(&actor, q.clone(), s.now))
            .expect("query")
    };
    let summary = || {
        rt.block_on(
            s.hub
                .analytics_summary_at(&actor, filters.clone(), TimeFrame::D30, s.now),
        )
        .expect("summary")
    };

    // Plain figures first (median of 21 runs), then criterion's.
    let sm = summary();
    eprintln!(
        "summary(30d) of package A: {} requests (previous period {}), error rate {:.2} %, \
         avg {:.1} ms, p99 {:.1} ms",
        sm.current.requests,
        sm.previous.requests,
        sm.current.error_rate.unwrap_or_default(),
        sm.current.latency_avg_ms.unwrap_or_default(),
        sm.current.latency_p99_ms.unwrap_or_default()
    );
    eprintln!(
        "  {:>40}: {:.1?}",
        "summary_30d",
        median(21, || {
            black_box(summary());
        })
    );
    for (name, q) in &queries {
        let r = run(q);
        eprintln!(
            "  {:>40}: {:.1?} ({} buckets, {} series)",
            name,
            median(21, || {
                black_box(run(q));
            }),
            r.buckets.len(),
            r.series.len()
        );
    }
    let dashboard = || {
        black_box(summary());
        for (_, q) in &queries[..3] {
            black_box(run(q));
        }
    };
    eprintln!(
        "  {:>40}: {:.1?}",
        "dashboard (summary + 3 charts)",
        median(11, dashboard)
    );
    let packages = [s.package_a, s.package_b];
    eprintln!(
        "  {:>40}: {:.1?}",
        "package_totals (2 packages, 7 days)",
        median(21, || {
            black_box(
                rt.block_on(s.hub.package_totals_at(&actor, &packages, s.now))
                    .expect("totals"),
            );
        })
    );

    let mut group = c.benchmark_group("analytics_30d_dashboard");
    group.sample_size(20);
    group.bench_function("summary_30d", |b| b.iter(|| black_box(summary())));
    for (name, q) in &queries {
        group.bench_function(*name, |b| b.iter(|| black_box(run(q))));
    }
    group.finish();
}

criterion_group!(benches, analytics_query);
criterion_main!(benches);
