//! Gateway plugins as data, shared by the control plane (validation, REST, forms), the
//! browser (as-you-type checks) and the data plane (typed configs compiled into each
//! route's chain).
//!
//! - [`PluginName`]: the plugins Portico has, with Kong's priorities;
//! - [`config`]: one typed config per plugin, with Kong 3.x's field names and defaults;
//! - [`mod@schema`]: one schema descriptor per plugin (fields, kinds, defaults, Kong's
//!   descriptions, rules and entity checks), static data that drives the rest:
//! - [`validate()`]: a config as sent by a client, checked field by field with Kong's
//!   rules and messages, and completed with the defaults; [`merge_patch`] for `PATCH`,
//!   [`validate_protocols`];
//! - [`json_schema()`]: the JSON Schema of a plugin's config;
//! - [`form_fields`] / [`config_from_form`]: the config as an HTML form and back;
//! - [`snapshot`]: how plugins and consumers travel in a runtime group's snapshot.
//!
//! Features: `regex` (off by default, enabled by the server) checks cors `origins`
//! with `regex-syntax`'s parser besides the light built-in check; the browser bundle
//! goes without it.

pub mod config;
mod form;
mod json_schema;
mod rules;
pub mod schema;
mod schemas;
pub mod snapshot;
mod validate;

pub use form::{config_from_form, form_fields, form_values, FormField, FormKind};
pub use json_schema::json_schema;
pub use schema::schema;
pub use validate::{defaults, merge_patch, validate, validate_protocols, FieldError};

use serde::{Deserialize, Serialize};

/// A plugin Portico has (Kong's name on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PluginName {
    Cors,
    KeyAuth,
    IpRestriction,
    RequestSizeLimiting,
    Acl,
    RateLimiting,
    RequestTransformer,
    ResponseTransformer,
    Prometheus,
}

impl PluginName {
    /// Every plugin, highest priority first (the order of the access phase).
    pub const ALL: [PluginName; 9] = [
        PluginName::Cors,
        PluginName::KeyAuth,
        PluginName::IpRestriction,
        PluginName::RequestSizeLimiting,
        PluginName::Acl,
        PluginName::RateLimiting,
        PluginName::RequestTransformer,
        PluginName::ResponseTransformer,
        PluginName::Prometheus,
    ];

    /// Kong's name (`key-auth`).
    pub fn as_str(self) -> &'static str {
        match self {
            PluginName::Cors => "cors",
            PluginName::KeyAuth => "key-auth",
            PluginName::IpRestriction => "ip-restriction",
            PluginName::RequestSizeLimiting => "request-size-limiting",
            PluginName::Acl => "acl",
            PluginName::RateLimiting => "rate-limiting",
            PluginName::RequestTransformer => "request-transformer",
            PluginName::ResponseTransformer => "response-transformer",
            PluginName::Prometheus => "prometheus",
        }
    }

    /// By Kong's name.
    pub fn parse(name: &str) -> Option<PluginName> {
        PluginName::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// Kong 3.x's `PRIORITY`: higher runs first in each phase.
    pub fn priority(self) -> u32 {
        match self {
            PluginName::Cors => 2000,
            PluginName::KeyAuth => 1250,
            PluginName::IpRestriction => 990,
            PluginName::RequestSizeLimiting => 951,
            PluginName::Acl => 950,
            PluginName::RateLimiting => 910,
            PluginName::RequestTransformer => 801,
            PluginName::ResponseTransformer => 800,
            PluginName::Prometheus => 13,
        }
    }

    /// Whether Kong lets this plugin be configured on a consumer (auth plugins and
    /// acl cannot: they run before the consumer is known, or decide on it).
    pub fn allows_consumer_scope(self) -> bool {
        !matches!(
            self,
            PluginName::Cors | PluginName::KeyAuth | PluginName::Acl
        )
    }

    /// The default of the plugin's `protocols` (Kong's `protocols_http` for most).
    pub fn default_protocols(self) -> &'static [&'static str] {
        match self {
            PluginName::IpRestriction => &["http", "https", "tcp", "tls", "grpc", "grpcs"],
            _ => &["grpc", "grpcs", "http", "https"],
        }
    }
}

impl std::fmt::Display for PluginName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
