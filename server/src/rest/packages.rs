use app::error::AppError;
use app::model::*;
use app::ports::CatalogRef;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{ApiJson, ApiResult, Caller, ErrorBody, ListParams};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PackageFilter {
    /// Case-insensitive substring of the display name or key.
    pub name: Option<String>,
    /// `key:value` label filters separated by commas; all must hold.
    pub label: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/service-packages", tag = "service-packages",
    params(PackageFilter, ListParams),
    responses((status = 200, body = Page<ServicePackage>), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(c): State<CatalogRef>,
    Caller(actor): Caller,
    Query(filter): Query<PackageFilter>,
    Query(list): Query<ListParams>,
) -> ApiResult<Json<Page<ServicePackage>>> {
    let (sort, descending) = list.sort()?;
    let (page, page_size) = list.page()?;
    let labels = filter
        .label
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| validate::parse_label_filter(s).map_err(AppError::from))
        .collect::<Result<Vec<_>, _>>()?;
    let query = PackageQuery {
        name: filter.name,
        labels,
        sort,
        descending,
        page,
        page_size,
    };
    Ok(Json(c.list_packages(&actor, query).await?))
}

#[utoipa::path(post, path = "/api/v1/service-packages", tag = "service-packages",
    request_body = NewServicePackage,
    responses((status = 201, body = ServicePackage), (status = 400, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(c): State<CatalogRef>,
    Caller(actor): Caller,
    ApiJson(input): ApiJson<NewServicePackage>,
) -> ApiResult<(StatusCode, Json<ServicePackage>)> {
    Ok((
        StatusCode::CREATED,
        Json(c.create_package(&actor, input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/service-packages/{id}", tag = "service-packages",
    params(("id" = String, Path, description = "Id or key")),
    responses((status = 200, body = ServicePackage), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(c): State<CatalogRef>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ServicePackage>> {
    Ok(Json(c.get_package(&actor, &id).await?))
}

#[utoipa::path(method(patch, put), path = "/api/v1/service-packages/{id}", tag = "service-packages",
    params(("id" = String, Path, description = "Id or key")),
    request_body = ServicePackagePatch,
    responses((status = 200, body = ServicePackage), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(c): State<CatalogRef>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<ServicePackagePatch>,
) -> ApiResult<Json<ServicePackage>> {
    Ok(Json(c.update_package(&actor, &id, patch).await?))
}

#[utoipa::path(delete, path = "/api/v1/service-packages/{id}", tag = "service-packages",
    params(("id" = String, Path, description = "Id or key")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(c): State<CatalogRef>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    c.delete_package(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
