//! Plain route configuration types, using Kong's field names and defaults.
//!
//! This module depends on `serde` only, so that UI / control-plane crates can
//! reuse it without pulling in the matcher.

use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// Kong's `path_handling` algorithm for computing the upstream path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum PathHandling {
    /// `v0` (Kong's default).
    #[default]
    #[serde(rename = "v0")]
    V0,
    /// `v1` (legacy behaviour).
    #[serde(rename = "v1")]
    V1,
}

/// One route, as stored by the control plane (Kong's `routes` entity subset).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteConfig {
    /// Route id (uuid text).
    pub id: String,
    /// Optional human readable name.
    #[serde(default)]
    pub name: Option<String>,
    /// Accepted protocols (`http`, `https`; default both).
    #[serde(default = "default_protocols", deserialize_with = "null_as_protocols")]
    pub protocols: Vec<String>,
    /// HTTP methods (upper-case tokens).
    #[serde(default, deserialize_with = "null_as_default")]
    pub methods: Vec<String>,
    /// Hosts: `example.com`, `*.example.com`, `example.*`, optionally with `:port`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub hosts: Vec<String>,
    /// Paths: `/prefix` or `~/regex`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub paths: Vec<String>,
    /// Header name -> accepted values (`~*regex` for a case-insensitive regex).
    #[serde(default, deserialize_with = "null_as_default")]
    pub headers: BTreeMap<String, Vec<String>>,
    /// Strip the matched path prefix from the upstream path (default `true`).
    #[serde(default = "default_true")]
    pub strip_path: bool,
    /// Forward the request `Host` header upstream (default `false`).
    #[serde(default)]
    pub preserve_host: bool,
    /// Priority among regex paths (default 0).
    #[serde(default)]
    pub regex_priority: i64,
    /// Upstream path algorithm (default `v0`).
    #[serde(default)]
    pub path_handling: PathHandling,
    /// Status code used when an https-only route is hit over http (default 426).
    #[serde(default = "default_redirect")]
    pub https_redirect_status_code: u16,
    /// Kong expressions-language matcher, instead of the traditional fields.
    #[serde(default)]
    pub expression: Option<String>,
    /// Priority of an expression route (0 ..= 2^46-1, higher first).
    #[serde(default)]
    pub priority: Option<u64>,
    /// Creation order, the final deterministic tie-break (lower first).
    #[serde(default)]
    pub created_order: u64,
}

fn default_protocols() -> Vec<String> {
    vec!["http".to_string(), "https".to_string()]
}

fn null_as_protocols<'de, D>(d: D) -> Result<Vec<String>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_else(default_protocols))
}

fn default_true() -> bool {
    true
}

fn default_redirect() -> u16 {
    426
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

impl RouteConfig {
    /// A route with the given id and all other fields at Kong's defaults.
    pub fn new(id: impl Into<String>) -> Self {
        RouteConfig {
            id: id.into(),
            name: None,
            protocols: default_protocols(),
            methods: Vec::new(),
            hosts: Vec::new(),
            paths: Vec::new(),
            headers: BTreeMap::new(),
            strip_path: true,
            preserve_host: false,
            regex_priority: 0,
            path_handling: PathHandling::V0,
            https_redirect_status_code: 426,
            expression: None,
            priority: None,
            created_order: 0,
        }
    }

    /// Name if set, else id: used in error messages.
    pub fn display_name(&self) -> &str {
        match &self.name {
            Some(n) if !n.is_empty() => n,
            _ => &self.id,
        }
    }
}
