//! The write path of analytics on SQLite (and PostgreSQL when
//! PORTICO_TEST_POSTGRES_URL is set): requests proxied by an embedded data plane are
//! counted exactly in the minute, hour and day rows; a batch POSTed twice is counted
//! once; bad batches are refused naming the field, with nothing stored; another
//! group's batch is forbidden; rollups equal the sum of their minutes; retention
//! deletes by resolution.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::model::*;
use app::ports::{DataPlanes, GatewayConfig, RuntimeGroups};
use base64::Engine as _;
use chrono::{TimeZone, Utc};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};
use server::analytics::sketch::Sketch;
use server::config::Retention;
use server::gateway::recorder::{Batch, IngestOutcome, Recorder, RecorderOptions};
use server::gateway::{LogEntry, LogSink, RouteInfo};
use server::hub::Hub;
use uuid::Uuid;

const TABLES: [(&str, i64); 3] = [
    ("analytics_minute", 60),
    ("analytics_hour", 3_600),
    ("analytics_day", 86_400),
];

/// An aggregate row as stored.
#[derive(Debug, Clone)]
struct Row {
    bucket: i64,
    package: Uuid,
    version: Uuid,
    route: Uuid,
    status: i32,
    sums: [i64; 7],
    sketches: Vec<Sketch>,
}

const SUMS: [&str; 7] = [
    "requests",
    "request_bytes",
    "response_bytes",
    "total_latency_us",
    "upstream_latency_us",
    "upstream_requests",
    "gateway_latency_us",
];
const SKETCHES: [&str; 5] = [
    "total_sketch",
    "upstream_sketch",
    "gateway_sketch",
    "request_size_sketch",
    "response_size_sketch",
];

async fn rows(hub: &Hub, table: &str) -> Vec<Row> {
    let db = hub.db();
    let found = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT * FROM {table} ORDER BY bucket"),
        ))
        .await
        .unwrap();
    found
        .into_iter()
        .map(|r| Row {
            bucket: r.try_get("", "bucket").unwrap(),
            package: r.try_get("", "package_id").unwrap(),
            version: r.try_get("", "version_id").unwrap(),
            route: r.try_get("", "route_id").unwrap(),
            status: r.try_get("", "status").unwrap(),
            sums: SUMS.map(|c| r.try_get::<i64>("", c).unwrap()),
            sketches: SKETCHES
                .iter()
                .map(|c| Sketch::decode(&r.try_get::<Vec<u8>>("", c).unwrap()).unwrap())
                .collect(),
        })
        .collect()
}

async fn total_requests(hub: &Hub, table: &str) -> i64 {
    rows(hub, table).await.iter().map(|r| r.sums[0]).sum()
}

async fn batch_ids(hub: &Hub) -> usize {
    use sea_orm::EntityTrait;
    server::store::analytics_batch::Entity::find()
        .all(hub.db())
        .await
        .unwrap()
        .len()
}

/// Requests per (route, status) in `table`, over all buckets.
async fn by_route_status(hub: &Hub, table: &str) -> BTreeMap<(Uuid, i32), [i64; 7]> {
    let mut out: BTreeMap<(Uuid, i32), [i64; 7]> = BTreeMap::new();
    for r in rows(hub, table).await {
        let e = out.entry((r.route, r.status)).or_default();
        for (k, v) in r.sums.iter().enumerate() {
            e[k] += v;
        }
    }
    out
}

