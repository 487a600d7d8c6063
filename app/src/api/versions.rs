use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionDetail {
    pub package: ServicePackage,
    pub version: ServiceVersion,
    /// The error of the last spec upload (a plain form post), shown once.
    pub spec_upload_error: Option<AppError>,
}

#[server(prefix = "/rpc", endpoint = "versions/detail", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_version(key: String, version_id: String) -> Result<VersionDetail, AppError> {
    let actor = crate::ports::actor()?;
    let catalog = crate::ports::catalog()?;
    let package = catalog.get_package(&actor, &key).await?;
    let id = uuid::Uuid::parse_str(&version_id)
        .map_err(|_| AppError::not_found(format!("No version with id \"{version_id}\".")))?;
    let version = catalog
        .get_version(&actor, &package.id.to_string(), id)
        .await?;
    Ok(VersionDetail {
        package,
        version,
        spec_upload_error: super::take_flash_error(),
    })
}

#[server(prefix = "/rpc", endpoint = "versions/create")]
pub async fn create_version(
    package_id: String,
    name: String,
    runtime_group_id: String,
    status: Option<String>,
) -> Result<ServiceVersion, AppError> {
    let actor = crate::ports::actor()?;
    let runtime_group_id = super::parse_id("runtime_group_id", &runtime_group_id)?;
    let status = validate::optional_status("status", status.as_deref())?.unwrap_or_default();
    let version = crate::ports::catalog()?
        .create_version(
            &actor,
            &package_id,
            NewServiceVersion {
                name,
                runtime_group_id,
                status,
            },
        )
        .await?;
    super::redirect(&format!(
        "/service-hub/{}/versions/{}",
        version.package_key, version.id
    ));
    Ok(version)
}

/// Changes a version's status; goes back to the page it was sent from.
#[server(prefix = "/rpc", endpoint = "versions/status")]
pub async fn set_version_status(
    package_id: String,
    version_id: String,
    status: String,
) -> Result<ServiceVersion, AppError> {
    let actor = crate::ports::actor()?;
    let version_id = super::parse_id("version_id", &version_id)?;
    let status = validate::optional_status("status", Some(&status))?;
    crate::ports::catalog()?
        .update_version(
            &actor,
            &package_id,
            version_id,
            ServiceVersionPatch { name: None, status },
        )
        .await
}

#[server(prefix = "/rpc", endpoint = "versions/delete")]
pub async fn delete_version(
    package_id: String,
    version_id: String,
    confirm: Option<String>,
) -> Result<(), AppError> {
    let actor = crate::ports::actor()?;
    let version_id = super::parse_id("version_id", &version_id)?;
    let catalog = crate::ports::catalog()?;
    let version = catalog.get_version(&actor, &package_id, version_id).await?;
    if confirm.as_deref() != Some(version.name.as_str()) {
        return Err(AppError::validation(
            "confirm",
            format!("Type the version name \"{}\" to delete it.", version.name),
        ));
    }
    catalog
        .delete_version(&actor, &package_id, version_id)
        .await?;
    super::redirect(&format!("/service-hub/{}", version.package_key));
    Ok(())
}
