//! How plugins and consumers travel in a runtime group's snapshot (control plane ->
//! data planes, and a standalone node's cache file). No secret is in here: keys are
//! SHA-256 hashes.

use serde::{Deserialize, Serialize};

/// A plugin instance, as configured on one scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginInstance {
    /// UUID text.
    pub id: String,
    /// Kong's plugin name (`key-auth`).
    pub name: String,
    /// The complete config (defaults filled in), as [`crate::validate`] returned it.
    pub config: serde_json::Value,
    /// Only enabled instances are sent; kept for the cache file's readers.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Kong's `protocols` (`http`, `https`, `grpc`, `grpcs`, …).
    #[serde(default)]
    pub protocols: Vec<String>,
    /// Where it applies. All `None`: the whole runtime group (Kong's global plugin).
    #[serde(default)]
    pub scope: Scope,
}

fn yes() -> bool {
    true
}

/// Where a plugin instance applies. Kong's precedence, most specific first:
/// route+consumer > version+consumer > consumer > route > version > group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct Scope {
    /// A service version (Kong's service), UUID text.
    pub version_id: Option<String>,
    /// A route, UUID text.
    pub route_id: Option<String>,
    /// A consumer, UUID text.
    pub consumer_id: Option<String>,
}

impl Scope {
    /// Kong's precedence rank: higher wins when several scopes configure the same
    /// plugin for one request.
    pub fn rank(&self) -> u8 {
        match (
            self.route_id.is_some(),
            self.version_id.is_some(),
            self.consumer_id.is_some(),
        ) {
            (true, _, true) => 6,
            (false, true, true) => 5,
            (false, false, true) => 4,
            (true, _, false) => 3,
            (false, true, false) => 2,
            (false, false, false) => 1,
        }
    }
}

/// A consumer of a runtime group with its credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerConfig {
    /// UUID text.
    pub id: String,
    pub username: Option<String>,
    pub custom_id: Option<String>,
    /// key-auth credentials.
    #[serde(default)]
    pub keys: Vec<KeyCredential>,
    /// ACL groups.
    #[serde(default)]
    pub acl_groups: Vec<String>,
}

/// A key-auth credential: only the key's hash travels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyCredential {
    /// UUID text (Kong's `X-Credential-Identifier`).
    pub id: String,
    /// SHA-256 of the key, lower-case hex.
    pub key_sha256: String,
    /// Unix seconds after which the key no longer works (from its `ttl`).
    #[serde(default)]
    pub expires_at: Option<i64>,
}
