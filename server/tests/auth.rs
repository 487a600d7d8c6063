//! Accounts, roles, sessions, tokens, CSRF, throttling, security headers and the audit
//! log, over real HTTP and a real database.

mod common;

use app::model::*;
use app::ports::{Accounts, Catalog};
use chrono::{Duration, Utc};
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
        if server::auth::PUBLIC_SERVER_FNS.contains(&path.as_str()) {
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
        if mutating
            && !server::auth::is_self_service(&path)
            && !server::auth::PUBLIC_SERVER_FNS.contains(&path.as_str())
        {
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
async fn roles_are_enforced_by_the_domain() {
    for b in common::backends().await {
        let hub = &b.hub;
        let console = Actor::console();
        let group = hub.list_runtime_groups(&console).await.unwrap()[0].clone();
        let pkg = hub
            .create_package(
                &console,
                NewServicePackage {
                    display_name: "Matrix".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let key = pkg.id.to_string();
        let version = hub
            .create_version(
                &console,
                &key,
                NewServiceVersion {
                    name: "v1".into(),
                    runtime_group_id: group.id,
                    status: VersionStatus::Unpublished,
                },
            )
            .await
            .unwrap();
        for role in Role::ALL {
            let actor = Actor {
                role,
                email: format!("{}@example.com", role.as_str()),
                ..Actor::console()
            };
            let denied = |r: Result<(), app::error::AppError>, what: &str, allowed: bool| match (
                &r, allowed,
            ) {
                (Ok(()), true) => {}
                (Err(e), false) => assert_eq!(e.status(), 403, "{role:?} {what}: {e}"),
                _ => panic!("{role:?} {what}: {r:?} (allowed: {allowed})"),
            };
            let read = hub.get_package(&actor, &key).await.map(|_| ());
            denied(read, "read", true);
            let status = hub
                .update_version(
                    &actor,
                    &key,
                    version.id,
                    ServiceVersionPatch {
                        status: Some(VersionStatus::Published),
                        name: None,
                    },
                )
                .await
                .map(|_| ());
            denied(status, "set status", role >= Role::Publisher);
            let rename = hub
                .update_version(
                    &actor,
                    &key,
                    version.id,
                    ServiceVersionPatch {
                        name: Some(format!("v1-{}", role.as_str())),
                        status: None,
                    },
                )
                .await
                .map(|_| ());
            denied(rename, "rename", role >= Role::Maintainer);
            let create = hub
                .create_package(
                    &actor,
                    NewServicePackage {
                        display_name: format!("By {}", role.as_str()),
                        ..Default::default()
                    },
                )
                .await
                .map(|_| ());
            denied(create, "create package", role >= Role::Maintainer);
            let group = hub
                .create_runtime_group(
                    &actor,
                    NewRuntimeGroup {
                        name: format!("g-{}", role.as_str()),
                        ..Default::default()
                    },
                )
                .await
                .map(|_| ());
            denied(group, "create group", role >= Role::Maintainer);
            let users = hub.list_users(&actor).await.map(|_| ());
            denied(users, "list users", role == Role::Admin);
            let audit = hub
                .audit_events(&actor, AuditQuery::default())
                .await
                .map(|_| ());
            denied(audit, "read audit", role == Role::Admin);
        }
        // Refused changes changed nothing.
        let all = hub
            .list_packages(&console, PackageQuery::default())
            .await
            .unwrap();
        let names: Vec<&str> = all.data.iter().map(|p| p.display_name.as_str()).collect();
        assert_eq!(names, ["By admin", "By maintainer", "Matrix"], "{}", b.name);
        let v = hub.get_version(&console, &key, version.id).await.unwrap();
        assert_eq!(v.name, "v1-admin", "{}", b.name);
    }
}

#[tokio::test]
async fn sessions_expire_rotate_and_end() {
    let s = server().await;
    let hub = &s.hub;
    hub.console_create_user("sam@example.com", Role::Maintainer, PASSWORD)
        .await
        .unwrap();
    let first = hub.login("sam@example.com", PASSWORD, "t").await.unwrap();
    let second = hub.login("Sam@Example.com ", PASSWORD, "t").await.unwrap();
    assert_ne!(
        first.session_secret, second.session_secret,
        "a new id at each login"
    );
    let now = Utc::now();
    let ok = |secret: String, at: chrono::DateTime<Utc>| {
        let hub = hub.clone();
        async move {
            hub.authenticate_session(&secret, "t", at)
                .await
                .unwrap()
                .is_some()
        }
    };
    assert!(ok(first.session_secret.clone(), now).await);
    // Idle expiry: 12 hours without a request.
    assert!(!ok(first.session_secret.clone(), now + Duration::hours(13)).await);
    assert!(
        !ok(first.session_secret.clone(), now).await,
        "an expired session is gone"
    );
    // Absolute expiry: used every few hours, it still ends after 7 days.
    let mut at = now;
    while at < now + Duration::days(7) - Duration::hours(6) {
        at += Duration::hours(6);
        assert!(ok(second.session_secret.clone(), at).await, "{at}");
    }
    assert!(!ok(second.session_secret.clone(), now + Duration::days(7)).await);

    // Logout over HTTP revokes the session: the cookie then gets 401 and the login page.
    let r = s.login("sam@example.com", PASSWORD).await;
    let secret = session_of(&r).unwrap();
    let sam = s.client_with_session(&secret);
    assert_eq!(
        sam.get(s.url("/api/v1/service-packages"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let r = sam
        .post(s.url("/rpc/auth/logout"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_redirection() || r.status().is_success(),
        "{}",
        r.status()
    );
    let r = sam
        .get(s.url("/api/v1/service-packages"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = sam.get(s.url("/service-hub")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with("/login?") && location.contains("expired=1"),
        "{location}"
    );
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));

    // A password change ends every other session and opens a new one.
    let a = session_of(&s.login("sam@example.com", PASSWORD).await).unwrap();
    let b = session_of(&s.login("sam@example.com", PASSWORD).await).unwrap();
    let r = s
        .client_with_session(&a)
        .post(s.url("/rpc/account/password"))
        .form(&[
            ("current_password", PASSWORD),
            ("new_password", "a brand new passphrase"),
            ("new_password_confirm", "a brand new passphrase"),
        ])
        .send()
        .await
        .unwrap();
    let fresh = session_of(&r).expect("a new session after the change");
    for old in [&a, &b] {
        let st = s
            .client_with_session(old)
            .get(s.url("/api/v1/service-packages"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }
    let st = s
        .client_with_session(&fresh)
        .get(s.url("/api/v1/service-packages"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(st, StatusCode::OK);
    assert!(s.login("sam@example.com", PASSWORD).await.status() == StatusCode::UNAUTHORIZED);

    // Session cookies: HttpOnly, SameSite=Lax, Secure behind a TLS proxy.
    let r = s
        .anon
        .post(s.url("/rpc/auth/login"))
        .header("x-forwarded-proto", "https")
        .form(&[("email", ADMIN_EMAIL), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    for part in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
}

#[tokio::test]
async fn disabling_a_user_stops_their_sessions_and_tokens_at_once() {
    let s = server().await;
    let pat = s.client_as("pat@example.com", Role::Maintainer).await;
    let created: Value = pat
        .post(s.url("/api/v1/tokens"))
        .json(&json!({"name": "ci"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = created["secret"].as_str().unwrap().to_string();
    let by_token = s.client_with_token(&token);
    let list = |c: reqwest::Client| {
        let url = s.url("/api/v1/service-packages");
        async move { c.get(url).send().await.unwrap().status() }
    };
    assert_eq!(list(pat.clone()).await, StatusCode::OK);
    assert_eq!(list(by_token.clone()).await, StatusCode::OK);
    let id = created["token"]["user_id"].as_str().unwrap();
    let r = s
        .client
        .patch(s.url(&format!("/api/v1/users/{id}")))
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(list(pat).await, StatusCode::UNAUTHORIZED);
    assert_eq!(list(by_token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        s.login("pat@example.com", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The last admin cannot be disabled or demoted.
    let users: Value = s
        .client
        .get(s.url("/api/v1/users"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let admin = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == ADMIN_EMAIL)
        .unwrap();
    let r = s
        .client
        .patch(s.url(&format!("/api/v1/users/{}", admin["id"].as_str().unwrap())))
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn tokens_are_scoped_shown_once_and_revocable() {
    let s = server().await;
    // Too high a role is refused, naming the field.
    let publisher = s.client_as("pub@example.com", Role::Publisher).await;
    let r = publisher
        .post(s.url("/api/v1/tokens"))
        .json(&json!({"name": "x", "role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "role");

    // An admin's viewer-scoped token reads but cannot change anything.
    let created: Value = s
        .client
        .post(s.url("/api/v1/tokens"))
        .json(&json!({"name": "read only", "role": "viewer", "expires_in_days": 1}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("pt_"));
    let viewer = s.client_with_token(&secret);
    let r = viewer
        .get(s.url("/api/v1/service-packages"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = viewer
        .post(s.url("/api/v1/service-packages"))
        .json(&json!({"display_name": "Nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.json::<Value>().await.unwrap()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Viewer"));

    // Listed without the secret; stored hashed.
    let list: Value = s
        .client
        .get(s.url("/api/v1/tokens"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = list.to_string();
    assert!(text.contains("read only") && !text.contains(&secret));
    let stored: Vec<server::store::api_token::Model> = {
        use sea_orm::EntityTrait;
        server::store::api_token::Entity::find()
            .all(s.hub.db())
            .await
            .unwrap()
    };
    assert!(stored
        .iter()
        .all(|t| t.secret_hash != secret && t.secret_hash.len() == 64));

    // Expired after its day.
    let later = Utc::now() + Duration::days(1) + Duration::minutes(1);
    assert!(s
        .hub
        .authenticate_token(&secret, "t", later)
        .await
        .unwrap()
        .is_none());

    // Revoked: 401 at once.
    let id = created["token"]["id"].as_str().unwrap();
    let r = s
        .client
        .delete(s.url(&format!("/api/v1/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = viewer
        .get(s.url("/api/v1/service-packages"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // The console bootstraps a token for automation.
    let made = s
        .hub
        .console_create_token(
            ADMIN_EMAIL,
            NewApiToken {
                name: "bootstrap".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let r = s
        .client_with_token(&made.secret)
        .post(s.url("/api/v1/service-packages"))
        .json(&json!({"display_name": "By Token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "token calls need no Origin"
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
async fn failed_logins_back_off_without_telling_who_exists() {
    // One server each: failures also count per address, and all tests come from 127.0.0.1.
    for email in [ADMIN_EMAIL, "nobody@example.com"] {
        let s = server().await;
        let attempt = |email: &'static str, password: &'static str| {
            s.anon
                .post(s.url("/rpc/auth/login"))
                .header("origin", s.base.clone())
                .form(&[("email", email), ("password", password)])
                .send()
        };
        let mut bodies = Vec::new();
        for _ in 0..5 {
            let r = attempt(email, "wrong password!!").await.unwrap();
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{email}");
            bodies.push(r.text().await.unwrap());
        }
        let r = attempt(email, "wrong password!!").await.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "{email}");
        let wait: u64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=30).contains(&wait), "{wait}");
        bodies.push(r.text().await.unwrap());
        // Even the right password waits.
        let r = attempt(email, PASSWORD).await.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(
            bodies[0].contains("The email or the password is wrong"),
            "{}",
            bodies[0]
        );
        if email != ADMIN_EMAIL {
            // The unknown account got exactly the answers the real one got.
            assert!(bodies.iter().all(|b| !b.contains("nobody")));
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
async fn audit_rows_are_written_with_their_change_and_rolled_back_with_it() {
    for b in common::backends().await {
        let hub = &b.hub;
        let admin = Actor {
            email: "auditor@example.com".into(),
            source: "192.0.2.7".into(),
            ..Actor::console()
        };
        let p = hub
            .create_package(
                &admin,
                NewServicePackage {
                    display_name: "Ledger".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        hub.update_package(
            &admin,
            "ledger",
            ServicePackagePatch {
                description: Some("Books".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        // A refused change writes nothing.
        let viewer = Actor {
            role: Role::Viewer,
            ..admin.clone()
        };
        assert!(hub.delete_package(&viewer, "ledger").await.is_err());
        assert!(hub
            .create_package(
                &admin,
                NewServicePackage {
                    display_name: "LEDGER".into(),
                    ..Default::default()
                }
            )
            .await
            .is_err());
        let events = hub
            .audit_events(&admin, AuditQuery::default())
            .await
            .unwrap();
        let actions: Vec<&str> = events.data.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            ["service_package.update", "service_package.create"],
            "{}",
            b.name
        );
        let update = &events.data[0];
        assert_eq!(update.actor_email, "auditor@example.com");
        assert_eq!(update.source, "192.0.2.7");
        assert_eq!(update.target_id, p.id.to_string());
        let summary: Value = serde_json::from_str(&update.summary).unwrap();
        assert_eq!(summary["before"]["description"], "");
        assert_eq!(summary["after"]["description"], "Books");
        // Filters.
        let q = |action: &str| AuditQuery {
            action: Some(action.into()),
            ..Default::default()
        };
        assert_eq!(
            hub.audit_events(&admin, q("service_package."))
                .await
                .unwrap()
                .total,
            2
        );
        assert_eq!(hub.audit_events(&admin, q("user.")).await.unwrap().total, 0);

        // When the audit row cannot be written, the change is not made either.
        use sea_orm::ConnectionTrait;
        hub.db()
            .execute_unprepared("DROP TABLE audit_events")
            .await
            .unwrap();
        let r = hub
            .create_package(
                &admin,
                NewServicePackage {
                    display_name: "Unrecorded".into(),
                    ..Default::default()
                },
            )
            .await;
        assert!(r.is_err(), "{}", b.name);
        assert!(
            hub.get_package(&admin, "unrecorded").await.is_err(),
            "{}: rolled back",
            b.name
        );
    }
}

#[tokio::test]
async fn audit_log_over_rest_with_filters() {
    let s = server().await;
    let r = s
        .client
        .post(s.url("/api/v1/service-packages"))
        .json(&json!({"display_name": "Audited"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let page: Value = s
        .client
        .get(s.url("/api/v1/audit-events?action=service_package.create"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 1);
    assert_eq!(page["data"][0]["actor_email"], ADMIN_EMAIL);
    assert_eq!(page["data"][0]["source"], "127.0.0.1");
    let r = s
        .client
        .get(s.url("/api/v1/audit-events?from=yesterday"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "from");
    let html = s
        .client
        .get(s.url("/settings/audit?user=admin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("service_package.create") && html.contains("Audited"),
        "{html}"
    );
}
