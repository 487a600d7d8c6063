use app::error::AppError;
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
pub struct VersionFilter {
    /// Case-insensitive substring of the version name.
    pub name: Option<String>,
    pub runtime_group_id: Option<Uuid>,
    /// published, deprecated or unpublished.
    pub status: Option<String>,
}

fn version_id(text: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(text).map_err(|_| AppError::not_found(format!("No version \"{text}\".")))
}

#[utoipa::path(get, path = "/api/v1/service-packages/{id}/versions", tag = "service-versions",
    params(("id" = String, Path, description = "Package id or key"), VersionFilter, ListParams),
    responses((status = 200, body = Page<ServiceVersion>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(c): State<CatalogRef>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Query(filter): Query<VersionFilter>,
    Query(list): Query<ListParams>,
) -> ApiResult<Json<Page<ServiceVersion>>> {
    let (sort, descending) = list.sort()?;
    let (page, page_size) = list.page()?;
    let status =
        validate::optional_status("status", filter.status.as_deref()).map_err(AppError::from)?;
    let query = VersionQuery {
        name: filter.name,
        runtime_group_id: filter.runtime_group_id,
        status,
        sort,
        descending,
        page,
        page_size,
    };
    Ok(Json(c.list_versions(&actor, &id, query).await?))
}

#[utoipa::path(post, path = "/api/v1/service-packages/{id}/versions", tag = "service-versions",
    params(("id" = String, Path, description = "Package id or key")),
    request_body = NewServiceVersion,
    responses((status = 201, body = ServiceVersion), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(c): State<CatalogRef>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NewServiceVersion>,
) -> ApiResult<(StatusCode, Json<ServiceVersion>)> {
    Ok((
        StatusCode::CREATED,
        Json(c.create_version(&actor, &id, input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/service-packages/{id}/versions/{version_id}", tag = "service-versions",
    params(("id" = String, Path, description = "Package id or key"), ("version_id" = Uuid, Path)),
    responses((status = 200, body = ServiceVersion), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(c): State<CatalogRef>,
    Caller(actor): Caller,
    Path((id, vid)): Path<(String, String)>,
) -> ApiResult<Json<ServiceVersion>> {
    Ok(Json(c.get_version(&actor, &id, version_id(&vid)?).await?))
}

#[utoipa::path(method(patch, put), path = "/api/v1/service-packages/{id}/versions/{version_id}", tag = "service-versions",
    params(("id" = String, Path, description = "Package id or key"), ("version_id" = Uuid, Path)),
    request_body = ServiceVersionPatch,
    responses((status = 200, body = ServiceVersion), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(c): State<CatalogRef>,
    Caller(actor): Caller,
    Path((id, vid)): Path<(String, String)>,
    ApiJson(patch): ApiJson<ServiceVersionPatch>,
) -> ApiResult<Json<ServiceVersion>> {
    Ok(Json(
        c.update_version(&actor, &id, version_id(&vid)?, patch)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/service-packages/{id}/versions/{version_id}", tag = "service-versions",
    params(("id" = String, Path, description = "Package id or key"), ("version_id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(c): State<CatalogRef>,
    Caller(actor): Caller,
    Path((id, vid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    c.delete_version(&actor, &id, version_id(&vid)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
