//! The OpenAPI 3.1 document, generated from the handlers' annotations and the DTOs.

use app::model::*;
use axum::Json;
use utoipa::OpenApi;

use super::{packages, runtime_groups, versions, ErrorBody, ErrorDetail};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Portico admin API",
        version = "1",
        description = "Runtime groups, service packages and their versions. Errors use the body `{\"error\": {\"code\", \"message\", \"field\"?}}`."
    ),
    paths(
        runtime_groups::list, runtime_groups::create, runtime_groups::get, runtime_groups::update, runtime_groups::delete,
        packages::list, packages::create, packages::get, packages::update, packages::delete,
        versions::list, versions::create, versions::get, versions::update, versions::delete,
    ),
    components(schemas(
        RuntimeGroup, NewRuntimeGroup, RuntimeGroupPatch,
        ServicePackage, NewServicePackage, ServicePackagePatch, StatusCounts,
        ServiceVersion, NewServiceVersion, ServiceVersionPatch, VersionStatus,
        ErrorBody, ErrorDetail,
    )),
    tags(
        (name = "runtime-groups", description = "Environments: clusters of data plane nodes sharing one configuration"),
        (name = "service-packages", description = "Catalog entries"),
        (name = "service-versions", description = "Versions of a package, each in one runtime group"),
    )
)]
pub struct ApiDoc;

/// `GET /api/v1/openapi.json`
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
