//! Validation against Kong's rules and messages, table-driven per plugin after Kong's
//! `spec/03-plugins/*/0*-schema_spec.lua` (and the schema files where Kong has no
//! spec), plus the drift guard between the descriptors and the typed configs.

use portico_plugins::config::{self, PluginConfig};
use portico_plugins::{defaults, merge_patch, schema, validate, validate_protocols, PluginName};
use serde_json::{json, Value};

use PluginName as P;

/// `(field, message)` pairs of a failed validation, in order.
fn errors(name: PluginName, config: Value) -> Vec<(String, String)> {
    match validate(name, &config) {
        Ok(v) => panic!("{name} {config} passed: {v}"),
        Err(errs) => errs.into_iter().map(|e| (e.field, e.message)).collect(),
    }
}

fn ok(name: PluginName, config: Value) -> Value {
    let v = validate(name, &config).unwrap_or_else(|e| panic!("{name} {config}: {e:?}"));
    // A validated config always makes the typed config.
    PluginConfig::from_value(name, v.clone()).unwrap_or_else(|e| panic!("{name} {v}: {e}"));
    v
}

/// Numbers compared as numbers (`429` and `429.0` are the same default).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same(v, w))
        }
        _ => a == b,
    }
}

#[test]
fn descriptors_match_the_typed_configs_defaults() {
    let typed = |name: PluginName| -> Value {
        match name {
            P::Cors => serde_json::to_value(config::Cors::default()),
            P::KeyAuth => serde_json::to_value(config::KeyAuth::default()),
            P::IpRestriction => serde_json::to_value(config::IpRestriction::default()),
            P::RequestSizeLimiting => serde_json::to_value(config::RequestSizeLimiting::default()),
            P::Acl => serde_json::to_value(config::Acl::default()),
            P::RateLimiting => serde_json::to_value(config::RateLimiting::default()),
            P::RequestTransformer => serde_json::to_value(config::RequestTransformer::default()),
            P::ResponseTransformer => serde_json::to_value(config::ResponseTransformer::default()),
            P::Prometheus => serde_json::to_value(config::Prometheus::default()),
        }
        .unwrap()
    };
    for name in PluginName::ALL {
        let d = defaults(name);
        let t = typed(name);
        assert!(same(&d, &t), "{name}: descriptor {d}\n typed {t}");
        // And the defaults deserialize into the typed config.
        PluginConfig::from_value(name, d).unwrap();
        assert_eq!(schema(name).plugin, name);
    }
}

#[test]
fn key_auth() {
    let v = ok(P::KeyAuth, Value::Null);
    assert_eq!(
        v,
        json!({
            "key_names": ["apikey"], "hide_credentials": false, "anonymous": null,
            "key_in_header": true, "key_in_query": true, "key_in_body": false,
            "run_on_preflight": true, "realm": null,
        })
    );
    let v = ok(
        P::KeyAuth,
        json!({"key_names": ["x-key", "api_key"], "key_in_body": true}),
    );
    assert_eq!(v["key_names"], json!(["x-key", "api_key"]));
    assert_eq!(v["key_in_body"], json!(true));
    let cases = [
        (
            json!({"key_names": ["ok", "bad key"]}),
            vec![(
                "config.key_names[1]",
                "bad header name 'bad key', allowed characters are A-Z, a-z, 0-9, '_', and '-'",
            )],
        ),
        (
            json!({"key_names": "apikey"}),
            vec![("config.key_names", "expected an array")],
        ),
        (
            json!({"key_names": [1]}),
            vec![("config.key_names[0]", "expected a string")],
        ),
        (
            json!({"hide_credentials": "yes"}),
            vec![("config.hide_credentials", "expected a boolean")],
        ),
        (
            json!({"anonymous": ""}),
            vec![("config.anonymous", "length must be at least 1")],
        ),
        (
            json!({"keynames": ["a"]}),
            vec![("config.keynames", "unknown field")],
        ),
        (json!([]), vec![("config", "expected a record")]),
    ];
    for (input, want) in cases {
        let want: Vec<(String, String)> = want
            .into_iter()
            .map(|(a, b)| (a.into(), b.into()))
            .collect();
        assert_eq!(errors(P::KeyAuth, input.clone()), want, "{input}");
    }
}

