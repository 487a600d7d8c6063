//! A snapshot compiled for serving: the router over all routes of all services, and
//! for each route (by its index in the router) its service's upstream and its plugin
//! chain.

use std::collections::HashMap;
use std::sync::Arc;

use hyper::header::HeaderValue;
use hyper::http::uri::{Authority, PathAndQuery};
use portico_router::{RouteConfig, Router};

use super::log::RouteInfo;
use super::plugins::{compile_chains, Chain, ChainStores, RouteScope};
use super::snapshot::{ServiceConfig, Snapshot, Upstream};
use super::upstream::{UpstreamKey, UpstreamPool, UpstreamStats};

/// A service version's upstream, as requests use it.
pub(crate) struct ServiceTarget {
    pub pool: Arc<UpstreamPool>,
    /// The upstream's path prefix (`None`: `/`).
    pub path: Option<String>,
    /// `Host` sent upstream when the route does not preserve the client's.
    pub host_header: HeaderValue,
}

pub(crate) struct RouteTarget {
    pub info: Arc<RouteInfo>,
    pub service: Arc<ServiceTarget>,
    /// The route's plugins; `None`: no plugin applies (nothing to do per request).
    pub chain: Option<Arc<Chain>>,
}

pub(crate) struct Compiled {
    pub version: u64,
    pub router: Router,
    /// By route index (the order given to `Router::build`).
    pub routes: Vec<RouteTarget>,
    /// Some route looks at request headers (header matching or an expression): only
    /// then are the request headers collected for the router.
    pub needs_headers: bool,
    pub services: usize,
    /// Rate-limiting counter stores, kept for the next snapshot.
    pub stores: ChainStores,
}

pub(crate) type Pools = HashMap<UpstreamKey, Arc<UpstreamPool>>;

/// Kong's limits: timeouts up to 2^31 - 1 ms, retries up to 32 767.
const MAX_TIMEOUT_MS: u64 = 2_147_483_647;
const MAX_RETRIES: u32 = 32_767;

fn service_label(s: &ServiceConfig) -> String {
    format!("service {} {}", s.package_key, s.version_name)
}

/// Check an upstream and give its pool key and `Host` header.
fn check_upstream(s: &ServiceConfig) -> Result<(UpstreamKey, HeaderValue), String> {
    let u: &Upstream = &s.upstream;
    let label = || service_label(s);
    let https = match u.protocol.as_str() {
        "http" => false,
        "https" => true,
        other => {
            return Err(format!(
                "{}: upstream protocol {other:?} is neither http nor https",
                label()
            ))
        }
    };
    if u.host.is_empty() {
        return Err(format!("{}: upstream host is empty", label()));
    }
    if u.port == 0 {
        return Err(format!("{}: upstream port 0 is invalid", label()));
    }
    for (name, v) in [
        ("connect_timeout_ms", u.connect_timeout_ms),
        ("read_timeout_ms", u.read_timeout_ms),
        ("write_timeout_ms", u.write_timeout_ms),
    ] {
        if v == 0 || v > MAX_TIMEOUT_MS {
            return Err(format!(
                "{}: upstream {name} must be between 1 and {MAX_TIMEOUT_MS}",
                label()
            ));
        }
    }
    if u.retries > MAX_RETRIES {
        return Err(format!(
            "{}: upstream retries must be at most {MAX_RETRIES}",
            label()
        ));
    }
    let host = if u.host.contains(':') && !u.host.starts_with('[') {
        format!("[{}]", u.host)
    } else {
        u.host.clone()
    };
    let default_port = if https { 443 } else { 80 };
    let host_port = if u.port == default_port {
        host.clone()
    } else {
        format!("{host}:{}", u.port)
    };
    if host_port.parse::<Authority>().is_err() || format!("{host}:1").parse::<Authority>().is_err()
    {
        return Err(format!(
            "{}: upstream host {:?} is not a valid host name or address",
            label(),
            u.host
        ));
    }
    let host_header = HeaderValue::from_str(&host_port)
        .map_err(|_| format!("{}: upstream host {:?} is invalid", label(), u.host))?;
    if let Some(p) = &u.path {
        if !p.is_empty() && (!p.starts_with('/') || p.contains(['?', '#'])) {
            return Err(format!(
                "{}: upstream path {p:?} must start with / and have no query",
                label()
            ));
        }
        if p.parse::<PathAndQuery>().is_err() {
            return Err(format!("{}: upstream path {p:?} is invalid", label()));
        }
    }
    Ok((
        UpstreamKey {
            https,
            host,
            port: u.port,
            retries: u.retries,
            connect_timeout_ms: u.connect_timeout_ms,
            read_timeout_ms: u.read_timeout_ms,
            write_timeout_ms: u.write_timeout_ms,
        },
        host_header,
    ))
}

