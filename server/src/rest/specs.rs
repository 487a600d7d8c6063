//! The API spec of a version over REST: `PUT` the raw YAML or JSON, `GET` it back as
//! it was sent, `DELETE` it.

use app::error::AppError;
use app::model::*;
use app::ports::CatalogRef;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use uuid::Uuid;

use super::{ApiResult, Caller, ErrorBody};
use crate::docs::spec::SPEC_MAX_BYTES;

/// Reads a spec body: at most 10 MB, UTF-8.
pub async fn read_spec_body(body: Body) -> Result<String, AppError> {
    let bytes = axum::body::to_bytes(body, SPEC_MAX_BYTES + 1)
        .await
        .map_err(|_| too_large())?;
    spec_text(bytes.to_vec())
}

pub fn too_large() -> AppError {
    AppError::validation("spec", "An API spec is at most 10 MB; this one is larger.")
}

/// The bytes of an uploaded spec as text: at most 10 MB, UTF-8 (a BOM is dropped).
pub fn spec_text(bytes: Vec<u8>) -> Result<String, AppError> {
    if bytes.len() > SPEC_MAX_BYTES {
        return Err(too_large());
    }
    let mut text = String::from_utf8(bytes).map_err(|e| {
        AppError::validation(
            "spec",
            format!(
                "The spec is not UTF-8 text (invalid byte at offset {}).",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

/// The original text with its content type, as a download.
pub fn spec_download(info: &ApiSpecInfo, file_name: &str, text: String) -> Response {
    let content_type = if info.format == "json" {
        "application/json; charset=utf-8"
    } else {
        "application/yaml; charset=utf-8"
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{file_name}\""),
            ),
        ],
        text,
    )
        .into_response()
}

#[utoipa::path(put, path = "/api/v1/service-packages/{id}/versions/{version_id}/spec", tag = "specs",
    params(("id" = String, Path, description = "Package id or key"),
        ("version_id" = Uuid, Path, description = "Version id")),
    request_body(content = String, description = "OpenAPI 3.0, 3.1 or Swagger 2.0, as YAML or JSON (at most 10 MB)",
        content_type = "application/yaml"),
    responses((status = 200, body = ApiSpecInfo, description = "Stored; `warnings` names unresolved external references"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put(
    State(c): State<CatalogRef>,
    Caller(actor): Caller,
    Path((id, version_id)): Path<(String, Uuid)>,
    body: Body,
) -> ApiResult<Json<ApiSpecInfo>> {
    let text = read_spec_body(body).await?;
    Ok(Json(c.put_spec(&actor, &id, version_id, text).await?))
}

#[utoipa::path(get, path = "/api/v1/service-packages/{id}/versions/{version_id}/spec", tag = "specs",
    params(("id" = String, Path, description = "Package id or key"),
        ("version_id" = Uuid, Path, description = "Version id")),
    responses((status = 200, description = "The spec exactly as it was sent, as application/yaml or application/json"),
        (status = 404, body = ErrorBody)))]
pub async fn get(
    State(c): State<CatalogRef>,
    Caller(actor): Caller,
    Path((id, version_id)): Path<(String, Uuid)>,
) -> ApiResult<Response> {
    let (info, text) = c.spec_text(&actor, &id, version_id).await?;
    let v = c.get_version(&actor, &id, version_id).await?;
    Ok(spec_download(
        &info,
        &info.file_name(&v.package_key, &v.name),
        text,
    ))
}

#[utoipa::path(delete, path = "/api/v1/service-packages/{id}/versions/{version_id}/spec", tag = "specs",
    params(("id" = String, Path, description = "Package id or key"),
        ("version_id" = Uuid, Path, description = "Version id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(c): State<CatalogRef>,
    Caller(actor): Caller,
    Path((id, version_id)): Path<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    c.delete_spec(&actor, &id, version_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