#[test]
fn acl() {
    let v = ok(P::Acl, json!({"allow": ["admin"]}));
    assert_eq!(
        v,
        json!({"allow": ["admin"], "deny": null, "hide_groups_header": false,
               "always_use_authenticated_groups": false})
    );
    ok(P::Acl, json!({"deny": ["banned"], "allow": []}));
    let at_least = "at least one of these fields must be non-empty: 'config.allow', 'config.deny'";
    let only = "exactly one of these fields must be non-empty: 'config.allow', 'config.deny'";
    assert_eq!(
        errors(P::Acl, json!({})),
        vec![("config".into(), at_least.into())]
    );
    assert_eq!(
        errors(P::Acl, json!({"allow": ["a"], "deny": ["b"]})),
        vec![("config".into(), only.into())]
    );
    assert_eq!(
        errors(P::Acl, json!({"allow": [], "deny": []})),
        vec![
            ("config".into(), only.into()),
            ("config".into(), at_least.into())
        ]
    );
}

#[test]
fn rate_limiting() {
    let v = ok(P::RateLimiting, json!({"second": 10}));
    assert_eq!(v["second"], json!(10));
    assert_eq!(v["minute"], Value::Null);
    assert_eq!(v["limit_by"], json!("consumer"));
    assert_eq!(v["policy"], json!("local"));
    assert_eq!(v["fault_tolerant"], json!(true));
    assert_eq!(v["error_code"], json!(429));
    assert_eq!(v["error_message"], json!("API rate limit exceeded"));
    assert_eq!(v["sync_rate"], json!(-1));
    assert_eq!(
        v["redis"],
        json!({"host": null, "port": 6379, "timeout": 2000, "username": null, "password": null,
               "database": 0, "ssl": false, "ssl_verify": false, "server_name": null})
    );
    ok(
        P::RateLimiting,
        json!({"second": 10, "minute": 20, "hour": 30, "day": 40, "month": 50, "year": 60}),
    );
    ok(
        P::RateLimiting,
        json!({"second": 10, "limit_by": "header", "header_name": "X-App-Version"}),
    );
    ok(
        P::RateLimiting,
        json!({"second": 10, "limit_by": "path", "path": "/request"}),
    );
    ok(P::RateLimiting, json!({"minute": 1.5}));
    let v = ok(
        P::RateLimiting,
        json!({"second": 10, "policy": "redis", "redis": {"host": "127.0.0.1", "port": 6379,
               "database": 0, "username": "test", "password": "testXXX", "ssl": true,
               "ssl_verify": false, "timeout": 1100, "server_name": "redis.example.com"}}),
    );
    assert_eq!(v["redis"]["timeout"], json!(1100));
    // Kong's deprecated flat fields land in `redis`.
    let v = ok(
        P::RateLimiting,
        json!({"second": 10, "policy": "redis", "redis_host": "redis.local", "redis_port": 6380,
               "redis_password": "", "redis_timeout": 1100}),
    );
    assert_eq!(v["redis"]["host"], json!("redis.local"));
    assert_eq!(v["redis"]["port"], json!(6380));
    assert_eq!(v["redis"]["password"], json!(""));
    assert!(v.get("redis_host").is_none());

    let periods = "at least one of these fields must be non-empty: 'config.second', \
                   'config.minute', 'config.hour', 'config.day', 'config.month', 'config.year'";
    let cases: Vec<(Value, Vec<(&str, &str)>)> = vec![
        (json!({}), vec![("config", periods)]),
        (
            json!({"minute": 0}),
            vec![("config.minute", "must be greater than 0")],
        ),
        (
            json!({"minute": 5, "hour": 3}),
            vec![("config.hour", "must not be lower than config.minute")],
        ),
        (
            json!({"second": 20, "hour": 10}),
            vec![("config.hour", "must not be lower than config.second")],
        ),
        (
            json!({"second": 10, "minute": 20, "hour": 30, "day": 40, "month": 60, "year": 50}),
            vec![("config.year", "must not be lower than config.month")],
        ),
        (
            json!({"minute": "5"}),
            vec![("config.minute", "expected a number")],
        ),
        (
            json!({"second": 10, "limit_by": "header"}),
            vec![("config.header_name", "required field missing")],
        ),
        (
            json!({"second": 10, "limit_by": "path"}),
            vec![("config.path", "required field missing")],
        ),
        (
            json!({"second": 10, "policy": "redis", "redis": {"port": 6379}}),
            vec![("config.redis.host", "required field missing")],
        ),
        (
            json!({"second": 10, "policy": "cluster"}),
            vec![("config.policy", "expected one of: local, redis")],
        ),
        (
            json!({"second": 10, "limit_by": "user"}),
            vec![(
                "config.limit_by",
                "expected one of: consumer, credential, ip, service, header, path",
            )],
        ),
        (
            json!({"second": 10, "redis": {"port": 70000}}),
            vec![("config.redis.port", "value should be between 0 and 65535")],
        ),
        (
            json!({"second": 10, "redis": {"port": 63.5}}),
            vec![("config.redis.port", "expected an integer")],
        ),
        (
            json!({"second": 10, "redis": {"host": "redis:6379"}}),
            vec![("config.redis.host", "must not have a port")],
        ),
        (
            json!({"second": 10, "redis": {"server_name": "10.0.0.1"}}),
            vec![("config.redis.server_name", "must not be an IP")],
        ),
        (
            json!({"second": 10, "redis": {"db": 1}}),
            vec![("config.redis.db", "unknown field")],
        ),
        (
            json!({"second": 10, "error_code": 0}),
            vec![("config.error_code", "value must be greater than 0")],
        ),
        (
            json!({"second": 10, "sync_rate": 10}),
            vec![(
                "config.sync_rate",
                "sync_rate can only be used with the redis policy",
            )],
        ),
        (
            json!({"second": 10, "policy": "redis", "redis": {"host": "r"}, "sync_rate": 0.01}),
            vec![(
                "config.sync_rate",
                "sync_rate must be greater than 0.02, or -1 to disable",
            )],
        ),
        (
            json!({"second": 10, "path": "request"}),
            vec![("config.path", "should start with: /")],
        ),
        (
            json!({"second": 10, "path": "/a//b"}),
            vec![("config.path", "must not have empty segments")],
        ),
        (
            json!({"second": 10, "header_name": "X App"}),
            vec![(
                "config.header_name",
                "bad header name 'X App', allowed characters are A-Z, a-z, 0-9, '_', and '-'",
            )],
        ),
        // Every broken rule at once.
        (
            json!({"minute": -1, "hour": true, "policy": "x", "color": "red"}),
            vec![
                ("config.color", "unknown field"),
                ("config.minute", "must be greater than 0"),
                ("config.hour", "expected a number"),
                ("config.policy", "expected one of: local, redis"),
            ],
        ),
    ];
    for (input, want) in cases {
        let want: Vec<(String, String)> = want
            .into_iter()
            .map(|(a, b)| (a.into(), b.into()))
            .collect();
        assert_eq!(errors(P::RateLimiting, input.clone()), want, "{input}");
    }
}

