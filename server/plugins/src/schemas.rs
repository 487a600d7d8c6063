//! The nine plugins' config schemas, field for field after Kong 3.x's
//! `kong/plugins/<name>/schema.lua` (and `kong/tools/redis/schema.lua`), with Kong's
//! descriptions as hints.

use crate::schema::{Check, Field, FieldDefault as D, Kind as K, Rule as R, Schema};
use crate::PluginName;

const fn f(
    name: &'static str,
    kind: K,
    default: D,
    required: bool,
    hint: &'static str,
    rules: &'static [R],
) -> Field {
    Field {
        name,
        kind,
        default,
        required,
        hint,
        rules,
    }
}

// ---------------------------------------------------------------- key-auth

pub static KEY_AUTH: Schema = Schema {
    plugin: PluginName::KeyAuth,
    fields: &[
        f("key_names", K::StringArray, D::Strs(&["apikey"]), true,
          "Describes an array of parameter names where the plugin will look for a key. The key names may only contain [a-z], [A-Z], [0-9], [_] underscore, and [-] hyphen.",
          &[R::HeaderName]),
        f("hide_credentials", K::Boolean, D::Bool(false), true,
          "An optional boolean value telling the plugin to show or hide the credential from the upstream service. If `true`, the plugin strips the credential from the request.", &[]),
        f("anonymous", K::String, D::None, false,
          "An optional string (consumer UUID or username) value to use as an “anonymous” consumer if authentication fails. If empty (default null), the request will fail with an authentication failure `4xx`.", &[]),
        f("key_in_header", K::Boolean, D::Bool(true), true,
          "If enabled (default), the plugin reads the request header and tries to find the key in it.", &[]),
        f("key_in_query", K::Boolean, D::Bool(true), true,
          "If enabled (default), the plugin reads the query parameter in the request and tries to find the key in it.", &[]),
        f("key_in_body", K::Boolean, D::Bool(false), true,
          "If enabled, the plugin reads the request body. Supported MIME types: `application/www-form-urlencoded`, `application/json`, and `multipart/form-data`.", &[]),
        f("run_on_preflight", K::Boolean, D::Bool(true), true,
          "A boolean value that indicates whether the plugin should run (and try to authenticate) on `OPTIONS` preflight requests. If set to `false`, then `OPTIONS` requests are always allowed.", &[]),
        f("realm", K::String, D::None, false,
          "When authentication fails the plugin sends `WWW-Authenticate` header with `realm` attribute value.", &[]),
    ],
    checks: &[],
};

// ---------------------------------------------------------------- acl

pub static ACL: Schema = Schema {
    plugin: PluginName::Acl,
    fields: &[
        f("allow", K::StringArray, D::None, false,
          "Arbitrary group names that are allowed to consume the service or route. One of `config.allow` or `config.deny` must be specified.", &[]),
        f("deny", K::StringArray, D::None, false,
          "Arbitrary group names that are not allowed to consume the service or route. One of `config.allow` or `config.deny` must be specified.", &[]),
        f("hide_groups_header", K::Boolean, D::Bool(false), true,
          "If enabled (`true`), prevents the `X-Consumer-Groups` header from being sent in the request to the upstream service.", &[]),
        f("always_use_authenticated_groups", K::Boolean, D::Bool(false), true,
          "If enabled (`true`), the authenticated groups will always be used even when an authenticated consumer already exists. If the authenticated groups don't exist, it will fallback to use the groups associated with the consumer. By default the authenticated groups will only be used when there is no consumer or the consumer is anonymous.", &[]),
    ],
    checks: &[
        Check::OnlyOneOf(&["allow", "deny"]),
        Check::AtLeastOneOf(&["allow", "deny"]),
    ],
};

// ---------------------------------------------------------------- rate-limiting

