//! The gateway side of the catalog: a version's implementation (upstream) and routes,
//! a runtime group's data plane tokens and nodes. The pure rules here run in the
//! browser as the user types and on the server before anything is stored; route rules
//! that need the matcher (regexes, expressions) run on the server only
//! (`portico_router::validate_route`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::validate::FieldError;

pub const RETRIES_DEFAULT: u32 = 5;
pub const TIMEOUT_DEFAULT_MS: u64 = 60_000;
/// Kong's limits: retries 0..=32767, timeouts 1..=2^31-2 ms.
pub const RETRIES_MAX: u32 = 32_767;
pub const TIMEOUT_MAX_MS: u64 = 2_147_483_646;
pub const ROUTE_NAME_MAX: usize = 128;
pub const UPSTREAM_PATH_MAX: usize = 1024;

fn default_retries() -> u32 {
    RETRIES_DEFAULT
}
fn default_timeout() -> u64 {
    TIMEOUT_DEFAULT_MS
}
fn default_true() -> bool {
    true
}

/// The implementation of a version, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Implementation {
    pub version_id: Uuid,
    /// The upstream as one URL (`protocol://host:port/path`).
    pub url: String,
    pub protocol: String,
    pub host: String,
    pub port: u16,
    pub path: Option<String>,
    pub retries: u32,
    /// Milliseconds.
    pub connect_timeout: u64,
    pub read_timeout: u64,
    pub write_timeout: u64,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The body of `PUT …/implementation`: either `url`, or `host` (with `protocol`,
/// `port`, `path`); the rest takes Kong's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ImplementationInput {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub port: Option<u32>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default = "default_retries")]
    pub retries: u32,
    #[serde(default = "default_timeout")]
    pub connect_timeout: u64,
    #[serde(default = "default_timeout")]
    pub read_timeout: u64,
    #[serde(default = "default_timeout")]
    pub write_timeout: u64,
    #[serde(default = "default_true")]
    pub enabled: bool,
}

impl Default for ImplementationInput {
    fn default() -> Self {
        Self {
            url: None,
            protocol: None,
            host: None,
            port: None,
            path: None,
            retries: RETRIES_DEFAULT,
            connect_timeout: TIMEOUT_DEFAULT_MS,
            read_timeout: TIMEOUT_DEFAULT_MS,
            write_timeout: TIMEOUT_DEFAULT_MS,
            enabled: true,
        }
    }
}

/// An implementation that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    pub protocol: String,
    pub host: String,
    pub port: u16,
    pub path: Option<String>,
    pub retries: u32,
    pub connect_timeout: u64,
    pub read_timeout: u64,
    pub write_timeout: u64,
    pub enabled: bool,
}

/// `protocol://host[:port][path]`, the port left out when it is the protocol's default.
pub fn upstream_url(protocol: &str, host: &str, port: u16, path: Option<&str>) -> String {
    let default_port = if protocol == "https" { 443 } else { 80 };
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let port = if port == default_port {
        String::new()
    } else {
        format!(":{port}")
    };
    format!("{protocol}://{host}{port}{}", path.unwrap_or(""))
}

fn check_host(field: &str, host: &str) -> Result<(), FieldError> {
    if host.is_empty() {
        return Err(FieldError::new(field, "The host is required."));
    }
    if host.len() > 253 {
        return Err(FieldError::new(
            field,
            "The host is at most 253 characters.",
        ));
    }
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Ok(());
    }
    for label in host.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(FieldError::new(
                field,
                format!(
                    "\"{host}\" is not a host name: use an IP address or dot-separated labels of letters, digits, '-' and '_' (no label empty, starting or ending with '-')."
                ),
            ));
        }
    }
    Ok(())
}

fn check_path(field: &str, path: &str) -> Result<(), FieldError> {
    if !path.starts_with('/') {
        return Err(FieldError::new(field, "The path must start with \"/\"."));
    }
    if path.len() > UPSTREAM_PATH_MAX {
        return Err(FieldError::new(
            field,
            format!("The path is at most {UPSTREAM_PATH_MAX} characters."),
        ));
    }
    if let Some(c) = path
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#'))
    {
        return Err(FieldError::new(
            field,
            format!("The path must not contain {c:?} (no spaces, query or fragment)."),
        ));
    }
    Ok(())
}

fn check_protocol(field: &str, p: &str) -> Result<String, FieldError> {
    let p = p.trim().to_ascii_lowercase();
    match p.as_str() {
        "http" | "https" => Ok(p),
        _ => Err(FieldError::new(
            field,
            format!("The protocol must be http or https, not \"{p}\"."),
        )),
    }
}