#[test]
fn cors() {
    let v = ok(P::Cors, json!({}));
    assert_eq!(
        v,
        json!({"origins": null, "headers": null, "exposed_headers": null,
               "methods": ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE", "OPTIONS", "TRACE", "CONNECT"],
               "max_age": null, "credentials": false, "private_network": false,
               "preflight_continue": false, "allow_origin_absent": true})
    );
    for origins in [
        json!(["*"]),
        json!(["example.com"]),
        json!([r".*\.example(?:-foo)?\.com"]),
    ] {
        ok(P::Cors, json!({ "origins": origins }));
    }
    for m in [
        "HEAD", "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT",
    ] {
        ok(P::Cors, json!({ "methods": [m] }));
    }
    ok(
        P::Cors,
        json!({"max_age": 3600, "credentials": true, "headers": ["X-Auth"]}),
    );
    assert_eq!(
        errors(
            P::Cors,
            json!({"origins": [".*.example.com", "invalid_**regex"]})
        ),
        vec![(
            "config.origins[1]".into(),
            "'invalid_**regex' is not a valid regex".into()
        )]
    );
    for bad in ["(unclosed", "[a-", "a)", "*start", r"trailing\"] {
        assert_eq!(
            errors(P::Cors, json!({ "origins": [bad] })),
            vec![(
                "config.origins[0]".into(),
                format!("'{bad}' is not a valid regex")
            )],
        );
    }
    assert_eq!(
        errors(P::Cors, json!({"methods": ["FAKE"]})),
        vec![(
            "config.methods[0]".into(),
            "expected one of: GET, HEAD, PUT, PATCH, POST, DELETE, OPTIONS, TRACE, CONNECT".into()
        )]
    );
    assert_eq!(
        errors(P::Cors, json!({"max_age": "1h"})),
        vec![("config.max_age".into(), "expected a number".into())]
    );
}

