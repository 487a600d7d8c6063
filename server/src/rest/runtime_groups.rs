use app::model::*;
use app::ports::CatalogRef;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::{ApiJson, ApiResult, Caller, ErrorBody, ListParams};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GroupFilter {
    /// Case-insensitive substring of the name.
    pub name: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/runtime-groups", tag = "runtime-groups",
    params(GroupFilter, ListParams),
    responses((status = 200, body = Page<RuntimeGroup>), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(c): State<CatalogRef>,
    Caller(actor): Caller,
    Query(filter): Query<GroupFilter>,
    Query(list): Query<ListParams>,
) -> ApiResult<Json<Page<RuntimeGroup>>> {
    let (sort, desc) = list.sort()?;
    let (page, page_size) = list.page()?;
    let mut groups = c.list_runtime_groups(&actor).await?;
    if let Some(n) = filter
        .name
        .as_deref()
        .map(str::to_lowercase)
        .filter(|s| !s.is_empty())
    {
        groups.retain(|g| g.name.to_lowercase().contains(&n));
    }
    match sort {
        SortKey::Name => groups.sort_by_key(|g| g.name.to_lowercase()),
        SortKey::Modified => groups.sort_by_key(|g| g.updated_at),
        SortKey::Created => groups.sort_by_key(|g| g.created_at),
    }
    if desc {
        groups.reverse();
    }
    let total = groups.len() as u64;
    let data = groups
        .into_iter()
        .skip(((page - 1) * page_size) as usize)
        .take(page_size as usize)
        .collect();
    Ok(Json(Page {
        data,
        page,
        page_size,
        total,
    }))
}

#[utoipa::path(post, path = "/api/v1/runtime-groups", tag = "runtime-groups",
    request_body = NewRuntimeGroup,
    responses((status = 201, body = RuntimeGroup), (status = 400, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(c): State<CatalogRef>,
    Caller(actor): Caller,
    ApiJson(input): ApiJson<NewRuntimeGroup>,
) -> ApiResult<(StatusCode, Json<RuntimeGroup>)> {
    Ok((
        StatusCode::CREATED,
        Json(c.create_runtime_group(&actor, input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/runtime-groups/{id}", tag = "runtime-groups",
    params(("id" = String, Path, description = "Id or name")),
    responses((status = 200, body = RuntimeGroup), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(c): State<CatalogRef>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<RuntimeGroup>> {
    Ok(Json(c.get_runtime_group(&actor, &id).await?))
}

#[utoipa::path(method(patch, put), path = "/api/v1/runtime-groups/{id}", tag = "runtime-groups",
    params(("id" = String, Path, description = "Id or name")),
    request_body = RuntimeGroupPatch,
    responses((status = 200, body = RuntimeGroup), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(c): State<CatalogRef>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<RuntimeGroupPatch>,
) -> ApiResult<Json<RuntimeGroup>> {
    let id: Uuid = c.get_runtime_group(&actor, &id).await?.id;
    Ok(Json(c.update_runtime_group(&actor, id, patch).await?))
}

#[utoipa::path(delete, path = "/api/v1/runtime-groups/{id}", tag = "runtime-groups",
    params(("id" = String, Path, description = "Id or name")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(c): State<CatalogRef>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = c.get_runtime_group(&actor, &id).await?.id;
    c.delete_runtime_group(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
