//! Checking a plugin config as a client sent it, against the plugin's
//! [`Schema`](crate::schema::Schema): every broken rule at once with Kong's messages,
//! or the complete config with every default filled in (Kong's shape on `GET`: every
//! field present, absent optional ones as `null`).
//!
//! Field paths are dotted from `config`, array elements with a zero-based index in
//! brackets: `config.redis.port`, `config.allow[2]`. Checks across fields that Kong
//! reports on the entity (`at_least_one_of`, `only_one_of`) name `config`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use crate::rules;
use crate::schema::{schema, Check, Field, FieldDefault, Kind, Rule};
use crate::schemas::{PERIODS, REDIS_SHORTHANDS};
use crate::PluginName;

/// One broken rule: `field` is the path (`config.minute`, `config.allow[0]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Check `config` (a JSON object, or `null` for all defaults) for plugin `name`: every
/// broken rule at once, or the complete config with every default filled in, which
/// always deserializes with [`crate::config::PluginConfig::from_value`].
///
/// As Kong: unknown fields are errors; `null` for a field with a default means the
/// default; an `integer` refuses `1.5` but takes `2.0` (given back as `2`); a string
/// must not be empty unless its schema says so; rate-limiting's deprecated flat
/// `redis_*` fields are moved into `redis`.
pub fn validate(name: PluginName, config: &Value) -> Result<Value, Vec<FieldError>> {
    let s = schema(name);
    let mut errs = Vec::new();
    let input = if name == PluginName::RateLimiting {
        redis_shorthands(config)
    } else {
        config.clone()
    };
    let out = walk_record(s.fields, &input, "config", &mut errs);
    for check in s.checks {
        run_check(check, &out, &mut errs);
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(errs)
    }
}

/// Kong's `protocols` of a plugin: each value one of
/// [`allowed_protocols`](crate::schema::allowed_protocols) ("expected one of: …"), at
/// `protocols[i]`.
pub fn validate_protocols(name: PluginName, protocols: &[String]) -> Result<(), FieldError> {
    let allowed = crate::schema::allowed_protocols(name);
    for (i, p) in protocols.iter().enumerate() {
        if !allowed.contains(&p.as_str()) {
            return Err(FieldError::new(
                format!("protocols[{i}]"),
                format!("expected one of: {}", allowed.join(", ")),
            ));
        }
    }
    Ok(())
}

