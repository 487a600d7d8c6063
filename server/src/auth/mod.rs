//! Who is asking, and may they: the authentication layer in front of every request,
//! CSRF protection, security headers. Roles are checked by the domain (`hub`), which
//! every server function and REST handler calls with the `Actor` found here.
//!
//! Public (no session or token needed): `PUBLIC_PATHS`, `PUBLIC_PREFIXES` and
//! `PUBLIC_SERVER_FNS`, and `/metrics` with `--metrics-public`. Everything else answers
//! 401 (API, server functions, `/status`, `/metrics`) or redirects to the sign-in page
//! (pages) when anonymous. API tokens are taken by the REST API, `/status` and
//! `/metrics`.
//!
//! Over TLS (as a trusted proxy says, see `forwarded`) Portico's cookies are named
//! `__Host-…` and `Secure`, and responses carry `Strict-Transport-Security`.

pub mod forwarded;
pub mod secret;
pub mod setup_code;
pub mod throttle;

use std::net::SocketAddr;

use app::error::AppError;
use app::model::{Actor, Credential, Permission};
use app::ports::{ClientAddress, OverTls};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;

use crate::hub::Hub;

/// Paths anyone may request.
pub const PUBLIC_PATHS: [&str; 5] = [
    "/healthz",
    "/login",
    "/setup",
    "/favicon.ico",
    "/api/v1/openapi.json",
];
/// Path prefixes anyone may request: static assets and (later) the Dev Portal.
/// `/dp/v1/` is the data plane sync API: it authenticates with data plane tokens.
pub const PUBLIC_PREFIXES: [&str; 4] = ["/pkg/", "/portal", "/rpc/portal", "/dp/v1/"];
/// Server functions anyone may call: signing in and the first-run screen.
pub const PUBLIC_SERVER_FNS: [&str; 2] = ["/rpc/auth/login", "/rpc/auth/setup"];
/// Server functions any signed-in user may call whatever their role, because they
/// act on their own account only (the domain checks that).
pub const SELF_SERVICE_SERVER_FNS: [&str; 4] = [
    "/rpc/auth/logout",
    "/rpc/account/password",
    "/rpc/account/tokens/create",
    "/rpc/account/tokens/revoke",
];

pub fn is_public(path: &str) -> bool {
    PUBLIC_PATHS.contains(&path)
        || PUBLIC_SERVER_FNS.contains(&path)
        || PUBLIC_PREFIXES.iter().any(|p| {
            path.starts_with(p)
                && (p.ends_with('/') || path.len() == p.len() || path[p.len()..].starts_with('/'))
        })
}

/// Whether a mutation at `path` is open to every signed-in user: it acts on the
/// caller's own account only, or (analytics) it is a read sent as POST or a saved
/// report, which anyone who may read may save and its creator change (the domain
/// checks that).
pub fn is_self_service(path: &str) -> bool {
    SELF_SERVICE_SERVER_FNS.contains(&path)
        || path == "/api/v1/tokens"
        || path.starts_with("/api/v1/tokens/")
        || path.starts_with("/api/v1/analytics/")
        || path == "/rpc/analytics-explorer/load"
        || path.starts_with("/rpc/analytics-reports/")
}

/// Settings of the authentication layer.
#[derive(Debug, Clone, Default)]
pub struct AuthSettings {
    /// Behind a reverse proxy: believe its `X-Forwarded-For`, `X-Forwarded-Proto`
    /// and `X-Forwarded-Host` (see `forwarded`).
    pub trust_forwarded: bool,
    /// The proxies whose `X-Forwarded-For` entries are skipped to find the client;
    /// when not empty, the direct peer must be one of them too. Empty: only the
    /// direct peer is trusted.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

#[derive(Clone)]
pub struct AuthState {
    pub hub: Hub,
    /// `/metrics` needs no sign-in or token (`--metrics-public`).
    pub metrics_public: bool,
}

fn header_str(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

pub use app::api::{cookie_name, request_cookie, session_cookie, SESSION_COOKIE};

/// The outermost layer: decides once what to believe about the request's origin
/// (client address, TLS, host; see `forwarded`) and puts it in its extensions, as
/// `forwarded::Origin`, `ClientAddress` and `OverTls`.
pub async fn request_origin(
    State(settings): State<AuthSettings>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip());
    let origin = forwarded::origin(peer, req.headers(), &settings);
    let ext = req.extensions_mut();
    ext.insert(ClientAddress(origin.client.clone()));
    ext.insert(OverTls(origin.https));
    ext.insert(origin);
    next.run(req).await
}

/// The request's origin as `request_origin` decided; believing no proxy when that
/// layer is missing.
fn origin_of(req: &Request) -> forwarded::Origin {
    req.extensions()
        .get::<forwarded::Origin>()
        .cloned()
        .unwrap_or_else(|| {
            let peer = req
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ci| ci.0.ip());
            forwarded::origin(peer, req.headers(), &AuthSettings::default())
        })
}

