//! The axum application: Leptos pages and server functions, the REST API, uploads, the
//! data plane sync API, `/status`, `/metrics`, static files. Every route of the binary is built
//! here, in [`app_with`], before the layers (origin, security headers, authentication)
//! are put around them all: no route can be added outside them.

use std::sync::Arc;

use app::ports::{AccountsRef, AnalyticsRef, CatalogRef, GatewaysRef, PortalRef};
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};

use crate::auth::{self, AuthSettings, AuthState};
use crate::control::EmbeddedPlanes;
use crate::gateway::recorder::Recorder;
use crate::hub::Hub;

/// The routes [`app_with`] adds besides the pages, the server functions and the REST
/// API (`rest::operations()`): method and path template. Tests walk them all.
pub const OTHER_ROUTES: [(&str, &str); 10] = [
    ("GET", "/healthz"),
    ("GET", "/"),
    ("GET", "/status"),
    ("GET", "/metrics"),
    ("GET", "/dp/v1/config"),
    ("POST", "/dp/v1/report"),
    ("POST", "/dp/v1/analytics"),
    (
        "POST",
        "/upload/service-hub/{key}/versions/{version_id}/spec",
    ),
    ("POST", "/upload/service-hub/{key}/docs"),
    ("GET", "/portal/services/{key}/versions/{version}/spec"),
];

/// What `GET /status` reports besides the control plane itself: the embedded data
/// planes and their analytics recorder (`portico serve` has both; tests may not).
#[derive(Clone, Default)]
pub struct StatusSources {
    pub planes: Option<EmbeddedPlanes>,
    pub recorder: Option<Arc<Recorder>>,
    /// `GET /metrics` without sign-in or API token (`--metrics-public`).
    pub metrics_public: bool,
}

/// Builds the whole HTTP application over a hub, with default settings.
pub fn app(hub: Hub, options: LeptosOptions) -> Router {
    app_with(
        hub,
        options,
        AuthSettings::default(),
        StatusSources::default(),
    )
}

/// Builds the whole HTTP application over a hub: every route, inside every layer.
pub fn app_with(
    hub: Hub,
    options: LeptosOptions,
    settings: AuthSettings,
    status: StatusSources,
) -> Router {
    let auth_state = AuthState {
        hub: hub.clone(),
        metrics_public: status.metrics_public,
    };
    let catalog: CatalogRef = Arc::new(hub.clone());
    let accounts: AccountsRef = Arc::new(hub.clone());
    let portal: PortalRef = Arc::new(hub.clone());
    let gateways: GatewaysRef = Arc::new(hub.clone());
    let analytics: AnalyticsRef = Arc::new(hub);
    let routes = generate_route_list(app::App);
    let context = {
        let catalog = catalog.clone();
        move || {
            provide_context(catalog.clone());
            provide_context(accounts.clone());
            provide_context(portal.clone());
            provide_context(gateways.clone());
            provide_context(analytics.clone());
        }
    };
    let shell_options = options.clone();
    // Pages and server functions; a server function's body is at most MAX_FORM_BYTES
    // (also when it is not a form: see `server_fn_errors`).
    let leptos = Router::<LeptosOptions>::new()
        .leptos_routes_with_context(&options, routes, context.clone(), move || {
            app::shell(shell_options.clone())
        })
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES));
    Router::<LeptosOptions>::new()
        .route("/healthz", get(|| async { "ok" }))
        // `/` leads to the Service Hub, with or without JavaScript.
        .route("/", get(|| async { Redirect::to("/service-hub") }))
        .route("/metrics", get(metrics_of(status.planes.clone())))
        .route("/status", get(move || status_of(status.clone())))
        .merge(crate::rest::router(auth_state.hub.clone()))
        .merge(crate::uploads::router(auth_state.hub.clone()))
        .merge(crate::control::router(auth_state.hub.clone()))
        .merge(leptos)
        .fallback(leptos_axum::file_and_error_handler_with_context(
            context,
            app::shell,
        ))
        .layer(middleware::from_fn(server_fn_errors))
        .layer(middleware::from_fn(site_assets))
        .layer(middleware::from_fn_with_state(
            auth_state,
            auth::authenticate,
        ))
        .layer(middleware::from_fn(auth::security_headers))
        .layer(middleware::from_fn_with_state(
            settings,
            auth::request_origin,
        ))
        .with_state(options)
}

/// `GET /status` (any signed-in user or API token): the control plane, its embedded
/// data planes and their analytics recorder.
async fn status_of(status: StatusSources) -> axum::Json<serde_json::Value> {
    let planes = status.planes.map(|p| p.status()).unwrap_or_default();
    let analytics = status.recorder.map(|r| {
        serde_json::json!({
            "buffered_batches": r.buffered(),
            "delivered_batches": r.delivered_batches(),
            "dropped_batches": r.dropped_batches(),
            "rejected_batches": r.rejected_batches(),
        })
    });
    axum::Json(serde_json::json!({
        "control_plane": { "ready": true, "version": env!("CARGO_PKG_VERSION") },
        "data_planes": planes,
        "analytics": analytics,
    }))
}

/// `GET /metrics` (any signed-in user or API token, or anyone with
/// `--metrics-public`): the embedded data planes' metrics in Prometheus' text format
/// (see `gateway::metrics`).
fn metrics_of(
    planes: Option<EmbeddedPlanes>,
) -> impl Fn() -> std::future::Ready<Response> + Clone + Send + 'static {
    move || {
        let text = planes
            .as_ref()
            .map(|p| p.metrics_text())
            .unwrap_or_default();
        std::future::ready(
            (
                [(header::CONTENT_TYPE, crate::gateway::metrics::CONTENT_TYPE)],
                text,
            )
                .into_response(),
        )
    }
}

