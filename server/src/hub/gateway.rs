//! Implementations and routes of versions. Every change bumps the runtime group's
//! config version in the same transaction and, once committed, wakes the data planes
//! (`Hub::gateway_changed`).

use app::error::AppError;
use app::model::gateway::{upstream_url, RouteInput};
use app::model::*;
use app::ports::{GatewayConfig, Result};
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::*;
use uuid::Uuid;

use super::audit::{self, Change};
use super::{db_err, Hub};
use crate::store::{implementation, route, runtime_group, service_package, service_version};

pub(super) fn implementation_dto(m: implementation::Model) -> Implementation {
    let port = u16::try_from(m.port).unwrap_or(80);
    Implementation {
        version_id: m.version_id,
        url: upstream_url(&m.protocol, &m.host, port, m.path.as_deref()),
        protocol: m.protocol,
        host: m.host,
        port,
        path: m.path,
        retries: m.retries.max(0) as u32,
        connect_timeout: m.connect_timeout.max(0) as u64,
        read_timeout: m.read_timeout.max(0) as u64,
        write_timeout: m.write_timeout.max(0) as u64,
        enabled: m.enabled,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

fn implementation_summary(i: &Implementation) -> serde_json::Value {
    serde_json::json!({
        "url": i.url,
        "retries": i.retries,
        "connect_timeout": i.connect_timeout,
        "read_timeout": i.read_timeout,
        "write_timeout": i.write_timeout,
        "enabled": i.enabled,
    })
}

pub(super) fn route_fields(m: &route::Model) -> RouteInput {
    serde_json::from_str(&m.config).unwrap_or_default()
}

pub(super) fn route_dto(m: route::Model) -> Route {
    Route {
        id: m.id,
        version_id: m.version_id,
        runtime_group_id: m.runtime_group_id,
        fields: route_fields(&m),
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

/// `package/version/route` for the audit log.
fn route_label(pkg: &service_package::Model, v: &service_version::Model, r: &RouteInput) -> String {
    format!(
        "{}/{}/{}",
        pkg.key,
        v.name,
        r.name.as_deref().unwrap_or("(unnamed)")
    )
}

fn route_summary(r: &RouteInput) -> serde_json::Value {
    serde_json::to_value(r).unwrap_or_default()
}

/// Every broken rule of a route, as (field, message); the matcher's own rules included.
fn route_errors(input: &RouteInput) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Err(e) = input.validate_basic() {
        out.push((e.field, e.message));
    }
    if let Err(errors) = portico_router::validate_route(&input.to_config("new", 0)) {
        for e in errors {
            out.push((e.field, e.message));
        }
    }
    out
}

impl Hub {
    /// Wakes everything that waits on a gateway change (long-polling nodes, the
    /// embedded data planes). Call after the change is committed.
    pub fn gateway_changed(&self) {
        self.gateway_tx.send_modify(|g| *g = g.wrapping_add(1));
    }

    /// A receiver that sees a new value after every committed gateway change.
    pub fn gateway_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.gateway_tx.subscribe()
    }

    /// Bumps the config version of these groups (inside the change's transaction).
    pub(super) async fn bump_config<C: ConnectionTrait>(db: &C, groups: Vec<Uuid>) -> Result<()> {
        if groups.is_empty() {
            return Ok(());
        }
        runtime_group::Entity::update_many()
            .col_expr(
                runtime_group::Column::ConfigVersion,
                Expr::col(runtime_group::Column::ConfigVersion).add(1),
            )
            .filter(runtime_group::Column::Id.is_in(groups))
            .exec(db)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// Deletes the implementations, routes and plugins of these versions (with the
    /// versions, in their transaction) and bumps their groups' config versions.
    pub(super) async fn remove_gateway_of<C: ConnectionTrait>(
        db: &C,
        versions: &[Uuid],
    ) -> Result<()> {
        if versions.is_empty() {
            return Ok(());
        }
        let groups: Vec<Uuid> = service_version::Entity::find()
            .select_only()
            .column(service_version::Column::RuntimeGroupId)
            .distinct()
            .filter(service_version::Column::Id.is_in(versions.to_vec()))
            .into_tuple()
            .all(db)
            .await
            .map_err(db_err)?;
        Self::delete_plugins_of_versions(db, versions).await?;
        implementation::Entity::delete_many()
            .filter(implementation::Column::VersionId.is_in(versions.to_vec()))
            .exec(db)
            .await
            .map_err(db_err)?;
        route::Entity::delete_many()
            .filter(route::Column::VersionId.is_in(versions.to_vec()))
            .exec(db)
            .await
            .map_err(db_err)?;
        Self::bump_config(db, groups).await
    }

    pub(super) async fn version_rows<C: ConnectionTrait>(
        db: &C,
        package: &str,
        version_id: Uuid,
    ) -> Result<(service_package::Model, service_version::Model)> {
        let pkg = Self::find_package_row(db, package).await?;
        let v = Self::find_version_row(db, &pkg, version_id).await?;
        Ok((pkg, v))
    }

    pub(super) async fn implementation_of<C: ConnectionTrait>(
        db: &C,
        version_id: Uuid,
    ) -> Result<Option<implementation::Model>> {
        implementation::Entity::find_by_id(version_id)
            .one(db)
            .await
            .map_err(db_err)
    }

    pub(super) async fn put_impl(
        &self,
        actor: &Authorized<'_>,
        package: &str,
        version_id: Uuid,
        input: ImplementationInput,
    ) -> Result<Implementation> {
        let up = input.validate()?;
        let (_writing, txn) = self.write_txn().await?;
        let (pkg, v) = Self::version_rows(&txn, package, version_id).await?;
        let before = Self::implementation_of(&txn, v.id).await?;
        let now = Utc::now();
        let row = implementation::ActiveModel {
            version_id: Set(v.id),
            protocol: Set(up.protocol),
            host: Set(up.host),
            port: Set(i32::from(up.port)),
            path: Set(up.path),
            retries: Set(up.retries as i32),
            connect_timeout: Set(up.connect_timeout as i64),
            read_timeout: Set(up.read_timeout as i64),
            write_timeout: Set(up.write_timeout as i64),
            enabled: Set(up.enabled),
            created_at: Set(before.as_ref().map(|b| b.created_at).unwrap_or(now)),
            updated_at: Set(now),
        };
        let m = if before.is_some() {
            row.update(&txn).await.map_err(db_err)?
        } else {
            row.insert(&txn).await.map_err(db_err)?
        };
        Self::bump_config(&txn, vec![v.runtime_group_id]).await?;
        Self::touch_package(&txn, pkg.id).await?;
        let dto = implementation_dto(m);
        audit::record(
            &txn,
            actor,
            Change {
                action: "implementation.put",
                target_type: "service_version",
                target_id: v.id.to_string(),
                target_name: format!("{}/{}", pkg.key, v.name),
                before: before.map(|b| implementation_summary(&implementation_dto(b))),
                after: Some(implementation_summary(&dto)),
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        self.gateway_changed();
        Ok(dto)
    }

    pub(super) async fn get_impl(
        &self,
        _: &Authorized<'_>,
        package: &str,
        version_id: Uuid,
    ) -> Result<Option<Implementation>> {
        let (_, v) = Self::version_rows(&self.db, package, version_id).await?;
        Ok(Self::implementation_of(&self.db, v.id)
            .await?
            .map(implementation_dto))
    }

    pub(super) async fn delete_impl(
        &self,
        actor: &Authorized<'_>,
        package: &str,
        version_id: Uuid,
    ) -> Result<()> {
        let (_writing, txn) = self.write_txn().await?;
        let (pkg, v) = Self::version_rows(&txn, package, version_id).await?;
        let Some(before) = Self::implementation_of(&txn, v.id).await? else {
            return Err(AppError::not_found(format!(
                "Version \"{}\" of \"{}\" has no implementation.",
                v.name, pkg.key
            )));
        };
        implementation::Entity::delete_by_id(v.id)
            .exec(&txn)
            .await
            .map_err(db_err)?;
        Self::bump_config(&txn, vec![v.runtime_group_id]).await?;
        Self::touch_package(&txn, pkg.id).await?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "implementation.delete",
                target_type: "service_version",
                target_id: v.id.to_string(),
                target_name: format!("{}/{}", pkg.key, v.name),
                before: Some(implementation_summary(&implementation_dto(before))),
                after: None,
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        self.gateway_changed();
        Ok(())
    }

    pub(super) async fn routes_of<C: ConnectionTrait>(
        db: &C,
        version_id: Uuid,
    ) -> Result<Vec<route::Model>> {
        route::Entity::find()
            .filter(route::Column::VersionId.eq(version_id))
            .order_by_asc(route::Column::CreatedOrder)
            .all(db)
            .await
            .map_err(db_err)
    }

    pub(super) async fn list_routes_of(
        &self,
        _: &Authorized<'_>,
        package: &str,
        version_id: Uuid,
    ) -> Result<Vec<Route>> {
        let (_, v) = Self::version_rows(&self.db, package, version_id).await?;
        Ok(Self::routes_of(&self.db, v.id)
            .await?
            .into_iter()
            .map(route_dto)
            .collect())
    }

    async fn route_row<C: ConnectionTrait>(
        db: &C,
        v: &service_version::Model,
        route_id: Uuid,
    ) -> Result<route::Model> {
        route::Entity::find_by_id(route_id)
            .filter(route::Column::VersionId.eq(v.id))
            .one(db)
            .await
            .map_err(db_err)?
            .ok_or_else(|| {
                AppError::not_found(format!(
                    "No route \"{route_id}\" in version \"{}\".",
                    v.name
                ))
            })
    }

    pub(super) async fn get_route_of(
        &self,
        _: &Authorized<'_>,
        package: &str,
        version_id: Uuid,
        route_id: Uuid,
    ) -> Result<Route> {
        let (_, v) = Self::version_rows(&self.db, package, version_id).await?;
        Ok(route_dto(Self::route_row(&self.db, &v, route_id).await?))
    }

    /// All broken rules, the name's uniqueness in the group included.
    async fn route_problems<C: ConnectionTrait>(
        db: &C,
        group: Uuid,
        except: Option<Uuid>,
        input: &RouteInput,
    ) -> Result<Vec<(String, String)>> {
        let mut out = route_errors(input);
        if let Some(name) = input.name.as_deref().filter(|_| out.is_empty()) {
            let mut q = route::Entity::find()
                .filter(route::Column::RuntimeGroupId.eq(group))
                .filter(route::Column::Name.eq(name));
            if let Some(id) = except {
                q = q.filter(route::Column::Id.ne(id));
            }
            if q.one(db).await.map_err(db_err)?.is_some() {
                let g = runtime_group::Entity::find_by_id(group)
                    .one(db)
                    .await
                    .map_err(db_err)?
                    .map(|g| g.name)
                    .unwrap_or_default();
                out.push((
                    "name".into(),
                    format!(
                        "A route named \"{name}\" already exists in runtime group \"{g}\" (route names are unique within a group)."
                    ),
                ));
            }
        }
        Ok(out)
    }

    pub(super) async fn check_route_input(
        &self,
        _: &Authorized<'_>,
        package: &str,
        version_id: Uuid,
        route_id: Option<Uuid>,
        input: RouteInput,
    ) -> Result<Vec<(String, String)>> {
        let (_, v) = Self::version_rows(&self.db, package, version_id).await?;
        Self::route_problems(&self.db, v.runtime_group_id, route_id, &input.normalized()).await
    }

    fn first_problem(problems: Vec<(String, String)>) -> Result<()> {
        match problems.into_iter().next() {
            Some((field, message)) => Err(AppError::validation(field, message)),
            None => Ok(()),
        }
    }

    pub(super) async fn insert_route(
        &self,
        actor: &Authorized<'_>,
        package: &str,
        version_id: Uuid,
        input: RouteInput,
    ) -> Result<Route> {
        let input = input.normalized();
        Self::first_problem(route_errors(&input))?;
        let (_writing, txn) = self.write_txn().await?;
        let (pkg, v) = Self::version_rows(&txn, package, version_id).await?;
        Self::first_problem(Self::route_problems(&txn, v.runtime_group_id, None, &input).await?)?;
        let last: Option<i64> = route::Entity::find()
            .select_only()
            .column_as(route::Column::CreatedOrder.max(), "m")
            .filter(route::Column::RuntimeGroupId.eq(v.runtime_group_id))
            .into_tuple::<Option<i64>>()
            .one(&txn)
            .await
            .map_err(db_err)?
            .flatten();
        let now = Utc::now();
        let m = route::ActiveModel {
            id: Set(Uuid::new_v4()),
            version_id: Set(v.id),
            runtime_group_id: Set(v.runtime_group_id),
            name: Set(input.name.clone()),
            config: Set(serde_json::to_string(&input).map_err(|_| AppError::internal())?),
            created_order: Set(last.unwrap_or(0) + 1),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(db_err)?;
        Self::bump_config(&txn, vec![v.runtime_group_id]).await?;
        Self::touch_package(&txn, pkg.id).await?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "route.create",
                target_type: "route",
                target_id: m.id.to_string(),
                target_name: route_label(&pkg, &v, &input),
                before: None,
                after: Some(route_summary(&input)),
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        self.gateway_changed();
        Ok(route_dto(m))
    }

    pub(super) async fn replace_route(
        &self,
        actor: &Authorized<'_>,
        package: &str,
        version_id: Uuid,
        route_id: Uuid,
        input: RouteInput,
    ) -> Result<Route> {
        let input = input.normalized();
        Self::first_problem(route_errors(&input))?;
        let (_writing, txn) = self.write_txn().await?;
        let (pkg, v) = Self::version_rows(&txn, package, version_id).await?;
        let current = Self::route_row(&txn, &v, route_id).await?;
        Self::first_problem(
            Self::route_problems(&txn, v.runtime_group_id, Some(route_id), &input).await?,
        )?;
        let before = route_fields(&current);
        let mut row: route::ActiveModel = current.into();
        row.name = Set(input.name.clone());
        row.config = Set(serde_json::to_string(&input).map_err(|_| AppError::internal())?);
        row.updated_at = Set(Utc::now());
        let m = row.update(&txn).await.map_err(db_err)?;
        Self::bump_config(&txn, vec![v.runtime_group_id]).await?;
        Self::touch_package(&txn, pkg.id).await?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "route.update",
                target_type: "route",
                target_id: m.id.to_string(),
                target_name: route_label(&pkg, &v, &input),
                before: Some(route_summary(&before)),
                after: Some(route_summary(&input)),
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        self.gateway_changed();
        Ok(route_dto(m))
    }

    pub(super) async fn remove_route(
        &self,
        actor: &Authorized<'_>,
        package: &str,
        version_id: Uuid,
        route_id: Uuid,
    ) -> Result<()> {
        let (_writing, txn) = self.write_txn().await?;
        let (pkg, v) = Self::version_rows(&txn, package, version_id).await?;
        let current = Self::route_row(&txn, &v, route_id).await?;
        Self::delete_plugins_of_route(&txn, current.id).await?;
        route::Entity::delete_by_id(current.id)
            .exec(&txn)
            .await
            .map_err(db_err)?;
        Self::bump_config(&txn, vec![v.runtime_group_id]).await?;
        Self::touch_package(&txn, pkg.id).await?;
        let before = route_fields(&current);
        audit::record(
            &txn,
            actor,
            Change {
                action: "route.delete",
                target_type: "route",
                target_id: current.id.to_string(),
                target_name: route_label(&pkg, &v, &before),
                before: Some(route_summary(&before)),
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
impl GatewayConfig for Hub {
    async fn put_implementation(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        input: ImplementationInput,
    ) -> Result<Implementation> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.put_impl(actor, package, version_id, input).await
    }
    async fn get_implementation(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
    ) -> Result<Option<Implementation>> {
        let actor = &actor.require(Permission::Read)?;
        self.get_impl(actor, package, version_id).await
    }
    async fn delete_implementation(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
    ) -> Result<()> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.delete_impl(actor, package, version_id).await
    }
    async fn list_routes(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
    ) -> Result<Vec<Route>> {
        let actor = &actor.require(Permission::Read)?;
        self.list_routes_of(actor, package, version_id).await
    }
    async fn get_route(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        route_id: Uuid,
    ) -> Result<Route> {
        let actor = &actor.require(Permission::Read)?;
        self.get_route_of(actor, package, version_id, route_id)
            .await
    }
    async fn create_route(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        input: RouteInput,
    ) -> Result<Route> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.insert_route(actor, package, version_id, input).await
    }
    async fn update_route(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        route_id: Uuid,
        input: RouteInput,
    ) -> Result<Route> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.replace_route(actor, package, version_id, route_id, input)
            .await
    }
    async fn delete_route(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        route_id: Uuid,
    ) -> Result<()> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.remove_route(actor, package, version_id, route_id)
            .await
    }
    async fn check_route(
        &self,
        actor: &Actor,
        package: &str,
        version_id: Uuid,
        route_id: Option<Uuid>,
        input: RouteInput,
    ) -> Result<Vec<(String, String)>> {
        let actor = &actor.require(Permission::Read)?;
        self.check_route_input(actor, package, version_id, route_id, input)
            .await
    }
}
