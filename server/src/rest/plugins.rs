//! Plugins over REST (Kong's plugin entities and status codes): on a runtime group, a
//! version (Kong's service), a route or a consumer; by id; and the plugins' config
//! schemas.

use app::error::AppError;
use app::model::*;
use app::ports::GatewaysRef;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use uuid::Uuid;

use super::{ApiJson, ApiResult, Caller, ErrorBody};

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PluginList {
    pub data: Vec<Plugin>,
}

async fn list(g: &GatewaysRef, actor: &Actor, scope: PluginScope) -> ApiResult<Json<PluginList>> {
    Ok(Json(PluginList {
        data: g.list_plugins(actor, scope).await?,
    }))
}

async fn create(
    g: &GatewaysRef,
    actor: &Actor,
    scope: PluginScope,
    input: PluginInput,
) -> ApiResult<(StatusCode, Json<Plugin>)> {
    let p = g.create_plugin(actor, scope, input).await?;
    Ok((StatusCode::CREATED, Json(p)))
}

#[utoipa::path(get, path = "/api/v1/runtime-groups/{id}/plugins", tag = "plugins",
    params(("id" = String, Path, description = "Runtime group id or name")),
    responses((status = 200, body = PluginList, description = "Plugins on the group itself (not on a version or route)"),
        (status = 404, body = ErrorBody)))]
pub async fn list_group(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<PluginList>> {
    list(&g, &actor, PluginScope::RuntimeGroup { group: id }).await
}

#[utoipa::path(post, path = "/api/v1/runtime-groups/{id}/plugins", tag = "plugins",
    params(("id" = String, Path, description = "Runtime group id or name")),
    request_body = PluginInput,
    responses((status = 201, body = Plugin), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "This plugin is already on this scope"),
        (status = 422, body = ErrorBody, description = "A field broke a rule: `error.field` names it (`config.minute`)")))]
pub async fn create_group(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PluginInput>,
) -> ApiResult<(StatusCode, Json<Plugin>)> {
    create(&g, &actor, PluginScope::RuntimeGroup { group: id }, input).await
}

#[utoipa::path(get, path = "/api/v1/service-packages/{id}/versions/{version_id}/plugins", tag = "plugins",
    params(("id" = String, Path, description = "Package id or key"),
        ("version_id" = Uuid, Path, description = "Version id")),
    responses((status = 200, body = PluginList), (status = 404, body = ErrorBody)))]
pub async fn list_version(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path((id, version_id)): Path<(String, Uuid)>,
) -> ApiResult<Json<PluginList>> {
    let scope = PluginScope::Version {
        package: id,
        version_id,
    };
    list(&g, &actor, scope).await
}

#[utoipa::path(post, path = "/api/v1/service-packages/{id}/versions/{version_id}/plugins", tag = "plugins",
    params(("id" = String, Path, description = "Package id or key"),
        ("version_id" = Uuid, Path, description = "Version id")),
    request_body = PluginInput,
    responses((status = 201, body = Plugin), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_version(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path((id, version_id)): Path<(String, Uuid)>,
    ApiJson(input): ApiJson<PluginInput>,
) -> ApiResult<(StatusCode, Json<Plugin>)> {
    let scope = PluginScope::Version {
        package: id,
        version_id,
    };
    create(&g, &actor, scope, input).await
}

#[utoipa::path(get, path = "/api/v1/service-packages/{id}/versions/{version_id}/routes/{route_id}/plugins", tag = "plugins",
    params(("id" = String, Path, description = "Package id or key"),
        ("version_id" = Uuid, Path, description = "Version id"),
        ("route_id" = Uuid, Path, description = "Route id")),
    responses((status = 200, body = PluginList), (status = 404, body = ErrorBody)))]
pub async fn list_route(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path((id, version_id, route_id)): Path<(String, Uuid, Uuid)>,
) -> ApiResult<Json<PluginList>> {
    let scope = PluginScope::Route {
        package: id,
        version_id,
        route_id,
    };
    list(&g, &actor, scope).await
}

#[utoipa::path(post, path = "/api/v1/service-packages/{id}/versions/{version_id}/routes/{route_id}/plugins", tag = "plugins",
    params(("id" = String, Path, description = "Package id or key"),
        ("version_id" = Uuid, Path, description = "Version id"),
        ("route_id" = Uuid, Path, description = "Route id")),
    request_body = PluginInput,
    responses((status = 201, body = Plugin), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_route(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path((id, version_id, route_id)): Path<(String, Uuid, Uuid)>,
    ApiJson(input): ApiJson<PluginInput>,
) -> ApiResult<(StatusCode, Json<Plugin>)> {
    let scope = PluginScope::Route {
        package: id,
        version_id,
        route_id,
    };
    create(&g, &actor, scope, input).await
}

#[utoipa::path(get, path = "/api/v1/runtime-groups/{id}/consumers/{consumer}/plugins", tag = "plugins",
    params(("id" = String, Path, description = "Runtime group id or name"),
        ("consumer" = String, Path, description = "Consumer id or username")),
    responses((status = 200, body = PluginList, description = "Every plugin narrowed to this consumer"),
        (status = 404, body = ErrorBody)))]
