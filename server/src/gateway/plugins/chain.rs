//! Per-route plugin chains, compiled once per snapshot.
//!
//! For each plugin name (in Kong's priority order) a route's chain holds the most
//! specific instance without a consumer (route > version > group) and the
//! consumer-scoped instances that apply to the route, by consumer id (route+consumer >
//! version+consumer > consumer). As in Kong (`kong/runloop/plugins_iterator.lua`),
//! the consumer-scoped ones are resolved when the plugin's turn comes, after the
//! authentication plugins (higher priority) identified the consumer: a consumer's
//! instance wins over any instance without a consumer.

use std::collections::HashMap;
use std::sync::Arc;

use portico_plugins::config::{PluginConfig, Policy};
use portico_plugins::snapshot::PluginInstance;
use portico_plugins::PluginName;

use super::consumers::{Consumer, Consumers};
use super::{
    acl, cors, ip_restriction, key_auth, rate_limiting, request_size_limiting, request_transformer,
    response_transformer, Plugin,
};
use crate::gateway::counters::{Counters, LocalCounters};

/// One plugin name in a route's chain.
pub(crate) struct Entry {
    default: Option<Arc<Plugin>>,
    by_consumer: HashMap<Arc<str>, Arc<Plugin>>,
}

impl Entry {
    /// The instance that applies to a request of `consumer`.
    pub(crate) fn resolve(&self, consumer: Option<&Consumer>) -> Option<&Arc<Plugin>> {
        if let Some(c) = consumer {
            if !self.by_consumer.is_empty() {
                if let Some(p) = self.by_consumer.get(&c.id) {
                    return Some(p);
                }
            }
        }
        self.default.as_ref()
    }
}

/// A route's plugins, highest priority first.
pub(crate) struct Chain {
    entries: Vec<Entry>,
}

impl Chain {
    pub(crate) fn entries(&self) -> &[Entry] {
        &self.entries
    }
}

/// Counter stores kept from one snapshot to the next (by plugin instance id), so a
/// config change does not reset local rate limits.
#[derive(Default)]
pub(crate) struct ChainStores {
    local: HashMap<String, Arc<LocalCounters>>,
}

/// A route, as the chains see it.
pub(crate) struct RouteScope<'a> {
    pub route_id: &'a str,
    pub version_id: &'a str,
}

fn applies(i: &PluginInstance, r: &RouteScope<'_>) -> bool {
    match (&i.scope.route_id, &i.scope.version_id) {
        (Some(route), _) => route == r.route_id,
        (None, Some(v)) => v == r.version_id,
        (None, None) => true,
    }
}

fn compile_one(
    i: &PluginInstance,
    name: PluginName,
    consumers: &Arc<Consumers>,
    old: &ChainStores,
    stores: &mut ChainStores,
) -> Result<Plugin, String> {
    let cfg =
        PluginConfig::from_value(name, i.config.clone()).map_err(|e| format!("config: {e}"))?;
    Ok(match cfg {
        PluginConfig::Cors(c) => Plugin::Cors(cors::Cors::compile(c)?),
        PluginConfig::KeyAuth(c) => Plugin::KeyAuth(key_auth::KeyAuth::compile(c, consumers)),
        PluginConfig::IpRestriction(c) => {
            Plugin::IpRestriction(ip_restriction::IpRestriction::compile(c)?)
        }
        PluginConfig::RequestSizeLimiting(c) => {
            Plugin::RequestSizeLimiting(request_size_limiting::RequestSizeLimiting::compile(c))
        }
        PluginConfig::Acl(c) => Plugin::Acl(acl::Acl::compile(c)?),
        PluginConfig::RateLimiting(c) => {
            let store: Arc<dyn Counters> = match c.policy {
                Policy::Local => {
                    let s = old.local.get(&i.id).cloned().unwrap_or_default();
                    stores.local.insert(i.id.clone(), s.clone());
                    s
                }
                Policy::Redis => crate::gateway::redis_counters::redis_counters(&c.redis)?,
            };
            Plugin::RateLimiting(rate_limiting::RateLimiting::compile(&i.id, c, store)?)
        }
        PluginConfig::RequestTransformer(c) => {
            Plugin::RequestTransformer(request_transformer::RequestTransformer::compile(c)?)
        }
        PluginConfig::ResponseTransformer(c) => {
            Plugin::ResponseTransformer(response_transformer::ResponseTransformer::compile(c)?)
        }
        PluginConfig::Prometheus(c) => Plugin::Prometheus(Arc::new(c)),
    })
}

