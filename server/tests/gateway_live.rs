//! End to end on real sockets: the control plane (UI/REST) with its embedded data
//! plane, a real upstream, and requests through the proxy. A route saved over REST goes
//! live without a restart; the embedded plane appears as a connected node; the version
//! dashboard's data says "live" and gives a working curl target.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::Request;
use common::portal::{package_with_v1, send};
use reqwest::{Method as M, StatusCode};
use serde_json::{json, Value};

/// An upstream that answers every request with what it received, as JSON.
pub async fn echo_upstream(tag: &'static str) -> SocketAddr {
    let app = axum::Router::new().fallback(move |req: Request| async move {
        let headers: serde_json::Map<String, Value> = req
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or(""))))
            .collect();
        axum::Json(json!({
            "upstream": tag,
            "method": req.method().as_str(),
            "path": req.uri().path(),
            "query": req.uri().query(),
            "headers": headers,
        }))
    });
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    addr
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// GETs `url` until `ok` holds for the answer (at most 5 s); the last answer.
async fn until(
    url: &str,
    ok: impl Fn(StatusCode, &Value) -> bool,
) -> (StatusCode, Value, Duration) {
    let c = reqwest::Client::new();
    let t0 = Instant::now();
    loop {
        let (st, body) = match c.get(url).send().await {
            Ok(r) => {
                let st = r.status();
                (st, r.json::<Value>().await.unwrap_or(Value::Null))
            }
            Err(_) => (StatusCode::SERVICE_UNAVAILABLE, Value::Null),
        };
        if ok(st, &body) || t0.elapsed() > Duration::from_secs(5) {
            return (st, body, t0.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_data_plane_serves_routes_saved_over_rest() {
    let s = common::start(common::sqlite().await).await;
    let c = &s.client;
    let planes = server::control::EmbeddedPlanes::start(
        s.hub.clone(),
        Arc::new(server::gateway::CountingSink::default()),
    );
    let port = free_port();
    let (st, g) = send(
        c,
        M::PATCH,
        s.url("/api/v1/runtime-groups/default"),
        Some(json!({"proxy_listen": format!("127.0.0.1:{port}")})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{g}");
    let (st, e) = send(
        c,
        M::PATCH,
        s.url("/api/v1/runtime-groups/default"),
        Some(json!({"proxy_listen": "localhost:80"})),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["field"], "proxy_listen");
    let proxy = format!("http://127.0.0.1:{port}");

    // Listening, nothing routed yet: Kong's 404.
    let (st, body, _) = until(&format!("{proxy}/orders"), |st, _| {
        st == StatusCode::NOT_FOUND
    })
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"message": "no Route matched with those values"})
    );

    let up = echo_upstream("orders").await;
    let v = package_with_v1(&s, "Orders", "orders").await;
    let (st, _) = send(
        c,
        M::PUT,
        s.url(&format!(
            "/api/v1/service-packages/orders/versions/{v}/implementation"
        )),
        Some(json!({"url": format!("http://{up}/internal")})),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (st, r) = send(
        c,
        M::POST,
        s.url(&format!(
            "/api/v1/service-packages/orders/versions/{v}/routes"
        )),
        Some(json!({"name": "orders", "paths": ["/orders"]})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let route_id = r["id"].as_str().unwrap().to_string();

    let (st, body, took) = until(&format!("{proxy}/orders/42?x=1"), |st, _| {
        st == StatusCode::OK
    })
    .await;
    assert_eq!(st, StatusCode::OK, "the route went live ({took:?})");
    assert_eq!(body["upstream"], "orders");
    assert_eq!(
        body["path"], "/internal/42",
        "strip_path and the service path"
    );
    assert_eq!(body["query"], "x=1");

    // Edit the route: the new path goes live, the old one stops, no restart.
    let (st, _) = send(
        c,
        M::PATCH,
        s.url(&format!(
            "/api/v1/service-packages/orders/versions/{v}/routes/{route_id}"
        )),
        Some(json!({"paths": ["/shop/orders"], "strip_path": false})),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (st, body, _) = until(&format!("{proxy}/shop/orders/7"), |st, _| {
        st == StatusCode::OK
    })
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["path"], "/internal/shop/orders/7");
    let (st, _, _) = until(&format!("{proxy}/orders/42"), |st, _| {
        st == StatusCode::NOT_FOUND
    })
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Disabling the implementation takes the routes off the data plane.
    send(
        c,
        M::PUT,
        s.url(&format!(
            "/api/v1/service-packages/orders/versions/{v}/implementation"
        )),
        Some(json!({"url": format!("http://{up}/internal"), "enabled": false})),
    )
    .await;
    let (st, _, _) = until(&format!("{proxy}/shop/orders/7"), |st, _| {
        st == StatusCode::NOT_FOUND
    })
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    send(
        c,
        M::PUT,
        s.url(&format!(
            "/api/v1/service-packages/orders/versions/{v}/implementation"
        )),
        Some(json!({"url": format!("http://{up}/internal")})),
    )
    .await;
    let (st, _, _) = until(&format!("{proxy}/shop/orders/7"), |st, _| {
        st == StatusCode::OK
    })
    .await;
    assert_eq!(st, StatusCode::OK);

    // The embedded plane is a connected node serving the current config version.
    let (_, nodes) = send(
        c,
        M::GET,
        s.url("/api/v1/runtime-groups/default/nodes"),
        None,
    )
    .await;
    let n = nodes["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["embedded"] == true)
        .unwrap_or_else(|| panic!("no embedded node in {nodes}"));
    assert_eq!(n["connected"], true);
    assert_eq!(n["config_version"], nodes["config_version"]);
    let status = planes.status();
    assert_eq!(status.len(), 1);
    assert!(status[0].ready);

    // What the version dashboard shows.
    let g = server::hub::Hub::clone(&s.hub);
    let actor = app::model::Actor::console();
    let vg = app::ports::DataPlanes::version_gateway(&g, &actor, "orders", v.parse().unwrap())
        .await
        .unwrap();
    assert!(vg.liveness.live, "{:?}", vg.liveness.missing);
    assert_eq!(vg.proxy_base.as_deref(), Some(proxy.as_str()));
    let url = vg.routes[0].proxy_url.clone().unwrap();
    assert_eq!(url, format!("{proxy}/shop/orders"));
    assert!(vg.routes[0].curl.as_deref().unwrap().contains(&url));
    let (st, _, _) = until(&url, |st, _| st == StatusCode::OK).await;
    assert_eq!(
        st,
        StatusCode::OK,
        "the dashboard's URL reaches the upstream"
    );

    // Moving the proxy address moves the listener.
    let port2 = free_port();
    send(
        c,
        M::PATCH,
        s.url("/api/v1/runtime-groups/default"),
        Some(json!({"proxy_listen": format!("127.0.0.1:{port2}")})),
    )
    .await;
    let (st, _, _) = until(
        &format!("http://127.0.0.1:{port2}/shop/orders/1"),
        |st, _| st == StatusCode::OK,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _, _) = until(&format!("{proxy}/shop/orders/1"), |st, _| {
        st == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;
    assert_eq!(
        st,
        StatusCode::SERVICE_UNAVAILABLE,
        "the old address is closed"
    );
    planes.shutdown().await;
}
