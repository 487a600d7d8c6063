//! The gateway forms as text: the route and implementation forms send strings (one
//! entry per line or comma-separated, `Name: v1, v2` headers, checkboxes present or
//! not); the parsing here turns them into the domain's inputs and names the field of
//! anything it cannot read.

use std::collections::BTreeMap;

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

pub(crate) fn checked(v: &Option<String>) -> bool {
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
