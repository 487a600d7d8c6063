//! Conversion of routes to Kong's own matcher (`atc-router`), as Kong's
//! `traditional_compatible` flavor does (`kong/router/transform.lua` and
//! `compat.lua`): one ATC expression + 64-bit priority per path group.
#![allow(dead_code)]
use atc_router::ast::{Type, Value};
use atc_router::context::Context;
use atc_router::schema::Schema;
use portico_router::{RequestContext, RouteConfig};
use std::collections::HashMap;
use uuid::Uuid;

pub fn schema() -> Schema {
    let mut s = Schema::default();
    for f in [
        "http.method",
        "http.host",
        "http.path",
        "net.protocol",
        "tls.sni",
        "http.headers.*",
        "http.queries.*",
        "http.path.segments.*",
    ] {
        s.add_field(f, Type::String);
    }
    for f in ["net.src.port", "net.dst.port", "http.path.segments.len"] {
        s.add_field(f, Type::Int);
    }
    for f in ["net.src.ip", "net.dst.ip"] {
        s.add_field(f, Type::IpAddr);
    }
    s
}

fn raw(s: &str) -> String {
    format!("r#\"{s}\"#")
}

fn or_group(items: Vec<String>) -> String {
    format!("({})", items.join(" || "))
}

fn is_regex(p: &str) -> bool {
    p.starts_with('~')
}

/// Paths grouped the way Kong's `split_routes_and_services_by_path` does.
pub fn path_groups(r: &RouteConfig) -> Vec<Vec<&str>> {
    let mut out: Vec<Vec<&str>> = Vec::new();
    for p in &r.paths {
        let key = |q: &str| {
            if is_regex(q) {
                (true, 0)
            } else {
                (false, q.len())
            }
        };
        match out.iter_mut().find(|g| key(g[0]) == key(p)) {
            Some(g) => g.push(p),
            None => out.push(vec![p]),
        }
    }
    if out.is_empty() {
        out.push(Vec::new());
    }
    out
}

fn protocol_clause(r: &RouteConfig) -> Option<String> {
    // compat.lua: a https-only route gets no protocol predicate (so that
    // http requests can be redirected)
    if r.protocols == ["https"] {
        return None;
    }
    Some(or_group(
        r.protocols
            .iter()
            .map(|p| format!("net.protocol == {}", raw(p)))
            .collect(),
    ))
}

/// The ATC expression of one path group (transform.lua's get_expression).
pub fn group_expression(r: &RouteConfig, paths: &[&str]) -> String {
    let mut parts = Vec::new();
    if !r.methods.is_empty() {
        parts.push(or_group(
            r.methods
                .iter()
                .map(|m| format!("http.method == {}", raw(m)))
                .collect(),
        ));
    }
    if !r.hosts.is_empty() {
        parts.push(or_group(
            r.hosts
                .iter()
                .map(|h| {
                    let h = h.to_ascii_lowercase();
                    let (host, port) = match h.rsplit_once(':') {
                        Some((n, p)) => (n.to_string(), Some(p.to_string())),
                        None => (h.clone(), None),
                    };
                    let e = if let Some(s) = host.strip_prefix('*') {
                        format!("http.host =^ {}", raw(s))
                    } else if let Some(s) = host.strip_suffix('*') {
                        format!("http.host ^= {}", raw(s))
                    } else {
                        format!("http.host == {}", raw(&host))
                    };
                    match port {
                        Some(p) => format!("({e} && net.dst.port == {p})"),
                        None => e,
                    }
                })
                .collect(),
        ));
    }
    if !paths.is_empty() {
        parts.push(or_group(
            paths
                .iter()
                .map(|p| match p.strip_prefix('~') {
                    Some(re) => format!(
                        "http.path ~ {}",
                        raw(&format!("^{}", re.replace("?<", "?P<")))
                    ),
                    None => format!("http.path ^= {}", raw(p)),
                })
                .collect(),
        ));
    }
    for (name, values) in &r.headers {
        let field = format!(
            "any(lower(http.headers.{}))",
            name.to_ascii_lowercase().replace('-', "_")
        );
        parts.push(or_group(
            values
                .iter()
                .map(|v| match v.strip_prefix("~*") {
                    Some(re) => format!("{field} ~ {}", raw(&re.to_ascii_lowercase())),
                    None => format!("{field} == {}", raw(&v.to_ascii_lowercase())),
                })
                .collect(),
        ));
    }
    let mut e = parts.join(" && ");
    if let Some(p) = protocol_clause(r) {
        e = format!("({e}) && {p}");
    }
    e
}