/// Compile `snapshot`, reusing the pools in `old` whose upstream is unchanged (and the
/// local rate-limiting counters of `previous`, the applied config). Returns the
/// compiled config and the pools it uses. A plugin whose config does not compile
/// refuses the snapshot.
pub(crate) fn compile(
    snapshot: Snapshot,
    old: &Pools,
    stats: &Arc<UpstreamStats>,
    previous: Option<&Compiled>,
) -> Result<(Compiled, Pools), String> {
    let version = snapshot.config_version;
    let mut pools: Pools = HashMap::new();
    let mut routes: Vec<RouteConfig> = Vec::new();
    let mut targets: Vec<RouteTarget> = Vec::new();
    // route id -> where it came from, for error messages
    let mut origin: HashMap<String, String> = HashMap::new();
    let services = snapshot.services.len();
    for mut s in snapshot.services {
        let (key, host_header) = check_upstream(&s)?;
        let pool = match pools.get(&key).or_else(|| old.get(&key)) {
            Some(p) => p.clone(),
            None => Arc::new(
                UpstreamPool::new(key.clone(), stats.clone())
                    .map_err(|e| format!("{}: {e}", service_label(&s)))?,
            ),
        };
        pools.insert(key, pool.clone());
        let service = Arc::new(ServiceTarget {
            pool,
            path: s.upstream.path.clone().filter(|p| !p.is_empty()),
            host_header,
        });
        let label = service_label(&s);
        for r in std::mem::take(&mut s.routes) {
            origin.entry(r.id.clone()).or_insert_with(|| match &r.name {
                Some(n) if !n.is_empty() => format!("route {n:?} ({}) of {label}", r.id),
                _ => format!("route {} of {label}", r.id),
            });
            targets.push(RouteTarget {
                info: Arc::new(RouteInfo {
                    route_id: r.id.clone(),
                    route_name: r.name.clone(),
                    package_id: s.package_id.clone(),
                    package_key: s.package_key.clone(),
                    version_id: s.version_id.clone(),
                    version_name: s.version_name.clone(),
                }),
                service: service.clone(),
                chain: None,
            });
            routes.push(r);
        }
    }
    let router = Router::build(&routes).map_err(|errors| {
        let parts: Vec<String> = errors
            .iter()
            .map(|e| {
                let who = origin
                    .get(&e.route)
                    .cloned()
                    .unwrap_or_else(|| format!("route {}", e.route));
                format!("{who}: {}: {}", e.field, e.message)
            })
            .collect();
        parts.join("; ")
    })?;
    let scopes: Vec<RouteScope<'_>> = targets
        .iter()
        .map(|t| RouteScope {
            route_id: &t.info.route_id,
            version_id: &t.info.version_id,
        })
        .collect();
    let empty = ChainStores::default();
    let (chains, stores) = compile_chains(
        &snapshot.plugins,
        &snapshot.consumers,
        &scopes,
        previous.map_or(&empty, |p| &p.stores),
    )?;
    drop(scopes);
    for (t, c) in targets.iter_mut().zip(chains) {
        t.chain = c;
    }
    router.precompile();
    let needs_headers = routes
        .iter()
        .any(|r| !r.headers.is_empty() || r.expression.is_some());
    Ok((
        Compiled {
            version,
            router,
            routes: targets,
            needs_headers,
            services,
            stores,
        },
        pools,
    ))
}
