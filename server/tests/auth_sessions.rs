//! Sessions (expiry, rotation, revocation), disabling users, and login throttling.

mod common;

use app::model::*;
use app::ports::Users;
use chrono::{Duration, Utc};
use common::{session_of, ADMIN_EMAIL, PASSWORD};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn server() -> common::TestServer {
    common::start(common::sqlite().await).await
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

    // Session cookies: HttpOnly, SameSite=Lax. A client's own X-Forwarded-Proto is
    // not believed without --trust-forwarded (see auth_routes for TLS behind a proxy).
    let r = s
        .anon
        .post(s.url("/rpc/auth/login"))
        .header("x-forwarded-proto", "https")
        .form(&[("email", ADMIN_EMAIL), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    for part in ["portico_session=", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "{cookie}");
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

/// Many wrong passwords sent at once: only as many as the free failures get their
/// password checked; the others are answered 429 at once.
#[tokio::test]
async fn parallel_sign_ins_cannot_all_pass_the_back_off() {
    let s = server().await;
    let attempts = (0..20).map(|_| {
        s.anon
            .post(s.url("/rpc/auth/login"))
            .header("origin", s.base.clone())
            .form(&[("email", ADMIN_EMAIL), ("password", "wrong password!!")])
            .send()
    });
    let statuses: Vec<StatusCode> = futures_join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.unwrap().status())
        .collect();
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let waited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(checked + waited, 20, "{statuses:?}");
    assert!(
        checked <= server::auth::throttle::FREE_FAILURES as usize,
        "{checked} passwords were checked: {statuses:?}"
    );
}

/// Sends all the requests at once (each on its own task) and waits for all.
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let tasks: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// A token made with a token expires no later than its maker, and one that expires
/// cannot make one that never does.
#[tokio::test]
async fn a_token_made_by_a_token_never_outlives_it() {
    let s = server().await;
    let maker = s
        .hub
        .console_create_token(
            ADMIN_EMAIL,
            NewApiToken {
                name: "maker".into(),
                role: None,
                expires_in_days: Some(2),
            },
        )
        .await
        .unwrap();
    let limit = maker.token.expires_at.unwrap();
    let c = s.client_with_token(&maker.secret);
    for body in [
        json!({"name": "forever"}),
        json!({"name": "longer", "expires_in_days": 30}),
    ] {
        let r = c
            .post(s.url("/api/v1/tokens"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "{body}");
        let made: Value = r.json().await.unwrap();
        let expires: chrono::DateTime<Utc> =
            serde_json::from_value(made["token"]["expires_at"].clone())
                .unwrap_or_else(|e| panic!("{body} → {made}: {e}"));
        // (as stored: to the microsecond)
        assert!(
            (expires - limit).num_milliseconds().abs() <= 1,
            "{body} → {made}: {limit}"
        );
    }
    // A shorter one keeps its own expiry.
    let r = c
        .post(s.url("/api/v1/tokens"))
        .json(&json!({"name": "shorter", "expires_in_days": 1}))
        .send()
        .await
        .unwrap();
    let made: Value = r.json().await.unwrap();
    let expires: chrono::DateTime<Utc> =
        serde_json::from_value(made["token"]["expires_at"].clone()).unwrap();
    assert!(expires < limit - Duration::hours(12), "{made}");
    // A session (not a token) may still make a token that never expires.
    let r = s
        .client
        .post(s.url("/api/v1/tokens"))
        .json(&json!({"name": "from the UI"}))
        .send()
        .await
        .unwrap();
    let made: Value = r.json().await.unwrap();
    assert!(made["token"]["expires_at"].is_null(), "{made}");
}
