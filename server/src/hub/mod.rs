//! The domain services: `Hub` implements `app::ports::Catalog` over SeaORM. Both the
//! server functions (through the Leptos context) and the REST API call it.

mod packages;
mod runtime_groups;
mod versions;

use app::error::AppError;
use app::model::*;
use app::ports::{Catalog, Result};
use std::sync::Arc;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqlErr,
    TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard};
use uuid::Uuid;

pub use runtime_groups::DEFAULT_GROUP;

#[derive(Clone)]
pub struct Hub {
    db: DatabaseConnection,
    /// SQLite allows one writer: two deferred transactions that read and then write
    /// fail with "database is locked" instead of waiting. Writes through this hub take
    /// this lock first (SQLite only; PostgreSQL handles concurrent writers itself).
    sqlite_writer: Option<Arc<Mutex<()>>>,
}

impl Hub {
    /// A hub over a migrated database; makes sure the `default` runtime group exists.
    pub async fn new(db: DatabaseConnection) -> Result<Self> {
        let sqlite_writer =
            (db.get_database_backend() == DbBackend::Sqlite).then(|| Arc::new(Mutex::new(())));
        let hub = Self { db, sqlite_writer };
        hub.ensure_default_group().await?;
        Ok(hub)
    }

    /// A transaction for a change, with the writer lock on SQLite. Keep the guard
    /// until the transaction is committed or dropped.
    pub(crate) async fn write_txn(
        &self,
    ) -> Result<(Option<OwnedMutexGuard<()>>, DatabaseTransaction)> {
        let guard = match &self.sqlite_writer {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        let txn = self.db.begin().await.map_err(db_err)?;
        Ok((guard, txn))
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
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
    async fn list_runtime_groups(&self) -> Result<Vec<RuntimeGroup>> {
        self.runtime_groups().await
    }
    async fn get_runtime_group(&self, id_or_name: &str) -> Result<RuntimeGroup> {
        self.runtime_group(id_or_name).await
    }
    async fn runtime_group_detail(&self, id_or_name: &str) -> Result<RuntimeGroupDetail> {
        let group = self.runtime_group(id_or_name).await?;
        let versions = self.versions_in_group(group.id).await?;
        Ok(RuntimeGroupDetail { group, versions })
    }
    async fn create_runtime_group(&self, input: NewRuntimeGroup) -> Result<RuntimeGroup> {
        self.insert_runtime_group(input).await
    }
    async fn update_runtime_group(
        &self,
        id: Uuid,
        patch: RuntimeGroupPatch,
    ) -> Result<RuntimeGroup> {
        self.patch_runtime_group(id, patch).await
    }
    async fn delete_runtime_group(&self, id: Uuid) -> Result<()> {
        self.remove_runtime_group(id).await
    }

    async fn list_packages(&self, query: PackageQuery) -> Result<Page<ServicePackage>> {
        self.packages(query).await
    }
    async fn get_package(&self, id_or_key: &str) -> Result<ServicePackage> {
        self.package(id_or_key).await
    }
    async fn create_package(&self, input: NewServicePackage) -> Result<ServicePackage> {
        self.insert_package(input).await
    }
    async fn update_package(
        &self,
        id_or_key: &str,
        patch: ServicePackagePatch,
    ) -> Result<ServicePackage> {
        self.patch_package(id_or_key, patch).await
    }
    async fn delete_package(&self, id_or_key: &str) -> Result<()> {
        self.remove_package(id_or_key).await
    }

    async fn list_versions(
        &self,
        package: &str,
        query: VersionQuery,
    ) -> Result<Page<ServiceVersion>> {
        self.versions(package, query).await
    }
    async fn get_version(&self, package: &str, version_id: Uuid) -> Result<ServiceVersion> {
        self.version(package, version_id).await
    }
    async fn create_version(
        &self,
        package: &str,
        input: NewServiceVersion,
    ) -> Result<ServiceVersion> {
        self.insert_version(package, input).await
    }
    async fn update_version(
        &self,
        package: &str,
        version_id: Uuid,
        patch: ServiceVersionPatch,
    ) -> Result<ServiceVersion> {
        self.patch_version(package, version_id, patch).await
    }
    async fn delete_version(&self, package: &str, version_id: Uuid) -> Result<()> {
        self.remove_version(package, version_id).await
    }
}