/// `host[:port]` of a URL or origin, lower-cased.
fn authority_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let auth = &rest[..end];
    (!auth.is_empty()).then(|| auth.to_ascii_lowercase())
}

/// CSRF: a state-changing request must come from a page of ours: its `Origin` (or,
/// when absent, its `Referer`) must name our host. Requests with neither are let
/// through only when they carry no session cookie (nothing ambient to abuse).
fn same_origin(headers: &HeaderMap, host: Option<&str>, has_cookie: bool) -> Result<(), String> {
    let claimed = match (
        header_str(headers, header::ORIGIN),
        header_str(headers, header::REFERER),
    ) {
        (Some(origin), _) => Some(("Origin", origin)),
        (None, Some(referer)) => Some(("Referer", referer)),
        (None, None) => None,
    };
    match claimed {
        None if has_cookie => Err("a state-changing request with a session cookie must say where it comes from (Origin or Referer)".into()),
        None => Ok(()),
        Some((which, value)) => {
            if host.is_some() && authority_of(value).as_deref() == host {
                Ok(())
            } else {
                Err(format!("its {which} ({value}) is not this site"))
            }
        }
    }
}

fn is_api(path: &str) -> bool {
    path == "/api/v1" || path.starts_with("/api/v1/")
}

/// Paths for programs rather than browsers: they take API tokens, and answer an
/// anonymous caller 401 in the REST error form instead of a sign-in redirect.
fn is_machine(path: &str) -> bool {
    is_api(path) || path == "/status" || path == "/metrics"
}

fn wants_html(headers: &HeaderMap) -> bool {
    header_str(headers, header::ACCEPT).is_some_and(|a| a.contains("text/html"))
}

/// An error answered in the form its caller understands: the REST error body for the
/// API, the server-function error encoding for `/rpc`, plain text otherwise.
fn refuse(path: &str, err: AppError) -> Response {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::FORBIDDEN);
    if is_machine(path) {
        return crate::rest::ApiError(err).into_response();
    }
    if path.starts_with("/rpc/") {
        let body = serde_json::to_string(&err).unwrap_or_default();
        return (
            status,
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::HeaderName::from_static("serverfnerror"), "1"),
            ],
            body,
        )
            .into_response();
    }
    (status, err.message().to_string()).into_response()
}

/// Percent-encodes a path and query for a `next=` parameter.
fn encode_next(path_and_query: &str) -> String {
    url::form_urlencoded::byte_serialize(path_and_query.as_bytes()).collect()
}

