//! Plugins of runtime groups (Kong's plugin entities): `impl Plugins for Hub`, which
//! plugins apply to a version or route (Kong's precedence between scopes), and the
//! plugins and consumers that go into a group's snapshot.
//!
//! A plugin is attached to a runtime group, a version (Kong's service) or a route,
//! and may be narrowed to a consumer; one instance of a plugin per attachment. Its
//! config is checked by `portico_plugins::validate` (see `plugin_rules`: Kong's rules, every field named)
//! and stored complete, defaults filled in. Every change bumps the group's config
//! version and is audited in its own transaction.

use std::collections::HashMap;

use app::error::AppError;
use app::model::*;
use app::ports::{Plugins, Result};
use chrono::Utc;
use portico_plugins::snapshot::{ConsumerConfig, KeyCredential, PluginInstance};
use sea_orm::sea_query::Query;
use sea_orm::*;
use serde_json::{json, Value};
use uuid::Uuid;

use super::audit::{self, Change};
use super::plugin_rules::{
    applied, check_plugin, list_from_text, list_to_text, merge, plugin_dto, plugin_summary,
    scope_of, Checked,
};
use super::{db_err, Hub};
use crate::store::{
    consumer, consumer_acl, key_auth_credential, plugin, route, runtime_group, service_version,
};

/// Where a plugin goes, resolved to stored rows.
struct Target {
    group: runtime_group::Model,
    version: Option<Uuid>,
    route: Option<Uuid>,
    consumer: Option<consumer::Model>,
}

impl Hub {
    /// The group, version, route and consumer a scope names (404 when one is
    /// unknown); `narrow` (the input's `consumer`) must be a consumer of that group.
    async fn resolve_scope<C: ConnectionTrait>(
        db: &C,
        scope: &PluginScope,
        narrow: Option<&EntityRef>,
    ) -> Result<Target> {
        let mut t = match scope {
            PluginScope::RuntimeGroup { group } => Target {
                group: Self::find_group_row(db, group).await?,
                version: None,
                route: None,
                consumer: None,
            },
            PluginScope::Version {
                package,
                version_id,
            } => {
                let (_, v) = Self::version_rows(db, package, *version_id).await?;
                Target {
                    group: Self::find_group_row(db, &v.runtime_group_id.to_string()).await?,
                    version: Some(v.id),
                    route: None,
                    consumer: None,
                }
            }
            PluginScope::Route {
                package,
                version_id,
                route_id,
            } => {
                let (_, v) = Self::version_rows(db, package, *version_id).await?;
                let r = route::Entity::find_by_id(*route_id)
                    .filter(route::Column::VersionId.eq(v.id))
                    .one(db)
                    .await
                    .map_err(db_err)?
                    .ok_or_else(|| {
                        AppError::not_found(format!(
                            "No route \"{route_id}\" in version \"{}\".",
                            v.name
                        ))
                    })?;
                Target {
                    group: Self::find_group_row(db, &v.runtime_group_id.to_string()).await?,
                    version: None,
                    route: Some(r.id),
                    consumer: None,
                }
            }
            PluginScope::Consumer { group, consumer } => {
                let group = Self::find_group_row(db, group).await?;
                let c = Self::consumer_row(db, &group, consumer).await?;
                Target {
                    group,
                    version: None,
                    route: None,
                    consumer: Some(c),
                }
            }
        };
        if let Some(want) = narrow {
            match &t.consumer {
                Some(c) if c.id != want.id => {
                    return Err(AppError::validation(
                        "consumer",
                        format!(
                            "this plugin is scoped to consumer '{}'; it cannot name another one",
                            c.id
                        ),
                    ))
                }
                Some(_) => {}
                None => {
                    let c = consumer::Entity::find_by_id(want.id)
                        .filter(consumer::Column::RuntimeGroupId.eq(t.group.id))
                        .one(db)
                        .await
                        .map_err(db_err)?
                        .ok_or_else(|| {
                            AppError::validation(
                                "consumer",
                                format!(
                                    "the foreign key '{{id=\"{}\"}}' does not reference an existing 'consumers' entity of runtime group '{}'.",
                                    want.id, t.group.name
                                ),
                            )
                        })?;
                    t.consumer = Some(c);
                }
            }
        }
        Ok(t)
    }

