//! Port traits: what the UI needs from the domain. `server` implements them over
//! SeaORM and puts them in the Leptos context; server functions and the REST API
//! both call them, so no rule lives twice. Every call names its [`Actor`]: the domain
//! checks the actor's role and writes the audit log, so the UI and the REST API can
//! never disagree on who may do what. Each port method's first line is that check;
//! the inner functions it calls take the proof ([`Authorized`]) only the check makes.

use std::sync::Arc;

use uuid::Uuid;

use crate::error::AppError;
use crate::model::*;

pub type Result<T> = std::result::Result<T, AppError>;

/// The catalog: one port per area, each implemented in its own file of the server's
/// `hub` with the role check as the first line of every method. `Catalog` is all of
/// them, so callers hold one [`CatalogRef`].
pub trait Catalog: RuntimeGroups + Packages + Versions + Documents + Specs {}

impl<T: RuntimeGroups + Packages + Versions + Documents + Specs> Catalog for T {}

/// Runtime groups.
#[async_trait::async_trait]
pub trait RuntimeGroups: Send + Sync + 'static {
    async fn list_runtime_groups(&self, actor: &Actor) -> Result<Vec<RuntimeGroup>>;
    /// By id or by name (case-insensitive).
    async fn get_runtime_group(&self, actor: &Actor, id_or_name: &str) -> Result<RuntimeGroup>;
    async fn runtime_group_detail(
        &self,
        actor: &Actor,
        id_or_name: &str,
    ) -> Result<RuntimeGroupDetail>;
    async fn create_runtime_group(
        &self,
        actor: &Actor,
        input: NewRuntimeGroup,
    ) -> Result<RuntimeGroup>;
    async fn update_runtime_group(
        &self,
        actor: &Actor,
        id: Uuid,
        patch: RuntimeGroupPatch,
    ) -> Result<RuntimeGroup>;
    async fn delete_runtime_group(&self, actor: &Actor, id: Uuid) -> Result<()>;
}

/// Service packages.
#[async_trait::async_trait]
pub trait Packages: Send + Sync + 'static {
    async fn list_packages(
        &self,
        actor: &Actor,
        query: PackageQuery,
    ) -> Result<Page<ServicePackage>>;
    /// By id or by key.
    async fn get_package(&self, actor: &Actor, id_or_key: &str) -> Result<ServicePackage>;
    async fn create_package(
        &self,
        actor: &Actor,
        input: NewServicePackage,
    ) -> Result<ServicePackage>;
    async fn update_package(
        &self,
        actor: &Actor,
        id_or_key: &str,
        patch: ServicePackagePatch,
    ) -> Result<ServicePackage>;
    /// Deletes the package and all its versions in one transaction.
    async fn delete_package(&self, actor: &Actor, id_or_key: &str) -> Result<()>;
}

/// Service versions (`package`: id or key).
#[async_trait::async_trait]
pub trait Versions: Send + Sync + 'static {
    async fn list_versions(
        &self,
        actor: &Actor,
        package: &str,
        query: VersionQuery,
    ) -> Result<Page<ServiceVersion>>;
    async fn get_version(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
    ) -> Result<ServiceVersion>;
    async fn create_version(
        &self,
        actor: &Actor,
        package: &str,
        input: NewServiceVersion,
    ) -> Result<ServiceVersion>;
    async fn update_version(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        patch: ServiceVersionPatch,
    ) -> Result<ServiceVersion>;
    async fn delete_version(&self, actor: &Actor, package: &str, version_id: Uuid) -> Result<()>;
}

/// Documentation pages of a package (`package`: id or key; `document`: id or slug).
#[async_trait::async_trait]
pub trait Documents: Send + Sync + 'static {
    /// Every page of the package, without content, in tree order.
    async fn list_documents(&self, actor: &Actor, package: &str) -> Result<Vec<Document>>;
    async fn get_document(&self, actor: &Actor, package: &str, document: &str) -> Result<Document>;
    async fn create_document(
        &self,
        actor: &Actor,
        package: &str,
        input: NewDocument,
    ) -> Result<Document>;
    /// Creates several pages in one transaction: all of them, or (on any error) none.
    async fn create_documents(
        &self,
        actor: &Actor,
        package: &str,
        inputs: Vec<NewDocument>,
    ) -> Result<Vec<Document>>;
    async fn update_document(
        &self,
        actor: &Actor,
        package: &str,
        document: &str,
        patch: DocumentPatch,
    ) -> Result<Document>;
    /// Markdown to safe HTML (raw HTML shown as text, dangerous URLs dropped), off the
    /// async runtime and a few at a time.
    async fn render_markdown(&self, markdown: String) -> Result<String>;
    /// Refused while other pages sit under it.
    async fn delete_document(&self, actor: &Actor, package: &str, document: &str) -> Result<()>;
}

