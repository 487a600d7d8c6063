//! A plugin's config form as the UI renders it: the inputs of
//! `portico_plugins::form_fields` (one per field, in the schema's order, with Kong's
//! descriptions and defaults) grouped back into records (`redis` as a fieldset), with
//! the text each input shows; and the posted text turned into the pairs
//! `portico_plugins::config_from_form` validates. Input names are the config's dotted
//! paths (`config.minute`, `config.redis.host`), the names Kong's messages use.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use portico_plugins::{FormKind, PluginName};

/// What kind of control a config field gets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FieldKind {
    /// A checkbox (`value="true"`; absent means `false`).
    Boolean,
    Integer,
    Number,
    Text,
    /// Text that is never shown again (`redis.password`): empty keeps the stored one.
    Secret,
    /// An array: one value per line (`options`: the allowed items, when limited).
    Lines(Vec<String>),
    /// Kong's `one_of`: a select.
    Choice(Vec<String>),
    /// A nested record (`redis`): a fieldset of its own fields.
    Record(Vec<ConfigField>),
}

/// One field of a plugin's config form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigField {
    /// The input's name, the config's dotted path: `config.redis.host`.
    pub name: String,
    /// Kong's field name (`host`).
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
    /// The default as text (`""`: none).
    pub default: String,
    /// Kong's description.
    pub hint: String,
    /// The text in the input (typed, stored, or the default; `true`/`false` for a
    /// checkbox).
    pub value: String,
}

