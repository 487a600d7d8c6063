//! Comparison against Kong's own matcher, the `atc-router` crate: routes are
//! converted to ATC expressions and priorities the way Kong's
//! `traditional_compatible` flavor does, and on a generated corpus both must
//! pick the same route (and the same captures).
mod common;
use common::kong;
use portico_router::expr;
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
];
const METHODS: &[&str] = &["GET", "POST", "PUT"];
const HEADER_NAMES: &[&str] = &["x-a", "x-b"];
const HEADER_VALUES: &[&str] = &["1", "Two", r"~*^v\d$"];

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
    "/", "/a", "/ab", "/a/b", "/a/12", "/a/12/x", "/b/3", "/b/c", "/a/c", "/c", "/a/1", "/A",
    "/a/../b", "/a//b",
];
const REQ_METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE"];
const REQ_HEADERS: &[(&str, &str)] = &[
    ("x-a", "1"),
    ("X-A", "two"),
    ("x-b", "TWO"),
    ("x_b", "V7"),
    ("x-a", "v1"),
];

fn pick(v: &[&str], idx: &[usize]) -> Vec<String> {
    let mut out: Vec<String> = idx.iter().map(|i| v[i % v.len()].to_string()).collect();
    out.sort();
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
    usize,
);

fn make_route(i: usize, s: Spec) -> RouteConfig {
    let (m, h, p, hd, rp, created, proto) = s;
    let mut r = RouteConfig::new(format!("r{i:02}"));
    r.created_order = created;
    r.protocols = match proto {
        0 => vec!["https".into()],
        1 => vec!["http".into()],
        _ => vec!["http".into(), "https".into()],
    };
    r.methods = pick(METHODS, &m);
    r.hosts = pick(HOSTS, &h);
    r.paths = p
        .iter()
        .map(|i| PATHS[i % PATHS.len()].to_string())
        .collect();
    r.paths.dedup();
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

fn atc_captures(m: &atc_router::context::Match) -> BTreeMap<String, String> {
    m.captures
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn our_captures(c: &portico_router::Captures) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (i, v) in c.numbered().enumerate() {
        if let Some(v) = v {
            out.insert(i.to_string(), v.to_string());
        }
    }
    for (k, v) in c.named() {
        out.insert(k.to_string(), v.to_string());
    }
    out
}

fn compare(
    routes: &[RouteConfig],
    reqs: &[(usize, usize, usize, Vec<usize>, bool)],
) -> Result<usize, TestCaseError> {
    let ours = Router::build(routes).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
    let schema = kong::schema();
    let mut atc = atc_router::router::Router::new(&schema);
    let (matchers, ids) = kong::matchers(routes);
    for (prio, uuid, e) in &matchers {
        atc.add_matcher(*prio, *uuid, e)
            .map_err(|err| TestCaseError::fail(format!("atc rejected {e}: {err}")))?;
    }
    let mut hits = 0;
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
        let mut c = kong::context(&schema, &atc.fields, &ctx);
        let kong_hit = if atc.execute(&mut c) {
            c.result.as_ref()
        } else {
            None
        };
        let kong_id = kong_hit.and_then(|m| ids.get(&m.uuid)).cloned();
        let got = ours.find(&ctx);
        prop_assert_eq!(
            got.as_ref().map(|m| m.route_id.to_string()),
            kong_id.clone(),
            "request {} {} {} {:?} https={}",
            ctx.method,
            ctx.host,
            ctx.path,
            headers,
            https
        );
        if let (Some(g), Some(k)) = (&got, kong_hit) {
            hits += 1;
            let r = &routes[g.route_index];
            // Kong also records captures of `~*` header regexes; compare only
            // when the winner has none.
            let header_regex = r.headers.values().flatten().any(|v| v.starts_with("~*"));
            if !header_regex && r.expression.is_none() {
                prop_assert_eq!(
                    our_captures(&g.captures),
                    atc_captures(k),
                    "captures for {}",
                    ctx.path
                );
            }
        }
    }
    Ok(hits)
}

fn spec() -> impl Strategy<Value = Spec> {
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
        0..6usize,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn traditional_routes_match_like_kong(
        specs in prop::collection::vec(spec(), 1..20),
        reqs in prop::collection::vec((0..100usize, 0..100usize, 0..100usize, prop::collection::vec(0..100usize, 0..3), any::<bool>()), 1..30),
    ) {
        let routes: Vec<RouteConfig> = specs.into_iter().enumerate().map(|(i, s)| make_route(i, s)).collect();
        compare(&routes, &reqs)?;
    }
}

