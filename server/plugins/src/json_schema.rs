//! A plugin's config as a JSON Schema (draft 2020-12), generated from its
//! [`Schema`](crate::schema::Schema) for `GET /api/v1/plugin-schemas/{name}`.
//!
//! It describes what a client may send: every field may be left out or `null` (it then
//! takes its default), types, defaults, `enum`s, bounds, `minLength`, patterns and
//! Kong's descriptions; the entity checks as far as JSON Schema goes (`anyOf` for
//! `at_least_one_of`, `not` for `only_one_of`, `if`/`then` for conditional required
//! fields and `sync_rate`). Rate-limiting's period order and the checks of IPs,
//! hosts and `name:value` templates are only in [`crate::validate()`].

use serde_json::{json, Map, Value};

use crate::schema::{schema, Check, Field, FieldDefault, Kind, Rule, Schema};
use crate::schemas::REDIS_SHORTHANDS;
use crate::validate::default_value;
use crate::PluginName;

/// The JSON Schema of plugin `name`'s config.
pub fn json_schema(name: PluginName) -> Value {
    let s = schema(name);
    let mut root = record(s.fields);
    let Value::Object(obj) = &mut root else {
        return root;
    };
    obj.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    obj.insert(
        "$id".into(),
        json!(format!("/api/v1/plugin-schemas/{name}")),
    );
    obj.insert("title".into(), json!(format!("{name} config")));
    obj.insert("type".into(), json!("object"));
    if name == PluginName::RateLimiting {
        if let Some(Value::Object(props)) = obj.get_mut("properties") {
            for (flat, inner) in REDIS_SHORTHANDS {
                let mut p = s
                    .field(&format!("redis.{inner}"))
                    .map(property)
                    .unwrap_or_else(|| json!({}));
                if let Value::Object(p) = &mut p {
                    p.remove("default");
                    p.insert("deprecated".into(), json!(true));
                    p.insert(
                        "description".into(),
                        json!(format!("Deprecated: use `redis.{inner}`.")),
                    );
                }
                props.insert(flat.to_string(), p);
            }
        }
    }
    let all: Vec<Value> = s.checks.iter().filter_map(|c| check(s, c)).collect();
    if !all.is_empty() {
        obj.insert("allOf".into(), Value::Array(all));
    }
    root
}

fn record(fields: &[Field]) -> Value {
    let props: Map<String, Value> = fields
        .iter()
        .map(|f| (f.name.to_string(), property(f)))
        .collect();
    json!({ "type": ["object", "null"], "properties": props, "additionalProperties": false })
}

fn nullable(t: &str) -> Value {
    json!([t, "null"])
}

/// One field's schema.
fn property(f: &Field) -> Value {
    let mut p = match f.kind {
        Kind::Record(sub) => record(sub),
        Kind::Boolean => json!({ "type": nullable("boolean") }),
        Kind::Integer => json!({ "type": nullable("integer") }),
        Kind::Number => json!({ "type": nullable("number") }),
        Kind::String => {
            let mut s = json!({ "type": nullable("string") });
            string_rules(f.rules, &mut s);
            // `null` means the default, as for every field.
            if let Some(Value::Array(options)) = s.get_mut("enum") {
                options.push(Value::Null);
            }
            s
        }
        Kind::StringArray => {
            let mut items = json!({ "type": "string" });
            string_rules(f.rules, &mut items);
            json!({ "type": nullable("array"), "items": items })
        }
    };
    let Value::Object(obj) = &mut p else {
        return p;
    };
    for r in f.rules {
        match *r {
            Rule::Gt(n) => {
                obj.insert("exclusiveMinimum".into(), json!(n));
            }
            Rule::Positive => {
                obj.insert("exclusiveMinimum".into(), json!(0));
            }
            Rule::Between(a, b) => {
                obj.insert("minimum".into(), json!(a));
                obj.insert("maximum".into(), json!(b));
            }
            _ => {}
        }
    }
    if !f.hint.is_empty() {
        obj.insert("description".into(), json!(f.hint));
    }
    if f.default != FieldDefault::None || matches!(f.kind, Kind::Record(_)) {
        obj.insert("default".into(), default_value(f));
    }
    p
}

/// The string rules JSON Schema can say: `enum`, `minLength`, `pattern`, `format`.
fn string_rules(rules: &[Rule], s: &mut Value) {
    let Value::Object(obj) = s else { return };
    let mut len_min = 1;
    for r in rules {
        match *r {
            Rule::OneOf(options) => {
                obj.insert("enum".into(), json!(options));
            }
            Rule::LenMin(n) => len_min = n,
            Rule::HeaderName => {
                obj.insert("pattern".into(), json!("^[a-zA-Z0-9_-]+$"));
            }
            Rule::ColonPair => {
                obj.insert("pattern".into(), json!("^[^:]+:"));
            }
            Rule::UpperCase => {
                obj.insert("pattern".into(), json!("^[A-Z]+$"));
            }
            Rule::Path => {
                obj.insert("pattern".into(), json!("^/"));
            }
            Rule::AsteriskOrRegex => {
                obj.insert("format".into(), json!("regex"));
            }
            _ => {}
        }
    }
    if len_min > 0 {
        obj.insert("minLength".into(), json!(len_min));
    }
}

/// `{"required": [..], "properties": {..}}` saying that the field at `path` (dotted)
/// holds `inner`.
fn at_path(path: &str, inner: Value) -> Value {
    match path.split_once('.') {
        None => json!({ "required": [path], "properties": { path: inner } }),
        Some((head, rest)) => json!({
            "required": [head],
            "properties": { head: at_path(rest, inner) },
        }),
    }
}

/// Kong's `is_nonempty` for field `path`: given, not `null`, not an empty array or
/// string.
fn nonempty(s: &Schema, path: &str) -> Value {
    let inner = match s.field(path).map(|f| f.kind) {
        Some(Kind::StringArray) => json!({ "type": "array", "minItems": 1 }),
        Some(Kind::String) => json!({ "type": "string", "minLength": 1 }),
        _ => json!({ "not": { "type": "null" } }),
    };
    at_path(path, inner)
}

fn check(s: &Schema, c: &Check) -> Option<Value> {
    Some(match *c {
        Check::AtLeastOneOf(fields) => json!({
            "anyOf": fields.iter().map(|f| nonempty(s, f)).collect::<Vec<_>>(),
        }),
        Check::OnlyOneOf(fields) => json!({
            "not": { "allOf": fields.iter().map(|f| nonempty(s, f)).collect::<Vec<_>>() },
        }),
        Check::RequiredIf {
            if_field,
            equals,
            then_required,
        } => {
            // A field with a default is never missing (absent or `null` is the default).
            if s.field(then_required)
                .is_some_and(|f| f.default != FieldDefault::None)
            {
                return None;
            }
            json!({
            "if": at_path(if_field, json!({ "const": equals })),
                "then": at_path(then_required, json!({ "not": { "type": "null" } })),
            })
        }
        Check::SyncRate => json!({
            "if": at_path("policy", json!({ "const": "redis" })),
            "then": { "properties": { "sync_rate": {
                "anyOf": [{ "const": -1 }, { "type": "null" }, { "minimum": 0.02 }],
            } } },
            "else": { "properties": { "sync_rate": {
                "anyOf": [{ "const": -1 }, { "type": "null" }],
            } } },
        }),
        Check::PeriodOrder => return None,
    })
}
