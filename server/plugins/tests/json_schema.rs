//! The JSON Schema generated from the descriptors (`GET /api/v1/plugin-schemas/{name}`).
//! (Cross-checked by hand with Python's `jsonschema` 4.26, Draft 2020-12: the schemas
//! are valid and agree with `validate` on the cases below.)

use portico_plugins::{defaults, json_schema, schema, PluginName};
use serde_json::{json, Value};

#[test]
fn every_plugin_has_its_fields_defaults_and_descriptions() {
    for name in PluginName::ALL {
        let s = json_schema(name);
        assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
        assert_eq!(s["type"], "object");
        assert_eq!(s["additionalProperties"], false);
        let props = s["properties"].as_object().unwrap();
        let d = defaults(name);
        for f in schema(name).fields {
            let p = &props[f.name];
            assert_eq!(
                p.get("default").unwrap_or(&Value::Null),
                &d[f.name],
                "{name}.{}",
                f.name
            );
            if !f.hint.is_empty() {
                assert_eq!(p["description"], f.hint, "{name}.{}", f.name);
            }
        }
        let extra = props.len() - schema(name).fields.len();
        // Only rate-limiting's deprecated `redis_*` fields are beyond the descriptor.
        assert_eq!(
            extra,
            if name == PluginName::RateLimiting {
                9
            } else {
                0
            },
            "{name}"
        );
    }
}

#[test]
fn rate_limiting_rules_and_checks() {
    let s = json_schema(PluginName::RateLimiting);
    let p = &s["properties"];
    assert_eq!(p["minute"]["type"], json!(["number", "null"]));
    assert_eq!(p["minute"]["exclusiveMinimum"], json!(0));
    assert_eq!(p["error_code"]["exclusiveMinimum"], json!(0.0));
    assert_eq!(p["policy"]["enum"], json!(["local", "redis", null]));
    assert_eq!(p["policy"]["default"], "local");
    assert_eq!(p["redis"]["properties"]["port"]["minimum"], 0);
    assert_eq!(p["redis"]["properties"]["port"]["maximum"], 65535);
    assert_eq!(
        p["redis"]["properties"]["port"]["type"],
        json!(["integer", "null"])
    );
    assert_eq!(p["redis"]["default"]["port"], 6379);
    assert_eq!(p["redis_host"]["deprecated"], true);
    let all = s["allOf"].as_array().unwrap();
    // at_least_one_of the six periods.
    assert_eq!(all[0]["anyOf"].as_array().unwrap().len(), 6);
    assert_eq!(
        all[0]["anyOf"][1],
        json!({"required": ["minute"], "properties": {"minute": {"not": {"type": "null"}}}})
    );
    // policy redis => redis.host (port and timeout have defaults: never missing).
    assert!(all.contains(&json!({
        "if": {"required": ["policy"], "properties": {"policy": {"const": "redis"}}},
        "then": {"required": ["redis"], "properties": {"redis": {
            "required": ["host"], "properties": {"host": {"not": {"type": "null"}}}}}},
    })));
    assert!(!all
        .iter()
        .any(|c| c["then"]["properties"]["redis"]["required"] == json!(["port"])));
    assert!(all.contains(&json!({
        "if": {"required": ["limit_by"], "properties": {"limit_by": {"const": "header"}}},
        "then": {"required": ["header_name"], "properties": {"header_name": {"not": {"type": "null"}}}},
    })));
}

#[test]
fn acl_exactly_one_and_cors_items() {
    let s = json_schema(PluginName::Acl);
    let nonempty =
        |f: &str| json!({"required": [f], "properties": {f: {"type": "array", "minItems": 1}}});
    assert_eq!(
        s["allOf"],
        json!([
            {"not": {"allOf": [nonempty("allow"), nonempty("deny")]}},
            {"anyOf": [nonempty("allow"), nonempty("deny")]},
        ])
    );
    let c = json_schema(PluginName::Cors);
    assert_eq!(c["properties"]["methods"]["items"]["enum"][0], "GET");
    assert_eq!(c["properties"]["origins"]["items"]["format"], "regex");
    assert_eq!(c["properties"]["origins"]["type"], json!(["array", "null"]));
    let k = json_schema(PluginName::KeyAuth);
    assert_eq!(
        k["properties"]["key_names"]["items"]["pattern"],
        "^[a-zA-Z0-9_-]+$"
    );
    assert_eq!(k["properties"]["anonymous"]["minLength"], 1);
    let r = json_schema(PluginName::RateLimiting);
    assert!(r["properties"]["redis"]["properties"]["password"]
        .get("minLength")
        .is_none());
}