pub async fn list_consumer(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path((id, consumer)): Path<(String, String)>,
) -> ApiResult<Json<PluginList>> {
    let scope = PluginScope::Consumer {
        group: id,
        consumer,
    };
    list(&g, &actor, scope).await
}

#[utoipa::path(post, path = "/api/v1/runtime-groups/{id}/consumers/{consumer}/plugins", tag = "plugins",
    params(("id" = String, Path, description = "Runtime group id or name"),
        ("consumer" = String, Path, description = "Consumer id or username")),
    request_body = PluginInput,
    responses((status = 201, body = Plugin), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_consumer(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path((id, consumer)): Path<(String, String)>,
    ApiJson(input): ApiJson<PluginInput>,
) -> ApiResult<(StatusCode, Json<Plugin>)> {
    let scope = PluginScope::Consumer {
        group: id,
        consumer,
    };
    create(&g, &actor, scope, input).await
}

#[utoipa::path(get, path = "/api/v1/plugins/{id}", tag = "plugins",
    params(("id" = Uuid, Path, description = "Plugin id")),
    responses((status = 200, body = Plugin), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Plugin>> {
    Ok(Json(g.get_plugin(&actor, id).await?))
}

#[utoipa::path(put, path = "/api/v1/plugins/{id}", tag = "plugins",
    params(("id" = Uuid, Path, description = "Plugin id")),
    request_body = PluginInput,
    responses((status = 200, body = Plugin, description = "Replaced: omitted fields take their defaults again; the scope is kept"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<PluginInput>,
) -> ApiResult<Json<Plugin>> {
    Ok(Json(g.replace_plugin(&actor, id, input).await?))
}

#[utoipa::path(patch, path = "/api/v1/plugins/{id}", tag = "plugins",
    params(("id" = Uuid, Path, description = "Plugin id")),
    request_body = PluginPatch,
    responses((status = 200, body = Plugin, description = "`config` merged field by field into the stored one"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path(id): Path<Uuid>,
    ApiJson(input): ApiJson<PluginPatch>,
) -> ApiResult<Json<Plugin>> {
    Ok(Json(g.patch_plugin(&actor, id, input).await?))
}

#[utoipa::path(delete, path = "/api/v1/plugins/{id}", tag = "plugins",
    params(("id" = Uuid, Path, description = "Plugin id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(g): State<GatewaysRef>,
    Caller(actor): Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    g.delete_plugin(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A plugin Portico has.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PluginInfo {
    /// Kong's name (`key-auth`).
    pub name: String,
    /// Kong's priority: higher runs first.
    pub priority: u32,
    /// The default `protocols`.
    pub protocols: Vec<String>,
    /// Whether it may be configured on a consumer.
    pub consumer_scope: bool,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PluginInfoList {
    pub data: Vec<PluginInfo>,
}

#[utoipa::path(get, path = "/api/v1/plugin-schemas", tag = "plugins",
    responses((status = 200, body = PluginInfoList, description = "Every plugin, highest priority first")))]
pub async fn list_schemas(Caller(actor): Caller) -> ApiResult<Json<PluginInfoList>> {
    let _reader = actor.require(Permission::Read)?;
    Ok(Json(PluginInfoList {
        data: PluginName::ALL
            .into_iter()
            .map(|p| PluginInfo {
                name: p.as_str().into(),
                priority: p.priority(),
                protocols: p
                    .default_protocols()
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect(),
                consumer_scope: p.allows_consumer_scope(),
            })
            .collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/plugin-schemas/{name}", tag = "plugins",
    params(("name" = String, Path, description = "Kong's plugin name (`rate-limiting`)")),
    responses((status = 200, body = Object, description = "The JSON Schema of the plugin's config, with defaults and rules"),
        (status = 404, body = ErrorBody)))]
pub async fn get_schema(
    Caller(actor): Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let _reader = actor.require(Permission::Read)?;
    let p = PluginName::parse(&name)
        .ok_or_else(|| AppError::not_found(format!("No plugin named \"{name}\".")))?;
    Ok(Json(portico_plugins::json_schema(p)))
}