/// Kong's `PATCH`: `patch` applied onto `stored`, records (JSON objects) merged field
/// by field, everything else (arrays, scalars, `null`) replaced. Validate the result.
pub fn merge_patch(stored: &Value, patch: &Value) -> Value {
    match (stored, patch) {
        (Value::Object(s), Value::Object(p)) => {
            let mut out = s.clone();
            for (k, v) in p {
                let merged = match s.get(k) {
                    Some(old) => merge_patch(old, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        _ => patch.clone(),
    }
}

/// rate-limiting's `shorthand_fields`: `redis_host` etc. into `redis.host` (a value
/// given in `redis` wins).
fn redis_shorthands(config: &Value) -> Value {
    let Value::Object(obj) = config else {
        return config.clone();
    };
    if !REDIS_SHORTHANDS.iter().any(|(k, _)| obj.contains_key(*k)) {
        return config.clone();
    }
    let mut obj = obj.clone();
    let mut redis = match obj.get("redis") {
        Some(Value::Object(r)) => r.clone(),
        _ => Map::new(),
    };
    for (flat, inner) in REDIS_SHORTHANDS {
        if let Some(v) = obj.remove(flat) {
            if !v.is_null() && redis.get(inner).is_none_or(Value::is_null) {
                redis.insert(inner.to_string(), v);
            }
        }
    }
    if !matches!(obj.get("redis"), Some(v) if !v.is_null() && !v.is_object()) {
        obj.insert("redis".into(), Value::Object(redis));
    }
    Value::Object(obj)
}

fn walk_record(fields: &[Field], v: &Value, path: &str, errs: &mut Vec<FieldError>) -> Value {
    let empty = Map::new();
    let obj = match v {
        Value::Null => &empty,
        Value::Object(o) => o,
        _ => {
            errs.push(FieldError::new(path, "expected a record"));
            &empty
        }
    };
    for k in obj.keys() {
        if !fields.iter().any(|f| f.name == k) {
            errs.push(FieldError::new(format!("{path}.{k}"), "unknown field"));
        }
    }
    let mut out = Map::new();
    for f in fields {
        let p = format!("{path}.{}", f.name);
        let value = walk_field(f, obj.get(f.name).unwrap_or(&Value::Null), &p, errs);
        out.insert(f.name.to_string(), value);
    }
    Value::Object(out)
}

/// Plugin `name`'s config with every field at its default (`null` where it has none),
/// before the entity checks (for rate-limiting it is not valid: no period is set).
pub fn defaults(name: PluginName) -> Value {
    walk_record(schema(name).fields, &Value::Null, "config", &mut Vec::new())
}

/// A field's default as JSON (`null` when it has none).
pub fn default_value(f: &Field) -> Value {
    match f.default {
        FieldDefault::None => match f.kind {
            Kind::Record(sub) => walk_record(sub, &Value::Null, "", &mut Vec::new()),
            _ => Value::Null,
        },
        FieldDefault::Bool(b) => Value::Bool(b),
        FieldDefault::Int(i) => Value::from(i),
        FieldDefault::Num(n) => number(n),
        FieldDefault::Str(s) => Value::from(s),
        FieldDefault::Strs(v) => Value::from(v.to_vec()),
    }
}

/// A number as Kong prints it: `429`, not `429.0`.
fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        Number::from_f64(n)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

fn walk_field(f: &Field, v: &Value, path: &str, errs: &mut Vec<FieldError>) -> Value {
    if let Kind::Record(sub) = f.kind {
        return walk_record(sub, v, path, errs);
    }
    if v.is_null() {
        if f.default != FieldDefault::None {
            return default_value(f);
        }
        if f.required {
            errs.push(FieldError::new(path, "required field missing"));
        }
        return Value::Null;
    }
    match f.kind {
        Kind::Boolean => {
            if !v.is_boolean() {
                errs.push(FieldError::new(path, "expected a boolean"));
            }
            v.clone()
        }
        Kind::Integer => match integer(v) {
            Some(i) => {
                check_number(f.rules, i as f64, path, errs);
                Value::from(i)
            }
            None => {
                errs.push(FieldError::new(path, "expected an integer"));
                v.clone()
            }
        },
        Kind::Number => match v.as_f64() {
            Some(n) => {
                check_number(f.rules, n, path, errs);
                v.clone()
            }
            None => {
                errs.push(FieldError::new(path, "expected a number"));
                v.clone()
            }
        },
        Kind::String => {
            match v.as_str() {
                Some(s) => check_string(f.rules, s, path, errs),
                None => errs.push(FieldError::new(path, "expected a string")),
            }
            v.clone()
        }
        Kind::StringArray => {
            match v.as_array() {
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        let p = format!("{path}[{i}]");
                        match item.as_str() {
                            Some(s) => check_string(f.rules, s, &p, errs),
                            None => errs.push(FieldError::new(p, "expected a string")),
                        }
                    }
                }
                None => errs.push(FieldError::new(path, "expected an array")),
            }
            v.clone()
        }
        Kind::Record(sub) => walk_record(sub, v, path, errs),
    }
}

/// Kong's `integer`: a number without a fractional part.
fn integer(v: &Value) -> Option<i64> {
    if let Some(i) = v.as_i64() {
        return Some(i);
    }
    let n = v.as_f64()?;
    (n.fract() == 0.0 && n.abs() < 9.0e15).then_some(n as i64)
}

fn check_number(rules: &[Rule], n: f64, path: &str, errs: &mut Vec<FieldError>) {
    for r in rules {
        if let Some(msg) = rules::check_number(r, n) {
            errs.push(FieldError::new(path, msg));
        }
    }
}

fn check_string(rules_: &[Rule], s: &str, path: &str, errs: &mut Vec<FieldError>) {
    let len_min = rules_
        .iter()
        .find_map(|r| match r {
            Rule::LenMin(n) => Some(*n),
            _ => None,
        })
        .unwrap_or(1);
    if s.chars().count() < len_min {
        errs.push(FieldError::new(
            path,
            format!("length must be at least {len_min}"),
        ));
        return;
    }
    for r in rules_ {
        if let Some(msg) = rules::check_string(r, s) {
            errs.push(FieldError::new(path, msg));
            return;
        }
    }
}

/// The value at a dotted path below the config (`redis.host`).
fn get<'a>(config: &'a Value, path: &str) -> &'a Value {
    path.split('.')
        .try_fold(config, |v, k| v.get(k))
        .unwrap_or(&Value::Null)
}

