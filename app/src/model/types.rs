use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Labels: key → value. At most five; see [`crate::model::validate::labels`].
pub type Labels = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RuntimeGroup {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    #[cfg_attr(feature = "ssr", schema(value_type = BTreeMap<String, String>))]
    pub labels: Labels,
    /// How many service versions live in this group.
    pub versions_count: u64,
    /// Where `portico serve` runs this group's embedded data plane (`IP:port`).
    #[serde(default)]
    pub proxy_listen: Option<String>,
    /// Increases with every change of what the group's data planes serve.
    #[serde(default)]
    pub config_version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewRuntimeGroup {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = BTreeMap<String, String>))]
    pub labels: Labels,
    /// `IP:port` of the embedded data plane; none when absent or empty.
    #[serde(default)]
    pub proxy_listen: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RuntimeGroupPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    #[cfg_attr(feature = "ssr", schema(value_type = Option<BTreeMap<String, String>>))]
    pub labels: Option<Labels>,
    /// `IP:port` of the embedded data plane; `""` removes it.
    #[serde(default)]
    pub proxy_listen: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum VersionStatus {
    Published,
    Deprecated,
    #[default]
    Unpublished,
}

impl VersionStatus {
    pub const ALL: [VersionStatus; 3] = [
        VersionStatus::Published,
        VersionStatus::Deprecated,
        VersionStatus::Unpublished,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Published => "published",
            Self::Deprecated => "deprecated",
            Self::Unpublished => "unpublished",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Published => "Published",
            Self::Deprecated => "Deprecated",
            Self::Unpublished => "Unpublished",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServicePackage {
    pub id: Uuid,
    /// The lower-cased slug of the display name; unique.
    pub key: String,
    pub display_name: String,
    pub description: String,
    #[cfg_attr(feature = "ssr", schema(value_type = BTreeMap<String, String>))]
    pub labels: Labels,
    pub versions_count: u64,
    /// Counts of versions per status, in the order of [`VersionStatus::ALL`].
    pub status_counts: StatusCounts,
    /// Shown in the Dev Portal (with its Published and Deprecated versions).
    pub published: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StatusCounts {
    pub published: u64,
    pub deprecated: u64,
    pub unpublished: u64,
}

impl StatusCounts {
    pub fn add(&mut self, status: VersionStatus, n: u64) {
        match status {
            VersionStatus::Published => self.published += n,
            VersionStatus::Deprecated => self.deprecated += n,
            VersionStatus::Unpublished => self.unpublished += n,
        }
    }

    /// The badge a catalog card shows: the most visible status any version has.
    pub fn headline(&self) -> Option<VersionStatus> {
        if self.published > 0 {
            Some(VersionStatus::Published)
        } else if self.deprecated > 0 {
            Some(VersionStatus::Deprecated)
        } else if self.unpublished > 0 {
            Some(VersionStatus::Unpublished)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewServicePackage {
    pub display_name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = BTreeMap<String, String>))]
    pub labels: Labels,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServicePackagePatch {
    pub display_name: Option<String>,
    pub description: Option<String>,
    #[cfg_attr(feature = "ssr", schema(value_type = Option<BTreeMap<String, String>>))]
    pub labels: Option<Labels>,
    /// Publish to the Dev Portal or unpublish (needs the Publisher role).
    pub published: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServiceVersion {
    pub id: Uuid,
    pub package_id: Uuid,
    pub package_key: String,
    pub name: String,
    pub runtime_group_id: Uuid,
    pub runtime_group_name: String,
    pub status: VersionStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewServiceVersion {
    pub name: String,
    pub runtime_group_id: Uuid,
    #[serde(default)]
    pub status: VersionStatus,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServiceVersionPatch {
    pub name: Option<String>,
    pub status: Option<VersionStatus>,
}

/// Sort order of lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SortKey {
    #[default]
    Name,
    Modified,
    Created,
}

impl SortKey {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "name" => Some(Self::Name),
            "modified" | "updated" | "updated_at" => Some(Self::Modified),
            "created" | "created_at" => Some(Self::Created),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Modified => "modified",
            Self::Created => "created",
        }
    }
}

/// Filters, sort and page of the service package list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageQuery {
    /// Case-insensitive substring of the display name or key.
    pub name: Option<String>,
    /// `key:value` label filters; all must hold.
    pub labels: Vec<(String, String)>,
    pub sort: SortKey,
    pub descending: bool,
    /// 1-based.
    pub page: u64,
    pub page_size: u64,
}

impl Default for PackageQuery {
    fn default() -> Self {
        Self {
            name: None,
            labels: Vec::new(),
            sort: SortKey::Name,
            descending: false,
            page: 1,
            page_size: 24,
        }
    }
}

/// Filters, sort and page of a package's versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionQuery {
    pub name: Option<String>,
    pub runtime_group_id: Option<Uuid>,
    pub status: Option<VersionStatus>,
    pub sort: SortKey,
    pub descending: bool,
    pub page: u64,
    pub page_size: u64,
}

impl Default for VersionQuery {
    fn default() -> Self {
        Self {
            name: None,
            runtime_group_id: None,
            status: None,
            sort: SortKey::Name,
            descending: false,
            page: 1,
            page_size: 100,
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub data: Vec<T>,
    pub page: u64,
    pub page_size: u64,
    pub total: u64,
}

impl<T> Page<T> {
    pub fn page_count(&self) -> u64 {
        if self.page_size == 0 {
            1
        } else {
            self.total.div_ceil(self.page_size).max(1)
        }
    }
}

/// What the service package dashboard shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageDashboard {
    pub package: ServicePackage,
    pub versions: Vec<ServiceVersion>,
    pub runtime_groups: Vec<RuntimeGroup>,
    /// Documentation pages, in tree order, without content.
    pub documents: Vec<crate::model::Document>,
}

/// What the runtime group detail page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeGroupDetail {
    pub group: RuntimeGroup,
    pub versions: Vec<ServiceVersion>,
}
