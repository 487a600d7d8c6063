//! The gateway side of a version (implementation, routes) and of a runtime group
//! (data plane tokens and nodes). Forms send text; the parsing here turns it into the
//! domain's inputs and names the field of anything it cannot read.
// The implementation form has eight fields; the server macro makes a function of them.
#![allow(clippy::too_many_arguments)]

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::gateway::{RETRIES_DEFAULT, TIMEOUT_DEFAULT_MS};
use crate::model::*;

/// A route as the form sends it: every field as text (checkboxes: present or not).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RouteForm {
    #[serde(default)]
    pub name: Option<String>,
    /// One per line, or comma-separated.
    #[serde(default)]
    pub methods: Option<String>,
    /// One per line (a line that does not start with `~` may hold several, comma-separated).
    #[serde(default)]
    pub paths: Option<String>,
    #[serde(default)]
    pub hosts: Option<String>,
    /// One `Name: value1, value2` per line.
    #[serde(default)]
    pub headers: Option<String>,
    #[serde(default)]
    pub protocols: Option<String>,
    #[serde(default)]
    pub strip_path: Option<String>,
    #[serde(default)]
    pub preserve_host: Option<String>,
    #[serde(default)]
    pub regex_priority: Option<String>,
    #[serde(default)]
    pub path_handling: Option<String>,
    #[serde(default)]
    pub https_redirect_status_code: Option<String>,
    #[serde(default)]
    pub expression: Option<String>,
    #[serde(default)]
    pub priority: Option<String>,
}

/// The form fields of a route, in the order the form shows them.
pub const ROUTE_FIELDS: [&str; 13] = [
    "name",
    "methods",
    "paths",
    "hosts",
    "headers",
    "protocols",
    "strip_path",
    "preserve_host",
    "regex_priority",
    "path_handling",
    "https_redirect_status_code",
    "expression",
    "priority",
];

impl RouteForm {
    /// The form's text for a stored route (the inverse of [`RouteForm::parse`]).
    pub fn from_input(r: &RouteInput) -> Self {
        let on = |b: bool| b.then(|| "on".to_string());
        Self {
            name: r.name.clone(),
            methods: Some(r.methods.join(", ")),
            paths: Some(r.paths.join("\n")),
            hosts: Some(r.hosts.join("\n")),
            headers: Some(format_headers(&r.headers)),
            protocols: Some(r.protocols.join(", ")),
            strip_path: on(r.strip_path),
            preserve_host: on(r.preserve_host),
            regex_priority: Some(r.regex_priority.to_string()),
            path_handling: Some(r.path_handling.clone()),
            https_redirect_status_code: Some(r.https_redirect_status_code.to_string()),
            expression: r.expression.clone(),
            priority: r.priority.map(|p| p.to_string()),
        }
    }

    /// The text of one field (checkboxes: `"on"` or empty).
    pub fn get(&self, field: &str) -> String {
        let v = match field {
            "name" => &self.name,
            "methods" => &self.methods,
            "paths" => &self.paths,
            "hosts" => &self.hosts,
            "headers" => &self.headers,
            "protocols" => &self.protocols,
            "strip_path" => &self.strip_path,
            "preserve_host" => &self.preserve_host,
            "regex_priority" => &self.regex_priority,
            "path_handling" => &self.path_handling,
            "https_redirect_status_code" => &self.https_redirect_status_code,
            "expression" => &self.expression,
            "priority" => &self.priority,
            _ => &None,
        };
        v.clone().unwrap_or_default()
    }

    /// Sets one field's text (`None` for an unchecked checkbox).
    pub fn set(&mut self, field: &str, value: Option<String>) {
        let slot = match field {
            "name" => &mut self.name,
            "methods" => &mut self.methods,
            "paths" => &mut self.paths,
            "hosts" => &mut self.hosts,
            "headers" => &mut self.headers,
            "protocols" => &mut self.protocols,
            "strip_path" => &mut self.strip_path,
            "preserve_host" => &mut self.preserve_host,
            "regex_priority" => &mut self.regex_priority,
            "path_handling" => &mut self.path_handling,
            "https_redirect_status_code" => &mut self.https_redirect_status_code,
            "expression" => &mut self.expression,
            "priority" => &mut self.priority,
            _ => return,
        };
        *slot = value;
    }

