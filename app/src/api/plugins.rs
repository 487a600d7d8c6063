//! The Plugins cards: the plugins of a runtime group, a version, a route or a
//! consumer, and those that apply to a version or route from other scopes. Forms post
//! their scope as text (`group`, `package`, `version_id`, `route_id`, `consumer`) and
//! the config as dotted names (`config.minute`); `plugin_forms` reads them. Every form
//! posts without JavaScript and comes back to its card (`#plugins`).

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::*;

use super::plugin_forms::ConfigField;
#[cfg(feature = "ssr")]
use super::plugin_forms::{config_fields, config_summary, form_pairs_for, input_of};

/// Where a Plugins card is, as its forms post it. The most specific given wins:
/// consumer (with `group`), route, version (with `package`), group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeForm {
    /// A runtime group's id or name.
    #[serde(default)]
    pub group: Option<String>,
    /// A service package's key or id.
    #[serde(default)]
    pub package: Option<String>,
    #[serde(default)]
    pub version_id: Option<String>,
    #[serde(default)]
    pub route_id: Option<String>,
    /// A consumer's id or username.
    #[serde(default)]
    pub consumer: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl ScopeForm {
    /// Which card: `group`, `version`, `route` or `consumer` (the anchor's suffix).
    pub fn kind(&self) -> &'static str {
        if given(&self.consumer).is_some() {
            "consumer"
        } else if given(&self.route_id).is_some() {
            "route"
        } else if given(&self.version_id).is_some() {
            "version"
        } else {
            "group"
        }
    }

    /// The page the card is on, with its anchor.
    pub fn page(&self) -> String {
        let seg = |v: &Option<String>| segment(given(v).unwrap_or(""));
        match self.kind() {
            "consumer" => format!(
                "/runtime-groups/{}/consumers/{}#plugins",
                seg(&self.group),
                seg(&self.consumer)
            ),
            "route" => format!(
                "/service-hub/{}/versions/{}?edit={}#route-plugins",
                seg(&self.package),
                seg(&self.version_id),
                seg(&self.route_id)
            ),
            "version" => format!(
                "/service-hub/{}/versions/{}#plugins",
                seg(&self.package),
                seg(&self.version_id)
            ),
            _ => format!("/runtime-groups/{}#plugins", seg(&self.group)),
        }
    }

    /// The domain's scope.
    #[cfg(feature = "ssr")]
    pub fn scope(&self) -> Result<PluginScope, AppError> {
        let text = |v: &Option<String>, field: &str| {
            given(v)
                .map(str::to_string)
                .ok_or_else(|| AppError::validation(field, format!("The {field} is missing.")))
        };
        Ok(match self.kind() {
            "consumer" => PluginScope::Consumer {
                group: text(&self.group, "group")?,
                consumer: text(&self.consumer, "consumer")?,
            },
            "route" => PluginScope::Route {
                package: text(&self.package, "package")?,
                version_id: super::parse_id("version_id", &text(&self.version_id, "version_id")?)?,
                route_id: super::parse_id("route_id", &text(&self.route_id, "route_id")?)?,
            },
            "version" => PluginScope::Version {
                package: text(&self.package, "package")?,
                version_id: super::parse_id("version_id", &text(&self.version_id, "version_id")?)?,
            },
            _ => PluginScope::RuntimeGroup {
                group: text(&self.group, "group")?,
            },
        })
    }
}

/// A path segment, percent-encoded.
fn segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
        .to_string()
        .replace("%2D", "-")
        .replace("%5F", "_")
        .replace("%2E", ".")
        .replace("%7E", "~")
}

/// A plugin configured on the card's own scope, as its table shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginRow {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    /// The settings that differ from the defaults.
    pub summary: String,
    pub tags: Vec<String>,
}

/// A plugin that applies from another scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppliedRow {
    pub row: PluginRow,
    /// "runtime group", "version", "consumer" …
    pub from: String,
    /// Where it is configured (a link), when it is a page of this UI.
    pub href: Option<String>,
    /// A more specific instance of the same plugin wins for every request.
    pub overridden: bool,
}