/// The API spec of a version (OpenAPI 3.0/3.1 or Swagger 2.0, YAML or JSON).
#[async_trait::async_trait]
pub trait Specs: Send + Sync + 'static {
    /// Validates and stores `text` as the version's spec, replacing any before.
    async fn put_spec(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        text: String,
    ) -> Result<ApiSpecInfo>;
    async fn spec_info(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
    ) -> Result<Option<ApiSpecInfo>>;
    /// The reference, only operations of `tag` when given.
    async fn spec_view(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        tag: Option<String>,
    ) -> Result<Option<SpecView>>;
    /// The original text, for download.
    async fn spec_text(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
    ) -> Result<(ApiSpecInfo, String)>;
    async fn delete_spec(&self, actor: &Actor, package: &str, version_id: Uuid) -> Result<()>;
}

/// Accounts, sessions, tokens and the audit log: one port per area (as [`Catalog`]).
pub trait Accounts: Users + Tokens + AuditLog {}

impl<T: Users + Tokens + AuditLog> Accounts for T {}

/// Users, signing in and out.
#[async_trait::async_trait]
pub trait Users: Send + Sync + 'static {
    /// Whether any user exists (the first-run screen is open only while none does).
    async fn has_users(&self) -> Result<bool>;
    /// Creates the first admin and signs them in; refused once any user exists, and
    /// unless `setup_code` is the one-time code `portico serve` printed to its log (a
    /// field error on `setup_code` otherwise).
    async fn setup_first_admin(
        &self,
        setup_code: &str,
        email: &str,
        password: &str,
        source: &str,
    ) -> Result<SignedIn>;
    /// Checks a password and opens a session. Wrong password and unknown user give the
    /// same answer and take the same time; repeated failures answer 429.
    async fn login(&self, email: &str, password: &str, source: &str) -> Result<SignedIn>;
    /// Ends the actor's session.
    async fn logout(&self, actor: &Actor) -> Result<()>;
    /// Changes the actor's own password; ends all their sessions and opens a new one.
    async fn change_password(&self, actor: &Actor, current: &str, new: &str) -> Result<SignedIn>;

    async fn list_users(&self, actor: &Actor) -> Result<Vec<User>>;
    async fn create_user(&self, actor: &Actor, input: NewUser) -> Result<User>;
    async fn update_user(&self, actor: &Actor, id: Uuid, patch: UserPatch) -> Result<User>;
    async fn delete_user(&self, actor: &Actor, id: Uuid) -> Result<()>;
}

/// Personal API tokens.
#[async_trait::async_trait]
pub trait Tokens: Send + Sync + 'static {
    /// The actor's tokens; with `all`, everyone's (Admin only).
    async fn list_tokens(&self, actor: &Actor, all: bool) -> Result<Vec<ApiToken>>;
    async fn create_token(&self, actor: &Actor, input: NewApiToken) -> Result<CreatedApiToken>;
    /// Revokes one of the actor's tokens (an Admin may revoke anyone's).
    async fn revoke_token(&self, actor: &Actor, id: Uuid) -> Result<()>;
}

/// The audit log.
#[async_trait::async_trait]
pub trait AuditLog: Send + Sync + 'static {
    async fn audit_events(&self, actor: &Actor, query: AuditQuery) -> Result<Page<AuditEvent>>;
}

/// The public Dev Portal: published packages only; anything unpublished answers
/// exactly as something that does not exist (404).
#[async_trait::async_trait]
pub trait Portal: Send + Sync + 'static {
    async fn portal_catalog(&self, query: PortalQuery) -> Result<PortalCatalog>;
    /// A package with the version `version` (by name; the default one when absent)
    /// and that version's spec reference (operations of `tag` only when given).
    async fn portal_package(
        &self,
        key: &str,
        version: Option<&str>,
        tag: Option<String>,
    ) -> Result<PortalPackageView>;
    async fn portal_document(&self, key: &str, slug: &str) -> Result<PortalDocView>;
    /// The original spec text of a listed version.
    async fn portal_spec_text(&self, key: &str, version: &str) -> Result<(ApiSpecInfo, String)>;
}

/// The gateway side of the catalog: implementations and routes of versions, data
/// plane tokens and nodes of runtime groups (one port per area, as [`Catalog`]).
pub trait Gateways: GatewayConfig + DataPlanes + Plugins + Consumers {}

impl<T: GatewayConfig + DataPlanes + Plugins + Consumers> Gateways for T {}