/// Splits `protocol://host[:port][/path]`.
fn parse_url(url: &str) -> Result<(String, String, Option<u16>, Option<String>), FieldError> {
    let url = url.trim();
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(FieldError::new(
            "url",
            "The URL must look like http://host:port/path (with http:// or https://).",
        ));
    };
    let protocol = check_protocol("url", scheme)?;
    if rest.contains('@') {
        return Err(FieldError::new(
            "url",
            "The URL must not contain credentials (user@host).",
        ));
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], Some(rest[i..].to_string())),
        None => (rest, None),
    };
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let Some((h, after)) = inner.split_once(']') else {
            return Err(FieldError::new(
                "url",
                "The IPv6 address lacks its closing ']'.",
            ));
        };
        (h.to_string(), after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    let port = match port {
        None => None,
        Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
            FieldError::new(
                "url",
                format!("The port \"{p}\" is not a number from 1 to 65535."),
            )
        })?),
    };
    check_host("url", &host.to_ascii_lowercase())?;
    if let Some(p) = &path {
        check_path("url", p)?;
    }
    Ok((protocol, host.to_ascii_lowercase(), port, path))
}

impl ImplementationInput {
    /// Every rule; the first broken one names its field.
    pub fn validate(&self) -> Result<Upstream, FieldError> {
        let (protocol, host, port, path) = match &self.url {
            Some(url) if !url.trim().is_empty() => {
                if self.host.as_deref().is_some_and(|h| !h.trim().is_empty()) {
                    return Err(FieldError::new(
                        "url",
                        "Give either a URL or host/port/path, not both.",
                    ));
                }
                parse_url(url)?
            }
            _ => {
                let protocol =
                    check_protocol("protocol", self.protocol.as_deref().unwrap_or("http"))?;
                let host = self
                    .host
                    .as_deref()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                if host.is_empty() {
                    return Err(FieldError::new(
                        "url",
                        "Give the upstream as a URL (http://host:port/path) or as a host.",
                    ));
                }
                check_host("host", &host)?;
                let port = match self.port {
                    None => None,
                    Some(p) => Some(u16::try_from(p).ok().filter(|p| *p > 0).ok_or_else(|| {
                        FieldError::new("port", "The port is a number from 1 to 65535.")
                    })?),
                };
                let path = self
                    .path
                    .as_deref()
                    .map(str::trim)
                    .filter(|p| !p.is_empty());
                if let Some(p) = path {
                    check_path("path", p)?;
                }
                (protocol, host, port, path.map(str::to_string))
            }
        };
        let port = port.unwrap_or(if protocol == "https" { 443 } else { 80 });
        if self.retries > RETRIES_MAX {
            return Err(FieldError::new(
                "retries",
                format!("Retries are a number from 0 to {RETRIES_MAX}."),
            ));
        }
        for (field, v) in [
            ("connect_timeout", self.connect_timeout),
            ("read_timeout", self.read_timeout),
            ("write_timeout", self.write_timeout),
        ] {
            if v == 0 || v > TIMEOUT_MAX_MS {
                return Err(FieldError::new(
                    field,
                    format!("A timeout is a number of milliseconds from 1 to {TIMEOUT_MAX_MS}."),
                ));
            }
        }
        Ok(Upstream {
            protocol,
            host,
            port,
            path: path.filter(|p| p != "/"),
            retries: self.retries,
            connect_timeout: self.connect_timeout,
            read_timeout: self.read_timeout,
            write_timeout: self.write_timeout,
            enabled: self.enabled,
        })
    }
}

fn default_protocols() -> Vec<String> {
    vec!["http".into(), "https".into()]
}
fn default_redirect() -> u16 {
    426
}
fn default_path_handling() -> String {
    "v0".into()
}

/// A route's fields, with Kong's names and defaults (`POST/PUT …/routes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RouteInput {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default = "default_protocols")]
    pub protocols: Vec<String>,
    #[serde(default)]
    pub methods: Vec<String>,
    #[serde(default)]
    pub hosts: Vec<String>,
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, Vec<String>>,
    #[serde(default = "default_true")]
    pub strip_path: bool,
    #[serde(default)]
    pub preserve_host: bool,
    #[serde(default)]
    pub regex_priority: i64,
    /// `v0` (default) or `v1`.
    #[serde(default = "default_path_handling")]
    pub path_handling: String,
    /// 426 (default), 301, 302, 307 or 308.
    #[serde(default = "default_redirect")]
    pub https_redirect_status_code: u16,
    /// Kong's expressions language, instead of methods/hosts/paths/headers.
    #[serde(default)]
    pub expression: Option<String>,
    /// Priority of an expression route (higher first).
    #[serde(default)]
    pub priority: Option<u64>,
}

