//! Table-driven tests of the matching rules.
mod common;
use common::*;
use portico_router::{upstream_path, PathHandling, Protocol, RequestContext};
use std::collections::BTreeMap;

fn hdrs(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
        .collect()
}

#[test]
fn prefix_paths_are_plain_string_prefixes() {
    let r = build(&[route("a", |r| r.paths = paths(&["/foo"]))]);
    let cases = [
        ("/foo", true),
        ("/foobar", true),
        ("/foo/bar", true),
        ("/fo", false),
        ("/bar/foo", false),
        ("/FOO", false),
    ];
    for (p, want) in cases {
        assert_eq!(hit(&r, "GET", "x", p, &[]).is_some(), want, "path {p}");
    }
}

#[test]
fn request_paths_are_normalized_before_matching() {
    let r = build(&[
        route("a", |r| r.paths = paths(&["/bar"])),
        route("b", |r| r.paths = paths(&["/~x"])),
    ]);
    let cases = [
        ("/foo/../bar", Some("a")),
        ("//bar", Some("a")),
        ("/./bar?q=/foo", Some("a")),
        ("/%62ar", Some("a")),
        ("/%7ex", Some("b")),
        ("/%7Ex", Some("b")),
        ("/baz/..", None),
        ("", None),
        ("?x=/bar", None),
    ];
    for (p, want) in cases {
        assert_eq!(hit(&r, "GET", "x", p, &[]).as_deref(), want, "path {p}");
    }
}

#[test]
fn empty_path_is_root_and_missing_host_matches_host_less_routes() {
    let r = build(&[
        route("root", |r| r.paths = paths(&["/"])),
        route("hosted", |r| {
            r.paths = paths(&["/"]);
            r.hosts = paths(&["a.com"]);
        }),
    ]);
    assert_eq!(hit(&r, "GET", "", "", &[]).as_deref(), Some("root"));
    assert_eq!(
        hit(&r, "GET", "a.com", "?q=1", &[]).as_deref(),
        Some("hosted")
    );
}

#[test]
fn regex_paths_are_anchored_at_start_only() {
    let r = build(&[route("a", |r| r.paths = paths(&[r"~/users/\d+"]))]);
    let cases = [
        ("/users/12", true),
        ("/users/12/orders", true),
        ("/x/users/12", false),
        ("/users/", false),
    ];
    for (p, want) in cases {
        assert_eq!(hit(&r, "GET", "x", p, &[]).is_some(), want, "path {p}");
    }
}

#[test]
fn regex_captures_named_and_numbered() {
    let r = build(&[route("a", |r| {
        r.paths = paths(&[r"~/users/(?<user>\d+)/(\w+)"]);
    })]);
    let ctx = RequestContext::new("GET", "x", "/users/42/orders/7");
    let m = r.find(&ctx).expect("match");
    assert_eq!(m.captures.get(0), Some("/users/42/orders"));
    assert_eq!(m.captures.get(1), Some("42"));
    assert_eq!(m.captures.get(2), Some("orders"));
    assert_eq!(m.captures.name("user"), Some("42"));
    assert_eq!(m.matched_path, Some(r"~/users/(?<user>\d+)/(\w+)"));
    assert_eq!(m.matched_prefix_len, "/users/42/orders".len());
    assert_eq!(m.upstream_path, "/7");
}

#[test]
fn hosts_exact_wildcard_and_port() {
    let r = build(&[
        route("exact", |r| r.hosts = paths(&["Example.com"])),
        route("suffix", |r| r.hosts = paths(&["*.example.org"])),
        route("prefix", |r| r.hosts = paths(&["example.*"])),
        route("port", |r| r.hosts = paths(&["api.test:8080"])),
    ]);
    let cases = [
        ("example.com", Some("exact")),
        ("EXAMPLE.COM", Some("exact")),
        ("example.com:9000", Some("exact")),
        ("a.example.org", Some("suffix")),
        ("a.b.c.example.org", Some("suffix")),
        ("example.org", Some("prefix")),
        ("aexample.org", None),
        ("example.net", Some("prefix")),
        ("example.co.uk", Some("prefix")),
        ("myexample.net", None),
        ("api.test:8080", Some("port")),
        ("api.test:8081", None),
        ("api.test", None),
        ("other.test", None),
    ];
    for (h, want) in cases {
        assert_eq!(hit(&r, "GET", h, "/", &[]).as_deref(), want, "host {h}");
    }
    // without a port in the Host header the local port (then 80/443) counts
    let ctx =
        RequestContext::new("GET", "api.test", "/").with_dst("10.0.0.1".parse().expect("ip"), 8080);
    assert_eq!(r.find(&ctx).map(|m| m.route_id), Some("port"));
    let m = r
        .find(&RequestContext::new("GET", "x.y.example.org", "/"))
        .expect("match");
    assert_eq!(m.matched_host, Some("*.example.org"));
}

