//! Documentation pages over REST, so docs can be pushed from a CI pipeline.

use app::model::*;
use app::ports::CatalogRef;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use super::{ApiJson, ApiResult, Caller, ErrorBody};

#[utoipa::path(get, path = "/api/v1/service-packages/{id}/documents", tag = "documents",
    params(("id" = String, Path, description = "Package id or key")),
    responses((status = 200, body = Vec<Document>, description = "Every page, in tree order, without content"),
        (status = 404, body = ErrorBody)))]
pub async fn list(
    State(c): State<CatalogRef>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Document>>> {
    Ok(Json(c.list_documents(&actor, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/service-packages/{id}/documents", tag = "documents",
    params(("id" = String, Path, description = "Package id or key")),
    request_body = NewDocument,
    responses((status = 201, body = Document), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(c): State<CatalogRef>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NewDocument>,
) -> ApiResult<(StatusCode, Json<Document>)> {
    Ok((
        StatusCode::CREATED,
        Json(c.create_document(&actor, &id, input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/service-packages/{id}/documents/{document_id}", tag = "documents",
    params(("id" = String, Path, description = "Package id or key"),
        ("document_id" = String, Path, description = "Page id or slug")),
    responses((status = 200, body = RenderedDocument), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(c): State<CatalogRef>,
    Caller(actor): Caller,
    Path((id, doc)): Path<(String, String)>,
) -> ApiResult<Json<RenderedDocument>> {
    let document = c.get_document(&actor, &id, &doc).await?;
    let html = c.render_markdown(document.content.clone()).await?;
    Ok(Json(RenderedDocument { document, html }))
}

#[utoipa::path(method(patch, put), path = "/api/v1/service-packages/{id}/documents/{document_id}", tag = "documents",
    params(("id" = String, Path, description = "Package id or key"),
        ("document_id" = String, Path, description = "Page id or slug")),
    request_body = DocumentPatch,
    responses((status = 200, body = Document), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(c): State<CatalogRef>,
    Caller(actor): Caller,
    Path((id, doc)): Path<(String, String)>,
    ApiJson(patch): ApiJson<DocumentPatch>,
) -> ApiResult<Json<Document>> {
    Ok(Json(c.update_document(&actor, &id, &doc, patch).await?))
}

#[utoipa::path(delete, path = "/api/v1/service-packages/{id}/documents/{document_id}", tag = "documents",
    params(("id" = String, Path, description = "Package id or key"),
        ("document_id" = String, Path, description = "Page id or slug")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(c): State<CatalogRef>,
    Caller(actor): Caller,
    Path((id, doc)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    c.delete_document(&actor, &id, &doc).await?;
    Ok(StatusCode::NO_CONTENT)
}
