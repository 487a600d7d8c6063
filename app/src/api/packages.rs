use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::*;

/// The catalog view: cards or a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum HubView {
    #[default]
    Cards,
    List,
}

impl HubView {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "cards" => Some(Self::Cards),
            "list" => Some(Self::List),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cards => "cards",
            Self::List => "list",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HubData {
    pub page: Page<ServicePackage>,
    pub view: HubView,
}

/// The cookie that remembers the catalog view.
pub const HUB_VIEW_COOKIE: &str = "portico_hub_view";

/// The Service Hub catalog. `view` switches cards/list and is remembered in a cookie.
#[server(prefix = "/rpc", endpoint = "hub/packages", input = leptos::server_fn::codec::GetUrl)]
pub async fn hub_packages(
    q: Option<String>,
    label: Option<String>,
    sort: Option<String>,
    page: Option<u64>,
    view: Option<String>,
) -> Result<HubData, AppError> {
    let actor = crate::ports::actor()?;
    let view = remembered_view(view.as_deref());
    let mut labels = Vec::new();
    if let Some(text) = label.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        for part in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            labels.push(validate::parse_label_filter(part)?);
        }
    }
    let (sort, descending) = match sort.as_deref().unwrap_or("name") {
        "-name" => (SortKey::Name, true),
        "modified" => (SortKey::Modified, true),
        "-modified" => (SortKey::Modified, false),
        _ => (SortKey::Name, false),
    };
    let page = crate::ports::catalog()?
        .list_packages(
            &actor,
            PackageQuery {
                name: q.filter(|s| !s.trim().is_empty()),
                labels,
                sort,
                descending,
                page: page.unwrap_or(1).max(1),
                page_size: 24,
            },
        )
        .await?;
    Ok(HubData { page, view })
}

#[cfg(feature = "ssr")]
fn remembered_view(asked: Option<&str>) -> HubView {
    use http::header::SET_COOKIE;
    if let Some(view) = asked.and_then(HubView::parse) {
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            if let Ok(v) = http::HeaderValue::from_str(&format!(
                "{HUB_VIEW_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
                view.as_str()
            )) {
                res.append_header(SET_COOKIE, v);
            }
        }
        return view;
    }
    crate::ports::request_parts()
        .and_then(|parts| {
            super::request_cookie(&parts.headers, HUB_VIEW_COOKIE)
                .as_deref()
                .and_then(HubView::parse)
        })
        .unwrap_or_default()
}

#[server(prefix = "/rpc", endpoint = "packages/get", input = leptos::server_fn::codec::GetUrl)]
pub async fn get_package(key: String) -> Result<ServicePackage, AppError> {
    let actor = crate::ports::actor()?;
    crate::ports::catalog()?.get_package(&actor, &key).await
}

#[server(prefix = "/rpc", endpoint = "packages/dashboard", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_package_dashboard(
    key: String,
    q: Option<String>,
    runtime_group: Option<String>,
    status: Option<String>,
) -> Result<PackageDashboard, AppError> {
    let actor = crate::ports::actor()?;
    let catalog = crate::ports::catalog()?;
    let package = catalog.get_package(&actor, &key).await?;
    let runtime_group_id = match runtime_group.as_deref().filter(|s| !s.is_empty()) {
        Some(text) => Some(super::parse_id("runtime_group", text)?),
        None => None,
    };
    let status = validate::optional_status("status", status.as_deref())?;
    let versions = catalog
        .list_versions(
            &actor,
            &package.id.to_string(),
            VersionQuery {
                name: q.filter(|s| !s.trim().is_empty()),
                runtime_group_id,
                status,
                page_size: 500,
                ..VersionQuery::default()
            },
        )
        .await?
        .data;
    let runtime_groups = catalog.list_runtime_groups(&actor).await?;
    let documents = catalog
        .list_documents(&actor, &package.id.to_string())
        .await?;
    Ok(PackageDashboard {
        package,
        versions,
        runtime_groups,
        documents,
    })
}

#[server(prefix = "/rpc", endpoint = "packages/create")]
pub async fn create_package(
    display_name: String,
    description: Option<String>,
    labels: Option<String>,
) -> Result<ServicePackage, AppError> {
    let actor = crate::ports::actor()?;
    let labels = validate::parse_labels("labels", labels.as_deref().unwrap_or(""))?;
    let package = crate::ports::catalog()?
        .create_package(
            &actor,
            NewServicePackage {
                display_name,
                description: description.unwrap_or_default(),
                labels,
            },
        )
        .await?;
    super::redirect(&format!("/service-hub/{}", package.key));
    Ok(package)
}

#[server(prefix = "/rpc", endpoint = "packages/update")]
pub async fn update_package(
    id: String,
    display_name: String,
    description: Option<String>,
    labels: Option<String>,
) -> Result<ServicePackage, AppError> {
    let actor = crate::ports::actor()?;
    let labels = validate::parse_labels("labels", labels.as_deref().unwrap_or(""))?;
    let package = crate::ports::catalog()?
        .update_package(
            &actor,
            &id,
            ServicePackagePatch {
                display_name: Some(display_name),
                description: Some(description.unwrap_or_default()),
                labels: Some(labels),
                published: None,
            },
        )
        .await?;
    super::redirect(&format!("/service-hub/{}", package.key));
    Ok(package)
}

#[server(prefix = "/rpc", endpoint = "packages/delete")]
pub async fn delete_package(id: String, confirm: Option<String>) -> Result<(), AppError> {
    let actor = crate::ports::actor()?;
    let catalog = crate::ports::catalog()?;
    let package = catalog.get_package(&actor, &id).await?;
    if confirm.as_deref().map(str::trim) != Some(package.key.as_str()) {
        return Err(AppError::validation(
            "confirm",
            format!("Type the key \"{}\" to delete this package.", package.key),
        ));
    }
    catalog.delete_package(&actor, &id).await?;
    super::redirect("/service-hub");
    Ok(())
}
