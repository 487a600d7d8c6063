//! A version's API spec in the dashboard, and publishing a package to the portal.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::*;

/// The spec card of a version: the rendered reference, if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecPanel {
    pub spec: Option<SpecView>,
}

#[server(prefix = "/rpc", endpoint = "specs/view", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_spec(
    package_id: String,
    version_id: String,
    tag: Option<String>,
) -> Result<SpecPanel, AppError> {
    let actor = crate::ports::actor()?;
    let version_id = super::parse_id("version_id", &version_id)?;
    let spec = crate::ports::catalog()?
        .spec_view(&actor, &package_id, version_id, tag)
        .await?;
    Ok(SpecPanel { spec })
}

#[server(prefix = "/rpc", endpoint = "specs/delete")]
pub async fn delete_spec(package_id: String, version_id: String) -> Result<(), AppError> {
    let actor = crate::ports::actor()?;
    let version_id = super::parse_id("version_id", &version_id)?;
    crate::ports::catalog()?
        .delete_spec(&actor, &package_id, version_id)
        .await
}

/// "Publish to portal" (`published` = `true`) or "Unpublish" (`false`).
#[server(prefix = "/rpc", endpoint = "packages/publish")]
pub async fn set_package_published(
    id: String,
    published: String,
) -> Result<ServicePackage, AppError> {
    let actor = crate::ports::actor()?;
    let published = match published.as_str() {
        "true" => true,
        "false" => false,
        other => {
            return Err(AppError::validation(
                "published",
                format!("\"{other}\" is not true or false."),
            ))
        }
    };
    crate::ports::catalog()?
        .update_package(
            &actor,
            &id,
            ServicePackagePatch {
                published: Some(published),
                ..Default::default()
            },
        )
        .await
}

/// Renders Markdown for the editor's live preview (the same renderer as the pages).
#[server(prefix = "/rpc", endpoint = "docs/preview")]
pub async fn preview_markdown(content: String) -> Result<String, AppError> {
    crate::ports::actor()?;
    let catalog = crate::ports::catalog()?;
    if content.len() > 1024 * 1024 {
        return Err(AppError::validation(
            "content",
            "A document is at most 1 MB of Markdown.",
        ));
    }
    catalog.render_markdown(content).await
}
