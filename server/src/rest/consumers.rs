//! Consumers of a runtime group over REST (Kong's shapes and status codes), with
//! their key-auth credentials (the key shown only in the answer to its creation) and
//! ACL groups. `{consumer}` is a consumer's id or username.

use app::model::*;
use app::ports::GatewaysRef;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use uuid::Uuid;

use super::{ApiJson, ApiResult, Caller, ErrorBody};

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ConsumerList {
    pub data: Vec<Consumer>,
}

#[utoipa::path(get, path = "/api/v1/runtime-groups/{id}/consumers", tag = "consumers",
    params(("id" = String, Path, description = "Runtime group id or name")),
    responses((status = 200, body = ConsumerList), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ConsumerList>> {
    Ok(Json(ConsumerList {
        data: g.list_consumers(&actor, &id).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/runtime-groups/{id}/consumers", tag = "consumers",
    params(("id" = String, Path, description = "Runtime group id or name")),
    request_body = ConsumerInput,
    responses((status = 201, body = Consumer), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`username` or `custom_id` taken in the group (`error.field`)"),
        (status = 422, body = ErrorBody)))]
pub async fn create(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ConsumerInput>,
) -> ApiResult<(StatusCode, Json<Consumer>)> {
    let c = g.create_consumer(&actor, &id, input).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

#[utoipa::path(get, path = "/api/v1/runtime-groups/{id}/consumers/{consumer}", tag = "consumers",
    params(("id" = String, Path, description = "Runtime group id or name"),
        ("consumer" = String, Path, description = "Consumer id or username")),
    responses((status = 200, body = Consumer), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path((id, consumer)): Path<(String, String)>,
) -> ApiResult<Json<Consumer>> {
    Ok(Json(g.get_consumer(&actor, &id, &consumer).await?))
}

#[utoipa::path(put, path = "/api/v1/runtime-groups/{id}/consumers/{consumer}", tag = "consumers",
    params(("id" = String, Path, description = "Runtime group id or name"),
        ("consumer" = String, Path, description = "Consumer id or username")),
    request_body = ConsumerInput,
    responses((status = 200, body = Consumer, description = "Replaced: omitted fields are cleared"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path((id, consumer)): Path<(String, String)>,
    ApiJson(input): ApiJson<ConsumerInput>,
) -> ApiResult<Json<Consumer>> {
    Ok(Json(
        g.update_consumer(&actor, &id, &consumer, input).await?,
    ))
}

#[utoipa::path(patch, path = "/api/v1/runtime-groups/{id}/consumers/{consumer}", tag = "consumers",
    params(("id" = String, Path, description = "Runtime group id or name"),
        ("consumer" = String, Path, description = "Consumer id or username")),
    request_body(content = Object, description = "Only the fields to change (`null` clears one)"),
    responses((status = 200, body = Consumer), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path((id, consumer)): Path<(String, String)>,
    ApiJson(patch): ApiJson<serde_json::Map<String, serde_json::Value>>,
) -> ApiResult<Json<Consumer>> {
    let current = g.get_consumer(&actor, &id, &consumer).await?;
    let mut merged = serde_json::Map::new();
    merged.insert("username".into(), current.username.into());
    merged.insert("custom_id".into(), current.custom_id.into());
    merged.insert("tags".into(), current.tags.into());
    merged.extend(patch);
    let input: ConsumerInput =
        super::json::from_slice(serde_json::Value::Object(merged).to_string().as_bytes())
            .map_err(super::json_error)?;
    Ok(Json(
        g.update_consumer(&actor, &id, &current.id.to_string(), input)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/runtime-groups/{id}/consumers/{consumer}", tag = "consumers",
    params(("id" = String, Path, description = "Runtime group id or name"),
        ("consumer" = String, Path, description = "Consumer id or username")),
    responses((status = 204, description = "Deleted with its credentials, ACL groups and plugins"),
        (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path((id, consumer)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    g.delete_consumer(&actor, &id, &consumer).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct KeyList {
    pub data: Vec<KeyAuthCredential>,
}

#[utoipa::path(get, path = "/api/v1/runtime-groups/{id}/consumers/{consumer}/key-auth", tag = "consumers",
    params(("id" = String, Path, description = "Runtime group id or name"),
        ("consumer" = String, Path, description = "Consumer id or username")),
    responses((status = 200, body = KeyList, description = "Never the keys: their first characters"),
        (status = 404, body = ErrorBody)))]
pub async fn list_keys(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path((id, consumer)): Path<(String, String)>,
) -> ApiResult<Json<KeyList>> {
    Ok(Json(KeyList {
        data: g.list_keys(&actor, &id, &consumer).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/runtime-groups/{id}/consumers/{consumer}/key-auth", tag = "consumers",
    params(("id" = String, Path, description = "Runtime group id or name"),
        ("consumer" = String, Path, description = "Consumer id or username")),
    request_body = NewKeyAuthCredential,
    responses((status = 201, body = CreatedKeyAuthCredential, description = "`key` is shown only this once (32 random characters when none was sent)"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "The key is taken in the group"),
        (status = 422, body = ErrorBody)))]
pub async fn create_key(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path((id, consumer)): Path<(String, String)>,
    ApiJson(input): ApiJson<NewKeyAuthCredential>,
) -> ApiResult<(StatusCode, Json<CreatedKeyAuthCredential>)> {
    let k = g.create_key(&actor, &id, &consumer, input).await?;
    Ok((StatusCode::CREATED, Json(k)))
}

#[utoipa::path(delete, path = "/api/v1/runtime-groups/{id}/consumers/{consumer}/key-auth/{credential_id}", tag = "consumers",
    params(("id" = String, Path, description = "Runtime group id or name"),
        ("consumer" = String, Path, description = "Consumer id or username"),
        ("credential_id" = Uuid, Path, description = "Credential id")),
    responses((status = 204, description = "Revoked: data planes refuse the key after their next sync"),
        (status = 404, body = ErrorBody)))]
pub async fn delete_key(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path((id, consumer, credential_id)): Path<(String, String, Uuid)>,
) -> ApiResult<StatusCode> {
    g.delete_key(&actor, &id, &consumer, credential_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct AclList {
    pub data: Vec<AclGroup>,
}

#[utoipa::path(get, path = "/api/v1/runtime-groups/{id}/consumers/{consumer}/acls", tag = "consumers",
    params(("id" = String, Path, description = "Runtime group id or name"),
        ("consumer" = String, Path, description = "Consumer id or username")),
    responses((status = 200, body = AclList), (status = 404, body = ErrorBody)))]
pub async fn list_acls(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path((id, consumer)): Path<(String, String)>,
) -> ApiResult<Json<AclList>> {
    Ok(Json(AclList {
        data: g.list_acls(&actor, &id, &consumer).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/runtime-groups/{id}/consumers/{consumer}/acls", tag = "consumers",
    params(("id" = String, Path, description = "Runtime group id or name"),
        ("consumer" = String, Path, description = "Consumer id or username")),
    request_body = NewAclGroup,
    responses((status = 201, body = AclGroup), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The consumer is already in this group"),
        (status = 422, body = ErrorBody)))]
pub async fn create_acl(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path((id, consumer)): Path<(String, String)>,
    ApiJson(input): ApiJson<NewAclGroup>,
) -> ApiResult<(StatusCode, Json<AclGroup>)> {
    let a = g.add_acl(&actor, &id, &consumer, input).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

#[utoipa::path(delete, path = "/api/v1/runtime-groups/{id}/consumers/{consumer}/acls/{acl_id}", tag = "consumers",
    params(("id" = String, Path, description = "Runtime group id or name"),
        ("consumer" = String, Path, description = "Consumer id or username"),
        ("acl_id" = Uuid, Path, description = "ACL group id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_acl(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path((id, consumer, acl_id)): Path<(String, String, Uuid)>,
) -> ApiResult<StatusCode> {
    g.delete_acl(&actor, &id, &consumer, acl_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