    /// The route these texts describe, normalized; and every field that could not be
    /// read, with why (those fields keep their defaults in the route).
    pub fn parse(&self) -> (RouteInput, Vec<(String, String)>) {
        let mut errors = Vec::new();
        let mut r = RouteInput::default();
        let text = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_string();
        let name = text(&self.name);
        r.name = (!name.is_empty()).then_some(name);
        r.methods = split_words(&text(&self.methods));
        r.paths = split_paths(&text(&self.paths));
        r.hosts = split_words(&text(&self.hosts));
        match parse_headers(&text(&self.headers)) {
            Ok(h) => r.headers = h,
            Err(m) => errors.push(("headers".to_string(), m)),
        }
        let protocols = text(&self.protocols);
        if !protocols.is_empty() {
            r.protocols = split_words(&protocols);
        }
        r.strip_path = checked(&self.strip_path);
        r.preserve_host = checked(&self.preserve_host);
        match parse_number::<i64>(
            "regex_priority",
            &text(&self.regex_priority),
            "A whole number",
        ) {
            Ok(n) => r.regex_priority = n.unwrap_or(0),
            Err(e) => errors.push(e),
        }
        let ph = text(&self.path_handling);
        if !ph.is_empty() {
            r.path_handling = ph;
        }
        match parse_number::<u16>(
            "https_redirect_status_code",
            &text(&self.https_redirect_status_code),
            "One of 426, 301, 302, 307, 308",
        ) {
            Ok(n) => r.https_redirect_status_code = n.unwrap_or(426),
            Err(e) => errors.push(e),
        }
        let expression = text(&self.expression);
        r.expression = (!expression.is_empty()).then_some(expression);
        match parse_number::<u64>("priority", &text(&self.priority), "A whole number from 0") {
            Ok(n) => r.priority = n,
            Err(e) => errors.push(e),
        }
        (r.normalized(), errors)
    }
}

fn checked(v: &Option<String>) -> bool {
    v.as_deref()
        .is_some_and(|v| matches!(v.trim(), "on" | "true" | "1" | "yes"))
}

/// An optional number typed in a form (`None` when empty); the error names the field.
fn parse_number<T: std::str::FromStr>(
    field: &str,
    text: &str,
    what: &str,
) -> Result<Option<T>, (String, String)> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<T>().map(Some).map_err(|_| {
        (
            field.to_string(),
            format!("{what} is expected here, not \"{t}\"."),
        )
    })
}

/// Methods, hosts, protocols: separated by commas, spaces or line breaks.
pub fn split_words(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Paths: one per line; a line that is not a regex (`~…`) may hold several, separated
/// by commas.
pub fn split_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.starts_with('~') {
            out.push(line.to_string());
        } else {
            out.extend(
                line.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            );
        }
    }
    out
}

/// Headers: one `Name: value1, value2` per line (a `~*` regex value is kept whole).
pub fn parse_headers(text: &str) -> Result<BTreeMap<String, Vec<String>>, String> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((name, values)) = line.split_once(':') else {
            return Err(format!(
                "Line {}: write the header as \"Name: value1, value2\" (the colon is missing).",
                i + 1
            ));
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(format!("Line {}: the header name is missing.", i + 1));
        }
        let values = values.trim();
        let values: Vec<String> = if values.starts_with("~*") {
            vec![values.to_string()]
        } else {
            values
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect()
        };
        if values.is_empty() {
            return Err(format!("Line {}: header \"{name}\" needs a value.", i + 1));
        }
        out.entry(name.to_string()).or_default().extend(values);
    }
    Ok(out)
}

