//! `GET /metrics` over real HTTP: a data plane's status listener after proxied
//! requests (Kong's node metrics: connections, requests, node info, config version),
//! and the control plane's `/metrics` (a signed-in user or an API token, or anyone
//! with `--metrics-public`). The text is read by a strict line parser.

mod common;
mod gateway_support;

use std::time::Duration;

use app::model::NewApiToken;
use common::prom;
use gateway_support::*;
use http_body_util::{BodyExt, Empty};
use reqwest::StatusCode;

async fn scrape(c: &reqwest::Client, url: &str) -> prom::Exposition {
    let r = c.get(url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/plain; version=0.0.4");
    prom::parse(&r.text().await.unwrap())
}

fn conn(x: &prom::Exposition, state: &str) -> f64 {
    x.value(
        "kong_nginx_connections_total",
        &[
            ("node_id", "node-1"),
            ("subsystem", "http"),
            ("state", state),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_listener_serves_kongs_node_metrics() {
    let gw = Gateway::start().await;
    gw.dp.set_node_id("node-1");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let status = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let serving = gw.dp.clone();
    tokio::spawn(async move {
        serving
            .serve_status(listener, async move {
                let _ = rx.await;
            })
            .await
    });
    let u = upstream("u").await;
    gw.dp
        .apply(snapshot(
            3,
            vec![service("orders", up(u.addr), vec![route("r", &["/"])])],
        ))
        .unwrap();
    let c = client();
    let metrics = format!("http://{status}/metrics");

    // three requests on one keep-alive connection
    let mut conn1 = raw::<Empty<bytes::Bytes>>(gw.addr).await;
    for _ in 0..3 {
        let req = hyper::Request::get("/a")
            .header("host", "x")
            .body(Empty::new())
            .unwrap();
        // the connection takes the next request once it has finished the last one
        conn1.ready().await.unwrap();
        let r = conn1.send_request(req).await.unwrap();
        assert_eq!(r.status(), 200);
        r.into_body().collect().await.unwrap();
    }
    gw.sink.wait_for(3).await;

    // a fourth request, held by the upstream while we scrape
    let slow = tokio::spawn({
        let url = gw.url("/slow/1500");
        let c = c.clone();
        async move { c.get(url).send().await.unwrap().status() }
    });
    let mut x = scrape(&c, &metrics).await;
    for _ in 0..100 {
        if conn(&x, "writing") == 1.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        x = scrape(&c, &metrics).await;
    }
    assert_eq!(x.types["kong_nginx_connections_total"], "gauge");
    assert_eq!(conn(&x, "accepted"), 2.0);
    assert_eq!(conn(&x, "handled"), 2.0);
    assert_eq!(conn(&x, "active"), 2.0);
    assert_eq!(conn(&x, "writing"), 1.0, "the slow request is in flight");
    assert_eq!(conn(&x, "waiting"), 1.0, "the first connection is idle");
    assert_eq!(conn(&x, "total"), 3.0);
    assert_eq!(
        x.value("kong_nginx_requests_total", &[("node_id", "node-1")]),
        3.0
    );
    assert_eq!(
        x.value(
            "kong_node_info",
            &[
                ("node_id", "node-1"),
                ("version", env!("CARGO_PKG_VERSION"))
            ]
        ),
        1.0
    );
    assert_eq!(
        x.value(
            "portico_data_plane_config_version",
            &[("node_id", "node-1")]
        ),
        3.0
    );

    assert_eq!(slow.await.unwrap(), 200);
    drop(conn1);
    let mut x = scrape(&c, &metrics).await;
    for _ in 0..100 {
        if conn(&x, "active") == 0.0 || conn(&x, "active") == 1.0 && conn(&x, "total") == 4.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        x = scrape(&c, &metrics).await;
    }
    assert_eq!(conn(&x, "total"), 4.0);
    assert_eq!(conn(&x, "writing"), 0.0);
    // `/status` is still there, and other paths are not
    let r = c
        .get(format!("http://{status}/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .get(format!("http://{status}/metricsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let _ = tx.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_planes_metrics_need_a_user_or_token_unless_public() {
    let s = common::start_with_status(
        common::sqlite().await,
        "target/site",
        server::auth::AuthSettings::default(),
        server::web::StatusSources::default(),
    )
    .await;
    let r = s.anon.get(s.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    s.hub
        .console_create_user(
            "monitor@example.com",
            app::model::Role::Viewer,
            common::PASSWORD,
        )
        .await
        .unwrap();
    let token = s
        .hub
        .console_create_token(
            "monitor@example.com",
            NewApiToken {
                name: "prometheus".into(),
                role: None,
                expires_in_days: None,
            },
        )
        .await
        .unwrap()
        .secret;
    let x = scrape(&s.client_with_token(&token), &s.url("/metrics")).await;
    assert!(x.samples.is_empty(), "no embedded data plane runs here");

    let public = common::start_with_status(
        common::sqlite().await,
        "target/site",
        server::auth::AuthSettings::default(),
        server::web::StatusSources {
            metrics_public: true,
            ..Default::default()
        },
    )
    .await;
    scrape(&public.anon, &public.url("/metrics")).await;
    // only /metrics is opened
    let r = public.anon.get(public.url("/status")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
