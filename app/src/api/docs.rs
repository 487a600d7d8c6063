//! Documentation pages in the dashboard.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::*;

/// A package's pages, and one of them rendered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocsView {
    pub package: ServicePackage,
    /// Every page in tree order, without content.
    pub pages: Vec<Document>,
    pub page: Option<Document>,
    /// The page's content as safe HTML.
    pub html: String,
    /// The error of the last `.md` upload (on the new-page form).
    pub upload_error: Option<AppError>,
}

#[server(prefix = "/rpc", endpoint = "docs/view", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_docs(key: String, slug: Option<String>) -> Result<DocsView, AppError> {
    let actor = crate::ports::actor()?;
    let catalog = crate::ports::catalog()?;
    let package = catalog.get_package(&actor, &key).await?;
    let id = package.id.to_string();
    let pages = catalog.list_documents(&actor, &id).await?;
    let (page, html) = match slug.filter(|s| !s.is_empty()) {
        Some(slug) => {
            let doc = catalog.get_document(&actor, &id, &slug).await?;
            let html = catalog.render_markdown(doc.content.clone()).await?;
            (Some(doc), html)
        }
        None => (None, String::new()),
    };
    let upload_error = page.is_none().then(super::take_flash_error).flatten();
    Ok(DocsView {
        package,
        pages,
        page,
        html,
        upload_error,
    })
}

#[cfg(feature = "ssr")]
fn parent_of(parent_id: Option<String>) -> Result<Option<uuid::Uuid>, AppError> {
    match parent_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(p) => Ok(Some(super::parse_id("parent_id", p)?)),
        None => Ok(None),
    }
}

#[cfg(feature = "ssr")]
fn checked(v: Option<String>) -> bool {
    v.is_some_and(|v| v == "on" || v == "true")
}

#[server(prefix = "/rpc", endpoint = "docs/create")]
pub async fn create_document(
    package_id: String,
    title: String,
    slug: Option<String>,
    parent_id: Option<String>,
    published: Option<String>,
    content: Option<String>,
) -> Result<Document, AppError> {
    let actor = crate::ports::actor()?;
    let catalog = crate::ports::catalog()?;
    let package = catalog.get_package(&actor, &package_id).await?;
    let doc = catalog
        .create_document(
            &actor,
            &package_id,
            NewDocument {
                title,
                slug: slug.filter(|s| !s.trim().is_empty()),
                parent_id: parent_of(parent_id)?,
                position: None,
                published: checked(published),
                content: content.unwrap_or_default(),
            },
        )
        .await?;
    super::redirect(&format!("/service-hub/{}/docs/{}", package.key, doc.slug));
    Ok(doc)
}

#[server(prefix = "/rpc", endpoint = "docs/update")]
pub async fn update_document(
    package_id: String,
    id: String,
    title: String,
    slug: String,
    parent_id: Option<String>,
    published: Option<String>,
    content: Option<String>,
) -> Result<Document, AppError> {
    let actor = crate::ports::actor()?;
    let catalog = crate::ports::catalog()?;
    let package = catalog.get_package(&actor, &package_id).await?;
    let doc = catalog
        .update_document(
            &actor,
            &package_id,
            &id,
            DocumentPatch {
                title: Some(title),
                slug: Some(slug),
                parent_id: Some(parent_of(parent_id)?),
                position: None,
                published: Some(checked(published)),
                content: Some(content.unwrap_or_default()),
            },
        )
        .await?;
    super::redirect(&format!("/service-hub/{}/docs/{}", package.key, doc.slug));
    Ok(doc)
}

#[server(prefix = "/rpc", endpoint = "docs/delete")]
pub async fn delete_document(package_id: String, id: String) -> Result<(), AppError> {
    let actor = crate::ports::actor()?;
    let catalog = crate::ports::catalog()?;
    let package = catalog.get_package(&actor, &package_id).await?;
    catalog.delete_document(&actor, &package_id, &id).await?;
    super::redirect(&format!("/service-hub/{}#docs-title", package.key));
    Ok(())
}

/// How deep each page sits in the tree (pages come in tree order).
pub fn depths(pages: &[Document]) -> Vec<usize> {
    let mut depth: std::collections::HashMap<uuid::Uuid, usize> = Default::default();
    pages
        .iter()
        .map(|p| {
            let d = p
                .parent_id
                .and_then(|parent| depth.get(&parent).map(|d| d + 1))
                .unwrap_or(0);
            depth.insert(p.id, d);
            d
        })
        .collect()
}
