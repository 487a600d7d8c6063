//! The rules of plugin entities, apart from the store: checking a plugin's fields
//! (its config with `portico_plugins::validate`, protocols, tags), Kong's PATCH merge
//! of a config, the DTO and audit summary (passwords left out), and which of the
//! plugins that apply to a route another one overrides (Kong's precedence).

use app::error::{AppError, FieldProblem};
use app::model::*;
use app::ports::Result;
use portico_plugins::snapshot::Scope;
use serde_json::{json, Value};

use crate::store::plugin;

/// A list stored as JSON text.
pub(super) fn list_to_text(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

pub(super) fn list_from_text(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

/// Kong's tag rule: each tag non-empty, printable, without `,` or `/`.
pub(super) fn check_tags(field: &str, tags: Option<Vec<String>>) -> Result<Vec<String>> {
    let tags = tags.unwrap_or_default();
    for (i, t) in tags.iter().enumerate() {
        if t.is_empty() || t.chars().count() > 128 {
            return Err(AppError::validation(
                format!("{field}[{i}]"),
                "length must be between 1 and 128",
            ));
        }
        if t.chars().any(|c| c.is_control() || c == ',' || c == '/') {
            return Err(AppError::validation(
                format!("{field}[{i}]"),
                format!("invalid tag '{t}': expected printable characters (except `,` and `/`)"),
            ));
        }
    }
    Ok(tags)
}

/// A plugin's fields, checked.
pub(super) struct Checked {
    pub name: PluginName,
    pub config: Value,
    pub enabled: bool,
    pub protocols: Vec<String>,
    pub tags: Vec<String>,
}

/// `config.minute` stays as it is; a bare `minute` gets its `config.` prefix.
pub(super) fn config_field(field: String) -> String {
    if field == "config" || field.starts_with("config.") || field.starts_with("config[") {
        field
    } else {
        format!("config.{field}")
    }
}

pub(super) fn plugin_name(name: &str) -> Result<PluginName> {
    PluginName::parse(name).ok_or_else(|| {
        let known: Vec<&str> = PluginName::ALL.iter().map(|p| p.as_str()).collect();
        AppError::validation(
            "name",
            format!(
                "plugin '{name}' not enabled; Portico's plugins are: {}",
                known.join(", ")
            ),
        )
    })
}

/// Checks every field of a plugin: the config with the plugin's schema (every broken
/// rule, each named by its dotted field; the first names the error), `protocols`
/// against the plugin's own, tags.
pub(super) fn check_plugin(
    name: &str,
    config: &Value,
    enabled: Option<bool>,
    protocols: Option<Vec<String>>,
    tags: Option<Vec<String>>,
) -> Result<Checked> {
    let name = plugin_name(name)?;
    let config = portico_plugins::validate(name, config).map_err(|errors| {
        let problems = errors
            .into_iter()
            .map(|e| FieldProblem {
                field: config_field(e.field),
                message: e.message,
            })
            .collect();
        AppError::validation_all(problems)
            .unwrap_or_else(|| AppError::validation("config", "the config is not valid"))
    })?;
    let allowed = name.default_protocols();
    let protocols = match protocols {
        None => allowed.iter().map(|p| (*p).to_owned()).collect(),
        Some(list) => {
            if list.is_empty() {
                return Err(AppError::validation(
                    "protocols",
                    "length must be at least 1",
                ));
            }
            let mut out: Vec<String> = Vec::new();
            for (i, p) in list.into_iter().enumerate() {
                if !allowed.contains(&p.as_str()) {
                    return Err(AppError::validation(
                        format!("protocols[{i}]"),
                        format!("expected one of: {}", allowed.join(", ")),
                    ));
                }
                if !out.contains(&p) {
                    out.push(p);
                }
            }
            out
        }
    };
    Ok(Checked {
        name,
        config,
        enabled: enabled.unwrap_or(true),
        protocols,
        tags: check_tags("tags", tags)?,
    })
}

/// Kong's PATCH of a config: objects merged key by key, anything else replaced.
pub(super) fn merge(into: &mut Value, patch: Value) {
    match (into, patch) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(slot) if v.is_object() && slot.is_object() => merge(slot, v),
                    _ => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

/// A config for the audit log: passwords (redis.password) replaced.
pub(super) fn redacted(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let v = if k.contains("password") && !v.is_null() {
                        json!("***")
                    } else {
                        redacted(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(redacted).collect()),
        other => other.clone(),
    }
}

pub(super) fn plugin_dto(m: plugin::Model) -> Plugin {
    Plugin {
        id: m.id,
        config: serde_json::from_str(&m.config).unwrap_or(Value::Null),
        name: m.name,
        enabled: m.enabled,
        protocols: list_from_text(&m.protocols),
        tags: list_from_text(&m.tags),
        runtime_group: EntityRef {
            id: m.runtime_group_id,
        },
        service: m.version_id.map(|id| EntityRef { id }),
        route: m.route_id.map(|id| EntityRef { id }),
        consumer: m.consumer_id.map(|id| EntityRef { id }),
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

pub(super) fn plugin_summary(p: &Plugin) -> Value {
    json!({
        "name": p.name,
        "enabled": p.enabled,
        "protocols": p.protocols,
        "tags": p.tags,
        "config": redacted(&p.config),
        "service": p.service.as_ref().map(|s| s.id),
        "route": p.route.as_ref().map(|r| r.id),
        "consumer": p.consumer.as_ref().map(|c| c.id),
    })
}

pub(super) fn scope_kind(version: bool, route: bool, consumer: bool) -> ScopeKind {
    match (route, version, consumer) {
        (true, _, true) => ScopeKind::RouteConsumer,
        (false, true, true) => ScopeKind::VersionConsumer,
        (false, false, true) => ScopeKind::Consumer,
        (true, _, false) => ScopeKind::Route,
        (false, true, false) => ScopeKind::Version,
        (false, false, false) => ScopeKind::RuntimeGroup,
    }
}

pub(super) fn scope_of(m: &plugin::Model) -> Scope {
    Scope {
        version_id: m.version_id.map(|u| u.to_string()),
        route_id: m.route_id.map(|u| u.to_string()),
        consumer_id: m.consumer_id.map(|u| u.to_string()),
    }
}

/// The plugins that apply, each with its scope and whether a more specific enabled
/// instance of the same plugin replaces it for every request it would see (Kong's
/// precedence: route+consumer > version+consumer > consumer > route > version >
/// group; an instance narrowed to a consumer replaces another only for that
/// consumer's requests, so it overrides only instances narrowed to the same one).
/// Highest priority first, then most specific first.
pub(super) fn applied(rows: Vec<plugin::Model>) -> Vec<AppliedPlugin> {
    let overridden = |m: &plugin::Model| {
        let rank = scope_of(m).rank();
        rows.iter().any(|o| {
            o.id != m.id
                && o.enabled
                && o.name == m.name
                && scope_of(o).rank() > rank
                && (m.consumer_id.is_none() && o.consumer_id.is_none()
                    || m.consumer_id.is_some() && o.consumer_id == m.consumer_id)
        })
    };
    let mut out: Vec<(u32, u8, AppliedPlugin)> = rows
        .iter()
        .map(|m| {
            let priority = PluginName::parse(&m.name)
                .map(|p| p.priority())
                .unwrap_or(0);
            let rank = scope_of(m).rank();
            let a = AppliedPlugin {
                scope: scope_kind(
                    m.version_id.is_some(),
                    m.route_id.is_some(),
                    m.consumer_id.is_some(),
                ),
                overridden: overridden(m),
                plugin: plugin_dto(m.clone()),
            };
            (priority, rank, a)
        })
        .collect();
    out.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    out.into_iter().map(|(_, _, a)| a).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_merges_records_and_replaces_the_rest() {
        let mut c = json!({"minute": 5, "redis": {"host": "a", "port": 6379}, "list": [1, 2]});
        merge(
            &mut c,
            json!({"hour": 10, "redis": {"host": "b"}, "list": [3], "minute": null}),
        );
        assert_eq!(
            c,
            json!({"minute": null, "hour": 10, "redis": {"host": "b", "port": 6379}, "list": [3]})
        );
    }

    #[test]
    fn passwords_are_not_audited() {
        let v = redacted(
            &json!({"redis": {"password": "s3cret", "host": "h"}, "x": [{"password": null}]}),
        );
        assert_eq!(
            v,
            json!({"redis": {"password": "***", "host": "h"}, "x": [{"password": null}]})
        );
    }
}
