//! A plugin's config form as text: the fields are made from the plugin's JSON Schema
//! (`portico_plugins::json_schema`: type, default, enum, description; nested objects
//! for records such as `redis`), and the posted text is turned back into a config
//! for `portico_plugins::validate`. Field names are the config's dotted paths
//! (`config.minute`, `config.redis.host`), the names Kong's messages use.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What kind of control a config field gets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FieldKind {
    /// A checkbox (`"on"` when checked).
    Boolean,
    Integer,
    Number,
    Text,
    /// Text that is not shown again (`redis.password`): empty keeps the stored one.
    Secret,
    /// An array: one value per line.
    Lines,
    /// Kong's `one_of`: a select.
    Choice(Vec<String>),
    /// A nested record (`redis`): a fieldset of its own fields.
    Record(Vec<ConfigField>),
}

/// One field of a plugin's config form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigField {
    /// The form name, the config's dotted path: `config.redis.host`.
    pub name: String,
    /// Kong's field name (`host`).
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
    /// The default as text (`""`: none).
    pub default: String,
    /// Kong's description.
    pub hint: String,
    /// The text in the field (typed, stored, or the default).
    pub value: String,
}

impl ConfigField {
    /// Every field of the form, records flattened, in order.
    pub fn flat(fields: &[ConfigField]) -> Vec<&ConfigField> {
        let mut out = Vec::new();
        for f in fields {
            match &f.kind {
                FieldKind::Record(sub) => out.extend(ConfigField::flat(sub)),
                _ => out.push(f),
            }
        }
        out
    }
}

/// The config fields of a JSON Schema (the `config` property's, when the schema is a
/// whole plugin's), each showing `values[name]` when given, else `config`'s value,
/// else the default.
pub fn config_fields(
    schema: &Value,
    config: Option<&Value>,
    values: Option<&BTreeMap<String, String>>,
) -> Vec<ConfigField> {
    let root = schema
        .pointer("/properties/config")
        .filter(|c| c.get("properties").is_some())
        .unwrap_or(schema);
    fields_of(root, "config", config, values)
}

fn fields_of(
    schema: &Value,
    prefix: &str,
    config: Option<&Value>,
    values: Option<&BTreeMap<String, String>>,
) -> Vec<ConfigField> {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    for (key, prop) in props {
        let name = format!("{prefix}.{key}");
        let stored = config.and_then(|c| c.get(key)).filter(|v| !v.is_null());
        let default = prop.get("default").filter(|v| !v.is_null());
        let kind = match type_of(prop) {
            "boolean" => FieldKind::Boolean,
            "integer" => FieldKind::Integer,
            "number" => FieldKind::Number,
            "array" => FieldKind::Lines,
            "object" => FieldKind::Record(fields_of(prop, &name, stored, values)),
            _ => match enum_of(prop) {
                Some(options) => FieldKind::Choice(options),
                None if key.contains("password") => FieldKind::Secret,
                None => FieldKind::Text,
            },
        };
        let default_text = default.map(text_of).unwrap_or_default();
        let value = match (&kind, values) {
            (FieldKind::Record(_), _) => String::new(),
            (FieldKind::Secret, _) => String::new(),
            (_, Some(values)) => values.get(&name).cloned().unwrap_or_default(),
            (FieldKind::Boolean, None) => {
                let on = stored.or(default).and_then(Value::as_bool).unwrap_or(false);
                if on { "on" } else { "" }.to_string()
            }
            (_, None) => stored.or(default).map(text_of).unwrap_or_default(),
        };
        let hint = prop
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        out.push(ConfigField {
            name,
            label: key.clone(),
            kind,
            required: required.contains(&key.as_str()),
            default: default_text,
            hint,
            value,
        });
    }
    out
}

/// The JSON Schema `type` of a property (the first that is not `null`).
fn type_of(prop: &Value) -> &str {
    match prop.get("type") {
        Some(Value::String(t)) => t,
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("string"),
        _ if prop.get("properties").is_some() => "object",
        _ => "string",
    }
}

/// The allowed values of a string property (`enum`, or `oneOf` of `const`s).
fn enum_of(prop: &Value) -> Option<Vec<String>> {
    let values = prop.get("enum").and_then(Value::as_array)?;
    Some(
        values
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
    )
}

/// A config value as the form shows it: arrays one per line, whole numbers without
/// `.0`.
pub fn text_of(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        Value::Array(items) => items.iter().map(text_of).collect::<Vec<_>>().join("\n"),
        Value::Object(_) => v.to_string(),
    }
}

/// A short summary of the key settings of a config, for a table cell: the values
/// that differ from the defaults (`minute: 3, policy: local` for rate-limiting).
pub fn config_summary(schema: &Value, config: &Value) -> String {
    let fields = config_fields(schema, Some(config), None);
    let mut parts = Vec::new();
    for f in ConfigField::flat(&fields) {
        if f.value.is_empty() && f.default.is_empty() {
            continue;
        }
        if matches!(f.kind, FieldKind::Secret) {
            continue;
        }
        let shown = match f.kind {
            FieldKind::Boolean => {
                let on = f.value == "on";
                if on.to_string() == f.default {
                    continue;
                }
                on.to_string()
            }
            _ if f.value == f.default => continue,
            _ => f.value.replace('\n', ", "),
        };
        let label = f.name.trim_start_matches("config.");
        parts.push(format!("{label}: {shown}"));
    }
    parts.join(" · ")
}