impl Default for RouteInput {
    fn default() -> Self {
        Self {
            name: None,
            protocols: default_protocols(),
            methods: Vec::new(),
            hosts: Vec::new(),
            paths: Vec::new(),
            headers: BTreeMap::new(),
            strip_path: true,
            preserve_host: false,
            regex_priority: 0,
            path_handling: default_path_handling(),
            https_redirect_status_code: 426,
            expression: None,
            priority: None,
        }
    }
}

/// A route name: 1–128 of letters, digits and `. - _ ~` (Kong's rule).
pub fn route_name(field: &str, name: &str) -> Result<(), FieldError> {
    if name.is_empty() {
        return Err(FieldError::new(field, "The name must not be empty."));
    }
    if name.chars().count() > ROUTE_NAME_MAX {
        return Err(FieldError::new(
            field,
            format!("The name is at most {ROUTE_NAME_MAX} characters."),
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '~')))
    {
        return Err(FieldError::new(
            field,
            format!("The name may hold letters, digits and . - _ ~ only, not {c:?}."),
        ));
    }
    Ok(())
}

impl RouteInput {
    /// Trims the text fields and drops empty entries (what a form sends).
    pub fn normalized(mut self) -> Self {
        let clean = |v: Vec<String>| -> Vec<String> {
            v.into_iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        self.name = self
            .name
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty());
        self.protocols = clean(self.protocols)
            .into_iter()
            .map(|p| p.to_ascii_lowercase())
            .collect();
        self.methods = clean(self.methods)
            .into_iter()
            .map(|m| m.to_ascii_uppercase())
            .collect();
        self.hosts = clean(self.hosts);
        self.paths = clean(self.paths);
        self.headers = self
            .headers
            .into_iter()
            .map(|(k, v)| (k.trim().to_string(), clean(v)))
            .filter(|(k, _)| !k.is_empty())
            .collect();
        self.expression = self
            .expression
            .map(|e| e.trim().to_string())
            .filter(|e| !e.is_empty());
        self.path_handling = self.path_handling.trim().to_string();
        self
    }

    /// The rules the browser can check by itself (the matcher's own rules — regexes,
    /// hosts, expressions — are checked on the server with `check_route`).
    pub fn validate_basic(&self) -> Result<(), FieldError> {
        if let Some(n) = &self.name {
            route_name("name", n)?;
        }
        if self.path_handling != "v0" && self.path_handling != "v1" {
            return Err(FieldError::new(
                "path_handling",
                "path_handling is v0 or v1.",
            ));
        }
        Ok(())
    }

    /// The matcher's configuration of this route.
    pub fn to_config(&self, id: &str, created_order: u64) -> super::route::RouteConfig {
        use super::route::{PathHandling, RouteConfig};
        RouteConfig {
            id: id.to_string(),
            name: self.name.clone(),
            protocols: self.protocols.clone(),
            methods: self.methods.clone(),
            hosts: self.hosts.clone(),
            paths: self.paths.clone(),
            headers: self.headers.clone(),
            strip_path: self.strip_path,
            preserve_host: self.preserve_host,
            regex_priority: self.regex_priority,
            path_handling: if self.path_handling == "v1" {
                PathHandling::V1
            } else {
                PathHandling::V0
            },
            https_redirect_status_code: self.https_redirect_status_code,
            expression: self.expression.clone(),
            priority: self.priority,
            created_order,
        }
    }
}

/// A route as stored, with its fields flat (Kong's shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Route {
    pub id: Uuid,
    pub version_id: Uuid,
    pub runtime_group_id: Uuid,
    #[serde(flatten)]
    pub fields: RouteInput,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A route with how to call it through the group's embedded data plane.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteView {
    pub route: Route,
    /// The proxy URL of the route's first path (absent without a proxy address).
    pub proxy_url: Option<String>,
    /// A curl command that matches the route.
    pub curl: Option<String>,
}

/// Whether traffic can flow through a version now, and why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Liveness {
    pub live: bool,
    /// What is missing, in words; empty when live.
    pub missing: Vec<String>,
}

/// The gateway part of a version's dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionGateway {
    pub implementation: Option<Implementation>,
    pub routes: Vec<RouteView>,
    pub liveness: Liveness,
    /// `http://address` of the group's embedded data plane, when it has one.
    pub proxy_base: Option<String>,
    pub runtime_group: String,
}

