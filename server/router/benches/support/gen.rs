//! Generator of Kong-like route sets and benchmark requests (shared by the
//! benchmark and the timing example).
use portico_router::RouteConfig;
use std::collections::BTreeMap;

/// Route kind of route `i`: a permutation so that small sets mix all kinds.
const KINDS: [usize; 20] = [
    0, 11, 14, 8, 17, 19, 1, 10, 12, 15, 2, 9, 18, 3, 13, 16, 4, 5, 6, 7,
];

fn kind(i: usize) -> usize {
    KINDS[i % 20]
}

/// Kong-like routes: exact hosts, wildcard hosts, prefix and regex paths with
/// captures, methods, headers and some expression routes.
pub fn gen_routes(n: usize) -> Vec<RouteConfig> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut r = RouteConfig::new(format!("00000000-0000-4000-8000-{i:012}"));
        r.name = Some(format!("route-{i}"));
        r.created_order = i as u64;
        match kind(i) {
            0..=7 => {
                r.hosts = vec![format!("svc{i}.example.com")];
                r.paths = vec![format!("/api/v{}/svc{i}", i % 3)];
                if i % 2 == 0 {
                    r.methods = vec!["GET".into(), "POST".into()];
                }
            }
            8..=9 => {
                r.hosts = vec![format!("*.tenant{i}.example.com")];
                r.paths = vec![format!("/t/{i}")];
            }
            10 => {
                r.hosts = vec![format!("app{i}.*")];
                r.paths = vec![format!("/app/{i}")];
            }
            11..=13 => {
                r.paths = vec![format!(r"~/users/(?<id>\d+)/svc{i}/(?<action>[a-z]+)$")];
                r.methods = vec!["GET".into()];
            }
            14..=16 => {
                r.paths = vec![format!("/svc{i}/resource"), format!("/svc{i}/other")];
                if i % 3 == 0 {
                    r.headers =
                        BTreeMap::from([("x-version".to_string(), vec![format!("v{}", i % 5)])]);
                }
            }
            17..=18 => {
                r.hosts = vec![
                    format!("svc{i}.example.com"),
                    format!("alt{i}.example.com:8443"),
                ];
                r.headers = BTreeMap::from([(
                    "x-tenant".to_string(),
                    vec![format!("t{i}"), "~*^admin-\\d+$".to_string()],
                )]);
                r.methods = vec!["PUT".into()];
            }
            _ => {
                r.protocols = vec!["http".into(), "https".into()];
                r.expression = Some(if i % 2 == 0 {
                    format!(r#"http.host == "exp{i}.example.com" && http.path ^= "/exp/{i}""#)
                } else {
                    format!(r#"http.path ^= "/e{i}/" && any(http.headers.x_flag) == "on""#)
                });
                r.priority = Some((i % 100) as u64);
            }
        }
        out.push(r);
    }
    out
}

pub struct Req {
    pub name: &'static str,
    pub method: &'static str,
    pub host: String,
    pub path: String,
}

pub fn requests(n: usize) -> Vec<Req> {
    let last_of = |kinds: std::ops::RangeInclusive<usize>| {
        (0..n)
            .rev()
            .find(|i| kinds.contains(&kind(*i)))
            .unwrap_or(0)
    };
    let late = last_of(0..=7);
    let re = last_of(11..=13);
    vec![
        Req {
            name: "hit_early",
            method: "GET",
            host: "svc0.example.com".into(),
            path: "/api/v0/svc0/items?limit=10".into(),
        },
        Req {
            name: "hit_late",
            method: "GET",
            host: format!("svc{late}.example.com"),
            path: format!("/api/v{}/svc{late}/items", late % 3),
        },
        Req {
            name: "hit_regex",
            method: "GET",
            host: "www.example.org".into(),
            path: format!("/users/12345/svc{re}/edit"),
        },
        Req {
            name: "miss",
            method: "GET",
            host: "unknown.example.net".into(),
            path: "/nothing/here".into(),
        },
    ]
}

pub const HEADERS: &[(&str, &str)] = &[
    ("user-agent", "bench/1.0"),
    ("accept", "*/*"),
    ("x-version", "v1"),
    ("x-request-id", "abc"),
];
