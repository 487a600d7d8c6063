//! Analytics per consumer and per error kind (SQLite, and PostgreSQL when
//! PORTICO_TEST_POSTGRES_URL is set): a data plane may name only its own group's
//! consumers (another group's or a made-up one is a 422 naming `rows[i].consumer_id`,
//! over HTTP and in-process, and nothing is stored), error kinds must have their form,
//! a batch of a node that predates both fields still counts; grouping and filtering
//! by consumer and by error kind count exactly, with hour and day rows the sums of
//! their minutes; the CSV export carries both; rows stored before the migration
//! count as anonymous requests without an error kind.
//!
//! Consumers reach `snapshot_ids` from `Snapshot.consumers`; until the consumer store
//! fills that (branch h-cp), these tests record the consumer ids there directly.

mod common;

use std::collections::BTreeMap;

use app::model::analytics::*;
use app::model::*;
use app::ports::{Consumers, DataPlanes, RuntimeGroups};
use base64::Engine as _;
use chrono::{DateTime, TimeZone, Utc};
use reqwest::StatusCode;
use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::Value;
use server::analytics::query;
use server::analytics::sketch::Sketch;
use server::gateway::recorder::{Batch, BatchRow, IngestOutcome};
use server::hub::Hub;
use uuid::Uuid;

fn b64(s: &Sketch) -> String {
    base64::engine::general_purpose::STANDARD.encode(s.encode())
}

/// A row of `n` requests of 1 ms each, of no route.
fn row(bucket: i64, status: u16, n: u64, consumer: Option<Uuid>, error: Option<&str>) -> BatchRow {
    let mut s = Sketch::new();
    s.add_n(1_000, n);
    BatchRow {
        bucket,
        package_id: None,
        version_id: None,
        route_id: None,
        status,
        requests: n,
        request_bytes: n * 10,
        response_bytes: n * 100,
        total_latency_us: n * 1_000,
        upstream_latency_us: n * 1_000,
        upstream_requests: n,
        gateway_latency_us: n * 1_000,
        total_sketch: b64(&s),
        upstream_sketch: b64(&s),
        gateway_sketch: b64(&s),
        request_size_sketch: b64(&s),
        response_size_sketch: b64(&s),
        consumer_id: consumer.map(|c| c.to_string()),
        error: error.map(str::to_string),
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

async fn group_id(hub: &Hub, name: &str) -> Uuid {
    hub.get_runtime_group(&Actor::console(), name)
        .await
        .unwrap()
        .id
}

async fn add_group(hub: &Hub, name: &str) -> Uuid {
    hub.create_runtime_group(
        &Actor::console(),
        NewRuntimeGroup {
            name: name.into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id
}

/// Records `consumer` as one of `group`'s snapshot consumers (what the snapshot does
/// once `Snapshot.consumers` is filled from the consumer store).
async fn snapshot_consumer(db: &DatabaseConnection, group: Uuid, consumer: Uuid) {
    let insert = Query::insert()
        .into_table(Alias::new("snapshot_ids"))
        .columns(["runtime_group_id", "id", "kind", "parent_id"].map(Alias::new))
        .values_panic([
            group.into(),
            consumer.into(),
            "consumer".into(),
            Uuid::nil().into(),
        ])
        .to_owned();
    db.execute(db.get_database_backend().build(&insert))
        .await
        .unwrap();
}

async fn sum_requests(db: &DatabaseConnection, table: &str) -> i64 {
    db.query_all(Statement::from_string(
        db.get_database_backend(),
        format!("SELECT requests FROM {table}"),
    ))
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get::<i64>("", "requests").unwrap())
    .sum()
}

/// Sums per (consumer, error kind) of a table: requests, bytes, latencies.
async fn per_consumer_kind(
    db: &DatabaseConnection,
    table: &str,
) -> BTreeMap<(Uuid, String), [i64; 5]> {
    let rows = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT consumer_id, error_kind, requests, request_bytes, response_bytes, \
                 total_latency_us, upstream_requests FROM {table}"
            ),
        ))
        .await
        .unwrap();
    let mut out: BTreeMap<(Uuid, String), [i64; 5]> = BTreeMap::new();
    for r in rows {
        let key = (
            r.try_get::<Uuid>("", "consumer_id").unwrap(),
            r.try_get::<String>("", "error_kind").unwrap(),
        );
        let v = out.entry(key).or_default();
        for (k, c) in [
            "requests",
            "request_bytes",
            "response_bytes",
            "total_latency_us",
            "upstream_requests",
        ]
        .iter()
        .enumerate()
        {
            v[k] += r.try_get::<i64>("", c).unwrap();
        }
    }
    out
}

