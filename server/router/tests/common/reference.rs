//! A plain, obviously-correct LINEAR reference matcher: expand every route
//! into its path groups, sort all of them by priority, test each in turn.
use portico_router::expr;
use portico_router::{Protocol, RequestContext, RouteConfig};
use regex::Regex;
use std::cmp::Reverse;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefMatch {
    pub id: String,
    pub numbered: Vec<Option<String>>,
    pub named: Vec<(String, String)>,
    pub prefix_len: usize,
}

struct Candidate<'a> {
    route: &'a RouteConfig,
    /// paths of this group, in configuration order
    paths: Vec<&'a str>,
}

fn is_regex(p: &str) -> bool {
    p.starts_with('~')
}

fn groups(r: &RouteConfig) -> Vec<Vec<&str>> {
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

/// Sort key, larger = earlier.
fn key(c: &Candidate<'_>) -> (bool, u64, u8, bool, usize, bool, i64, usize) {
    let r = c.route;
    if r.expression.is_some() {
        return (true, r.priority.unwrap_or(0), 0, false, 0, false, 0, 0);
    }
    let weight = [
        !r.methods.is_empty(),
        !r.hosts.is_empty(),
        !r.headers.is_empty(),
        !c.paths.is_empty(),
    ]
    .iter()
    .filter(|b| **b)
    .count() as u8;
    let plain = !r.hosts.is_empty() && r.hosts.iter().all(|h| !h.contains('*'));
    let regex = c.paths.first().is_some_and(|p| is_regex(p));
    let len = if regex {
        0
    } else {
        c.paths.first().map_or(0, |p| p.len())
    };
    (
        false,
        0,
        weight,
        plain,
        r.headers.len(),
        regex,
        if regex { r.regex_priority } else { 0 },
        len,
    )
}

fn host_ok(pattern: &str, ctx: &RequestContext<'_>) -> bool {
    let (name, port) = match pattern.rsplit_once(':') {
        Some((n, p)) => (n, p.parse::<u16>().ok()),
        None => (pattern, None),
    };
    let eff_port = ctx
        .host_port
        .or(ctx.dst_port)
        .unwrap_or(if ctx.protocol == Protocol::Https {
            443
        } else {
            80
        });
    if port.is_some_and(|p| p != eff_port) {
        return false;
    }
    let name = name.to_lowercase();
    let host: &str = &ctx.host;
    if let Some(suffix) = name.strip_prefix('*') {
        host.ends_with(suffix)
    } else if let Some(prefix) = name.strip_suffix('*') {
        host.starts_with(prefix)
    } else {
        host == name
    }
}

fn header_ok(name: &str, values: &[String], ctx: &RequestContext<'_>) -> bool {
    let norm = name.to_lowercase().replace('-', "_");
    ctx.headers
        .iter()
        .filter(|(n, _)| n.to_lowercase().replace('-', "_") == norm)
        .any(|(_, v)| {
            values.iter().any(|c| match c.strip_prefix("~*") {
                Some(re) => Regex::new(&format!("(?i){re}"))
                    .map(|re| re.is_match(v))
                    .unwrap_or(false),
                None => c.to_lowercase() == v.to_lowercase(),
            })
        })
}

fn path_ok(p: &str, path: &str) -> Option<RefMatch> {
    let empty = RefMatch {
        id: String::new(),
        numbered: vec![],
        named: vec![],
        prefix_len: 0,
    };
    if let Some(re) = p.strip_prefix('~') {
        let re = Regex::new(&format!("^{re}")).ok()?;
        let c = re.captures(path)?;
        let numbered: Vec<Option<String>> = c
            .iter()
            .map(|m| m.map(|m| m.as_str().to_string()))
            .collect();
        let named = re
            .capture_names()
            .flatten()
            .filter_map(|n| c.name(n).map(|m| (n.to_string(), m.as_str().to_string())))
            .collect();
        Some(RefMatch {
            numbered,
            named,
            prefix_len: c.get(0).map_or(0, |m| m.end()),
            ..empty
        })
    } else if path.starts_with(p) {
        Some(RefMatch {
            prefix_len: p.len(),
            ..empty
        })
    } else {
        None
    }
}

fn protocol_ok(r: &RouteConfig, ctx: &RequestContext<'_>) -> bool {
    if r.protocols == ["https"] {
        return true;
    }
    r.protocols.iter().any(|p| p == ctx.protocol.as_str())
}

fn try_match(c: &Candidate<'_>, ctx: &RequestContext<'_>) -> Option<RefMatch> {
    let r = c.route;
    if !protocol_ok(r, ctx) {
        return None;
    }
    if let Some(src) = &r.expression {
        let e = expr::compile(src).ok()?;
        let mut rec = expr::Recorder::default();
        if !expr::eval_recording(&e, ctx, &mut rec) {
            return None;
        }
        let mut named: Vec<(String, String)> = rec
            .captures
            .named()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        named.sort();
        return Some(RefMatch {
            id: r.id.clone(),
            numbered: rec
                .captures
                .numbered()
                .map(|g| g.map(str::to_string))
                .collect(),
            named,
            prefix_len: rec.path_match_end.unwrap_or(0),
        });
    }
    if !r.methods.is_empty() && !r.methods.iter().any(|m| m == ctx.method) {
        return None;
    }
    if !r.hosts.is_empty() && !r.hosts.iter().any(|h| host_ok(h, ctx)) {
        return None;
    }
    if !r.headers.iter().all(|(n, v)| header_ok(n, v, ctx)) {
        return None;
    }
    let mut m = if c.paths.is_empty() {
        RefMatch {
            id: String::new(),
            numbered: vec![],
            named: vec![],
            prefix_len: 0,
        }
    } else {
        c.paths.iter().find_map(|p| path_ok(p, &ctx.path))?
    };
    m.id = r.id.clone();
    m.named.sort();
    Some(m)
}

/// Linear reference lookup.
pub fn find(routes: &[RouteConfig], ctx: &RequestContext<'_>) -> Option<RefMatch> {
    let mut cands: Vec<Candidate<'_>> = Vec::new();
    for r in routes {
        for g in groups(r) {
            cands.push(Candidate { route: r, paths: g });
        }
    }
    cands.sort_by(|a, b| {
        Reverse(key(a))
            .cmp(&Reverse(key(b)))
            .then(a.route.created_order.cmp(&b.route.created_order))
            .then(a.route.id.cmp(&b.route.id))
    });
    cands.iter().find_map(|c| try_match(c, ctx))
}