/// Waits until `table` holds `n` requests (at most `secs`).
async fn wait_requests(hub: &Hub, table: &str, n: i64, secs: u64) -> i64 {
    let t0 = Instant::now();
    loop {
        let got = total_requests(hub, table).await;
        if got >= n || t0.elapsed() > Duration::from_secs(secs) {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_plane_counts_exactly_in_minutes_hours_and_days() {
    for b in common::backends().await {
        let name = b.name;
        let hub = b.hub.clone();
        let up = common::gateway::echo_upstream().await;
        let cat = common::gateway::orders(&hub, up).await;
        let port = free_port();
        hub.configure_proxy_listen("default", &format!("127.0.0.1:{port}"))
            .await
            .unwrap()
            .unwrap();
        let (recorder, recording) =
            server::control::start_embedded_analytics(hub.clone(), Duration::from_millis(200));
        let planes = server::control::EmbeddedPlanes::start(hub.clone(), recorder.clone());
        // ready without sending requests (they would be counted)
        let t0 = Instant::now();
        while !planes.status().iter().any(|p| p.ready) {
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "{name}: plane ready"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let c = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        for i in 0..37 {
            let r = c.get(format!("{base}/orders/{i}")).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.bytes().await.unwrap();
        }
        for i in 0..11 {
            let r = c
                .get(format!("{base}/orders/missing/{i}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::NOT_FOUND);
            r.bytes().await.unwrap();
        }
        for i in 0..5 {
            let r = c.get(format!("{base}/nothing/{i}")).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::NOT_FOUND);
            r.bytes().await.unwrap();
        }
        assert_eq!(
            wait_requests(&hub, "analytics_minute", 53, 15).await,
            53,
            "{name}"
        );
        // nothing more arrives
        tokio::time::sleep(Duration::from_millis(500)).await;
        for (table, _) in TABLES {
            let got = by_route_status(&hub, table).await;
            let nil = Uuid::nil();
            let keys: Vec<(Uuid, i32)> = got.keys().copied().collect();
            let mut want = vec![(cat.route, 200), (cat.route, 404), (nil, 404)];
            want.sort();
            assert_eq!(keys, want, "{name} {table}");
            let ok = got[&(cat.route, 200)];
            assert_eq!(ok[0], 37, "{name} {table}: 200s");
            assert_eq!(ok[5], 37, "{name} {table}: all 200s went upstream");
            assert!(ok[2] > 0, "{name} {table}: response bytes");
            assert!(ok[3] >= ok[4], "{name} {table}: total ≥ upstream latency");
            let missing = got[&(cat.route, 404)];
            assert_eq!(missing[0], 11, "{name} {table}: upstream 404s");
            assert_eq!(missing[5], 11);
            assert_eq!(missing[2], 11 * 4, "{name} {table}: \"nope\" × 11");
            let own = got[&(nil, 404)];
            assert_eq!(own[0], 5, "{name} {table}: Portico's own 404s");
            assert_eq!(own[5], 0, "{name} {table}: none went upstream");
            for r in rows(&hub, table).await {
                assert_eq!(r.sketches[0].count() as i64, r.sums[0]);
                assert_eq!(r.sketches[1].count() as i64, r.sums[5]);
                if r.route == cat.route {
                    assert_eq!(r.version, cat.version, "{name} {table}");
                    assert_eq!(r.package, cat.package, "{name} {table}");
                } else {
                    assert!(r.version.is_nil() && r.package.is_nil());
                }
            }
        }
        let _ = cat.group;
        planes.shutdown().await;
        assert_eq!(recording.shutdown().await, 0, "{name}: all delivered");
        assert_eq!(recorder.dropped_batches(), 0);
    }
}

fn node_client(token: &str, group: &str) -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("authorization", format!("Bearer {token}").parse().unwrap());
    h.insert("x-portico-runtime-group", group.parse().unwrap());
    h.insert(
        "x-portico-node-id",
        Uuid::new_v4().to_string().parse().unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(h)
        .build()
        .unwrap()
}

fn route_info(route: Uuid, version: Uuid, package: Uuid) -> Arc<RouteInfo> {
    Arc::new(RouteInfo {
        route_id: route.to_string(),
        route_name: None,
        package_id: package.to_string(),
        package_key: "orders".into(),
        version_id: version.to_string(),
        version_name: "v1".into(),
    })
}

/// Two routes of one version in the default group (rows may name only the ids of
/// the group's snapshots).
async fn two_routes(hub: &Hub) -> (Arc<RouteInfo>, Arc<RouteInfo>) {
    let cat = common::gateway::orders(hub, "127.0.0.1:9".parse().unwrap()).await;
    let other = hub
        .create_route(
            &Actor::console(),
            &cat.key,
            cat.version,
            RouteInput {
                paths: vec!["/other".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    (
        route_info(cat.route, cat.version, cat.package),
        route_info(other.id, cat.version, cat.package),
    )
}

/// A small xorshift generator.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Logs `n` synthetic requests at `secs` into `rec`.
#[allow(clippy::too_many_arguments)]
fn record(
    rec: &Recorder,
    group: &Arc<str>,
    route: Option<Arc<RouteInfo>>,
    secs: i64,
    status: u16,
    n: usize,
    rng: &mut Rng,
) {
    for _ in 0..n {
        let up = 200 + rng.next() % 50_000;
        rec.log(LogEntry {
            time: Utc.timestamp_opt(secs, 0).single().unwrap(),
            runtime_group: group.clone(),
            route: route.clone(),
            method: hyper::Method::GET,
            status,
            request_bytes: rng.next() % 2_000,
            response_bytes: rng.next() % 100_000,
            total_latency_us: up + 100 + rng.next() % 1_000,
            upstream_latency_us: route.is_some().then_some(up),
            gateway_latency_us: 20 + rng.next() % 200,
            error: None,
            consumer: None,
        });
    }
}

fn sealed(rec: &Recorder) -> Batch {
    rec.seal();
    let b = rec.batches();
    assert_eq!(b.len(), 1);
    b[0].as_ref().clone()
}

/// A change that makes a good batch bad.
type Mutation = Box<dyn Fn(&mut Value)>;

fn now_minute() -> i64 {
    Utc::now().timestamp().div_euclid(60) * 60
}

#[tokio::test]
async fn a_batch_posted_twice_counts_once_and_bad_batches_are_refused() {
    for b in common::backends().await {
        let name = b.name;
        let s = common::start(b).await;
        let hub = s.hub.clone();
        let admin = Actor::console();
        let token = hub
            .create_data_plane_token(
                &admin,
                "default",
                NewDataPlaneToken {
                    name: "edge".into(),
                },
            )
            .await
            .unwrap()
            .secret;
        let cat = common::gateway::orders(&hub, "127.0.0.1:9".parse().unwrap()).await;
        let (route, version, package) = (cat.route, cat.version, cat.package);
        let rec = Recorder::new(RecorderOptions::new(Uuid::new_v4().to_string()));
        let g: Arc<str> = Arc::from("default");
        let mut rng = Rng(11);
        let t = now_minute() - 120;
        record(
            &rec,
            &g,
            Some(route_info(route, version, package)),
            t,
            200,
            40,
            &mut rng,
        );
        record(
            &rec,
            &g,
            Some(route_info(route, version, package)),
            t + 60,
            503,
            3,
            &mut rng,
        );
        record(&rec, &g, None, t + 61, 404, 2, &mut rng);
        let batch = sealed(&rec);
        assert_eq!(batch.rows.len(), 3);
        let dp = node_client(&token, "default");
        let url = s.url("/dp/v1/analytics");

        let r = dp.post(&url).json(&batch).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{name}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["status"], "stored", "{name}: {body}");
        assert_eq!(body["rows"], 3);
        let r = dp.post(&url).json(&batch).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{name}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["status"], "duplicate", "{name}: {body}");
        for (table, _) in TABLES {
            assert_eq!(total_requests(&hub, table).await, 45, "{name} {table}");
        }
        assert_eq!(batch_ids(&hub).await, 1);
        let stored = rows(&hub, "analytics_minute").await;
        assert_eq!(stored.len(), 3);

        // Bad batches: 422 naming the field, nothing stored.
        let good = serde_json::to_value(&batch).unwrap();
        let other_sketch = {
            let mut s = Sketch::new();
            s.add(5);
            base64::engine::general_purpose::STANDARD.encode(s.encode())
        };
        let cases: Vec<(Mutation, &str)> = vec![
            (
                Box::new(|v| v["rows"][1]["status"] = json!(700)),
                "rows[1].status",
            ),
            (
                Box::new(|v| v["rows"][2]["status"] = json!(99)),
                "rows[2].status",
            ),
            (
                Box::new(|v| v["rows"][1]["status"] = json!("200")),
                "rows[1].status",
            ),
            (
                Box::new(|v| v["rows"][0]["bucket"] = json!(now_minute() + 30)),
                "rows[0].bucket",
            ),
            (
                Box::new(|v| v["rows"][0]["bucket"] = json!(now_minute() + 3600)),
                "rows[0].bucket",
            ),
            (
                Box::new(|v| v["rows"][0]["bucket"] = json!(now_minute() - 8 * 86_400)),
                "rows[0].bucket",
            ),
            (
                Box::new(|v| v["rows"][0]["route_id"] = json!("route-1")),
                "rows[0].route_id",
            ),
            (
                Box::new(|v| v["rows"][1]["version_id"] = json!(7)),
                "rows[1].version_id",
            ),
            (
                Box::new(|v| v["rows"][0]["total_sketch"] = json!("!!!")),
                "rows[0].total_sketch",
            ),
            (
                Box::new(move |v| v["rows"][0]["gateway_sketch"] = json!(other_sketch.clone())),
                "rows[0].gateway_sketch",
            ),
            (
                Box::new(|v| v["rows"][0]["upstream_sketch"] = json!("AQAA")),
                "rows[0].upstream_sketch",
            ),
            (
                Box::new(|v| v["rows"][0]["requests"] = json!(-1)),
                "rows[0].requests",
            ),
            (
                Box::new(|v| v["rows"][0]["requests"] = json!(0)),
                "rows[0].requests",
            ),
            (
                Box::new(|v| v["rows"][0]["request_bytes"] = json!(9_223_372_036_854_775_808u64)),
                "rows[0].request_bytes",
            ),
            (
                Box::new(|v| v["rows"][0]["response_bytes"] = json!(1.5)),
                "rows[0].response_bytes",
            ),
            (
                Box::new(|v| v["rows"][2]["upstream_requests"] = json!(5)),
                "rows[2].upstream_requests",
            ),
            (
                Box::new(|v| v["rows"] = json!(vec![v["rows"][2].clone(); 10_001])),
                "rows",
            ),
            (Box::new(|v| v["rows"] = json!({})), "rows"),
            (Box::new(|v| v["id"] = json!("batch-1")), "id"),
        ];
        for (k, (mutate, field)) in cases.iter().enumerate() {
            let mut v = good.clone();
            v["id"] = json!(Uuid::new_v4());
            mutate(&mut v);
            let r = dp.post(&url).json(&v).send().await.unwrap();
            assert_eq!(
                r.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{name}: case {k} ({field})"
            );
            let e: Value = r.json().await.unwrap();
            assert_eq!(e["field"], *field, "{name}: case {k}: {e}");
            assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
        let r = dp.post(&url).body("{not json").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        for (table, _) in TABLES {
            assert_eq!(
                total_requests(&hub, table).await,
                45,
                "{name} {table}: nothing stored"
            );
        }
        assert_eq!(batch_ids(&hub).await, 1, "{name}: no batch id stored");

        // Another group's batch: 403; another group's token: 403; no token: 401.
        hub.create_runtime_group(
            &admin,
            NewRuntimeGroup {
                name: "staging".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let staging_token = hub
            .create_data_plane_token(
                &admin,
                "staging",
                NewDataPlaneToken {
                    name: "edge".into(),
                },
            )
            .await
            .unwrap()
            .secret;
        let mut other = good.clone();
        other["id"] = json!(Uuid::new_v4());
        other["runtime_group"] = json!("staging");
        let r = dp.post(&url).json(&other).send().await.unwrap();
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "{name}: batch of another group"
        );
        let mut fresh = good.clone();
        fresh["id"] = json!(Uuid::new_v4());
        let r = node_client(&staging_token, "default")
            .post(&url)
            .json(&fresh)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "{name}: token of another group"
        );
        let r = node_client(&staging_token, "staging")
            .post(&url)
            .json(&fresh)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "{name}: default's batch, staging's token"
        );
        let r = reqwest::Client::new()
            .post(&url)
            .json(&fresh)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{name}");
        let r = node_client("pdp_nope", "default")
            .post(&url)
            .json(&fresh)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(total_requests(&hub, "analytics_minute").await, 45, "{name}");
        // the same batch, with a new id, is counted again
        let r = dp.post(&url).json(&fresh).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{name}");
        assert_eq!(total_requests(&hub, "analytics_day").await, 90, "{name}");
    }
}

/// The sketch of several rows merged.
fn merged<'a>(rows: impl Iterator<Item = &'a Row>, k: usize) -> Sketch {
    let mut s = Sketch::new();
    for r in rows {
        s.merge(&r.sketches[k]);
    }
    s
}

#[tokio::test]
async fn rollups_equal_the_sum_of_their_minutes_across_hour_and_day_edges() {
    for b in common::backends().await {
        let name = b.name;
        let hub = b.hub.clone();
        let group = hub
            .get_runtime_group(&Actor::console(), "default")
            .await
            .unwrap()
            .id;
        let g: Arc<str> = Arc::from("default");
        let midnight = Utc::now().timestamp().div_euclid(86_400) * 86_400;
        let (r1, r2) = two_routes(&hub).await;
        // minutes around 23:00 and around midnight (yesterday → today)
        let minutes: Vec<i64> = [-3_720, -3_660, -3_600, -3_540, -180, -120, -60, 0, 60, 120]
            .iter()
            .map(|d| midnight + d)
            .collect();
        let mut rng = Rng(5);
        let mut expected = 0i64;
        for round in 0..3 {
            let rec = Recorder::new(RecorderOptions::new("node"));
            for (k, m) in minutes.iter().enumerate() {
                let n = 5 + (k * 7 + round * 3) % 13;
                record(&rec, &g, Some(r1.clone()), m + 5, 200, n, &mut rng);
                record(&rec, &g, Some(r2.clone()), m + 7, 500, n / 2 + 1, &mut rng);
                record(&rec, &g, None, m + 9, 404, 1, &mut rng);
                expected += (n + n / 2 + 1 + 1) as i64;
            }
            let batch = sealed(&rec);
            let out = hub.ingest_analytics(group, "node", &batch).await.unwrap();
            assert_eq!(
                out,
                IngestOutcome::Stored {
                    rows: batch.rows.len()
                }
            );
            assert_eq!(
                hub.ingest_analytics(group, "node", &batch).await.unwrap(),
                IngestOutcome::Duplicate,
                "{name}"
            );
        }
        let minute_rows = rows(&hub, "analytics_minute").await;
        assert_eq!(minute_rows.iter().map(|r| r.sums[0]).sum::<i64>(), expected);
        for (table, width) in &TABLES[1..] {
            let rolled = rows(&hub, table).await;
            let buckets: std::collections::BTreeSet<i64> =
                rolled.iter().map(|r| r.bucket).collect();
            assert_eq!(
                buckets.len(),
                if *width == 3_600 { 3 } else { 2 },
                "{name} {table}: {buckets:?}"
            );
            for r in &rolled {
                let parts: Vec<&Row> = minute_rows
                    .iter()
                    .filter(|m| {
                        m.bucket.div_euclid(*width) * width == r.bucket
                            && m.route == r.route
                            && m.version == r.version
                            && m.status == r.status
                    })
                    .collect();
                assert!(!parts.is_empty());
                for (k, col) in SUMS.iter().enumerate() {
                    let sum: i64 = parts.iter().map(|m| m.sums[k]).sum();
                    assert_eq!(r.sums[k], sum, "{name} {table} {col} at {}", r.bucket);
                }
                assert_eq!(r.package, parts[0].package);
                for (k, col) in SKETCHES.iter().enumerate() {
                    let m = merged(parts.iter().copied(), k);
                    assert_eq!(r.sketches[k].count(), m.count(), "{name} {table} {col}");
                    for q in [0.5, 0.95, 0.99] {
                        assert_eq!(
                            r.sketches[k].quantile(q),
                            m.quantile(q),
                            "{name} {table} {col} p{q}"
                        );
                    }
                }
            }
            let total: i64 = rolled.iter().map(|r| r.sums[0]).sum();
            assert_eq!(total, expected, "{name} {table}");
        }
    }
}

#[tokio::test]
async fn retention_deletes_by_resolution() {
    for b in common::backends().await {
        let name = b.name;
        let hub = b.hub.clone();
        let group = hub
            .get_runtime_group(&Actor::console(), "default")
            .await
            .unwrap()
            .id;
        let g: Arc<str> = Arc::from("default");
        let now = Utc::now();
        let m = now.timestamp().div_euclid(60) * 60;
        let (six_days, three_days, hour) = (m - 6 * 86_400, m - 3 * 86_400, m - 3_600);
        let rec = Recorder::new(RecorderOptions::new("node"));
        let mut rng = Rng(9);
        for t in [six_days, three_days, hour] {
            record(&rec, &g, None, t, 200, 2, &mut rng);
        }
        let batch = sealed(&rec);
        hub.ingest_analytics(group, "node", &batch).await.unwrap();
        let day = |t: i64| t.div_euclid(86_400) * 86_400;

        let purged = hub
            .purge_analytics(
                now,
                &Retention {
                    minutes_days: 1,
                    hours_days: 4,
                    days_days: 5,
                },
            )
            .await
            .unwrap();
        let buckets = |rows: Vec<Row>| rows.iter().map(|r| r.bucket).collect::<Vec<_>>();
        assert_eq!(
            buckets(rows(&hub, "analytics_minute").await),
            [hour],
            "{name}"
        );
        let mut hours = vec![
            three_days.div_euclid(3600) * 3600,
            hour.div_euclid(3600) * 3600,
        ];
        hours.dedup();
        assert_eq!(buckets(rows(&hub, "analytics_hour").await), hours, "{name}");
        let mut days = vec![day(three_days), day(hour)];
        days.dedup();
        assert_eq!(buckets(rows(&hub, "analytics_day").await), days, "{name}");
        assert_eq!(purged.minute_rows, 2, "{name}: {purged:?}");
        assert_eq!(purged.hour_rows, 1, "{name}: {purged:?}");
        assert_eq!(purged.day_rows, 1, "{name}: {purged:?}");
        assert_eq!(purged.batch_ids, 0);
        assert_eq!(batch_ids(&hub).await, 1);

        // batch ids go after two days
        let later = hub
            .purge_analytics(now + chrono::Duration::days(3), &Retention::default())
            .await
            .unwrap();
        assert_eq!(later.batch_ids, 1, "{name}");
        assert_eq!(batch_ids(&hub).await, 0, "{name}");
        assert_eq!(later.hour_rows, 0, "{name}: {later:?}");
    }
}

/// Stores through the hub but reports the first `lose` deliveries as failed (the
/// answer lost on the way back), so the recorder retries batches already counted.
struct LostAnswers {
    inner: server::control::HubTransport,
    lose: std::sync::Mutex<usize>,
}

#[async_trait::async_trait]
impl server::gateway::recorder::Transport for LostAnswers {
    async fn send(
        &self,
        batch: &Batch,
    ) -> Result<IngestOutcome, server::gateway::recorder::SendError> {
        let out = self.inner.send(batch).await?;
        let mut lose = self.lose.lock().unwrap();
        if *lose > 0 {
            *lose -= 1;
            return Err(server::gateway::recorder::SendError::Retry(
                "answer lost".into(),
            ));
        }
        Ok(out)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retried_and_concurrent_deliveries_count_once() {
    for b in common::backends().await {
        let name = b.name;
        let hub = b.hub.clone();
        let group = hub
            .get_runtime_group(&Actor::console(), "default")
            .await
            .unwrap()
            .id;
        let g: Arc<str> = Arc::from("default");
        let mut rng = Rng(21);

        // The recorder retries a batch whose answer was lost: counted once.
        let mut opts = RecorderOptions::new("node");
        opts.flush_interval = Duration::from_millis(100);
        let rec = Recorder::new(opts);
        let transport = Arc::new(LostAnswers {
            inner: server::control::HubTransport::new(hub.clone()),
            lose: std::sync::Mutex::new(2),
        });
        let tasks = rec.start(transport);
        record(&rec, &g, None, now_minute() - 60, 200, 17, &mut rng);
        let t0 = Instant::now();
        while rec.delivered_batches() < 1 {
            assert!(t0.elapsed() < Duration::from_secs(10), "{name}: delivered");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(tasks.shutdown().await, 0);
        assert_eq!(total_requests(&hub, "analytics_minute").await, 17, "{name}");
        assert_eq!(total_requests(&hub, "analytics_day").await, 17, "{name}");
        assert_eq!(batch_ids(&hub).await, 1, "{name}");

        // The same batch delivered by two control planes at once: counted once.
        let rec = Recorder::new(RecorderOptions::new("node"));
        record(&rec, &g, None, now_minute() - 60, 200, 5, &mut rng);
        let batch = sealed(&rec);
        let (a, b2) = tokio::join!(
            hub.ingest_analytics(group, "node", &batch),
            hub.ingest_analytics(group, "node", &batch)
        );
        let mut outcomes = [a.unwrap(), b2.unwrap()];
        outcomes.sort_by_key(|o| matches!(o, IngestOutcome::Duplicate));
        assert_eq!(
            outcomes,
            [IngestOutcome::Stored { rows: 1 }, IngestOutcome::Duplicate],
            "{name}"
        );
        assert_eq!(total_requests(&hub, "analytics_minute").await, 22, "{name}");
        assert_eq!(total_requests(&hub, "analytics_hour").await, 22, "{name}");
    }
}
