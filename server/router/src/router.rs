//! The router: build from route configs, find the best match for a request.
//!
//! # Priority rules
//!
//! Each route is split into *matchers*: an expression route is one matcher;
//! a traditional route gives one matcher per *path group* (its paths grouped
//! by priority: all regex paths together, prefix paths by length, as Kong's
//! `traditional_compatible` router does), or a single matcher if it has no
//! paths. Matchers are ordered by:
//!
//! 0. expression routes before traditional ones; among expression routes,
//!    higher `priority` first;
//! 1. (traditional) more configured fields among methods, hosts, headers,
//!    paths;
//! 2. routes that have hosts, none of them a wildcard, first;
//! 3. more header names (capped at 255);
//! 4. regex path groups before prefix ones; among regex groups, higher
//!    `regex_priority` first;
//! 5. longer prefix first (length capped at 0x7FFFF);
//! 6. tie-break: lower `created_order` first, then lower `id` (byte order),
//!    then the order of the route's paths.
//!
//! Steps 1-5 are Kong's `compat.lua` priority bit layout
//! (`weight:3 | plain_host:1 | header_count:8 | regex:1 | regex_priority:32 |
//! max_length:19`); comparing the fields as a tuple is the same order for
//! in-range values and also orders negative `regex_priority` sensibly.
//! Kong itself breaks ties by the larger matcher UUID; here ties are broken
//! by creation order (see [`crate::model::RouteConfig::created_order`]).
//!
//! A route whose only protocol is `https` also matches plain-http requests;
//! the match then carries `https_redirect` (the route's
//! `https_redirect_status_code`). Otherwise the request protocol must be one
//! of the route's protocols.

use crate::captures::Captures;
use crate::context::{Protocol, RequestContext};
use crate::expr::{self, Expr, Field, Op, Predicate};
use crate::index::{Bucket, Entry, HostKey, Index, NO_REGEX};
use crate::model::{PathHandling, RouteConfig};
use crate::upstream::upstream_path;
use crate::validate::{
    compile_route, Compiled, HostKind, PathPattern, Protocols, RouteError, Traditional,
};
use std::cmp::Reverse;

/// The result of a successful lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match<'r> {
    /// Id of the matched route.
    pub route_id: &'r str,
    /// Index of the matched route in the slice given to [`Router::build`].
    pub route_index: usize,
    /// Name of the matched route.
    pub route_name: Option<&'r str>,
    /// The configured host that matched (first matching one, in order).
    pub matched_host: Option<&'r str>,
    /// The configured path that matched (first matching one of the group).
    pub matched_path: Option<&'r str>,
    /// Length of the matched part of the request path (prefix length, or end
    /// of the regex match); 0 if no path was matched.
    pub matched_prefix_len: usize,
    /// Upstream path for a service without a path (see [`upstream_path`]).
    pub upstream_path: String,
    /// Regex captures.
    pub captures: Captures,
    /// The route's `strip_path`.
    pub strip_path: bool,
    /// The route's `preserve_host`.
    pub preserve_host: bool,
    /// The route's `path_handling`.
    pub path_handling: PathHandling,
    /// Set when the route is https-only and the request is plain http: the
    /// status code to answer with (426, or a redirect code).
    pub https_redirect: Option<u16>,
}

impl Match<'_> {
    /// Upstream path for a service with the given path.
    pub fn upstream_path_for(
        &self,
        service_path: Option<&str>,
        ctx: &RequestContext<'_>,
    ) -> String {
        upstream_path(
            service_path,
            &ctx.path,
            self.matched_prefix_len,
            self.strip_path,
            self.path_handling,
        )
    }
}

struct RouteEntry {
    id: String,
    name: Option<String>,
    strip_path: bool,
    preserve_host: bool,
    path_handling: PathHandling,
    redirect_code: u16,
    protocols: Protocols,
    methods_mask: u64,
    paths: Vec<String>,
    compiled: Compiled,
}

#[derive(Clone, Copy)]
struct MatcherRef {
    route: u32,
    group: u32,
}

/// A compiled, indexed set of routes.
pub struct Router {
    routes: Vec<RouteEntry>,
    matchers: Vec<MatcherRef>,
    index: Index,
    custom_methods: Vec<(String, u64)>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("routes", &self.routes.len())
            .field("matchers", &self.matchers.len())
            .finish()
    }
}

