//! One typed config per plugin, with Kong 3.x's field names and defaults
//! (`kong/plugins/<name>/schema.lua`). A config that passed [`crate::validate`] always
//! deserializes into its type; the data plane compiles these, never raw JSON.
//!
//! Fields Kong has but Portico does not implement yet are accepted and kept with their
//! defaults only where noted.

use serde::{Deserialize, Serialize};

fn yes() -> bool {
    true
}

/// `key-auth`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KeyAuth {
    /// Where to look for the key: header names, query parameters, body fields.
    pub key_names: Vec<String>,
    /// Remove the key from the request before it goes upstream.
    pub hide_credentials: bool,
    /// A consumer (id or username) to use when authentication fails.
    pub anonymous: Option<String>,
    #[serde(default = "yes")]
    pub key_in_header: bool,
    #[serde(default = "yes")]
    pub key_in_query: bool,
    pub key_in_body: bool,
    /// `false`: `OPTIONS` preflight requests pass without a key.
    #[serde(default = "yes")]
    pub run_on_preflight: bool,
    /// `realm` of `WWW-Authenticate`.
    pub realm: Option<String>,
}

impl Default for KeyAuth {
    fn default() -> Self {
        KeyAuth {
            key_names: vec!["apikey".into()],
            hide_credentials: false,
            anonymous: None,
            key_in_header: true,
            key_in_query: true,
            key_in_body: false,
            run_on_preflight: true,
            realm: None,
        }
    }
}

/// `acl`: exactly one of `allow` and `deny`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Acl {
    pub allow: Option<Vec<String>>,
    pub deny: Option<Vec<String>>,
    /// Do not send `X-Consumer-Groups` upstream.
    pub hide_groups_header: bool,
    pub always_use_authenticated_groups: bool,
}

/// `rate-limiting`: at least one of the periods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimiting {
    pub second: Option<f64>,
    pub minute: Option<f64>,
    pub hour: Option<f64>,
    pub day: Option<f64>,
    pub month: Option<f64>,
    pub year: Option<f64>,
    pub limit_by: LimitBy,
    /// With `limit_by: header`.
    pub header_name: Option<String>,
    /// With `limit_by: path`.
    pub path: Option<String>,
    pub policy: Policy,
    /// Proxy anyway when the counter store (Redis) fails; `false`: answer 500.
    #[serde(default = "yes")]
    pub fault_tolerant: bool,
    pub redis: Redis,
    /// Do not send the `X-RateLimit-*` and `RateLimit-*` headers.
    pub hide_client_headers: bool,
    pub error_code: f64,
    pub error_message: String,
    /// Only `-1` (synchronous) is supported.
    pub sync_rate: f64,
}

impl Default for RateLimiting {
    fn default() -> Self {
        RateLimiting {
            second: None,
            minute: None,
            hour: None,
            day: None,
            month: None,
            year: None,
            limit_by: LimitBy::Consumer,
            header_name: None,
            path: None,
            policy: Policy::Local,
            fault_tolerant: true,
            redis: Redis::default(),
            hide_client_headers: false,
            error_code: 429.0,
            error_message: "API rate limit exceeded".into(),
            sync_rate: -1.0,
        }
    }
}

impl RateLimiting {
    /// The configured periods, shortest first, with their limits.
    pub fn periods(&self) -> impl Iterator<Item = (Period, f64)> + '_ {
        Period::ALL.into_iter().filter_map(move |p| {
            let v = match p {
                Period::Second => self.second,
                Period::Minute => self.minute,
                Period::Hour => self.hour,
                Period::Day => self.day,
                Period::Month => self.month,
                Period::Year => self.year,
            };
            v.map(|v| (p, v))
        })
    }
}

/// A rate-limiting window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Second,
    Minute,
    Hour,
    Day,
    Month,
    Year,
}

