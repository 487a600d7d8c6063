//! Port traits: what the UI needs from the domain. `server` implements them over
//! SeaORM and puts them in the Leptos context; server functions and the REST API
//! both call them, so no rule lives twice.

use std::sync::Arc;

use uuid::Uuid;

use crate::error::AppError;
use crate::model::*;

pub type Result<T> = std::result::Result<T, AppError>;

#[async_trait::async_trait]
pub trait Catalog: Send + Sync + 'static {
    // Runtime groups
    async fn list_runtime_groups(&self) -> Result<Vec<RuntimeGroup>>;
    /// By id or by name (case-insensitive).
    async fn get_runtime_group(&self, id_or_name: &str) -> Result<RuntimeGroup>;
    async fn runtime_group_detail(&self, id_or_name: &str) -> Result<RuntimeGroupDetail>;
    async fn create_runtime_group(&self, input: NewRuntimeGroup) -> Result<RuntimeGroup>;
    async fn update_runtime_group(
        &self,
        id: Uuid,
        patch: RuntimeGroupPatch,
    ) -> Result<RuntimeGroup>;
    async fn delete_runtime_group(&self, id: Uuid) -> Result<()>;

    // Service packages
    async fn list_packages(&self, query: PackageQuery) -> Result<Page<ServicePackage>>;
    /// By id or by key.
    async fn get_package(&self, id_or_key: &str) -> Result<ServicePackage>;
    async fn create_package(&self, input: NewServicePackage) -> Result<ServicePackage>;
    async fn update_package(
        &self,
        id_or_key: &str,
        patch: ServicePackagePatch,
    ) -> Result<ServicePackage>;
    /// Deletes the package and all its versions in one transaction.
    async fn delete_package(&self, id_or_key: &str) -> Result<()>;

    // Service versions
    async fn list_versions(
        &self,
        package: &str,
        query: VersionQuery,
    ) -> Result<Page<ServiceVersion>>;
    async fn get_version(&self, package: &str, version_id: Uuid) -> Result<ServiceVersion>;
    async fn create_version(
        &self,
        package: &str,
        input: NewServiceVersion,
    ) -> Result<ServiceVersion>;
    async fn update_version(
        &self,
        package: &str,
        version_id: Uuid,
        patch: ServiceVersionPatch,
    ) -> Result<ServiceVersion>;
    async fn delete_version(&self, package: &str, version_id: Uuid) -> Result<()>;
}

/// What the server puts in the Leptos context.
pub type CatalogRef = Arc<dyn Catalog>;

/// The catalog from the Leptos context.
pub fn catalog() -> Result<CatalogRef> {
    leptos::prelude::use_context::<CatalogRef>().ok_or_else(|| {
        tracing::error!("Catalog missing from the Leptos context");
        AppError::internal()
    })
}