/// The add or edit form of a plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginFormSpec {
    pub name: String,
    /// Empty for a new plugin.
    pub plugin_id: String,
    pub enabled: bool,
    pub tags: String,
    pub fields: Vec<ConfigField>,
    /// Every broken rule of what was posted last, field by field (Kong's messages).
    pub errors: Vec<(String, String)>,
}

/// A Plugins card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginsPanel {
    pub rows: Vec<PluginRow>,
    pub applied: Vec<AppliedRow>,
    /// The plugins that can still be added here.
    pub available: Vec<String>,
    pub form: Option<PluginFormSpec>,
}

#[cfg(feature = "ssr")]
fn plugin_name(name: &str) -> Result<PluginName, AppError> {
    PluginName::parse(name.trim())
        .ok_or_else(|| AppError::validation("name", format!("There is no plugin \"{name}\".")))
}

#[cfg(feature = "ssr")]
fn row(p: &Plugin) -> PluginRow {
    let summary = PluginName::parse(&p.name)
        .map(|n| config_summary(n, &p.config))
        .unwrap_or_default();
    PluginRow {
        id: p.id.to_string(),
        name: p.name.clone(),
        enabled: p.enabled,
        summary,
        tags: p.tags.clone(),
    }
}

#[cfg(feature = "ssr")]
fn scope_label(s: ScopeKind) -> &'static str {
    match s {
        ScopeKind::RuntimeGroup => "runtime group",
        ScopeKind::Version => "version",
        ScopeKind::Route => "route",
        ScopeKind::Consumer => "consumer",
        ScopeKind::VersionConsumer => "version + consumer",
        ScopeKind::RouteConsumer => "route + consumer",
    }
}

/// The config the posted form describes, validated with Kong's rules: the complete
/// config, or every broken rule on the input it is about.
#[cfg(feature = "ssr")]
fn check(
    name: PluginName,
    posted: &BTreeMap<String, String>,
    stored: Option<&serde_json::Value>,
) -> Result<serde_json::Value, Vec<(String, String)>> {
    let pairs = form_pairs_for(name, posted, stored);
    portico_plugins::config_from_form(name, &pairs).map_err(|errors| {
        let mut out: Vec<(String, String)> = Vec::new();
        for e in errors {
            let input = input_of(&e.field);
            // One message per input: the first.
            if !out.iter().any(|(f, _)| *f == input) {
                out.push((input, e.message));
            }
        }
        out
    })
}