fn node_client(token: &str, group: &str) -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("authorization", format!("Bearer {token}").parse().unwrap());
    h.insert("x-portico-runtime-group", group.parse().unwrap());
    h.insert(
        "x-portico-node-id",
        Uuid::new_v4().to_string().parse().unwrap(),
    );
    h.insert("x-portico-node-hostname", "edge".parse().unwrap());
    reqwest::Client::builder()
        .default_headers(h)
        .build()
        .unwrap()
}

fn minute() -> i64 {
    Utc::now().timestamp().div_euclid(60) * 60 - 60
}

#[tokio::test]
async fn rows_may_name_only_the_groups_consumers_and_error_kinds_of_their_form() {
    for b in common::backends().await {
        let name = b.name;
        let s = common::start(b).await;
        let hub = s.hub.clone();
        let db = hub.db().clone();
        let default = group_id(&hub, "default").await;
        let staging = add_group(&hub, "staging").await;
        let alice = Uuid::new_v4();
        let carol = Uuid::new_v4();
        snapshot_consumer(&db, default, alice).await;
        snapshot_consumer(&db, staging, carol).await;
        let t = minute();

        let good = batch(
            "default",
            vec![
                row(t, 200, 3, Some(alice), None),
                row(t, 429, 2, Some(alice), Some("rate_limited")),
                row(t, 401, 1, None, Some("unauthorized")),
            ],
        );
        let out = hub.ingest_analytics(default, "n", &good).await.unwrap();
        assert_eq!(out, IngestOutcome::Stored { rows: 3 }, "{name}");
        assert_eq!(sum_requests(&db, "analytics_minute").await, 6, "{name}");

        // Refused in-process, each naming its row's field, nothing stored.
        let cases: Vec<(BatchRow, &str)> = vec![
            (row(t, 200, 1, Some(carol), None), "rows[1].consumer_id"),
            (
                row(t, 200, 1, Some(Uuid::new_v4()), None),
                "rows[1].consumer_id",
            ),
            (
                BatchRow {
                    consumer_id: Some("alice".into()),
                    ..row(t, 200, 1, None, None)
                },
                "rows[1].consumer_id",
            ),
            (row(t, 429, 1, None, Some("Rate Limited")), "rows[1].error"),
            (row(t, 429, 1, None, Some("rate-limited")), "rows[1].error"),
            (
                row(t, 429, 1, None, Some(&"x".repeat(MAX_ERROR_KIND_LEN + 1))),
                "rows[1].error",
            ),
        ];
        for (bad, field) in cases {
            let b = batch("default", vec![row(t, 200, 1, Some(alice), None), bad]);
            let e = hub.ingest_analytics(default, "n", &b).await.unwrap_err();
            assert_eq!(e.field(), Some(field), "{name}: {e}");
            assert!(matches!(e, app::error::AppError::Validation { .. }), "{e}");
        }
        assert_eq!(sum_requests(&db, "analytics_minute").await, 6, "{name}");

        // Over HTTP: 422 naming the field; a node's batch without the new fields counts.
        let token = hub
            .create_data_plane_token(
                &Actor::console(),
                "default",
                NewDataPlaneToken {
                    name: "edge".into(),
                },
            )
            .await
            .unwrap()
            .secret;
        let dp = node_client(&token, "default");
        let url = s.url("/dp/v1/analytics");
        let other = batch("default", vec![row(t, 200, 1, Some(carol), None)]);
        let r = dp.post(&url).json(&other).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["field"], "rows[0].consumer_id", "{name}: {body}");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains(&carol.to_string()) && m.contains("\"default\"")),
            "{body}"
        );
        let mut old =
            serde_json::to_value(batch("default", vec![row(t, 200, 4, None, None)])).unwrap();
        let r0 = old["rows"][0].as_object_mut().unwrap();
        assert!(!r0.contains_key("consumer_id") && !r0.contains_key("error"));
        let r = dp.post(&url).json(&old).send().await.unwrap();
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "{name}: {}",
            r.text().await.unwrap()
        );
        assert_eq!(sum_requests(&db, "analytics_minute").await, 10, "{name}");
        let by = per_consumer_kind(&db, "analytics_minute").await;
        assert_eq!(by[&(Uuid::nil(), String::new())][0], 4, "{name}");
        assert_eq!(by[&(alice, String::new())][0], 3, "{name}");
        assert_eq!(by[&(alice, "rate_limited".to_string())][0], 2, "{name}");
        assert_eq!(
            by[&(Uuid::nil(), "unauthorized".to_string())][0],
            1,
            "{name}"
        );
    }
}

