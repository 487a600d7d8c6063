//! Plugins through a real data plane and a real upstream: Kong 3.x's status codes,
//! messages and headers for key-auth, acl, rate-limiting, cors, ip-restriction,
//! request-size-limiting and the transformers; precedence between scopes; a
//! consumer-scoped override; refused configs.

mod gateway_support;

use std::time::Duration;

use gateway_support::*;
use serde_json::{json, Value};
use server::gateway::snapshot::{
    ConsumerConfig, KeyCredential, PluginInstance, Scope, ServiceConfig, Snapshot,
};
use sha2::{Digest, Sha256};

fn sha(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn plugin(id: &str, name: &str, config: Value, scope: Scope) -> PluginInstance {
    PluginInstance {
        id: id.into(),
        name: name.into(),
        config,
        enabled: true,
        protocols: vec![],
        scope,
    }
}

fn global() -> Scope {
    Scope::default()
}

fn on_route(r: &str) -> Scope {
    Scope {
        route_id: Some(r.into()),
        ..Default::default()
    }
}

fn on_consumer(c: &str) -> Scope {
    Scope {
        consumer_id: Some(c.into()),
        ..Default::default()
    }
}

fn consumer(id: &str, username: &str, key: &str, groups: &[&str]) -> ConsumerConfig {
    ConsumerConfig {
        id: id.into(),
        username: Some(username.into()),
        custom_id: None,
        keys: vec![KeyCredential {
            id: format!("{id}-cred"),
            key_sha256: sha(key),
            expires_at: None,
        }],
        acl_groups: groups.iter().map(|g| g.to_string()).collect(),
    }
}

/// A service `svc` with routes `r1` (`/one`) and `r2` (`/two`) to `upstream`.
fn services(addr: std::net::SocketAddr) -> Vec<ServiceConfig> {
    vec![service(
        "svc",
        up(addr),
        vec![route("r1", &["/one"]), route("r2", &["/two"])],
    )]
}

fn snap(
    addr: std::net::SocketAddr,
    plugins: Vec<PluginInstance>,
    consumers: Vec<ConsumerConfig>,
) -> Snapshot {
    let mut s = snapshot(1, services(addr));
    s.plugins = plugins;
    s.consumers = consumers;
    s
}

async fn start(s: Snapshot) -> Gateway {
    let gw = Gateway::start().await;
    gw.dp.apply(s).expect("snapshot applies");
    gw
}

fn header<'a>(r: &'a reqwest::Response, n: &str) -> Option<&'a str> {
    r.headers().get(n).and_then(|v| v.to_str().ok())
}

