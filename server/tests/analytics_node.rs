//! A standalone node (`portico gateway`, in-process) ships its analytics over HTTP:
//! while the control plane is unreachable it buffers, and once it is back it delivers
//! everything, in order, each batch counted once; on shutdown it delivers the rest.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::model::*;
use app::ports::DataPlanes;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::Value;
use server::gateway::node::{run_node_with, NodeAnalytics, NodeOptions};
use server::hub::Hub;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// A TCP relay in front of the control plane that can be switched off: then it
/// drops every connection, open ones included (an outage, keep-alive or not).
struct Relay {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Relay {
    async fn start(target: SocketAddr) -> Relay {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let conns: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let (u, c) = (up.clone(), conns.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = l.accept().await {
                if !u.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut out) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
                c.lock().unwrap().push(task);
            }
        });
        Relay { addr, up, conns }
    }

    fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        for t in self.conns.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

async fn minute_requests(hub: &Hub) -> i64 {
    let db = hub.db();
    let rows = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            "SELECT requests FROM analytics_minute".to_string(),
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get::<i64>("", "requests").unwrap())
        .sum()
}

async fn wait_requests(hub: &Hub, n: i64, secs: u64) -> i64 {
    let t0 = Instant::now();
    loop {
        let got = minute_requests(hub).await;
        if got >= n || t0.elapsed() > Duration::from_secs(secs) {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn send(c: &reqwest::Client, url: &str, n: usize) {
    for _ in 0..n {
        let r = c.get(url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.bytes().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_buffers_through_an_outage_and_delivers_everything_once() {
    let backend = common::sqlite().await;
    let hub = backend.hub.clone();
    let admin = Actor::console();
    let up = common::gateway::echo_upstream().await;
    common::gateway::orders(&hub, up).await;
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

    // the control plane, reached through a relay
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cp_addr = l.local_addr().unwrap();
    let app = server::web::app(hub.clone(), server::leptos_options(cp_addr, "target/site"));
    tokio::spawn(async move {
        let _ = axum::serve(l, app.into_make_service_with_connect_info::<SocketAddr>()).await;
    });
    let relay = Relay::start(cp_addr).await;

    let cache = tempfile::tempdir().unwrap();
    let proxy = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let status = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (p, st) = (proxy.local_addr().unwrap(), status.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let node = tokio::spawn(run_node_with(
        NodeOptions {
            control_plane: format!("http://{}", relay.addr),
            runtime_group: "default".into(),
            token: Some(token.secret.clone()),
            cache_dir: cache.path().to_path_buf(),
            limits: Default::default(),
        },
        proxy,
        status,
        Some(NodeAnalytics {
            flush_interval: Duration::from_millis(200),
            ..NodeAnalytics::default()
        }),
        async move {
            let _ = stopped.await;
        },
    ));
    // ready (the status listener is not proxied: not counted)
    let c = reqwest::Client::new();
    let t0 = Instant::now();
    loop {
        let ready = match c.get(format!("http://{st}/status")).send().await {
            Ok(r) => r.json::<Value>().await.unwrap_or(Value::Null)["ready"] == true,
            Err(_) => false,
        };
        if ready {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "the node got its config"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let url = format!("http://{p}/orders/1");

    send(&c, &url, 20).await;
    assert_eq!(wait_requests(&hub, 20, 10).await, 20, "delivered");

    // The control plane is unreachable: the node keeps serving and buffers.
    relay.down();
    send(&c, &url, 30).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        minute_requests(&hub).await,
        20,
        "nothing arrives during the outage"
    );
    send(&c, &url, 5).await;

    // Back: everything arrives, once.
    relay.up();
    assert_eq!(
        wait_requests(&hub, 55, 40).await,
        55,
        "delivered after the outage"
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(minute_requests(&hub).await, 55, "nothing counted twice");

    // Shutting down delivers what is left.
    send(&c, &url, 7).await;
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(40), node)
        .await
        .expect("the node stops")
        .unwrap()
        .unwrap();
    assert_eq!(
        minute_requests(&hub).await,
        62,
        "the last requests were delivered"
    );
}
