//! What the Dev Portal shows: published packages, their listed versions and pages.
//! Nothing here carries ids of unpublished things.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::docs::{Document, SpecView};
use super::{Labels, Page, VersionStatus};

/// A version as the portal lists it: Published or Deprecated, never Unpublished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalVersion {
    pub id: Uuid,
    pub name: String,
    pub status: VersionStatus,
    pub has_spec: bool,
    pub updated_at: DateTime<Utc>,
}

/// A published package in the portal's catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalPackage {
    pub key: String,
    pub display_name: String,
    pub description: String,
    pub labels: Labels,
    /// Listed versions, newest first.
    pub versions: Vec<PortalVersion>,
    pub updated_at: DateTime<Utc>,
}

impl PortalPackage {
    /// The version shown by default: the newest Published, else the newest Deprecated.
    pub fn default_version(&self) -> Option<&PortalVersion> {
        self.versions
            .iter()
            .find(|v| v.status == VersionStatus::Published)
            .or_else(|| self.versions.first())
    }
}

/// The portal's catalog query: free-text search and a page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PortalQuery {
    pub q: Option<String>,
    pub page: u64,
    pub page_size: u64,
}

pub type PortalCatalog = Page<PortalPackage>;

/// A package page in the portal: the package, its published pages (tree order,
/// without content), the chosen version and, when it has one, its spec reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalPackageView {
    pub package: PortalPackage,
    pub pages: Vec<Document>,
    pub version: Option<PortalVersion>,
    pub spec: Option<SpecView>,
}

/// One published documentation page of a published package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalDocView {
    pub package: PortalPackage,
    pub pages: Vec<Document>,
    pub page: Document,
    pub html: String,
}
