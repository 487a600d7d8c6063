//! The Dev Portal's server functions: public reads, no sign-in.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::*;

/// The catalog page: packages, the search and the view (cards or table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalCatalogView {
    /// `scheme://host` of this request, for canonical links.
    pub origin: String,
    pub catalog: PortalCatalog,
    pub q: String,
    pub table: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalPackagePage {
    pub origin: String,
    pub view: PortalPackageView,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalDocPage {
    pub origin: String,
    pub view: PortalDocView,
}

/// `scheme://host` as the client addressed us.
#[cfg(feature = "ssr")]
fn origin() -> String {
    crate::ports::request_parts()
        .map(|p| {
            let host = p
                .headers
                .get(http::header::HOST)
                .and_then(|v| v.to_str().ok())
                .filter(|h| {
                    h.chars().all(|c| {
                        c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']')
                    })
                })
                .unwrap_or("localhost")
                .to_string();
            let scheme = if super::is_https(&p) { "https" } else { "http" };
            format!("{scheme}://{host}")
        })
        .unwrap_or_default()
}

#[server(prefix = "/rpc", endpoint = "portal/catalog", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_portal_catalog(
    q: Option<String>,
    page: Option<u64>,
    view: Option<String>,
    page_size: Option<u64>,
) -> Result<PortalCatalogView, AppError> {
    let q = q.unwrap_or_default();
    let catalog = crate::ports::portal()?
        .portal_catalog(PortalQuery {
            q: Some(q.clone()).filter(|s| !s.trim().is_empty()),
            page: page.unwrap_or(1),
            page_size: page_size.unwrap_or(0),
        })
        .await?;
    Ok(PortalCatalogView {
        origin: origin(),
        catalog,
        q,
        table: view.as_deref() == Some("table"),
    })
}

#[server(prefix = "/rpc", endpoint = "portal/package", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_portal_package(
    key: String,
    version: Option<String>,
    tag: Option<String>,
) -> Result<PortalPackagePage, AppError> {
    let view = crate::ports::portal()?
        .portal_package(&key, version.as_deref().filter(|v| !v.is_empty()), tag)
        .await?;
    Ok(PortalPackagePage {
        origin: origin(),
        view,
    })
}

#[server(prefix = "/rpc", endpoint = "portal/doc", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_portal_doc(key: String, slug: String) -> Result<PortalDocPage, AppError> {
    let view = crate::ports::portal()?.portal_document(&key, &slug).await?;
    Ok(PortalDocPage {
        origin: origin(),
        view,
    })
}
