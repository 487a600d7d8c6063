//! Checking a plugin config as a client sent it. (Placeholder: serde only; to be
//! replaced by the schema-driven checks with Kong's rules and messages.)

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::PluginConfig;
use crate::PluginName;

/// One broken rule: `field` is the dotted path (`config.minute`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Check `config` (a JSON object, or `null` for all defaults) for plugin `name`: every
/// broken rule at once, or the complete config with every default filled in.
pub fn validate(name: PluginName, config: &Value) -> Result<Value, Vec<FieldError>> {
    let v = if config.is_null() {
        Value::Object(Default::default())
    } else {
        config.clone()
    };
    match PluginConfig::from_value(name, v) {
        Ok(typed) => Ok(to_value(&typed)),
        Err(e) => Err(vec![FieldError {
            field: "config".into(),
            message: e.to_string(),
        }]),
    }
}

fn to_value(c: &PluginConfig) -> Value {
    let r = match c {
        PluginConfig::Cors(c) => serde_json::to_value(c),
        PluginConfig::KeyAuth(c) => serde_json::to_value(c),
        PluginConfig::IpRestriction(c) => serde_json::to_value(c),
        PluginConfig::RequestSizeLimiting(c) => serde_json::to_value(c),
        PluginConfig::Acl(c) => serde_json::to_value(c),
        PluginConfig::RateLimiting(c) => serde_json::to_value(c),
        PluginConfig::RequestTransformer(c) => serde_json::to_value(c),
        PluginConfig::ResponseTransformer(c) => serde_json::to_value(c),
        PluginConfig::Prometheus(c) => serde_json::to_value(c),
    };
    r.unwrap_or(Value::Null)
}

/// The JSON Schema of plugin `name`'s config (placeholder).
pub fn json_schema(name: PluginName) -> Value {
    serde_json::json!({ "title": name.as_str(), "type": "object" })
}