async fn json_of(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

#[tokio::test]
async fn key_auth_as_kong() {
    let u = upstream("a").await;
    let gw = start(snap(
        u.addr,
        vec![plugin(
            "ka",
            "key-auth",
            json!({"key_names": ["apikey"], "hide_credentials": true}),
            global(),
        )],
        vec![consumer("c1", "alice", "alice-secret-key", &[])],
    ))
    .await;
    let c = client();

    let r = c.get(gw.url("/one")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(header(&r, "www-authenticate"), Some("Key"));
    assert_eq!(
        json_of(r).await,
        json!({"message": "No API key found in request"})
    );

    let r = c
        .get(gw.url("/one"))
        .header("apikey", "wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(json_of(r).await, json!({"message": "Unauthorized"}));

    let r = c
        .get(gw.url("/one"))
        .header("apikey", "a")
        .header("apikey", "b")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        json_of(r).await,
        json!({"message": "Duplicate API key found"})
    );

    // a good key in the header: the consumer's headers upstream, a spoofed one gone,
    // the key hidden
    let r = c
        .get(gw.url("/one"))
        .header("apikey", "alice-secret-key")
        .header("x-consumer-custom-id", "spoofed")
        .header("x-anonymous-consumer", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v = json_of(r).await;
    assert_eq!(echoed(&v, "x-consumer-id"), ["c1"]);
    assert_eq!(echoed(&v, "x-consumer-username"), ["alice"]);
    assert_eq!(echoed(&v, "x-credential-identifier"), ["c1-cred"]);
    assert!(echoed(&v, "x-consumer-custom-id").is_empty());
    assert!(echoed(&v, "x-anonymous-consumer").is_empty());
    assert!(echoed(&v, "apikey").is_empty(), "hide_credentials");

    // in the query string, hidden from the upstream too
    let r = c
        .get(gw.url("/one?x=1&apikey=alice-secret-key"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v = json_of(r).await;
    assert_eq!(v["uri"], "/?x=1");

    let entries = gw.sink.wait_for(5).await;
    let kinds: Vec<Option<&str>> = entries
        .iter()
        .map(|e| e.error.map(|k| k.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            Some("unauthorized"),
            Some("unauthorized"),
            Some("unauthorized"),
            None,
            None
        ]
    );
    assert_eq!(entries[3].consumer.as_deref(), Some("c1"));
    assert_eq!(entries[0].consumer, None);
    let logged = serde_json::to_string(&entries).unwrap();
    assert!(
        !logged.contains("alice-secret-key"),
        "the key is never logged"
    );
}

#[tokio::test]
async fn key_auth_anonymous_and_expired_keys() {
    let u = upstream("a").await;
    let mut expired = consumer("c2", "bob", "bob-old-key", &[]);
    expired.keys[0].expires_at = Some(1);
    let gw = start(snap(
        u.addr,
        vec![plugin(
            "ka",
            "key-auth",
            json!({"anonymous": "guest", "realm": "portico"}),
            on_route("r1"),
        )],
        vec![
            expired,
            ConsumerConfig {
                id: "g1".into(),
                username: Some("guest".into()),
                custom_id: Some("anon".into()),
                keys: vec![],
                acl_groups: vec![],
            },
        ],
    ))
    .await;
    let c = client();
    // an expired key falls back to the anonymous consumer
    let r = c
        .get(gw.url("/one"))
        .header("apikey", "bob-old-key")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v = json_of(r).await;
    assert_eq!(echoed(&v, "x-consumer-id"), ["g1"]);
    assert_eq!(echoed(&v, "x-consumer-custom-id"), ["anon"]);
    assert_eq!(echoed(&v, "x-anonymous-consumer"), ["true"]);
    assert!(echoed(&v, "x-credential-identifier").is_empty());
    // the other route has no plugin
    let r = c.get(gw.url("/two")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn key_auth_realm_and_expired_key_without_anonymous() {
    let u = upstream("a").await;
    let mut expired = consumer("c2", "bob", "bob-old-key", &[]);
    expired.keys[0].expires_at = Some(1);
    let gw = start(snap(
        u.addr,
        vec![plugin(
            "ka",
            "key-auth",
            json!({"realm": "portico"}),
            global(),
        )],
        vec![expired],
    ))
    .await;
    let r = client()
        .get(gw.url("/one"))
        .header("apikey", "bob-old-key")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        header(&r, "www-authenticate"),
        Some("Key realm=\"portico\"")
    );
    assert_eq!(json_of(r).await, json!({"message": "Unauthorized"}));
}

#[tokio::test]
async fn acl_allows_and_denies_by_group() {
    let u = upstream("a").await;
    let gw = start(snap(
        u.addr,
        vec![
            plugin("ka", "key-auth", json!({}), on_route("r1")),
            plugin("acl", "acl", json!({"allow": ["gold", "silver"]}), global()),
        ],
        vec![
            consumer("c1", "alice", "k-alice", &["gold", "other"]),
            consumer("c2", "bob", "k-bob", &["bronze"]),
            consumer("c3", "carol", "k-carol", &[]),
        ],
    ))
    .await;
    let c = client();
    let get = |path: &str, key: &str| {
        let mut b = c.get(gw.url(path));
        if !key.is_empty() {
            b = b.header("apikey", key);
        }
        b.send()
    };
    let r = get("/one", "k-alice").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        echoed(&json_of(r).await, "x-consumer-groups"),
        ["gold, other"]
    );
    for key in ["k-bob", "k-carol"] {
        let r = get("/one", key).await.unwrap();
        assert_eq!(r.status(), 403, "{key}");
        assert_eq!(
            json_of(r).await,
            json!({"message": "You cannot consume this service"})
        );
    }
    // no authentication on r2: no consumer, 401
    let r = get("/two", "").await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(json_of(r).await, json!({"message": "Unauthorized"}));
    let entries = gw.sink.wait_for(4).await;
    assert_eq!(entries[1].error.map(|k| k.as_str()), Some("forbidden"));
}

#[tokio::test]
async fn rate_limiting_counts_denies_and_sends_kongs_headers() {
    let u = upstream("a").await;
    let gw = start(snap(
        u.addr,
        vec![plugin(
            "rl",
            "rate-limiting",
            json!({"minute": 3, "hour": 100, "limit_by": "ip"}),
            on_route("r1"),
        )],
        vec![],
    ))
    .await;
    let c = client();
    for left in [2, 1, 0] {
        let r = c.get(gw.url("/one")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "x-ratelimit-limit-minute"), Some("3"));
        assert_eq!(
            header(&r, "x-ratelimit-remaining-minute"),
            Some(left.to_string().as_str())
        );
        assert_eq!(header(&r, "x-ratelimit-limit-hour"), Some("100"));
        assert_eq!(header(&r, "ratelimit-limit"), Some("3"));
        assert_eq!(
            header(&r, "ratelimit-remaining"),
            Some(left.to_string().as_str())
        );
        let reset: u64 = header(&r, "ratelimit-reset").unwrap().parse().unwrap();
        assert!((1..=60).contains(&reset), "{reset}");
        assert!(header(&r, "retry-after").is_none());
    }
    let r = c.get(gw.url("/one")).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "x-ratelimit-remaining-minute"), Some("0"));
    assert_eq!(header(&r, "ratelimit-remaining"), Some("0"));
    assert_eq!(header(&r, "x-ratelimit-remaining-hour"), Some("97"));
    let retry: u64 = header(&r, "retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(
        json_of(r).await,
        json!({"message": "API rate limit exceeded"})
    );
    assert_eq!(
        u.state.requests.load(std::sync::atomic::Ordering::SeqCst),
        3
    );
    let entries = gw.sink.wait_for(4).await;
    assert_eq!(entries[3].error.map(|k| k.as_str()), Some("rate_limited"));
    // the other route is not limited
    let r = c.get(gw.url("/two")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(header(&r, "x-ratelimit-limit-minute").is_none());
}

#[tokio::test]
async fn rate_limiting_counters_survive_a_new_config_and_hide_headers() {
    let u = upstream("a").await;
    let rl = |hide: bool| {
        plugin(
            "rl",
            "rate-limiting",
            json!({"minute": 2, "limit_by": "service", "hide_client_headers": hide,
                   "error_code": 503, "error_message": "slow down"}),
            global(),
        )
    };
    let gw = start(snap(u.addr, vec![rl(false)], vec![])).await;
    let c = client();
    assert_eq!(c.get(gw.url("/one")).send().await.unwrap().status(), 200);
    let mut s = snap(u.addr, vec![rl(true)], vec![]);
    s.config_version = 2;
    gw.dp.apply(s).unwrap();
    // limit_by service: both routes of the version share one count
    let r = c.get(gw.url("/two")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(header(&r, "x-ratelimit-limit-minute").is_none());
    let r = c.get(gw.url("/one")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(header(&r, "retry-after").is_none(), "hidden");
    assert_eq!(json_of(r).await, json!({"message": "slow down"}));
}

#[tokio::test]
async fn a_consumer_scoped_plugin_overrides_the_route_one() {
    let u = upstream("a").await;
    let gw = start(snap(
        u.addr,
        vec![
            plugin("ka", "key-auth", json!({}), global()),
            plugin(
                "rl-route",
                "rate-limiting",
                json!({"minute": 1}),
                on_route("r1"),
            ),
            plugin(
                "rl-gold",
                "rate-limiting",
                json!({"minute": 50}),
                on_consumer("c1"),
            ),
        ],
        vec![
            consumer("c1", "alice", "k-alice", &[]),
            consumer("c2", "bob", "k-bob", &[]),
        ],
    ))
    .await;
    let c = client();
    let get = |key: &'static str| c.get(gw.url("/one")).header("apikey", key).send();
    let r = get("k-alice").await.unwrap();
    assert_eq!(header(&r, "x-ratelimit-limit-minute"), Some("50"));
    let r = get("k-bob").await.unwrap();
    assert_eq!(header(&r, "x-ratelimit-limit-minute"), Some("1"));
    assert_eq!(get("k-bob").await.unwrap().status(), 429);
    assert_eq!(get("k-alice").await.unwrap().status(), 200);
    // the consumer's instance applies on every route, also without a route one
    let r = c
        .get(gw.url("/two"))
        .header("apikey", "k-alice")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "x-ratelimit-limit-minute"), Some("50"));
    let r = c
        .get(gw.url("/two"))
        .header("apikey", "k-bob")
        .send()
        .await
        .unwrap();
    assert!(header(&r, "x-ratelimit-limit-minute").is_none());
}

#[tokio::test]
async fn the_route_scope_wins_over_the_group() {
    let u = upstream("a").await;
    let rsl = |n: u64| json!({"allowed_payload_size": n, "size_unit": "bytes"});
    let gw = start(snap(
        u.addr,
        vec![
            plugin("g", "request-size-limiting", rsl(10), global()),
            plugin("r", "request-size-limiting", rsl(1000), on_route("r1")),
        ],
        vec![],
    ))
    .await;
    let c = client();
    let body = vec![b'x'; 100];
    let r = c
        .post(gw.url("/one/upload"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(gw.url("/two/upload"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(
        json_of(r).await,
        json!({"message": "Request size limit exceeded"})
    );
}

#[tokio::test]
async fn cors_preflight_and_response_headers() {
    let u = upstream("a").await;
    let gw = start(snap(
        u.addr,
        vec![
            plugin(
                "cors",
                "cors",
                json!({"origins": ["http://a.test", "http://b.test"], "credentials": true,
                       "max_age": 3600, "exposed_headers": ["x-one", "x-two"],
                       "methods": ["GET", "POST"]}),
                global(),
            ),
            plugin(
                "ka",
                "key-auth",
                json!({"run_on_preflight": false}),
                on_route("r2"),
            ),
        ],
        vec![],
    ))
    .await;
    let c = client();
    let r = c
        .request(reqwest::Method::OPTIONS, gw.url("/one"))
        .header("origin", "http://b.test")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "x-custom")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "access-control-allow-origin"),
        Some("http://b.test")
    );
    assert_eq!(header(&r, "access-control-allow-credentials"), Some("true"));
    assert_eq!(header(&r, "access-control-allow-methods"), Some("GET,POST"));
    assert_eq!(header(&r, "access-control-allow-headers"), Some("x-custom"));
    assert_eq!(header(&r, "access-control-max-age"), Some("3600"));
    assert_eq!(header(&r, "vary"), Some("Origin"));
    assert!(header(&r, "access-control-expose-headers").is_none());
    assert_eq!(
        u.state.requests.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the gateway answers the preflight"
    );
    let r = c
        .get(gw.url("/one"))
        .header("origin", "http://a.test")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "access-control-allow-origin"),
        Some("http://a.test")
    );
    assert_eq!(
        header(&r, "access-control-expose-headers"),
        Some("x-one,x-two")
    );
    let r = c
        .get(gw.url("/one"))
        .header("origin", "http://evil.test")
        .send()
        .await
        .unwrap();
    assert!(header(&r, "access-control-allow-origin").is_none());
    // a plugin's own answer gets the CORS headers too; a preflight skips key-auth
    let r = c
        .get(gw.url("/two"))
        .header("origin", "http://a.test")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        header(&r, "access-control-allow-origin"),
        Some("http://a.test")
    );
    let r = c
        .request(reqwest::Method::OPTIONS, gw.url("/two"))
        .header("origin", "http://a.test")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn ip_restriction_by_peer_address() {
    let u = upstream("a").await;
    let gw = start(snap(
        u.addr,
        vec![
            plugin(
                "deny",
                "ip-restriction",
                json!({"deny": ["127.0.0.0/8"]}),
                on_route("r1"),
            ),
            plugin(
                "allow",
                "ip-restriction",
                json!({"allow": ["10.0.0.0/8", "::1"], "status": 401, "message": "go away"}),
                on_route("r2"),
            ),
        ],
        vec![],
    ))
    .await;
    let c = client();
    let r = c.get(gw.url("/one")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        json_of(r).await,
        json!({"message": "IP address not allowed: 127.0.0.1"})
    );
    let r = c.get(gw.url("/two")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(json_of(r).await, json!({"message": "go away"}));
    assert_eq!(
        u.state.requests.load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[tokio::test]
async fn request_size_limiting_on_length_and_on_streamed_bodies() {
    let u = upstream("a").await;
    let gw = start(snap(
        u.addr,
        vec![
            plugin(
                "rsl",
                "request-size-limiting",
                json!({"allowed_payload_size": 1, "size_unit": "kilobytes"}),
                on_route("r1"),
            ),
            plugin(
                "rsl2",
                "request-size-limiting",
                json!({"allowed_payload_size": 1, "require_content_length": true}),
                on_route("r2"),
            ),
        ],
        vec![],
    ))
    .await;
    let c = client();
    let r = c
        .post(gw.url("/one/upload"))
        .body(vec![b'x'; 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(gw.url("/one/upload"))
        .body(vec![b'x'; 1025])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(
        u.state.requests.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    // chunked: counted as it streams, cut off with 413
    let chunk = format!("400\r\n{}\r\n", "y".repeat(1024));
    let raw = format!(
        "POST /one/upload HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n{chunk}{chunk}0\r\n\r\n"
    );
    let (resps, _) = raw_exchange(gw.addr, raw.as_bytes(), 1, false, Duration::from_secs(5)).await;
    assert_eq!(resps[0].status, 413);
    assert_eq!(
        String::from_utf8_lossy(&resps[0].body),
        r#"{"message":"Request size limit exceeded"}"#
    );
    // a chunked body under the limit passes
    let raw = format!(
        "POST /one/upload HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n{chunk}0\r\n\r\n"
    );
    let (resps, _) = raw_exchange(gw.addr, raw.as_bytes(), 1, false, Duration::from_secs(5)).await;
    assert_eq!(resps[0].status, 200);
    // require_content_length: 411 without one
    let r = c.get(gw.url("/two")).send().await.unwrap();
    assert_eq!(r.status(), 411);
    assert_eq!(
        json_of(r).await,
        json!({"message": "A valid Content-Length header is required"})
    );
    let entries = gw.sink.wait_for(5).await;
    let kinds: Vec<Option<&str>> = entries
        .iter()
        .map(|e| e.error.map(|k| k.as_str()))
        .collect();
    assert!(kinds.contains(&Some("payload_too_large")), "{kinds:?}");
    assert!(kinds.contains(&Some("length_required")), "{kinds:?}");
}

#[tokio::test]
async fn request_and_response_transformers() {
    let u = upstream("a").await;
    let gw = start(snap(
        u.addr,
        vec![
            plugin(
                "rt",
                "request-transformer",
                json!({
                    "http_method": "POST",
                    "remove": {"headers": ["x-drop"], "querystring": ["secret"]},
                    "rename": {"headers": ["x-old:x-new"]},
                    "add": {"headers": ["x-added:yes"], "querystring": ["added:1"]},
                    "append": {"headers": ["x-multi:two"]},
                    "replace": {"uri": "/elsewhere"}
                }),
                on_route("r1"),
            ),
            plugin(
                "resp",
                "response-transformer",
                json!({
                    "remove": {"headers": ["x-up-plain"]},
                    "add": {"headers": ["x-gateway:portico"]},
                    "append": {"headers": ["x-gateway:again"]}
                }),
                global(),
            ),
        ],
        vec![],
    ))
    .await;
    let c = client();
    let r = c
        .get(gw.url("/one?secret=s&keep=k"))
        .header("x-drop", "1")
        .header("x-old", "o")
        .header("x-multi", "one")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let gateway: Vec<&str> = r
        .headers()
        .get_all("x-gateway")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(gateway, ["portico", "again"]);
    let v = json_of(r).await;
    assert_eq!(v["method"], "POST");
    assert_eq!(v["uri"], "/elsewhere?keep=k&added=1");
    assert!(echoed(&v, "x-drop").is_empty());
    assert_eq!(echoed(&v, "x-new"), ["o"]);
    assert_eq!(echoed(&v, "x-added"), ["yes"]);
    assert_eq!(echoed(&v, "x-multi"), ["one", "two"]);
    let r = c.get(gw.url("/two/hop")).send().await.unwrap();
    assert!(header(&r, "x-up-plain").is_none());
}

#[tokio::test]
async fn a_bad_plugin_config_refuses_the_snapshot_and_keeps_the_previous_one() {
    let u = upstream("a").await;
    let gw = start(snap(u.addr, vec![], vec![])).await;
    let mut bad = snap(
        u.addr,
        vec![plugin(
            "rl",
            "rate-limiting",
            json!({"minute": "lots"}),
            global(),
        )],
        vec![],
    );
    bad.config_version = 2;
    let err = gw.dp.apply(bad).unwrap_err();
    assert!(err.contains("plugin rate-limiting (rl)"), "{err}");
    assert_eq!(gw.dp.config_version(), Some(1));
    let mut redis = snap(
        u.addr,
        vec![plugin(
            "rl",
            "rate-limiting",
            json!({"minute": 5, "policy": "redis", "redis": {"host": "127.0.0.1"}}),
            global(),
        )],
        vec![],
    );
    redis.config_version = 3;
    // refused or applied, never a panic; applied: a request is answered
    if gw.dp.apply(redis).is_ok() {
        let r = client().get(gw.url("/one")).send().await.unwrap();
        assert!(r.status() == 200 || r.status() == 429 || r.status() == 500);
    }
    let r = client().get(gw.url("/one")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn key_auth_reads_the_key_from_json_and_form_bodies_and_hides_it() {
    let (addr, seen) = recording_upstream().await;
    let gw = start(snap(
        addr,
        vec![plugin(
            "ka",
            "key-auth",
            json!({"key_in_body": true, "hide_credentials": true}),
            global(),
        )],
        vec![consumer("c1", "alice", "k-alice", &[])],
    ))
    .await;
    let c = client();
    let r = c
        .post(gw.url("/one"))
        .header("content-type", "application/json")
        .body(r#"{"apikey":"k-alice","n":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(gw.url("/one"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("a=1&apikey=k-alice&b=2")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(gw.url("/one"))
        .header("content-type", "application/json")
        .body(r#"{"apikey":"wrong"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let bodies: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert_eq!(bodies, [r#"{"n":1}"#, "a=1&b=2"]);
}

#[tokio::test]
async fn request_transformer_edits_json_and_form_bodies() {
    let (addr, seen) = recording_upstream().await;
    let gw = start(snap(
        addr,
        vec![plugin(
            "rt",
            "request-transformer",
            json!({
                "remove": {"body": ["secret"]},
                "rename": {"body": ["old:new"]},
                "replace": {"body": ["rep:R"]},
                "add": {"body": ["added:A", "kept:no"]},
                "append": {"body": ["list:2"]}
            }),
            global(),
        )],
        vec![],
    ))
    .await;
    let c = client();
    let r = c
        .post(gw.url("/one"))
        .header("content-type", "application/json")
        .body(r#"{"secret":"s","old":"o","rep":"r","kept":"k","list":"1"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(gw.url("/one"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("secret=s&old=o&rep=r&kept=k&list=1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let recorded = seen.lock().unwrap().clone();
    let json: Value = serde_json::from_slice(&recorded[0].body).unwrap();
    assert_eq!(
        json,
        json!({"new":"o","rep":"R","kept":"k","list":["1","2"],"added":"A"})
    );
    assert_eq!(
        String::from_utf8_lossy(&recorded[1].body),
        "new=o&kept=k&list=1&rep=R&added=A&list=2"
    );
}
