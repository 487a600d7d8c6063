//! Property tests: the index and the linear reference matcher choose the same
//! route with the same captures, on random route sets and requests.
mod common;
use common::reference;
use portico_router::{Protocol, RequestContext, RouteConfig, Router};
use proptest::prelude::*;
use std::collections::BTreeMap;

const HOSTS: &[&str] = &[
    "a.com",
    "b.com",
    "*.a.com",
    "*.com",
    "a.*",
    "x.a.com",
    "a.com:8080",
    "*.a.com:8443",
    "B.COM",
];
const PATHS: &[&str] = &[
    "/",
    "/a",
    "/ab",
    "/a/b",
    "/b",
    "/a/1",
    r"~/a/(?<n>\d+)",
    "~/a",
    r"~/(a|b)/c",
    r"~/b/\d+$",
    r"~/a/(\d)(?<rest>.*)",
    "~/a/b",
    "/a%2Fb",
];
const METHODS: &[&str] = &["GET", "POST", "PUT"];
const HEADER_NAMES: &[&str] = &["x-a", "X_B"];
const HEADER_VALUES: &[&str] = &["1", "Two", r"~*^v\d$"];
const EXPRS: &[&str] = &[
    r#"http.path ^= "/a""#,
    r#"http.host == "a.com" && http.path ~ "^/a/(?P<n>\\d+)""#,
    r#"http.host == "b.com" || http.host == "a.com""#,
    r#"any(http.headers.x_a) == "1" && http.method == "GET""#,
    r#"http.path == "/b" || http.path.segments.0 == "c""#,
    r#"net.dst.port == 8080"#,
    r#"lower(http.path) ^= "/a""#,
];

fn pick<'a>(v: &'a [&'a str], idx: &[usize]) -> Vec<String> {
    let mut out: Vec<String> = idx.iter().map(|i| v[i % v.len()].to_string()).collect();
    out.dedup();
    out
}

type Spec = (
    Vec<usize>,
    Vec<usize>,
    Vec<usize>,
    Vec<(usize, Vec<usize>)>,
    i64,
    u64,
    Option<(usize, u64)>,
    usize,
);

fn route_strategy() -> impl Strategy<Value = Spec> {
    (
        prop::collection::vec(0..100usize, 0..3),
        prop::collection::vec(0..100usize, 0..3),
        prop::collection::vec(0..100usize, 0..3),
        prop::collection::vec(
            (0..100usize, prop::collection::vec(0..100usize, 1..3)),
            0..3,
        ),
        0..3i64,
        0..4u64,
        prop::option::weighted(0.15, (0..100usize, 0..3u64)),
        0..10usize,
    )
}

fn make_route(i: usize, s: Spec) -> RouteConfig {
    let (m, h, p, hd, rp, created, expr, proto) = s;
    let mut r = RouteConfig::new(format!("r{i:02}"));
    r.created_order = created;
    r.protocols = match proto {
        0 => vec!["https".into()],
        1 => vec!["http".into()],
        _ => vec!["http".into(), "https".into()],
    };
    if let Some((e, prio)) = expr {
        r.expression = Some(EXPRS[e % EXPRS.len()].to_string());
        r.priority = Some(prio);
        return r;
    }
    r.methods = pick(METHODS, &m);
    r.hosts = pick(HOSTS, &h);
    r.paths = pick(PATHS, &p);
    r.regex_priority = rp;
    let mut headers = BTreeMap::new();
    for (n, vals) in hd {
        headers.insert(
            HEADER_NAMES[n % HEADER_NAMES.len()].to_string(),
            pick(HEADER_VALUES, &vals),
        );
    }
    r.headers = headers;
    if r.methods.is_empty() && r.hosts.is_empty() && r.paths.is_empty() && r.headers.is_empty() {
        r.paths = vec!["/".into()];
    }
    r
}

const REQ_HOSTS: &[&str] = &[
    "a.com",
    "b.com",
    "x.a.com",
    "y.x.a.com",
    "a.org",
    "com",
    "A.COM",
    "a.com:8080",
    "x.a.com:8443",
    "c.net",
];
const REQ_PATHS: &[&str] = &[
    "/a/b/", "/a/bc", "/a/xyz", "/a/123", "/a/12", "/a/c/", "/", "/a", "/ab", "/a/b", "/a/12",
    "/a/12/x", "/b/3", "/b/c", "/a/c", "/c", "/a/1", "/A", "/a/../b", "/a%2fb", "/a//b",
    "/c/x?y=1",
];
const REQ_METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE"];
const REQ_HEADERS: &[(&str, &str)] = &[
    ("x-a", "1"),
    ("X-A", "two"),
    ("x-b", "TWO"),
    ("x_b", "V7"),
    ("x-a", "v1"),
];