/// The Plugins card of a scope. `add`: the plugin whose add form is open; `edit`: the
/// id of the plugin whose edit form is open; `posted`: the fields of a refused post
/// (shown again, with every broken rule).
#[server(prefix = "/rpc", endpoint = "plugins/panel", input = leptos::server_fn::codec::Json)]
pub async fn load_plugins(
    scope: ScopeForm,
    add: Option<String>,
    edit: Option<String>,
    posted: Option<Vec<(String, String)>>,
) -> Result<PluginsPanel, AppError> {
    let actor = crate::ports::actor()?;
    let domain_scope = scope.scope()?;
    let gateways = crate::ports::gateways()?;
    // Only this exact scope: the store's list of a group also holds its consumers'
    // plugins, and a version's or route's its consumer-narrowed ones (those are listed
    // under "Also applied here").
    let plugins: Vec<Plugin> = gateways
        .list_plugins(&actor, domain_scope.clone())
        .await?
        .into_iter()
        .filter(|p| match &domain_scope {
            PluginScope::RuntimeGroup { .. } => {
                p.service.is_none() && p.route.is_none() && p.consumer.is_none()
            }
            PluginScope::Consumer { .. } => p.service.is_none() && p.route.is_none(),
            _ => p.consumer.is_none(),
        })
        .collect();
    let applied = match &domain_scope {
        PluginScope::Version {
            package,
            version_id,
        } => gateways
            .applied_plugins(&actor, package, *version_id, None)
            .await?
            .into_iter()
            .filter(|a| a.scope != ScopeKind::Version)
            .collect(),
        PluginScope::Route {
            package,
            version_id,
            route_id,
        } => gateways
            .applied_plugins(&actor, package, *version_id, Some(*route_id))
            .await?
            .into_iter()
            .filter(|a| a.scope != ScopeKind::Route)
            .collect(),
        _ => Vec::new(),
    };
    let applied = applied
        .into_iter()
        .map(|a| {
            let href = match a.scope {
                ScopeKind::RuntimeGroup => Some(format!(
                    "/runtime-groups/{}#plugins",
                    a.plugin.runtime_group.id
                )),
                ScopeKind::Consumer => a.plugin.consumer.as_ref().map(|c| {
                    format!(
                        "/runtime-groups/{}/consumers/{}#plugins",
                        a.plugin.runtime_group.id, c.id
                    )
                }),
                _ => None,
            };
            AppliedRow {
                row: row(&a.plugin),
                from: scope_label(a.scope).to_string(),
                href,
                overridden: a.overridden,
            }
        })
        .collect();
    let consumer_scope = matches!(domain_scope, PluginScope::Consumer { .. });
    let available = PluginName::ALL
        .into_iter()
        .filter(|n| !consumer_scope || n.allows_consumer_scope())
        .filter(|n| !plugins.iter().any(|p| p.name == n.as_str()))
        .map(|n| n.as_str().to_string())
        .collect();

    let posted: Option<BTreeMap<String, String>> = posted.map(|p| p.into_iter().collect());
    let form = if let Some(posted) = posted {
        let name = plugin_name(posted.get("name").map(String::as_str).unwrap_or(""))?;
        let plugin_id = posted.get("plugin_id").cloned().unwrap_or_default();
        let stored = plugins
            .iter()
            .find(|p| p.id.to_string() == plugin_id)
            .map(|p| &p.config);
        let errors = check(name, &posted, stored).err().unwrap_or_default();
        Some(PluginFormSpec {
            name: name.as_str().to_string(),
            plugin_id,
            enabled: super::gateway_forms::checked(&posted.get("enabled").cloned()),
            tags: posted.get("tags").cloned().unwrap_or_default(),
            fields: config_fields(name, None, Some(&posted)),
            errors,
        })
    } else if let Some(p) = edit
        .as_deref()
        .and_then(|id| plugins.iter().find(|p| p.id.to_string() == id))
        // A plugin configured here already opens as an edit (one per scope).
        .or_else(|| {
            add.as_deref()
                .and_then(|n| plugins.iter().find(|p| p.name == n))
        })
    {
        let name = plugin_name(&p.name)?;
        Some(PluginFormSpec {
            name: p.name.clone(),
            plugin_id: p.id.to_string(),
            enabled: p.enabled,
            tags: p.tags.join(", "),
            fields: config_fields(name, Some(&p.config), None),
            errors: Vec::new(),
        })
    } else if let Some(name) = add.as_deref().filter(|n| !n.is_empty()) {
        let name = plugin_name(name)?;
        Some(PluginFormSpec {
            name: name.as_str().to_string(),
            plugin_id: String::new(),
            enabled: true,
            tags: String::new(),
            fields: config_fields(name, None, None),
            errors: Vec::new(),
        })
    } else {
        None
    };
    Ok(PluginsPanel {
        rows: plugins.iter().map(row).collect(),
        applied,
        available,
        form,
    })
}

/// A plugin's form as posted: its scope, name, id (empty for a new one), and the config
/// fields by their dotted names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PluginPost {
    #[serde(flatten)]
    pub scope: ScopeForm,
    pub name: String,
    #[serde(default)]
    pub plugin_id: Option<String>,
    #[serde(default)]
    pub enabled: Option<String>,
    #[serde(default)]
    pub tags: Option<String>,
    /// `config.*` fields, and anything else the form sent.
    #[serde(flatten)]
    pub fields: BTreeMap<String, String>,
}

