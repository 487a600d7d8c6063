//! The gateway's control plane over real HTTP, on SQLite and PostgreSQL: implementation
//! and routes over REST (validation naming fields, nothing stored on refusal, names
//! unique per group), config versions, data plane tokens (hashed, revocable) and the
//! `/dp/v1` sync API (long poll, report, nodes).

mod common;

use std::time::{Duration, Instant};

use common::portal::{package_with_v1, send};
use reqwest::{Method as M, StatusCode};
use sea_orm::{EntityTrait, QueryFilter};
use serde_json::{json, Value};

fn impl_url(key: &str, v: &str) -> String {
    format!("/api/v1/service-packages/{key}/versions/{v}/implementation")
}

fn routes_url(key: &str, v: &str) -> String {
    format!("/api/v1/service-packages/{key}/versions/{v}/routes")
}

async fn group_version(s: &common::TestServer) -> u64 {
    let (_, g) = send(
        &s.client,
        M::GET,
        s.url("/api/v1/runtime-groups/default"),
        None,
    )
    .await;
    g["config_version"].as_u64().expect("config_version")
}

#[tokio::test]
async fn implementation_and_routes_over_rest() {
    for b in common::backends().await {
        let name = b.name;
        let s = common::start(b).await;
        let c = &s.client;
        let v = package_with_v1(&s, "Orders", "orders").await;

        // Implementation: URL form, defaults, then separate fields.
        let before = group_version(&s).await;
        let (st, i) = send(
            c,
            M::PUT,
            s.url(&impl_url("orders", &v)),
            Some(json!({"url": "http://Orders.internal:8080/api"})),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{name}: {i}");
        assert_eq!(i["host"], "orders.internal");
        assert_eq!(i["port"], 8080);
        assert_eq!(i["path"], "/api");
        assert_eq!(i["retries"], 5);
        assert_eq!(i["connect_timeout"], 60000);
        assert_eq!(i["enabled"], true);
        assert_eq!(i["url"], "http://orders.internal:8080/api");
        assert!(
            group_version(&s).await > before,
            "{name}: a change bumps the config"
        );

        let (st, i) = send(
            c,
            M::PUT,
            s.url(&impl_url("orders", &v)),
            Some(json!({"protocol": "https", "host": "orders.example.com", "retries": 2, "read_timeout": 1500})),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{name}: {i}");
        assert_eq!(i["url"], "https://orders.example.com");
        assert_eq!(i["read_timeout"], 1500);

        // Bad inputs: 422 naming the field, the stored one unchanged.
        for (body, field) in [
            (json!({"url": "ftp://x"}), "url"),
            (json!({"url": "http://x:70000"}), "url"),
            (json!({"host": "x", "port": 0}), "port"),
            (
                json!({"host": "x", "connect_timeout": 0}),
                "connect_timeout",
            ),
            (json!({"host": "x", "retries": 99999}), "retries"),
            (json!({}), "url"),
        ] {
            let (st, e) = send(
                c,
                M::PUT,
                s.url(&impl_url("orders", &v)),
                Some(body.clone()),
            )
            .await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {body} → {e}");
            assert_eq!(e["error"]["field"], field, "{name}: {body} → {e}");
        }
        let (st, e) = send(
            c,
            M::PUT,
            s.url(&impl_url("orders", &v)),
            Some(json!({"hots": "x"})),
        )
        .await;
        assert_eq!(
            st,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: unknown field → {e}"
        );
        let (_, i) = send(c, M::GET, s.url(&impl_url("orders", &v)), None).await;
        assert_eq!(i["url"], "https://orders.example.com", "{name}");

        // Routes.
        let (st, r) = send(
            c,
            M::POST,
            s.url(&routes_url("orders", &v)),
            Some(json!({"name": "orders-list", "methods": ["get"], "paths": ["/orders"]})),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{name}: {r}");
        assert_eq!(r["methods"], json!(["GET"]));
        assert_eq!(r["strip_path"], true);
        assert_eq!(r["protocols"], json!(["http", "https"]));
        let route_id = r["id"].as_str().unwrap().to_string();

        for (body, field) in [
            (json!({"paths": ["/a", "~/b/(?<x"]}), "paths[1]"),
            (json!({"name": "a b", "paths": ["/a"]}), "name"),
            (json!({"hosts": ["*.*.example.com"]}), "hosts[0]"),
            (
                json!({"paths": ["/a"], "https_redirect_status_code": 303}),
                "https_redirect_status_code",
            ),
            (
                json!({"expression": "http.path ==", "priority": 1}),
                "expression",
            ),
            (json!({"name": "nothing"}), "methods"),
            (
                json!({"paths": ["/a"], "path_handling": "v2"}),
                "path_handling",
            ),
        ] {
            let (st, e) = send(
                c,
                M::POST,
                s.url(&routes_url("orders", &v)),
                Some(body.clone()),
            )
            .await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {body} → {e}");
            let f = e["error"]["field"].as_str().unwrap_or_default();
            assert!(f.starts_with(field), "{name}: {body} → {e}");
        }
        // Names are unique within the runtime group, across packages.
        let v2 = package_with_v1(&s, "Billing", "billing").await;
        let (st, e) = send(
            c,
            M::POST,
            s.url(&routes_url("billing", &v2)),
            Some(json!({"name": "orders-list", "paths": ["/billing"]})),
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {e}");
        assert_eq!(e["error"]["field"], "name");
        assert!(e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already exists"));

        // PATCH keeps what it does not name; PUT replaces.
        let (st, r) = send(
            c,
            M::PATCH,
            s.url(&format!("{}/{route_id}", routes_url("orders", &v))),
            Some(json!({"paths": ["/v2/orders"], "strip_path": false})),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{name}: {r}");
        assert_eq!(r["name"], "orders-list");
        assert_eq!(r["methods"], json!(["GET"]));
        assert_eq!(r["paths"], json!(["/v2/orders"]));
        assert_eq!(r["strip_path"], false);
        let (st, _) = send(
            c,
            M::PATCH,
            s.url(&format!("{}/{route_id}", routes_url("orders", &v))),
            Some(json!({"paths": ["~/(("]})),
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        let (_, list) = send(c, M::GET, s.url(&routes_url("orders", &v)), None).await;
        assert_eq!(
            list["data"][0]["paths"],
            json!(["/v2/orders"]),
            "{name}: refused patch kept the route"
        );

        // The snapshot carries the enabled implementation and its routes.
        let snap = s
            .hub
            .snapshot(
                uuid::Uuid::parse_str(list["data"][0]["runtime_group_id"].as_str().unwrap())
                    .unwrap(),
            )
            .await
            .unwrap();
        let svc = snap
            .services
            .iter()
            .find(|x| x.version_id == v)
            .expect("orders v1 in the snapshot");
        assert_eq!(svc.package_key, "orders");
        assert_eq!(svc.upstream.host, "orders.example.com");
        assert_eq!(svc.upstream.retries, 2);
        assert_eq!(svc.routes.len(), 1);
        assert!(
            snap.services.iter().all(|x| x.version_id != v2),
            "{name}: no implementation, not served"
        );

        // A disabled implementation takes the version out of the snapshot.
        send(
            c,
            M::PUT,
            s.url(&impl_url("orders", &v)),
            Some(json!({"url": "http://orders.internal", "enabled": false})),
        )
        .await;
        let snap = s.hub.snapshot(svc_group(&list)).await.unwrap();
        assert!(snap.services.iter().all(|x| x.version_id != v), "{name}");

        // Deleting the version deletes its routes and implementation.
        let (st, _) = send(
            c,
            M::DELETE,
            s.url(&format!("/api/v1/service-packages/orders/versions/{v}")),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::NO_CONTENT, "{name}");
        let left = server::store::route::Entity::find()
            .filter(sea_orm::ColumnTrait::eq(
                &server::store::route::Column::Name,
                "orders-list",
            ))
            .all(s.hub.db())
            .await
            .unwrap();
        assert!(left.is_empty(), "{name}: routes went with the version");
        // So the name is free again.
        let (st, _) = send(
            c,
            M::POST,
            s.url(&routes_url("billing", &v2)),
            Some(json!({"name": "orders-list", "paths": ["/billing"]})),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{name}");

        // Viewers read but do not change.
        let viewer = s
            .client_as("viewer@example.com", app::model::Role::Viewer)
            .await;
        let (st, _) = send(&viewer, M::GET, s.url(&routes_url("billing", &v2)), None).await;
        assert_eq!(st, StatusCode::OK);
        let (st, _) = send(
            &viewer,
            M::POST,
            s.url(&routes_url("billing", &v2)),
            Some(json!({"paths": ["/x"]})),
        )
        .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{name}");
    }
}

fn svc_group(list: &Value) -> uuid::Uuid {
    uuid::Uuid::parse_str(list["data"][0]["runtime_group_id"].as_str().unwrap()).unwrap()
}

fn node_client(token: &str, group: &str, node: &str) -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("authorization", format!("Bearer {token}").parse().unwrap());
    h.insert("x-portico-runtime-group", group.parse().unwrap());
    h.insert("x-portico-node-id", node.parse().unwrap());
    h.insert("x-portico-node-hostname", "edge-1".parse().unwrap());
    h.insert("x-portico-node-version", "9.9.9".parse().unwrap());
    reqwest::Client::builder()
        .default_headers(h)
        .build()
        .unwrap()
}

#[tokio::test]
async fn data_plane_tokens_and_sync() {
    for b in common::backends().await {
        let name = b.name;
        let s = common::start(b).await;
        let c = &s.client;
        let v = package_with_v1(&s, "Orders", "orders").await;

        let (st, t) = send(
            c,
            M::POST,
            s.url("/api/v1/runtime-groups/default/tokens"),
            Some(json!({"name": "edge nodes"})),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{name}: {t}");
        let secret = t["secret"].as_str().unwrap().to_string();
        assert!(secret.starts_with("pdp_"));
        let token_id = t["token"]["id"].as_str().unwrap().to_string();
        // Stored hashed, listed without the secret.
        let rows = server::store::data_plane_token::Entity::find()
            .all(s.hub.db())
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_ne!(rows[0].secret_hash, secret);
        assert!(!rows[0].secret_hash.contains(&secret[4..]));
        let (_, list) = send(
            c,
            M::GET,
            s.url("/api/v1/runtime-groups/default/tokens"),
            None,
        )
        .await;
        assert!(!list.to_string().contains(&secret[4..]), "{name}: {list}");
        let (st, _) = send(
            c,
            M::POST,
            s.url("/api/v1/runtime-groups/default/tokens"),
            Some(json!({"name": ""})),
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);

        let node = uuid::Uuid::new_v4().to_string();
        let dp = node_client(&secret, "default", &node);
        let config =
            |after: u64, wait: u64| s.url(&format!("/dp/v1/config?after={after}&wait_ms={wait}"));

        // First poll: the snapshot at once.
        let r = dp.get(config(0, 1000)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{name}");
        let snap: Value = r.json().await.unwrap();
        let version = snap["config_version"].as_u64().unwrap();
        assert_eq!(snap["runtime_group"], "default");

        // Nothing new: 204 after the wait.
        let t0 = Instant::now();
        let r = dp.get(config(version, 300)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{name}");
        assert!(t0.elapsed() >= Duration::from_millis(250));

        // A waiting poll wakes when a route is saved.
        let waiting = {
            let dp = dp.clone();
            let url = config(version, 20_000);
            tokio::spawn(async move {
                let r = dp.get(url).send().await.unwrap();
                (
                    r.status(),
                    r.json::<Value>().await.unwrap_or(Value::Null),
                    Instant::now(),
                )
            })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        send(
            c,
            M::PUT,
            s.url(&impl_url("orders", &v)),
            Some(json!({"url": "http://127.0.0.1:9"})),
        )
        .await;
        let saved = Instant::now();
        send(
            c,
            M::POST,
            s.url(&routes_url("orders", &v)),
            Some(json!({"paths": ["/orders"]})),
        )
        .await;
        let (st, snap, at) = waiting.await.unwrap();
        assert_eq!(st, StatusCode::OK, "{name}");
        assert!(snap["config_version"].as_u64().unwrap() > version);
        assert!(
            at.duration_since(saved) < Duration::from_secs(5),
            "{name}: woke {:?} after the save",
            at.duration_since(saved)
        );

        // The node is listed, connected; a report is kept as its last error.
        let r = dp
            .post(s.url("/dp/v1/report"))
            .json(&json!({"config_version": 7, "error": "route r1: paths[0]: bad"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{name}");
        let (st, nodes) = send(
            c,
            M::GET,
            s.url("/api/v1/runtime-groups/default/nodes"),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let n = &nodes["data"][0];
        assert_eq!(n["id"], node.as_str(), "{name}: {nodes}");
        assert_eq!(n["hostname"], "edge-1");
        assert_eq!(n["version"], "9.9.9");
        assert_eq!(n["connected"], true);
        assert!(n["last_error"].as_str().unwrap().contains("paths[0]: bad"));

        // Wrong group, bad token, no token, revoked token.
        let (st, _) = send(
            c,
            M::POST,
            s.url("/api/v1/runtime-groups"),
            Some(json!({"name": "staging"})),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED);
        let r = node_client(&secret, "staging", &node)
            .get(config(0, 100))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{name}");
        let r = node_client("pdp_nope", "default", &node)
            .get(config(0, 100))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{name}");
        let r = s.anon.get(config(0, 100)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{name}");
        let (st, _) = send(
            c,
            M::DELETE,
            s.url(&format!("/api/v1/runtime-groups/default/tokens/{token_id}")),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let r = dp.get(config(0, 100)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{name}: revoked");
        let body: Value = r.json().await.unwrap();
        assert!(body["message"].as_str().unwrap().contains("revoked"));
    }
}