const OVERFLOW_METHOD: u64 = 1 << 63;

fn std_method_bit(m: &str) -> Option<u64> {
    Some(match m {
        "GET" => 1,
        "POST" => 1 << 1,
        "PUT" => 1 << 2,
        "PATCH" => 1 << 3,
        "DELETE" => 1 << 4,
        "HEAD" => 1 << 5,
        "OPTIONS" => 1 << 6,
        "TRACE" => 1 << 7,
        "CONNECT" => 1 << 8,
        _ => return None,
    })
}

/// (class, inverted expression priority, traditional key, created_order,
/// route index, group, matcher index): ascending order is priority order.
type SortKey = (u8, u64, Reverse<TradKey>, u64, usize, u32, usize);

/// Sort key of a matcher (compared so that "greater" means "first").
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
struct TradKey {
    weight: u8,
    plain_hosts: bool,
    header_count: u8,
    regex: bool,
    regex_priority: i64,
    prefix_len: u32,
}

fn trad_key(r: &RouteConfig, t: &Traditional, group: usize) -> TradKey {
    let g = t.groups.get(group);
    let has_paths = g.is_some_and(|g| !g.paths.is_empty());
    let weight = u8::from(!t.methods.is_empty())
        + u8::from(!t.hosts.is_empty())
        + u8::from(!t.headers.is_empty())
        + u8::from(has_paths);
    let regex = g.is_some_and(|g| g.is_regex && has_paths);
    TradKey {
        weight,
        plain_hosts: !t.hosts.is_empty()
            && t.hosts.iter().all(|h| matches!(h.kind, HostKind::Exact(_))),
        header_count: u8::try_from(t.headers.len()).unwrap_or(u8::MAX),
        regex,
        regex_priority: if regex { r.regex_priority } else { 0 },
        prefix_len: if regex {
            0
        } else {
            g.map_or(0, |g| g.prefix_len.min(0x7FFFF) as u32)
        },
    }
}

/// Necessary-condition extraction for expression routes: the set of exact
/// hosts (resp. path prefixes) one of which must hold for the expression to
/// be true, if one can be derived.
fn extract(
    e: &Expr<Predicate>,
    want: &dyn Fn(&Predicate) -> Option<String>,
) -> Option<Vec<String>> {
    match e {
        Expr::Pred(p) => want(p).map(|s| vec![s]),
        Expr::And(v) => v.iter().find_map(|c| extract(c, want)),
        Expr::Or(v) => {
            let mut all = Vec::new();
            for c in v {
                all.extend(extract(c, want)?);
            }
            Some(all)
        }
        Expr::Not(_) => None,
    }
}

fn host_constraint(p: &Predicate) -> Option<String> {
    match (&p.field, p.op, &p.rhs, p.lower) {
        (Field::Host, Op::Equals, expr::ast::Value::Str(s), false) => Some(s.clone()),
        _ => None,
    }
}

fn path_constraint(p: &Predicate) -> Option<String> {
    match (&p.field, p.op, &p.rhs, p.lower) {
        (Field::Path, Op::Equals | Op::Prefix, expr::ast::Value::Str(s), false) => Some(s.clone()),
        _ => None,
    }
}