#[test]
fn headers_values_case_insensitive_and_regex() {
    let r = build(&[
        route("plain", |r| {
            r.headers = hdrs(&[("X-Version", &["v1", "V2"])])
        }),
        route("re", |r| {
            r.headers = hdrs(&[("x-team", &[r"~*^team-\d+$"])])
        }),
    ]);
    type Headers<'a> = &'a [(&'a str, &'a str)];
    let cases: [(Headers<'_>, Option<&str>); 9] = [
        (&[("x-version", "v1")], Some("plain")),
        (&[("X-VERSION", "V1")], Some("plain")),
        (&[("x_version", "v2")], Some("plain")),
        (&[("x-version", "v3")], None),
        (&[("x-version", "v3"), ("x-version", "v2")], Some("plain")),
        (&[("x-team", "TEAM-12")], Some("re")),
        (&[("x-team", "team-x")], None),
        (&[("x-team", "a"), ("x-team", "team-1")], Some("re")),
        (&[], None),
    ];
    for (h, want) in cases {
        assert_eq!(
            hit(&r, "GET", "x", "/", h).as_deref(),
            want,
            "headers {h:?}"
        );
    }
}

#[test]
fn methods_any_of_listed() {
    let r = build(&[route("a", |r| r.methods = paths(&["GET", "POST", "PURGE"]))]);
    for (m, want) in [
        ("GET", true),
        ("POST", true),
        ("PURGE", true),
        ("PUT", false),
        ("get", false),
    ] {
        assert_eq!(hit(&r, m, "x", "/", &[]).is_some(), want, "method {m}");
    }
}

#[test]
fn priority_more_fields_first() {
    let r = build(&[
        route("paths", |r| r.paths = paths(&["/"])),
        route("paths+method", |r| {
            r.paths = paths(&["/"]);
            r.methods = paths(&["GET"]);
        }),
    ]);
    assert_eq!(
        hit(&r, "GET", "x", "/a", &[]).as_deref(),
        Some("paths+method")
    );
    assert_eq!(hit(&r, "POST", "x", "/a", &[]).as_deref(), Some("paths"));
}

#[test]
fn priority_plain_hosts_before_wildcards() {
    let r = build(&[
        route("wild", |r| {
            r.hosts = paths(&["*.example.com"]);
            r.paths = paths(&["/long/prefix"]);
        }),
        route("plain", |r| {
            r.hosts = paths(&["a.example.com"]);
            r.paths = paths(&["/"]);
        }),
    ]);
    assert_eq!(
        hit(&r, "GET", "a.example.com", "/long/prefix", &[]).as_deref(),
        Some("plain")
    );
    assert_eq!(
        hit(&r, "GET", "b.example.com", "/long/prefix", &[]).as_deref(),
        Some("wild")
    );
}

#[test]
fn priority_more_headers_first() {
    let r = build(&[
        route("one", |r| r.headers = hdrs(&[("a", &["1"])])),
        route("two", |r| r.headers = hdrs(&[("a", &["1"]), ("b", &["2"])])),
    ]);
    assert_eq!(
        hit(&r, "GET", "x", "/", &[("a", "1"), ("b", "2")]).as_deref(),
        Some("two")
    );
    assert_eq!(
        hit(&r, "GET", "x", "/", &[("a", "1")]).as_deref(),
        Some("one")
    );
}

#[test]
fn priority_regex_before_prefix_and_regex_priority() {
    let r = build(&[
        route("prefix", |r| r.paths = paths(&["/users/123/long/prefix"])),
        route("re-low", |r| {
            r.paths = paths(&[r"~/users/\d+"]);
            r.regex_priority = 1;
        }),
        route("re-high", |r| {
            r.paths = paths(&[r"~/users/1"]);
            r.regex_priority = 5;
        }),
    ]);
    assert_eq!(
        hit(&r, "GET", "x", "/users/123/long/prefix", &[]).as_deref(),
        Some("re-high")
    );
    assert_eq!(
        hit(&r, "GET", "x", "/users/9", &[]).as_deref(),
        Some("re-low")
    );
}

#[test]
fn priority_longer_prefix_first_and_tie_break() {
    let r = build(&[
        route("short", |r| r.paths = paths(&["/a"])),
        route("long", |r| r.paths = paths(&["/a/b"])),
        route("z-old", |r| {
            r.paths = paths(&["/c"]);
            r.created_order = 1;
        }),
        route("a-new", |r| {
            r.paths = paths(&["/c"]);
            r.created_order = 2;
        }),
        route("id-b", |r| r.paths = paths(&["/d"])),
        route("id-a", |r| r.paths = paths(&["/d"])),
    ]);
    assert_eq!(hit(&r, "GET", "x", "/a/b/c", &[]).as_deref(), Some("long"));
    assert_eq!(hit(&r, "GET", "x", "/a/x", &[]).as_deref(), Some("short"));
    assert_eq!(hit(&r, "GET", "x", "/c", &[]).as_deref(), Some("z-old"));
    assert_eq!(hit(&r, "GET", "x", "/d", &[]).as_deref(), Some("id-a"));
}

#[test]
fn several_paths_each_with_own_priority() {
    // route a: "/x" (short) and "/very/long/x" (long); route b: "/very/long"
    let r = build(&[
        route("a", |r| r.paths = paths(&["/x", "/very/long/x"])),
        route("b", |r| r.paths = paths(&["/very/long"])),
    ]);
    assert_eq!(
        hit(&r, "GET", "h", "/very/long/x", &[]).as_deref(),
        Some("a")
    );
    assert_eq!(
        hit(&r, "GET", "h", "/very/long/y", &[]).as_deref(),
        Some("b")
    );
    assert_eq!(hit(&r, "GET", "h", "/x", &[]).as_deref(), Some("a"));
}

#[test]
fn expression_routes_outrank_traditional_and_order_by_priority() {
    let r = build(&[
        route("trad", |r| {
            r.paths = paths(&["/a"]);
            r.methods = paths(&["GET"]);
            r.hosts = paths(&["h"]);
        }),
        route("e-low", |r| {
            r.expression = Some(r#"http.path ^= "/a""#.into());
            r.priority = Some(1);
        }),
        route("e-high", |r| {
            r.expression = Some(r#"http.path ^= "/a/b""#.into());
            r.priority = Some(10);
        }),
    ]);
    assert_eq!(hit(&r, "GET", "h", "/a/b", &[]).as_deref(), Some("e-high"));
    assert_eq!(hit(&r, "GET", "h", "/a/c", &[]).as_deref(), Some("e-low"));
    assert_eq!(hit(&r, "GET", "h", "/b", &[]).as_deref(), None);
}

#[test]
fn protocols_and_https_redirect() {
    let r = build(&[
        route("https-only", |r| {
            r.paths = paths(&["/secure"]);
            r.protocols = paths(&["https"]);
            r.https_redirect_status_code = 308;
        }),
        route("http-only", |r| {
            r.paths = paths(&["/plain"]);
            r.protocols = paths(&["http"]);
        }),
    ]);
    let m = r
        .find(&RequestContext::new("GET", "x", "/secure"))
        .expect("match");
    assert_eq!(m.https_redirect, Some(308));
    let ctx = RequestContext::new("GET", "x", "/secure").with_protocol(Protocol::Https);
    assert_eq!(r.find(&ctx).expect("match").https_redirect, None);
    let ctx = RequestContext::new("GET", "x", "/plain").with_protocol(Protocol::Https);
    assert!(r.find(&ctx).is_none());
    assert!(r.find(&RequestContext::new("GET", "x", "/plain")).is_some());
}

#[test]
fn ws_routes_take_only_websocket_upgrades_and_http_routes_take_them_too() {
    let r = build(&[
        route("ws-only", |r| {
            r.paths = paths(&["/live"]);
            r.protocols = paths(&["ws", "wss"]);
        }),
        route("http", |r| {
            r.paths = paths(&["/api"]);
            r.protocols = paths(&["http"]);
        }),
    ]);
    let at = |path: &str, p: Protocol| {
        r.find(&RequestContext::new("GET", "x", path).with_protocol(p))
            .map(|m| m.route_id.to_string())
    };
    assert_eq!(at("/live", Protocol::Ws).as_deref(), Some("ws-only"));
    assert_eq!(at("/live", Protocol::Http), None);
    assert_eq!(at("/api", Protocol::Ws).as_deref(), Some("http"));
    assert_eq!(at("/api", Protocol::Http).as_deref(), Some("http"));
    assert_eq!(at("/api", Protocol::Wss), None);
    // ws and http do not mix, and unknown protocols name the field
    let err = portico_router::Router::build(&[route("mixed", |r| {
        r.paths = paths(&["/m"]);
        r.protocols = paths(&["http", "ws"]);
    })])
    .err()
    .map(|e| format!("{e:?}"))
    .unwrap_or_default();
    assert!(err.contains("cannot be combined"), "{err}");
    let err = portico_router::Router::build(&[route("bad", |r| {
        r.paths = paths(&["/b"]);
        r.protocols = paths(&["gopher"]);
    })])
    .err()
    .map(|e| format!("{e:?}"))
    .unwrap_or_default();
    assert!(err.contains("protocols[0]") && err.contains("ws"), "{err}");
}

#[test]
fn strip_path_and_upstream_path() {
    let r = build(&[
        route("strip", |r| r.paths = paths(&["/api"])),
        route("keep", |r| {
            r.paths = paths(&["/keep"]);
            r.strip_path = false;
        }),
    ]);
    let cases = [
        ("/api/users", "/users"),
        ("/api", "/"),
        ("/apix", "/x"),
        ("/keep/a", "/keep/a"),
    ];
    for (p, want) in cases {
        let m = r.find(&RequestContext::new("GET", "x", p)).expect("match");
        assert_eq!(m.upstream_path, want, "path {p}");
    }
    let ctx = RequestContext::new("GET", "x", "/api/users");
    let m = r.find(&ctx).expect("match");
    assert_eq!(m.upstream_path_for(Some("/svc"), &ctx), "/svc/users");
}

#[test]
fn path_handling_tables() {
    use PathHandling::{V0, V1};
    // (service, route path, request, strip, handling, expected) from Kong's docs
    let rows = [
        ("/s", "/fv0", "/fv0req", false, V0, "/s/fv0req"),
        ("/s", "/fv1", "/fv1req", false, V1, "/sfv1req"),
        ("/s", "/tv0", "/tv0req", true, V0, "/s/req"),
        ("/s", "/tv1", "/tv1req", true, V1, "/sreq"),
        ("/s", "/fv0/", "/fv0/req", false, V0, "/s/fv0/req"),
        ("/s", "/fv1/", "/fv1/req", false, V1, "/sfv1/req"),
        ("/s", "/tv0/", "/tv0/req", true, V0, "/s/req"),
        ("/s", "/tv1/", "/tv1/req", true, V1, "/sreq"),
        ("/s/", "/fv0", "/fv0req", false, V0, "/s/fv0req"),
        ("/s/", "/fv1", "/fv1req", false, V1, "/s/fv1req"),
        ("/s/", "/tv0", "/tv0req", true, V0, "/s/req"),
        ("/s/", "/tv1", "/tv1req", true, V1, "/s/req"),
        ("/s/", "/fv0/", "/fv0/req", false, V0, "/s/fv0/req"),
        ("/s/", "/fv1/", "/fv1/req", false, V1, "/s/fv1/req"),
        ("/s/", "/tv0/", "/tv0/req", true, V0, "/s/req"),
        ("/s/", "/tv1/", "/tv1/req", true, V1, "/s/req"),
        // edge cases of v0
        ("/s", "/p", "/p", true, V0, "/s"),
        ("/s", "/p", "/p/", true, V0, "/s/"),
        ("/s/", "/p", "/p", true, V0, "/s"),
        ("/s/", "/p", "/p/", true, V0, "/s/"),
        ("/", "/p", "/p", true, V0, "/"),
        ("/s", "/p", "/", false, V0, "/s"),
    ];
    for (svc, rp, req, strip, ph, want) in rows {
        let got = upstream_path(Some(svc), req, rp.len(), strip, ph);
        assert_eq!(got, want, "{svc} {rp} {req} {strip} {ph:?}");
        if !req.starts_with(rp) {
            continue;
        }
        // and through the router
        let r = build(&[route("r", |r| {
            r.paths = paths(&[rp]);
            r.strip_path = strip;
            r.path_handling = ph;
        })]);
        let ctx = RequestContext::new("GET", "x", req);
        let m = r.find(&ctx).expect("match");
        assert_eq!(m.upstream_path_for(Some(svc), &ctx), want);
    }
    assert_eq!(upstream_path(None, "/a/b", 0, true, V0), "/a/b");
}

#[test]
fn route_index_and_name_are_reported() {
    let r = build(&[
        route("a", |r| r.paths = paths(&["/a"])),
        route("b", |r| {
            r.paths = paths(&["/b"]);
            r.name = Some("bee".into());
            r.preserve_host = true;
        }),
    ]);
    let m = r
        .find(&RequestContext::new("GET", "x", "/b"))
        .expect("match");
    assert_eq!(
        (m.route_index, m.route_name, m.preserve_host),
        (1, Some("bee"), true)
    );
    assert_eq!(
        r.find_route(&RequestContext::new("GET", "x", "/a")),
        Some(("a", 0))
    );
}

#[test]
fn router_is_send_and_sync_and_precompile_keeps_results() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<portico_router::Router>();
    // enough regex routes under one literal prefix to use a node regex set
    let routes: Vec<_> = (0..20)
        .map(|i| {
            route(&format!("r{i:02}"), |r| {
                r.paths = paths(&[&format!(r"~/items/(?<id>\d+)/v{i}$")]);
                r.methods = paths(&[if i % 2 == 0 { "GET" } else { "POST" }]);
            })
        })
        .collect();
    let lazy = build(&routes);
    let eager = build(&routes);
    eager.precompile();
    for i in 0..20 {
        for m in ["GET", "POST"] {
            let path = format!("/items/7/v{i}");
            let a = hit(&lazy, m, "h", &path, &[]);
            let b = hit(&eager, m, "h", &path, &[]);
            assert_eq!(a, b);
            let want = (m == if i % 2 == 0 { "GET" } else { "POST" }).then(|| format!("r{i:02}"));
            assert_eq!(a, want, "{m} {path}");
        }
    }
    let m = lazy
        .find(&RequestContext::new("POST", "h", "/items/42/v3"))
        .expect("match");
    assert_eq!(m.captures.name("id"), Some("42"));
}

#[test]
fn expression_host_and_path_constraints_are_indexed_correctly() {
    let r = build(&[
        route("host-or", |r| {
            r.expression = Some(
                r#"(http.host == "a.test" || http.host == "b.test") && http.path ^= "/x""#.into(),
            );
            r.priority = Some(2);
        }),
        route("negated", |r| {
            r.expression = Some(r#"!(http.host == "a.test") && http.path == "/y""#.into());
            r.priority = Some(1);
        }),
        route("lower", |r| {
            r.expression = Some(r#"lower(http.path) ^= "/z""#.into());
        }),
    ]);
    let cases = [
        ("a.test", "/x/1", Some("host-or")),
        ("b.test", "/x", Some("host-or")),
        ("c.test", "/x", None),
        ("c.test", "/y", Some("negated")),
        ("a.test", "/y", None),
        ("c.test", "/Z/q", Some("lower")),
    ];
    for (h, p, want) in cases {
        assert_eq!(hit(&r, "GET", h, p, &[]).as_deref(), want, "{h} {p}");
    }
}