/// The config the posted text describes (fields left empty take their defaults), and
/// every field that could not be read (Kong's words: "expected an integer").
/// `stored`: the config before, whose secrets an empty secret field keeps.
pub fn config_from_form(
    fields: &[ConfigField],
    posted: &BTreeMap<String, String>,
    stored: Option<&Value>,
) -> (Value, Vec<(String, String)>) {
    let mut errors = Vec::new();
    let config = record_from_form(fields, posted, stored, &mut errors);
    (Value::Object(config), errors)
}

fn record_from_form(
    fields: &[ConfigField],
    posted: &BTreeMap<String, String>,
    stored: Option<&Value>,
    errors: &mut Vec<(String, String)>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for f in fields {
        let text = posted.get(&f.name).map(|s| s.trim()).unwrap_or("");
        let value = match &f.kind {
            FieldKind::Boolean => Some(Value::Bool(matches!(text, "on" | "true" | "1" | "yes"))),
            FieldKind::Record(sub) => {
                let inner = stored.and_then(|s| s.get(&f.label));
                let rec = record_from_form(sub, posted, inner, errors);
                (!rec.is_empty()).then_some(Value::Object(rec))
            }
            _ if text.is_empty() => match &f.kind {
                FieldKind::Secret => stored.and_then(|s| s.get(&f.label)).cloned(),
                _ => None,
            },
            FieldKind::Integer => match text.parse::<i64>() {
                Ok(n) => Some(Value::from(n)),
                Err(_) => {
                    errors.push((f.name.clone(), "expected an integer".into()));
                    None
                }
            },
            FieldKind::Number => match text.parse::<f64>().ok().filter(|n| n.is_finite()) {
                Some(n) if n.fract() == 0.0 && n.abs() < 1e15 => Some(Value::from(n as i64)),
                Some(n) => Some(Value::from(n)),
                None => {
                    errors.push((f.name.clone(), "expected a number".into()));
                    None
                }
            },
            FieldKind::Lines => Some(Value::Array(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(|l| Value::String(l.to_string()))
                    .collect(),
            ))
            .filter(|a| a.as_array().is_some_and(|a| !a.is_empty())),
            FieldKind::Text | FieldKind::Secret | FieldKind::Choice(_) => {
                Some(Value::String(text.to_string()))
            }
        };
        if let Some(v) = value {
            out.insert(f.label.clone(), v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "minute": {"type": ["number", "null"], "description": "per minute"},
                "policy": {"type": "string", "enum": ["local", "redis"], "default": "local"},
                "fault_tolerant": {"type": "boolean", "default": true},
                "key_names": {"type": "array", "items": {"type": "string"}, "default": ["apikey"]},
                "redis": {"type": "object", "properties": {
                    "host": {"type": ["string", "null"]},
                    "port": {"type": "integer", "default": 6379},
                    "password": {"type": ["string", "null"]}
                }}
            },
            "required": ["policy"]
        })
    }

    #[test]
    fn the_form_shows_defaults_and_reads_back() {
        let fields = config_fields(&schema(), None, None);
        let flat = ConfigField::flat(&fields);
        let by = |n: &str| flat.iter().find(|f| f.name == n).copied().unwrap();
        assert_eq!(by("config.policy").kind, FieldKind::Choice(vec!["local".into(), "redis".into()]));
        assert!(by("config.policy").required);
        assert_eq!(by("config.fault_tolerant").value, "on");
        assert_eq!(by("config.key_names").value, "apikey");
        assert_eq!(by("config.redis.port").value, "6379");
        assert_eq!(by("config.redis.password").kind, FieldKind::Secret);
        assert_eq!(by("config.minute").hint, "per minute");

        let posted: BTreeMap<String, String> = [
            ("config.minute", "3"),
            ("config.policy", "redis"),
            ("config.key_names", "apikey\n x-key \n\n"),
            ("config.redis.host", "127.0.0.1"),
            ("config.redis.port", "6380"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let stored = json!({"redis": {"password": "s3cret"}});
        let (config, errors) = config_from_form(&fields, &posted, Some(&stored));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            config,
            json!({
                "minute": 3, "policy": "redis", "fault_tolerant": false,
                "key_names": ["apikey", "x-key"],
                "redis": {"host": "127.0.0.1", "port": 6380, "password": "s3cret"}
            })
        );
        // Shown again from the stored config: the secret never.
        let again = config_fields(&schema(), Some(&config), None);
        let flat = ConfigField::flat(&again);
        assert!(flat.iter().all(|f| !f.value.contains("s3cret")));
        assert_eq!(
            config_summary(&schema(), &config),
            "fault_tolerant: false · key_names: apikey, x-key · minute: 3 · policy: redis · redis.host: 127.0.0.1 · redis.port: 6380"
        );
    }

    #[test]
    fn unreadable_numbers_are_named() {
        let fields = config_fields(&schema(), None, None);
        let posted: BTreeMap<String, String> = [("config.minute", "three"), ("config.redis.port", "1.5")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (_, errors) = config_from_form(&fields, &posted, None);
        assert_eq!(
            errors,
            [
                ("config.minute".to_string(), "expected a number".to_string()),
                ("config.redis.port".to_string(), "expected an integer".to_string())
            ]
        );
    }
}