/// A version's implementation and routes. `package`: id or key.
#[async_trait::async_trait]
pub trait GatewayConfig: Send + Sync + 'static {
    async fn put_implementation(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        input: ImplementationInput,
    ) -> Result<Implementation>;
    async fn get_implementation(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
    ) -> Result<Option<Implementation>>;
    async fn delete_implementation(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
    ) -> Result<()>;

    async fn list_routes(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
    ) -> Result<Vec<Route>>;
    async fn get_route(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        route_id: Uuid,
    ) -> Result<Route>;
    async fn create_route(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        input: RouteInput,
    ) -> Result<Route>;
    async fn update_route(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        route_id: Uuid,
        input: RouteInput,
    ) -> Result<Route>;
    async fn delete_route(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        route_id: Uuid,
    ) -> Result<()>;
    /// Every rule a saved route must pass (also the name being free in the group,
    /// when the version is given), without saving: all broken rules, field by field.
    async fn check_route(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        route_id: Option<Uuid>,
        input: RouteInput,
    ) -> Result<Vec<(String, String)>>;
}

/// Plugins on a runtime group, a version, a route or a consumer (Kong's plugin
/// entities). Reading needs Viewer; changing needs Maintainer. Every change bumps the
/// group's config version and is audited.
#[async_trait::async_trait]
pub trait Plugins: Send + Sync + 'static {
    /// The plugins configured on exactly this scope.
    async fn list_plugins(&self, actor: &Actor, scope: PluginScope) -> Result<Vec<Plugin>>;
    /// Validates `input.config` with the plugin's schema (every broken rule named by
    /// its field, `config.minute`), fills in the defaults and stores it. One instance
    /// of a plugin per scope (and consumer).
    async fn create_plugin(
        &self,
        actor: &Actor,
        scope: PluginScope,
        input: PluginInput,
    ) -> Result<Plugin>;
    async fn get_plugin(&self, actor: &Actor, id: Uuid) -> Result<Plugin>;
    /// Replaces the instance (`PUT`): omitted fields take their defaults again.
    async fn replace_plugin(&self, actor: &Actor, id: Uuid, input: PluginInput) -> Result<Plugin>;
    /// Kong's `PATCH`: `config` merged field by field into the stored one.
    async fn patch_plugin(&self, actor: &Actor, id: Uuid, patch: PluginPatch) -> Result<Plugin>;
    async fn delete_plugin(&self, actor: &Actor, id: Uuid) -> Result<()>;
    /// Every plugin that applies to a version (`route_id: None`) or one of its routes,
    /// from every scope, with which scope each comes from.
    async fn applied_plugins(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        route_id: Option<Uuid>,
    ) -> Result<Vec<AppliedPlugin>>;
}

/// Consumers of a runtime group and their credentials (`group`: id or name;
/// `consumer`: id or username). Reading needs Viewer; changing needs Maintainer.
#[async_trait::async_trait]
pub trait Consumers: Send + Sync + 'static {
    async fn list_consumers(&self, actor: &Actor, group: &str) -> Result<Vec<Consumer>>;
    async fn get_consumer(&self, actor: &Actor, group: &str, consumer: &str) -> Result<Consumer>;
    async fn create_consumer(
        &self,
        actor: &Actor,
        group: &str,
        input: ConsumerInput,
    ) -> Result<Consumer>;
    async fn update_consumer(
        &self,
        actor: &Actor,
        group: &str,
        consumer: &str,
        input: ConsumerInput,
    ) -> Result<Consumer>;
    /// Also deletes its credentials, ACL groups and consumer-scoped plugins.
    async fn delete_consumer(&self, actor: &Actor, group: &str, consumer: &str) -> Result<()>;

    async fn list_keys(
        &self,
        actor: &Actor,
        group: &str,
        consumer: &str,
    ) -> Result<Vec<KeyAuthCredential>>;
    /// The key is returned only here; the store keeps its SHA-256.
    async fn create_key(
        &self,
        actor: &Actor,
        group: &str,
        consumer: &str,
        input: NewKeyAuthCredential,
    ) -> Result<CreatedKeyAuthCredential>;
    async fn delete_key(&self, actor: &Actor, group: &str, consumer: &str, id: Uuid) -> Result<()>;

    async fn list_acls(&self, actor: &Actor, group: &str, consumer: &str) -> Result<Vec<AclGroup>>;
    async fn add_acl(
        &self,
        actor: &Actor,
        group: &str,
        consumer: &str,
        input: NewAclGroup,
    ) -> Result<AclGroup>;
    async fn delete_acl(&self, actor: &Actor, group: &str, consumer: &str, id: Uuid) -> Result<()>;
}