    /// What a plugin is attached to, for the audit log and messages.
    async fn scope_label<C: ConnectionTrait>(db: &C, m: &plugin::Model) -> Result<String> {
        let mut parts = Vec::new();
        if let Some(r) = m.route_id {
            let name = route::Entity::find_by_id(r)
                .one(db)
                .await
                .map_err(db_err)?
                .and_then(|r| r.name);
            parts.push(format!("route {}", name.unwrap_or_else(|| r.to_string())));
        }
        if let Some(v) = m.version_id {
            let name = service_version::Entity::find_by_id(v)
                .one(db)
                .await
                .map_err(db_err)?
                .map(|v| v.name);
            parts.push(format!("version {}", name.unwrap_or_else(|| v.to_string())));
        }
        if let Some(c) = m.consumer_id {
            let name = consumer::Entity::find_by_id(c)
                .one(db)
                .await
                .map_err(db_err)?
                .and_then(|c| c.username.or(c.custom_id));
            parts.push(format!(
                "consumer {}",
                name.unwrap_or_else(|| c.to_string())
            ));
        }
        if parts.is_empty() {
            let g = runtime_group::Entity::find_by_id(m.runtime_group_id)
                .one(db)
                .await
                .map_err(db_err)?
                .map(|g| g.name)
                .unwrap_or_default();
            parts.push(format!("runtime group {g}"));
        }
        Ok(format!("{} on {}", m.name, parts.join(", ")))
    }

    /// 409 when the attachment already has an instance of this plugin.
    async fn plugin_free<C: ConnectionTrait>(
        db: &C,
        group: Uuid,
        scope_key: &str,
        name: PluginName,
        except: Option<Uuid>,
    ) -> Result<()> {
        let mut q = plugin::Entity::find()
            .filter(plugin::Column::RuntimeGroupId.eq(group))
            .filter(plugin::Column::ScopeKey.eq(scope_key))
            .filter(plugin::Column::Name.eq(name.as_str()));
        if let Some(id) = except {
            q = q.filter(plugin::Column::Id.ne(id));
        }
        if let Some(other) = q.one(db).await.map_err(db_err)? {
            return Err(AppError::conflict(
                Some("name"),
                format!(
                    "A {name} plugin ({}) is already configured on this scope: one instance of a plugin per scope; change that one instead.",
                    other.id
                ),
            ));
        }
        Ok(())
    }

    async fn plugin_row<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<plugin::Model> {
        plugin::Entity::find_by_id(id)
            .one(db)
            .await
            .map_err(db_err)?
            .ok_or_else(|| AppError::not_found(format!("No plugin \"{id}\".")))
    }

    fn consumer_allowed(name: PluginName, consumer: bool) -> Result<()> {
        if consumer && !name.allows_consumer_scope() {
            return Err(AppError::validation(
                "consumer",
                format!("value must be null: the {name} plugin cannot be configured on a consumer"),
            ));
        }
        Ok(())
    }