impl Router {
    /// Validate and compile `routes`. All validation errors of all routes are
    /// returned together; duplicate ids are rejected too.
    pub fn build(routes: &[RouteConfig]) -> Result<Router, Vec<RouteError>> {
        let mut errors = Vec::new();
        let mut entries = Vec::with_capacity(routes.len());
        let mut custom_methods: Vec<(String, u64)> = Vec::new();
        let mut ids: crate::index::FxMap<&str, ()> = Default::default();
        for r in routes {
            if ids.insert(r.id.as_str(), ()).is_some() {
                errors.push(RouteError {
                    route: r.id.clone(),
                    field: "id".to_string(),
                    message: "duplicate route id".to_string(),
                });
            }
            match compile_route(r) {
                Err(mut e) => errors.append(&mut e),
                Ok(c) => {
                    let mut mask = 0u64;
                    if let Compiled::Traditional(t) = &c.compiled {
                        for m in &t.methods {
                            mask |= match std_method_bit(m) {
                                Some(b) => b,
                                None => match custom_methods.iter().find(|(n, _)| n == m) {
                                    Some((_, b)) => *b,
                                    None => {
                                        let n = custom_methods.len();
                                        let b = if n < 54 {
                                            1u64 << (9 + n)
                                        } else {
                                            OVERFLOW_METHOD
                                        };
                                        custom_methods.push((m.clone(), b));
                                        b
                                    }
                                },
                            };
                        }
                    }
                    entries.push(RouteEntry {
                        id: r.id.clone(),
                        name: r.name.clone(),
                        strip_path: r.strip_path,
                        preserve_host: r.preserve_host,
                        path_handling: r.path_handling,
                        redirect_code: r.https_redirect_status_code,
                        protocols: c.protocols,
                        methods_mask: mask,
                        paths: r.paths.clone(),
                        compiled: c.compiled,
                    });
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }

        // matchers in priority order
        let mut matchers = Vec::new();
        for (ri, e) in entries.iter().enumerate() {
            let groups = match &e.compiled {
                Compiled::Traditional(t) => t.groups.len(),
                Compiled::Expression { .. } => 1,
            };
            for g in 0..groups {
                matchers.push(MatcherRef {
                    route: ri as u32,
                    group: g as u32,
                });
            }
        }
        // sort key: expression routes first (higher priority first), then
        // traditional ones by TradKey (greater first); ties by creation order,
        // id, input position, group
        let mut keyed: Vec<SortKey> = matchers
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let r = &routes[m.route as usize];
                let (class, prio, key) = match &entries[m.route as usize].compiled {
                    Compiled::Traditional(t) => (1u8, 0u64, trad_key(r, t, m.group as usize)),
                    Compiled::Expression { priority, .. } => {
                        (0u8, u64::MAX - *priority, TradKey::default())
                    }
                };
                (
                    class,
                    prio,
                    Reverse(key),
                    r.created_order,
                    m.route as usize,
                    m.group,
                    i,
                )
            })
            .collect();
        keyed.sort_unstable_by(|a, b| {
            (a.0, a.1, &a.2, a.3)
                .cmp(&(b.0, b.1, &b.2, b.3))
                .then_with(|| routes[a.4].id.cmp(&routes[b.4].id))
                .then((a.4, a.5).cmp(&(b.4, b.5)))
        });
        let order: Vec<usize> = keyed.iter().map(|k| k.6).collect();
        let matchers: Vec<MatcherRef> = order.iter().map(|&i| matchers[i]).collect();

        // index
        let exact_hosts = entries
            .iter()
            .map(|e| match &e.compiled {
                Compiled::Traditional(t) => t.hosts.len(),
                Compiled::Expression { .. } => 1,
            })
            .sum();
        let mut index = Index::with_capacity(exact_hosts);
        for (rank, m) in matchers.iter().enumerate() {
            let rank = rank as u32;
            let e = &entries[m.route as usize];
            match &e.compiled {
                Compiled::Traditional(t) => {
                    let Some(group) = t.groups.get(m.group as usize) else {
                        continue;
                    };
                    let add = |b: &mut Bucket, port: u16| {
                        let entry = |regex| Entry { rank, port, regex };
                        if group.paths.is_empty() {
                            b.add(None, entry(NO_REGEX), None);
                        }
                        for (pi, (_, p)) in group.paths.iter().enumerate() {
                            match p {
                                PathPattern::Prefix(s) => b.add(Some(s), entry(NO_REGEX), None),
                                PathPattern::Regex { literal_prefix, re } => {
                                    b.add(Some(literal_prefix), entry(pi as u16), Some(re.as_str()))
                                }
                            }
                        }
                    };
                    if t.hosts.is_empty() {
                        if let Some(b) = index.bucket_mut(HostKey::Any) {
                            add(b, 0);
                        }
                    }
                    for h in &t.hosts {
                        let k = match &h.kind {
                            HostKind::Exact(s) => HostKey::Exact(s),
                            HostKind::Suffix(s) => HostKey::Suffix(s),
                            HostKind::Prefix(s) => HostKey::Prefix(s),
                        };
                        if let Some(b) = index.bucket_mut(k) {
                            add(b, h.port.unwrap_or(0));
                        }
                    }
                }
                Compiled::Expression { expr, .. } => {
                    let hosts = extract(expr, &host_constraint);
                    let paths = extract(expr, &path_constraint);
                    let entry = Entry {
                        rank,
                        port: 0,
                        regex: NO_REGEX,
                    };
                    let host_keys: Vec<HostKey<'_>> = match &hosts {
                        Some(h) => h.iter().map(|s| HostKey::Exact(s)).collect(),
                        None => vec![HostKey::Any],
                    };
                    for hk in host_keys {
                        let Some(b) = index.bucket_mut(hk) else {
                            continue;
                        };
                        match &paths {
                            Some(ps) => {
                                for p in ps {
                                    b.add(Some(p), entry, None);
                                }
                            }
                            None => b.add(None, entry, None),
                        }
                    }
                }
            }
        }
        index.finalize();
        Ok(Router {
            routes: entries,
            matchers,
            index,
            custom_methods,
        })
    }

    /// Number of routes.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether there are no routes.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Number of matchers (path groups and expression routes).
    pub fn matcher_count(&self) -> usize {
        self.matchers.len()
    }

    fn method_bit(&self, m: &str) -> u64 {
        if let Some(b) = std_method_bit(m) {
            return b;
        }
        self.custom_methods
            .iter()
            .find(|(n, _)| n == m)
            .map_or(0, |(_, b)| *b)
    }

    /// Compile every lazily compiled regex now (path regex sets, route
    /// regexes, header and expression regexes), for predictable latency.
    pub fn precompile(&self) {
        self.index.precompile();
        for r in &self.routes {
            if let Compiled::Expression { expr, .. } = &r.compiled {
                expr::precompile(expr);
            }
            if let Compiled::Traditional(t) = &r.compiled {
                for g in &t.groups {
                    for (_, p) in &g.paths {
                        if let PathPattern::Regex { re, .. } = p {
                            let _ = re.get();
                        }
                    }
                }
                for h in &t.headers {
                    for v in &h.values {
                        if let crate::validate::HeaderValue::Regex(re) = v {
                            let _ = re.get();
                        }
                    }
                }
            }
        }
    }

    /// `regex_done`: the entry's regex was already checked via a node set.
    #[inline]
    fn verify(
        &self,
        e: &Entry,
        ctx: &RequestContext<'_>,
        mbit: u64,
        port: u16,
        regex_done: bool,
    ) -> bool {
        let Some(m) = self.matchers.get(e.rank as usize) else {
            return false;
        };
        let Some(r) = self.routes.get(m.route as usize) else {
            return false;
        };
        let proto_ok = match ctx.protocol {
            Protocol::Http => r.protocols.http,
            Protocol::Https => r.protocols.https,
            // http routes take WebSocket upgrades too (as Kong's do)
            Protocol::Ws => r.protocols.ws || r.protocols.http,
            Protocol::Wss => r.protocols.wss || r.protocols.https,
        };
        if !proto_ok {
            return false;
        }
        match &r.compiled {
            Compiled::Traditional(t) => {
                if r.methods_mask != 0 {
                    if r.methods_mask & mbit == 0 {
                        return false;
                    }
                    if mbit == OVERFLOW_METHOD && !t.methods.iter().any(|x| x == ctx.method) {
                        return false;
                    }
                }
                if e.port != 0 && e.port != port {
                    return false;
                }
                for h in &t.headers {
                    let ok = ctx
                        .header_values(&h.name)
                        .any(|v| h.values.iter().any(|c| c.matches(v)));
                    if !ok {
                        return false;
                    }
                }
                if e.regex != NO_REGEX && !regex_done {
                    let group = t.groups.get(m.group as usize);
                    match group.and_then(|g| g.paths.get(e.regex as usize)) {
                        Some((_, PathPattern::Regex { re, .. })) => {
                            if !re.is_match(&ctx.path) {
                                return false;
                            }
                        }
                        _ => return false,
                    }
                }
                true
            }
            Compiled::Expression { expr, .. } => expr::eval(expr, ctx),
        }
    }

    /// Rank of the best matching matcher.
    fn best_rank(&self, ctx: &RequestContext<'_>) -> Option<u32> {
        let mbit = self.method_bit(ctx.method);
        let port = ctx.effective_port();
        let mut best = u32::MAX;
        self.index
            .visit(&ctx.host, ctx.path.as_bytes(), |list, set| {
                for e in list {
                    if e.rank >= best {
                        break;
                    }
                    if self.verify(e, ctx, mbit, port, false) {
                        best = e.rank;
                        break;
                    }
                }
                let Some(ns) = set else { return };
                if ns.entries.first().is_none_or(|e| e.rank >= best) {
                    return;
                }
                let path: &str = &ctx.path;
                let mut after = 0;
                match ns.first_match(path) {
                    Some(None) => return,
                    Some(Some(p)) => {
                        let Some(e) = ns.entries.get(p) else { return };
                        if e.rank >= best {
                            return;
                        }
                        if self.verify(e, ctx, mbit, port, true) {
                            best = e.rank;
                            return;
                        }
                        after = p + 1;
                        // other matching patterns, in rank order
                        if let Some(sm) = ns.all_matches(path) {
                            for i in sm.iter().filter(|i| *i >= after) {
                                let Some(e) = ns.entries.get(i) else { break };
                                if e.rank >= best {
                                    break;
                                }
                                if self.verify(e, ctx, mbit, port, true) {
                                    best = e.rank;
                                    break;
                                }
                            }
                            return;
                        }
                    }
                    None => {}
                }
                // engines unavailable: one regex at a time
                for e in ns.entries.iter().skip(after) {
                    if e.rank >= best {
                        break;
                    }
                    if self.verify(e, ctx, mbit, port, false) {
                        best = e.rank;
                        break;
                    }
                }
            });
        (best != u32::MAX).then_some(best)
    }

    /// Route id and index of the best match, without computing captures or
    /// the upstream path.
    pub fn find_route(&self, ctx: &RequestContext<'_>) -> Option<(&str, usize)> {
        let rank = self.best_rank(ctx)?;
        let m = self.matchers.get(rank as usize)?;
        let r = self.routes.get(m.route as usize)?;
        Some((r.id.as_str(), m.route as usize))
    }

    /// Find the best matching route.
    pub fn find(&self, ctx: &RequestContext<'_>) -> Option<Match<'_>> {
        let rank = self.best_rank(ctx)?;
        let m = *self.matchers.get(rank as usize)?;
        let r = self.routes.get(m.route as usize)?;
        let mut captures = Captures::default();
        let mut matched_host = None;
        let mut matched_path = None;
        let mut prefix_len = 0;
        match &r.compiled {
            Compiled::Traditional(t) => {
                let port = ctx.effective_port();
                matched_host = t
                    .hosts
                    .iter()
                    .find(|h| h.matches(&ctx.host, port))
                    .map(|h| h.raw.as_str());
                if let Some(g) = t.groups.get(m.group as usize) {
                    for (pi, p) in &g.paths {
                        match p {
                            PathPattern::Prefix(s) => {
                                if ctx.path.starts_with(s.as_str()) {
                                    prefix_len = s.len();
                                    matched_path = r.paths.get(*pi).map(String::as_str);
                                    break;
                                }
                            }
                            PathPattern::Regex { re, .. } => {
                                if let Some((_, end)) = re.captures_into(&ctx.path, &mut captures) {
                                    prefix_len = end;
                                    matched_path = r.paths.get(*pi).map(String::as_str);
                                    break;
                                }
                            }
                        }
                    }
                }
            }
            Compiled::Expression { expr, .. } => {
                let mut rec = expr::Recorder::default();
                expr::eval_recording(expr, ctx, &mut rec);
                captures = rec.captures;
                prefix_len = rec.path_match_end.unwrap_or(0);
            }
        }
        let https_redirect =
            (r.protocols.https_only && ctx.protocol.is_plain()).then_some(r.redirect_code);
        Some(Match {
            route_id: &r.id,
            route_index: m.route as usize,
            route_name: r.name.as_deref(),
            matched_host,
            matched_path,
            matched_prefix_len: prefix_len,
            upstream_path: upstream_path(
                None,
                &ctx.path,
                prefix_len,
                r.strip_path,
                r.path_handling,
            ),
            captures,
            strip_path: r.strip_path,
            preserve_host: r.preserve_host,
            path_handling: r.path_handling,
            https_redirect,
        })
    }
}