/// What runs a version's configuration: data planes, their tokens and nodes.
#[async_trait::async_trait]
pub trait DataPlanes: Send + Sync + 'static {
    /// Implementation, routes with proxy URLs and curl commands, and whether it is live.
    async fn version_gateway(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
    ) -> Result<VersionGateway>;

    /// Proxy address, config version, tokens and nodes of a group (id or name).
    async fn group_gateway(&self, actor: &Actor, group: &str) -> Result<GroupGateway>;
    async fn create_data_plane_token(
        &self,
        actor: &Actor,
        group: &str,
        input: NewDataPlaneToken,
    ) -> Result<CreatedDataPlaneToken>;
    async fn revoke_data_plane_token(&self, actor: &Actor, group: &str, id: Uuid) -> Result<()>;
}

/// A session just opened: who, and the secret for the session cookie.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub me: Me,
    pub session_secret: String,
}

/// What the server puts in the Leptos context.
/// Analytics over the traffic the data planes recorded. Reads need `Read`; saved
/// reports are shared by everyone who may read, and changed by `EditCatalog`.
#[async_trait::async_trait]
pub trait Analytics: Send + Sync + 'static {
    /// Runs a report definition (validated here; 422 naming the field when broken).
    async fn query(&self, actor: &Actor, query: AnalyticsQuery) -> Result<AnalyticsResult>;
    /// Tiles: totals of the frame ending now and of the period of the same length
    /// before it, under `filters`.
    async fn summary(&self, actor: &Actor, filters: Filters, frame: TimeFrame) -> Result<Summary>;
    /// Totals of the last 7 days for each of these packages (the Service Hub cards);
    /// packages without traffic are absent.
    async fn package_totals(
        &self,
        actor: &Actor,
        packages: Vec<Uuid>,
    ) -> Result<Vec<(Uuid, Totals)>>;

    async fn list_reports(&self, actor: &Actor) -> Result<Vec<Report>>;
    async fn get_report(&self, actor: &Actor, id: Uuid) -> Result<Report>;
    async fn create_report(&self, actor: &Actor, input: ReportInput) -> Result<Report>;
    async fn update_report(&self, actor: &Actor, id: Uuid, input: ReportInput) -> Result<Report>;
    async fn delete_report(&self, actor: &Actor, id: Uuid) -> Result<()>;
}

pub type CatalogRef = Arc<dyn Catalog>;
pub type AccountsRef = Arc<dyn Accounts>;
pub type PortalRef = Arc<dyn Portal>;
pub type GatewaysRef = Arc<dyn Gateways>;
pub type AnalyticsRef = Arc<dyn Analytics>;

/// The gateway service from the Leptos context.
pub fn gateways() -> Result<GatewaysRef> {
    leptos::prelude::use_context::<GatewaysRef>().ok_or_else(|| {
        tracing::error!("Gateways missing from the Leptos context");
        AppError::internal()
    })
}

/// The analytics service from the Leptos context.
pub fn analytics() -> Result<AnalyticsRef> {
    leptos::prelude::use_context::<AnalyticsRef>().ok_or_else(|| {
        tracing::error!("Analytics missing from the Leptos context");
        AppError::internal()
    })
}

/// The portal service from the Leptos context.
pub fn portal() -> Result<PortalRef> {
    leptos::prelude::use_context::<PortalRef>().ok_or_else(|| {
        tracing::error!("Portal missing from the Leptos context");
        AppError::internal()
    })
}

/// The accounts service from the Leptos context.
pub fn accounts() -> Result<AccountsRef> {
    leptos::prelude::use_context::<AccountsRef>().ok_or_else(|| {
        tracing::error!("Accounts missing from the Leptos context");
        AppError::internal()
    })
}

/// The request's parts, from the Leptos context.
pub fn request_parts() -> Option<http::request::Parts> {
    leptos::prelude::use_context::<http::request::Parts>()
}

/// Who sent this request (put there by the server's authentication layer), or 401.
pub fn actor() -> Result<Actor> {
    request_parts()
        .and_then(|p| p.extensions.get::<Actor>().cloned())
        .ok_or_else(|| AppError::unauthorized("Sign in to continue."))
}

/// The client address of this request (for throttling and the audit log).
pub fn client_address() -> String {
    request_parts()
        .and_then(|p| p.extensions.get::<ClientAddress>().map(|a| a.0.clone()))
        .unwrap_or_else(|| "unknown".into())
}

/// The client's address as the server saw it; put in the request's extensions.
#[derive(Debug, Clone)]
pub struct ClientAddress(pub String);

/// Whether the client reached Portico over TLS (as a trusted proxy in front says); put
/// in the request's extensions by the server's authentication layer. Portico's own
/// cookies are `__Host-` and `Secure` then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverTls(pub bool);

/// The catalog from the Leptos context.
pub fn catalog() -> Result<CatalogRef> {
    leptos::prelude::use_context::<CatalogRef>().ok_or_else(|| {
        tracing::error!("Catalog missing from the Leptos context");
        AppError::internal()
    })
}
