//! Data planes are trusted for their own runtime group only (SQLite, and PostgreSQL
//! when PORTICO_TEST_POSTGRES_URL is set): analytics rows may name only the packages,
//! versions and routes of the group's snapshots (a route deleted after it was served
//! still counts for a while; made-up ids, another group's and mismatched ones are
//! refused with a 422 naming the row, over HTTP and in-process, and the node drops
//! such a batch); sums and sketch counts saturate; a node id is per group; what a
//! node says about itself is cut and cleaned.

mod common;

use std::net::SocketAddr;

use app::model::*;
use app::ports::{DataPlanes, GatewayConfig, Packages, RuntimeGroups, Versions};
use base64::Engine as _;
use chrono::Utc;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement};
use serde_json::{json, Value};
use server::analytics::sketch::Sketch;
use server::config::Retention;
use server::gateway::recorder::{Batch, BatchRow, IngestOutcome, SendError, Transport};
use server::hub::Hub;
use uuid::Uuid;

/// A package with one version in `group` (enabled implementation) and a route per path.
struct Service {
    key: String,
    package: Uuid,
    version: Uuid,
    routes: Vec<Uuid>,
}

const NOWHERE: &str = "127.0.0.1:9";

async fn service(hub: &Hub, group: &str, package: &str, paths: &[&str]) -> Service {
    let admin = Actor::console();
    let pkg = hub
        .create_package(
            &admin,
            NewServicePackage {
                display_name: package.into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let version = add_version(hub, &pkg.key, group, "v1", paths).await;
    Service {
        key: pkg.key,
        package: pkg.id,
        version: version.0,
        routes: version.1,
    }
}

async fn add_version(
    hub: &Hub,
    key: &str,
    group: &str,
    name: &str,
    paths: &[&str],
) -> (Uuid, Vec<Uuid>) {
    let admin = Actor::console();
    let group = hub.get_runtime_group(&admin, group).await.unwrap();
    let v = hub
        .create_version(
            &admin,
            key,
            NewServiceVersion {
                name: name.into(),
                runtime_group_id: group.id,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let up: SocketAddr = NOWHERE.parse().unwrap();
    hub.put_implementation(
        &admin,
        key,
        v.id,
        ImplementationInput {
            url: Some(format!("http://{up}")),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let mut routes = Vec::new();
    for p in paths {
        let r = hub
            .create_route(
                &admin,
                key,
                v.id,
                RouteInput {
                    paths: vec![(*p).to_string()],
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        routes.push(r.id);
    }
    (v.id, routes)
}

async fn group_id(hub: &Hub, name: &str) -> Uuid {
    hub.get_runtime_group(&Actor::console(), name)
        .await
        .unwrap()
        .id
}

fn b64(s: &Sketch) -> String {
    base64::engine::general_purpose::STANDARD.encode(s.encode())
}

/// A row of `n` requests of 1 ms each (every sum `n`, or `i64::MAX` when `n` is).
fn row(bucket: i64, ids: Option<(Uuid, Uuid, Uuid)>, status: u16, n: u64) -> BatchRow {
    let mut s = Sketch::new();
    s.add_n(1_000, n);
    let sum = if n == i64::MAX as u64 { n } else { n * 1_000 };
    BatchRow {
        bucket,
        package_id: ids.map(|i| i.0.to_string()),
        version_id: ids.map(|i| i.1.to_string()),
        route_id: ids.map(|i| i.2.to_string()),
        status,
        requests: n,
        request_bytes: sum,
        response_bytes: sum,
        total_latency_us: sum,
        upstream_latency_us: sum,
        upstream_requests: n,
        gateway_latency_us: sum,
        total_sketch: b64(&s),
        upstream_sketch: b64(&s),
        gateway_sketch: b64(&s),
        request_size_sketch: b64(&s),
        response_size_sketch: b64(&s),
        consumer_id: None,
        error: None,
    }
}

fn batch(group: &str, rows: Vec<BatchRow>) -> Batch {
    Batch {
        id: Uuid::new_v4(),
        node_id: "node".into(),
        runtime_group: group.into(),
        rows,
    }
}

fn minute() -> i64 {
    Utc::now().timestamp().div_euclid(60) * 60 - 60
}

async fn minute_requests(hub: &Hub) -> i64 {
    let db = hub.db();
    db.query_all(Statement::from_string(
        db.get_database_backend(),
        "SELECT requests FROM analytics_minute".to_string(),
    ))
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get::<i64>("", "requests").unwrap())
    .sum()
}

fn node_client(token: &str, group: &str, node: Uuid, hostname: &str) -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("authorization", format!("Bearer {token}").parse().unwrap());
    h.insert("x-portico-runtime-group", group.parse().unwrap());
    h.insert("x-portico-node-id", node.to_string().parse().unwrap());
    h.insert("x-portico-node-hostname", hostname.parse().unwrap());
    reqwest::Client::builder()
        .default_headers(h)
        .build()
        .unwrap()
}

async fn token(hub: &Hub, group: &str) -> String {
    hub.create_data_plane_token(
        &Actor::console(),
        group,
        NewDataPlaneToken {
            name: "edge".into(),
        },
    )
    .await
    .unwrap()
    .secret
}

async fn add_group(hub: &Hub, name: &str) {
    hub.create_runtime_group(
        &Actor::console(),
        NewRuntimeGroup {
            name: name.into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
}

/// A change that makes a good batch bad.
type Mutation = Box<dyn Fn(&mut Value)>;

#[tokio::test]
async fn rows_may_name_only_the_packages_versions_and_routes_of_the_groups_snapshots() {
    for b in common::backends().await {
        let name = b.name;
        let s = common::start(b).await;
        let hub = s.hub.clone();
        let orders = service(&hub, "default", "Orders", &["/orders", "/carts"]).await;
        let (v2, v2_routes) = add_version(&hub, &orders.key, "default", "v2", &["/v2"]).await;
        add_group(&hub, "staging").await;
        let billing = service(&hub, "staging", "Billing", &["/billing"]).await;
        let dp_token = token(&hub, "default").await;
        let dp = node_client(&dp_token, "default", Uuid::new_v4(), "edge");
        let url = s.url("/dp/v1/analytics");
        let t = minute();
        let (p, v) = (orders.package, orders.version);
        let good = batch(
            "default",
            vec![
                row(t, Some((p, v, orders.routes[0])), 200, 3),
                row(t, Some((p, v, orders.routes[1])), 200, 2),
                row(t, None, 404, 1),
            ],
        );
        let r = dp.post(&url).json(&good).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{name}");
        assert_eq!(minute_requests(&hub).await, 6, "{name}");

        let good = serde_json::to_value(&good).unwrap();
        let id = |u: Uuid| json!(u.to_string());
        let (bp, bv, br) = (billing.package, billing.version, billing.routes[0]);
        let r1 = orders.routes[0];
        let made_up = Uuid::new_v4();
        let cases: Vec<(Mutation, &str)> = vec![
            // an id nobody knows
            (
                Box::new(move |v| v["rows"][1]["route_id"] = id(made_up)),
                "rows[1].route_id",
            ),
            // another group's service, whole
            (
                Box::new(move |v| {
                    v["rows"][0]["package_id"] = id(bp);
                    v["rows"][0]["version_id"] = id(bv);
                    v["rows"][0]["route_id"] = id(br);
                }),
                "rows[0].version_id",
            ),
            // this group's version, another group's route
            (
                Box::new(move |v| v["rows"][0]["route_id"] = id(br)),
                "rows[0].route_id",
            ),
            // a version with another package
            (
                Box::new(move |v| v["rows"][0]["package_id"] = id(bp)),
                "rows[0].package_id",
            ),
            // a route of another version of the group
            (
                Box::new(move |v| v["rows"][1]["route_id"] = id(v2_routes[0])),
                "rows[1].route_id",
            ),
            // a route id given as the version
            (
                Box::new(move |v| v["rows"][0]["version_id"] = id(r1)),
                "rows[0].version_id",
            ),
            // a package id given as the version
            (
                Box::new(move |v| v["rows"][0]["version_id"] = id(p)),
                "rows[0].version_id",
            ),
            // part of the ids
            (
                Box::new(|v| v["rows"][0]["package_id"] = Value::Null),
                "rows[0].package_id",
            ),
            (
                Box::new(move |v| v["rows"][2]["route_id"] = id(r1)),
                "rows[2].package_id",
            ),
            (
                Box::new(move |v| {
                    v["rows"][2]["package_id"] = id(p);
                    v["rows"][2]["version_id"] = id(v2);
                }),
                "rows[2].route_id",
            ),
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
        assert_eq!(minute_requests(&hub).await, 6, "{name}: nothing stored");

        // The other group's own batch is fine (its token, its ids).
        let staging = node_client(
            &token(&hub, "staging").await,
            "staging",
            Uuid::new_v4(),
            "e",
        );
        let theirs = batch("staging", vec![row(t, Some((bp, bv, br)), 200, 4)]);
        let r = staging.post(&url).json(&theirs).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{name}");
        assert_eq!(minute_requests(&hub).await, 10, "{name}");

        // In-process (embedded data planes): the same refusal, and the recorder
        // drops the batch instead of retrying it.
        let foreign = batch("default", vec![row(t, Some((bp, bv, br)), 200, 1)]);
        let sent = server::control::HubTransport::new(hub.clone())
            .send(&foreign)
            .await;
        match sent {
            Err(SendError::Reject(m)) => assert!(m.contains("rows[0].version_id"), "{m}"),
            other => panic!("{name}: {other:?}"),
        }
        // A standalone node's transport: a 422 is not worth retrying either.
        let opts = server::gateway::node::NodeOptions {
            control_plane: s.base.clone(),
            runtime_group: "default".into(),
            token: Some(dp_token.clone()),
            cache_dir: std::env::temp_dir(),
            limits: Default::default(),
        };
        let http =
            server::gateway::node::HttpTransport::new(&opts, &Uuid::new_v4().to_string(), "edge")
                .unwrap();
        match http.send(&foreign).await {
            Err(SendError::Reject(m)) => assert!(m.contains("422"), "{m}"),
            other => panic!("{name}: {other:?}"),
        }
        assert_eq!(minute_requests(&hub).await, 10, "{name}");
    }
}

async fn retired(hub: &Hub) -> usize {
    server::store::snapshot_id::Entity::find()
        .filter(server::store::snapshot_id::Column::RetiredAt.is_not_null())
        .all(hub.db())
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn rows_of_a_route_deleted_after_it_was_served_still_count() {
    for b in common::backends().await {
        let name = b.name;
        let hub = b.hub.clone();
        let admin = Actor::console();
        let group = group_id(&hub, "default").await;
        let orders = service(&hub, "default", "Orders", &["/orders", "/carts"]).await;
        let (p, v) = (orders.package, orders.version);
        let (r1, r2) = (orders.routes[0], orders.routes[1]);
        // a data plane takes the config, serves /orders, then the route is deleted
        // and the data plane takes the next config before its batch arrives
        hub.snapshot(group).await.unwrap();
        let t = minute();
        let served = batch("default", vec![row(t, Some((p, v, r1)), 200, 5)]);
        hub.delete_route(&admin, &orders.key, v, r1).await.unwrap();
        hub.snapshot(group).await.unwrap();
        assert_eq!(retired(&hub).await, 1, "{name}");
        assert_eq!(
            hub.ingest_analytics(group, "node", &served).await.unwrap(),
            IngestOutcome::Stored { rows: 1 },
            "{name}"
        );
        // ... also when nobody built the snapshot without it yet
        let served = batch("default", vec![row(t, Some((p, v, r2)), 200, 2)]);
        hub.delete_route(&admin, &orders.key, v, r2).await.unwrap();
        assert_eq!(
            hub.ingest_analytics(group, "node", &served).await.unwrap(),
            IngestOutcome::Stored { rows: 1 },
            "{name}"
        );
        assert_eq!(minute_requests(&hub).await, 7, "{name}");

        // A route that no snapshot ever held cannot have been served.
        let r3 = hub
            .create_route(
                &admin,
                &orders.key,
                v,
                RouteInput {
                    paths: vec!["/never".into()],
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .id;
        hub.delete_route(&admin, &orders.key, v, r3).await.unwrap();
        let e = hub
            .ingest_analytics(
                group,
                "node",
                &batch("default", vec![row(t, Some((p, v, r3)), 200, 1)]),
            )
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("rows[0].route_id"), "{name}: {e}");

        // Retired longer ago than the minute retention: refused, then purged.
        let long_ago = Utc::now() - chrono::Duration::days(8);
        server::store::snapshot_id::Entity::update_many()
            .col_expr(
                server::store::snapshot_id::Column::RetiredAt,
                sea_orm::sea_query::Expr::value(long_ago),
            )
            .filter(server::store::snapshot_id::Column::RetiredAt.is_not_null())
            .exec(hub.db())
            .await
            .unwrap();
        let e = hub
            .ingest_analytics(
                group,
                "node",
                &batch("default", vec![row(t, Some((p, v, r1)), 200, 1)]),
            )
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("rows[0].route_id"), "{name}: {e}");
        assert_eq!(retired(&hub).await, 2, "{name}");
        hub.purge_analytics(Utc::now(), &Retention::default())
            .await
            .unwrap();
        assert_eq!(retired(&hub).await, 0, "{name}");
        assert_eq!(minute_requests(&hub).await, 7, "{name}");
    }
}

#[tokio::test]
async fn sums_and_sketch_counts_saturate_across_batches() {
    for b in common::backends().await {
        let name = b.name;
        let hub = b.hub.clone();
        let group = group_id(&hub, "default").await;
        let orders = service(&hub, "default", "Orders", &["/orders"]).await;
        let ids = Some((orders.package, orders.version, orders.routes[0]));
        let t = minute();
        let max = i64::MAX as u64;
        for k in 0..3 {
            // two rows of one key in a batch, and three batches on top of each other
            let b = batch(
                "default",
                vec![row(t, ids, 200, max), row(t, ids, 200, max)],
            );
            assert_eq!(
                hub.ingest_analytics(group, "node", &b).await.unwrap(),
                IngestOutcome::Stored { rows: 2 },
                "{name}: batch {k}"
            );
        }
        let db = hub.db();
        for table in ["analytics_minute", "analytics_hour", "analytics_day"] {
            let rows = db
                .query_all(Statement::from_string(
                    db.get_database_backend(),
                    format!("SELECT * FROM {table}"),
                ))
                .await
                .unwrap();
            assert_eq!(rows.len(), 1, "{name} {table}");
            for col in [
                "requests",
                "request_bytes",
                "response_bytes",
                "total_latency_us",
                "upstream_latency_us",
                "upstream_requests",
                "gateway_latency_us",
            ] {
                assert_eq!(
                    rows[0].try_get::<i64>("", col).unwrap(),
                    i64::MAX,
                    "{name} {table} {col}"
                );
            }
            let sketch: Vec<u8> = rows[0].try_get("", "total_sketch").unwrap();
            let sketch = Sketch::decode(&sketch).unwrap();
            assert_eq!(sketch.count(), u64::MAX, "{name} {table}");
            let median = sketch.quantile(0.5).unwrap();
            assert!((median - 1000.0).abs() <= 10.0, "{name} {table}: {median}");
        }
        // and the queries over them add without overflowing
        let r = hub
            .analytics_summary_at(
                &Actor::console(),
                analytics::Filters::default(),
                analytics::TimeFrame::H1,
                Utc::now(),
            )
            .await
            .unwrap();
        assert_eq!(r.current.requests, i64::MAX as u64, "{name}");
    }
}

async fn nodes(hub: &Hub, group: &str) -> Vec<DataPlaneNode> {
    hub.group_gateway(&Actor::console(), group)
        .await
        .unwrap()
        .nodes
}

#[tokio::test]
async fn a_node_id_sent_with_another_groups_token_is_another_node() {
    for b in common::backends().await {
        let name = b.name;
        let s = common::start(b).await;
        let hub = s.hub.clone();
        add_group(&hub, "staging").await;
        let node = Uuid::new_v4();
        let ours = node_client(&token(&hub, "default").await, "default", node, "edge-a");
        let theirs = node_client(&token(&hub, "staging").await, "staging", node, "intruder");
        let poll = s.url("/dp/v1/config?after=0&wait_ms=0");
        assert_eq!(ours.get(&poll).send().await.unwrap().status(), 200);
        assert_eq!(theirs.get(&poll).send().await.unwrap().status(), 200);
        let r = theirs
            .post(s.url("/dp/v1/report"))
            .json(&json!({"config_version": 1, "error": "staging's problem"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{name}");

        let default = nodes(&hub, "default").await;
        assert_eq!(default.len(), 1, "{name}: {default:?}");
        assert_eq!(default[0].id, node);
        assert_eq!(default[0].hostname, "edge-a", "{name}");
        assert_eq!(default[0].last_error, None, "{name}");
        let staging = nodes(&hub, "staging").await;
        assert_eq!(staging.len(), 1, "{name}: {staging:?}");
        assert_eq!(staging[0].hostname, "intruder");
        assert!(staging[0].last_error.is_some());
        // polling again keeps them apart
        assert_eq!(ours.get(&poll).send().await.unwrap().status(), 200);
        assert_eq!(nodes(&hub, "staging").await.len(), 1, "{name}");
        assert_eq!(nodes(&hub, "default").await.len(), 1, "{name}");
    }
}

#[tokio::test]
async fn what_a_node_says_about_itself_is_cut_and_cleaned() {
    let s = common::start(common::sqlite().await).await;
    let hub = s.hub.clone();
    let dp = node_client(
        &token(&hub, "default").await,
        "default",
        Uuid::new_v4(),
        "edge\tone",
    );
    let error = format!(
        "bad\u{1b}[31m red\r\n2026-12-07T00:00:00Z INFO forged log line\u{202e}txt.exe\u{0}{}",
        "x".repeat(10_000)
    );
    let r = dp
        .post(s.url("/dp/v1/report"))
        .json(&json!({"config_version": 3, "error": error}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let n = &nodes(&hub, "default").await[0];
    assert_eq!(n.hostname, "edge one");
    let e = n.last_error.clone().unwrap();
    assert!(
        e.starts_with("config version 3 refused: bad [31m red  2026-12-07T00:00:00Z INFO forged log line txt.exe xxx"),
        "{e:?}"
    );
    assert!(
        !e.chars().any(|c| c.is_control() || c == '\u{202e}'),
        "{e:?}"
    );
    assert_eq!(e.chars().count(), 2_000);
}
