//! The OpenAPI 3.1 document, generated from the handlers' annotations and the DTOs.

use app::model::*;
use utoipa::OpenApi;

use super::{ErrorBody, ErrorDetail};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::Modify;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Portico admin API",
        version = "1",
        description = "Runtime groups (`proxy_listen`: where `portico serve` runs the group's embedded data plane), service packages (`\"published\": true` shows one in the Dev Portal) and their versions, documentation pages and API specs, implementations and routes, plugins and consumers, users, API tokens and the audit log. Authenticate with `Authorization: Bearer <token>` (create one on the Account page or with `portico admin create-token`). Errors use the body `{\"error\": {\"code\", \"message\", \"field\"?, \"fields\"?}}` (`fields`: every broken rule, when a check reports them all, as a plugin's config check does)."
    ),
    components(schemas(
        RuntimeGroup, NewRuntimeGroup, RuntimeGroupPatch,
        ServicePackage, NewServicePackage, ServicePackagePatch, StatusCounts,
        ServiceVersion, NewServiceVersion, ServiceVersionPatch, VersionStatus,
        Document, RenderedDocument, NewDocument, DocumentPatch, ApiSpecInfo,
        User, NewUser, UserPatch, Role, ApiToken, NewApiToken, CreatedApiToken, AuditEvent,
        Implementation, ImplementationInput, Route, RouteInput, DataPlaneToken,
        NewDataPlaneToken, CreatedDataPlaneToken, DataPlaneNode,
        Plugin, PluginInput, PluginPatch, EntityRef, Consumer, ConsumerInput,
        KeyAuthCredential, NewKeyAuthCredential, CreatedKeyAuthCredential, AclGroup, NewAclGroup,
        ErrorBody, ErrorDetail, app::error::FieldProblem,
    )),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "runtime-groups", description = "Environments: clusters of data plane nodes sharing one configuration"),
        (name = "service-packages", description = "Catalog entries"),
        (name = "service-versions", description = "Versions of a package, each in one runtime group"),
        (name = "documents", description = "Markdown documentation pages of a package (docs as code)"),
        (name = "specs", description = "The API spec of a version: OpenAPI 3.0, 3.1 or Swagger 2.0, YAML or JSON"),
        (name = "gateway", description = "A version's implementation (upstream) and routes, with Kong's field names"),
        (name = "data-planes", description = "A runtime group's data plane tokens and nodes"),
        (name = "plugins", description = "Kong's plugins on a runtime group, a version (Kong's service), a route or a consumer, and their config schemas"),
        (name = "consumers", description = "A runtime group's consumers, their key-auth credentials (stored as SHA-256, the key shown once) and ACL groups"),
        (name = "analytics", description = "Traffic, errors and latency recorded by the data planes: report queries (JSON or CSV) and saved reports"),
        (name = "users", description = "Accounts and their roles (Admin only)"),
        (name = "tokens", description = "Personal API tokens: send `Authorization: Bearer <token>`"),
        (name = "audit", description = "Who changed what, when (Admin only)"),
    )
)]
pub struct ApiDoc;

/// Declares the bearer token scheme.
pub struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}
