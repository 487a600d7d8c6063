//! Expressions language: parsing, typing and evaluation.
use portico_router::expr::{compile, eval, parse};
use portico_router::{Protocol, RequestContext};

fn ctx_full<'a>(headers: &'a [(&'a str, &'a str)]) -> RequestContext<'a> {
    RequestContext::new(
        "GET",
        "API.Example.com:8443",
        "/users/42/orders/?a=1&b=x&b=y&c&d=%41+z",
    )
    .with_headers(headers)
    .with_protocol(Protocol::Https)
    .with_src("10.1.2.3".parse().expect("ip"), 5555)
    .with_dst("2001:db8::1".parse().expect("ip"), 8443)
    .with_sni("api.example.com")
}

fn check(src: &str, ctx: &RequestContext<'_>) -> bool {
    match compile(src) {
        Ok(e) => eval(&e, ctx),
        Err(err) => panic!("{src}: {err}"),
    }
}

const HEADERS: &[(&str, &str)] = &[
    ("X-Foo", "Bar"),
    ("x-multi", "one"),
    ("X-Multi", "two"),
    ("user-agent", "curl/8"),
];

#[test]
fn fields_and_operators() {
    let ctx = ctx_full(HEADERS);
    let cases = [
        (r#"http.method == "GET""#, true),
        (r#"http.method != "GET""#, false),
        (r#"http.host == "api.example.com""#, true),
        (r#"http.host =^ ".example.com""#, true),
        (r#"http.host ^= "api.""#, true),
        (r#"http.path == "/users/42/orders/""#, true),
        (r#"http.path ^= "/users""#, true),
        (r#"http.path ~ "\\d+""#, true),
        (r#"http.path ~ "^\\d+""#, false),
        (r#"http.path contains "42""#, true),
        (r#"http.path.segments.0 == "users""#, true),
        (r#"http.path.segments.1 == "42""#, true),
        (r#"http.path.segments.0_1 == "users/42""#, true),
        (r#"http.path.segments.1_2 == "42/orders""#, true),
        (r#"http.path.segments.3 == "x""#, false),
        ("http.path.segments.len == 3", true),
        ("http.path.segments.len > 2", true),
        ("http.path.segments.len >= 4", false),
        ("http.path.segments.len < 4", true),
        ("http.path.segments.len <= 2", false),
        (r#"http.headers.x_foo == "Bar""#, true),
        (r#"http.headers.x_foo == "bar""#, false),
        (r#"lower(http.headers.x_foo) == "bar""#, true),
        (r#"http.headers.user_agent ^= "curl""#, true),
        (r#"http.headers.missing == "x""#, false),
        (r#"http.headers.missing != "x""#, false),
        (r#"!(http.headers.missing == "x")"#, true),
        // multi-valued: every value must match unless any()
        (r#"http.headers.x_multi == "one""#, false),
        (r#"any(http.headers.x_multi) == "one""#, true),
        (r#"http.headers.x_multi ~ "o""#, true),
        (r#"http.headers.x_multi != "three""#, true),
        (r#"http.queries.a == "1""#, true),
        (r#"http.queries.b == "x""#, false),
        (r#"any(http.queries.b) == "y""#, true),
        (r#"http.queries.c == """#, true),
        (r#"http.queries.d == "A z""#, true),
        (r#"http.queries.zz == "1""#, false),
        (r#"net.protocol == "https""#, true),
        (r#"tls.sni == "api.example.com""#, true),
        ("net.src.ip == 10.1.2.3", true),
        ("net.src.ip in 10.0.0.0/8", true),
        ("net.src.ip not in 10.0.0.0/8", false),
        ("net.src.ip in 192.168.0.0/16", false),
        ("net.src.ip in ::/0", false),
        ("net.dst.ip == 2001:db8::1", true),
        ("net.dst.ip in 2001:db8::/32", true),
        ("net.dst.ip in 0.0.0.0/0", false),
        ("net.src.port == 5555", true),
        ("net.dst.port == 0x20FB", true),
        ("net.dst.port == 020373", true),
        ("net.dst.port > -1", true),
        (r##"http.path ~ r#"^/users/\d+/"#"##, true),
        (r#"http.host == "a\"b""#, false),
    ];
    for (src, want) in cases {
        assert_eq!(check(src, &ctx), want, "{src}");
    }
}

#[test]
fn missing_network_fields_make_predicates_false() {
    let ctx = RequestContext::new("GET", "h", "/");
    for src in [
        "net.src.ip in 0.0.0.0/0",
        "net.src.ip not in 10.0.0.0/8",
        "net.dst.port != 1",
        r#"tls.sni != "x""#,
        r#"http.path.segments.0 != "x""#,
    ] {
        assert!(!check(src, &ctx), "{src}");
    }
    assert!(check("http.path.segments.len == 0", &ctx));
}

#[test]
fn or_binds_tighter_than_and() {
    // `a == 2 && a == 3 || a == 1` is `a == 2 && (a == 3 || a == 1)`: false for a = 1
    let ctx = RequestContext::new("GET", "h", "/").with_src("1.1.1.1".parse().expect("ip"), 1);
    assert!(!check(
        "net.src.port == 2 && net.src.port == 3 || net.src.port == 1",
        &ctx
    ));
    assert!(check(
        "(net.src.port == 2 && net.src.port == 3) || net.src.port == 1",
        &ctx
    ));
    assert!(check(
        "net.src.port == 1 || net.src.port == 3 && net.src.port == 1",
        &ctx
    ));
    assert!(!check("!(net.src.port == 1)", &ctx));
    assert!(check("! ( net.src.port == 2 )", &ctx));
}

#[test]
fn literals() {
    let ctx = RequestContext::new("GET", "h", "/a\"b\\c");
    assert!(check(r#"http.path == "/a\"b\\c""#, &ctx));
    let ctx = RequestContext::new("GET", "h", "/");
    let e = compile(r#"http.headers.x == "a\n\t\r""#);
    assert!(e.is_ok());
    assert!(check(
        "net.dst.port != -0x10",
        &RequestContext::new("GET", "h", "/").with_dst("::1".parse().expect("ip"), 1)
    ));
    assert!(compile("net.dst.port == 9223372036854775807").is_ok());
    assert!(compile("net.dst.port == 9223372036854775808").is_err());
    assert!(!check("http.path.segments.len == 1", &ctx));
}

#[test]
fn syntax_errors_report_position() {
    let cases = [
        ("", 0),
        ("http.path", 9),
        ("http.path ==", 12),
        (r#"http.path == "/a" &&"#, 20),
        (r#"http.path == "/a"   x"#, 20),
        (r#"! http.path == "/a""#, 2),
        (r#"(http.path == "/a""#, 18),
        (r#"http.path == "/a"#, 13),
        (r#"http.path == "\q""#, 14),
        (r#"foo(http.path) == "/a""#, 0),
        ("net.src.ip == 1.2.3.4.5", 21),
        ("net.src.ip == 10.0.0.1/8", 14),
        ("net.src.ip == 10.0.0.0/33", 14),
        ("net.src.ip == 300.1.1.1", 14),
    ];
    for (src, pos) in cases {
        match parse(src) {
            Ok(_) => panic!("{src:?} should not parse"),
            Err(e) => assert_eq!(e.position, pos, "{src:?}: {e}"),
        }
    }
}

#[test]
fn type_errors() {
    let cases = [
        (r#"http.nope == "a""#, "unknown field"),
        ("http.path == 1", "type mismatch"),
        (r#"net.src.port == "1""#, "type mismatch"),
        ("net.src.ip == 10.0.0.0/8", "type mismatch"),
        ("net.src.port ~ 1", "regex"),
        (r#"net.src.ip ~ "1""#, "regex"),
        ("http.path in 10.0.0.0/8", "CIDR"),
        ("net.src.ip in 10.0.0.1", "CIDR"),
        ("lower(net.src.port) == 1", "lower()"),
        (r#"http.path > "a""#, "integer"),
        ("net.src.port ^= 1", "String"),
        ("net.src.port contains 1", "String"),
        (r#"http.path ~ "(?=a)""#, "invalid regex"),
        (r#"http.path.segments.x == "a""#, "segment"),
        (r#"http.path.segments.2_1 == "a""#, "segment"),
        (r#"http.headers.a.b == "a""#, "unknown field"),
    ];
    for (src, needle) in cases {
        match compile(src) {
            Ok(_) => panic!("{src:?} should not type check"),
            Err(e) => assert!(e.message.contains(needle), "{src:?}: {e}"),
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let src = format!(
        "{}http.path == \"/\"{}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    assert!(parse(&src).is_err());
    let src = format!(
        "{}http.path{} == \"/\"",
        "lower(".repeat(10_000),
        ")".repeat(10_000)
    );
    assert!(parse(&src).is_err());
    let long = vec![r#"http.path == "/""#; 5000].join(" && ");
    let e = compile(&long).expect("long flat chain compiles");
    assert!(eval(&e, &RequestContext::new("GET", "h", "/")));
}

#[test]
fn expression_captures_and_strip() {
    use portico_router::{RouteConfig, Router};
    let mut r = RouteConfig::new("e");
    r.expression = Some(r##"http.path ~ r#"^/v(?<ver>\d+)/"# && http.method == "GET""##.into());
    let router = Router::build(&[r]).expect("build");
    let ctx = RequestContext::new("GET", "h", "/v2/items");
    let m = router.find(&ctx).expect("match");
    assert_eq!(m.captures.name("ver"), Some("2"));
    assert_eq!(m.captures.get(0), Some("/v2/"));
    assert_eq!(m.upstream_path, "/items");
}
