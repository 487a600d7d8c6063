use std::collections::HashMap;

use app::error::AppError;
use app::model::validate;
use app::model::*;
use app::ports::{Result, RuntimeGroups};
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::*;
use uuid::Uuid;

use super::audit::{self, Change};
use super::{db_err, Hub};
use crate::store::{labels_from_text, labels_to_text, runtime_group, service_version};

/// The group that always exists.
pub const DEFAULT_GROUP: &str = "default";
/// Where the default group's embedded data plane listens unless configured otherwise.
pub const DEFAULT_PROXY_LISTEN: &str = "127.0.0.1:8000";

/// The audit summary of a runtime group.
fn summary(m: &runtime_group::Model) -> serde_json::Value {
    serde_json::json!({
        "name": m.name,
        "description": m.description,
        "labels": labels_from_text(&m.labels),
        "proxy_listen": m.proxy_listen,
    })
}

fn to_dto(m: runtime_group::Model, versions_count: u64) -> RuntimeGroup {
    RuntimeGroup {
        id: m.id,
        name: m.name,
        description: m.description,
        labels: labels_from_text(&m.labels),
        versions_count,
        proxy_listen: m.proxy_listen,
        config_version: m.config_version.max(0) as u64,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

impl Hub {
    pub(super) async fn ensure_default_group(&self) -> Result<()> {
        let exists = runtime_group::Entity::find()
            .filter(runtime_group::Column::NameKey.eq(DEFAULT_GROUP))
            .one(&self.db)
            .await
            .map_err(db_err)?
            .is_some();
        if !exists {
            let now = Utc::now();
            let row = runtime_group::ActiveModel {
                id: Set(Uuid::new_v4()),
                name: Set(DEFAULT_GROUP.into()),
                name_key: Set(DEFAULT_GROUP.into()),
                description: Set("The runtime group every installation starts with.".into()),
                labels: Set("{}".into()),
                proxy_listen: Set(Some(DEFAULT_PROXY_LISTEN.into())),
                config_version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
            };
            // Another control plane may have inserted it meanwhile: ignore a conflict.
            if let Err(e) = row.insert(&self.db).await {
                if !matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
                    return Err(db_err(e));
                }
            }
        }
        Ok(())
    }

    async fn version_counts_by_group(&self) -> Result<HashMap<Uuid, u64>> {
        let rows: Vec<(Uuid, i64)> = service_version::Entity::find()
            .select_only()
            .column(service_version::Column::RuntimeGroupId)
            .column_as(service_version::Column::Id.count(), "n")
            .group_by(service_version::Column::RuntimeGroupId)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().map(|(id, n)| (id, n as u64)).collect())
    }

    pub(super) async fn runtime_groups(&self, _: &Authorized<'_>) -> Result<Vec<RuntimeGroup>> {
        let counts = self.version_counts_by_group().await?;
        let rows = runtime_group::Entity::find()
            .order_by_asc(runtime_group::Column::NameKey)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|m| {
                let n = counts.get(&m.id).copied().unwrap_or(0);
                to_dto(m, n)
            })
            .collect())
    }

    pub(super) async fn find_group_row<C: ConnectionTrait>(
        db: &C,
        id_or_name: &str,
    ) -> Result<runtime_group::Model> {
        let q = match Uuid::parse_str(id_or_name) {
            Ok(id) => runtime_group::Entity::find_by_id(id),
            Err(_) => runtime_group::Entity::find()
                .filter(runtime_group::Column::NameKey.eq(validate::slug(id_or_name))),
        };
        q.one(db)
            .await
            .map_err(db_err)?
            .ok_or_else(|| AppError::not_found(format!("No runtime group \"{id_or_name}\".")))
    }

    pub(super) async fn runtime_group(
        &self,
        _: &Authorized<'_>,
        id_or_name: &str,
    ) -> Result<RuntimeGroup> {
        let m = Self::find_group_row(&self.db, id_or_name).await?;
        let n = service_version::Entity::find()
            .filter(service_version::Column::RuntimeGroupId.eq(m.id))
            .count(&self.db)
            .await
            .map_err(db_err)?;
        Ok(to_dto(m, n))
    }

    async fn check_group_name_free<C: ConnectionTrait>(
        db: &C,
        name: &str,
        except: Option<Uuid>,
    ) -> Result<()> {
        let key = validate::slug(name);
        let mut q =
            runtime_group::Entity::find().filter(runtime_group::Column::NameKey.eq(key.clone()));
        if let Some(id) = except {
            q = q.filter(runtime_group::Column::Id.ne(id));
        }
        if let Some(other) = q.one(db).await.map_err(db_err)? {
            return Err(AppError::conflict(
                Some("name"),
                format!(
                    "A runtime group named \"{}\" already exists (names are compared ignoring case, with spaces as dashes).",
                    other.name
                ),
            ));
        }
        Ok(())
    }

    pub(super) async fn insert_runtime_group(
        &self,
        actor: &Authorized<'_>,
        input: NewRuntimeGroup,
    ) -> Result<RuntimeGroup> {
        let name = input.name.trim().to_string();
        validate::display_name("name", &name)?;
        validate::description("description", &input.description)?;
        validate::labels("labels", &input.labels)?;
        let proxy_listen = app::model::gateway::proxy_listen(
            "proxy_listen",
            input.proxy_listen.as_deref().unwrap_or(""),
        )?;
        let (_writing, txn) = self.write_txn().await?;
        Self::check_group_name_free(&txn, &name, None).await?;
        let now = Utc::now();
        let m = runtime_group::ActiveModel {
            id: Set(Uuid::new_v4()),
            name_key: Set(validate::slug(&name)),
            name: Set(name),
            description: Set(input.description),
            labels: Set(labels_to_text(&input.labels)),
            proxy_listen: Set(proxy_listen),
            config_version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(db_err)?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "runtime_group.create",
                target_type: "runtime_group",
                target_id: m.id.to_string(),
                target_name: m.name.clone(),
                before: None,
                after: Some(summary(&m)),
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        self.gateway_changed();
        Ok(to_dto(m, 0))
    }

    pub(super) async fn patch_runtime_group(
        &self,
        actor: &Authorized<'_>,
        id: Uuid,
        patch: RuntimeGroupPatch,
    ) -> Result<RuntimeGroup> {
        let (_writing, txn) = self.write_txn().await?;
        let current = Self::find_group_row(&txn, &id.to_string()).await?;
        let mut row: runtime_group::ActiveModel = current.clone().into();
        if let Some(name) = patch.name.map(|n| n.trim().to_string()) {
            validate::display_name("name", &name)?;
            if name != current.name {
                if current.name_key == super::DEFAULT_GROUP
                    && validate::slug(&name) != super::DEFAULT_GROUP
                {
                    return Err(AppError::validation(
                        "name",
                        "The default runtime group cannot be renamed.",
                    ));
                }
                Self::check_group_name_free(&txn, &name, Some(id)).await?;
                row.name_key = Set(validate::slug(&name));
                row.name = Set(name);
            }
        }
        if let Some(d) = patch.description {
            validate::description("description", &d)?;
            row.description = Set(d);
        }
        if let Some(l) = patch.labels {
            validate::labels("labels", &l)?;
            row.labels = Set(labels_to_text(&l));
        }
        if let Some(p) = patch.proxy_listen {
            row.proxy_listen = Set(app::model::gateway::proxy_listen("proxy_listen", &p)?);
        }
        row.updated_at = Set(Utc::now());
        let m = row.update(&txn).await.map_err(db_err)?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "runtime_group.update",
                target_type: "runtime_group",
                target_id: m.id.to_string(),
                target_name: m.name.clone(),
                before: Some(summary(&current)),
                after: Some(summary(&m)),
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        self.gateway_changed();
        self.runtime_group(actor, &m.id.to_string()).await
    }

    pub(super) async fn remove_runtime_group(
        &self,
        actor: &Authorized<'_>,
        id: Uuid,
    ) -> Result<()> {
        let (_writing, txn) = self.write_txn().await?;
        let group = Self::find_group_row(&txn, &id.to_string()).await?;
        if group.name_key == super::DEFAULT_GROUP {
            return Err(AppError::conflict(
                None,
                "The default runtime group cannot be deleted.",
            ));
        }
        let users = Self::version_labels_in_group(&txn, id).await?;
        if !users.is_empty() {
            let shown: Vec<&str> = users.iter().take(20).map(String::as_str).collect();
            let more = if users.len() > 20 {
                format!(" and {} more", users.len() - 20)
            } else {
                String::new()
            };
            return Err(AppError::conflict(
                None,
                format!(
                    "Runtime group \"{}\" is used by {} service version{}: {}{more}. Delete those versions first.",
                    group.name,
                    users.len(),
                    if users.len() == 1 { "" } else { "s" },
                    shown.join(", ")
                ),
            ));
        }
        Self::delete_group_gateway(&txn, id).await?;
        runtime_group::Entity::delete_by_id(id)
            .exec(&txn)
            .await
            .map_err(db_err)?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "runtime_group.delete",
                target_type: "runtime_group",
                target_id: id.to_string(),
                target_name: group.name.clone(),
                before: Some(summary(&group)),
                after: None,
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        self.gateway_changed();
        Ok(())
    }

    /// `package-key/version` of every version in a group.
    async fn version_labels_in_group<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Vec<String>> {
        use crate::store::service_package;
        let rows: Vec<(String, String)> = service_version::Entity::find()
            .select_only()
            .column(service_package::Column::Key)
            .column(service_version::Column::Name)
            .join(
                JoinType::InnerJoin,
                service_version::Entity::belongs_to(service_package::Entity)
                    .from(service_version::Column::PackageId)
                    .to(service_package::Column::Id)
                    .into(),
            )
            .filter(service_version::Column::RuntimeGroupId.eq(id))
            .order_by_asc(Expr::col((
                service_package::Entity,
                service_package::Column::Key,
            )))
            .order_by_asc(service_version::Column::Name)
            .into_tuple()
            .all(db)
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().map(|(p, v)| format!("{p}/{v}")).collect())
    }
}