/// Kong's `is_nonempty`: not null, not an empty array, string or record.
fn nonempty(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Array(a) => !a.is_empty(),
        Value::String(s) => !s.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

fn quoted(fields: &[&str]) -> String {
    fields
        .iter()
        .map(|f| format!("'config.{f}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn has_error(errs: &[FieldError], path: &str) -> bool {
    errs.iter().any(|e| e.field == path)
}

fn run_check(check: &Check, c: &Value, errs: &mut Vec<FieldError>) {
    match *check {
        Check::AtLeastOneOf(fields) => {
            if !fields.iter().any(|f| nonempty(get(c, f))) {
                errs.push(FieldError::new(
                    "config",
                    format!(
                        "at least one of these fields must be non-empty: {}",
                        quoted(fields)
                    ),
                ));
            }
        }
        Check::OnlyOneOf(fields) => {
            // Kong runs it only when every field is given (`run_with_missing_fields =
            // false`).
            let given = fields.iter().all(|f| !get(c, f).is_null());
            let n = fields.iter().filter(|f| nonempty(get(c, f))).count();
            if given && n != 1 {
                errs.push(FieldError::new(
                    "config",
                    format!(
                        "exactly one of these fields must be non-empty: {}",
                        quoted(fields)
                    ),
                ));
            }
        }
        Check::RequiredIf {
            if_field,
            equals,
            then_required,
        } => {
            let path = format!("config.{then_required}");
            if get(c, if_field).as_str() == Some(equals)
                && get(c, then_required).is_null()
                && !has_error(errs, &path)
            {
                errs.push(FieldError::new(path, "required field missing"));
            }
        }
        Check::PeriodOrder => {
            let valid = |p: &str| {
                let path = format!("config.{p}");
                if has_error(errs, &path) {
                    None
                } else {
                    get(c, p).as_f64()
                }
            };
            let limits: Vec<Option<f64>> = PERIODS.iter().map(|p| valid(p)).collect();
            for (j, upper) in PERIODS.iter().enumerate() {
                let Some(v2) = limits[j] else { continue };
                let lower = (0..j).find(|&i| matches!(limits[i], Some(v1) if v2 < v1));
                if let Some(i) = lower {
                    errs.push(FieldError::new(
                        format!("config.{upper}"),
                        format!("must not be lower than config.{}", PERIODS[i]),
                    ));
                }
            }
        }
        Check::SyncRate => {
            if has_error(errs, "config.sync_rate") {
                return;
            }
            let Some(rate) = get(c, "sync_rate").as_f64() else {
                return;
            };
            let redis = get(c, "policy").as_str() == Some("redis");
            if !redis && rate != -1.0 {
                errs.push(FieldError::new(
                    "config.sync_rate",
                    "sync_rate can only be used with the redis policy",
                ));
            } else if redis && rate != -1.0 && rate < 0.02 {
                errs.push(FieldError::new(
                    "config.sync_rate",
                    "sync_rate must be greater than 0.02, or -1 to disable",
                ));
            }
        }
    }
}
