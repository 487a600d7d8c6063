//! Plugins and consumers of a runtime group, as the UI and the REST API see them
//! (Kong's shapes). The config schemas themselves live in `portico_plugins`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use portico_plugins::PluginName;

/// Where a plugin is attached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PluginScope {
    /// Every route of a runtime group (id or name).
    RuntimeGroup { group: String },
    /// Every route of a service version (`package`: id or key).
    Version { package: String, version_id: Uuid },
    /// One route.
    Route {
        package: String,
        version_id: Uuid,
        route_id: Uuid,
    },
    /// One consumer of a runtime group (`consumer`: id or username).
    Consumer { group: String, consumer: String },
}

/// A reference to another entity, Kong style (`{"id": "…"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EntityRef {
    pub id: Uuid,
}

/// A plugin instance, as stored (Kong's shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Plugin {
    pub id: Uuid,
    /// Kong's plugin name (`key-auth`).
    pub name: String,
    /// The complete config, defaults filled in.
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub config: serde_json::Value,
    pub enabled: bool,
    pub protocols: Vec<String>,
    pub tags: Vec<String>,
    pub runtime_group: EntityRef,
    /// Kong's `service`: the service version it is attached to.
    pub service: Option<EntityRef>,
    pub route: Option<EntityRef>,
    pub consumer: Option<EntityRef>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The body of `POST …/plugins` and `PUT /plugins/{id}`: only `name` is required.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PluginInput {
    pub name: String,
    /// Omitted fields take their defaults.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Object>))]
    pub config: Option<serde_json::Value>,
    /// Default `true`.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Default: the plugin's (`grpc`, `grpcs`, `http`, `https` for most).
    #[serde(default)]
    pub protocols: Option<Vec<String>>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Narrow the plugin to one consumer (`{"id": …}`; also by username in the UI).
    #[serde(default)]
    pub consumer: Option<EntityRef>,
}

/// The body of `PATCH /plugins/{id}`: what is given replaces what is stored; `config`
/// is merged into the stored config field by field (Kong's PATCH).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PluginPatch {
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Object>))]
    pub config: Option<serde_json::Value>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub protocols: Option<Vec<String>>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

/// Which scope a plugin that applies to a route or version comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    RuntimeGroup,
    Version,
    Route,
    Consumer,
    VersionConsumer,
    RouteConsumer,
}

/// A plugin that applies to a version or route, with where it comes from (a route page
/// lists these; consumer-scoped ones apply only to that consumer's requests).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppliedPlugin {
    pub plugin: Plugin,
    pub scope: ScopeKind,
    /// Another instance of the same plugin on a more specific scope overrides this one
    /// for every request (it is listed, greyed).
    pub overridden: bool,
}

/// A consumer of a runtime group (Kong's shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Consumer {
    pub id: Uuid,
    pub runtime_group: EntityRef,
    pub username: Option<String>,
    pub custom_id: Option<String>,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The body of `POST …/consumers` and `PUT …/consumers/{id}`: at least one of
/// `username` and `custom_id`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConsumerInput {
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub custom_id: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

/// A key-auth credential as listed: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct KeyAuthCredential {
    pub id: Uuid,
    pub consumer: EntityRef,
    /// The first characters of the key, to tell keys apart.
    pub key_prefix: String,
    /// Seconds the key lived for when created (`None`: forever).
    pub ttl: Option<u64>,
    pub expires_at: Option<DateTime<Utc>>,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// The body of `POST …/key-auth`: a key is generated (32 characters) when none is
/// given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewKeyAuthCredential {
    #[serde(default)]
    pub key: Option<String>,
    /// Seconds until the key stops working.
    #[serde(default)]
    pub ttl: Option<u64>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

/// A credential just created, with its key: shown only this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedKeyAuthCredential {
    #[serde(flatten)]
    pub credential: KeyAuthCredential,
    pub key: String,
}

/// An ACL group membership of a consumer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AclGroup {
    pub id: Uuid,
    pub consumer: EntityRef,
    pub group: String,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// The body of `POST …/acls`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewAclGroup {
    pub group: String,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}
