//! The domain services: `Hub` implements `app::ports::Catalog` over SeaORM. Both the
//! server functions (through the Leptos context) and the REST API call it.

mod accounts;
/// The read side of analytics (queries, tiles, saved reports): `impl Analytics for Hub`.
mod analytics;
/// The write side of analytics: counting a data plane's batch once, retention.
mod analytics_ingest;
pub(crate) mod audit;
pub(crate) mod dataplanes;
mod documents;
mod gateway;
mod packages;
mod portal;
mod runtime_groups;
mod sessions;
/// The ids a data plane may name in analytics: those of its group's snapshots.
mod snapshot_ids;
mod specs;
mod tokens;
mod versions;

use app::error::AppError;
use app::model::*;
use app::ports::{Accounts, Catalog, Result, SignedIn};
use std::sync::Arc;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqlErr,
    TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard};
use uuid::Uuid;

pub use dataplanes::{NodeHello, CONNECTED_SECS, DP_TOKEN_PREFIX};
pub use runtime_groups::{DEFAULT_GROUP, DEFAULT_PROXY_LISTEN};
pub use sessions::SessionPolicy;

use crate::auth::setup_code::SetupCode;
use crate::auth::throttle::Throttle;

#[derive(Clone)]
pub struct Hub {
    db: DatabaseConnection,
    /// SQLite allows one writer: two deferred transactions that read and then write
    /// fail with "database is locked" instead of waiting. Writes through this hub take
    /// this lock first (SQLite only; PostgreSQL handles concurrent writers itself).
    sqlite_writer: Option<Arc<Mutex<()>>>,
    sessions: SessionPolicy,
    throttle: Arc<Throttle>,
    /// The code the first-run screen asks for while no user exists.
    setup_code: Arc<SetupCode>,
    spec_cache: Arc<specs::SpecCache>,
    /// Bumped after every committed gateway change (see `gateway_changed`).
    gateway_tx: Arc<tokio::sync::watch::Sender<u64>>,
    /// The last snapshot of each runtime group.
    snapshots: Arc<
        std::sync::Mutex<std::collections::HashMap<Uuid, Arc<crate::gateway::snapshot::Snapshot>>>,
    >,
}

impl Hub {
    /// A hub over a migrated database; makes sure the `default` runtime group exists.
    pub async fn new(db: DatabaseConnection) -> Result<Self> {
        let sqlite_writer =
            (db.get_database_backend() == DbBackend::Sqlite).then(|| Arc::new(Mutex::new(())));
        let hub = Self {
            db,
            sqlite_writer,
            sessions: SessionPolicy::default(),
            throttle: Arc::default(),
            setup_code: Arc::default(),
            spec_cache: Arc::default(),
            gateway_tx: Arc::new(tokio::sync::watch::channel(0).0),
            snapshots: Arc::default(),
        };
        hub.ensure_default_group().await?;
        Ok(hub)
    }

    /// A transaction for a change, with the writer lock on SQLite. Keep the guard
    /// until the transaction is committed or dropped.
    pub(crate) async fn write_txn(
        &self,
    ) -> Result<(Option<OwnedMutexGuard<()>>, DatabaseTransaction)> {
        let guard = self.write_lock().await;
        let txn = self.db.begin().await.map_err(db_err)?;
        Ok((guard, txn))
    }

    /// The SQLite writer lock alone, for a single statement that writes outside a
    /// transaction: a write that slips in between another transaction's read and write
    /// makes that transaction fail with SQLITE_BUSY_SNAPSHOT.
    pub(crate) async fn write_lock(&self) -> Option<OwnedMutexGuard<()>> {
        match &self.sqlite_writer {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        }
    }