/// Site assets (`/pkg/…`, `/vendor/…`) keep their names from release to release, so
/// browsers are told to revalidate them on every use (`Cache-Control: no-cache`), and
/// an unchanged one is a 304 (its `If-Modified-Since` is its `Last-Modified`, which the
/// file handler does not check itself): a page never runs with an older release's wasm,
/// whose islands would not match. One that could not be served is logged: the browser
/// then gets the app's 404 page instead, and the page never hydrates.
async fn site_assets(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !(path.starts_with("/pkg/") || path.starts_with("/vendor/")) {
        return next.run(req).await;
    }
    let path = path.to_string();
    let since = req.headers().get(header::IF_MODIFIED_SINCE).cloned();
    let mut res = next.run(req).await;
    let status = res.status();
    if !status.is_success() && status != StatusCode::NOT_MODIFIED {
        tracing::warn!(%path, %status, "a site asset was not served");
        return res;
    }
    let unchanged = status == StatusCode::OK
        && since.is_some_and(|s| res.headers().get(header::LAST_MODIFIED) == Some(&s));
    if unchanged {
        let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
        for name in [header::LAST_MODIFIED, header::VARY] {
            if let Some(v) = res.headers().get(&name) {
                not_modified.headers_mut().insert(name, v.clone());
            }
        }
        res = not_modified;
    }
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache"),
    );
    res
}

/// The largest body a server function takes (4 MiB): a Markdown page is at most 1 MB,
/// and URL-encoding can triple it. Larger: 413.
pub const MAX_FORM_BYTES: usize = 4 * 1024 * 1024;
/// The largest form body echoed back in a redirect URL.
const MAX_FORM_ECHO_BYTES: usize = 16 * 1024;

/// Whether a posted field may be echoed in the URL of a refused form: never a secret
/// (passwords, a consumer's own key `secret_key`, `config.redis.password`, the setup
/// code).
fn echoable(name: &str) -> bool {
    !name.contains("password") && !name.contains("secret") && name != "setup_code"
}

/// Server function errors, made precise:
/// - called from the browser's JavaScript, a failed call answers with the HTTP status of
///   its `AppError` (404, 409, 422 …) instead of a blanket 500;
/// - a form posted without JavaScript gets a redirect back to its page. When the server
///   function failed, leptos_axum redirects without saying why; this adds the error to
///   the URL (`__path`, `__err`) where `ServerAction` finds it, so the page shows it.
async fn server_fn_errors(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if !path.starts_with("/rpc/") {
        return next.run(req).await;
    }
    let referer = req
        .headers()
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    // Server functions read their whole body with no limit of their own: read it here,
    // up to MAX_FORM_BYTES, whatever its type. Keep a form body, to give the fields
    // back to a form posted without JavaScript.
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "The request is too large: at most {} MB.",
                    MAX_FORM_BYTES >> 20
                ),
            )
                .into_response()
        }
    };
    let req = Request::from_parts(parts, Body::from(bytes.clone()));
    let form = is_form.then_some(bytes);
    let res = next.run(req).await;
    if !res.headers().contains_key("serverfnerror") {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, 1 << 20).await {
        Ok(b) => b,
        Err(_) => return Response::from_parts(parts, Body::empty()),
    };
    let redirected = parts.status == StatusCode::FOUND;
    let (Some(referer), true) = (referer, redirected) else {
        if let Ok(err) = serde_json::from_slice::<app::error::AppError>(&bytes) {
            if let Ok(status) = StatusCode::from_u16(err.status()) {
                parts.status = status;
            }
            if let Some(secs) = err.retry_after() {
                parts
                    .headers
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
        }
        return Response::from_parts(parts, Body::from(bytes));
    };
    let encoded = base64::engine::general_purpose::URL_SAFE.encode(&bytes);
    if let Ok(mut url) = url::Url::parse(&referer) {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| k != "__path" && k != "__err")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        url.query_pairs_mut()
            .clear()
            .extend_pairs(kept)
            .append_pair("__path", &path)
            .append_pair("__err", &encoded);
        let form = form.map(|f| {
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(url::form_urlencoded::parse(&f).filter(|(k, _)| echoable(k)))
                .finish()
        });
        if let Some(form) = form.filter(|f| f.len() <= MAX_FORM_ECHO_BYTES) {
            url.query_pairs_mut().append_pair(
                "__form",
                &base64::engine::general_purpose::URL_SAFE.encode(&form),
            );
        }
        // Stay on our own origin: keep only the path and query of the referer.
        let target = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        if let Ok(v) = HeaderValue::from_str(&target) {
            parts.headers.insert(header::LOCATION, v);
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    /// A refused form comes back with what was typed, but never a secret: a consumer's
    /// own API key (`secret_key`) was echoed before.
    #[test]
    fn secrets_are_not_echoed() {
        for secret in [
            "password",
            "password_confirm",
            "secret_key",
            "config.redis.password",
            "setup_code",
        ] {
            assert!(!super::echoable(secret), "{secret}");
        }
        for field in ["email", "username", "config.minute", "ttl", "key"] {
            assert!(super::echoable(field), "{field}");
        }
    }
}