/// The request count series of an answer by their group and then ids: (group id,
/// then id) → total.
fn totals(r: &AnalyticsResult) -> BTreeMap<(String, String), f64> {
    r.series
        .iter()
        .filter(|s| s.metric == Metric::RequestCount)
        .map(|s| {
            (
                (
                    s.group.as_ref().map(|g| g.id.clone()).unwrap_or_default(),
                    s.then.as_ref().map(|g| g.id.clone()).unwrap_or_default(),
                ),
                s.total.unwrap_or(f64::NAN),
            )
        })
        .collect()
}

#[tokio::test]
async fn group_by_consumer_and_error_kind_count_exactly_and_rollups_are_their_minutes() {
    for b in common::backends().await {
        let name = b.name;
        let s = common::start(b).await;
        let hub = s.hub.clone();
        let db = hub.db().clone();
        let group = group_id(&hub, "default").await;
        // alice is a consumer of the store (labelled by her username); bob's id is
        // no consumer any more (labelled as deleted)
        let alice = hub
            .create_consumer(
                &Actor::console(),
                "default",
                ConsumerInput {
                    username: Some("alice".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .id;
        let bob = Uuid::new_v4();
        snapshot_consumer(&db, group, alice).await;
        snapshot_consumer(&db, group, bob).await;
        // minutes on both sides of an hour edge, two hours ago at most
        let hour = Utc::now().timestamp().div_euclid(3600) * 3600 - 3600;
        let minutes = [hour - 120, hour - 60, hour, hour + 60, hour + 120];
        // (consumer, status, error, requests) per minute, sent in two batches each
        let plan: [(Option<Uuid>, u16, Option<&str>, u64); 6] = [
            (Some(alice), 200, None, 5),
            (Some(alice), 429, Some("rate_limited"), 3),
            (Some(bob), 200, None, 2),
            (Some(bob), 403, Some("forbidden"), 1),
            (None, 401, Some("unauthorized"), 4),
            (None, 413, Some("payload_too_large"), 1),
        ];
        for &m in &minutes {
            for half in [&plan[..3], &plan[3..]] {
                let rows = half
                    .iter()
                    .map(|&(c, st, e, n)| row(m, st, n, c, e))
                    .collect();
                hub.ingest_analytics(group, "n", &batch("default", rows))
                    .await
                    .unwrap();
            }
            // the same key again in another batch adds up
            hub.ingest_analytics(
                group,
                "n",
                &batch(
                    "default",
                    vec![row(m, 429, 1, Some(alice), Some("rate_limited"))],
                ),
            )
            .await
            .unwrap();
        }
        let k = minutes.len() as f64;

        // Hour and day rows are exactly the sums of their minutes, per key.
        let by_minute = per_consumer_kind(&db, "analytics_minute").await;
        assert_eq!(by_minute.len(), 6, "{name}");
        assert_eq!(
            per_consumer_kind(&db, "analytics_hour").await,
            by_minute,
            "{name}"
        );
        assert_eq!(
            per_consumer_kind(&db, "analytics_day").await,
            by_minute,
            "{name}"
        );

        let at = |secs: i64| -> DateTime<Utc> { Utc.timestamp_opt(secs, 0).single().unwrap() };
        let now = Utc::now();
        for g in [Granularity::Minute, Granularity::Hour, Granularity::Day] {
            let q = AnalyticsQuery {
                metrics: vec![Metric::RequestCount],
                group_by: Some(Dimension::Consumer),
                then_by: Some(Dimension::ErrorKind),
                time_frame: None,
                start: Some(at(hour
                    - if g == Granularity::Minute {
                        3 * 3_600
                    } else {
                        2 * 86_400
                    })),
                end: Some(at(hour
                    + if g == Granularity::Minute {
                        3 * 3_600
                    } else {
                        86_400
                    })),
                granularity: Some(g),
                ..Default::default()
            };
            q.validate().unwrap();
            let r = query::run(&db, &q, now).await.unwrap();
            let t = totals(&r);
            let a = alice.to_string();
            let b = bob.to_string();
            let nil = Uuid::nil().to_string();
            let want: BTreeMap<(String, String), f64> = [
                ((a.clone(), "none".to_string()), 5.0 * k),
                ((a.clone(), "rate_limited".to_string()), 4.0 * k),
                ((b.clone(), "none".to_string()), 2.0 * k),
                ((b.clone(), "forbidden".to_string()), 1.0 * k),
                ((nil.clone(), "unauthorized".to_string()), 4.0 * k),
                ((nil.clone(), "payload_too_large".to_string()), 1.0 * k),
            ]
            .into_iter()
            .collect();
            assert_eq!(t, want, "{name} {g:?}");
            let anon = r
                .series
                .iter()
                .find(|s| s.group.as_ref().unwrap().id == nil)
                .unwrap();
            assert_eq!(anon.group.as_ref().unwrap().label, query::ANONYMOUS);
            let ok = r
                .series
                .iter()
                .find(|s| s.then.as_ref().unwrap().id == "none")
                .unwrap();
            assert_eq!(ok.then.as_ref().unwrap().label, query::NO_ERROR);
            // a consumer is shown by its username; a deleted one as such
            let named = r
                .series
                .iter()
                .find(|s| s.group.as_ref().unwrap().id == a)
                .unwrap();
            assert_eq!(named.group.as_ref().unwrap().label, "alice");
            let gone = r
                .series
                .iter()
                .find(|s| s.group.as_ref().unwrap().id == bob.to_string())
                .unwrap();
            assert_eq!(gone.group.as_ref().unwrap().label, "(deleted)");

            // by error kind alone, and filtered
            let q = AnalyticsQuery {
                group_by: Some(Dimension::ErrorKind),
                then_by: None,
                ..q
            };
            let t = totals(&query::run(&db, &q, now).await.unwrap());
            assert_eq!(t[&("none".to_string(), String::new())], 7.0 * k, "{name}");
            assert_eq!(t[&("rate_limited".to_string(), String::new())], 4.0 * k);
            let q = AnalyticsQuery {
                group_by: Some(Dimension::StatusCode),
                filters: Filters {
                    consumers: vec![alice, Uuid::nil()],
                    error_kinds: vec!["rate_limited".into(), "unauthorized".into()],
                    ..Default::default()
                },
                ..q
            };
            let t = totals(&query::run(&db, &q, now).await.unwrap());
            let want: BTreeMap<(String, String), f64> = [
                (("429".to_string(), String::new()), 4.0 * k),
                (("401".to_string(), String::new()), 4.0 * k),
            ]
            .into_iter()
            .collect();
            assert_eq!(t, want, "{name} {g:?}");
            let q = AnalyticsQuery {
                filters: Filters {
                    error_kinds: vec![NO_ERROR_KIND.into()],
                    ..Default::default()
                },
                ..q
            };
            let t = totals(&query::run(&db, &q, now).await.unwrap());
            assert_eq!(t.values().sum::<f64>(), 7.0 * k, "{name} {g:?}");
        }

        // The CSV export carries both, as the explorer's link asks.
        let c = s.client_as("analyst@example.com", Role::Admin).await;
        let res = c
            .get(s.url(&format!(
                "/api/v1/analytics/export?metrics=request_count&group_by=error_kind\
                 &then_by=consumer&time_frame=7d&granularity=1d&consumer={alice}"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{name}");
        let csv = res.text().await.unwrap();
        let total = |kind: &str| -> f64 {
            // bucket_start,metric,unit,group,group_id,then,then_id,value
            csv.lines()
                .map(|l| l.split(',').collect::<Vec<_>>())
                .filter(|c| c[4] == kind && c[6] == alice.to_string())
                .map(|c| c[7].parse::<f64>().unwrap())
                .sum()
        };
        assert_eq!(total("rate_limited"), 4.0 * k, "{name}: {csv}");
        assert_eq!(total("none"), 5.0 * k, "{name}: {csv}");
        assert!(!csv.contains(&bob.to_string()), "{csv}");
        assert!(csv.contains(",(none),none,"), "{csv}");
        let res = c
            .get(s.url("/api/v1/analytics/export?error_kind=Rate%20Limited"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["field"], "error_kind", "{body}");
    }
}

/// Empty databases without migrations: a SQLite file, and a PostgreSQL database of
/// its own when PORTICO_TEST_POSTGRES_URL is set.
async fn bare_databases(dir: &std::path::Path) -> Vec<DatabaseConnection> {
    let url = server::db::default_sqlite_url(dir);
    let mut out = vec![Database::connect(url.as_str()).await.unwrap()];
    if let Ok(base) = std::env::var("PORTICO_TEST_POSTGRES_URL") {
        let name = format!("portico_test_{}", Uuid::new_v4().simple());
        let admin = Database::connect(base.as_str()).await.unwrap();
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        admin.close().await.ok();
        let mut url = url::Url::parse(&base).unwrap();
        url.set_path(&format!("/{name}"));
        out.push(Database::connect(url.as_str()).await.unwrap());
    }
    out
}

#[tokio::test]
async fn rows_stored_before_the_migration_count_as_anonymous_without_error_kind() {
    let dir = tempfile::tempdir().unwrap();
    for db in bare_databases(dir.path()).await {
        before_and_after_the_migration(&db).await;
    }
}

async fn before_and_after_the_migration(db: &DatabaseConnection) {
    let db = db.clone();
    let name = format!("{:?}", db.get_database_backend());
    use migration::MigratorTrait as _;
    migration::Migrator::up(&db, Some(7)).await.unwrap();
    let group = Uuid::new_v4();
    let hour = Utc::now().timestamp().div_euclid(3600) * 3600 - 3600;
    let mut s = Sketch::new();
    s.add_n(1_000, 7);
    for (table, bucket) in [
        ("analytics_minute", hour),
        ("analytics_hour", hour),
        ("analytics_day", hour.div_euclid(86_400) * 86_400),
    ] {
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new(table))
            .columns(
                [
                    "bucket",
                    "runtime_group_id",
                    "package_id",
                    "version_id",
                    "route_id",
                    "status",
                    "requests",
                    "total_sketch",
                    "upstream_sketch",
                    "gateway_sketch",
                    "request_size_sketch",
                    "response_size_sketch",
                ]
                .map(Alias::new),
            )
            .values_panic([
                bucket.into(),
                group.into(),
                Uuid::nil().into(),
                Uuid::nil().into(),
                Uuid::nil().into(),
                404.into(),
                7i64.into(),
                s.encode().into(),
                Sketch::new().encode().into(),
                s.encode().into(),
                s.encode().into(),
                s.encode().into(),
            ]);
        db.execute(db.get_database_backend().build(&insert))
            .await
            .unwrap();
    }
    migration::Migrator::up(&db, None).await.unwrap();
    let by = per_consumer_kind(&db, "analytics_minute").await;
    assert_eq!(by[&(Uuid::nil(), String::new())][0], 7);
    for g in [Granularity::Minute, Granularity::Hour, Granularity::Day] {
        let q = AnalyticsQuery {
            metrics: vec![Metric::RequestCount, Metric::ResponseLatencyP50],
            group_by: Some(Dimension::Consumer),
            then_by: Some(Dimension::ErrorKind),
            time_frame: Some(TimeFrame::D7),
            granularity: Some(g),
            ..Default::default()
        };
        let r = query::run(&db, &q, Utc::now()).await.unwrap();
        let t = totals(&r);
        assert_eq!(
            t[&(Uuid::nil().to_string(), NO_ERROR_KIND.to_string())],
            7.0,
            "{name} {g:?}: {t:?}"
        );
    }
    // down and up again keep the rows without consumer or error kind
    migration::Migrator::down(&db, Some(1)).await.unwrap();
    migration::Migrator::up(&db, None).await.unwrap();
    assert_eq!(sum_requests(&db, "analytics_day").await, 7, "{name}");
}
