//! Data planes seen from the control plane: each group's config snapshot, data plane
//! tokens (shown once, stored as SHA-256, revocable), the nodes that poll, and what a
//! version's dashboard says about its gateway (live or not, proxy URLs, curl).

use std::collections::HashMap;
use std::sync::Arc;

use app::error::AppError;
use app::model::gateway::{token_name, Liveness};
use app::model::*;
use app::ports::{DataPlanes, Result};
use chrono::{DateTime, Duration, Utc};
use sea_orm::*;
use uuid::Uuid;

use super::audit::{self, Change};
use super::gateway::{implementation_dto, route_dto, route_fields};
use super::{db_err, Hub};
use crate::auth::secret;
use crate::gateway::snapshot::{ServiceConfig, Snapshot, Upstream};
use crate::store::{
    data_plane_node, data_plane_token, implementation, route, runtime_group, service_package,
    service_version,
};

/// Data plane tokens start with this.
pub const DP_TOKEN_PREFIX: &str = "pdp_";
/// A node that polled within this many seconds counts as connected (a long poll
/// returns at least every 25 s).
pub const CONNECTED_SECS: i64 = 40;

/// The longest refusal a node's report keeps (in characters).
pub const MAX_REPORT_CHARS: usize = 2_000;

/// Text a data plane sent (a report, its host name, its version), fit to be logged
/// and shown: control characters and the invisible marks that reorder or hide text
/// (bidirectional overrides, zero-width characters) become spaces, and it is cut to
/// `max` characters.
pub fn node_text(s: &str, max: usize) -> String {
    s.chars()
        .take(max)
        .map(|c| {
            let invisible = matches!(
                c,
                '\u{200B}'..='\u{200F}'
                    | '\u{202A}'..='\u{202E}'
                    | '\u{2060}'..='\u{2069}'
                    | '\u{FEFF}'
            );
            if c.is_control() || invisible {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// What a node says about itself on every request.
#[derive(Debug, Clone)]
pub struct NodeHello {
    pub id: Uuid,
    pub hostname: String,
    pub version: String,
    pub config_version: u64,
    pub embedded: bool,
}

fn token_dto(m: data_plane_token::Model) -> DataPlaneToken {
    DataPlaneToken {
        id: m.id,
        runtime_group_id: m.runtime_group_id,
        name: m.name,
        prefix: m.prefix,
        created_by: m.created_by_email,
        created_at: m.created_at,
        last_used_at: m.last_used_at,
    }
}

fn node_dto(m: data_plane_node::Model, now: DateTime<Utc>) -> DataPlaneNode {
    DataPlaneNode {
        id: m.id,
        hostname: m.hostname,
        version: m.version,
        config_version: m.config_version.max(0) as u64,
        embedded: m.embedded,
        connected: now - m.last_seen_at < Duration::seconds(CONNECTED_SECS),
        last_error: m.last_error,
        first_seen_at: m.first_seen_at,
        last_seen_at: m.last_seen_at,
    }
}

/// `http://` + the address, with an unspecified IP shown as the loopback one.
pub fn proxy_base(listen: &str) -> String {
    let shown = listen
        .replacen("0.0.0.0:", "127.0.0.1:", 1)
        .replacen("[::]:", "[::1]:", 1);
    format!("http://{shown}")
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A request path that a route's path matches: the prefix itself, or for a regex the
/// literal text before its first special character.
fn sample_path(paths: &[String]) -> String {
    let Some(p) = paths.first() else {
        return "/".into();
    };
    match p.strip_prefix('~') {
        None => p.clone(),
        Some(re) => {
            let lit: String = re
                .chars()
                .take_while(|c| !"\\^$.|?*+()[]{}".contains(*c))
                .collect();
            if lit.is_empty() {
                "/".into()
            } else {
                lit
            }
        }
    }
}

/// The proxy URL and a curl command that match a route.
fn call_example(base: &str, r: &RouteInput) -> (String, String) {
    if r.expression.is_some() {
        let url = format!("{base}/");
        return (url.clone(), format!("curl -i {}", shell_quote(&url)));
    }
    let path = sample_path(&r.paths);
    let url = format!("{base}{path}");
    let mut cmd = String::from("curl -i");
    if let Some(m) = r
        .methods
        .first()
        .filter(|_| !r.methods.iter().any(|m| m == "GET"))
    {
        cmd.push_str(&format!(" -X {m}"));
    }
    if let Some(h) = r.hosts.first() {
        let h = h.replace("*.", "api.").replace(".*", ".com");
        cmd.push_str(&format!(" -H {}", shell_quote(&format!("Host: {h}"))));
    }
    for (name, values) in &r.headers {
        if let Some(v) = values.iter().find(|v| !v.starts_with("~*")) {
            cmd.push_str(&format!(" -H {}", shell_quote(&format!("{name}: {v}"))));
        }
    }
    cmd.push(' ');
    cmd.push_str(&shell_quote(&url));
    (url, cmd)
}

impl Hub {
    /// The config snapshot of a group, as its data planes get it. Cached per config
    /// version; consistent because every change bumps the version in its transaction
    /// (the version is read before and after the content, and the read is redone when
    /// they differ).
    pub async fn snapshot(&self, group_id: Uuid) -> Result<Arc<Snapshot>> {
        for _ in 0..5 {
            let group = runtime_group::Entity::find_by_id(group_id)
                .one(&self.db)
                .await
                .map_err(db_err)?
                .ok_or_else(|| AppError::not_found("No such runtime group."))?;
            let version = group.config_version.max(0) as u64;
            if let Ok(cache) = self.snapshots.lock() {
                if let Some(s) = cache.get(&group_id).filter(|s| s.config_version == version) {
                    return Ok(s.clone());
                }
            }
            let snap = self.build_snapshot(&group, version).await?;
            let again = runtime_group::Entity::find_by_id(group_id)
                .one(&self.db)
                .await
                .map_err(db_err)?
                .map(|g| g.config_version.max(0) as u64);
            if again == Some(version) {
                // before any data plane can record traffic for its ids
                self.record_snapshot_ids(group_id, &snap).await?;
                let snap = Arc::new(snap);
                if let Ok(mut cache) = self.snapshots.lock() {
                    cache.insert(group_id, snap.clone());
                }
                return Ok(snap);
            }
        }
        Err(AppError::conflict(
            None,
            "The runtime group's configuration is changing too fast; try again.",
        ))
    }

    async fn build_snapshot(&self, group: &runtime_group::Model, version: u64) -> Result<Snapshot> {
        let versions = service_version::Entity::find()
            .filter(service_version::Column::RuntimeGroupId.eq(group.id))
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let ids: Vec<Uuid> = versions.iter().map(|v| v.id).collect();
        let impls: HashMap<Uuid, implementation::Model> = implementation::Entity::find()
            .filter(implementation::Column::VersionId.is_in(ids.clone()))
            .filter(implementation::Column::Enabled.eq(true))
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|m| (m.version_id, m))
            .collect();
        let mut routes: HashMap<Uuid, Vec<route::Model>> = HashMap::new();
        for r in route::Entity::find()
            .filter(route::Column::RuntimeGroupId.eq(group.id))
            .order_by_asc(route::Column::CreatedOrder)
            .all(&self.db)
            .await
            .map_err(db_err)?
        {
            routes.entry(r.version_id).or_default().push(r);
        }
        let pkg_ids: Vec<Uuid> = versions.iter().map(|v| v.package_id).collect();
        let packages: HashMap<Uuid, service_package::Model> = service_package::Entity::find()
            .filter(service_package::Column::Id.is_in(pkg_ids))
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let mut services = Vec::new();
        for v in versions {
            let (Some(i), Some(p)) = (impls.get(&v.id), packages.get(&v.package_id)) else {
                continue;
            };
            let routes = routes
                .remove(&v.id)
                .unwrap_or_default()
                .into_iter()
                .map(|r| {
                    route_fields(&r).to_config(&r.id.to_string(), r.created_order.max(0) as u64)
                })
                .collect();
            services.push(ServiceConfig {
                version_id: v.id.to_string(),
                package_id: p.id.to_string(),
                package_key: p.key.clone(),
                package_name: p.display_name.clone(),
                version_name: v.name.clone(),
                upstream: Upstream {
                    protocol: i.protocol.clone(),
                    host: i.host.clone(),
                    port: u16::try_from(i.port).unwrap_or(80),
                    path: i.path.clone(),
                    retries: i.retries.max(0) as u32,
                    connect_timeout_ms: i.connect_timeout.max(1) as u64,
                    read_timeout_ms: i.read_timeout.max(1) as u64,
                    write_timeout_ms: i.write_timeout.max(1) as u64,
                },
                routes,
            });
        }
        services.sort_by(|a, b| a.version_id.cmp(&b.version_id));
        let (plugins, consumers) = self.plugins_snapshot(group.id).await?;
        Ok(Snapshot {
            runtime_group_id: group.id.to_string(),
            runtime_group: group.name.clone(),
            config_version: version,
            generated_at: Utc::now().to_rfc3339(),
            services,
            plugins,
            consumers,
        })
    }

    /// Groups with an embedded data plane address: (id, name, address).
    pub async fn proxy_listeners(&self) -> Result<Vec<(Uuid, String, String)>> {
        Ok(runtime_group::Entity::find()
            .filter(runtime_group::Column::ProxyListen.is_not_null())
            .order_by_asc(runtime_group::Column::NameKey)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .filter_map(|g| g.proxy_listen.map(|l| (g.id, g.name, l)))
            .collect())
    }

    /// Sets a group's proxy address from the configuration (by group name); `None`
    /// when there is no such group.
    pub async fn configure_proxy_listen(&self, group: &str, listen: &str) -> Result<Option<()>> {
        let listen = app::model::gateway::proxy_listen("proxy_listen", listen)?;
        let (_writing, txn) = self.write_txn().await?;
        let Ok(g) = Self::find_group_row(&txn, group).await else {
            return Ok(None);
        };
        if g.proxy_listen != listen {
            let mut row: runtime_group::ActiveModel = g.into();
            row.proxy_listen = Set(listen);
            row.update(&txn).await.map_err(db_err)?;
        }
        txn.commit().await.map_err(db_err)?;
        self.gateway_changed();
        Ok(Some(()))
    }

    /// The group of a data plane token, or `None` when it is unknown or revoked.
    pub async fn authenticate_data_plane(
        &self,
        token: &str,
    ) -> Result<Option<runtime_group::Model>> {
        if !token.starts_with(DP_TOKEN_PREFIX) {
            return Ok(None);
        }
        let Some(t) = data_plane_token::Entity::find()
            .filter(data_plane_token::Column::SecretHash.eq(secret::sha256_hex(token)))
            .one(&self.db)
            .await
            .map_err(db_err)?
        else {
            return Ok(None);
        };
        let now = Utc::now();
        if t.last_used_at
            .is_none_or(|l| now - l > Duration::seconds(60))
        {
            let (_writing, txn) = self.write_txn().await?;
            data_plane_token::Entity::update_many()
                .col_expr(
                    data_plane_token::Column::LastUsedAt,
                    sea_orm::sea_query::Expr::value(now),
                )
                .filter(data_plane_token::Column::Id.eq(t.id))
                .exec(&txn)
                .await
                .map_err(db_err)?;
            txn.commit().await.map_err(db_err)?;
        }
        runtime_group::Entity::find_by_id(t.runtime_group_id)
            .one(&self.db)
            .await
            .map_err(db_err)
    }

    /// Records that a node of `group` is alive (and, with `error`, what it refused);
    /// its row is the group's own (the same node id in another group is another row),
    /// its text cut and cleaned by [`node_text`].
    pub async fn record_node(
        &self,
        group: Uuid,
        hello: &NodeHello,
        error: Option<Option<String>>,
    ) -> Result<()> {
        let now = Utc::now();
        // SQLite has one writer: take the hub's writer lock like every other change.
        let (writing, txn) = self.write_txn().await?;
        let existing = data_plane_node::Entity::find_by_id((group, hello.id))
            .one(&txn)
            .await
            .map_err(db_err)?;
        let error = error.map(|e| e.map(|e| node_text(&e, MAX_REPORT_CHARS)));
        match existing {
            Some(m) => {
                let mut row: data_plane_node::ActiveModel = m.into();
                row.hostname = Set(node_text(&hello.hostname, 255));
                row.version = Set(node_text(&hello.version, 64));
                row.config_version = Set(hello.config_version as i64);
                row.embedded = Set(hello.embedded);
                if let Some(e) = error {
                    row.last_error = Set(e);
                }
                row.last_seen_at = Set(now);
                row.update(&txn).await.map_err(db_err)?;
            }
            None => {
                let row = data_plane_node::ActiveModel {
                    id: Set(hello.id),
                    runtime_group_id: Set(group),
                    hostname: Set(node_text(&hello.hostname, 255)),
                    version: Set(node_text(&hello.version, 64)),
                    config_version: Set(hello.config_version as i64),
                    embedded: Set(hello.embedded),
                    last_error: Set(error.flatten()),
                    first_seen_at: Set(now),
                    last_seen_at: Set(now),
                };
                // Two first polls of one node may race (PostgreSQL): the loser retries
                // as an update.
                if let Err(e) = row.insert(&txn).await {
                    drop(txn);
                    drop(writing);
                    if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
                        return Box::pin(self.record_node(group, hello, None)).await;
                    }
                    return Err(db_err(e));
                }
            }
        }
        txn.commit().await.map_err(db_err)
    }

    pub(super) async fn nodes_of(&self, group: Uuid) -> Result<Vec<DataPlaneNode>> {
        let now = Utc::now();
        Ok(data_plane_node::Entity::find()
            .filter(data_plane_node::Column::RuntimeGroupId.eq(group))
            .order_by_desc(data_plane_node::Column::LastSeenAt)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|m| node_dto(m, now))
            .collect())
    }

    pub(super) async fn group_gateway_of(
        &self,
        _: &Authorized<'_>,
        group: &str,
    ) -> Result<GroupGateway> {
        let g = Self::find_group_row(&self.db, group).await?;
        let tokens = data_plane_token::Entity::find()
            .filter(data_plane_token::Column::RuntimeGroupId.eq(g.id))
            .order_by_asc(data_plane_token::Column::CreatedAt)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(token_dto)
            .collect();
        Ok(GroupGateway {
            proxy_listen: g.proxy_listen.clone(),
            config_version: g.config_version.max(0) as u64,
            tokens,
            nodes: self.nodes_of(g.id).await?,
        })
    }

    pub(super) async fn insert_dp_token(
        &self,
        actor: &Authorized<'_>,
        group: &str,
        input: NewDataPlaneToken,
    ) -> Result<CreatedDataPlaneToken> {
        token_name("name", &input.name)?;
        let secret = format!("{DP_TOKEN_PREFIX}{}", secret::random_secret());
        let (_writing, txn) = self.write_txn().await?;
        let g = Self::find_group_row(&txn, group).await?;
        let m = data_plane_token::ActiveModel {
            id: Set(Uuid::new_v4()),
            runtime_group_id: Set(g.id),
            name: Set(input.name.trim().to_string()),
            prefix: Set(secret.chars().take(10).collect()),
            secret_hash: Set(secret::sha256_hex(&secret)),
            created_by_email: Set(actor.email.clone()),
            created_at: Set(Utc::now()),
            last_used_at: Set(None),
        }
        .insert(&txn)
        .await
        .map_err(db_err)?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "data_plane_token.create",
                target_type: "runtime_group",
                target_id: g.id.to_string(),
                target_name: g.name.clone(),
                before: None,
                after: Some(serde_json::json!({ "name": m.name, "prefix": m.prefix })),
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        Ok(CreatedDataPlaneToken {
            token: token_dto(m),
            secret,
        })
    }

    pub(super) async fn delete_dp_token(
        &self,
        actor: &Authorized<'_>,
        group: &str,
        id: Uuid,
    ) -> Result<()> {
        let (_writing, txn) = self.write_txn().await?;
        let g = Self::find_group_row(&txn, group).await?;
        let t = data_plane_token::Entity::find_by_id(id)
            .filter(data_plane_token::Column::RuntimeGroupId.eq(g.id))
            .one(&txn)
            .await
            .map_err(db_err)?
            .ok_or_else(|| {
                AppError::not_found(format!("No data plane token \"{id}\" in \"{}\".", g.name))
            })?;
        data_plane_token::Entity::delete_by_id(t.id)
            .exec(&txn)
            .await
            .map_err(db_err)?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "data_plane_token.revoke",
                target_type: "runtime_group",
                target_id: g.id.to_string(),
                target_name: g.name.clone(),
                before: Some(serde_json::json!({ "name": t.name, "prefix": t.prefix })),
                after: None,
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)
    }

    /// Tokens, nodes, plugins and consumers of a group that is being deleted (in its
    /// transaction).
    pub(super) async fn delete_group_gateway<C: ConnectionTrait>(
        db: &C,
        group: Uuid,
    ) -> Result<()> {
        Self::delete_plugins_of_group(db, group).await?;
        data_plane_token::Entity::delete_many()
            .filter(data_plane_token::Column::RuntimeGroupId.eq(group))
            .exec(db)
            .await
            .map_err(db_err)?;
        data_plane_node::Entity::delete_many()
            .filter(data_plane_node::Column::RuntimeGroupId.eq(group))
            .exec(db)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    pub(super) async fn version_gateway_of(
        &self,
        _: &Authorized<'_>,
        package: &str,
        version_id: Uuid,
    ) -> Result<VersionGateway> {
        let pkg = Self::find_package_row(&self.db, package).await?;
        let v = Self::find_version_row(&self.db, &pkg, version_id).await?;
        let g = Self::find_group_row(&self.db, &v.runtime_group_id.to_string()).await?;
        let implementation = Self::implementation_of(&self.db, v.id)
            .await?
            .map(implementation_dto);
        let base = g.proxy_listen.as_deref().map(proxy_base);
        let routes: Vec<RouteView> = Self::routes_of(&self.db, v.id)
            .await?
            .into_iter()
            .map(|m| {
                let route = route_dto(m);
                let (proxy_url, curl) = match &base {
                    Some(b) => {
                        let (u, c) = call_example(b, &route.fields);
                        (Some(u), Some(c))
                    }
                    None => (None, None),
                };
                RouteView {
                    route,
                    proxy_url,
                    curl,
                }
            })
            .collect();
        let nodes = self.nodes_of(g.id).await?;
        let mut missing = Vec::new();
        match &implementation {
            None => missing.push("an implementation (the upstream URL)".to_string()),
            Some(i) if !i.enabled => missing.push("the implementation is disabled".to_string()),
            Some(_) => {}
        }
        if routes.is_empty() {
            missing.push("at least one route".to_string());
        }
        if !nodes.iter().any(|n| n.connected) {
            missing.push(format!(
                "a data plane serving runtime group \"{}\" (set its proxy address or start `portico gateway` with a token)",
                g.name
            ));
        }
        Ok(VersionGateway {
            implementation,
            routes,
            liveness: Liveness {
                live: missing.is_empty(),
                missing,
            },
            proxy_base: base,
            runtime_group: g.name,
        })
    }
}

#[async_trait::async_trait]
impl DataPlanes for Hub {
    async fn version_gateway(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
    ) -> Result<VersionGateway> {
        let actor = &actor.require(Permission::Read)?;
        self.version_gateway_of(actor, package, version_id).await
    }
    async fn group_gateway(&self, actor: &Actor, group: &str) -> Result<GroupGateway> {
        let actor = &actor.require(Permission::Read)?;
        self.group_gateway_of(actor, group).await
    }
    async fn create_data_plane_token(
        &self,
        actor: &Actor,
        group: &str,
        input: NewDataPlaneToken,
    ) -> Result<CreatedDataPlaneToken> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.insert_dp_token(actor, group, input).await
    }
    async fn revoke_data_plane_token(&self, actor: &Actor, group: &str, id: Uuid) -> Result<()> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.delete_dp_token(actor, group, id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_examples_match_the_route() {
        let r = RouteInput {
            methods: vec!["POST".into()],
            hosts: vec!["*.example.com".into()],
            paths: vec!["~/users/(?<id>\\d+)".into()],
            headers: [("x-version".to_string(), vec!["v2".to_string()])].into(),
            ..Default::default()
        };
        let (url, cmd) = call_example("http://127.0.0.1:8000", &r);
        assert_eq!(url, "http://127.0.0.1:8000/users/");
        assert_eq!(
            cmd,
            "curl -i -X POST -H 'Host: api.example.com' -H 'x-version: v2' 'http://127.0.0.1:8000/users/'"
        );
        assert_eq!(proxy_base("0.0.0.0:8000"), "http://127.0.0.1:8000");
        assert_eq!(shell_quote("a'b"), r"'a'\''b'");
    }
}
