//! A standalone data plane node (`portico gateway`) against a real control plane over
//! HTTP: it syncs, serves, follows route edits, appears in the group's nodes, keeps
//! serving when the control plane stops, starts from its cache while the control plane
//! is down, and is refused with a bad or revoked token.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::model::*;
use app::ports::{DataPlanes, GatewayConfig};
use reqwest::StatusCode;
use serde_json::Value;
use server::gateway::node::{run_node, NodeOptions};
use server::hub::Hub;
use tokio::sync::oneshot;

/// The control plane (UI, REST, `/dp/v1`) on an ephemeral port; abort the handle to
/// stop it accepting.
async fn control_plane(hub: Hub) -> (String, tokio::task::JoinHandle<()>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let app = server::web::app(hub, server::leptos_options(addr, "target/site"));
    let task = tokio::spawn(async move {
        let _ = axum::serve(l, app.into_make_service_with_connect_info::<SocketAddr>()).await;
    });
    (format!("http://{addr}"), task)
}

struct Node {
    proxy: String,
    status: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Node {
    async fn start(cp: &str, token: &str, cache: &Path) -> Node {
        let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let status = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (p, s) = (proxy.local_addr().unwrap(), status.local_addr().unwrap());
        let (stop, rx) = oneshot::channel::<()>();
        let opts = NodeOptions {
            control_plane: cp.to_string(),
            runtime_group: "default".into(),
            token: Some(token.to_string()),
            cache_dir: cache.to_path_buf(),
            limits: Default::default(),
        };
        let task = tokio::spawn(run_node(
            opts,
            proxy,
            status,
            Arc::new(server::gateway::CountingSink::default()),
            async move {
                let _ = rx.await;
            },
        ));
        Node {
            proxy: format!("http://{p}"),
            status: format!("http://{s}/status"),
            stop: Some(stop),
            task,
        }
    }

    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let r = tokio::time::timeout(Duration::from_secs(40), self.task)
            .await
            .expect("the node stops");
        r.unwrap().unwrap();
    }
}