fn check(
    routes: &[RouteConfig],
    reqs: &[(usize, usize, usize, Vec<usize>, bool)],
) -> Result<(), TestCaseError> {
    let router = match Router::build(routes) {
        Ok(r) => r,
        Err(e) => return Err(TestCaseError::fail(format!("build failed: {e:?}"))),
    };
    for (m, h, p, hd, https) in reqs {
        let headers: Vec<(&str, &str)> = hd
            .iter()
            .map(|i| REQ_HEADERS[i % REQ_HEADERS.len()])
            .collect();
        let ctx = RequestContext::new(
            REQ_METHODS[m % REQ_METHODS.len()],
            REQ_HOSTS[h % REQ_HOSTS.len()],
            REQ_PATHS[p % REQ_PATHS.len()],
        )
        .with_headers(&headers)
        .with_protocol(if *https {
            Protocol::Https
        } else {
            Protocol::Http
        });
        let got = router.find(&ctx).map(|m| {
            let mut named: Vec<(String, String)> = m
                .captures
                .named()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            named.sort();
            reference::RefMatch {
                id: m.route_id.to_string(),
                numbered: m
                    .captures
                    .numbered()
                    .map(|g| g.map(str::to_string))
                    .collect(),
                named,
                prefix_len: m.matched_prefix_len,
            }
        });
        let want = reference::find(routes, &ctx);
        prop_assert_eq!(
            &got,
            &want,
            "request {:?} {:?} {:?} {:?}",
            ctx.method,
            ctx.host,
            ctx.path,
            headers
        );
        // find_route agrees with find
        prop_assert_eq!(
            router.find_route(&ctx).map(|(id, _)| id.to_string()),
            want.map(|w| w.id)
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn index_agrees_with_linear_reference(
        routes in prop::collection::vec(route_strategy(), 1..25),
        reqs in prop::collection::vec((0..100usize, 0..100usize, 0..100usize, prop::collection::vec(0..100usize, 0..3), any::<bool>()), 1..30),
    ) {
        let routes: Vec<RouteConfig> = routes.into_iter().enumerate().map(|(i, s)| make_route(i, s)).collect();
        check(&routes, &reqs)?;
    }
}

const HEAVY_REGEX: &[&str] = &[
    r"~/a/(?<n>\d+)",
    r"~/a/(\d)(?<rest>.*)",
    "~/a/b",
    r"~/a/\d+$",
    "~/a/1",
    r"~/a/(?<x>[a-z]+)",
    "~/a/c",
    r"~/a/(?:b|c)/?$",
    "~/a",
    r"~/a/\w",
    "~/a/12",
    r"~/a/(?<all>.+)",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Many regex paths sharing a literal prefix exercise the per-node regex
    /// sets (leftmost-first candidate + full set fallback).
    #[test]
    fn regex_sets_agree_with_linear_reference(
        specs in prop::collection::vec((prop::collection::vec(0..100usize, 1..3), prop::collection::vec(0..100usize, 0..2), 0..3i64, 0..3u64, any::<bool>()), 6..40),
        reqs in prop::collection::vec((0..100usize, 0..100usize, 0..100usize, prop::collection::vec(0..100usize, 0..3), any::<bool>()), 1..30),
    ) {
        let routes: Vec<RouteConfig> = specs.into_iter().enumerate().map(|(i, (p, m, rp, created, hdr))| {
            let mut r = RouteConfig::new(format!("x{i:02}"));
            r.paths = p.iter().map(|j| HEAVY_REGEX[j % HEAVY_REGEX.len()].to_string()).collect();
            r.paths.dedup();
            r.methods = pick(METHODS, &m);
            r.regex_priority = rp;
            r.created_order = created;
            if hdr {
                r.headers.insert("x-a".into(), vec!["1".into()]);
            }
            r
        }).collect();
        check(&routes, &reqs)?;
    }
}
