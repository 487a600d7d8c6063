//! A plugin's config as an HTML form, generated from its
//! [`Schema`](crate::schema::Schema): one input per field, records flattened into
//! dotted names, and the way back from urlencoded pairs to a validated config.
//!
//! Form conventions (for the UI that renders them):
//! - input names are the field paths of [`FieldError`](crate::FieldError):
//!   `config.minute`, `config.redis.host`, so an error lands on its input (an
//!   element's error, `config.allow[2]`, on the input named before the `[`);
//! - an empty input means "not set": the field's default, or `null`;
//! - a [`FormKind::Lines`] field (a string array) is a textarea with one item per
//!   line (blank lines skipped, each line trimmed); no comma splitting, since regexes
//!   and `name:value` items may hold commas;
//! - a [`FormKind::Checkbox`] field: render a hidden input `value="false"` before the
//!   checkbox `value="true"` with the same name: when several values come for one
//!   name the last wins, so an unchecked box sends `false` without JavaScript.
//!   `true`/`on`/`1` and `false`/`off`/`0` are understood;
//! - pairs whose name does not start with `config.` (name, enabled, protocols, a CSRF
//!   token) are ignored here; an unknown `config.` name is an "unknown field".

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::schema::{schema, Field, Kind, Rule};
use crate::validate::{default_value, validate, FieldError};
use crate::PluginName;

/// The input to render for a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormKind {
    /// A checkbox (with a hidden `false` before it).
    Checkbox,
    /// `<input type="number" step="1">`.
    Integer,
    /// `<input type="number" step="any">`.
    Number,
    /// `<input type="text">`.
    Text,
    /// A `<select>` of [`FormField::options`] (with an empty "not set" choice when the
    /// field has no default).
    Select,
    /// A textarea, one item per line.
    Lines,
}

/// One input of a plugin's form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormField {
    /// `config.redis.host`.
    pub name: String,
    pub kind: FormKind,
    /// The default as the input's text (`""`: none; lines joined with `\n`).
    pub default: String,
    /// Kong's description.
    pub hint: String,
    /// For [`FormKind::Select`], and the allowed items of a `Lines` field
    /// (cors `methods`, `json_types`).
    pub options: Vec<String>,
    /// Kong's `required` (a required field with a default may still be left empty).
    pub required: bool,
}

/// The inputs of plugin `name`'s form, in the schema's order.
pub fn form_fields(name: PluginName) -> Vec<FormField> {
    let mut out = Vec::new();
    flatten(schema(name).fields, "config", &mut out);
    out
}

fn flatten(fields: &[Field], prefix: &str, out: &mut Vec<FormField>) {
    for f in fields {
        let name = format!("{prefix}.{}", f.name);
        let options: Vec<String> = f
            .rules
            .iter()
            .find_map(|r| match r {
                Rule::OneOf(o) => Some(o.iter().map(|s| s.to_string()).collect()),
                _ => None,
            })
            .unwrap_or_default();
        let kind = match f.kind {
            Kind::Record(sub) => {
                flatten(sub, &name, out);
                continue;
            }
            Kind::Boolean => FormKind::Checkbox,
            Kind::Integer => FormKind::Integer,
            Kind::Number => FormKind::Number,
            Kind::String if !options.is_empty() => FormKind::Select,
            Kind::String => FormKind::Text,
            Kind::StringArray => FormKind::Lines,
        };
        out.push(FormField {
            name,
            kind,
            default: text(&default_value(f)),
            hint: f.hint.to_string(),
            options,
            required: f.required,
        });
    }
}

/// A JSON value as an input's text.
fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join("\n"),
        other => other.to_string(),
    }
}

/// The inputs' texts for a stored (complete) config, to fill an edit form:
/// `(name, text)` for every field of [`form_fields`].
pub fn form_values(name: PluginName, config: &Value) -> Vec<(String, String)> {
    form_fields(name)
        .into_iter()
        .map(|f| {
            let path = f.name.trim_start_matches("config.");
            let v = path
                .split('.')
                .try_fold(config, |v, k| v.get(k))
                .unwrap_or(&Value::Null);
            (f.name, text(v))
        })
        .collect()
}

/// A config from a form's urlencoded `pairs`, validated: the complete config, or
/// every error (a text that is not a number or boolean included).
pub fn config_from_form(
    name: PluginName,
    pairs: &[(String, String)],
) -> Result<Value, Vec<FieldError>> {
    let s = schema(name);
    // The last value of each name wins (hidden `false` + checkbox `true`).
    let mut last: Vec<(&str, &str)> = Vec::new();
    for (k, v) in pairs {
        let Some(path) = k.strip_prefix("config.") else {
            continue;
        };
        match last.iter_mut().find(|(p, _)| *p == path) {
            Some(slot) => slot.1 = v,
            None => last.push((path, v)),
        }
    }
    let mut config = Map::new();
    for (path, raw) in last {
        // A text that does not parse goes on as a string: `validate` names the field
        // and the expected type ("expected a number"), and the entity checks still
        // see the field as given. An unknown name too ("unknown field").
        let value = match s.field(path) {
            Some(f) => parse(f, raw).unwrap_or_else(|| Value::String(raw.to_string())),
            None => Value::String(raw.to_string()),
        };
        if !value.is_null() {
            insert(&mut config, path, value);
        }
    }
    validate(name, &Value::Object(config))
}

fn insert(obj: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            obj.insert(path.to_string(), value);
        }
        Some((head, rest)) => {
            let entry = obj
                .entry(head.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(inner) = entry {
                insert(inner, rest, value);
            }
        }
    }
}

/// One input's text as JSON (`null`: not set; `None`: not of the field's type).
fn parse(f: &Field, raw: &str) -> Option<Value> {
    let t = raw.trim();
    if t.is_empty() {
        return Some(Value::Null);
    }
    Some(match f.kind {
        Kind::Boolean => match t {
            "true" | "on" | "1" => Value::Bool(true),
            "false" | "off" | "0" => Value::Bool(false),
            _ => return None,
        },
        Kind::Integer => Value::from(t.parse::<i64>().ok()?),
        Kind::Number => match t.parse::<f64>().ok().filter(|n| n.is_finite())? {
            n if n.fract() == 0.0 && n.abs() < 9.0e15 => Value::from(n as i64),
            n => Value::from(n),
        },
        Kind::String => Value::String(raw.to_string()),
        Kind::StringArray => Value::Array(
            raw.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| Value::String(l.to_string()))
                .collect(),
        ),
        Kind::Record(_) => return None,
    })
}