/// Kong's shared Redis record (`kong/tools/redis/schema.lua`).
pub static REDIS_FIELDS: [Field; 9] = [
    f("host", K::String, D::None, false, "A string representing a host name, such as example.com.", &[R::Host]),
    f("port", K::Integer, D::Int(6379), false, "An integer representing a port number between 0 and 65535, inclusive.", &[R::Between(0, 65535)]),
    f("timeout", K::Integer, D::Int(2000), false, "An integer representing a timeout in milliseconds. Must be between 0 and 2^31-2.", &[R::Between(0, 2_147_483_646)]),
    f("username", K::String, D::None, false,
      "Username to use for Redis connections. If undefined, ACL authentication won't be performed. This requires Redis v6.0.0+. To be compatible with Redis v5.x.y, you can set it to `default`.", &[]),
    f("password", K::String, D::None, false,
      "Password to use for Redis connections. If undefined, no AUTH commands are sent to Redis.", &[R::LenMin(0)]),
    f("database", K::Integer, D::Int(0), false, "Database to use for the Redis connection when using the `redis` strategy", &[]),
    f("ssl", K::Boolean, D::Bool(false), false, "If set to true, uses SSL to connect to Redis.", &[]),
    f("ssl_verify", K::Boolean, D::Bool(false), false,
      "If set to true, verifies the validity of the server SSL certificate. If setting this parameter, also configure `lua_ssl_trusted_certificate` in `kong.conf` to specify the CA (or server) certificate used by your Redis server. You may also need to configure `lua_ssl_verify_depth` accordingly.", &[]),
    f("server_name", K::String, D::None, false, "A string representing an SNI (server name indication) value for TLS.", &[R::Sni]),
];

/// The periods of rate-limiting, shortest first.
pub const PERIODS: [&str; 6] = ["second", "minute", "hour", "day", "month", "year"];

pub static RATE_LIMITING: Schema = Schema {
    plugin: PluginName::RateLimiting,
    fields: &[
        f("second", K::Number, D::None, false, "The number of HTTP requests that can be made per second.", &[R::Positive]),
        f("minute", K::Number, D::None, false, "The number of HTTP requests that can be made per minute.", &[R::Positive]),
        f("hour", K::Number, D::None, false, "The number of HTTP requests that can be made per hour.", &[R::Positive]),
        f("day", K::Number, D::None, false, "The number of HTTP requests that can be made per day.", &[R::Positive]),
        f("month", K::Number, D::None, false, "The number of HTTP requests that can be made per month.", &[R::Positive]),
        f("year", K::Number, D::None, false, "The number of HTTP requests that can be made per year.", &[R::Positive]),
        f("limit_by", K::String, D::Str("consumer"), false, "The entity that is used when aggregating the limits.",
          &[R::OneOf(&["consumer", "credential", "ip", "service", "header", "path"])]),
        f("header_name", K::String, D::None, false, "A string representing an HTTP header name.", &[R::HeaderName]),
        f("path", K::String, D::None, false,
          "A string representing a URL path, such as /path/to/resource. Must start with a forward slash (/) and must not contain empty segments (i.e., two consecutive forward slashes).", &[R::Path]),
        f("policy", K::String, D::Str("local"), false, "The rate-limiting policies to use for retrieving and incrementing the limits.",
          &[R::LenMin(0), R::OneOf(&["local", "redis"])]),
        f("fault_tolerant", K::Boolean, D::Bool(true), true,
          "A boolean value that determines if the requests should be proxied even if Kong has troubles connecting a third-party data store. If `true`, requests will be proxied anyway, effectively disabling the rate-limiting function until the data store is working again. If `false`, then the clients will see `500` errors.", &[]),
        f("redis", K::Record(&REDIS_FIELDS), D::None, false, "Redis configuration", &[]),
        f("hide_client_headers", K::Boolean, D::Bool(false), true, "Optionally hide informative response headers.", &[]),
        f("error_code", K::Number, D::Num(429.0), false, "Set a custom error code to return when the rate limit is exceeded.", &[R::Gt(0.0)]),
        f("error_message", K::String, D::Str("API rate limit exceeded"), false, "Set a custom error message to return when the rate limit is exceeded.", &[]),
        f("sync_rate", K::Number, D::Num(-1.0), true,
          "How often to sync counter data to the central data store. A value of -1 results in synchronous behavior.", &[]),
    ],
    checks: &[
        Check::AtLeastOneOf(&PERIODS),
        Check::RequiredIf { if_field: "policy", equals: "redis", then_required: "redis.host" },
        Check::RequiredIf { if_field: "policy", equals: "redis", then_required: "redis.port" },
        Check::RequiredIf { if_field: "policy", equals: "redis", then_required: "redis.timeout" },
        Check::RequiredIf { if_field: "limit_by", equals: "header", then_required: "header_name" },
        Check::RequiredIf { if_field: "limit_by", equals: "path", then_required: "path" },
        Check::PeriodOrder,
        Check::SyncRate,
    ],
};

/// rate-limiting's deprecated flat Redis fields (Kong's `shorthand_fields`), accepted
/// on input and moved into `redis`: (flat name, name in `redis`).
pub const REDIS_SHORTHANDS: [(&str, &str); 9] = [
    ("redis_host", "host"),
    ("redis_port", "port"),
    ("redis_password", "password"),
    ("redis_username", "username"),
    ("redis_ssl", "ssl"),
    ("redis_ssl_verify", "ssl_verify"),
    ("redis_server_name", "server_name"),
    ("redis_timeout", "timeout"),
    ("redis_database", "database"),
];

