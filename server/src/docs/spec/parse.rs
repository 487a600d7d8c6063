//! [`parse`]: text to a validated [`ParsedSpec`].

use std::collections::HashSet;

use app::error::AppError;
use serde_json::{Map, Value};

use super::load::load;
use super::refs::{lookup, pointer_string, pointer_tokens, walk_refs};
use super::{Dialect, ParsedSpec, SpecFormat, SPEC_MAX_BYTES};

/// How many distinct external references are listed in the warnings.
const MAX_EXTERNAL_WARNINGS: usize = 50;

const SUPPORTED: &str = "Swagger 2.0, OpenAPI 3.0.x and OpenAPI 3.1.x";

fn invalid(message: impl Into<String>) -> AppError {
    AppError::validation("spec", message)
}

/// Parses and validates an API spec (see the module docs for what is taken). Every
/// error is `AppError::validation("spec", …)` with a message meant for the user.
pub fn parse(text: &str) -> Result<ParsedSpec, AppError> {
    if text.len() > SPEC_MAX_BYTES {
        return Err(invalid(format!(
            "An API spec is at most 10 MB; this one is {:.1} MB.",
            text.len() as f64 / (1024.0 * 1024.0)
        )));
    }
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let start = body.trim_start();
    if start.is_empty() {
        return Err(invalid(
            "The API spec is empty: give an OpenAPI or Swagger document in YAML or JSON.",
        ));
    }
    // YAML is a superset of JSON, but a text that starts like JSON gets JSON's errors.
    let format = if start.starts_with('{') {
        SpecFormat::Json
    } else {
        SpecFormat::Yaml
    };
    let doc = load(body, format).map_err(invalid)?;
    let Some(root) = doc.as_object() else {
        return Err(invalid(format!(
            "This is not an OpenAPI or Swagger document: it is {}, not an object with an \
             `openapi` or `swagger` field.",
            describe(&doc)
        )));
    };
    let mut warnings = Vec::new();
    let (dialect, spec_version) = version(root, &mut warnings)?;
    let (title, api_version) = info(root, &mut warnings)?;
    check_paths(root, dialect)?;
    check_refs(&doc, dialect, &mut warnings)?;
    Ok(ParsedSpec {
        format,
        dialect,
        spec_version,
        title,
        api_version,
        warnings,
        doc,
    })
}

/// "a list", "a number"… for messages.
fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "empty",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a single text value",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The text of a version field: a string, or a number (YAML `openapi: 3.1` unquoted),
/// taken with a warning.
fn version_text(field: &str, v: &Value, warnings: &mut Vec<String>) -> Result<String, AppError> {
    match v {
        Value::String(s) => Ok(s.trim().to_string()),
        Value::Number(n) => {
            let s = n.to_string();
            warnings.push(format!(
                "`{field}` should be a string: write `{field}: \"{s}\"` (with quotes) in YAML."
            ));
            Ok(s)
        }
        other => Err(invalid(format!(
            "The `{field}` field must be a version string such as \"{}\", not {} (at #/{field}).",
            if field == "swagger" { "2.0" } else { "3.1.0" },
            describe(other)
        ))),
    }
}

fn version(
    root: &Map<String, Value>,
    warnings: &mut Vec<String>,
) -> Result<(Dialect, String), AppError> {
    if let Some(v) = root.get("openapi") {
        let s = version_text("openapi", v, warnings)?;
        return match openapi_minor(&s) {
            Some(0) => Ok((Dialect::OpenApi30, s)),
            Some(1) => Ok((Dialect::OpenApi31, s)),
            _ => Err(invalid(format!(
                "Unsupported OpenAPI version \"{s}\": supported are {SUPPORTED}."
            ))),
        };
    }
    if let Some(v) = root.get("swagger") {
        let s = version_text("swagger", v, warnings)?;
        return if s == "2.0" {
            Ok((Dialect::Swagger2, s))
        } else {
            Err(invalid(format!(
                "Unsupported Swagger version \"{s}\": supported are {SUPPORTED}."
            )))
        };
    }
    if let Some(v) = root.get("swaggerVersion") {
        let s = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        return Err(invalid(format!(
            "Unsupported Swagger version \"{s}\" (`swaggerVersion`): supported are {SUPPORTED}; \
             convert the document to Swagger 2.0 or OpenAPI 3 first."
        )));
    }
    Err(invalid(
        "This is not an OpenAPI or Swagger document: it has neither an `openapi` nor a \
         `swagger` field.",
    ))
}

/// 0 for "3.0", "3.0.3", "3.0.0-rc1"…, 1 for 3.1 likewise; `None` otherwise.
fn openapi_minor(s: &str) -> Option<u8> {
    let core = s.split_once('-').map_or(s, |(core, _)| core);
    let mut parts = core.split('.');
    let (major, minor, patch) = (parts.next()?, parts.next()?, parts.next());
    let patch_ok = patch.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if major != "3" || parts.next().is_some() || !patch_ok {
        return None;
    }
    match minor {
        "0" => Some(0),
        "1" => Some(1),
        _ => None,
    }
}