#[test]
fn ip_restriction() {
    ok(
        P::IpRestriction,
        json!({"allow": ["127.0.0.1/32", "127.0.0.2/32"]}),
    );
    let v = ok(
        P::IpRestriction,
        json!({"allow": ["127.0.0.1/32", "127.0.0.2/32"], "status": 403, "message": "Forbidden"}),
    );
    assert_eq!(v["status"], json!(403));
    ok(P::IpRestriction, json!({"allow": ["127.0.0.1/8"]}));
    ok(
        P::IpRestriction,
        json!({"deny": ["127.0.0.1/32", "127.0.0.2/32"]}),
    );
    ok(
        P::IpRestriction,
        json!({"deny": ["127.0.0.2/32"], "allow": ["127.0.0.1/32"]}),
    );
    ok(
        P::IpRestriction,
        json!({"allow": ["::/0", "::/1", "::/128", "2001:db8::1", "10.0.0.1"]}),
    );
    let e = |f: &str, m: &str| (f.to_string(), m.to_string());
    assert_eq!(
        errors(P::IpRestriction, json!({"allow": 12})),
        vec![e("config.allow", "expected an array")]
    );
    assert_eq!(
        errors(P::IpRestriction, json!({"deny": 12})),
        vec![e("config.deny", "expected an array")]
    );
    assert_eq!(
        errors(P::IpRestriction, json!({"allow": ["hello"]})),
        vec![e("config.allow[0]", "invalid ip or cidr range: 'hello'")]
    );
    assert_eq!(
        errors(
            P::IpRestriction,
            json!({"deny": ["127.0.0.1/32", "127.0.0.2/32", "hello"]})
        ),
        vec![e("config.deny[2]", "invalid ip or cidr range: 'hello'")]
    );
    assert_eq!(
        errors(P::IpRestriction, json!({"deny": [], "allow": []})),
        vec![e(
            "config",
            "at least one of these fields must be non-empty: 'config.allow', 'config.deny'"
        )]
    );
    let bad = [
        "0.0.0.0/a",
        "0.0.0.0/-1",
        "0.0.0.0/33",
        "::/a",
        "::/-1",
        "::/129",
        "::1/a",
        "::1/-1",
        "::1/129",
    ];
    let want: Vec<_> = bad
        .iter()
        .enumerate()
        .map(|(i, b)| {
            e(
                &format!("config.allow[{i}]"),
                &format!("invalid ip or cidr range: '{b}'"),
            )
        })
        .collect();
    assert_eq!(errors(P::IpRestriction, json!({ "allow": bad })), want);
}