/// GETs until `ok` holds (at most `secs`); the last status and body.
async fn until(
    url: &str,
    secs: u64,
    ok: impl Fn(StatusCode, &Value) -> bool,
) -> (StatusCode, Value) {
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
        if ok(st, &body) || t0.elapsed() > Duration::from_secs(secs) {
            return (st, body);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_node_follows_the_control_plane_and_survives_its_outage() {
    let backend = common::sqlite().await;
    let hub = backend.hub.clone();
    let admin = Actor::console();
    let up = common::gateway::echo_upstream().await;

    let cat = common::gateway::orders(&hub, up).await;
    let token = hub
        .create_data_plane_token(
            &admin,
            "default",
            NewDataPlaneToken {
                name: "edge".into(),
            },
        )
        .await
        .unwrap();

    let (cp, cp_task) = control_plane(hub.clone()).await;
    let cache = tempfile::tempdir().unwrap();
    let node = Node::start(&cp, &token.secret, cache.path()).await;

    let (st, body) = until(&format!("{}/orders/1", node.proxy), 10, |st, _| {
        st == StatusCode::OK
    })
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["path"], "/1");
    let (st, status) = until(&node.status, 2, |st, _| st == StatusCode::OK).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(status["ready"], true);
    let v1 = status["config_version"].as_u64().unwrap();
    assert!(
        cache.path().join("config.json").exists(),
        "the node cached its config"
    );

    // A route edit reaches the node without a restart.
    hub.update_route(
        &admin,
        &cat.key,
        cat.version,
        cat.route,
        RouteInput {
            paths: vec!["/v2/orders".into()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let (st, body) = until(&format!("{}/v2/orders/9", node.proxy), 5, |st, _| {
        st == StatusCode::OK
    })
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["path"], "/9");
    let (_, status) = until(&node.status, 2, |_, b| {
        b["config_version"].as_u64() > Some(v1)
    })
    .await;
    assert!(status["config_version"].as_u64().unwrap() > v1);

    // It is listed as a connected, standalone node.
    let gw = hub.group_gateway(&admin, "default").await.unwrap();
    let n = gw
        .nodes
        .iter()
        .find(|n| !n.embedded)
        .expect("the node is listed");
    assert!(n.connected);
    assert_eq!(n.version, env!("CARGO_PKG_VERSION"));

    // The control plane stops: the node keeps serving.
    cp_task.abort();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (st, _) = until(&format!("{}/v2/orders/9", node.proxy), 1, |st, _| {
        st == StatusCode::OK
    })
    .await;
    assert_eq!(st, StatusCode::OK, "serving through the outage");
    node.stop().await;

    // Restarted while the control plane is down: serves from its cache at once.
    let dead = "http://127.0.0.1:9"; // nothing listens on the discard port
    let node = Node::start(dead, &token.secret, cache.path()).await;
    let (st, body) = until(&format!("{}/v2/orders/3", node.proxy), 3, |st, _| {
        st == StatusCode::OK
    })
    .await;
    assert_eq!(st, StatusCode::OK, "served from the cache: {body}");
    let (_, status) = until(&node.status, 2, |st, _| st == StatusCode::OK).await;
    assert_eq!(status["ready"], true);
    node.stop().await;

    // A bad or revoked token gets nothing: no config, not ready.
    let (cp, _cp_task) = control_plane(hub.clone()).await;
    hub.revoke_data_plane_token(&admin, "default", token.token.id)
        .await
        .unwrap();
    for secret in [token.secret.as_str(), "pdp_not-a-token"] {
        let empty = tempfile::tempdir().unwrap();
        let node = Node::start(&cp, secret, empty.path()).await;
        tokio::time::sleep(Duration::from_millis(800)).await;
        let r = reqwest::get(&node.status).await.unwrap();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        let status: Value = r.json().await.unwrap();
        assert_eq!(status["ready"], false);
        let r = reqwest::get(format!("{}/v2/orders/1", node.proxy))
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "no config yet");
        assert!(!empty.path().join("config.json").exists());
        node.stop().await;
    }
}

/// The names in a directory.
fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn cache_writes_from_two_nodes_sharing_a_directory_never_mix() {
    use server::gateway::node::write_atomically;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    // 8 writers (two nodes' worth of threads) × 20 writes of 512 KiB each, every
    // payload one repeated byte, so a mixed or truncated file shows.
    let payload = |w: usize, k: usize| vec![b'a' + ((w * 20 + k) % 26) as u8; 512 * 1024];
    std::thread::scope(|s| {
        for w in 0..8 {
            let path = path.clone();
            s.spawn(move || {
                for k in 0..20 {
                    write_atomically(&path, &payload(w, k))
                        .unwrap_or_else(|e| panic!("writer {w}, write {k}: {e}"));
                    let got = std::fs::read(&path).unwrap();
                    assert_eq!(got.len(), 512 * 1024, "a whole file");
                    assert!(got.iter().all(|&b| b == got[0]), "one writer's bytes");
                }
            });
        }
    });
    assert_eq!(
        names_in(dir.path()),
        ["config.json"],
        "no temporary files left"
    );
}

#[test]
fn a_failed_cache_write_keeps_the_old_file_and_leaves_no_temporary_file() {
    use server::gateway::node::write_atomically;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    write_atomically(&path, b"{\"old\": true}").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"{\"old\": true}");
    // a directory in the way: the rename fails
    let blocked = dir.path().join("blocked");
    std::fs::create_dir(&blocked).unwrap();
    std::fs::write(blocked.join("inside"), b"x").unwrap();
    assert!(write_atomically(&blocked, b"new").is_err());
    assert_eq!(names_in(dir.path()), ["blocked", "config.json"]);
    assert_eq!(std::fs::read(&path).unwrap(), b"{\"old\": true}");
}

/// key-auth, consumers and prometheus through a standalone node: a key works, is never
/// in the node's cache file, and stops working once deleted on the control plane
/// (within the sync time); the node's `/metrics` counts the requests with their codes
/// and sources, per consumer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_enforces_keys_and_forgets_a_deleted_one_within_the_sync() {
    use app::ports::{Consumers, Plugins};
    let backend = common::sqlite().await;
    let hub = backend.hub.clone();
    let admin = Actor::console();
    let up = common::gateway::echo_upstream().await;
    let _cat = common::gateway::orders(&hub, up).await;
    let group = PluginScope::RuntimeGroup {
        group: "default".into(),
    };
    for (name, config) in [
        ("key-auth", serde_json::json!({})),
        (
            "prometheus",
            serde_json::json!({"status_code_metrics": true, "per_consumer": true}),
        ),
    ] {
        hub.create_plugin(
            &admin,
            group.clone(),
            PluginInput {
                name: name.into(),
                config: Some(config),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    hub.create_consumer(
        &admin,
        "default",
        ConsumerInput {
            username: Some("alice".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let key = hub
        .create_key(&admin, "default", "alice", NewKeyAuthCredential::default())
        .await
        .unwrap();
    let token = hub
        .create_data_plane_token(
            &admin,
            "default",
            NewDataPlaneToken {
                name: "edge".into(),
            },
        )
        .await
        .unwrap();
    let (cp, _cp_task) = control_plane(hub.clone()).await;
    let cache = tempfile::tempdir().unwrap();
    let node = Node::start(&cp, &token.secret, cache.path()).await;
    let c = reqwest::Client::new();
    let with_key = format!("{}/orders/1?apikey={}", node.proxy, key.key);

    let (st, body) = until(&with_key, 10, |st, _| st == StatusCode::OK).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let r = c
        .get(format!("{}/orders/1", node.proxy))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let cached = std::fs::read_to_string(cache.path().join("config.json")).unwrap();
    assert!(
        cached.contains("key_sha256"),
        "the cache holds the key's hash"
    );
    assert!(!cached.contains(&key.key), "never the key itself");

    // the node's metrics: one 200 from the upstream, one 401 from Portico, for alice
    // and for nobody
    let metrics = c
        .get(node.status.replace("/status", "/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let m = common::prom::parse(&metrics);
    let consumer = key.credential.consumer.id.to_string();
    assert_eq!(
        m.value(
            "kong_http_requests_total",
            &[
                ("code", "200"),
                ("source", "service"),
                ("consumer", &consumer)
            ]
        ),
        1.0,
        "{metrics}"
    );
    assert_eq!(
        m.value(
            "kong_http_requests_total",
            &[("code", "401"), ("source", "kong"), ("consumer", "")]
        ),
        1.0,
        "{metrics}"
    );

    // deleted on the control plane: refused within the sync time
    hub.delete_key(&admin, "default", "alice", key.credential.id)
        .await
        .unwrap();
    let (st, body) = until(&with_key, 5, |st, _| st == StatusCode::UNAUTHORIZED).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body, serde_json::json!({"message": "Unauthorized"}));
    node.stop().await;
}