impl Period {
    pub const ALL: [Period; 6] = [
        Period::Second,
        Period::Minute,
        Period::Hour,
        Period::Day,
        Period::Month,
        Period::Year,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Second => "second",
            Period::Minute => "minute",
            Period::Hour => "hour",
            Period::Day => "day",
            Period::Month => "month",
            Period::Year => "year",
        }
    }

    /// As in Kong's headers (`X-RateLimit-Limit-Minute`).
    pub fn title(self) -> &'static str {
        match self {
            Period::Second => "Second",
            Period::Minute => "Minute",
            Period::Hour => "Hour",
            Period::Day => "Day",
            Period::Month => "Month",
            Period::Year => "Year",
        }
    }
}

/// What rate-limiting counts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LimitBy {
    #[default]
    Consumer,
    Credential,
    Ip,
    Service,
    Header,
    Path,
}

/// Where rate-limiting keeps its counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// In the node's memory (each node counts alone).
    #[default]
    Local,
    /// In Redis (all nodes share one count).
    Redis,
}

/// Kong's shared Redis config (`kong/tools/redis/schema.lua`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Redis {
    pub host: Option<String>,
    pub port: u16,
    /// Milliseconds.
    pub timeout: u64,
    pub username: Option<String>,
    pub password: Option<String>,
    pub database: i64,
    pub ssl: bool,
    pub ssl_verify: bool,
    pub server_name: Option<String>,
}

impl Default for Redis {
    fn default() -> Self {
        Redis {
            host: None,
            port: 6379,
            timeout: 2000,
            username: None,
            password: None,
            database: 0,
            ssl: false,
            ssl_verify: false,
            server_name: None,
        }
    }
}

/// `cors`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Cors {
    /// Exact origins, `*`, or regexes; none: every origin.
    pub origins: Option<Vec<String>>,
    pub headers: Option<Vec<String>>,
    pub exposed_headers: Option<Vec<String>>,
    pub methods: Vec<String>,
    /// Seconds.
    pub max_age: Option<f64>,
    pub credentials: bool,
    pub private_network: bool,
    /// Proxy preflight requests instead of answering them.
    pub preflight_continue: bool,
    /// No CORS headers on a request without `Origin`.
    #[serde(default = "yes")]
    pub allow_origin_absent: bool,
}

/// Kong's default `cors.methods`.
pub const CORS_METHODS: [&str; 9] = [
    "GET", "HEAD", "PUT", "PATCH", "POST", "DELETE", "OPTIONS", "TRACE", "CONNECT",
];

impl Default for Cors {
    fn default() -> Self {
        Cors {
            origins: None,
            headers: None,
            exposed_headers: None,
            methods: CORS_METHODS.iter().map(|m| m.to_string()).collect(),
            max_age: None,
            credentials: false,
            private_network: false,
            preflight_continue: false,
            allow_origin_absent: true,
        }
    }
}

/// `ip-restriction`: at least one of `allow` and `deny`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IpRestriction {
    /// IPs or CIDR ranges.
    pub allow: Option<Vec<String>>,
    pub deny: Option<Vec<String>>,
    /// Default 403.
    pub status: Option<f64>,
    /// Default `IP address not allowed: <ip>`.
    pub message: Option<String>,
}

/// `request-size-limiting`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RequestSizeLimiting {
    pub allowed_payload_size: i64,
    pub size_unit: SizeUnit,
    pub require_content_length: bool,
}

impl Default for RequestSizeLimiting {
    fn default() -> Self {
        RequestSizeLimiting {
            allowed_payload_size: 128,
            size_unit: SizeUnit::Megabytes,
            require_content_length: false,
        }
    }
}