/// The form's text of a route's headers.
pub fn format_headers(headers: &BTreeMap<String, Vec<String>>) -> String {
    headers
        .iter()
        .map(|(k, v)| format!("{k}: {}", v.join(", ")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A rule broken by a route, put on the form field it is about, in words that say
/// which entry (`paths[1]` → the second path, quoted).
pub fn route_problem(input: &RouteInput, field: &str, message: &str) -> (String, String) {
    if field.contains(',') {
        return (
            "paths".into(),
            "Give at least one path, method, host or header (or an expression).".into(),
        );
    }
    let base_end = field.find(['[', '.']).unwrap_or(field.len());
    let base = &field[..base_end];
    let rest = &field[base_end..];
    let index = |r: &str| {
        r.strip_prefix('[')
            .and_then(|r| r.strip_suffix(']'))
            .and_then(|n| n.parse::<usize>().ok())
    };
    let sentence = sentence(message);
    let list = match base {
        "paths" => Some(&input.paths),
        "methods" => Some(&input.methods),
        "hosts" => Some(&input.hosts),
        "protocols" => Some(&input.protocols),
        _ => None,
    };
    let message = match (list, index(rest)) {
        (Some(list), Some(i)) => match list.get(i) {
            Some(v) => format!("\"{v}\": {sentence}"),
            None => sentence,
        },
        _ if base == "headers" && rest.starts_with('.') => {
            let name = rest[1..].split('[').next().unwrap_or("");
            format!("Header \"{name}\": {sentence}")
        }
        _ => sentence,
    };
    let base = if ROUTE_FIELDS.contains(&base) {
        base
    } else {
        "paths"
    };
    (base.to_string(), message)
}

/// `must not be empty` → `Must not be empty.`
fn sentence(m: &str) -> String {
    let m = m.trim();
    let mut out: String = m
        .chars()
        .next()
        .map(|c| c.to_uppercase().collect::<String>())
        .unwrap_or_default();
    out.push_str(
        m.get(m.chars().next().map_or(0, char::len_utf8)..)
            .unwrap_or(""),
    );
    if !out.ends_with(['.', '!', '?', ')']) {
        out.push('.');
    }
    out
}

/// The text of the implementation form fields, as the form shows them.
pub fn implementation_numbers(i: Option<&Implementation>) -> [String; 4] {
    match i {
        Some(i) => [
            i.retries.to_string(),
            i.connect_timeout.to_string(),
            i.read_timeout.to_string(),
            i.write_timeout.to_string(),
        ],
        None => [
            RETRIES_DEFAULT.to_string(),
            TIMEOUT_DEFAULT_MS.to_string(),
            TIMEOUT_DEFAULT_MS.to_string(),
            TIMEOUT_DEFAULT_MS.to_string(),
        ],
    }
}

/// The implementation form as the domain's input; the error names the field.
pub fn implementation_input(
    url: &str,
    retries: &str,
    connect_timeout: &str,
    read_timeout: &str,
    write_timeout: &str,
    enabled: bool,
) -> Result<ImplementationInput, AppError> {
    let num = |field: &str, text: &str, default: u64| -> Result<u64, AppError> {
        parse_number::<u64>(field, text, "A whole number")
            .map(|n| n.unwrap_or(default))
            .map_err(|(f, m)| AppError::validation(f, m))
    };
    let retries = num("retries", retries, u64::from(RETRIES_DEFAULT))?;
    let retries = u32::try_from(retries).map_err(|_| {
        AppError::validation(
            "retries",
            format!(
                "Retries are a number from 0 to {}.",
                crate::model::gateway::RETRIES_MAX
            ),
        )
    })?;
    Ok(ImplementationInput {
        url: Some(url.trim().to_string()),
        retries,
        connect_timeout: num("connect_timeout", connect_timeout, TIMEOUT_DEFAULT_MS)?,
        read_timeout: num("read_timeout", read_timeout, TIMEOUT_DEFAULT_MS)?,
        write_timeout: num("write_timeout", write_timeout, TIMEOUT_DEFAULT_MS)?,
        enabled,
        ..Default::default()
    })
}

/// The version dashboard's page, gateway section.
#[cfg(feature = "ssr")]
async fn version_page(actor: &Actor, package_id: &str, version_id: uuid::Uuid) -> String {
    match crate::ports::catalog() {
        Ok(c) => match c.get_version(actor, package_id, version_id).await {
            Ok(v) => format!("/service-hub/{}/versions/{}#gateway", v.package_key, v.id),
            Err(_) => format!("/service-hub/{package_id}"),
        },
        Err(_) => "/service-hub".into(),
    }
}

#[server(prefix = "/rpc", endpoint = "gateway/version", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_version_gateway(
    package_id: String,
    version_id: String,
) -> Result<VersionGateway, AppError> {
    let actor = crate::ports::actor()?;
    let version_id = super::parse_id("version_id", &version_id)?;
    crate::ports::gateways()?
        .version_gateway(&actor, &package_id, version_id)
        .await
}

#[server(prefix = "/rpc", endpoint = "gateway/implementation/save")]
pub async fn save_implementation(
    package_id: String,
    version_id: String,
    url: String,
    retries: Option<String>,
    connect_timeout: Option<String>,
    read_timeout: Option<String>,
    write_timeout: Option<String>,
    enabled: Option<String>,
) -> Result<Implementation, AppError> {
    let actor = crate::ports::actor()?;
    let version_id = super::parse_id("version_id", &version_id)?;
    let input = implementation_input(
        &url,
        retries.as_deref().unwrap_or(""),
        connect_timeout.as_deref().unwrap_or(""),
        read_timeout.as_deref().unwrap_or(""),
        write_timeout.as_deref().unwrap_or(""),
        checked(&enabled),
    )?;
    let saved = crate::ports::gateways()?
        .put_implementation(&actor, &package_id, version_id, input)
        .await?;
    super::redirect(&version_page(&actor, &package_id, version_id).await);
    Ok(saved)
}

#[server(prefix = "/rpc", endpoint = "gateway/implementation/delete")]
pub async fn delete_implementation(package_id: String, version_id: String) -> Result<(), AppError> {
    let actor = crate::ports::actor()?;
    let version_id = super::parse_id("version_id", &version_id)?;
    crate::ports::gateways()?
        .delete_implementation(&actor, &package_id, version_id)
        .await?;
    super::redirect(&version_page(&actor, &package_id, version_id).await);
    Ok(())
}

/// Creates a route (no `route_id`) or replaces one.
#[server(prefix = "/rpc", endpoint = "gateway/routes/save")]
pub async fn save_route(
    package_id: String,
    version_id: String,
    route_id: Option<String>,
    #[server(flatten)] fields: RouteForm,
) -> Result<Route, AppError> {
    let actor = crate::ports::actor()?;
    let version_id = super::parse_id("version_id", &version_id)?;
    let route_id = match route_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) => Some(super::parse_id("route_id", id)?),
        None => None,
    };
    let (input, errors) = fields.parse();
    if let Some((field, message)) = errors.into_iter().next() {
        return Err(AppError::validation(field, message));
    }
    let gateways = crate::ports::gateways()?;
    let saved = match route_id {
        Some(id) => {
            gateways
                .update_route(&actor, &package_id, version_id, id, input.clone())
                .await
        }
        None => {
            gateways
                .create_route(&actor, &package_id, version_id, input.clone())
                .await
        }
    };
    let saved = saved.map_err(|e| match e {
        AppError::Validation { field, message } => {
            let (field, message) = route_problem(&input, &field, &message);
            AppError::validation(field, message)
        }
        other => other,
    })?;
    super::redirect(&version_page(&actor, &package_id, version_id).await);
    Ok(saved)
}