/// The authentication layer. See the module documentation.
pub async fn authenticate(
    State(state): State<AuthState>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    let origin = origin_of(&req);
    let https = origin.https;
    let now = Utc::now();
    let source = origin.client.clone();
    req.extensions_mut().insert(ClientAddress(source.clone()));
    req.extensions_mut().insert(OverTls(https));

    // Who: an API token (REST only) or a session cookie.
    let bearer = header_str(req.headers(), header::AUTHORIZATION)
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_string());
    // Over TLS only the `__Host-` cookie counts: a plain one may have been set by
    // another host or a plain-HTTP page (session fixation).
    let cookie_secret = request_cookie(req.headers(), &cookie_name(SESSION_COOKIE, https))
        .filter(|v| !v.is_empty());
    let mut stale_cookie = false;
    let actor: Option<Actor> = match (&bearer, is_machine(&path)) {
        (Some(token), true) => match state.hub.authenticate_token(token, &source, now).await {
            Ok(Some(a)) => Some(a),
            Ok(None) => {
                return refuse(
                    &path,
                    AppError::unauthorized("This API token is not valid (unknown, expired, revoked, or its user is disabled)."),
                )
            }
            Err(e) => return refuse(&path, e),
        },
        _ => match &cookie_secret {
            Some(secret) => match state.hub.authenticate_session(secret, &source, now).await {
                Ok(Some(a)) => Some(a),
                Ok(None) => {
                    stale_cookie = true;
                    None
                }
                Err(e) => return refuse(&path, e),
            },
            None => None,
        },
    };

    // CSRF: mutations through a browser must come from our own pages.
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let by_token = matches!(
        actor.as_ref().map(|a| &a.credential),
        Some(Credential::Token(_))
    );
    if !safe && !by_token {
        if let Err(why) = same_origin(
            req.headers(),
            origin.host.as_deref(),
            cookie_secret.is_some(),
        ) {
            return refuse(
                &path,
                AppError::forbidden(format!("Cross-origin request refused: {why}.")),
            );
        }
    }

    let mut res = if let Some(actor) = actor {
        // Signed in: the sign-in and first-run screens have nothing to offer.
        if safe && (path == "/login" || path == "/setup") {
            return Redirect::to("/service-hub").into_response();
        }
        // A Viewer is read-only: refuse its mutations here, before arguments are even
        // parsed (the domain would refuse each of them too).
        if !safe && !actor.can(Permission::Publish) && !is_self_service(&path) {
            return refuse(
                &path,
                AppError::forbidden(format!(
                    "Your role ({}) is read-only: it can change nothing but your own account.",
                    actor.role.label()
                )),
            );
        }
        req.extensions_mut().insert(actor);
        next.run(req).await
    } else if is_public(&path) || (state.metrics_public && path == "/metrics") {
        if safe && (path == "/login" || path == "/setup") {
            let has_users = match app::ports::Users::has_users(&state.hub).await {
                Ok(v) => v,
                Err(e) => return refuse(&path, e),
            };
            if path == "/login" && !has_users {
                return Redirect::to("/setup").into_response();
            }
            if path == "/setup" && has_users {
                return Redirect::to("/login").into_response();
            }
        }
        next.run(req).await
    } else {
        let message = if stale_cookie {
            "Your session has ended (it expired or was revoked); sign in again."
        } else {
            "Sign in to continue."
        };
        let is_rpc = path.starts_with("/rpc/");
        let page_like = if is_rpc {
            !safe && wants_html(req.headers())
        } else {
            !is_machine(&path) && (safe || wants_html(req.headers()))
        };
        if page_like {
            // A page (or a form posted without JavaScript): go and sign in, then come back.
            let back = if safe {
                req.uri()
                    .path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| path.clone())
            } else {
                header_str(req.headers(), header::REFERER)
                    .and_then(|r| r.split_once("://").map(|(_, rest)| rest.to_string()))
                    .and_then(|rest| rest.find('/').map(|i| rest[i..].to_string()))
                    .unwrap_or_else(|| "/service-hub".into())
            };
            let has_users = app::ports::Users::has_users(&state.hub)
                .await
                .unwrap_or(true);
            let target = if !has_users {
                "/setup".to_string()
            } else {
                let mut t = format!("/login?next={}", encode_next(&back));
                if stale_cookie {
                    t.push_str("&expired=1");
                }
                t
            };
            Redirect::to(&target).into_response()
        } else {
            refuse(&path, AppError::unauthorized(message))
        }
    };
    if stale_cookie {
        if let Ok(v) = HeaderValue::from_str(&session_cookie(None, https)) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

pub use app::content_security_policy;

/// The nonce of the first `<script nonce="…">` in a page (URL-safe base64 only).
fn nonce_in(html: &[u8]) -> Option<String> {
    let head = &html[..html.len().min(64 * 1024)];
    let text = String::from_utf8_lossy(head);
    let start = text.find("nonce=\"")? + "nonce=\"".len();
    let value: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '/' | '='))
        .collect();
    (!value.is_empty() && text[start + value.len()..].starts_with('"')).then_some(value)
}

/// Security headers on every response. Pages set their own CSP (with the nonce of
/// their inline scripts); everything else gets the same policy without one.
///
/// A page whose policy came out without the nonce its scripts carry (Leptos's
/// `ResponseOptions` occasionally lose the header the shell sets, under concurrent
/// requests) gets the nonce from its own HTML, so hydration is never blocked.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let https = origin_of(&req).https;
    let mut res = next.run(req).await;
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let has_nonce = res
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("'nonce-"));
    if is_html && !has_nonce {
        let (parts, body) = res.into_parts();
        let bytes = match axum::body::to_bytes(body, usize::MAX).await {
            Ok(b) => b,
            Err(e) => {
                tracing::error!("reading a page body failed: {e}");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        };
        let nonce = nonce_in(&bytes);
        res = Response::from_parts(parts, axum::body::Body::from(bytes));
        if let Some(n) = nonce {
            tracing::debug!("{path}: the page's policy lacked its nonce; taken from the HTML");
            if let Ok(v) = HeaderValue::from_str(&content_security_policy(Some(&n))) {
                res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
            }
        }
    }
    let h = res.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        if let Ok(v) = HeaderValue::from_str(&content_security_policy(None)) {
            h.insert(header::CONTENT_SECURITY_POLICY, v);
        }
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    res
}

#[cfg(test)]
mod nonce_tests {
    #[test]
    fn finds_the_nonce_of_a_page() {
        let page =
            br#"<html><head><script type="module" nonce="3NgkY6dZ5_Q5Mh_XvV0HJQ">x</script>"#;
        assert_eq!(
            super::nonce_in(page).as_deref(),
            Some("3NgkY6dZ5_Q5Mh_XvV0HJQ")
        );
        assert_eq!(
            super::nonce_in(b"<html><body>no scripts</body></html>"),
            None
        );
        assert_eq!(super::nonce_in(br#"<script nonce="a b">"#), None);
    }
}
