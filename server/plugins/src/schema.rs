//! The schema descriptor: what a plugin's config fields are, as static data, written
//! once per plugin after Kong 3.x's `kong/plugins/<name>/schema.lua` (field names,
//! types, defaults, descriptions, rules and entity checks). Validation
//! ([`crate::validate()`]), the JSON Schema ([`crate::json_schema()`]) and the form
//! ([`crate::form_fields()`]) are all generated from it; the typed configs of
//! [`crate::config`] are checked against it by a test.

use crate::PluginName;

/// A field's type (Kong's `type`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Boolean,
    /// A whole number (Kong refuses `1.5`, accepts `2.0`).
    Integer,
    Number,
    String,
    /// An array of strings; the field's rules apply to each element.
    StringArray,
    /// A nested record (`config.redis`).
    Record(&'static [Field]),
}

/// A field's default (Kong's `default`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldDefault {
    /// No default: absent means `null` (or, for a record, the record of its fields'
    /// defaults).
    None,
    Bool(bool),
    Int(i64),
    Num(f64),
    Str(&'static str),
    Strs(&'static [&'static str]),
}

/// One rule on a value (on each element of a string array).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// `gt`: "value must be greater than N".
    Gt(f64),
    /// `gt = 0` on rate-limiting's periods, with issue 18's message "must be greater
    /// than 0".
    Positive,
    /// `between`: "value should be between A and B".
    Between(i64, i64),
    /// `one_of`: "expected one of: a, b".
    OneOf(&'static [&'static str]),
    /// `len_min` (Kong's strings have an implicit `len_min = 1`; this overrides it).
    LenMin(usize),
    /// cors `origins`: `*` or a valid regex ("'x' is not a valid regex").
    AsteriskOrRegex,
    /// `typedefs.ip_or_cidr` ("invalid ip or cidr range: 'x'").
    IpOrCidr,
    /// `typedefs.header_name` ("bad header name 'x', allowed characters are …").
    HeaderName,
    /// `match = "^[^:]+:.*$"` ("invalid value: x").
    ColonPair,
    /// request-transformer's `check_for_value`: `name:value` with a non-empty value
    /// ("key 'x' has no value").
    HasValue,
    /// The transformers' `validate_headers`: the part before `:` is a header name
    /// ("'x' is not a valid header").
    HeaderPairName,
    /// `validate_colon_headers`: both parts of `old:new` are header names.
    HeaderPairBoth,
    /// `typedefs.http_method`: `match = "^%u+$"` ("invalid value: x").
    UpperCase,
    /// `typedefs.path`: starts with `/`, no empty segment, RFC 3986 characters.
    Path,
    /// `typedefs.host`: a host name or IP without a port.
    Host,
    /// `typedefs.sni`: a host name, not an IP, without a port.
    Sni,
}

/// One config field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub default: FieldDefault,
    /// Kong's `required`: absent (with no default) or `null` is "required field missing".
    pub required: bool,
    /// Kong's `description`.
    pub hint: &'static str,
    pub rules: &'static [Rule],
}

/// A check across fields (Kong's `entity_checks` and `custom_validator`); field names
/// are paths below `config` (`redis.host`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Check {
    /// "at least one of these fields must be non-empty: 'config.a', 'config.b'".
    AtLeastOneOf(&'static [&'static str]),
    /// "exactly one of these fields must be non-empty: 'config.a', 'config.b'"
    /// (only when at least one is set, as Kong).
    OnlyOneOf(&'static [&'static str]),
    /// When field `if_field` equals `equals`, field `then_required` is required.
    RequiredIf {
        if_field: &'static str,
        equals: &'static str,
        then_required: &'static str,
    },
    /// rate-limiting: a longer period's limit not lower than a shorter one's
    /// (`config.hour`: "must not be lower than config.minute").
    PeriodOrder,
    /// rate-limiting's `sync_rate` rules.
    SyncRate,
}

/// A plugin's config schema.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schema {
    pub plugin: PluginName,
    pub fields: &'static [Field],
    pub checks: &'static [Check],
}

/// The config schema of plugin `name`.
pub fn schema(name: PluginName) -> &'static Schema {
    match name {
        PluginName::Cors => &crate::schemas::CORS,
        PluginName::KeyAuth => &crate::schemas::KEY_AUTH,
        PluginName::IpRestriction => &crate::schemas::IP_RESTRICTION,
        PluginName::RequestSizeLimiting => &crate::schemas::REQUEST_SIZE_LIMITING,
        PluginName::Acl => &crate::schemas::ACL,
        PluginName::RateLimiting => &crate::schemas::RATE_LIMITING,
        PluginName::RequestTransformer => &crate::schemas::REQUEST_TRANSFORMER,
        PluginName::ResponseTransformer => &crate::schemas::RESPONSE_TRANSFORMER,
        PluginName::Prometheus => &crate::schemas::PROMETHEUS,
    }
}

impl Schema {
    /// The field at a dotted path below `config` (`redis.host`).
    pub fn field(&self, path: &str) -> Option<&'static Field> {
        let mut fields = self.fields;
        let mut parts = path.split('.').peekable();
        while let Some(part) = parts.next() {
            let f = fields.iter().find(|f| f.name == part)?;
            if parts.peek().is_none() {
                return Some(f);
            }
            match f.kind {
                Kind::Record(sub) => fields = sub,
                _ => return None,
            }
        }
        None
    }
}

/// Kong's `protocols` typedefs: the values a plugin's `protocols` may hold.
/// `protocols_http` plugins: `grpc`, `grpcs`, `http`, `https`, plus `ws` and `wss`
/// (Kong Enterprise's WebSocket protocols; Portico proxies WebSockets). The others
/// (`typedefs.protocols`): also the stream protocols `tcp`, `tls`, `tls_passthrough`
/// and `udp`, accepted as Kong does although Portico proxies HTTP only (such a
/// protocol never matches a Portico route).
pub fn allowed_protocols(name: PluginName) -> &'static [&'static str] {
    const HTTP: &[&str] = &["grpc", "grpcs", "http", "https", "ws", "wss"];
    const ALL: &[&str] = &[
        "grpc",
        "grpcs",
        "http",
        "https",
        "tcp",
        "tls",
        "tls_passthrough",
        "udp",
        "ws",
        "wss",
    ];
    match name {
        PluginName::IpRestriction | PluginName::RequestTransformer | PluginName::Prometheus => ALL,
        _ => HTTP,
    }
}