/// A fixed corpus: the generated routes must actually hit a good share of
/// requests (so the comparison above is not vacuous).
#[test]
fn corpus_has_hits() {
    let mut routes = Vec::new();
    for (i, p) in PATHS.iter().enumerate() {
        let mut r = RouteConfig::new(format!("p{i}"));
        r.paths = vec![p.to_string()];
        r.hosts = vec![HOSTS[i % HOSTS.len()].to_string()];
        routes.push(r);
    }
    let mut reqs = Vec::new();
    for h in 0..REQ_HOSTS.len() {
        for p in 0..REQ_PATHS.len() {
            reqs.push((0, h, p, vec![], false));
        }
    }
    let hits = compare(&routes, &reqs).expect("agree");
    assert!(hits > 30, "only {hits} hits");
}

// ---------------------------------------------------------------------------
// Expressions: random expressions evaluated by both engines.

const STR_FIELDS: &[&str] = &[
    "http.method",
    "http.host",
    "http.path",
    "http.headers.x_a",
    "http.queries.q",
    "http.path.segments.0",
    "http.path.segments.0_1",
    "net.protocol",
];
const STR_LITS: &[&str] = &[
    "\"GET\"",
    "\"a.com\"",
    "\"/a\"",
    "\"/a/12\"",
    "\"1\"",
    "\"v1\"",
    "\"\"",
    "\"a\"",
    "r#\"A\"#",
    "\"http\"",
    "\"a/12\"",
];
const REGEX_LITS: &[&str] = &[
    r#""^/a/(?P<n>\\d+)""#,
    r#""\\d""#,
    r#""^v""#,
    r##"r#"(?<x>[a-z])\.com"#"##,
    r#""a""#,
];
const INT_FIELDS: &[&str] = &["net.src.port", "net.dst.port", "http.path.segments.len"];
const INT_LITS: &[&str] = &["0", "1", "2", "8080", "-1", "0x1F90", "017"];

fn predicate() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..STR_FIELDS.len(), 0..7usize, 0..STR_LITS.len(), 0..4usize).prop_map(|(f, op, l, t)| {
            let ops = ["==", "!=", "^=", "=^", "contains", "==", "!="];
            let field = match t {
                1 => format!("lower({})", STR_FIELDS[f]),
                2 => format!("any({})", STR_FIELDS[f]),
                3 => format!("any(lower({}))", STR_FIELDS[f]),
                _ => STR_FIELDS[f].to_string(),
            };
            format!("{field} {} {}", ops[op], STR_LITS[l])
        }),
        (0..STR_FIELDS.len(), 0..REGEX_LITS.len(), any::<bool>()).prop_map(|(f, l, a)| {
            let field = if a {
                format!("any({})", STR_FIELDS[f])
            } else {
                STR_FIELDS[f].to_string()
            };
            format!("{field} ~ {}", REGEX_LITS[l])
        }),
        (0..INT_FIELDS.len(), 0..6usize, 0..INT_LITS.len()).prop_map(|(f, op, l)| {
            let ops = ["==", "!=", ">", ">=", "<", "<="];
            format!("{} {} {}", INT_FIELDS[f], ops[op], INT_LITS[l])
        }),
        (any::<bool>(), 0..6usize, any::<bool>()).prop_map(|(src, c, notin)| {
            let cidrs = [
                "10.0.0.0/8",
                "10.1.0.0/16",
                "0.0.0.0/0",
                "::/0",
                "2001:db8::/32",
                "192.168.1.0/24",
            ];
            format!(
                "net.{}.ip {} {}",
                if src { "src" } else { "dst" },
                if notin { "not in" } else { "in" },
                cidrs[c]
            )
        }),
        (0..3usize).prop_map(|i| [
            "net.src.ip == 10.1.2.3",
            "net.dst.ip == 2001:db8::1",
            "net.src.ip != 10.1.2.3"
        ][i]
            .to_string()),
    ]
}

fn expression() -> impl Strategy<Value = String> {
    predicate().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} && {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} || {b}")),
            inner.clone().prop_map(|a| format!("!({a})")),
            inner.prop_map(|a| format!("({a})")),
        ]
    })
}