/// Every rule the route in the form breaks, field by field, without saving (for the
/// form's live check).
#[server(prefix = "/rpc", endpoint = "gateway/routes/check", input = leptos::server_fn::codec::Json)]
pub async fn check_route_form(
    package_id: String,
    version_id: String,
    route_id: Option<String>,
    fields: RouteForm,
) -> Result<Vec<(String, String)>, AppError> {
    let actor = crate::ports::actor()?;
    let version_id = super::parse_id("version_id", &version_id)?;
    let route_id = route_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(|id| uuid::Uuid::parse_str(id).ok());
    let (input, mut errors) = fields.parse();
    let problems = crate::ports::gateways()?
        .check_route(&actor, &package_id, version_id, route_id, input.clone())
        .await?;
    for (field, message) in problems {
        let (field, message) = route_problem(&input, &field, &message);
        // A field that could not be read is checked with its default: keep its own error.
        if !errors.iter().any(|(f, _)| *f == field) {
            errors.push((field, message));
        }
    }
    Ok(errors)
}

#[server(prefix = "/rpc", endpoint = "gateway/routes/delete")]
pub async fn delete_route(
    package_id: String,
    version_id: String,
    route_id: String,
) -> Result<(), AppError> {
    let actor = crate::ports::actor()?;
    let version_id = super::parse_id("version_id", &version_id)?;
    let route_id = super::parse_id("route_id", &route_id)?;
    crate::ports::gateways()?
        .delete_route(&actor, &package_id, version_id, route_id)
        .await?;
    super::redirect(&version_page(&actor, &package_id, version_id).await);
    Ok(())
}