/// Adds a plugin (no `plugin_id`) or replaces one, then goes back to its card. A config
/// that breaks rules is refused with all of them (`fields`), each on its input.
#[server(prefix = "/rpc", endpoint = "plugins/save")]
pub async fn save_plugin(#[server(flatten)] form: PluginPost) -> Result<Plugin, AppError> {
    let actor = crate::ports::actor()?;
    let name = plugin_name(&form.name)?;
    let gateways = crate::ports::gateways()?;
    let plugin_id = match given(&form.plugin_id) {
        Some(id) => Some(super::parse_id("plugin_id", id)?),
        None => None,
    };
    let stored = match plugin_id {
        Some(id) => Some(gateways.get_plugin(&actor, id).await?),
        None => None,
    };
    let config =
        check(name, &form.fields, stored.as_ref().map(|p| &p.config)).map_err(|errors| {
            let problems = errors
                .into_iter()
                .map(|(field, message)| crate::error::FieldProblem { field, message })
                .collect();
            AppError::validation_all(problems)
                .unwrap_or_else(|| AppError::validation("config", "the config is not valid"))
        })?;
    let tags = super::gateway_forms::split_words(form.tags.as_deref().unwrap_or(""));
    let input = PluginInput {
        name: name.as_str().to_string(),
        config: Some(config),
        enabled: Some(super::gateway_forms::checked(&form.enabled)),
        protocols: stored.as_ref().map(|p| p.protocols.clone()),
        tags: Some(tags),
        consumer: stored.as_ref().and_then(|p| p.consumer.clone()),
    };
    let saved = match plugin_id {
        Some(id) => gateways.replace_plugin(&actor, id, input).await?,
        None => {
            gateways
                .create_plugin(&actor, form.scope.scope()?, input)
                .await?
        }
    };
    super::redirect(&form.scope.page());
    Ok(saved)
}

/// Every rule the config in the form breaks, field by field, without saving (for the
/// form's check as the user types).
#[server(prefix = "/rpc", endpoint = "plugins/check", input = leptos::server_fn::codec::Json)]
pub async fn check_plugin_form(
    name: String,
    fields: Vec<(String, String)>,
) -> Result<Vec<(String, String)>, AppError> {
    crate::ports::actor()?;
    let name = plugin_name(&name)?;
    let posted: BTreeMap<String, String> = fields.into_iter().collect();
    Ok(check(name, &posted, None).err().unwrap_or_default())
}

/// Turns a plugin on or off.
#[server(prefix = "/rpc", endpoint = "plugins/enable")]
pub async fn set_plugin_enabled(
    #[server(flatten)] scope: ScopeForm,
    plugin_id: String,
    enabled: String,
) -> Result<Plugin, AppError> {
    let actor = crate::ports::actor()?;
    let id = super::parse_id("plugin_id", &plugin_id)?;
    let patch = PluginPatch {
        enabled: Some(enabled == "true"),
        ..Default::default()
    };
    let saved = crate::ports::gateways()?
        .patch_plugin(&actor, id, patch)
        .await?;
    super::redirect(&scope.page());
    Ok(saved)
}

#[server(prefix = "/rpc", endpoint = "plugins/delete")]
pub async fn delete_plugin(
    #[server(flatten)] scope: ScopeForm,
    plugin_id: String,
) -> Result<(), AppError> {
    let actor = crate::ports::actor()?;
    let id = super::parse_id("plugin_id", &plugin_id)?;
    crate::ports::gateways()?.delete_plugin(&actor, id).await?;
    super::redirect(&scope.page());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_card_comes_back_to_itself() {
        let mut s = ScopeForm {
            group: Some("7f1c".into()),
            ..Default::default()
        };
        assert_eq!(s.page(), "/runtime-groups/7f1c#plugins");
        s.package = Some("orders api".into());
        s.version_id = Some("v-1".into());
        assert_eq!(s.kind(), "version");
        assert_eq!(s.page(), "/service-hub/orders%20api/versions/v-1#plugins");
        s.route_id = Some("r1".into());
        assert_eq!(
            s.page(),
            "/service-hub/orders%20api/versions/v-1?edit=r1#route-plugins"
        );
        let c = ScopeForm {
            group: Some("g".into()),
            consumer: Some("a/b".into()),
            ..Default::default()
        };
        assert_eq!(c.page(), "/runtime-groups/g/consumers/a%2Fb#plugins");
    }
}