// ---------------------------------------------------------------- cors

const METHODS: &[&str] = &[
    "GET", "HEAD", "PUT", "PATCH", "POST", "DELETE", "OPTIONS", "TRACE", "CONNECT",
];

pub static CORS: Schema = Schema {
    plugin: PluginName::Cors,
    fields: &[
        f("origins", K::StringArray, D::None, false,
          "List of allowed domains for the `Access-Control-Allow-Origin` header. If you want to allow all origins, add `*` as a single value to this configuration field. The accepted values can either be flat strings or PCRE regexes. NOTE: If you don't specify any allowed domains, all origins are allowed.",
          &[R::AsteriskOrRegex]),
        f("headers", K::StringArray, D::None, false, "Value for the `Access-Control-Allow-Headers` header.", &[]),
        f("exposed_headers", K::StringArray, D::None, false,
          "Value for the `Access-Control-Expose-Headers` header. If not specified, no custom headers are exposed.", &[]),
        f("methods", K::StringArray, D::Strs(METHODS), false,
          "Value for the `Access-Control-Allow-Methods` header. Available options include `GET`, `HEAD`, `PUT`, `PATCH`, `POST`, `DELETE`, `OPTIONS`, `TRACE`, `CONNECT`. By default, all options are allowed.",
          &[R::OneOf(METHODS)]),
        f("max_age", K::Number, D::None, false, "Indicates how long the results of the preflight request can be cached, in `seconds`.", &[]),
        f("credentials", K::Boolean, D::Bool(false), true,
          "Flag to determine whether the `Access-Control-Allow-Credentials` header should be sent with `true` as the value.", &[]),
        f("private_network", K::Boolean, D::Bool(false), true,
          "Flag to determine whether the `Access-Control-Allow-Private-Network` header should be sent with `true` as the value.", &[]),
        f("preflight_continue", K::Boolean, D::Bool(false), true,
          "A boolean value that instructs the plugin to proxy the `OPTIONS` preflight request to the Upstream service.", &[]),
        f("allow_origin_absent", K::Boolean, D::Bool(true), true,
          "A boolean value that skip cors response headers when origin header of request is empty", &[]),
    ],
    checks: &[],
};

// ---------------------------------------------------------------- ip-restriction

pub static IP_RESTRICTION: Schema = Schema {
    plugin: PluginName::IpRestriction,
    fields: &[
        f("allow", K::StringArray, D::None, false,
          "List of IPs or CIDR ranges to allow. One of `config.allow` or `config.deny` must be specified.", &[R::IpOrCidr]),
        f("deny", K::StringArray, D::None, false,
          "List of IPs or CIDR ranges to deny. One of `config.allow` or `config.deny` must be specified.", &[R::IpOrCidr]),
        f("status", K::Number, D::None, false, "The HTTP status of the requests that will be rejected by the plugin.", &[]),
        f("message", K::String, D::None, false, "The message to send as a response body to rejected requests.", &[]),
    ],
    checks: &[Check::AtLeastOneOf(&["allow", "deny"])],
};

// ---------------------------------------------------------------- request-size-limiting

pub static REQUEST_SIZE_LIMITING: Schema = Schema {
    plugin: PluginName::RequestSizeLimiting,
    fields: &[
        f("allowed_payload_size", K::Integer, D::Int(128), false,
          "Allowed request payload size in megabytes. Default is `128` megabytes (128000000 bytes).", &[]),
        f("size_unit", K::String, D::Str("megabytes"), true,
          "Size unit can be set either in `bytes`, `kilobytes`, or `megabytes` (default). This configuration is not available in versions prior to Kong Gateway 1.3 and Kong Gateway (OSS) 2.0.",
          &[R::OneOf(&["megabytes", "kilobytes", "bytes"])]),
        f("require_content_length", K::Boolean, D::Bool(false), true,
          "Set to `true` to ensure a valid `Content-Length` header exists before reading the request body.", &[]),
    ],
    checks: &[],
};

// ---------------------------------------------------------------- request-transformer

const fn arr(name: &'static str, rules: &'static [R]) -> Field {
    f(name, K::StringArray, D::Strs(&[]), true, "", rules)
}

