//! Who may call what: every route walked for 401/403, CSRF, security headers, the
//! first-run screen. Real HTTP on an ephemeral port, a real SQLite file.

mod common;

use app::model::*;
use app::ports::Packages;
use common::{session_of, ADMIN_EMAIL, PASSWORD};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn server() -> common::TestServer {
    common::start(common::sqlite().await).await
}

/// A path template with its parameters filled by ids that exist nowhere.
fn fill(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let j = rest[i..].find('}').map(|j| i + j + 1).unwrap_or(rest.len());
        out.push_str(&uuid::Uuid::new_v4().to_string());
        rest = &rest[j..];
    }
    out.push_str(rest);
    out
}

fn server_fns() -> Vec<(String, String)> {
    let fns: Vec<(String, String)> = leptos::server_fn::axum::server_fn_paths()
        .map(|(p, m)| (p.to_string(), m.to_string()))
        .collect();
    assert!(
        fns.iter().any(|(p, _)| p == "/rpc/packages/create")
            && fns.iter().any(|(p, _)| p == "/rpc/auth/login"),
        "the registry lists the server functions: {fns:?}"
    );
    fns
}

async fn call(c: &reqwest::Client, base: &str, method: &str, path: &str) -> reqwest::Response {
    let m = Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = c.request(m.clone(), format!("{base}{path}"));
    if m != Method::GET {
        req = req.header("origin", base);
        req = if path.starts_with("/api/") {
            req.json(&json!({}))
        } else {
            req.form(&[("x", "")])
        };
    }
    req.send().await.unwrap()
}
#[tokio::test]
async fn anonymous_calls_get_401_except_the_public_ones_and_viewers_cannot_mutate() {
    let s = server().await;
    let viewer = s.client_as("viewer@example.com", Role::Viewer).await;
    let mut checked = 0;

    for (path, method) in server_fns() {
        let anon = call(&s.anon, &s.base, &method, &path).await;
        // The Dev Portal's reads are public (`/rpc/portal/…`), like signing in.
        if server::auth::is_public(&path) {
            assert!(
                method == "GET" || server::auth::PUBLIC_SERVER_FNS.contains(&path.as_str()),
                "{path}: a public server function only reads"
            );
            assert_ne!(
                anon.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {path} is public"
            );
        } else {
            assert_eq!(
                anon.status(),
                StatusCode::UNAUTHORIZED,
                "anonymous {method} {path}"
            );
        }
        if path == "/rpc/auth/logout" {
            // It would end the viewer's session; it is tested on its own below.
            checked += 1;
            continue;
        }
        let as_viewer = call(&viewer, &s.base, &method, &path).await.status();
        let mutating = method != "GET";
        if mutating && !server::auth::is_self_service(&path) && !server::auth::is_public(&path) {
            assert_eq!(as_viewer, StatusCode::FORBIDDEN, "viewer {method} {path}");
        } else {
            assert_ne!(
                as_viewer,
                StatusCode::UNAUTHORIZED,
                "viewer {method} {path}"
            );
        }
        checked += 1;
    }

    let ops = server::rest::operations();
    assert!(ops
        .iter()
        .any(|(m, p)| m == "DELETE" && p == "/api/v1/service-packages/{id}"));
    for (method, template) in ops {
        let path = fill(&template);
        let anon = call(&s.anon, &s.base, &method, &path).await;
        if server::auth::is_public(&path) {
            assert_eq!(
                anon.status(),
                StatusCode::OK,
                "{method} {template} is public"
            );
        } else {
            assert_eq!(
                anon.status(),
                StatusCode::UNAUTHORIZED,
                "anonymous {method} {template}"
            );
            let body: Value = anon.json().await.unwrap();
            assert_eq!(body["error"]["code"], "unauthorized");
        }
        let as_viewer = call(&viewer, &s.base, &method, &path).await.status();
        if method != "GET" && !server::auth::is_self_service(&path) {
            assert_eq!(
                as_viewer,
                StatusCode::FORBIDDEN,
                "viewer {method} {template}"
            );
        } else {
            assert_ne!(
                as_viewer,
                StatusCode::UNAUTHORIZED,
                "viewer {method} {template}"
            );
        }
        checked += 1;
    }
    assert!(checked > 30, "walked {checked} routes");

    // Pages: anonymous visitors are sent to sign in, and come back after.
    let r = s.anon.get(s.url("/service-hub?q=x")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        "/login?next=%2Fservice-hub%3Fq%3Dx"
    );
    for public in ["/login", "/healthz", "/api/v1/openapi.json"] {
        let r = s.anon.get(s.url(public)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{public}");
    }
}

#[tokio::test]
async fn cross_origin_mutations_are_refused() {
    let s = server().await;
    let secret = session_of(&s.login(ADMIN_EMAIL, PASSWORD).await).unwrap();
    let cookie = format!("portico_session={secret}");
    let post = |origin: Option<&'static str>, referer: Option<String>| {
        let mut r = s
            .anon
            .post(s.url("/rpc/packages/create"))
            .header("cookie", cookie.clone())
            .header("accept", "text/html")
            .form(&[("display_name", "Csrf Target"), ("labels", "")]);
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        if let Some(rf) = referer {
            r = r.header("referer", rf);
        }
        r.send()
    };
    assert_eq!(
        post(Some("https://evil.example"), None)
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(Some("null"), None).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(None, Some("https://evil.example/page".into()))
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(None, None).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let all = s
        .hub
        .list_packages(&Actor::console(), PackageQuery::default())
        .await
        .unwrap();
    assert_eq!(all.total, 0, "nothing was created");
    // From our own page it works.
    let r = post(None, Some(s.url("/service-hub/new"))).await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(r.headers()["location"], "/service-hub/csrf-target");
    // The REST API with a cookie follows the same rule.
    let r = s
        .anon
        .delete(s.url("/api/v1/service-packages/csrf-target"))
        .header("cookie", cookie.clone())
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "forbidden"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let s = server().await;
    for (client, path) in [
        (&s.anon, "/login"),
        (&s.anon, "/healthz"),
        (&s.anon, "/api/v1/openapi.json"),
        (&s.client, "/service-hub"),
        (&s.client, "/api/v1/service-packages"),
        (&s.client, "/no/such/page"),
    ] {
        let r = client.get(s.url(path)).send().await.unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap().to_string();
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert!(
            csp.contains("script-src 'self'") && csp.contains("'wasm-unsafe-eval'"),
            "{csp}"
        );
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        if path == "/service-hub" {
            // Leptos's inline scripts carry the page's nonce.
            let nonce = csp
                .split("'nonce-")
                .nth(1)
                .and_then(|n| n.split('\'').next())
                .expect("a nonce")
                .to_string();
            let html = r.text().await.unwrap();
            assert!(html.contains(&format!("nonce=\"{nonce}\"")), "{html}");
        }
    }
}

#[tokio::test]
async fn the_first_visitor_creates_the_first_admin_and_only_then() {
    let s = common::start_empty(common::sqlite().await).await;
    let r = s.anon.get(s.url("/service-hub")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/setup");
    let r = s.anon.get(s.url("/login")).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/setup");
    let r = s.anon.get(s.url("/setup")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("Create the first admin"));

    let setup = |password: &'static str| {
        s.anon
            .post(s.url("/rpc/auth/setup"))
            .header("origin", s.base.clone())
            .form(&[
                ("email", "first@example.com"),
                ("password", password),
                ("password_confirm", password),
            ])
            .send()
    };
    let r = setup("short").await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("at least 12"));
    let r = setup(PASSWORD).await.unwrap();
    let secret = session_of(&r).expect("signed in after setup");
    let me = s.client_with_session(&secret);
    let users: Value = me
        .get(s.url("/api/v1/users"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(users[0]["role"], "admin");
    // Closed now.
    let r = setup(PASSWORD).await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = s.anon.get(s.url("/setup")).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/login");
}
