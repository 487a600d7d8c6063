//! The form view of the descriptors: inputs with their defaults, hints and options,
//! and urlencoded pairs back to a validated config.

use portico_plugins::config::PluginConfig;
use portico_plugins::{config_from_form, form_fields, form_values, validate, FormKind, PluginName};
use serde_json::{json, Value};

use PluginName as P;

fn ok(name: PluginName, config: Value) -> Value {
    let v = validate(name, &config).unwrap_or_else(|e| panic!("{name} {config}: {e:?}"));
    PluginConfig::from_value(name, v.clone()).unwrap_or_else(|e| panic!("{name} {v}: {e}"));
    v
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn form_round_trip() {
    let f = form_fields(P::RateLimiting);
    let names: Vec<&str> = f.iter().map(|f| f.name.as_str()).collect();
    assert!(names.contains(&"config.minute"));
    assert!(names.contains(&"config.redis.host"));
    let policy = f.iter().find(|f| f.name == "config.policy").unwrap();
    assert_eq!(policy.kind, FormKind::Select);
    assert_eq!(policy.default, "local");
    assert_eq!(policy.options, vec!["local", "redis"]);
    assert!(policy.hint.starts_with("The rate-limiting policies"));
    let port = f.iter().find(|f| f.name == "config.redis.port").unwrap();
    assert_eq!(
        (port.kind, port.default.as_str()),
        (FormKind::Integer, "6379")
    );

    let cfg = config_from_form(
        P::RateLimiting,
        &pairs(&[
            ("name", "rate-limiting"),
            ("config.minute", "5"),
            ("config.hour", ""),
            ("config.policy", "redis"),
            ("config.redis.host", "127.0.0.1"),
            ("config.fault_tolerant", "false"),
            ("config.hide_client_headers", "false"),
            ("config.hide_client_headers", "true"),
        ]),
    )
    .unwrap();
    assert_eq!(cfg["minute"], json!(5));
    assert_eq!(cfg["hour"], Value::Null);
    assert_eq!(cfg["redis"]["host"], json!("127.0.0.1"));
    assert_eq!(cfg["redis"]["port"], json!(6379));
    assert_eq!(cfg["fault_tolerant"], json!(false));
    assert_eq!(cfg["hide_client_headers"], json!(true));

    let errs = config_from_form(
        P::RateLimiting,
        &pairs(&[
            ("config.minute", "five"),
            ("config.hour", "0"),
            ("config.colour", "x"),
        ]),
    )
    .unwrap_err();
    let errs: Vec<(&str, &str)> = errs
        .iter()
        .map(|e| (e.field.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        errs,
        vec![
            ("config.colour", "unknown field"),
            ("config.minute", "expected a number"),
            ("config.hour", "must be greater than 0"),
        ]
    );

    // Lines: one item per line, blank lines skipped; commas kept inside an item.
    let cfg = config_from_form(
        P::RequestTransformer,
        &pairs(&[("config.add.headers", "x-a:1,2\r\n\r\n  x-b:3  \n")]),
    )
    .unwrap();
    assert_eq!(cfg["add"]["headers"], json!(["x-a:1,2", "x-b:3"]));

    // An edit form shows a stored config's values.
    let values = form_values(
        P::KeyAuth,
        &ok(P::KeyAuth, json!({"key_names": ["a", "b"]})),
    );
    assert!(values.contains(&("config.key_names".into(), "a\nb".into())));
    assert!(values.contains(&("config.anonymous".into(), String::new())));
    // The edit form's values submitted unchanged give back the same config.
    let stored = ok(
        P::Cors,
        json!({"origins": ["https://a.example"], "max_age": 60, "credentials": true}),
    );
    let back = config_from_form(P::Cors, &form_values(P::Cors, &stored)).unwrap();
    assert_eq!(back, stored);
}