static RT_REMOVE: [Field; 3] = [
    arr("body", &[]),
    arr("headers", &[R::HeaderPairName]),
    arr("querystring", &[]),
];
static RT_RENAME: [Field; 3] = [
    arr("body", &[R::HasValue]),
    arr("headers", &[R::ColonPair, R::HeaderPairBoth]),
    arr("querystring", &[R::HasValue]),
];
static RT_ADD: [Field; 3] = [
    arr("body", &[R::HasValue]),
    arr("headers", &[R::ColonPair, R::HeaderPairName]),
    arr("querystring", &[R::HasValue]),
];
static RT_REPLACE: [Field; 4] = [
    arr("body", &[R::HasValue]),
    arr("headers", &[R::ColonPair, R::HeaderPairName]),
    arr("querystring", &[R::HasValue]),
    f("uri", K::String, D::None, false, "", &[]),
];

pub static REQUEST_TRANSFORMER: Schema = Schema {
    plugin: PluginName::RequestTransformer,
    fields: &[
        f("http_method", K::String, D::None, false,
          "A string representing an HTTP method, such as GET, POST, PUT, or DELETE. The string must contain only uppercase letters.", &[R::UpperCase]),
        f("remove", K::Record(&RT_REMOVE), D::None, false, "", &[]),
        f("rename", K::Record(&RT_RENAME), D::None, false, "", &[]),
        f("replace", K::Record(&RT_REPLACE), D::None, false, "", &[]),
        f("add", K::Record(&RT_ADD), D::None, false, "", &[]),
        f("append", K::Record(&RT_ADD), D::None, false, "", &[]),
    ],
    checks: &[],
};

// ---------------------------------------------------------------- response-transformer

static RS_REMOVE: [Field; 2] = [arr("json", &[]), arr("headers", &[])];
static RS_RENAME: [Field; 2] = [
    arr("json", &[R::ColonPair]),
    arr("headers", &[R::ColonPair, R::HeaderPairBoth]),
];
static RS_EDIT: [Field; 3] = [
    arr("json", &[R::ColonPair]),
    f("json_types", K::StringArray, D::Strs(&[]), true,
      "List of JSON type names. Specify the types of the JSON values returned when appending\nJSON properties. Each string element can be one of: boolean, number, or string.",
      &[R::OneOf(&["boolean", "number", "string"])]),
    arr("headers", &[R::ColonPair]),
];

pub static RESPONSE_TRANSFORMER: Schema = Schema {
    plugin: PluginName::ResponseTransformer,
    fields: &[
        f("remove", K::Record(&RS_REMOVE), D::None, false, "", &[]),
        f("rename", K::Record(&RS_RENAME), D::None, false, "", &[]),
        f("replace", K::Record(&RS_EDIT), D::None, false, "", &[]),
        f("add", K::Record(&RS_EDIT), D::None, false, "", &[]),
        f("append", K::Record(&RS_EDIT), D::None, false, "", &[]),
    ],
    checks: &[],
};

// ---------------------------------------------------------------- prometheus

pub static PROMETHEUS: Schema = Schema {
    plugin: PluginName::Prometheus,
    fields: &[
        f("per_consumer", K::Boolean, D::Bool(false), false,
          "A boolean value that determines if per-consumer metrics should be collected. If enabled, the `kong_http_requests_total` and `kong_bandwidth_bytes` metrics fill in the consumer label when available.", &[]),
        f("status_code_metrics", K::Boolean, D::Bool(false), false,
          "A boolean value that determines if status code metrics should be collected. If enabled, `http_requests_total`, `stream_sessions_total` metrics will be exported.", &[]),
        f("ai_metrics", K::Boolean, D::Bool(false), false,
          "A boolean value that determines if ai metrics should be collected. If enabled, the `ai_llm_requests_total`, `ai_llm_cost_total` and `ai_llm_tokens_total` metrics will be exported.", &[]),
        f("latency_metrics", K::Boolean, D::Bool(false), false,
          "A boolean value that determines if latency metrics should be collected. If enabled, `kong_latency_ms`, `upstream_latency_ms` and `request_latency_ms` metrics will be exported.", &[]),
        f("bandwidth_metrics", K::Boolean, D::Bool(false), false,
          "A boolean value that determines if bandwidth metrics should be collected. If enabled, `bandwidth_bytes` and `stream_sessions_total` metrics will be exported.", &[]),
        f("upstream_health_metrics", K::Boolean, D::Bool(false), false,
          "A boolean value that determines if upstream metrics should be collected. If enabled, `upstream_target_health` metric will be exported.", &[]),
        f("wasm_metrics", K::Boolean, D::Bool(false), false, "A boolean value that determines if Wasm metrics should be collected.", &[]),
    ],
    checks: &[],
};