/// One chain per route (`None`: no plugin applies).
pub(crate) type Chains = Vec<Option<Arc<Chain>>>;

/// Compile the plugins and consumers of a snapshot into one chain per route (`None`:
/// no plugin applies). An instance whose config does not deserialize, or that names
/// an unknown plugin, refuses the snapshot.
pub(crate) fn compile_chains(
    plugins: &[PluginInstance],
    consumers: &[portico_plugins::snapshot::ConsumerConfig],
    routes: &[RouteScope<'_>],
    old: &ChainStores,
) -> Result<(Chains, ChainStores), String> {
    let mut stores = ChainStores::default();
    if plugins.iter().all(|p| !p.enabled) {
        return Ok((routes.iter().map(|_| None).collect(), stores));
    }
    let consumers = Arc::new(Consumers::compile(consumers)?);
    // (instance, name, compiled)
    let mut compiled: Vec<(&PluginInstance, PluginName, Arc<Plugin>)> = Vec::new();
    for i in plugins.iter().filter(|p| p.enabled) {
        let who = || format!("plugin {} ({})", i.name, i.id);
        let name =
            PluginName::parse(&i.name).ok_or_else(|| format!("{}: unknown plugin", who()))?;
        if i.scope.consumer_id.is_some() && !name.allows_consumer_scope() {
            return Err(format!("{}: cannot be configured on a consumer", who()));
        }
        let p = compile_one(i, name, &consumers, old, &mut stores)
            .map_err(|e| format!("{}: {e}", who()))?;
        compiled.push((i, name, Arc::new(p)));
    }
    let mut chains = Vec::with_capacity(routes.len());
    for r in routes {
        let mut entries = Vec::new();
        for name in PluginName::ALL {
            let mut default: Option<(u8, &Arc<Plugin>)> = None;
            let mut by_consumer: HashMap<Arc<str>, (u8, Arc<Plugin>)> = HashMap::new();
            for (i, _, p) in compiled
                .iter()
                .filter(|(i, n, _)| *n == name && applies(i, r))
            {
                let rank = i.scope.rank();
                match &i.scope.consumer_id {
                    None => {
                        if default.is_none_or(|(best, _)| rank > best) {
                            default = Some((rank, p));
                        }
                    }
                    Some(c) => {
                        let e = by_consumer
                            .entry(Arc::from(c.as_str()))
                            .or_insert((0, p.clone()));
                        if rank > e.0 {
                            *e = (rank, p.clone());
                        }
                    }
                }
            }
            if default.is_some() || !by_consumer.is_empty() {
                entries.push(Entry {
                    default: default.map(|(_, p)| p.clone()),
                    by_consumer: by_consumer.into_iter().map(|(k, (_, p))| (k, p)).collect(),
                });
            }
        }
        chains.push((!entries.is_empty()).then(|| Arc::new(Chain { entries })));
    }
    Ok((chains, stores))
}

#[cfg(test)]
mod tests {
    use super::*;
    use portico_plugins::snapshot::Scope;
    use serde_json::json;

    fn inst(id: &str, name: &str, config: serde_json::Value, scope: Scope) -> PluginInstance {
        PluginInstance {
            id: id.into(),
            name: name.into(),
            config,
            enabled: true,
            protocols: vec![],
            scope,
        }
    }

    fn scope(route: Option<&str>, version: Option<&str>, consumer: Option<&str>) -> Scope {
        Scope {
            route_id: route.map(Into::into),
            version_id: version.map(Into::into),
            consumer_id: consumer.map(Into::into),
        }
    }

    fn limit_of(p: &Plugin) -> u64 {
        match p {
            Plugin::RequestSizeLimiting(p) => p.limit(),
            _ => panic!("not request-size-limiting"),
        }
    }

    fn consumer(id: &str) -> Consumer {
        Consumer {
            id: Arc::from(id),
            username: None,
            custom_id: None,
            groups: vec![],
        }
    }

    #[test]
    fn the_most_specific_scope_wins_and_consumers_win_over_routes() {
        let rsl = |n: i64| json!({"allowed_payload_size": n, "size_unit": "bytes"});
        let plugins = vec![
            inst(
                "g",
                "request-size-limiting",
                rsl(1),
                scope(None, None, None),
            ),
            inst(
                "v",
                "request-size-limiting",
                rsl(2),
                scope(None, Some("v1"), None),
            ),
            inst(
                "r",
                "request-size-limiting",
                rsl(3),
                scope(Some("r1"), None, None),
            ),
            inst(
                "c",
                "request-size-limiting",
                rsl(4),
                scope(None, None, Some("c1")),
            ),
            inst(
                "vc",
                "request-size-limiting",
                rsl(5),
                scope(None, Some("v1"), Some("c2")),
            ),
            inst(
                "vc3",
                "request-size-limiting",
                rsl(6),
                scope(None, Some("v1"), Some("c3")),
            ),
            inst(
                "rc3",
                "request-size-limiting",
                rsl(7),
                scope(Some("r1"), None, Some("c3")),
            ),
        ];
        let routes = [
            RouteScope {
                route_id: "r1",
                version_id: "v1",
            },
            RouteScope {
                route_id: "r2",
                version_id: "v1",
            },
            RouteScope {
                route_id: "r3",
                version_id: "v2",
            },
        ];
        let (chains, _) = compile_chains(&plugins, &[], &routes, &ChainStores::default()).unwrap();
        let get = |route: usize, c: Option<&str>| {
            let chain = chains[route].as_ref().unwrap();
            let cons = c.map(consumer);
            limit_of(chain.entries()[0].resolve(cons.as_ref()).unwrap())
        };
        // table: (route, consumer, expected limit)
        let table = [
            (0, None, 3),
            (1, None, 2),
            (2, None, 1),
            (0, Some("c1"), 4),
            (2, Some("c1"), 4),
            (0, Some("c2"), 5),
            (2, Some("c2"), 1),
            (0, Some("c3"), 7),
            (1, Some("c3"), 6),
            (0, Some("nobody"), 3),
        ];
        for (route, c, want) in table {
            assert_eq!(get(route, c), want, "route {route} consumer {c:?}");
        }
    }

    #[test]
    fn no_plugin_no_chain_and_bad_configs_refuse_the_snapshot() {
        let routes = [RouteScope {
            route_id: "r1",
            version_id: "v1",
        }];
        let (chains, _) = compile_chains(&[], &[], &routes, &ChainStores::default()).unwrap();
        assert!(chains[0].is_none());
        let other = vec![inst(
            "o",
            "cors",
            json!({}),
            scope(Some("elsewhere"), None, None),
        )];
        let (chains, _) = compile_chains(&other, &[], &routes, &ChainStores::default()).unwrap();
        assert!(chains[0].is_none(), "a plugin of another route only");
        let bad = vec![inst(
            "b",
            "rate-limiting",
            json!({"minute": "many"}),
            scope(None, None, None),
        )];
        let err = compile_chains(&bad, &[], &routes, &ChainStores::default())
            .err()
            .unwrap();
        assert!(err.contains("plugin rate-limiting (b): config"), "{err}");
        let unknown = vec![inst("u", "oauth2", json!({}), scope(None, None, None))];
        let err = compile_chains(&unknown, &[], &routes, &ChainStores::default())
            .err()
            .unwrap();
        assert!(err.contains("unknown plugin"), "{err}");
        let on_consumer = vec![inst(
            "k",
            "key-auth",
            json!({}),
            scope(None, None, Some("c")),
        )];
        assert!(compile_chains(&on_consumer, &[], &routes, &ChainStores::default()).is_err());
    }
}