/// The data plane section of a runtime group's page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataPlanesPanel {
    pub gateway: GroupGateway,
    /// The secret of the token just created by a form posted without JavaScript,
    /// shown once.
    pub new_secret: Option<String>,
    /// This control plane's origin as the browser reached it (`http://host:port`),
    /// for the `portico gateway` example.
    pub control_plane: String,
}

/// A data plane token just created travels to the next page (a form posted without
/// JavaScript) in this short-lived cookie, tied to its group: `<group id>.<secret>`.
#[cfg(feature = "ssr")]
const NEW_DP_TOKEN_COOKIE: &str = "portico_new_dp_token";

#[cfg(feature = "ssr")]
fn accepts_html() -> bool {
    crate::ports::request_parts().is_some_and(|p| {
        p.headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    })
}

#[server(prefix = "/rpc", endpoint = "gateway/group", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_group_gateway(group: String) -> Result<DataPlanesPanel, AppError> {
    let actor = crate::ports::actor()?;
    let gateway = crate::ports::gateways()?
        .group_gateway(&actor, &group)
        .await?;
    let parts = crate::ports::request_parts();
    let flash = parts.as_ref().and_then(|p| {
        super::request_cookie(&p.headers, NEW_DP_TOKEN_COOKIE)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    });
    let mut new_secret = None;
    if let Some(flash) = flash {
        // Only the group the token belongs to shows it (and takes it).
        let group_id = crate::ports::catalog()?
            .get_runtime_group(&actor, &group)
            .await?
            .id
            .to_string();
        if let Some((g, secret)) = flash.split_once('.') {
            if g == group_id {
                new_secret = Some(secret.to_string());
                super::set_cookie(&format!(
                    "{NEW_DP_TOKEN_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
                ));
            }
        }
    }
    let control_plane = parts
        .as_ref()
        .and_then(|p| {
            let host = p
                .headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())?;
            let scheme = if super::is_https(&p.headers) {
                "https"
            } else {
                "http"
            };
            Some(format!("{scheme}://{host}"))
        })
        .unwrap_or_else(|| "http://127.0.0.1:3000".into());
    Ok(DataPlanesPanel {
        gateway,
        new_secret,
        control_plane,
    })
}