#[test]
fn request_size_limiting() {
    let v = ok(P::RequestSizeLimiting, Value::Null);
    assert_eq!(
        v,
        json!({"allowed_payload_size": 128, "size_unit": "megabytes", "require_content_length": false})
    );
    // An integer written as 2.0 is an integer (and comes back as 2).
    let v = ok(
        P::RequestSizeLimiting,
        json!({"allowed_payload_size": 2.0, "size_unit": "kilobytes"}),
    );
    assert_eq!(v["allowed_payload_size"], json!(2));
    let e = |f: &str, m: &str| vec![(f.to_string(), m.to_string())];
    assert_eq!(
        errors(P::RequestSizeLimiting, json!({"allowed_payload_size": 1.5})),
        e("config.allowed_payload_size", "expected an integer")
    );
    assert_eq!(
        errors(P::RequestSizeLimiting, json!({"size_unit": "gigabytes"})),
        e(
            "config.size_unit",
            "expected one of: megabytes, kilobytes, bytes"
        )
    );
}

#[test]
fn request_transformer() {
    let v = ok(P::RequestTransformer, json!({}));
    let parts = json!({"body": [], "headers": [], "querystring": []});
    assert_eq!(v["remove"], parts);
    assert_eq!(v["add"], parts);
    assert_eq!(
        v["replace"],
        json!({"body": [], "headers": [], "querystring": [], "uri": null})
    );
    assert_eq!(v["http_method"], Value::Null);
    ok(P::RequestTransformer, json!({"http_method": "GET"}));
    ok(
        P::RequestTransformer,
        json!({"add": {"querystring": ["uri_param1:$(uri_captures.user1)", "uri_param2:$(uri_captures.user2)"]}}),
    );
    ok(
        P::RequestTransformer,
        json!({"add": {"querystring": ["uri_param1:$(uri_captures.user1)", "uri_param2:value"]}}),
    );
    ok(
        P::RequestTransformer,
        json!({"remove": {"headers": ["x-drop"]}, "rename": {"headers": ["x-old:x-new"]},
               "replace": {"uri": "/v2", "headers": ["host:example.com"]},
               "append": {"headers": ["x-list:a,b"], "body": ["k:v"]}}),
    );
    let e = |f: &str, m: &str| vec![(f.to_string(), m.to_string())];
    assert_eq!(
        errors(P::RequestTransformer, json!({"http_method": "HELLO!"})),
        e("config.http_method", "invalid value: HELLO!")
    );
    assert_eq!(
        errors(
            P::RequestTransformer,
            json!({"add": {"querystring": ["uri_param2:"]}})
        ),
        e("config.add.querystring[0]", "key 'uri_param2' has no value")
    );
    assert_eq!(
        errors(
            P::RequestTransformer,
            json!({"add": {"querystring": ["uri_param2:$(uri_captures user2)"]}})
        )
        .len(),
        1
    );
    assert_eq!(
        errors(
            P::RequestTransformer,
            json!({"add": {"headers": ["x-no-value"]}})
        ),
        e("config.add.headers[0]", "invalid value: x-no-value")
    );
    assert_eq!(
        errors(
            P::RequestTransformer,
            json!({"rename": {"headers": ["x-old:bad name"]}})
        ),
        e(
            "config.rename.headers[0]",
            "'bad name' is not a valid header"
        )
    );
    assert_eq!(
        errors(
            P::RequestTransformer,
            json!({"remove": {"headers": ["bad header"]}})
        ),
        e(
            "config.remove.headers[0]",
            "'bad header' is not a valid header"
        )
    );
    assert_eq!(
        errors(P::RequestTransformer, json!({"replace": {"url": "/x"}})),
        e("config.replace.url", "unknown field")
    );
}