const E_PATHS: &[&str] = &[
    "/",
    "/a",
    "/a/12",
    "/a/12/x",
    "/b?q=1",
    "/a?q=1&q=v1",
    "/A/B/",
];
const E_HOSTS: &[&str] = &["a.com", "x.a.com", "b.org:8080"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn expressions_evaluate_like_kong(
        src in expression(),
        reqs in prop::collection::vec((0..3usize, 0..E_HOSTS.len(), 0..E_PATHS.len(), 0..4usize, any::<bool>(), 0..3usize), 1..8),
    ) {
        let schema = kong::schema();
        let mut atc = atc_router::router::Router::new(&schema);
        let uuid = uuid::Uuid::from_u128(1);
        let kong_ok = atc.add_matcher(0, uuid, &src);
        let ours = expr::compile(&src);
        prop_assert_eq!(kong_ok.is_ok(), ours.is_ok(), "acceptance differs for {}: kong {:?} ours {:?}", src, kong_ok, ours.as_ref().err());
        let Ok(ours) = ours else { return Ok(()) };
        let hsets: [&[(&str, &str)]; 4] = [&[], &[("x-a", "1")], &[("x-a", "1"), ("X-A", "v1")], &[("x-a", "A")]];
        for (m, h, p, hs, https, ip) in reqs {
            let src_ip = ["10.1.2.3", "192.168.1.7", "2001:db8::5"][ip].parse().map_err(|_| TestCaseError::fail("ip"))?;
            let ctx = RequestContext::new(["GET", "POST", "PUT"][m], E_HOSTS[h], E_PATHS[p])
                .with_headers(hsets[hs])
                .with_protocol(if https { Protocol::Https } else { Protocol::Http })
                .with_src(src_ip, 40000)
                .with_dst("2001:db8::1".parse().map_err(|_| TestCaseError::fail("ip"))?, 8080);
            let mut c = kong::context(&schema, &atc.fields, &ctx);
            let kong = atc.execute(&mut c);
            let mut rec = expr::Recorder::default();
            let mine = expr::eval_recording(&ours, &ctx, &mut rec);
            prop_assert_eq!(mine, kong, "result differs for {} on {:?}", src, ctx);
            prop_assert_eq!(expr::eval(&ours, &ctx), mine);
            if let (true, Some(k)) = (mine, c.result.as_ref()) {
                prop_assert_eq!(our_captures(&rec.captures), atc_captures(k), "captures differ for {}", src);
            }
        }
    }
}

/// Expression routes: priority order and tie-break agree with Kong's
/// expressions flavor.
#[test]
fn expression_routes_pick_like_kong() {
    let exprs = [
        (r#"http.path ^= "/a""#, 5),
        (r#"http.path ^= "/a/1""#, 5),
        (r#"http.host == "a.com""#, 7),
        (
            r#"http.path ~ "^/a/(?P<n>\\d+)" && http.method == "GET""#,
            9,
        ),
        (r#"any(http.headers.x_a) == "1""#, 1),
        (r#"http.path.segments.len >= 2"#, 5),
    ];
    let routes: Vec<RouteConfig> = exprs
        .iter()
        .enumerate()
        .map(|(i, (e, p))| {
            let mut r = RouteConfig::new(format!("e{i}"));
            r.expression = Some(e.to_string());
            r.priority = Some(*p);
            r.created_order = (i as u64 * 7) % 4;
            r
        })
        .collect();
    let mut reqs = Vec::new();
    for m in 0..4 {
        for h in 0..REQ_HOSTS.len() {
            for p in 0..REQ_PATHS.len() {
                for hd in [vec![], vec![0usize]] {
                    reqs.push((m, h, p, hd, false));
                }
            }
        }
    }
    let hits = compare(&routes, &reqs).expect("agree");
    assert!(hits > 100, "only {hits} hits");
}

#[test]
fn kong_precedence_example() {
    let schema = kong::schema();
    let mut atc = atc_router::router::Router::new(&schema);
    let src = "net.src.port == 2 && net.src.port == 3 || net.src.port == 1";
    atc.add_matcher(0, uuid::Uuid::from_u128(1), src)
        .expect("atc parses");
    let ctx = RequestContext::new("GET", "h", "/").with_src("1.1.1.1".parse().expect("ip"), 1);
    let mut c = kong::context(&schema, &atc.fields, &ctx);
    assert!(!atc.execute(&mut c));
    let e = expr::compile(src).expect("parses");
    assert!(!expr::eval(&e, &ctx));
}
