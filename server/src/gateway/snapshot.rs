//! The versioned configuration snapshot of one runtime group, as the control plane
//! sends it to every data plane node of the group (embedded or standalone), and as a
//! standalone node keeps it in its cache directory.
//!
//! Only versions whose implementation exists and is enabled are in `services`; each
//! carries the routes of that version. Routes were validated when saved; a node still
//! validates the whole snapshot (by building its router) and refuses it, keeping the
//! previous one, when that fails.
//!
//! # Sync protocol (HTTP, JSON)
//!
//! Every request of a node carries `Authorization: Bearer <data plane token>` and the
//! headers `X-Portico-Node-Id` (a UUID the node keeps in its cache directory),
//! `X-Portico-Node-Hostname`, `X-Portico-Node-Version` (Portico's version),
//! `X-Portico-Runtime-Group` (the group name the node was started for) and
//! `X-Portico-Config-Version` (the config version it serves now, 0 for none).
//!
//! - `GET /dp/v1/config?after=N[&wait_ms=M]`: 200 with a [`Snapshot`] as soon as the
//!   group's config version is greater than `N` (at once when it already is); 204 when
//!   nothing changed within `wait_ms` (default 25 000, at most 60 000). 401 with
//!   `{"message": …}` for a missing, unknown or revoked token; 403 when the token
//!   belongs to another runtime group than `X-Portico-Runtime-Group`.
//! - `POST /dp/v1/report` with `{"config_version": N, "error": "…"}`: a snapshot the
//!   node refused; 204.

pub use portico_plugins::snapshot::{ConsumerConfig, KeyCredential, PluginInstance, Scope};
use portico_router::RouteConfig;
use serde::{Deserialize, Serialize};

/// The configuration of one runtime group at one config version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Runtime group id (UUID text).
    pub runtime_group_id: String,
    /// Runtime group name.
    pub runtime_group: String,
    /// Increases with every change of the group's versions, implementations or routes.
    pub config_version: u64,
    /// When the control plane produced it (RFC 3339).
    pub generated_at: String,
    /// The services (versions with an enabled implementation) of the group.
    pub services: Vec<ServiceConfig>,
    /// The group's enabled plugin instances, on every scope (group, version, route,
    /// consumer). Each data plane compiles them into per-route chains.
    #[serde(default)]
    pub plugins: Vec<PluginInstance>,
    /// The group's consumers with their key hashes and ACL groups.
    #[serde(default)]
    pub consumers: Vec<ConsumerConfig>,
}

/// One service version with its upstream and routes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceConfig {
    pub version_id: String,
    pub package_id: String,
    pub package_key: String,
    pub package_name: String,
    pub version_name: String,
    pub upstream: Upstream,
    pub routes: Vec<RouteConfig>,
}

/// Where a service's traffic goes, and how patiently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upstream {
    /// `http` or `https`.
    pub protocol: String,
    pub host: String,
    pub port: u16,
    /// Path prefix on the upstream (`None`: `/`).
    pub path: Option<String>,
    /// Connection attempts after the first one failed.
    pub retries: u32,
    pub connect_timeout_ms: u64,
    pub read_timeout_ms: u64,
    pub write_timeout_ms: u64,
}

/// A refused snapshot, reported by a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub config_version: u64,
    pub error: String,
}

/// Header names of the sync protocol.
pub mod headers {
    pub const NODE_ID: &str = "x-portico-node-id";
    pub const NODE_HOSTNAME: &str = "x-portico-node-hostname";
    pub const NODE_VERSION: &str = "x-portico-node-version";
    pub const RUNTIME_GROUP: &str = "x-portico-runtime-group";
    pub const CONFIG_VERSION: &str = "x-portico-config-version";
}
