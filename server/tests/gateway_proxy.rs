//! The data plane over real HTTP: upstream servers on ephemeral ports, a `DataPlane`
//! serving on an ephemeral port, fed snapshots through `apply`.

mod gateway_support;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use gateway_support::*;
use http_body_util::{BodyExt, Empty};
use reqwest::StatusCode;
use serde_json::Value;
use server::gateway::ErrorKind;

async fn get_json(c: &reqwest::Client, url: &str, headers: &[(&str, &str)]) -> (StatusCode, Value) {
    let mut rb = c.get(url);
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    let r = rb.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_reach_the_right_upstream() {
    let names = [
        "prefix", "regex", "host", "wild", "header", "expr", "fallback",
    ];
    let mut ups = BTreeMap::new();
    for n in names {
        ups.insert(n, upstream(n).await);
    }
    let mut services = Vec::new();
    let mut r = route("r-prefix", &["/prefix"]);
    r.strip_path = false;
    services.push(service("prefix", up(ups["prefix"].addr), vec![r]));
    let r = route("r-regex", &[r"~/users/(?<id>\d+)/orders"]);
    services.push(service("regex", up(ups["regex"].addr), vec![r]));
    let mut r = route("r-host", &[]);
    r.hosts = vec!["api.test".into()];
    services.push(service("host", up(ups["host"].addr), vec![r]));
    // with a path too: a host-only wildcard route ranks below the `/` fallback (Kong's
    // priority: one field each, and the fallback's prefix is longer)
    let mut r = route("r-wild", &["/"]);
    r.strip_path = false;
    r.hosts = vec!["*.wild.test".into()];
    services.push(service("wild", up(ups["wild"].addr), vec![r]));
    let mut r = route("r-header", &["/h"]);
    r.headers.insert("x-version".into(), vec!["v2".into()]);
    services.push(service("header", up(ups["header"].addr), vec![r]));
    let mut r = route("r-expr", &[]);
    r.expression = Some(r#"http.path ^= "/expr" && http.headers.x_team == "blue""#.into());
    r.strip_path = false;
    services.push(service("expr", up(ups["expr"].addr), vec![r]));
    let mut r = route("r-fallback", &["/"]);
    r.strip_path = false;
    services.push(service("fallback", up(ups["fallback"].addr), vec![r]));

    let gw = Gateway::start().await;
    assert_eq!(gw.dp.apply(snapshot(1, services)).unwrap(), 1);
    let c = client();

    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        ("/prefix/a?x=1", vec![], "prefix", "/prefix/a?x=1"),
        ("/users/42/orders/7", vec![], "regex", "/7"),
        (
            "/users/abc/orders/7",
            vec![],
            "fallback",
            "/users/abc/orders/7",
        ),
        ("/anything", vec![("host", "api.test")], "host", "/anything"),
        (
            "/anything",
            vec![("host", "API.Test:8080")],
            "host",
            "/anything",
        ),
        ("/x", vec![("host", "a.b.wild.test")], "wild", "/x"),
        ("/x", vec![("host", "wild.test")], "fallback", "/x"),
        ("/h/1", vec![("x-version", "v2")], "header", "/1"),
        ("/h/1", vec![("x-version", "v1")], "fallback", "/h/1"),
        ("/expr/z", vec![("x-team", "blue")], "expr", "/expr/z"),
        ("/expr/z", vec![("x-team", "red")], "fallback", "/expr/z"),
    ];
    for (path, headers, want, want_uri) in cases {
        let (st, v) = get_json(&c, &gw.url(path), &headers).await;
        assert_eq!(st, 200, "{path} {headers:?}: {v}");
        assert_eq!(v["upstream"], want, "{path} {headers:?}: {v}");
        assert_eq!(v["uri"], want_uri, "{path} {headers:?}");
        assert_eq!(v["version"], "HTTP/1.1");
    }

    // the log names the matched route and its service version
    let entries = gw.sink.wait_for(11).await;
    let regex = entries
        .iter()
        .find(|e| e.route_id() == Some("r-regex"))
        .expect("regex route logged");
    assert_eq!(regex.package_id(), Some("regex-package-id"));
    assert_eq!(regex.version_id(), Some("regex-version-id"));
    assert_eq!(regex.route_name(), Some("r-regex-name"));
    assert_eq!(regex.status, 200);
    assert!(regex.error.is_none());
    assert!(regex.upstream_latency_us.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strip_path_and_preserve_host_matrix() {
    let u = upstream("u").await;
    let mut with_path = up(u.addr);
    with_path.path = Some("/base".into());
    let mut routes = Vec::new();
    for (i, (strip, preserve)) in [(true, false), (true, true), (false, false), (false, true)]
        .into_iter()
        .enumerate()
    {
        let mut r = route(&format!("m{i}"), &[&format!("/m{i}")]);
        r.strip_path = strip;
        r.preserve_host = preserve;
        routes.push(r);
    }
    let mut plain_routes = vec![route("p", &["/p"])];
    plain_routes[0].strip_path = true;
    let mut trailing = up(u.addr);
    trailing.path = Some("/t/".into());
    let gw = Gateway::start().await;
    gw.dp
        .apply(snapshot(
            1,
            vec![
                service("based", with_path, routes),
                service("plain", up(u.addr), plain_routes),
                service("trailing", trailing, vec![route("t", &["/tt"])]),
            ],
        ))
        .unwrap();
    let c = client();
    let upstream_host = format!("127.0.0.1:{}", u.addr.port());
    let cases = [
        (
            "/m0/x?q=1",
            "/base/x?q=1",
            upstream_host.as_str(),
            Some("/m0"),
        ),
        ("/m1/x?q=1", "/base/x?q=1", "client.test", Some("/m1")),
        ("/m2/x?q=1", "/base/m2/x?q=1", upstream_host.as_str(), None),
        ("/m3/x?q=1", "/base/m3/x?q=1", "client.test", None),
        ("/m0", "/base", upstream_host.as_str(), Some("/m0")),
        ("/p/deep/er", "/deep/er", upstream_host.as_str(), Some("/p")),
        ("/p", "/", upstream_host.as_str(), Some("/p")),
        ("/tt/y", "/t/y", upstream_host.as_str(), Some("/tt")),
    ];
    for (path, want_uri, want_host, want_prefix) in cases {
        let (st, v) = get_json(&c, &gw.url(path), &[("host", "client.test")]).await;
        assert_eq!(st, 200, "{path}: {v}");
        assert_eq!(v["uri"], want_uri, "{path}");
        assert_eq!(echoed(&v, "host"), vec![want_host.to_string()], "{path}");
        assert_eq!(
            echoed(&v, "x-forwarded-prefix"),
            want_prefix.map(|p| vec![p.to_string()]).unwrap_or_default(),
            "{path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_headers_and_hop_by_hop_removal() {
    let u = upstream("u").await;
    let gw = Gateway::start().await;
    gw.dp
        .apply(snapshot(
            1,
            vec![service("s", up(u.addr), vec![route("r", &["/api"])])],
        ))
        .unwrap();
    let c = client();
    let r = c
        .get(gw.url("/api/things?a=b"))
        .header("host", "Shop.Example:9999")
        .header("x-forwarded-for", "203.0.113.9")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-prefix", "/spoofed")
        .header("via", "1.0 corp-proxy")
        .header("connection", "x-secret, keep-alive")
        .header("x-secret", "do not forward")
        .header("keep-alive", "timeout=5")
        .header("proxy-authorization", "Basic Zm9vOmJhcg==")
        .header("te", "trailers")
        .header("x-plain", "kept")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        echoed(&v, "x-forwarded-for"),
        vec!["203.0.113.9, 127.0.0.1"]
    );
    assert_eq!(echoed(&v, "x-forwarded-proto"), vec!["http"]);
    assert_eq!(echoed(&v, "x-forwarded-host"), vec!["shop.example"]);
    assert_eq!(
        echoed(&v, "x-forwarded-port"),
        vec![gw.addr.port().to_string()]
    );
    assert_eq!(echoed(&v, "x-forwarded-prefix"), vec!["/api"]);
    assert_eq!(echoed(&v, "via"), vec!["1.0 corp-proxy", "1.1 portico"]);
    assert_eq!(echoed(&v, "x-plain"), vec!["kept"]);
    for gone in [
        "x-secret",
        "keep-alive",
        "proxy-authorization",
        "te",
        "connection",
    ] {
        // hyper's client adds its own `connection` only when closing; none here
        assert!(
            echoed(&v, gone).is_empty(),
            "{gone} reached the upstream: {v}"
        );
    }
    let id = echoed(&v, "x-request-id");
    assert_eq!(id.len(), 1);
    assert!(uuid::Uuid::parse_str(&id[0]).is_ok(), "{id:?}");
    assert_eq!(h["x-request-id"].to_str().unwrap(), id[0]);
    assert_eq!(h["via"].to_str().unwrap(), "1.1 portico");
    let up_latency: u64 = h["x-portico-upstream-latency"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let proxy_latency: u64 = h["x-portico-proxy-latency"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(up_latency < 5_000 && proxy_latency < 5_000);
    assert!(
        h.get("server").is_none(),
        "the upstream sent no Server header"
    );

    // a client's request id is kept; two requests get different generated ids
    let (_, v) = get_json(&c, &gw.url("/api"), &[("x-request-id", "abc-123")]).await;
    assert_eq!(echoed(&v, "x-request-id"), vec!["abc-123"]);
    let (_, a) = get_json(&c, &gw.url("/api"), &[]).await;
    let (_, b) = get_json(&c, &gw.url("/api"), &[]).await;
    assert_ne!(echoed(&a, "x-request-id"), echoed(&b, "x-request-id"));

    // hop-by-hop headers of the response are removed too
    let r = c.get(gw.url("/api/hop")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("x-up-custom").is_none());
    assert!(r.headers().get("keep-alive").is_none());
    assert_eq!(r.headers()["x-up-plain"], "kept");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["uri"], "/hop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_route_and_https_only_answers() {
    let u = upstream("u").await;
    let gw = Gateway::start().await;
    let c = client();
    // before any config
    let r = c.get(gw.url("/x")).send().await.unwrap();
    assert_eq!(r.status(), 503);

    let mut tls_426 = route("tls426", &["/secure"]);
    tls_426.protocols = vec!["https".into()];
    let mut tls_301 = route("tls301", &["/moved"]);
    tls_301.protocols = vec!["https".into()];
    tls_301.https_redirect_status_code = 301;
    gw.dp
        .apply(snapshot(
            1,
            vec![service(
                "s",
                up(u.addr),
                vec![route("r", &["/api"]), tls_426, tls_301],
            )],
        ))
        .unwrap();

    let r = c.get(gw.url("/nowhere")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "application/json; charset=utf-8");
    assert_eq!(
        h["server"].to_str().unwrap(),
        format!("portico/{}", env!("CARGO_PKG_VERSION"))
    );
    assert!(h["x-portico-response-latency"]
        .to_str()
        .unwrap()
        .parse::<u64>()
        .is_ok());
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        serde_json::json!({"message": "no Route matched with those values"})
    );

    let r = c.get(gw.url("/secure/x")).send().await.unwrap();
    assert_eq!(r.status(), 426);
    assert_eq!(r.headers()["upgrade"], "TLS/1.2, HTTP/1.1");
    assert_eq!(r.headers()["connection"], "Upgrade");
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        serde_json::json!({"message": "Please use HTTPS protocol"})
    );

    let r = c
        .get(gw.url("/moved/x?y=1"))
        .header("host", "shop.test:8000")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 301);
    assert_eq!(r.headers()["location"], "https://shop.test/moved/x?y=1");

    // nothing reached the upstream
    assert_eq!(u.state.requests.load(Ordering::SeqCst), 0);
    let entries = gw.sink.wait_for(4).await;
    let kinds: Vec<_> = entries.iter().map(|e| (e.status, e.error)).collect();
    assert_eq!(
        kinds,
        vec![
            (503, Some(ErrorKind::NotReady)),
            (404, Some(ErrorKind::NoRoute)),
            (426, Some(ErrorKind::HttpsRequired)),
            (301, Some(ErrorKind::HttpsRequired)),
        ]
    );
    assert!(entries[1].route.is_none());
    assert_eq!(entries[2].route_id(), Some("tls426"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_failures_are_retried_then_502() {
    let closed = closed_port().await;
    let mut u = up(closed);
    u.retries = 3;
    let (reset, accepted) = accept_and_close().await;
    let gw = Gateway::start().await;
    gw.dp
        .apply(snapshot(
            1,
            vec![
                service("closed", u, vec![route("r", &["/closed"])]),
                service("reset", up(reset), vec![route("r2", &["/reset"])]),
            ],
        ))
        .unwrap();
    let c = client();
    let before = gw.dp.status();
    let r = c.get(gw.url("/closed")).send().await.unwrap();
    assert_eq!(r.status(), 502);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        serde_json::json!({"message": "An invalid response was received from the upstream server"})
    );
    let after = gw.dp.status();
    assert_eq!(
        after.upstream_connect_attempts - before.upstream_connect_attempts,
        4
    );
    assert_eq!(
        after.upstream_connect_failures - before.upstream_connect_failures,
        4
    );

    // connected, then closed without an answer: 502 as well, one connection
    let r = c.get(gw.url("/reset")).send().await.unwrap();
    assert_eq!(r.status(), 502);
    assert_eq!(accepted.load(Ordering::SeqCst), 1);

    let entries = gw.sink.wait_for(2).await;
    assert!(entries
        .iter()
        .all(|e| e.status == 502 && e.error == Some(ErrorKind::UpstreamUnavailable)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_timeout_is_504() {
    // A listener whose accept queue is full: further connection attempts hang.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(s)) = tokio::time::timeout(
            Duration::from_millis(100),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            fillers.push(s);
        }
    }
    let mut u = up(addr);
    u.connect_timeout_ms = 150;
    u.retries = 1;
    let gw = Gateway::start().await;
    gw.dp
        .apply(snapshot(1, vec![service("s", u, vec![route("r", &["/"])])]))
        .unwrap();
    let started = Instant::now();
    let r = client().get(gw.url("/x")).send().await.unwrap();
    let took = started.elapsed();
    assert_eq!(r.status(), 504);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        serde_json::json!({"message": "The upstream server is timing out"})
    );
    assert!(
        took >= Duration::from_millis(290),
        "two attempts of 150 ms: {took:?}"
    );
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(gw.dp.status().upstream_connect_attempts, 2);
    drop(listener);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_upstream_read_timeout_is_504() {
    let u = upstream("slow").await;
    let mut settings = up(u.addr);
    settings.read_timeout_ms = 200;
    let gw = Gateway::start().await;
    gw.dp
        .apply(snapshot(
            1,
            vec![service("s", settings, vec![route("r", &["/"])])],
        ))
        .unwrap();
    let c = client();
    let started = Instant::now();
    let r = c.get(gw.url("/slow/2000")).send().await.unwrap();
    let took = started.elapsed();
    assert_eq!(r.status(), 504);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        serde_json::json!({"message": "The upstream server is timing out"})
    );
    assert!(
        took >= Duration::from_millis(190) && took < Duration::from_millis(1500),
        "{took:?}"
    );
    // a quick request on the same upstream still works, and so does one that waits
    // less than the timeout
    let (st, _) = get_json(&c, &gw.url("/slow/50"), &[]).await;
    assert_eq!(st, 200);
    let entries = gw.sink.wait_for(2).await;
    assert_eq!(entries[0].status, 504);
    assert_eq!(entries[0].error, Some(ErrorKind::UpstreamTimeout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_that_stops_reading_hits_the_write_timeout() {
    // accepts, never reads: once the socket buffers are full, writes block
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = held.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            keep.lock().unwrap().push(s);
        }
    });
    let mut settings = up(addr);
    settings.write_timeout_ms = 300;
    settings.read_timeout_ms = 10_000;
    let gw = Gateway::start().await;
    gw.dp
        .apply(snapshot(
            1,
            vec![service("s", settings, vec![route("r", &["/"])])],
        ))
        .unwrap();
    let mut send = raw::<GenBody>(gw.addr).await;
    let req = hyper::Request::post("/upload")
        .header("host", "gw.test")
        .body(GenBody::new(512 * 1024 * 1024))
        .unwrap();
    let started = Instant::now();
    let resp = tokio::time::timeout(Duration::from_secs(8), send.send_request(req))
        .await
        .expect("an answer before the read timeout");
    let took = started.elapsed();
    // Portico answers 504 while the client is still sending; the client may see the
    // answer or a connection closed under its upload
    if let Ok(resp) = resp {
        assert_eq!(resp.status(), 504);
    }
    assert!(took < Duration::from_secs(8), "{took:?}");
    let entries = gw.sink.wait_for(1).await;
    assert_eq!(entries[0].status, 504);
    assert_eq!(entries[0].error, Some(ErrorKind::UpstreamTimeout));
    assert!(entries[0].request_bytes > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_streamed_both_ways() {
    const SIZE: u64 = 100 * 1024 * 1024;
    let u = upstream("big").await;
    let gw = Gateway::start().await;
    gw.dp
        .apply(snapshot(
            1,
            vec![service("s", up(u.addr), vec![route("r", &["/"])])],
        ))
        .unwrap();

    // sample the resident set while the transfers run
    let baseline = rss();
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(baseline));
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let peak = peak.clone();
        let sampling = sampling.clone();
        tokio::spawn(async move {
            while sampling.load(Ordering::SeqCst) {
                peak.fetch_max(rss(), Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };

    // upload: 100 MiB through the gateway, counted by the upstream
    let mut send = raw::<GenBody>(gw.addr).await;
    let req = hyper::Request::post("/upload")
        .header("host", "gw.test")
        .body(GenBody::new(SIZE))
        .unwrap();
    let resp = send.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["received"].as_u64(), Some(SIZE));

    // download: 100 MiB from the upstream, counted here chunk by chunk
    let mut send = raw::<Empty<Bytes>>(gw.addr).await;
    let req = hyper::Request::get(format!("/download/{SIZE}"))
        .header("host", "gw.test")
        .body(Empty::new())
        .unwrap();
    let resp = send.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-length"], SIZE.to_string());
    let mut body = resp.into_body();
    let mut n = 0u64;
    while let Some(f) = body.frame().await {
        if let Some(d) = f.unwrap().data_ref() {
            n += d.len() as u64;
        }
    }
    assert_eq!(n, SIZE);
    sampling.store(false, Ordering::SeqCst);
    sampler.await.unwrap();
    let grew = peak.load(Ordering::SeqCst).saturating_sub(baseline);
    assert!(
        grew < 40 * 1024 * 1024,
        "resident set grew by {} MiB while streaming 100 MiB",
        grew / 1024 / 1024
    );

    let entries = gw.sink.wait_for(2).await;
    assert_eq!(entries[0].request_bytes, SIZE);
    assert_eq!(entries[0].status, 200);
    assert_eq!(entries[1].response_bytes, SIZE);
    assert_eq!(entries[1].request_bytes, 0);
    assert!(entries.iter().all(|e| e.error.is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_bytes_arrive_before_the_upstream_finished() {
    let u = upstream("gated").await;
    let gw = Gateway::start().await;
    gw.dp
        .apply(snapshot(
            1,
            vec![service("s", up(u.addr), vec![route("r", &["/"])])],
        ))
        .unwrap();
    let mut send = raw::<Empty<Bytes>>(gw.addr).await;
    let total = 4 * 1024 * 1024u64;
    let req = hyper::Request::get(format!("/gated/{total}"))
        .header("host", "gw.test")
        .body(Empty::new())
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(5), send.send_request(req))
        .await
        .expect("response headers before the upstream finished")
        .unwrap();
    let mut body = resp.into_body();
    let mut n = 0u64;
    // the first MiB arrives although the upstream is still holding the rest
    while n < 1024 * 1024 {
        let f = tokio::time::timeout(Duration::from_secs(5), body.frame())
            .await
            .expect("streamed, not buffered")
            .unwrap()
            .unwrap();
        n += f.data_ref().map_or(0, |d| d.len() as u64);
    }
    assert!(!u.state.gated_done.load(Ordering::SeqCst));
    u.state.gate.notify_one();
    while let Some(f) = body.frame().await {
        n += f.unwrap().data_ref().map_or(0, |d| d.len() as u64);
    }
    assert_eq!(n, total);
    assert!(u.state.gated_done.load(Ordering::SeqCst));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_snapshot_takes_effect_at_once_and_keeps_the_pool() {
    let a = upstream("a").await;
    let b = upstream("b").await;
    let gw = Gateway::start().await;
    gw.dp
        .apply(snapshot(
            1,
            vec![service("s", up(a.addr), vec![route("r", &["/one"])])],
        ))
        .unwrap();
    let c = client();
    for _ in 0..5 {
        let (st, v) = get_json(&c, &gw.url("/one"), &[]).await;
        assert_eq!((st, v["upstream"].as_str()), (StatusCode::OK, Some("a")));
    }
    // same upstream, new route: the pooled connection to `a` is reused
    gw.dp
        .apply(snapshot(
            2,
            vec![
                service(
                    "s",
                    up(a.addr),
                    vec![route("r", &["/one"]), route("r2", &["/two"])],
                ),
                service("t", up(b.addr), vec![route("r3", &["/three"])]),
            ],
        ))
        .unwrap();
    assert_eq!(gw.dp.config_version(), Some(2));
    let (st, v) = get_json(&c, &gw.url("/two"), &[]).await;
    assert_eq!((st, v["upstream"].as_str()), (StatusCode::OK, Some("a")));
    let (st, v) = get_json(&c, &gw.url("/three"), &[]).await;
    assert_eq!((st, v["upstream"].as_str()), (StatusCode::OK, Some("b")));
    assert_eq!(
        a.state.connections.load(Ordering::SeqCst),
        1,
        "pool kept across snapshots"
    );
    assert_eq!(a.state.requests.load(Ordering::SeqCst), 6);

    // the route moves to `b`
    gw.dp
        .apply(snapshot(
            3,
            vec![service("t", up(b.addr), vec![route("r", &["/one"])])],
        ))
        .unwrap();
    let (st, v) = get_json(&c, &gw.url("/one"), &[]).await;
    assert_eq!((st, v["upstream"].as_str()), (StatusCode::OK, Some("b")));
    let (st, _) = get_json(&c, &gw.url("/two"), &[]).await;
    assert_eq!(st, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_snapshot_is_refused_and_the_old_one_keeps_serving() {
    let u = upstream("u").await;
    let gw = Gateway::start().await;
    gw.dp
        .apply(snapshot(
            1,
            vec![service("s", up(u.addr), vec![route("good", &["/ok"])])],
        ))
        .unwrap();
    let mut bad = route("broken-route", &["~/(unclosed"]);
    bad.name = Some("broken".into());
    let err = gw
        .dp
        .apply(snapshot(
            2,
            vec![service("s", up(u.addr), vec![route("good", &["/ok"]), bad])],
        ))
        .unwrap_err();
    assert!(err.contains("broken-route"), "{err}");
    assert!(err.contains("paths[0]"), "{err}");
    let mut bad_up = up(u.addr);
    bad_up.protocol = "ftp".into();
    let err2 = gw
        .dp
        .apply(snapshot(
            3,
            vec![service("s", bad_up, vec![route("good", &["/ok"])])],
        ))
        .unwrap_err();
    assert!(err2.contains("ftp"), "{err2}");
    let mut zero = up(u.addr);
    zero.read_timeout_ms = 0;
    let err0 = gw
        .dp
        .apply(snapshot(
            4,
            vec![service("s", zero, vec![route("good", &["/ok"])])],
        ))
        .unwrap_err();
    assert!(err0.contains("read_timeout_ms"), "{err0}");
    let mut huge = up(u.addr);
    huge.connect_timeout_ms = u64::MAX;
    assert!(gw
        .dp
        .apply(snapshot(
            5,
            vec![service("s", huge, vec![route("good", &["/ok"])])]
        ))
        .unwrap_err()
        .contains("connect_timeout_ms"));

    assert_eq!(gw.dp.config_version(), Some(1));
    let status = gw.dp.status();
    assert!(status.ready);
    assert_eq!(status.config_version, Some(1));
    assert!(status
        .last_error
        .as_deref()
        .unwrap()
        .contains("connect_timeout_ms"));
    assert_eq!(status.last_error_version, Some(5));
    let (st, v) = get_json(&client(), &gw.url("/ok"), &[]).await;
    assert_eq!(st, 200, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_prior_knowledge_clients() {
    let u = upstream("u").await;
    let gw = Gateway::start().await;
    gw.dp
        .apply(snapshot(
            1,
            vec![service("s", up(u.addr), vec![route("r", &["/h2"])])],
        ))
        .unwrap();
    let c = reqwest::Client::builder()
        .no_proxy()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..10 {
        let c = c.clone();
        let url = gw.url(&format!("/h2/{i}?x=y"));
        tasks.push(tokio::spawn(async move {
            let r = c.get(url).send().await.unwrap();
            assert_eq!(r.version(), reqwest::Version::HTTP_2);
            assert_eq!(r.status(), 200);
            assert_eq!(r.headers()["via"], "2 portico");
            r.json::<Value>().await.unwrap()
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        let v = t.await.unwrap();
        assert_eq!(v["uri"], format!("/{i}?x=y"));
        assert_eq!(v["version"], "HTTP/1.1");
        assert_eq!(
            echoed(&v, "host"),
            vec![format!("127.0.0.1:{}", u.addr.port())]
        );
        assert_eq!(echoed(&v, "x-forwarded-host"), vec!["127.0.0.1"]);
    }
    // an h2 request with a body
    let r = c
        .post(gw.url("/h2/upload"))
        .body(vec![7u8; 100_000])
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["received"], 100_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_step_fires_once_per_request_also_on_client_abort() {
    let u = upstream("u").await;
    let gw = Gateway::start().await;
    gw.dp
        .apply(snapshot(
            1,
            vec![service("s", up(u.addr), vec![route("r", &["/"])])],
        ))
        .unwrap();
    let c = client();

    // a complete exchange with bodies both ways
    let r = c
        .post(gw.url("/upload"))
        .body(vec![1u8; 12_345])
        .send()
        .await
        .unwrap();
    let body = r.bytes().await.unwrap();
    let entries = gw.sink.wait_for(1).await;
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(e.route_id(), Some("r"));
    assert_eq!(e.status, 200);
    assert_eq!(e.request_bytes, 12_345);
    assert_eq!(e.response_bytes, body.len() as u64);
    assert_eq!(e.method, hyper::Method::POST);
    assert_eq!(e.runtime_group.as_ref(), "default");
    assert!(e.total_latency_us >= e.upstream_latency_us.unwrap());
    assert!(e.error.is_none());

    // the client gives up while the upstream is still thinking
    let impatient = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    assert!(impatient.get(gw.url("/slow/1000")).send().await.is_err());
    let entries = gw.sink.wait_for(2).await;
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].status, 499);
    assert_eq!(entries[1].error, Some(ErrorKind::ClientAbort));
    assert_eq!(entries[1].route_id(), Some("r"));

    // the client leaves in the middle of a download
    {
        let mut send = raw::<Empty<Bytes>>(gw.addr).await;
        let req = hyper::Request::get("/download/52428800")
            .header("host", "gw.test")
            .body(Empty::new())
            .unwrap();
        let resp = send.send_request(req).await.unwrap();
        let mut body = resp.into_body();
        let f = body.frame().await.unwrap().unwrap();
        assert!(f.data_ref().is_some());
        drop(body);
        drop(send);
    }
    let entries = gw.sink.wait_for(3).await;
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[2].status, 200);
    assert_eq!(entries[2].error, Some(ErrorKind::ClientAbort));
    assert!(entries[2].response_bytes < 52_428_800);

    // nothing is logged twice, even later
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(gw.sink.entries().len(), 3);
    assert_eq!(gw.dp.status().requests, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_lets_in_flight_requests_finish() {
    let u = upstream("u").await;
    let mut gw = Gateway::start().await;
    gw.dp
        .apply(snapshot(
            1,
            vec![service("s", up(u.addr), vec![route("r", &["/"])])],
        ))
        .unwrap();
    let c = client();
    let url = gw.url("/slow/600");
    let in_flight = tokio::spawn({
        let c = c.clone();
        async move { c.get(url).send().await.map(|r| r.status()) }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let started = Instant::now();
    let serving = gw.shutdown();
    assert_eq!(in_flight.await.unwrap().unwrap(), 200);
    tokio::time::timeout(Duration::from_secs(5), serving)
        .await
        .expect("serve returns after draining")
        .unwrap()
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    // no longer accepting
    assert!(tokio::net::TcpStream::connect(gw.addr).await.is_err());
    let entries = gw.sink.wait_for(1).await;
    assert_eq!(entries[0].status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_listener() {
    let sink = Arc::new(Collect::default());
    let dp = server::gateway::DataPlane::new("edge".into(), sink);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let serving = dp.clone();
    let task = tokio::spawn(async move {
        serving
            .serve_status(listener, async move {
                let _ = rx.await;
            })
            .await
    });
    let c = client();
    let url = format!("http://{addr}/status");
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["ready"], false);
    assert_eq!(v["runtime_group"], "edge");
    let u = upstream("u").await;
    dp.apply(snapshot(
        7,
        vec![service("s", up(u.addr), vec![route("r", &["/"])])],
    ))
    .unwrap();
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["ready"], true);
    assert_eq!(v["config_version"], 7);
    assert_eq!(v["routes"], 1);
    assert_eq!(
        c.get(format!("http://{addr}/other"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let _ = tx.send(());
    task.await.unwrap().unwrap();
}

/// A fake control plane: answers config polls from a script and records reports.
#[derive(Default)]
struct FakeControlPlane {
    polls: std::sync::Mutex<Vec<(String, hyper::HeaderMap)>>,
    reports: std::sync::Mutex<Vec<Value>>,
    snapshots: std::sync::Mutex<BTreeMap<u64, Value>>,
}

async fn fake_control_plane(cp: Arc<FakeControlPlane>) -> std::net::SocketAddr {
    use http_body_util::Full;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let cp = cp.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let cp = cp.clone();
                        async move {
                            let uri = req.uri().to_string();
                            let mut resp = hyper::Response::new(Full::new(Bytes::new()));
                            if req.method() == hyper::Method::POST
                                && req.uri().path() == "/dp/v1/report"
                            {
                                let body = req.into_body().collect().await.unwrap().to_bytes();
                                cp.reports
                                    .lock()
                                    .unwrap()
                                    .push(serde_json::from_slice(&body).unwrap());
                                *resp.status_mut() = hyper::StatusCode::NO_CONTENT;
                                return Ok::<_, std::convert::Infallible>(resp);
                            }
                            cp.polls
                                .lock()
                                .unwrap()
                                .push((uri.clone(), req.headers().clone()));
                            let after: u64 = uri
                                .split("after=")
                                .nth(1)
                                .and_then(|s| s.split('&').next())
                                .and_then(|s| s.parse().ok())
                                .unwrap_or(0);
                            let next = cp
                                .snapshots
                                .lock()
                                .unwrap()
                                .range(after + 1..)
                                .next()
                                .map(|(_, v)| v.clone());
                            match next {
                                Some(v) => *resp.body_mut() = Full::new(Bytes::from(v.to_string())),
                                None => {
                                    tokio::time::sleep(Duration::from_millis(100)).await;
                                    *resp.status_mut() = hyper::StatusCode::NO_CONTENT;
                                }
                            }
                            Ok(resp)
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(s), svc)
                    .await;
            });
        }
    });
    addr
}

async fn start_node(
    control_plane: String,
    cache: &std::path::Path,
) -> (
    std::net::SocketAddr,
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    use server::gateway::node::{run_node, NodeOptions};
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let status = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (pa, sa) = (proxy.local_addr().unwrap(), status.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let opts = NodeOptions {
        control_plane,
        runtime_group: "default".into(),
        token: Some("dp-token".into()),
        cache_dir: cache.to_path_buf(),
        limits: Default::default(),
    };
    let task = tokio::spawn(run_node(
        opts,
        proxy,
        status,
        Arc::new(server::gateway::CountingSink::new()),
        async move {
            let _ = rx.await;
        },
    ));
    (pa, sa, tx, task)
}

async fn wait_status(c: &reqwest::Client, status: std::net::SocketAddr, version: u64) -> Value {
    for _ in 0..200 {
        if let Ok(r) = c.get(format!("http://{status}/status")).send().await {
            let v: Value = r.json().await.unwrap_or(Value::Null);
            if v["config_version"] == version {
                return v;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the node never reached config version {version}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_node_syncs_reports_caches_and_restarts_from_cache() {
    let u = upstream("u").await;
    let cp = Arc::new(FakeControlPlane::default());
    let good = snapshot(1, vec![service("s", up(u.addr), vec![route("r", &["/n"])])]);
    let bad = snapshot(
        2,
        vec![service("s", up(u.addr), vec![route("r", &["~/(x"])])],
    );
    cp.snapshots
        .lock()
        .unwrap()
        .insert(1, serde_json::to_value(&good).unwrap());
    cp.snapshots
        .lock()
        .unwrap()
        .insert(2, serde_json::to_value(&bad).unwrap());
    let cp_addr = fake_control_plane(cp.clone()).await;
    let cache = tempfile::tempdir().unwrap();
    let c = client();

    let (proxy, status, stop, task) = start_node(format!("http://{cp_addr}/"), cache.path()).await;
    let st = wait_status(&c, status, 1).await;
    assert_eq!(st["ready"], true);
    let (code, v) = get_json(&c, &format!("http://{proxy}/n/x"), &[]).await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["uri"], "/x");
    // the refused snapshot is reported, and the node then asks for newer ones
    for _ in 0..200 {
        if !cp.reports.lock().unwrap().is_empty()
            && cp
                .polls
                .lock()
                .unwrap()
                .iter()
                .any(|(u, _)| u.contains("after=2"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let reports = cp.reports.lock().unwrap().clone();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0]["config_version"], 2);
    assert!(
        reports[0]["error"].as_str().unwrap().contains("paths[0]"),
        "{reports:?}"
    );
    let st = wait_status(&c, status, 1).await;
    assert_eq!(st["last_error_version"], 2);

    let node_id = std::fs::read_to_string(cache.path().join("node-id")).unwrap();
    let node_id = node_id.trim().to_string();
    assert!(uuid::Uuid::parse_str(&node_id).is_ok());
    {
        let polls = cp.polls.lock().unwrap();
        assert!(
            polls[0].0.starts_with("/dp/v1/config?after=0"),
            "{}",
            polls[0].0
        );
        assert!(polls.iter().any(|(u, _)| u.contains("after=2")));
        let h = &polls[0].1;
        assert_eq!(h["authorization"], "Bearer dp-token");
        assert_eq!(h["x-portico-runtime-group"], "default");
        assert_eq!(h["x-portico-node-id"], node_id.as_str());
        assert_eq!(h["x-portico-config-version"], "0");
        assert_eq!(h["x-portico-node-version"], env!("CARGO_PKG_VERSION"));
        assert!(!h["x-portico-node-hostname"].is_empty());
        let last = &polls.last().unwrap().1;
        assert_eq!(last["x-portico-config-version"], "1");
    }
    let cached: Value =
        serde_json::from_slice(&std::fs::read(cache.path().join("config.json")).unwrap()).unwrap();
    assert_eq!(cached["config_version"], 1);

    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the node stops")
        .unwrap()
        .unwrap();

    // restart with the control plane unreachable: serves the cached config at once
    let (proxy, status, stop, task) =
        start_node(format!("http://{}", closed_port().await), cache.path()).await;
    let st = wait_status(&c, status, 1).await;
    assert_eq!(st["ready"], true);
    let (code, v) = get_json(&c, &format!("http://{proxy}/n/y"), &[]).await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["uri"], "/y");
    assert_eq!(
        std::fs::read_to_string(cache.path().join("node-id"))
            .unwrap()
            .trim(),
        node_id
    );
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the node stops")
        .unwrap()
        .unwrap();
}
