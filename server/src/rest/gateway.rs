//! The gateway over REST: a version's implementation and routes (Kong's field names),
//! a runtime group's data plane tokens and nodes.

use app::error::AppError;
use app::model::*;
use app::ports::GatewaysRef;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use uuid::Uuid;

use super::{ApiJson, ApiResult, Caller, ErrorBody};

#[utoipa::path(put, path = "/api/v1/service-packages/{id}/versions/{version_id}/implementation", tag = "gateway",
    params(("id" = String, Path, description = "Package id or key"),
        ("version_id" = Uuid, Path, description = "Version id")),
    request_body = ImplementationInput,
    responses((status = 200, body = Implementation), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put_implementation(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path((id, version_id)): Path<(String, Uuid)>,
    ApiJson(input): ApiJson<ImplementationInput>,
) -> ApiResult<Json<Implementation>> {
    Ok(Json(
        g.put_implementation(&actor, &id, version_id, input).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/service-packages/{id}/versions/{version_id}/implementation", tag = "gateway",
    params(("id" = String, Path, description = "Package id or key"),
        ("version_id" = Uuid, Path, description = "Version id")),
    responses((status = 200, body = Implementation), (status = 404, body = ErrorBody)))]
pub async fn get_implementation(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path((id, version_id)): Path<(String, Uuid)>,
) -> ApiResult<Json<Implementation>> {
    g.get_implementation(&actor, &id, version_id)
        .await?
        .map(Json)
        .ok_or_else(|| AppError::not_found("This version has no implementation.").into())
}

#[utoipa::path(delete, path = "/api/v1/service-packages/{id}/versions/{version_id}/implementation", tag = "gateway",
    params(("id" = String, Path, description = "Package id or key"),
        ("version_id" = Uuid, Path, description = "Version id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_implementation(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path((id, version_id)): Path<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    g.delete_implementation(&actor, &id, version_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct RouteList {
    pub data: Vec<Route>,
}

#[utoipa::path(get, path = "/api/v1/service-packages/{id}/versions/{version_id}/routes", tag = "gateway",
    params(("id" = String, Path, description = "Package id or key"),
        ("version_id" = Uuid, Path, description = "Version id")),
    responses((status = 200, body = RouteList), (status = 404, body = ErrorBody)))]
pub async fn list_routes(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path((id, version_id)): Path<(String, Uuid)>,
) -> ApiResult<Json<RouteList>> {
    Ok(Json(RouteList {
        data: g.list_routes(&actor, &id, version_id).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/service-packages/{id}/versions/{version_id}/routes", tag = "gateway",
    params(("id" = String, Path, description = "Package id or key"),
        ("version_id" = Uuid, Path, description = "Version id")),
    request_body = RouteInput,
    responses((status = 201, body = Route), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_route(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path((id, version_id)): Path<(String, Uuid)>,
    ApiJson(input): ApiJson<RouteInput>,
) -> ApiResult<(StatusCode, Json<Route>)> {
    let r = g.create_route(&actor, &id, version_id, input).await?;
    Ok((StatusCode::CREATED, Json(r)))
}

#[utoipa::path(get, path = "/api/v1/service-packages/{id}/versions/{version_id}/routes/{route_id}", tag = "gateway",
    params(("id" = String, Path, description = "Package id or key"),
        ("version_id" = Uuid, Path, description = "Version id"),
        ("route_id" = Uuid, Path, description = "Route id")),
    responses((status = 200, body = Route), (status = 404, body = ErrorBody)))]
pub async fn get_route(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path((id, version_id, route_id)): Path<(String, Uuid, Uuid)>,
) -> ApiResult<Json<Route>> {
    Ok(Json(g.get_route(&actor, &id, version_id, route_id).await?))
}

#[utoipa::path(put, path = "/api/v1/service-packages/{id}/versions/{version_id}/routes/{route_id}", tag = "gateway",
    params(("id" = String, Path, description = "Package id or key"),
        ("version_id" = Uuid, Path, description = "Version id"),
        ("route_id" = Uuid, Path, description = "Route id")),
    request_body = RouteInput,
    responses((status = 200, body = Route, description = "Replaced: absent fields take Kong's defaults"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_route(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path((id, version_id, route_id)): Path<(String, Uuid, Uuid)>,
    ApiJson(input): ApiJson<RouteInput>,
) -> ApiResult<Json<Route>> {
    Ok(Json(
        g.update_route(&actor, &id, version_id, route_id, input)
            .await?,
    ))
}

#[utoipa::path(patch, path = "/api/v1/service-packages/{id}/versions/{version_id}/routes/{route_id}", tag = "gateway",
    params(("id" = String, Path, description = "Package id or key"),
        ("version_id" = Uuid, Path, description = "Version id"),
        ("route_id" = Uuid, Path, description = "Route id")),
    request_body(content = Object, description = "Only the fields to change"),
    responses((status = 200, body = Route), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn patch_route(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path((id, version_id, route_id)): Path<(String, Uuid, Uuid)>,
    ApiJson(patch): ApiJson<serde_json::Map<String, serde_json::Value>>,
) -> ApiResult<Json<Route>> {
    let current = g.get_route(&actor, &id, version_id, route_id).await?;
    let mut merged = match serde_json::to_value(&current.fields) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => return Err(AppError::internal().into()),
    };
    merged.extend(patch);
    let input: RouteInput = serde_json::from_value(serde_json::Value::Object(merged))
        .map_err(|e| AppError::validation("body", format!("The route is not valid: {e}.")))?;
    Ok(Json(
        g.update_route(&actor, &id, version_id, route_id, input)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/service-packages/{id}/versions/{version_id}/routes/{route_id}", tag = "gateway",
    params(("id" = String, Path, description = "Package id or key"),
        ("version_id" = Uuid, Path, description = "Version id"),
        ("route_id" = Uuid, Path, description = "Route id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_route(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path((id, version_id, route_id)): Path<(String, Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    g.delete_route(&actor, &id, version_id, route_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct TokenList {
    pub data: Vec<DataPlaneToken>,
}

#[utoipa::path(get, path = "/api/v1/runtime-groups/{id}/tokens", tag = "data-planes",
    params(("id" = String, Path, description = "Runtime group id or name")),
    responses((status = 200, body = TokenList), (status = 404, body = ErrorBody)))]
pub async fn list_tokens(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<TokenList>> {
    Ok(Json(TokenList {
        data: g.group_gateway(&actor, &id).await?.tokens,
    }))
}

#[utoipa::path(post, path = "/api/v1/runtime-groups/{id}/tokens", tag = "data-planes",
    params(("id" = String, Path, description = "Runtime group id or name")),
    request_body = NewDataPlaneToken,
    responses((status = 201, body = CreatedDataPlaneToken, description = "`secret` is shown only this once"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_token(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NewDataPlaneToken>,
) -> ApiResult<(StatusCode, Json<CreatedDataPlaneToken>)> {
    let t = g.create_data_plane_token(&actor, &id, input).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

#[utoipa::path(delete, path = "/api/v1/runtime-groups/{id}/tokens/{token_id}", tag = "data-planes",
    params(("id" = String, Path, description = "Runtime group id or name"),
        ("token_id" = Uuid, Path, description = "Token id")),
    responses((status = 204, description = "Revoked: nodes using it are refused from now on"),
        (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path((id, token_id)): Path<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    g.revoke_data_plane_token(&actor, &id, token_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct NodeList {
    pub config_version: u64,
    pub data: Vec<DataPlaneNode>,
}

#[utoipa::path(get, path = "/api/v1/runtime-groups/{id}/nodes", tag = "data-planes",
    params(("id" = String, Path, description = "Runtime group id or name")),
    responses((status = 200, body = NodeList), (status = 404, body = ErrorBody)))]
pub async fn list_nodes(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<NodeList>> {
    let gw = g.group_gateway(&actor, &id).await?;
    Ok(Json(NodeList {
        config_version: gw.config_version,
        data: gw.nodes,
    }))
}