#[test]
fn response_transformer() {
    let v = ok(P::ResponseTransformer, Value::Null);
    assert_eq!(v["remove"], json!({"json": [], "headers": []}));
    assert_eq!(v["rename"], json!({"json": [], "headers": []}));
    assert_eq!(
        v["append"],
        json!({"json": [], "json_types": [], "headers": []})
    );
    ok(
        P::ResponseTransformer,
        json!({"add": {"json": ["a:1"], "json_types": ["number"], "headers": ["x-a:b"]},
               "remove": {"json": ["secret"]}, "rename": {"headers": ["x-a:x-b"]}}),
    );
    let e = |f: &str, m: &str| vec![(f.to_string(), m.to_string())];
    assert_eq!(
        errors(
            P::ResponseTransformer,
            json!({"add": {"json_types": ["object"]}})
        ),
        e(
            "config.add.json_types[0]",
            "expected one of: boolean, number, string"
        )
    );
    assert_eq!(
        errors(
            P::ResponseTransformer,
            json!({"append": {"json": ["nocolon"]}})
        ),
        e("config.append.json[0]", "invalid value: nocolon")
    );
}

#[test]
fn prometheus() {
    let v = ok(P::Prometheus, Value::Null);
    assert_eq!(
        v,
        json!({"per_consumer": false, "status_code_metrics": false, "ai_metrics": false,
               "latency_metrics": false, "bandwidth_metrics": false,
               "upstream_health_metrics": false, "wasm_metrics": false})
    );
    assert_eq!(
        errors(P::Prometheus, json!({"per_consumer": 1})),
        vec![("config.per_consumer".into(), "expected a boolean".into())]
    );
}

#[test]
fn protocols() {
    let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(validate_protocols(
        P::KeyAuth,
        &p(&["http", "https", "grpc", "grpcs", "ws", "wss"])
    )
    .is_ok());
    let e = validate_protocols(P::KeyAuth, &p(&["http", "tcp"])).unwrap_err();
    assert_eq!(e.field, "protocols[1]");
    assert_eq!(
        e.message,
        "expected one of: grpc, grpcs, http, https, ws, wss"
    );
    // Kong's defaults are accepted, ip-restriction's stream protocols included.
    for name in PluginName::ALL {
        let d: Vec<String> = name
            .default_protocols()
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(validate_protocols(name, &d).is_ok(), "{name}");
    }
    assert!(validate_protocols(P::IpRestriction, &p(&["ftp"])).is_err());
}

#[test]
fn patch_merges_records_and_replaces_arrays() {
    let stored = ok(
        P::RateLimiting,
        json!({"minute": 10, "policy": "redis", "redis": {"host": "r1", "port": 6380}}),
    );
    let patched = merge_patch(&stored, &json!({"hour": 100, "redis": {"host": "r2"}}));
    let v = ok(P::RateLimiting, patched);
    assert_eq!(v["minute"], json!(10));
    assert_eq!(v["hour"], json!(100));
    assert_eq!(v["redis"]["host"], json!("r2"));
    assert_eq!(v["redis"]["port"], json!(6380));
    // `null` resets a field to its default.
    let v = ok(
        P::RateLimiting,
        merge_patch(&v, &json!({"redis": {"port": null}})),
    );
    assert_eq!(v["redis"]["port"], json!(6379));

    let stored = ok(P::KeyAuth, json!({"key_names": ["a", "b"]}));
    let v = ok(
        P::KeyAuth,
        merge_patch(&stored, &json!({"key_names": ["c"]})),
    );
    assert_eq!(v["key_names"], json!(["c"]));
    // An invalid patch is named like any config.
    let patched = merge_patch(&stored, &json!({"key_in_body": "x"}));
    assert_eq!(
        errors(P::KeyAuth, patched),
        vec![("config.key_in_body".into(), "expected a boolean".into())]
    );
}
