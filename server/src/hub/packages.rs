use std::collections::HashMap;

use app::error::AppError;
use app::model::validate;
use app::model::*;
use app::ports::{Packages, Result};
use chrono::Utc;
use sea_orm::sea_query::{Expr, Func, LikeExpr, Query};
use sea_orm::*;
use uuid::Uuid;

use super::audit::{self, Change};
use super::{db_err, like_pattern, Hub};
use crate::store::{
    labels_from_text, labels_to_text, package_label, service_package, service_version,
};
use serde_json::json;

/// Keys the UI's own paths use; no package may take them.
const RESERVED_KEYS: [&str; 1] = ["new"];

pub(super) fn to_dto(m: service_package::Model, counts: StatusCounts) -> ServicePackage {
    ServicePackage {
        id: m.id,
        key: m.key,
        display_name: m.display_name,
        description: m.description,
        labels: labels_from_text(&m.labels),
        versions_count: counts.published + counts.deprecated + counts.unpublished,
        status_counts: counts,
        published: m.published,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

/// The audit summary of a package.
fn summary(m: &service_package::Model) -> serde_json::Value {
    json!({
        "key": m.key,
        "display_name": m.display_name,
        "description": m.description,
        "labels": labels_from_text(&m.labels),
        "published": m.published,
    })
}

fn check_package_input(name: &str, description: &str, labels: &Labels) -> Result<()> {
    validate::display_name("display_name", name)?;
    if RESERVED_KEYS.contains(&validate::slug(name).as_str()) {
        return Err(AppError::validation(
            "display_name",
            format!(
                "The key \"{}\" is reserved; choose another name.",
                validate::slug(name)
            ),
        ));
    }
    validate::description("description", description)?;
    validate::labels("labels", labels)?;
    Ok(())
}

impl Hub {
    /// Version counts per status for the given packages.
    async fn status_counts<C: ConnectionTrait>(
        db: &C,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, StatusCounts>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(Uuid, String, i64)> = service_version::Entity::find()
            .select_only()
            .column(service_version::Column::PackageId)
            .column(service_version::Column::Status)
            .column_as(service_version::Column::Id.count(), "n")
            .filter(service_version::Column::PackageId.is_in(ids.iter().copied()))
            .group_by(service_version::Column::PackageId)
            .group_by(service_version::Column::Status)
            .into_tuple()
            .all(db)
            .await
            .map_err(db_err)?;
        let mut out: HashMap<Uuid, StatusCounts> = HashMap::new();
        for (id, status, n) in rows {
            if let Some(s) = VersionStatus::parse(&status) {
                out.entry(id).or_default().add(s, n as u64);
            }
        }
        Ok(out)
    }

    pub(super) async fn packages(
        &self,
        _: &Authorized<'_>,
        q: PackageQuery,
    ) -> Result<Page<ServicePackage>> {
        use service_package::Column as C;
        let mut select = service_package::Entity::find();
        if let Some(name) = q.name.as_deref().filter(|s| !s.trim().is_empty()) {
            let pattern = like_pattern(name);
            let slug_pattern = like_pattern(&validate::slug(name));
            select = select.filter(
                Condition::any()
                    .add(
                        Expr::expr(Func::lower(Expr::col(C::DisplayName)))
                            .like(LikeExpr::new(pattern).escape('\\')),
                    )
                    .add(Expr::col(C::Key).like(LikeExpr::new(slug_pattern).escape('\\'))),
            );
        }
        for (k, v) in &q.labels {
            select = select.filter(
                C::Id.in_subquery(
                    Query::select()
                        .column(package_label::Column::PackageId)
                        .from(package_label::Entity)
                        .and_where(package_label::Column::Key.eq(k.as_str()))
                        .and_where(package_label::Column::ValueLower.eq(v.to_lowercase()))
                        .to_owned(),
                ),
            );
        }
        let order = if q.descending {
            Order::Desc
        } else {
            Order::Asc
        };
        select = match q.sort {
            SortKey::Name => select.order_by(C::Key, order),
            SortKey::Modified => select.order_by(C::UpdatedAt, order).order_by_asc(C::Key),
            SortKey::Created => select.order_by(C::CreatedAt, order).order_by_asc(C::Key),
        };
        let page_size = q.page_size.clamp(1, 1000);
        let page = q.page.max(1);
        let paginator = select.paginate(&self.db, page_size);
        let total = paginator.num_items().await.map_err(db_err)?;
        let rows = paginator.fetch_page(page - 1).await.map_err(db_err)?;
        let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
        let counts = Self::status_counts(&self.db, &ids).await?;
        Ok(Page {
            data: rows
                .into_iter()
                .map(|m| {
                    let c = counts.get(&m.id).copied().unwrap_or_default();
                    to_dto(m, c)
                })
                .collect(),
            page,
            page_size,
            total,
        })
    }

    pub(super) async fn find_package_row<C: ConnectionTrait>(
        db: &C,
        id_or_key: &str,
    ) -> Result<service_package::Model> {
        let q = match Uuid::parse_str(id_or_key) {
            Ok(id) => service_package::Entity::find_by_id(id),
            Err(_) => service_package::Entity::find()
                .filter(service_package::Column::Key.eq(id_or_key.trim().to_lowercase())),
        };
        q.one(db)
            .await
            .map_err(db_err)?
            .ok_or_else(|| AppError::not_found(format!("No service package \"{id_or_key}\".")))
    }

    pub(super) async fn package(
        &self,
        _: &Authorized<'_>,
        id_or_key: &str,
    ) -> Result<ServicePackage> {
        let m = Self::find_package_row(&self.db, id_or_key).await?;
        let counts = Self::status_counts(&self.db, &[m.id]).await?;
        let c = counts.get(&m.id).copied().unwrap_or_default();
        Ok(to_dto(m, c))
    }

    async fn check_key_free<C: ConnectionTrait>(
        db: &C,
        key: &str,
        except: Option<Uuid>,
    ) -> Result<()> {
        let mut q = service_package::Entity::find().filter(service_package::Column::Key.eq(key));
        if let Some(id) = except {
            q = q.filter(service_package::Column::Id.ne(id));
        }
        if let Some(other) = q.one(db).await.map_err(db_err)? {
            return Err(AppError::conflict(
                Some("display_name"),
                format!(
                    "The key \"{key}\" is already taken by \"{}\" (names are compared ignoring case, with spaces as dashes).",
                    other.display_name
                ),
            ));
        }
        Ok(())
    }

    async fn write_labels<C: ConnectionTrait>(db: &C, id: Uuid, labels: &Labels) -> Result<()> {
        package_label::Entity::delete_many()
            .filter(package_label::Column::PackageId.eq(id))
            .exec(db)
            .await
            .map_err(db_err)?;
        if labels.is_empty() {
            return Ok(());
        }
        package_label::Entity::insert_many(labels.iter().map(|(k, v)| {
            package_label::ActiveModel {
                package_id: Set(id),
                key: Set(k.clone()),
                value_lower: Set(v.to_lowercase()),
            }
        }))
        .exec(db)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    pub(super) async fn insert_package(
        &self,
        actor: &Authorized<'_>,
        input: NewServicePackage,
    ) -> Result<ServicePackage> {
        let name = input.display_name.trim().to_string();
        check_package_input(&name, &input.description, &input.labels)?;
        let key = validate::slug(&name);
        let (_writing, txn) = self.write_txn().await?;
        Self::check_key_free(&txn, &key, None).await?;
        let now = Utc::now();
        let id = Uuid::new_v4();
        let m = service_package::ActiveModel {
            id: Set(id),
            key: Set(key),
            display_name: Set(name),
            description: Set(input.description),
            labels: Set(labels_to_text(&input.labels)),
            published: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(db_err)?;
        Self::write_labels(&txn, id, &input.labels).await?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "service_package.create",
                target_type: "service_package",
                target_id: id.to_string(),
                target_name: m.display_name.clone(),
                before: None,
                after: Some(summary(&m)),
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        Ok(to_dto(m, StatusCounts::default()))
    }

    pub(super) async fn patch_package(
        &self,
        actor: &Authorized<'_>,
        id_or_key: &str,
        patch: ServicePackagePatch,
    ) -> Result<ServicePackage> {
        let (_writing, txn) = self.write_txn().await?;
        let current = Self::find_package_row(&txn, id_or_key).await?;
        let name = patch
            .display_name
            .map(|n| n.trim().to_string())
            .unwrap_or(current.display_name.clone());
        let description = patch.description.unwrap_or(current.description.clone());
        let labels = patch
            .labels
            .unwrap_or_else(|| labels_from_text(&current.labels));
        check_package_input(&name, &description, &labels)?;
        let key = validate::slug(&name);
        if key != current.key {
            Self::check_key_free(&txn, &key, Some(current.id)).await?;
        }
        let id = current.id;
        let before = summary(&current);
        let published = patch.published.unwrap_or(current.published);
        let only_publishing = published != current.published
            && name == current.display_name
            && description == current.description
            && labels == labels_from_text(&current.labels);
        let action = match (only_publishing, published) {
            (true, true) => "service_package.publish",
            (true, false) => "service_package.unpublish",
            _ => "service_package.update",
        };
        let mut row: service_package::ActiveModel = current.into();
        row.key = Set(key);
        row.display_name = Set(name);
        row.description = Set(description);
        row.labels = Set(labels_to_text(&labels));
        row.published = Set(published);
        row.updated_at = Set(Utc::now());
        let m = row.update(&txn).await.map_err(db_err)?;
        Self::write_labels(&txn, id, &labels).await?;
        audit::record(
            &txn,
            actor,
            Change {
                action,
                target_type: "service_package",
                target_id: id.to_string(),
                target_name: m.display_name.clone(),
                before: Some(before),
                after: Some(summary(&m)),
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        self.package(actor, &id.to_string()).await
    }

    pub(super) async fn remove_package(
        &self,
        actor: &Authorized<'_>,
        id_or_key: &str,
    ) -> Result<()> {
        let (_writing, txn) = self.write_txn().await?;
        let current = Self::find_package_row(&txn, id_or_key).await?;
        let versions: Vec<Uuid> = service_version::Entity::find()
            .select_only()
            .column(service_version::Column::Id)
            .filter(service_version::Column::PackageId.eq(current.id))
            .into_tuple()
            .all(&txn)
            .await
            .map_err(db_err)?;
        Self::remove_gateway_of(&txn, &versions).await?;
        Self::remove_specs_of(&txn, versions).await?;
        service_version::Entity::delete_many()
            .filter(service_version::Column::PackageId.eq(current.id))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        Self::remove_documents_of(&txn, current.id).await?;
        package_label::Entity::delete_many()
            .filter(package_label::Column::PackageId.eq(current.id))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        service_package::Entity::delete_by_id(current.id)
            .exec(&txn)
            .await
            .map_err(db_err)?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "service_package.delete",
                target_type: "service_package",
                target_id: current.id.to_string(),
                target_name: current.display_name.clone(),
                before: Some(summary(&current)),
                after: None,
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        self.gateway_changed();
        Ok(())
    }

    /// Marks a package as modified (a version of it changed).
    pub(super) async fn touch_package<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<()> {
        service_package::Entity::update_many()
            .col_expr(service_package::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(service_package::Column::Id.eq(id))
            .exec(db)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl Packages for Hub {
    async fn list_packages(
        &self,
        actor: &Actor,
        query: PackageQuery,
    ) -> Result<Page<ServicePackage>> {
        let actor = &actor.require(Permission::Read)?;
        self.packages(actor, query).await
    }
    async fn get_package(&self, actor: &Actor, id_or_key: &str) -> Result<ServicePackage> {
        let actor = &actor.require(Permission::Read)?;
        self.package(actor, id_or_key).await
    }
    async fn create_package(
        &self,
        actor: &Actor,
        input: NewServicePackage,
    ) -> Result<ServicePackage> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.insert_package(actor, input).await
    }
    /// Publishing (the `published` flag alone) needs `Publish`; any other change
    /// `EditCatalog`.
    async fn update_package(
        &self,
        actor: &Actor,
        id_or_key: &str,
        patch: ServicePackagePatch,
    ) -> Result<ServicePackage> {
        let actor = &actor.require(
            if patch.display_name.is_some() || patch.description.is_some() || patch.labels.is_some()
            {
                Permission::EditCatalog
            } else {
                Permission::Publish
            },
        )?;
        self.patch_package(actor, id_or_key, patch).await
    }
    async fn delete_package(&self, actor: &Actor, id_or_key: &str) -> Result<()> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.remove_package(actor, id_or_key).await
    }
}