fn info(
    root: &Map<String, Value>,
    warnings: &mut Vec<String>,
) -> Result<(String, String), AppError> {
    let Some(info) = root.get("info").and_then(Value::as_object) else {
        return Err(invalid(if root.contains_key("info") {
            "`info` must be an object with `title` and `version` (at #/info)."
        } else {
            "`info` is missing (at #/info): an API spec needs `info.title` and `info.version`."
        }));
    };
    let title = match info.get("title") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => {
            return Err(invalid(
                "`info.title` is missing (at #/info/title): the API needs a title.",
            ))
        }
        Some(other) => {
            return Err(invalid(format!(
                "`info.title` must be a string, not {} (at #/info/title).",
                describe(other)
            )))
        }
    };
    let version = match info.get("version") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => {
            let s = n.to_string();
            warnings.push(format!(
                "`info.version` should be a string: write `version: \"{s}\"` (with quotes) in YAML."
            ));
            s
        }
        None | Some(Value::Null) => {
            return Err(invalid(
                "`info.version` is missing (at #/info/version): give the version of the API, \
                 e.g. \"1.0.0\".",
            ))
        }
        Some(other) => {
            return Err(invalid(format!(
                "`info.version` must be a string, not {} (at #/info/version).",
                describe(other)
            )))
        }
    };
    Ok((title, version))
}

fn check_paths(root: &Map<String, Value>, dialect: Dialect) -> Result<(), AppError> {
    for key in ["paths", "webhooks", "components", "definitions"] {
        if let Some(v) = root.get(key) {
            if v.is_null() {
                return Err(invalid(format!(
                    "`{key}` has no value (at #/{key}): write `{key}: {{}}` when there is none."
                )));
            }
            if !v.is_object() {
                return Err(invalid(format!(
                    "`{key}` must be an object, not {} (at #/{key}).",
                    describe(v)
                )));
            }
        }
    }
    if root.contains_key("paths") {
        return Ok(());
    }
    match dialect {
        Dialect::OpenApi31 => {
            if root.contains_key("webhooks") || root.contains_key("components") {
                Ok(())
            } else {
                Err(invalid(
                    "An OpenAPI 3.1 document needs at least one of `paths`, `webhooks` or \
                     `components` (at #/paths).",
                ))
            }
        }
        Dialect::OpenApi30 | Dialect::Swagger2 => Err(invalid(format!(
            "`paths` is missing (at #/paths): {} document must have it (it may be empty: `paths: {{}}`).",
            if dialect == Dialect::Swagger2 {
                "a Swagger 2.0"
            } else {
                "an OpenAPI 3.0"
            }
        ))),
    }
}

/// Every internal `$ref` must point at something; external ones become warnings.
fn check_refs(doc: &Value, dialect: Dialect, warnings: &mut Vec<String>) -> Result<(), AppError> {
    let mut broken: Option<(String, String)> = None;
    let mut broken_count = 0usize;
    let mut external_seen: HashSet<&str> = HashSet::new();
    let mut external_more = 0usize;
    let mut anchor_refs: Vec<(&str, String)> = Vec::new();
    let mut anchors: HashSet<&str> = HashSet::new();
    walk_refs(
        doc,
        dialect == Dialect::Swagger2,
        &mut Vec::new(),
        &mut |r, path| {
            if r.starts_with('#') {
                match pointer_tokens(r) {
                    Some(tokens) => {
                        if lookup(doc, &tokens).is_none() {
                            broken_count += 1;
                            if broken.is_none() {
                                broken = Some((r.to_string(), pointer_string(path)));
                            }
                        }
                    }
                    // `#name`: a JSON Schema anchor, checked once all are known.
                    None => anchor_refs.push((r, pointer_string(path))),
                }
            } else if external_seen.insert(r) {
                if external_seen.len() <= MAX_EXTERNAL_WARNINGS {
                    warnings.push(format!(
                        "External reference not resolved: {r} (at {})",
                        pointer_string(path)
                    ));
                } else {
                    external_more += 1;
                }
            }
        },
        &mut |a| {
            anchors.insert(a);
        },
    );
    if external_more > 0 {
        warnings.push(format!(
            "… and {external_more} more external references not resolved."
        ));
    }
    for (r, at) in anchor_refs {
        if !anchors.contains(&r[1..]) {
            broken_count += 1;
            if broken.is_none() {
                broken = Some((r.to_string(), at));
            }
        }
    }
    match broken {
        None => Ok(()),
        Some((r, at)) => {
            let mut message = format!("`$ref` {r} (at {at}) points to nothing.");
            if broken_count > 1 {
                message.push_str(&format!(
                    " {} more `$ref`{} point{} to nothing as well.",
                    broken_count - 1,
                    if broken_count == 2 { "" } else { "s" },
                    if broken_count == 2 { "s" } else { "" },
                ));
            }
            Err(invalid(message))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::openapi_minor;

    #[test]
    fn openapi_versions() {
        for (v, want) in [
            ("3.0.0", Some(0)),
            ("3.0.3", Some(0)),
            ("3.0", Some(0)),
            ("3.1.0", Some(1)),
            ("3.1.1-rc1", Some(1)),
            ("3.2.0", None),
            ("4.0.0", None),
            ("2.0", None),
            ("3.0.x", None),
            ("3.0.0.1", None),
            ("3", None),
            ("", None),
        ] {
            assert_eq!(openapi_minor(v), want, "{v}");
        }
    }
}