impl RequestSizeLimiting {
    /// The limit in bytes (Kong: a megabyte is 2^20 bytes).
    pub fn limit_bytes(&self) -> u64 {
        let n = u64::try_from(self.allowed_payload_size).unwrap_or(0);
        n.saturating_mul(match self.size_unit {
            SizeUnit::Megabytes => 1 << 20,
            SizeUnit::Kilobytes => 1 << 10,
            SizeUnit::Bytes => 1,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SizeUnit {
    #[default]
    Megabytes,
    Kilobytes,
    Bytes,
}

/// One `request-transformer` operation's lists (`name` or `name:value` strings).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RequestParts {
    pub body: Vec<String>,
    pub headers: Vec<String>,
    pub querystring: Vec<String>,
}

/// `replace` of `request-transformer`: also the upstream path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RequestReplace {
    pub body: Vec<String>,
    pub headers: Vec<String>,
    pub querystring: Vec<String>,
    pub uri: Option<String>,
}

/// `request-transformer`: applied in Kong's order remove, rename, replace, add,
/// append.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RequestTransformer {
    pub http_method: Option<String>,
    pub remove: RequestParts,
    pub rename: RequestParts,
    pub replace: RequestReplace,
    pub add: RequestParts,
    pub append: RequestParts,
}

/// `remove` of `response-transformer`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResponseRemove {
    pub json: Vec<String>,
    pub headers: Vec<String>,
}

/// `rename` of `response-transformer`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResponseRename {
    pub json: Vec<String>,
    pub headers: Vec<String>,
}

/// `replace`, `add` and `append` of `response-transformer`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResponseEdit {
    pub json: Vec<String>,
    /// `boolean`, `number` or `string`, one per `json` entry.
    pub json_types: Vec<String>,
    pub headers: Vec<String>,
}

/// `response-transformer`: applied in Kong's order remove, rename, replace, add,
/// append.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResponseTransformer {
    pub remove: ResponseRemove,
    pub rename: ResponseRename,
    pub replace: ResponseEdit,
    pub add: ResponseEdit,
    pub append: ResponseEdit,
}

/// `prometheus`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prometheus {
    pub per_consumer: bool,
    pub status_code_metrics: bool,
    /// Kong's AI metrics: accepted and kept, nothing to export in Portico.
    pub ai_metrics: bool,
    pub latency_metrics: bool,
    pub bandwidth_metrics: bool,
    pub upstream_health_metrics: bool,
    /// Kong's Wasm metrics: accepted and kept, nothing to export in Portico.
    pub wasm_metrics: bool,
}

/// A plugin's config, typed.
#[derive(Debug, Clone, PartialEq)]
pub enum PluginConfig {
    Cors(Cors),
    KeyAuth(KeyAuth),
    IpRestriction(IpRestriction),
    RequestSizeLimiting(RequestSizeLimiting),
    Acl(Acl),
    RateLimiting(RateLimiting),
    RequestTransformer(RequestTransformer),
    ResponseTransformer(ResponseTransformer),
    Prometheus(Prometheus),
}

impl PluginConfig {
    /// A config already completed by [`crate::validate`] (or read from a snapshot),
    /// typed.
    pub fn from_value(
        name: crate::PluginName,
        value: serde_json::Value,
    ) -> Result<PluginConfig, serde_json::Error> {
        use crate::PluginName as N;
        Ok(match name {
            N::Cors => PluginConfig::Cors(serde_json::from_value(value)?),
            N::KeyAuth => PluginConfig::KeyAuth(serde_json::from_value(value)?),
            N::IpRestriction => PluginConfig::IpRestriction(serde_json::from_value(value)?),
            N::RequestSizeLimiting => {
                PluginConfig::RequestSizeLimiting(serde_json::from_value(value)?)
            }
            N::Acl => PluginConfig::Acl(serde_json::from_value(value)?),
            N::RateLimiting => PluginConfig::RateLimiting(serde_json::from_value(value)?),
            N::RequestTransformer => {
                PluginConfig::RequestTransformer(serde_json::from_value(value)?)
            }
            N::ResponseTransformer => {
                PluginConfig::ResponseTransformer(serde_json::from_value(value)?)
            }
            N::Prometheus => PluginConfig::Prometheus(serde_json::from_value(value)?),
        })
    }
}
