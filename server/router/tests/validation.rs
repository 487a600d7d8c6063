//! Every validation rule rejects with the route, the field and the rule.
mod common;
use common::*;
use portico_router::{validate_route, RouteConfig, Router};
use std::collections::BTreeMap;

fn errs(r: &RouteConfig) -> Vec<(String, String, String)> {
    match validate_route(r) {
        Ok(()) => Vec::new(),
        Err(v) => v
            .into_iter()
            .map(|e| (e.route, e.field, e.message))
            .collect(),
    }
}

/// (route mutation, expected field, substring of the message)
type Case = (fn(&mut RouteConfig), &'static str, &'static str);

#[test]
fn each_rule_names_route_field_and_rule() {
    let cases: Vec<Case> = vec![
        (
            |r| r.paths = paths(&["/a//b"]),
            "paths[0]",
            "empty segments",
        ),
        (
            |r| r.paths = paths(&["/ok", "api"]),
            "paths[1]",
            "must start with `/`",
        ),
        (|r| r.paths = paths(&["~api"]), "paths[0]", "`~/`"),
        (
            |r| r.paths = paths(&["~/(?=x)"]),
            "paths[0]",
            "invalid regex",
        ),
        (
            |r| r.paths = paths(&[r"~/(a)\1"]),
            "paths[0]",
            "back-references",
        ),
        (
            |r| r.paths = paths(&["/a%zz"]),
            "paths[0]",
            "percent-encoding",
        ),
        (
            |r| r.hosts = paths(&["a.*.com"]),
            "hosts[0]",
            "leftmost or rightmost",
        ),
        (
            |r| r.hosts = paths(&["*.a.*"]),
            "hosts[0]",
            "at most one wildcard",
        ),
        (
            |r| r.hosts = paths(&["a.com:99999"]),
            "hosts[0]",
            "invalid port",
        ),
        (
            |r| r.hosts = paths(&["a b"]),
            "hosts[0]",
            "invalid hostname",
        ),
        (
            |r| r.methods = paths(&["get"]),
            "methods[0]",
            "upper-case token",
        ),
        (
            |r| r.methods = paths(&["GET", "G-T"]),
            "methods[1]",
            "upper-case token",
        ),
        (
            |r| {
                r.headers = BTreeMap::from([("Host".to_string(), vec!["a".to_string()])]);
            },
            "headers.Host",
            "`hosts` attribute",
        ),
        (
            |r| {
                r.headers = BTreeMap::from([("x".to_string(), vec!["~*(".to_string()])]);
            },
            "headers.x[0]",
            "invalid regex",
        ),
        (
            |r| r.headers = BTreeMap::from([("x".to_string(), vec![])]),
            "headers.x",
            "at least one value",
        ),
        (
            |r| {
                r.paths.clear();
                r.expression = Some("http.path == ".into());
            },
            "expression",
            "at position 13",
        ),
        (
            |r| {
                r.paths.clear();
                r.expression = Some("http.path == 1".into());
            },
            "expression",
            "type mismatch",
        ),
        (
            |r| r.expression = Some(r#"http.path == "/""#.into()),
            "paths",
            "cannot be combined with `expression`",
        ),
        (
            |r| {
                r.paths.clear();
                r.expression = Some(r#"http.path == "/""#.into());
                r.regex_priority = 3;
            },
            "regex_priority",
            "cannot be used with `expression`",
        ),
        (
            |r| {
                r.paths.clear();
                r.expression = Some(r#"http.path == "/""#.into());
                r.priority = Some(1 << 46);
            },
            "priority",
            "out of range",
        ),
        (
            |r| r.priority = Some(1),
            "priority",
            "only applies to expression routes",
        ),
        (
            |r| r.https_redirect_status_code = 303,
            "https_redirect_status_code",
            "not one of",
        ),
        (
            |r| r.protocols = paths(&["grpc"]),
            "protocols[0]",
            "unknown protocol",
        ),
        (|r| r.protocols.clear(), "protocols", "at least one"),
        (
            |r| r.paths.clear(),
            "methods, hosts, headers, paths",
            "at least one of",
        ),
    ];
    for (i, (mutate, field, needle)) in cases.into_iter().enumerate() {
        let mut r = route("route-1", |r| r.paths = paths(&["/ok"]));
        mutate(&mut r);
        let e = errs(&r);
        assert!(
            e.iter()
                .any(|(route, f, m)| route == "route-1" && f == field && m.contains(needle)),
            "case {i}: expected {field}: {needle}, got {e:?}"
        );
    }
}

#[test]
fn valid_routes_pass() {
    let good = [
        route("a", |r| r.paths = paths(&["/ok", r"~/re/(?<x>\d+)$"])),
        route("b", |r| {
            r.hosts = paths(&[
                "*.example.com",
                "example.*",
                "a.b:8080",
                "[::1]:80",
                "10.0.0.1",
            ])
        }),
        route("c", |r| r.methods = paths(&["GET", "PURGE"])),
        route("d", |r| {
            r.expression = Some(r#"http.host == "x" && net.src.ip in 10.0.0.0/8"#.into())
        }),
        route("e", |r| {
            r.expression = Some("net.dst.port == 1".into());
            r.priority = Some((1 << 46) - 1);
        }),
    ];
    for r in &good {
        assert_eq!(errs(r), vec![], "{}", r.id);
    }
}

#[test]
fn build_collects_errors_of_all_routes() {
    let routes = [
        route("bad1", |r| r.paths = paths(&["x"])),
        route("good", |r| r.paths = paths(&["/x"])),
        route("bad2", |r| r.hosts = paths(&["a.*.b"])),
        route("good", |r| r.paths = paths(&["/y"])),
    ];
    let e = Router::build(&routes).expect_err("must fail");
    let ids: Vec<_> = e
        .iter()
        .map(|e| (e.route.as_str(), e.field.as_str()))
        .collect();
    assert_eq!(
        ids,
        vec![("bad1", "paths[0]"), ("bad2", "hosts[0]"), ("good", "id")]
    );
    assert!(e[0].to_string().starts_with("route bad1: paths[0]: "));
}

#[test]
fn serde_defaults_follow_kong() {
    let r: RouteConfig = serde_json::from_str(
        r#"{"id":"x","paths":["/a"],"methods":null,"hosts":null,"headers":null,"protocols":null}"#,
    )
    .expect("json");
    assert!(r.strip_path);
    assert!(!r.preserve_host);
    assert_eq!(r.https_redirect_status_code, 426);
    assert_eq!(r.protocols, vec!["http", "https"]);
    assert_eq!(r.path_handling, portico_router::PathHandling::V0);
    assert!(r.methods.is_empty());
    let r: RouteConfig =
        serde_json::from_str(r#"{"id":"y","path_handling":"v1","strip_path":false}"#)
            .expect("json");
    assert_eq!(r.path_handling, portico_router::PathHandling::V1);
    assert!(!r.strip_path);
}
