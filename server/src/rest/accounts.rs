//! Users, API tokens and the audit log over REST.

use app::error::AppError;
use app::model::*;
use app::ports::AccountsRef;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::{ApiJson, ApiResult, Caller, ErrorBody};

fn id_of(field: &str, text: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(text.trim())
        .map_err(|_| AppError::validation(field, format!("\"{text}\" is not a valid id.")))
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses((status = 200, body = Vec<User>), (status = 403, body = ErrorBody)))]
pub async fn list_users(
    State(a): State<AccountsRef>,
    Caller(actor): Caller,
) -> ApiResult<Json<Vec<User>>> {
    Ok(Json(a.list_users(&actor).await?))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = User), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_user(
    State(a): State<AccountsRef>,
    Caller(actor): Caller,
    ApiJson(input): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    Ok((
        StatusCode::CREATED,
        Json(a.create_user(&actor, input).await?),
    ))
}

#[utoipa::path(method(patch, put), path = "/api/v1/users/{id}", tag = "users",
    params(("id" = Uuid, Path)), request_body = UserPatch,
    responses((status = 200, body = User), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_user(
    State(a): State<AccountsRef>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> ApiResult<Json<User>> {
    Ok(Json(a.update_user(&actor, id_of("id", &id)?, patch).await?))
}

#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn delete_user(
    State(a): State<AccountsRef>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    a.delete_user(&actor, id_of("id", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenFilter {
    /// `true` lists every user's tokens (Admin only).
    pub all: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", params(TokenFilter),
    responses((status = 200, body = Vec<ApiToken>), (status = 403, body = ErrorBody)))]
pub async fn list_tokens(
    State(a): State<AccountsRef>,
    Caller(actor): Caller,
    Query(f): Query<TokenFilter>,
) -> ApiResult<Json<Vec<ApiToken>>> {
    Ok(Json(a.list_tokens(&actor, f.all.unwrap_or(false)).await?))
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = NewApiToken,
    responses((status = 201, body = CreatedApiToken), (status = 422, body = ErrorBody)))]
pub async fn create_token(
    State(a): State<AccountsRef>,
    Caller(actor): Caller,
    ApiJson(input): ApiJson<NewApiToken>,
) -> ApiResult<(StatusCode, Json<CreatedApiToken>)> {
    Ok((
        StatusCode::CREATED,
        Json(a.create_token(&actor, input).await?),
    ))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens",
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(a): State<AccountsRef>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    a.revoke_token(&actor, id_of("id", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// Substring of the actor's email.
    pub user: Option<String>,
    /// An action (`service_package.update`) or a prefix ending in `.`.
    pub action: Option<String>,
    /// Substring of the target's name, or its id.
    pub target: Option<String>,
    /// From this time, inclusive: RFC 3339, `YYYY-MM-DDTHH:MM[:SS]` (UTC) or a date.
    pub from: Option<String>,
    /// Until this time, exclusive (same forms as `from`).
    pub to: Option<String>,
    pub page: Option<u64>,
    /// 1–500 (default 100).
    pub page_size: Option<u64>,
}

fn time_of(field: &str, text: Option<&str>) -> Result<Option<DateTime<Utc>>, AppError> {
    match text.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(t) => app::model::parse_instant(t)
            .map(Some)
            .ok_or_else(|| AppError::validation(field, app::model::date_time_error(t))),
    }
}

impl AuditFilter {
    pub fn query(&self) -> Result<AuditQuery, AppError> {
        let page_size = self.page_size.unwrap_or(100);
        if !(1..=500).contains(&page_size) {
            return Err(AppError::validation(
                "page_size",
                "page_size must be 1 to 500.",
            ));
        }
        if self.page == Some(0) {
            return Err(AppError::validation("page", "Pages are numbered from 1."));
        }
        Ok(AuditQuery {
            user: self.user.clone(),
            action: self.action.clone(),
            target: self.target.clone(),
            from: time_of("from", self.from.as_deref())?,
            to: time_of("to", self.to.as_deref())?,
            page: self.page.unwrap_or(1),
            page_size,
        })
    }
}

#[utoipa::path(get, path = "/api/v1/audit-events", tag = "audit", params(AuditFilter),
    responses((status = 200, body = Page<AuditEvent>), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn audit_events(
    State(a): State<AccountsRef>,
    Caller(actor): Caller,
    Query(f): Query<AuditFilter>,
) -> ApiResult<Json<Page<AuditEvent>>> {
    Ok(Json(a.audit_events(&actor, f.query()?).await?))
}