/// A data plane token of a runtime group (the secret is shown once, at creation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DataPlaneToken {
    pub id: Uuid,
    pub runtime_group_id: Uuid,
    pub name: String,
    /// The first characters of the secret, to tell tokens apart.
    pub prefix: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewDataPlaneToken {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedDataPlaneToken {
    pub token: DataPlaneToken,
    /// The secret: shown only this once.
    pub secret: String,
}

/// A data plane node of a runtime group, as last seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DataPlaneNode {
    pub id: Uuid,
    pub hostname: String,
    /// Portico's version on the node.
    pub version: String,
    /// The config version it serves.
    pub config_version: u64,
    /// Run by `portico serve` itself.
    pub embedded: bool,
    pub connected: bool,
    /// The last snapshot it refused, and why.
    pub last_error: Option<String>,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// A runtime group's gateway: its proxy address, config version, tokens and nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupGateway {
    pub proxy_listen: Option<String>,
    pub config_version: u64,
    pub tokens: Vec<DataPlaneToken>,
    pub nodes: Vec<DataPlaneNode>,
}

/// A proxy listen address: `host:port` with an IP address (`127.0.0.1:8000`,
/// `0.0.0.0:8000`, `[::]:8000`), or empty for none.
pub fn proxy_listen(field: &str, text: &str) -> Result<Option<String>, FieldError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<std::net::SocketAddr>() {
        Ok(a) if a.port() != 0 => Ok(Some(a.to_string())),
        Ok(_) => Err(FieldError::new(field, "The port must not be 0.")),
        Err(_) => Err(FieldError::new(
            field,
            format!(
                "\"{t}\" is not an address: write IP:port, e.g. 127.0.0.1:8000 or 0.0.0.0:8000."
            ),
        )),
    }
}

/// A data plane token name: 1–100 characters, no control characters.
pub fn token_name(field: &str, name: &str) -> Result<(), FieldError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 100 || n.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "The name is 1 to 100 characters, without control characters.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(u: &str) -> Result<Upstream, FieldError> {
        ImplementationInput {
            url: Some(u.into()),
            ..Default::default()
        }
        .validate()
    }

    #[test]
    fn urls_split_into_fields() {
        let u = url("http://Echo.Local:8080/api/v1").unwrap();
        assert_eq!(
            (
                u.protocol.as_str(),
                u.host.as_str(),
                u.port,
                u.path.as_deref()
            ),
            ("http", "echo.local", 8080, Some("/api/v1"))
        );
        let u = url("https://example.com").unwrap();
        assert_eq!((u.port, u.path), (443, None));
        let u = url("http://[::1]:9000/").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.path), ("::1", 9000, None));
        assert_eq!(u.retries, 5);
        assert_eq!(u.connect_timeout, 60_000);
        assert_eq!(upstream_url("http", "::1", 9000, None), "http://[::1]:9000");
        assert_eq!(
            upstream_url("https", "a.b", 443, Some("/x")),
            "https://a.b/x"
        );
    }

    #[test]
    fn bad_upstreams_name_the_field() {
        for (u, needle) in [
            ("ftp://x", "http or https"),
            ("example.com", "http://host"),
            ("http://:80", "host is required"),
            ("http://a b", "not a host name"),
            ("http://x:0", "1 to 65535"),
            ("http://x:99999", "1 to 65535"),
            ("http://u:p@x", "credentials"),
            ("http://x/a b", "must not contain"),
            ("http://x/a?q=1", "must not contain"),
        ] {
            let e = url(u).unwrap_err();
            assert_eq!(e.field, "url", "{u}");
            assert!(e.message.contains(needle), "{u}: {}", e.message);
        }
        let e = ImplementationInput {
            host: Some("x".into()),
            port: Some(70000),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.field, "port");
        let e = ImplementationInput {
            host: Some("x".into()),
            read_timeout: 0,
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.field, "read_timeout");
        let e = ImplementationInput {
            host: Some("x".into()),
            retries: 40_000,
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.field, "retries");
        let e = ImplementationInput::default().validate().unwrap_err();
        assert_eq!(e.field, "url");
    }

    #[test]
    fn listen_addresses() {
        assert_eq!(proxy_listen("p", " ").unwrap(), None);
        assert_eq!(
            proxy_listen("p", "0.0.0.0:8000").unwrap().as_deref(),
            Some("0.0.0.0:8000")
        );
        assert!(proxy_listen("p", "localhost:8000").is_err());
        assert!(proxy_listen("p", "127.0.0.1:0").is_err());
    }

    #[test]
    fn route_names() {
        assert!(route_name("name", "orders-v1.get_~x").is_ok());
        assert!(route_name("name", "a b").is_err());
        assert!(route_name("name", &"a".repeat(129)).is_err());
    }
}