#[server(prefix = "/rpc", endpoint = "gateway/tokens/create")]
pub async fn create_dp_token(
    group: String,
    name: String,
) -> Result<CreatedDataPlaneToken, AppError> {
    let actor = crate::ports::actor()?;
    let created = crate::ports::gateways()?
        .create_data_plane_token(&actor, &group, NewDataPlaneToken { name })
        .await?;
    // Without JavaScript the page is loaded anew: the secret goes with it, once. With
    // JavaScript the page shows it from this answer, and stays where it is.
    if accepts_html() {
        super::set_cookie(&format!(
            "{NEW_DP_TOKEN_COOKIE}={}.{}; Path=/; HttpOnly; SameSite=Strict; Max-Age=120",
            created.token.runtime_group_id, created.secret
        ));
        super::redirect(&format!(
            "/runtime-groups/{}#data-planes",
            created.token.runtime_group_id
        ));
    }
    Ok(created)
}

#[server(prefix = "/rpc", endpoint = "gateway/tokens/revoke")]
pub async fn revoke_dp_token(group: String, token_id: String) -> Result<(), AppError> {
    let actor = crate::ports::actor()?;
    let id = super::parse_id("token_id", &token_id)?;
    crate::ports::gateways()?
        .revoke_data_plane_token(&actor, &group, id)
        .await?;
    if accepts_html() {
        super::redirect(&format!("/runtime-groups/{group}#data-planes"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_text_round_trips() {
        let form = RouteForm {
            name: Some(" orders ".into()),
            methods: Some("get, post\nput".into()),
            paths: Some("/a, /b\n~/c/\\d{1,3}$".into()),
            hosts: Some("a.example.com b.example.com".into()),
            headers: Some("X-Version: v1, v2\nx-a: ~*^a,b$".into()),
            protocols: Some(String::new()),
            strip_path: Some("on".into()),
            ..Default::default()
        };
        let (r, errors) = form.parse();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(r.name.as_deref(), Some("orders"));
        assert_eq!(r.methods, ["GET", "POST", "PUT"]);
        assert_eq!(r.paths, ["/a", "/b", "~/c/\\d{1,3}$"]);
        assert_eq!(r.hosts, ["a.example.com", "b.example.com"]);
        assert_eq!(r.headers["X-Version"], ["v1", "v2"]);
        assert_eq!(r.headers["x-a"], ["~*^a,b$"]);
        assert_eq!(r.protocols, ["http", "https"]);
        assert!(r.strip_path && !r.preserve_host);
        assert_eq!(r.https_redirect_status_code, 426);
        let (again, _) = RouteForm::from_input(&r).parse();
        assert_eq!(again, r);
    }

    #[test]
    fn unreadable_fields_are_named() {
        let form = RouteForm {
            headers: Some("no colon".into()),
            regex_priority: Some("high".into()),
            priority: Some("-1".into()),
            ..Default::default()
        };
        let (_, errors) = form.parse();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["headers", "regex_priority", "priority"]);
        assert!(errors[0].1.contains("Line 1"));
        let e = implementation_input("http://x", "5", "abc", "", "", true).unwrap_err();
        assert_eq!(e.field(), Some("connect_timeout"));
        let i = implementation_input("http://x", "", "", "", "1000", false).unwrap();
        assert_eq!((i.retries, i.write_timeout, i.enabled), (5, 1000, false));
    }

    #[test]
    fn matcher_fields_point_at_the_entry() {
        let r = RouteInput {
            paths: vec!["/a".into(), "b".into()],
            ..Default::default()
        };
        let (f, m) = route_problem(&r, "paths[1]", "path must start with `/`");
        assert_eq!(f, "paths");
        assert_eq!(m, "\"b\": Path must start with `/`.");
        let (f, m) = route_problem(&r, "headers.x-a[0]", "invalid regex");
        assert_eq!(
            (f.as_str(), m.as_str()),
            ("headers", "Header \"x-a\": Invalid regex.")
        );
        let (f, _) = route_problem(&r, "methods, hosts, headers, paths", "x");
        assert_eq!(f, "paths");
        let (f, m) = route_problem(&r, "name", "Taken.");
        assert_eq!((f.as_str(), m.as_str()), ("name", "Taken."));
    }
}
