//! The REST admin API under `/api/v1` (JSON). Handlers are thin: they parse, call the
//! same `Catalog` port as the UI's server functions, and shape the answer.

mod accounts;
mod analytics;
mod consumers;
mod documents;
mod gateway;
pub(crate) mod json;
mod openapi;
mod packages;
mod plugins;
mod runtime_groups;
pub(crate) mod specs;
mod versions;

use app::error::AppError;
use std::sync::Arc;

use app::model::Actor;
use app::ports::{AccountsRef, AnalyticsRef, CatalogRef, GatewaysRef};
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::hub::Hub;

pub use openapi::ApiDoc;

/// What REST handlers get as state.
#[derive(Clone)]
pub struct RestState {
    pub catalog: CatalogRef,
    pub accounts: AccountsRef,
    pub gateways: GatewaysRef,
    pub analytics: AnalyticsRef,
}

impl FromRef<RestState> for AnalyticsRef {
    fn from_ref(s: &RestState) -> Self {
        s.analytics.clone()
    }
}

impl FromRef<RestState> for GatewaysRef {
    fn from_ref(s: &RestState) -> Self {
        s.gateways.clone()
    }
}

impl FromRef<RestState> for CatalogRef {
    fn from_ref(s: &RestState) -> Self {
        s.catalog.clone()
    }
}

impl FromRef<RestState> for AccountsRef {
    fn from_ref(s: &RestState) -> Self {
        s.accounts.clone()
    }
}

/// Every REST operation, each with its OpenAPI description: the router and the
/// document come from this one list, so neither can miss a route.
pub fn api() -> OpenApiRouter<RestState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(runtime_groups::list, runtime_groups::create))
        .routes(routes!(
            runtime_groups::get,
            runtime_groups::update,
            runtime_groups::delete
        ))
        .routes(routes!(packages::list, packages::create))
        .routes(routes!(packages::get, packages::update, packages::delete))
        .routes(routes!(versions::list, versions::create))
        .routes(routes!(versions::get, versions::update, versions::delete))
        .routes(routes!(documents::list, documents::create))
        .routes(routes!(
            documents::get,
            documents::update,
            documents::delete
        ))
        .routes(routes!(specs::put, specs::get, specs::delete))
        .routes(routes!(
            gateway::put_implementation,
            gateway::get_implementation,
            gateway::delete_implementation
        ))
        .routes(routes!(gateway::list_routes, gateway::create_route))
        .routes(routes!(
            gateway::get_route,
            gateway::put_route,
            gateway::patch_route,
            gateway::delete_route
        ))
        .routes(routes!(gateway::list_tokens, gateway::create_token))
        .routes(routes!(gateway::revoke_token))
        .routes(routes!(gateway::list_nodes))
        .routes(routes!(plugins::list_group, plugins::create_group))
        .routes(routes!(plugins::list_version, plugins::create_version))
        .routes(routes!(plugins::list_route, plugins::create_route))
        .routes(routes!(plugins::list_consumer, plugins::create_consumer))
        .routes(routes!(
            plugins::get,
            plugins::put,
            plugins::patch,
            plugins::delete
        ))
        .routes(routes!(plugins::list_schemas))
        .routes(routes!(plugins::get_schema))
        .routes(routes!(consumers::list, consumers::create))
        .routes(routes!(
            consumers::get,
            consumers::put,
            consumers::patch,
            consumers::delete
        ))
        .routes(routes!(consumers::list_keys, consumers::create_key))
        .routes(routes!(consumers::delete_key))
        .routes(routes!(consumers::list_acls, consumers::create_acl))
        .routes(routes!(consumers::delete_acl))
        .routes(routes!(accounts::list_users, accounts::create_user))
        .routes(routes!(accounts::update_user, accounts::delete_user))
        .routes(routes!(accounts::list_tokens, accounts::create_token))
        .routes(routes!(accounts::revoke_token))
        .routes(routes!(accounts::audit_events))
        .routes(routes!(analytics::query))
        .routes(routes!(analytics::export))
        .routes(routes!(analytics::list_reports, analytics::create_report))
        .routes(routes!(
            analytics::get_report,
            analytics::update_report,
            analytics::delete_report
        ))
        .routes(routes!(analytics::report_data))
}