    async fn list_plugins_of(&self, _: &Authorized<'_>, scope: PluginScope) -> Result<Vec<Plugin>> {
        let t = Self::resolve_scope(&self.db, &scope, None).await?;
        let mut q = plugin::Entity::find().filter(plugin::Column::RuntimeGroupId.eq(t.group.id));
        q = match (&scope, t.version, t.route, &t.consumer) {
            (_, _, Some(r), _) => q.filter(plugin::Column::RouteId.eq(r)),
            (_, Some(v), _, _) => q.filter(plugin::Column::VersionId.eq(v)),
            (_, _, _, Some(c)) => q.filter(plugin::Column::ConsumerId.eq(c.id)),
            _ => q
                .filter(plugin::Column::VersionId.is_null())
                .filter(plugin::Column::RouteId.is_null()),
        };
        Ok(q.order_by_asc(plugin::Column::CreatedAt)
            .order_by_asc(plugin::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(plugin_dto)
            .collect())
    }

    async fn insert_plugin(
        &self,
        actor: &Authorized<'_>,
        scope: PluginScope,
        input: PluginInput,
    ) -> Result<Plugin> {
        let config = input.config.clone().unwrap_or(Value::Null);
        let c = check_plugin(
            &input.name,
            &config,
            input.enabled,
            input.protocols,
            input.tags,
        )?;
        let (_writing, txn) = self.write_txn().await?;
        let t = Self::resolve_scope(&txn, &scope, input.consumer.as_ref()).await?;
        let consumer_id = t.consumer.as_ref().map(|c| c.id);
        Self::consumer_allowed(c.name, consumer_id.is_some())?;
        let key = plugin::scope_key(t.version, t.route, consumer_id);
        Self::plugin_free(&txn, t.group.id, &key, c.name, None).await?;
        let now = Utc::now();
        let m = plugin::ActiveModel {
            id: Set(Uuid::new_v4()),
            runtime_group_id: Set(t.group.id),
            version_id: Set(t.version),
            route_id: Set(t.route),
            consumer_id: Set(consumer_id),
            scope_key: Set(key),
            name: Set(c.name.as_str().to_string()),
            config: Set(c.config.to_string()),
            enabled: Set(c.enabled),
            protocols: Set(list_to_text(&c.protocols)),
            tags: Set(list_to_text(&c.tags)),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(db_err)?;
        Self::bump_config(&txn, vec![t.group.id]).await?;
        let label = Self::scope_label(&txn, &m).await?;
        let dto = plugin_dto(m);
        audit::record(
            &txn,
            actor,
            Change {
                action: "plugin.create",
                target_type: "plugin",
                target_id: dto.id.to_string(),
                target_name: label,
                before: None,
                after: Some(plugin_summary(&dto)),
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        self.gateway_changed();
        Ok(dto)
    }

    /// Stores new fields of an existing plugin (its attachment kept), audited.
    async fn store_plugin(
        &self,
        actor: &Authorized<'_>,
        txn: DatabaseTransaction,
        current: plugin::Model,
        c: Checked,
    ) -> Result<Plugin> {
        Self::consumer_allowed(c.name, current.consumer_id.is_some())?;
        Self::plugin_free(
            &txn,
            current.runtime_group_id,
            &current.scope_key,
            c.name,
            Some(current.id),
        )
        .await?;
        let before = plugin_dto(current.clone());
        let mut row: plugin::ActiveModel = current.into();
        row.name = Set(c.name.as_str().to_string());
        row.config = Set(c.config.to_string());
        row.enabled = Set(c.enabled);
        row.protocols = Set(list_to_text(&c.protocols));
        row.tags = Set(list_to_text(&c.tags));
        row.updated_at = Set(Utc::now());
        let m = row.update(&txn).await.map_err(db_err)?;
        Self::bump_config(&txn, vec![m.runtime_group_id]).await?;
        let label = Self::scope_label(&txn, &m).await?;
        let dto = plugin_dto(m);
        audit::record(
            &txn,
            actor,
            Change {
                action: "plugin.update",
                target_type: "plugin",
                target_id: dto.id.to_string(),
                target_name: label,
                before: Some(plugin_summary(&before)),
                after: Some(plugin_summary(&dto)),
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        self.gateway_changed();
        Ok(dto)
    }

    async fn put_plugin(
        &self,
        actor: &Authorized<'_>,
        id: Uuid,
        input: PluginInput,
    ) -> Result<Plugin> {
        let config = input.config.clone().unwrap_or(Value::Null);
        let c = check_plugin(
            &input.name,
            &config,
            input.enabled,
            input.protocols,
            input.tags,
        )?;
        let (_writing, txn) = self.write_txn().await?;
        let current = Self::plugin_row(&txn, id).await?;
        if let Some(want) = input.consumer {
            if current.consumer_id != Some(want.id) {
                return Err(AppError::validation(
                    "consumer",
                    "a plugin's scope cannot be changed: delete it and create it on the other scope",
                ));
            }
        }
        self.store_plugin(actor, txn, current, c).await
    }

    async fn patch_plugin_of(
        &self,
        actor: &Authorized<'_>,
        id: Uuid,
        patch: PluginPatch,
    ) -> Result<Plugin> {
        let (_writing, txn) = self.write_txn().await?;
        let current = Self::plugin_row(&txn, id).await?;
        let mut config: Value = serde_json::from_str(&current.config).unwrap_or(json!({}));
        if let Some(p) = patch.config {
            if !p.is_object() {
                return Err(AppError::validation("config", "expected a record"));
            }
            merge(&mut config, p);
        }
        let c = check_plugin(
            &current.name,
            &config,
            Some(patch.enabled.unwrap_or(current.enabled)),
            Some(
                patch
                    .protocols
                    .unwrap_or_else(|| list_from_text(&current.protocols)),
            ),
            Some(patch.tags.unwrap_or_else(|| list_from_text(&current.tags))),
        )?;
        self.store_plugin(actor, txn, current, c).await
    }

    async fn remove_plugin(&self, actor: &Authorized<'_>, id: Uuid) -> Result<()> {
        let (_writing, txn) = self.write_txn().await?;
        let current = Self::plugin_row(&txn, id).await?;
        let label = Self::scope_label(&txn, &current).await?;
        plugin::Entity::delete_by_id(id)
            .exec(&txn)
            .await
            .map_err(db_err)?;
        Self::bump_config(&txn, vec![current.runtime_group_id]).await?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "plugin.delete",
                target_type: "plugin",
                target_id: id.to_string(),
                target_name: label,
                before: Some(plugin_summary(&plugin_dto(current))),
                after: None,
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        self.gateway_changed();
        Ok(())
    }

    async fn applied_to(
        &self,
        _: &Authorized<'_>,
        package: &str,
        version_id: Uuid,
        route_id: Option<Uuid>,
    ) -> Result<Vec<AppliedPlugin>> {
        let (_, v) = Self::version_rows(&self.db, package, version_id).await?;
        if let Some(r) = route_id {
            route::Entity::find_by_id(r)
                .filter(route::Column::VersionId.eq(v.id))
                .one(&self.db)
                .await
                .map_err(db_err)?
                .ok_or_else(|| {
                    AppError::not_found(format!("No route \"{r}\" in version \"{}\".", v.name))
                })?;
        }
        let mut which = Condition::any()
            .add(
                Condition::all()
                    .add(plugin::Column::VersionId.is_null())
                    .add(plugin::Column::RouteId.is_null()),
            )
            .add(plugin::Column::VersionId.eq(v.id));
        if let Some(r) = route_id {
            which = which.add(plugin::Column::RouteId.eq(r));
        }
        let rows = plugin::Entity::find()
            .filter(plugin::Column::RuntimeGroupId.eq(v.runtime_group_id))
            .filter(which)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        Ok(applied(rows))
    }

    /// The enabled plugins of a group (with their scopes) and its consumers with
    /// their key hashes (keys already expired left out) and ACL groups, for its
    /// snapshot. No key is in here.
    pub(super) async fn plugins_snapshot(
        &self,
        group: Uuid,
    ) -> Result<(Vec<PluginInstance>, Vec<ConsumerConfig>)> {
        let plugins = plugin::Entity::find()
            .filter(plugin::Column::RuntimeGroupId.eq(group))
            .filter(plugin::Column::Enabled.eq(true))
            .order_by_asc(plugin::Column::CreatedAt)
            .order_by_asc(plugin::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|m| PluginInstance {
                id: m.id.to_string(),
                scope: scope_of(&m),
                config: serde_json::from_str(&m.config).unwrap_or(Value::Null),
                enabled: m.enabled,
                protocols: list_from_text(&m.protocols),
                name: m.name,
            })
            .collect();
        let now = Utc::now();
        let mut keys: HashMap<Uuid, Vec<KeyCredential>> = HashMap::new();
        for k in key_auth_credential::Entity::find()
            .filter(key_auth_credential::Column::RuntimeGroupId.eq(group))
            .filter(
                Condition::any()
                    .add(key_auth_credential::Column::ExpiresAt.is_null())
                    .add(key_auth_credential::Column::ExpiresAt.gt(now)),
            )
            .order_by_asc(key_auth_credential::Column::CreatedAt)
            .order_by_asc(key_auth_credential::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?
        {
            keys.entry(k.consumer_id).or_default().push(KeyCredential {
                id: k.id.to_string(),
                key_sha256: k.key_sha256,
                expires_at: k.expires_at.map(|t| t.timestamp()),
            });
        }
        let mut acls: HashMap<Uuid, Vec<String>> = HashMap::new();
        for a in consumer_acl::Entity::find()
            .filter(consumer_acl::Column::RuntimeGroupId.eq(group))
            .order_by_asc(consumer_acl::Column::GroupName)
            .all(&self.db)
            .await
            .map_err(db_err)?
        {
            acls.entry(a.consumer_id).or_default().push(a.group_name);
        }
        let consumers = consumer::Entity::find()
            .filter(consumer::Column::RuntimeGroupId.eq(group))
            .order_by_asc(consumer::Column::CreatedAt)
            .order_by_asc(consumer::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|c| ConsumerConfig {
                id: c.id.to_string(),
                keys: keys.remove(&c.id).unwrap_or_default(),
                acl_groups: acls.remove(&c.id).unwrap_or_default(),
                username: c.username,
                custom_id: c.custom_id,
            })
            .collect();
        Ok((plugins, consumers))
    }

    /// Deletes the plugins attached to these versions or their routes (in the
    /// deleting transaction; the caller bumps the config).
    pub(super) async fn delete_plugins_of_versions<C: ConnectionTrait>(
        db: &C,
        versions: &[Uuid],
    ) -> Result<()> {
        if versions.is_empty() {
            return Ok(());
        }
        let routes = Query::select()
            .column(route::Column::Id)
            .from(route::Entity)
            .and_where(route::Column::VersionId.is_in(versions.to_vec()))
            .to_owned();
        plugin::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(plugin::Column::VersionId.is_in(versions.to_vec()))
                    .add(plugin::Column::RouteId.in_subquery(routes)),
            )
            .exec(db)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// Deletes the plugins attached to a route (in the deleting transaction).
    pub(super) async fn delete_plugins_of_route<C: ConnectionTrait>(
        db: &C,
        route: Uuid,
    ) -> Result<()> {
        plugin::Entity::delete_many()
            .filter(plugin::Column::RouteId.eq(route))
            .exec(db)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// Deletes the plugins, consumers and credentials of a group being deleted.
    pub(super) async fn delete_plugins_of_group<C: ConnectionTrait>(
        db: &C,
        group: Uuid,
    ) -> Result<()> {
        plugin::Entity::delete_many()
            .filter(plugin::Column::RuntimeGroupId.eq(group))
            .exec(db)
            .await
            .map_err(db_err)?;
        key_auth_credential::Entity::delete_many()
            .filter(key_auth_credential::Column::RuntimeGroupId.eq(group))
            .exec(db)
            .await
            .map_err(db_err)?;
        consumer_acl::Entity::delete_many()
            .filter(consumer_acl::Column::RuntimeGroupId.eq(group))
            .exec(db)
            .await
            .map_err(db_err)?;
        consumer::Entity::delete_many()
            .filter(consumer::Column::RuntimeGroupId.eq(group))
            .exec(db)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl Plugins for Hub {
    async fn list_plugins(&self, actor: &Actor, scope: PluginScope) -> Result<Vec<Plugin>> {
        let actor = &actor.require(Permission::Read)?;
        self.list_plugins_of(actor, scope).await
    }
    async fn create_plugin(
        &self,
        actor: &Actor,
        scope: PluginScope,
        input: PluginInput,
    ) -> Result<Plugin> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.insert_plugin(actor, scope, input).await
    }
    async fn get_plugin(&self, actor: &Actor, id: Uuid) -> Result<Plugin> {
        let _actor = &actor.require(Permission::Read)?;
        Ok(plugin_dto(Self::plugin_row(&self.db, id).await?))
    }
    async fn replace_plugin(&self, actor: &Actor, id: Uuid, input: PluginInput) -> Result<Plugin> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.put_plugin(actor, id, input).await
    }
    async fn patch_plugin(&self, actor: &Actor, id: Uuid, patch: PluginPatch) -> Result<Plugin> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.patch_plugin_of(actor, id, patch).await
    }
    async fn delete_plugin(&self, actor: &Actor, id: Uuid) -> Result<()> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.remove_plugin(actor, id).await
    }
    async fn applied_plugins(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        route_id: Option<Uuid>,
    ) -> Result<Vec<AppliedPlugin>> {
        let actor = &actor.require(Permission::Read)?;
        self.applied_to(actor, package, version_id, route_id).await
    }
}
