use std::collections::HashMap;

use app::error::AppError;
use app::model::validate;
use app::model::*;
use app::ports::{Result, Versions};
use chrono::Utc;
use sea_orm::sea_query::{Expr, Func, LikeExpr};
use sea_orm::*;
use uuid::Uuid;

use super::audit::{self, Change};
use super::{db_err, like_pattern, Hub};
use crate::store::{runtime_group, service_package, service_version};

/// The audit summary of a version.
fn summary(m: &service_version::Model, group: &str) -> serde_json::Value {
    let mut v = serde_json::json!({ "name": m.name, "status": m.status });
    if !group.is_empty() {
        v["runtime_group"] = group.into();
    }
    v
}

fn to_dto(m: service_version::Model, package_key: &str, group_name: &str) -> ServiceVersion {
    ServiceVersion {
        id: m.id,
        package_id: m.package_id,
        package_key: package_key.to_string(),
        name: m.name,
        runtime_group_id: m.runtime_group_id,
        runtime_group_name: group_name.to_string(),
        status: VersionStatus::parse(&m.status).unwrap_or_default(),
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

impl Hub {
    async fn group_names<C: ConnectionTrait>(db: &C) -> Result<HashMap<Uuid, String>> {
        let rows: Vec<(Uuid, String)> = runtime_group::Entity::find()
            .select_only()
            .column(runtime_group::Column::Id)
            .column(runtime_group::Column::Name)
            .into_tuple()
            .all(db)
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().collect())
    }

    pub(super) async fn versions(
        &self,
        _: &Authorized<'_>,
        package: &str,
        q: VersionQuery,
    ) -> Result<Page<ServiceVersion>> {
        use service_version::Column as C;
        let pkg = Self::find_package_row(&self.db, package).await?;
        let mut select = service_version::Entity::find().filter(C::PackageId.eq(pkg.id));
        if let Some(name) = q.name.as_deref().filter(|s| !s.trim().is_empty()) {
            select = select.filter(
                Expr::expr(Func::lower(Expr::col(C::Name)))
                    .like(LikeExpr::new(like_pattern(name)).escape('\\')),
            );
        }
        if let Some(rg) = q.runtime_group_id {
            select = select.filter(C::RuntimeGroupId.eq(rg));
        }
        if let Some(s) = q.status {
            select = select.filter(C::Status.eq(s.as_str()));
        }
        let order = if q.descending {
            Order::Desc
        } else {
            Order::Asc
        };
        select = match q.sort {
            SortKey::Name => select.order_by(C::Name, order).order_by_asc(C::CreatedAt),
            SortKey::Modified => select.order_by(C::UpdatedAt, order),
            SortKey::Created => select.order_by(C::CreatedAt, order),
        };
        let page_size = q.page_size.clamp(1, 1000);
        let page = q.page.max(1);
        let paginator = select.paginate(&self.db, page_size);
        let total = paginator.num_items().await.map_err(db_err)?;
        let rows = paginator.fetch_page(page - 1).await.map_err(db_err)?;
        let groups = Self::group_names(&self.db).await?;
        Ok(Page {
            data: rows
                .into_iter()
                .map(|m| {
                    let g = groups.get(&m.runtime_group_id).cloned().unwrap_or_default();
                    to_dto(m, &pkg.key, &g)
                })
                .collect(),
            page,
            page_size,
            total,
        })
    }

    pub(super) async fn versions_in_group(
        &self,
        _: &Authorized<'_>,
        group: Uuid,
    ) -> Result<Vec<ServiceVersion>> {
        let rows = service_version::Entity::find()
            .filter(service_version::Column::RuntimeGroupId.eq(group))
            .order_by_asc(service_version::Column::Name)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let ids: Vec<Uuid> = rows.iter().map(|v| v.package_id).collect();
        let keys: HashMap<Uuid, String> = if ids.is_empty() {
            HashMap::new()
        } else {
            service_package::Entity::find()
                .select_only()
                .column(service_package::Column::Id)
                .column(service_package::Column::Key)
                .filter(service_package::Column::Id.is_in(ids))
                .into_tuple::<(Uuid, String)>()
                .all(&self.db)
                .await
                .map_err(db_err)?
                .into_iter()
                .collect()
        };
        let groups = Self::group_names(&self.db).await?;
        let mut out: Vec<ServiceVersion> = rows
            .into_iter()
            .map(|m| {
                let k = keys.get(&m.package_id).cloned().unwrap_or_default();
                let g = groups.get(&m.runtime_group_id).cloned().unwrap_or_default();
                to_dto(m, &k, &g)
            })
            .collect();
        out.sort_by(|a, b| (&a.package_key, &a.name).cmp(&(&b.package_key, &b.name)));
        Ok(out)
    }

    pub(super) async fn find_version_row<C: ConnectionTrait>(
        db: &C,
        package: &service_package::Model,
        id: Uuid,
    ) -> Result<service_version::Model> {
        service_version::Entity::find_by_id(id)
            .filter(service_version::Column::PackageId.eq(package.id))
            .one(db)
            .await
            .map_err(db_err)?
            .ok_or_else(|| {
                AppError::not_found(format!(
                    "No version \"{id}\" in service package \"{}\".",
                    package.key
                ))
            })
    }

    async fn single_dto<C: ConnectionTrait>(
        db: &C,
        m: service_version::Model,
        pkg: &service_package::Model,
    ) -> Result<ServiceVersion> {
        let g = runtime_group::Entity::find_by_id(m.runtime_group_id)
            .one(db)
            .await
            .map_err(db_err)?
            .map(|g| g.name)
            .unwrap_or_default();
        Ok(to_dto(m, &pkg.key, &g))
    }

    pub(super) async fn version(
        &self,
        _: &Authorized<'_>,
        package: &str,
        id: Uuid,
    ) -> Result<ServiceVersion> {
        let pkg = Self::find_package_row(&self.db, package).await?;
        let m = Self::find_version_row(&self.db, &pkg, id).await?;
        Self::single_dto(&self.db, m, &pkg).await
    }

    async fn check_version_name_free<C: ConnectionTrait>(
        db: &C,
        pkg: &service_package::Model,
        group: &runtime_group::Model,
        name: &str,
        except: Option<Uuid>,
    ) -> Result<()> {
        let mut q = service_version::Entity::find()
            .filter(service_version::Column::PackageId.eq(pkg.id))
            .filter(service_version::Column::RuntimeGroupId.eq(group.id))
            .filter(service_version::Column::Name.eq(name));
        if let Some(id) = except {
            q = q.filter(service_version::Column::Id.ne(id));
        }
        if q.one(db).await.map_err(db_err)?.is_some() {
            return Err(AppError::conflict(
                Some("name"),
                format!(
                    "Service package \"{}\" already has a version \"{name}\" in runtime group \"{}\".",
                    pkg.key, group.name
                ),
            ));
        }
        Ok(())
    }

    pub(super) async fn insert_version(
        &self,
        actor: &Authorized<'_>,
        package: &str,
        input: NewServiceVersion,
    ) -> Result<ServiceVersion> {
        let name = input.name.trim().to_string();
        validate::version_name("name", &name)?;
        let (_writing, txn) = self.write_txn().await?;
        let pkg = Self::find_package_row(&txn, package).await?;
        let group = runtime_group::Entity::find_by_id(input.runtime_group_id)
            .one(&txn)
            .await
            .map_err(db_err)?
            .ok_or_else(|| {
                AppError::validation(
                    "runtime_group_id",
                    format!("No runtime group with id \"{}\".", input.runtime_group_id),
                )
            })?;
        Self::check_version_name_free(&txn, &pkg, &group, &name, None).await?;
        let now = Utc::now();
        let m = service_version::ActiveModel {
            id: Set(Uuid::new_v4()),
            package_id: Set(pkg.id),
            runtime_group_id: Set(group.id),
            name: Set(name),
            status: Set(input.status.as_str().into()),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(db_err)?;
        Self::touch_package(&txn, pkg.id).await?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "service_version.create",
                target_type: "service_version",
                target_id: m.id.to_string(),
                target_name: format!("{}/{}", pkg.key, m.name),
                before: None,
                after: Some(summary(&m, &group.name)),
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        Ok(to_dto(m, &pkg.key, &group.name))
    }

    pub(super) async fn patch_version(
        &self,
        actor: &Authorized<'_>,
        package: &str,
        id: Uuid,
        patch: ServiceVersionPatch,
    ) -> Result<ServiceVersion> {
        let (_writing, txn) = self.write_txn().await?;
        let pkg = Self::find_package_row(&txn, package).await?;
        let current = Self::find_version_row(&txn, &pkg, id).await?;
        let mut row: service_version::ActiveModel = current.clone().into();
        if let Some(name) = patch.name.map(|n| n.trim().to_string()) {
            validate::version_name("name", &name)?;
            if name != current.name {
                let group =
                    Self::find_group_row(&txn, &current.runtime_group_id.to_string()).await?;
                Self::check_version_name_free(&txn, &pkg, &group, &name, Some(id)).await?;
                row.name = Set(name);
                Self::bump_config(&txn, vec![current.runtime_group_id]).await?;
            }
        }
        if let Some(s) = patch.status {
            row.status = Set(s.as_str().into());
        }
        row.updated_at = Set(Utc::now());
        let m = row.update(&txn).await.map_err(db_err)?;
        Self::touch_package(&txn, pkg.id).await?;
        let dto = Self::single_dto(&txn, m.clone(), &pkg).await?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "service_version.update",
                target_type: "service_version",
                target_id: m.id.to_string(),
                target_name: format!("{}/{}", pkg.key, m.name),
                before: Some(summary(&current, &dto.runtime_group_name)),
                after: Some(summary(&m, &dto.runtime_group_name)),
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        self.gateway_changed();
        Ok(dto)
    }

    pub(super) async fn remove_version(
        &self,
        actor: &Authorized<'_>,
        package: &str,
        id: Uuid,
    ) -> Result<()> {
        let (_writing, txn) = self.write_txn().await?;
        let pkg = Self::find_package_row(&txn, package).await?;
        let current = Self::find_version_row(&txn, &pkg, id).await?;
        Self::remove_specs_of(&txn, vec![id]).await?;
        Self::remove_gateway_of(&txn, &[id]).await?;
        service_version::Entity::delete_by_id(id)
            .exec(&txn)
            .await
            .map_err(db_err)?;
        Self::touch_package(&txn, pkg.id).await?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "service_version.delete",
                target_type: "service_version",
                target_id: id.to_string(),
                target_name: format!("{}/{}", pkg.key, current.name),
                before: Some(summary(&current, "")),
                after: None,
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        self.gateway_changed();
        Ok(())
    }
}

#[async_trait::async_trait]
impl Versions for Hub {
    async fn list_versions(
        &self,
        actor: &Actor,
        package: &str,
        query: VersionQuery,
    ) -> Result<Page<ServiceVersion>> {
        let actor = &actor.require(Permission::Read)?;
        self.versions(actor, package, query).await
    }
    async fn get_version(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
    ) -> Result<ServiceVersion> {
        let actor = &actor.require(Permission::Read)?;
        self.version(actor, package, version_id).await
    }
    async fn create_version(
        &self,
        actor: &Actor,
        package: &str,
        input: NewServiceVersion,
    ) -> Result<ServiceVersion> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.insert_version(actor, package, input).await
    }
    /// A change of status alone needs `Publish`; a rename `EditCatalog`.
    async fn update_version(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        patch: ServiceVersionPatch,
    ) -> Result<ServiceVersion> {
        let actor = &actor.require(if patch.name.is_some() {
            Permission::EditCatalog
        } else {
            Permission::Publish
        })?;
        self.patch_version(actor, package, version_id, patch).await
    }
    async fn delete_version(&self, actor: &Actor, package: &str, version_id: Uuid) -> Result<()> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.remove_version(actor, package, version_id).await
    }
}