    /// The same hub with other session lifetimes.
    pub fn with_session_policy(mut self, policy: SessionPolicy) -> Self {
        self.sessions = policy;
        self
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The one-time code the first-run screen asks for (made anew by every hub).
    pub fn setup_code(&self) -> &SetupCode {
        &self.setup_code
    }
}

/// Logs a database error and turns it into the generic internal error (or a conflict
/// when a unique constraint fired in a race the pre-checks could not see).
pub(crate) fn db_err(e: DbErr) -> AppError {
    if let Some(SqlErr::UniqueConstraintViolation(_)) = e.sql_err() {
        return AppError::conflict(None, "This change clashes with an existing record.");
    }
    tracing::error!(error = %e, "database error");
    AppError::internal()
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `\` as the escape character.
pub(crate) fn like_pattern(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[async_trait::async_trait]
impl Catalog for Hub {
    async fn list_runtime_groups(&self, actor: &Actor) -> Result<Vec<RuntimeGroup>> {
        actor.require(Permission::Read)?;
        self.runtime_groups().await
    }
    async fn get_runtime_group(&self, actor: &Actor, id_or_name: &str) -> Result<RuntimeGroup> {
        actor.require(Permission::Read)?;
        self.runtime_group(id_or_name).await
    }
    async fn runtime_group_detail(
        &self,
        actor: &Actor,
        id_or_name: &str,
    ) -> Result<RuntimeGroupDetail> {
        actor.require(Permission::Read)?;
        let group = self.runtime_group(id_or_name).await?;
        let versions = self.versions_in_group(group.id).await?;
        Ok(RuntimeGroupDetail { group, versions })
    }
    async fn create_runtime_group(
        &self,
        actor: &Actor,
        input: NewRuntimeGroup,
    ) -> Result<RuntimeGroup> {
        actor.require(Permission::EditCatalog)?;
        self.insert_runtime_group(actor, input).await
    }
    async fn update_runtime_group(
        &self,
        actor: &Actor,
        id: Uuid,
        patch: RuntimeGroupPatch,
    ) -> Result<RuntimeGroup> {
        actor.require(Permission::EditCatalog)?;
        self.patch_runtime_group(actor, id, patch).await
    }
    async fn delete_runtime_group(&self, actor: &Actor, id: Uuid) -> Result<()> {
        actor.require(Permission::EditCatalog)?;
        self.remove_runtime_group(actor, id).await
    }

    async fn list_packages(
        &self,
        actor: &Actor,
        query: PackageQuery,
    ) -> Result<Page<ServicePackage>> {
        actor.require(Permission::Read)?;
        self.packages(query).await
    }
    async fn get_package(&self, actor: &Actor, id_or_key: &str) -> Result<ServicePackage> {
        actor.require(Permission::Read)?;
        self.package(id_or_key).await
    }
    async fn create_package(
        &self,
        actor: &Actor,
        input: NewServicePackage,
    ) -> Result<ServicePackage> {
        actor.require(Permission::EditCatalog)?;
        self.insert_package(actor, input).await
    }
    async fn update_package(
        &self,
        actor: &Actor,
        id_or_key: &str,
        patch: ServicePackagePatch,
    ) -> Result<ServicePackage> {
        let edits =
            patch.display_name.is_some() || patch.description.is_some() || patch.labels.is_some();
        actor.require(if edits {
            Permission::EditCatalog
        } else {
            Permission::Publish
        })?;
        self.patch_package(actor, id_or_key, patch).await
    }
    async fn delete_package(&self, actor: &Actor, id_or_key: &str) -> Result<()> {
        actor.require(Permission::EditCatalog)?;
        self.remove_package(actor, id_or_key).await
    }

    async fn list_versions(
        &self,
        actor: &Actor,
        package: &str,
        query: VersionQuery,
    ) -> Result<Page<ServiceVersion>> {
        actor.require(Permission::Read)?;
        self.versions(package, query).await
    }
    async fn get_version(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
    ) -> Result<ServiceVersion> {
        actor.require(Permission::Read)?;
        self.version(package, version_id).await
    }
    async fn create_version(
        &self,
        actor: &Actor,
        package: &str,
        input: NewServiceVersion,
    ) -> Result<ServiceVersion> {
        actor.require(Permission::EditCatalog)?;
        self.insert_version(actor, package, input).await
    }
    async fn update_version(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        patch: ServiceVersionPatch,
    ) -> Result<ServiceVersion> {
        actor.require(if patch.name.is_some() {
            Permission::EditCatalog
        } else {
            Permission::Publish
        })?;
        self.patch_version(actor, package, version_id, patch).await
    }
    async fn delete_version(&self, actor: &Actor, package: &str, version_id: Uuid) -> Result<()> {
        actor.require(Permission::EditCatalog)?;
        self.remove_version(actor, package, version_id).await
    }

    async fn put_spec(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        text: String,
    ) -> Result<ApiSpecInfo> {
        actor.require(Permission::EditCatalog)?;
        self.store_spec(actor, package, version_id, text).await
    }
    async fn spec_info(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
    ) -> Result<Option<ApiSpecInfo>> {
        actor.require(Permission::Read)?;
        self.stored_spec_info(package, version_id).await
    }
    async fn spec_view(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        tag: Option<String>,
    ) -> Result<Option<SpecView>> {
        actor.require(Permission::Read)?;
        let (_, v) = self.version_of(package, version_id).await?;
        self.render_spec(v.id, tag).await
    }
    async fn spec_text(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
    ) -> Result<(ApiSpecInfo, String)> {
        actor.require(Permission::Read)?;
        self.stored_spec_text(package, version_id).await
    }
    async fn delete_spec(&self, actor: &Actor, package: &str, version_id: Uuid) -> Result<()> {
        actor.require(Permission::EditCatalog)?;
        self.remove_spec(actor, package, version_id).await
    }

    fn render_markdown(&self, markdown: &str) -> String {
        crate::docs::markdown::render(markdown)
    }
    async fn list_documents(&self, actor: &Actor, package: &str) -> Result<Vec<Document>> {
        actor.require(Permission::Read)?;
        self.documents(package).await
    }
    async fn get_document(&self, actor: &Actor, package: &str, document: &str) -> Result<Document> {
        actor.require(Permission::Read)?;
        self.document(package, document).await
    }
    async fn create_document(
        &self,
        actor: &Actor,
        package: &str,
        input: NewDocument,
    ) -> Result<Document> {
        actor.require(Permission::EditCatalog)?;
        self.insert_document(actor, package, input).await
    }
    async fn update_document(
        &self,
        actor: &Actor,
        package: &str,
        document: &str,
        patch: DocumentPatch,
    ) -> Result<Document> {
        actor.require(Permission::EditCatalog)?;
        self.patch_document(actor, package, document, patch).await
    }
    async fn delete_document(&self, actor: &Actor, package: &str, document: &str) -> Result<()> {
        actor.require(Permission::EditCatalog)?;
        self.remove_document(actor, package, document).await
    }
}

#[async_trait::async_trait]
impl Accounts for Hub {
    async fn has_users(&self) -> Result<bool> {
        self.any_user().await
    }
    async fn setup_first_admin(
        &self,
        setup_code: &str,
        email: &str,
        password: &str,
        source: &str,
    ) -> Result<SignedIn> {
        self.first_admin(setup_code, email, password, source).await
    }
    async fn login(&self, email: &str, password: &str, source: &str) -> Result<SignedIn> {
        self.sign_in(email, password, source).await
    }
    async fn logout(&self, actor: &Actor) -> Result<()> {
        self.sign_out(actor).await
    }
    async fn change_password(&self, actor: &Actor, current: &str, new: &str) -> Result<SignedIn> {
        actor.require(Permission::Read)?;
        self.new_password(actor, current, new).await
    }
    async fn list_users(&self, actor: &Actor) -> Result<Vec<User>> {
        actor.require(Permission::Administer)?;
        self.users().await
    }
    async fn create_user(&self, actor: &Actor, input: NewUser) -> Result<User> {
        actor.require(Permission::Administer)?;
        self.add_user(actor, input).await
    }
    async fn update_user(&self, actor: &Actor, id: Uuid, patch: UserPatch) -> Result<User> {
        actor.require(Permission::Administer)?;
        self.change_user(actor, id, patch).await
    }
    async fn delete_user(&self, actor: &Actor, id: Uuid) -> Result<()> {
        actor.require(Permission::Administer)?;
        self.remove_user(actor, id).await
    }
    async fn list_tokens(&self, actor: &Actor, all: bool) -> Result<Vec<ApiToken>> {
        if all {
            actor.require(Permission::Administer)?;
            return self.tokens(None).await;
        }
        actor.require(Permission::Read)?;
        match actor.user_id {
            Some(id) => self.tokens(Some(id)).await,
            None => Ok(Vec::new()),
        }
    }
    async fn create_token(&self, actor: &Actor, input: NewApiToken) -> Result<CreatedApiToken> {
        actor.require(Permission::Read)?;
        self.add_token(actor, input).await
    }
    async fn revoke_token(&self, actor: &Actor, id: Uuid) -> Result<()> {
        actor.require(Permission::Read)?;
        self.remove_token(actor, id).await
    }
    async fn audit_events(&self, actor: &Actor, query: AuditQuery) -> Result<Page<AuditEvent>> {
        actor.require(Permission::Administer)?;
        self.audit_page(query).await
    }
}

#[async_trait::async_trait]
impl app::ports::Gateways for Hub {
    async fn put_implementation(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        input: ImplementationInput,
    ) -> Result<Implementation> {
        self.put_impl(actor, package, version_id, input).await
    }
    async fn get_implementation(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
    ) -> Result<Option<Implementation>> {
        self.get_impl(actor, package, version_id).await
    }
    async fn delete_implementation(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
    ) -> Result<()> {
        self.delete_impl(actor, package, version_id).await
    }
    async fn list_routes(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
    ) -> Result<Vec<Route>> {
        self.list_routes_of(actor, package, version_id).await
    }
    async fn get_route(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        route_id: Uuid,
    ) -> Result<Route> {
        self.get_route_of(actor, package, version_id, route_id)
            .await
    }
    async fn create_route(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        input: RouteInput,
    ) -> Result<Route> {
        self.insert_route(actor, package, version_id, input).await
    }
    async fn update_route(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        route_id: Uuid,
        input: RouteInput,
    ) -> Result<Route> {
        self.replace_route(actor, package, version_id, route_id, input)
            .await
    }
    async fn delete_route(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        route_id: Uuid,
    ) -> Result<()> {
        self.remove_route(actor, package, version_id, route_id)
            .await
    }
    async fn check_route(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        route_id: Option<Uuid>,
        input: RouteInput,
    ) -> Result<Vec<(String, String)>> {
        self.check_route_input(actor, package, version_id, route_id, input)
            .await
    }
    async fn version_gateway(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
    ) -> Result<VersionGateway> {
        self.version_gateway_of(actor, package, version_id).await
    }
    async fn group_gateway(&self, actor: &Actor, group: &str) -> Result<GroupGateway> {
        self.group_gateway_of(actor, group).await
    }
    async fn create_data_plane_token(
        &self,
        actor: &Actor,
        group: &str,
        input: NewDataPlaneToken,
    ) -> Result<CreatedDataPlaneToken> {
        self.insert_dp_token(actor, group, input).await
    }
    async fn revoke_data_plane_token(&self, actor: &Actor, group: &str, id: Uuid) -> Result<()> {
        self.delete_dp_token(actor, group, id).await
    }
}