impl ConfigField {
    /// Every input of the form, records flattened, in order.
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

/// A field is a secret when its name says so (the form never shows its value).
fn is_secret(name: &str) -> bool {
    name.contains("password")
}

/// The form of plugin `name`: each input shows `values[name]` when given (a refused
/// post), else `config`'s value (an edit), else the default.
pub fn config_fields(
    name: PluginName,
    config: Option<&Value>,
    values: Option<&BTreeMap<String, String>>,
) -> Vec<ConfigField> {
    let stored: BTreeMap<String, String> = config
        .map(|c| portico_plugins::form_values(name, c).into_iter().collect())
        .unwrap_or_default();
    let mut root: Vec<ConfigField> = Vec::new();
    for f in portico_plugins::form_fields(name) {
        let secret = is_secret(&f.name);
        let kind = match f.kind {
            FormKind::Checkbox => FieldKind::Boolean,
            FormKind::Integer => FieldKind::Integer,
            FormKind::Number => FieldKind::Number,
            FormKind::Text if secret => FieldKind::Secret,
            FormKind::Text => FieldKind::Text,
            FormKind::Select => FieldKind::Choice(f.options.clone()),
            FormKind::Lines => FieldKind::Lines(f.options.clone()),
        };
        let value = if secret {
            String::new()
        } else if let Some(values) = values {
            match (values.get(&f.name), &kind) {
                (Some(v), _) => v.clone(),
                (None, FieldKind::Boolean) => "false".into(),
                (None, _) => String::new(),
            }
        } else if config.is_some() {
            stored.get(&f.name).cloned().unwrap_or_default()
        } else {
            f.default.clone()
        };
        let path: Vec<&str> = f.name.split('.').collect();
        let field = ConfigField {
            name: f.name.clone(),
            label: path.last().copied().unwrap_or("").to_string(),
            kind,
            required: f.required,
            default: f.default.clone(),
            hint: f.hint.clone(),
            value,
        };
        // `config.redis.host` goes into the record `redis` (made on its first field).
        insert(&mut root, &path, 1, field);
    }
    root
}

/// Puts `field` (at `path`) into the record of `path[..=depth]`, or here when it is a
/// field of this level.
fn insert(level: &mut Vec<ConfigField>, path: &[&str], depth: usize, field: ConfigField) {
    if depth + 1 >= path.len() {
        level.push(field);
        return;
    }
    let record = path[..=depth].join(".");
    let i = match level.iter().position(|r| r.name == record) {
        Some(i) => i,
        None => {
            level.push(ConfigField {
                name: record,
                label: path[depth].to_string(),
                kind: FieldKind::Record(Vec::new()),
                required: false,
                default: String::new(),
                hint: String::new(),
                value: String::new(),
            });
            level.len() - 1
        }
    };
    match &mut level[i].kind {
        FieldKind::Record(sub) => insert(sub, path, depth + 1, field),
        _ => level.push(field),
    }
}

/// The pairs to validate for what was posted: an absent checkbox is `false`, an empty
/// secret keeps the `stored` config's.
pub fn form_pairs_for(
    name: PluginName,
    posted: &BTreeMap<String, String>,
    stored: Option<&Value>,
) -> Vec<(String, String)> {
    let stored: BTreeMap<String, String> = stored
        .map(|c| portico_plugins::form_values(name, c).into_iter().collect())
        .unwrap_or_default();
    portico_plugins::form_fields(name)
        .into_iter()
        .map(|f| {
            let posted = posted.get(&f.name).map(|v| v.trim().to_string());
            let text = match (posted, f.kind) {
                (Some(v), _) if !v.is_empty() => v,
                (_, FormKind::Checkbox) => "false".into(),
                (_, _) if is_secret(&f.name) => stored.get(&f.name).cloned().unwrap_or_default(),
                _ => String::new(),
            };
            (f.name, text)
        })
        .collect()
}

/// The input a broken rule is about: `config.allow[2]` → `config.allow`.
pub fn input_of(field: &str) -> String {
    let f = field.split('[').next().unwrap_or(field);
    if f == "config" || f.starts_with("config.") {
        f.to_string()
    } else {
        format!("config.{f}")
    }
}

/// A short summary of a config for a table cell: the settings that differ from the
/// defaults (`minute: 3`), secrets left out.
pub fn config_summary(name: PluginName, config: &Value) -> String {
    let values: BTreeMap<String, String> = portico_plugins::form_values(name, config)
        .into_iter()
        .collect();
    portico_plugins::form_fields(name)
        .into_iter()
        .filter(|f| !is_secret(&f.name))
        .filter_map(|f| {
            let v = values.get(&f.name)?;
            (!v.is_empty() && *v != f.default).then(|| {
                format!(
                    "{}: {}",
                    f.name.trim_start_matches("config."),
                    v.replace('\n', ", ")
                )
            })
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Rate-limiting's form: records as fieldsets, defaults shown, the password never;
    /// what is posted reads back into Kong's config, an empty password keeping the
    /// stored one.
    #[test]
    fn the_form_shows_defaults_and_reads_back() {
        let fields = config_fields(PluginName::RateLimiting, None, None);
        let redis = fields
            .iter()
            .find(|f| f.name == "config.redis")
            .expect("a redis record");
        assert!(
            matches!(redis.kind, FieldKind::Record(ref sub) if sub.iter().any(|f| f.name == "config.redis.host"))
        );
        let flat = ConfigField::flat(&fields);
        let by = |n: &str| flat.iter().find(|f| f.name == n).copied().unwrap();
        assert!(
            matches!(by("config.policy").kind, FieldKind::Choice(ref o) if o.contains(&"redis".to_string()))
        );
        assert_eq!(by("config.policy").value, "local");
        assert_eq!(by("config.fault_tolerant").kind, FieldKind::Boolean);
        assert_eq!(by("config.fault_tolerant").value, "true");
        assert_eq!(by("config.redis.port").value, "6379");
        assert_eq!(by("config.redis.password").kind, FieldKind::Secret);
        assert!(!by("config.minute").hint.is_empty());

        let posted = map(&[
            ("config.minute", "3"),
            ("config.policy", "redis"),
            ("config.redis.host", "127.0.0.1"),
        ]);
        let stored = json!({"redis": {"password": "s3cret"}});
        let pairs = form_pairs_for(PluginName::RateLimiting, &posted, Some(&stored));
        let config = portico_plugins::config_from_form(PluginName::RateLimiting, &pairs)
            .expect("a valid config");
        assert_eq!(config["minute"], json!(3));
        assert_eq!(config["redis"]["host"], json!("127.0.0.1"));
        assert_eq!(config["redis"]["password"], json!("s3cret"));
        // The absent checkbox is `false`.
        assert_eq!(config["fault_tolerant"], json!(false));

        let again = config_fields(PluginName::RateLimiting, Some(&config), None);
        assert!(ConfigField::flat(&again)
            .iter()
            .all(|f| !f.value.contains("s3cret")));
        let summary = config_summary(PluginName::RateLimiting, &config);
        assert!(summary.contains("minute: 3"), "{summary}");
        assert!(!summary.contains("s3cret"), "{summary}");
    }

    /// A refused post shows what was typed, and Kong's message lands on its input.
    #[test]
    fn broken_rules_land_on_their_inputs() {
        let posted = map(&[("config.minute", "0"), ("config.hour", "abc")]);
        let fields = config_fields(PluginName::RateLimiting, None, Some(&posted));
        let flat = ConfigField::flat(&fields);
        assert_eq!(
            flat.iter().find(|f| f.name == "config.hour").unwrap().value,
            "abc"
        );
        let pairs = form_pairs_for(PluginName::RateLimiting, &posted, None);
        let errors = portico_plugins::config_from_form(PluginName::RateLimiting, &pairs)
            .expect_err("refused");
        let inputs: Vec<String> = errors.iter().map(|e| input_of(&e.field)).collect();
        assert!(inputs.contains(&"config.minute".to_string()), "{errors:?}");
        assert!(inputs.contains(&"config.hour".to_string()), "{errors:?}");
        assert_eq!(input_of("config.allow[2]"), "config.allow");
        assert_eq!(input_of("minute"), "config.minute");
    }
}
