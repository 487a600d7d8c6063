//! Who may call what: every route walked for 401/403, CSRF, security headers, the
//! first-run screen. Real HTTP on an ephemeral port, a real SQLite file.

mod common;

use app::model::*;
use app::ports::{Packages, Users};
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
    // Every other route of the application (`/status`, uploads, the data plane sync
    // API …) is behind the same layers: signed in, or public and said so.
    for (method, template) in server::web::OTHER_ROUTES {
        let path = fill(template);
        let anon = call(&s.anon, &s.base, method, &path).await;
        let h = anon.headers();
        assert!(
            h.contains_key("content-security-policy") && h["x-content-type-options"] == "nosniff",
            "{method} {template} lacks the security headers"
        );
        if !server::auth::is_public(&path) {
            let status = anon.status();
            let to_login = status == StatusCode::SEE_OTHER
                && h["location"].to_str().unwrap().starts_with("/login?next=");
            assert!(
                status == StatusCode::UNAUTHORIZED || to_login,
                "anonymous {method} {template}: {status}"
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

/// `/status` lists the embedded data planes: a signed-in user's or a token's, with
/// the security headers; `/healthz` stays open.
#[tokio::test]
async fn status_needs_a_user_or_a_token() {
    let s = server().await;
    let r = s.anon.get(s.url("/status")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "unauthorized"
    );
    let viewer = s.client_as("viewer@example.com", Role::Viewer).await;
    let r = viewer.get(s.url("/status")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    assert!(r.headers().contains_key("content-security-policy"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["control_plane"]["ready"], true, "{body}");
    assert!(body["data_planes"].is_array(), "{body}");
    let token = s
        .hub
        .console_create_token(
            "viewer@example.com",
            NewApiToken {
                name: "monitoring".into(),
                role: None,
                expires_in_days: None,
            },
        )
        .await
        .unwrap()
        .secret;
    let r = s
        .client_with_token(&token)
        .get(s.url("/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = s
        .client_with_token("pt_not-a-token")
        .get(s.url("/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = s.anon.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

/// After signing in, `next` goes back only to a path of this site: a tab or a line
/// break in it (which browsers drop, or which cannot go in a header) leads to the
/// Service Hub, not elsewhere and not to a panic.
#[tokio::test]
async fn next_after_sign_in_stays_on_this_site() {
    let s = server().await;
    for (next, want) in [
        ("/service-hub/x?q=1", "/service-hub/x?q=1"),
        ("/\t/evil.example", "/service-hub"),
        ("/x\r\nSet-Cookie: a=b", "/service-hub"),
        ("/\\evil.example", "/service-hub"),
        ("//evil.example", "/service-hub"),
    ] {
        for html in [false, true] {
            let mut r = s
                .anon
                .post(s.url("/rpc/auth/login"))
                .header("origin", s.base.clone())
                .form(&[
                    ("email", ADMIN_EMAIL),
                    ("password", PASSWORD),
                    ("next", next),
                ]);
            if html {
                r = r.header("accept", "text/html");
            }
            let r = r
                .send()
                .await
                .unwrap_or_else(|e| panic!("next={next:?}: {e}"));
            assert!(session_of(&r).is_some(), "next={next:?}: {}", r.status());
            assert_eq!(r.headers()["location"], want, "next={next:?}");
        }
    }
}

/// Over TLS (a trusted proxy says `X-Forwarded-Proto: https`) Portico's cookies are
/// `__Host-` and `Secure`, and responses carry HSTS; on plain HTTP, and whenever the
/// proxy is not trusted, plain names and no HSTS.
#[tokio::test]
async fn cookies_are_host_prefixed_and_secure_over_tls() {
    let behind_proxy = server::auth::AuthSettings {
        trust_forwarded: true,
        trusted_proxies: Vec::new(),
    };
    let s = common::start_with_settings(common::sqlite().await, "target/site", behind_proxy).await;
    s.hub
        .console_create_user(ADMIN_EMAIL, Role::Admin, PASSWORD)
        .await
        .unwrap();
    let login = |proto: Option<&'static str>| {
        let mut r = s
            .anon
            .post(s.url("/rpc/auth/login"))
            .header("origin", s.base.clone())
            .form(&[("email", ADMIN_EMAIL), ("password", PASSWORD)]);
        if let Some(p) = proto {
            r = r.header("x-forwarded-proto", p);
        }
        r.send()
    };
    let set_cookie = |r: &reqwest::Response| -> String {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect::<Vec<_>>()
            .join("\n")
    };

    let r = login(Some("https")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    let cookie = set_cookie(&r);
    assert!(cookie.starts_with("__Host-portico_session="), "{cookie}");
    assert!(
        cookie.contains("; Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"),
        "{cookie}"
    );
    let secret = cookie
        .trim_start_matches("__Host-portico_session=")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let me = |name: &str, proto: Option<&'static str>| {
        let mut r = s
            .anon
            .get(s.url("/api/v1/tokens"))
            .header("cookie", format!("{name}={secret}"));
        if let Some(p) = proto {
            r = r.header("x-forwarded-proto", p);
        }
        r.send()
    };
    assert_eq!(
        me("__Host-portico_session", Some("https"))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // Over TLS a plain-named cookie (which another host could have set) is not taken.
    assert_eq!(
        me("portico_session", Some("https")).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    // The token created over TLS travels to the next page in a __Host- cookie too.
    let r = s
        .anon
        .post(s.url("/rpc/account/tokens/create"))
        .header("origin", s.base.clone())
        .header("x-forwarded-proto", "https")
        .header("cookie", format!("__Host-portico_session={secret}"))
        .form(&[("name", "ci")])
        .send()
        .await
        .unwrap();
    let cookie = set_cookie(&r);
    assert!(
        cookie.starts_with("__Host-portico_new_token=pt_") && cookie.contains("; Secure"),
        "{}: {cookie}",
        r.status()
    );

    // Plain HTTP: plain names, no Secure, no HSTS.
    let r = login(None).await.unwrap();
    let cookie = set_cookie(&r);
    assert!(cookie.starts_with("portico_session="), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");
    assert!(!r.headers().contains_key("strict-transport-security"));

    // Without --trust-forwarded the header is the client's word: not believed.
    let plain = server().await;
    let r = plain
        .anon
        .post(plain.url("/rpc/auth/login"))
        .header("origin", plain.base.clone())
        .header("x-forwarded-proto", "https")
        .form(&[("email", ADMIN_EMAIL), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(session_of(&r).is_some());
    assert!(!set_cookie(&r).contains("Secure"));
    assert!(!r.headers().contains_key("strict-transport-security"));
}

/// Behind a trusted proxy the client is the right-most X-Forwarded-For address that
/// is not a trusted proxy, so a client cannot dodge the per-address sign-in back-off
/// by writing a new address of its own each time.
#[tokio::test]
async fn a_client_cannot_choose_its_address_behind_a_proxy() {
    let behind_proxy = server::auth::AuthSettings {
        trust_forwarded: true,
        trusted_proxies: vec![
            "127.0.0.0/8".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ],
    };
    let s = common::start_with_settings(common::sqlite().await, "target/site", behind_proxy).await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        // Six accounts, six addresses the client made up; the proxies 10.0.0.9 and
        // 127.0.0.1 saw 203.0.113.7 each time.
        let r = s
            .anon
            .post(s.url("/rpc/auth/login"))
            .header("origin", s.base.clone())
            .header(
                "x-forwarded-for",
                format!("198.51.100.{i}, 203.0.113.7, 10.0.0.9"),
            )
            .form(&[
                ("email", format!("user{i}@example.com")),
                ("password", "wrong password!!".to_string()),
            ])
            .send()
            .await
            .unwrap();
        statuses.push(r.status());
    }
    assert_eq!(
        statuses,
        [
            [StatusCode::UNAUTHORIZED; 5].as_slice(),
            &[StatusCode::TOO_MANY_REQUESTS]
        ]
        .concat()
    );
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
    let page = r.text().await.unwrap();
    assert!(page.contains("Create the first admin"));
    assert!(page.contains("Setup code") && page.contains("name=\"setup_code\""));

    let code = s.hub.setup_code().display();
    let setup_with = |code: String, password: &'static str| {
        s.anon
            .post(s.url("/rpc/auth/setup"))
            .header("origin", s.base.clone())
            .form(&[
                ("setup_code", code.as_str()),
                ("email", "first@example.com"),
                ("password", password),
                ("password_confirm", password),
            ])
            .send()
    };
    // Without the code printed in the server's log, a visitor cannot take it over.
    for wrong in [String::new(), "AAAAA-BBBBB-CCCCC-DDDDD".to_string()] {
        let r = setup_with(wrong.clone(), PASSWORD).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{wrong:?}");
        let err: Value = r.json().await.unwrap();
        assert_eq!(err["code"], "validation", "{err}");
        assert_eq!(err["field"], "setup_code", "{err}");
        assert!(
            err.to_string().contains("setup code"),
            "a clear message: {err}"
        );
    }
    assert!(!s.hub.has_users().await.unwrap());
    // Without JavaScript: back to the form with the error; the code is not echoed.
    let r = s
        .anon
        .post(s.url("/rpc/auth/setup"))
        .header("origin", s.base.clone())
        .header("referer", s.url("/setup"))
        .header("accept", "text/html")
        .form(&[
            ("setup_code", "WRONG-CODE1"),
            ("email", "first@example.com"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let back = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        back.starts_with("/setup?") && back.contains("__err="),
        "{back}"
    );
    let form = back.split("__form=").nth(1).unwrap_or("");
    let form = base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE,
        urlencoding_decode(form),
    )
    .unwrap();
    let form = String::from_utf8(form).unwrap();
    assert!(
        form.contains("first%40example.com") && !form.contains("WRONG"),
        "{form}"
    );

    let setup = |password: &'static str| setup_with(code.to_lowercase(), password);
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
    // The code worked once; the screen is closed, code or not.
    let r = setup_with(code.clone(), PASSWORD).await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // Closed now.
    let r = setup(PASSWORD).await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = s.anon.get(s.url("/setup")).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/login");
}

/// `a%3Db` → `a=b` (the `__form` of a redirect is a query parameter).
fn urlencoding_decode(v: &str) -> String {
    url::form_urlencoded::parse(format!("x={v}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}