#[async_trait::async_trait]
impl RuntimeGroups for Hub {
    async fn list_runtime_groups(&self, actor: &Actor) -> Result<Vec<RuntimeGroup>> {
        let actor = &actor.require(Permission::Read)?;
        self.runtime_groups(actor).await
    }
    async fn get_runtime_group(&self, actor: &Actor, id_or_name: &str) -> Result<RuntimeGroup> {
        let actor = &actor.require(Permission::Read)?;
        self.runtime_group(actor, id_or_name).await
    }
    async fn runtime_group_detail(
        &self,
        actor: &Actor,
        id_or_name: &str,
    ) -> Result<RuntimeGroupDetail> {
        let actor = &actor.require(Permission::Read)?;
        let group = self.runtime_group(actor, id_or_name).await?;
        let versions = self.versions_in_group(actor, group.id).await?;
        Ok(RuntimeGroupDetail { group, versions })
    }
    async fn create_runtime_group(
        &self,
        actor: &Actor,
        input: NewRuntimeGroup,
    ) -> Result<RuntimeGroup> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.insert_runtime_group(actor, input).await
    }
    async fn update_runtime_group(
        &self,
        actor: &Actor,
        id: Uuid,
        patch: RuntimeGroupPatch,
    ) -> Result<RuntimeGroup> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.patch_runtime_group(actor, id, patch).await
    }
    async fn delete_runtime_group(&self, actor: &Actor, id: Uuid) -> Result<()> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.remove_runtime_group(actor, id).await
    }
}