/// Every `(METHOD, path template)` the REST API serves, from the router itself.
pub fn operations() -> Vec<(String, String)> {
    let doc = api().into_openapi();
    let mut out = Vec::new();
    for (path, item) in doc.paths.paths {
        let ops = [
            ("GET", item.get.is_some()),
            ("POST", item.post.is_some()),
            ("PUT", item.put.is_some()),
            ("PATCH", item.patch.is_some()),
            ("DELETE", item.delete.is_some()),
        ];
        for (m, present) in ops {
            if present {
                out.push((m.to_string(), path.clone()));
            }
        }
    }
    out.push(("GET".into(), "/api/v1/openapi.json".into()));
    out
}

/// The REST API, with absolute paths under `/api/v1`, and its OpenAPI document at
/// `/api/v1/openapi.json`.
pub fn router<S: Clone + Send + Sync + 'static>(hub: Hub) -> Router<S> {
    let state = RestState {
        catalog: Arc::new(hub.clone()),
        accounts: Arc::new(hub.clone()),
        gateways: Arc::new(hub.clone()),
        analytics: Arc::new(hub),
    };
    let (routes, doc) = api().split_for_parts();
    let doc = Arc::new(doc);
    let not_found = || async { ApiError(AppError::not_found("No such API resource.")) };
    routes
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        .route("/api/v1", any(not_found))
        .route("/api/v1/{*rest}", any(not_found))
        .with_state(state)
}

/// The caller of a REST handler, as the authentication layer found it.
pub struct Caller(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Actor>()
            .cloned()
            .map(Caller)
            .ok_or_else(|| ApiError(AppError::unauthorized("Sign in or send an API token.")))
    }
}

/// The uniform error body: `{ "error": { "code", "message", "field"?, "fields"? } }`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// not_found, validation, conflict, bad_request, unauthorized, forbidden,
    /// too_many_requests or internal.
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every broken rule, when the check reported them all (a plugin's config).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<app::error::FieldProblem>,
}

/// An `AppError` answered as JSON with its HTTP status.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        Self(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.0.code().to_string(),
                message: self.0.message().to_string(),
                field: self.0.field().map(str::to_string),
                fields: self.0.field_problems().to_vec(),
            },
        };
        (status, Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A JSON body whose rejections use the uniform error body: malformed JSON is a 400,
/// a well-formed body of the wrong shape a 422 naming the exact path of the value
/// (`rows[3].status`, see [`json::from_slice`]).
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(req.headers()) {
            return Err(ApiError(AppError::bad_request(
                "Send the body as JSON with Content-Type: application/json.",
            )));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|r| ApiError(AppError::bad_request(r.body_text())))?;
        json::from_slice(&bytes)
            .map(Self)
            .map_err(|e| ApiError(json_error(e)))
    }
}

/// `application/json` or `application/<anything>+json`, as axum's `Json` accepts.
fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.split_once('/') {
        Some(("application", sub)) => sub == "json" || sub.ends_with("+json"),
        _ => false,
    }
}

fn json_error(e: json::JsonError) -> AppError {
    match e {
        json::JsonError::Shape { field, message } => AppError::validation(field, message),
        json::JsonError::Syntax(message) => {
            AppError::bad_request(format!("The body is not valid JSON: {message}"))
        }
    }
}

/// Pagination and sort shared by the list endpoints.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// 1-based page number (default 1).
    pub page: Option<u64>,
    /// Items per page, 1–1000 (default 100).
    pub page_size: Option<u64>,
    /// `name` (default), `modified` or `created`.
    pub sort: Option<String>,
    /// `asc` (default) or `desc`.
    pub order: Option<String>,
}

impl ListParams {
    pub fn sort(&self) -> Result<(app::model::SortKey, bool), AppError> {
        let key = match self.sort.as_deref() {
            None | Some("") => app::model::SortKey::Name,
            Some(s) => app::model::SortKey::parse(s).ok_or_else(|| {
                AppError::validation(
                    "sort",
                    format!("Sort \"{s}\" is not one of name, modified, created."),
                )
            })?,
        };
        let desc = match self.order.as_deref() {
            None | Some("") | Some("asc") => false,
            Some("desc") => true,
            Some(o) => {
                return Err(AppError::validation(
                    "order",
                    format!("Order \"{o}\" is not asc or desc."),
                ))
            }
        };
        Ok((key, desc))
    }
    pub fn page(&self) -> Result<(u64, u64), AppError> {
        let page = self.page.unwrap_or(1);
        let size = self.page_size.unwrap_or(100);
        if page == 0 {
            return Err(AppError::validation("page", "Pages are numbered from 1."));
        }
        if !(1..=1000).contains(&size) {
            return Err(AppError::validation(
                "page_size",
                "page_size must be 1 to 1000.",
            ));
        }
        Ok((page, size))
    }
}