/// compat.lua's get_priority for one path group.
pub fn group_priority(r: &RouteConfig, paths: &[&str]) -> u64 {
    let weight = [
        !r.methods.is_empty(),
        !r.hosts.is_empty(),
        !r.headers.is_empty(),
        !paths.is_empty(),
    ]
    .iter()
    .filter(|b| **b)
    .count() as u64;
    let plain = !r.hosts.is_empty() && r.hosts.iter().all(|h| !h.contains('*'));
    let hc = r.headers.len().min(255) as u64;
    let regex = paths.first().is_some_and(|p| is_regex(p));
    let rp = if regex { r.regex_priority as u64 } else { 0 };
    let len = if regex {
        0
    } else {
        paths.first().map_or(0, |p| p.len().min(0x7FFFF)) as u64
    };
    (weight << 61)
        | (u64::from(plain) << 60)
        | (hc << 52)
        | (u64::from(regex) << 51)
        | (rp << 19)
        | len
}

/// An expression route with Kong's protocol clause appended.
pub fn expression_of(r: &RouteConfig) -> String {
    let e = r.expression.clone().unwrap_or_default();
    match protocol_clause(r) {
        Some(p) => format!("({e}) && {p}"),
        None => e,
    }
}

/// (priority, uuid, expression) for every matcher; uuids descend with
/// (created_order, id) so that atc-router's "larger uuid first" tie-break
/// equals our "earlier created first".
/// (priority, uuid, expression) of every matcher.
pub type AtcMatcher = (usize, Uuid, String);

pub fn matchers(routes: &[RouteConfig]) -> (Vec<AtcMatcher>, HashMap<Uuid, String>) {
    let mut order: Vec<usize> = (0..routes.len()).collect();
    order.sort_by(|&a, &b| {
        routes[a]
            .created_order
            .cmp(&routes[b].created_order)
            .then(routes[a].id.cmp(&routes[b].id))
    });
    let mut out = Vec::new();
    let mut ids = HashMap::new();
    for (rank, &i) in order.iter().enumerate() {
        let r = &routes[i];
        let uuid = Uuid::from_u128(u128::MAX - rank as u128);
        ids.insert(uuid, r.id.clone());
        if r.expression.is_some() {
            out.push((r.priority.unwrap_or(0) as usize, uuid, expression_of(r)));
        } else {
            for g in path_groups(r) {
                out.push((
                    group_priority(r, &g) as usize,
                    uuid,
                    group_expression(r, &g),
                ));
            }
        }
    }
    (out, ids)
}

fn segments(path: &str) -> Vec<&str> {
    let p = path.strip_prefix('/').unwrap_or(path);
    let mut v: Vec<&str> = p.split('/').collect();
    if v.last() == Some(&"") {
        v.pop();
    }
    v
}

/// Fill an ATC context from our request context, as Kong's Lua side does.
pub fn context<'s>(
    schema: &'s Schema,
    fields: &HashMap<String, usize>,
    ctx: &RequestContext<'_>,
) -> Context<'s> {
    let mut c = Context::new(schema);
    for f in fields.keys() {
        match f.as_str() {
            "http.method" => c.add_value(f, Value::String(ctx.method.to_string())),
            "http.host" => c.add_value(f, Value::String(ctx.host.to_string())),
            "http.path" => c.add_value(f, Value::String(ctx.path.to_string())),
            "net.protocol" => c.add_value(f, Value::String(ctx.protocol.as_str().to_string())),
            "net.dst.port" => c.add_value(f, Value::Int(i64::from(ctx.effective_port()))),
            "net.src.port" => {
                if let Some(p) = ctx.src_port {
                    c.add_value(f, Value::Int(i64::from(p)))
                }
            }
            "net.src.ip" => {
                if let Some(ip) = ctx.src_ip {
                    c.add_value(f, Value::IpAddr(ip))
                }
            }
            "net.dst.ip" => {
                if let Some(ip) = ctx.dst_ip {
                    c.add_value(f, Value::IpAddr(ip))
                }
            }
            "tls.sni" => {
                if let Some(s) = ctx.sni {
                    c.add_value(f, Value::String(s.to_string()))
                }
            }
            "http.path.segments.len" => {
                c.add_value(f, Value::Int(segments(&ctx.path).len() as i64))
            }
            other => {
                if let Some(h) = other.strip_prefix("http.headers.") {
                    for (n, v) in ctx.headers {
                        if n.to_ascii_lowercase().replace('-', "_") == h {
                            c.add_value(f, Value::String(v.to_string()));
                        }
                    }
                } else if let Some(q) = other.strip_prefix("http.queries.") {
                    for kv in ctx.query.unwrap_or("").split('&').filter(|s| !s.is_empty()) {
                        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                        if k == q {
                            c.add_value(f, Value::String(v.to_string()));
                        }
                    }
                } else if let Some(s) = other.strip_prefix("http.path.segments.") {
                    let segs = segments(&ctx.path);
                    let (a, b) = match s.split_once('_') {
                        Some((a, b)) => (a.parse::<usize>().ok(), b.parse::<usize>().ok()),
                        None => (s.parse().ok(), s.parse().ok()),
                    };
                    if let (Some(a), Some(b)) = (a, b) {
                        if a <= b && b < segs.len() {
                            c.add_value(f, Value::String(segs[a..=b].join("/")));
                        }
                    }
                }
            }
        }
    }
    c
}
