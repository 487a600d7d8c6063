//! What a data plane may report analytics about: the packages, versions, routes and
//! consumers of its own runtime group's config snapshots.
//!
//! A data plane can only record traffic for ids it received in a snapshot, and every
//! snapshot is built by [`Hub::snapshot`], which records the ids of each one it builds
//! in `snapshot_ids` before handing it out (with each id's kind and parent: a route's
//! version, a version's package; nil for a package or a consumer), and marks the ids that left the group's snapshot
//! as retired. An analytics row is accepted when its ids are in the group's current
//! snapshot, or were retired from it within the minute retention (older rows are
//! refused for their bucket anyway): so a batch recorded just before a route was
//! deleted, or buffered by a node while the control plane was unreachable, still
//! counts, while ids of another group, or made up, are refused with a 422 naming the
//! row (the node drops that batch: see `gateway::recorder`). Retired ids are purged
//! with the analytics rows.

use std::collections::{BTreeSet, HashMap};

use app::error::AppError;
use app::ports::Result;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::{db_err, Hub};
use crate::gateway::recorder::Batch;
use crate::gateway::snapshot::Snapshot;
use crate::store::snapshot_id;

/// Rows per statement (5 parameters each).
const CHUNK: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Package,
    Version,
    Route,
    Consumer,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Package => "package",
            Kind::Version => "version",
            Kind::Route => "route",
            Kind::Consumer => "consumer",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        match s {
            "package" => Some(Kind::Package),
            "version" => Some(Kind::Version),
            "route" => Some(Kind::Route),
            "consumer" => Some(Kind::Consumer),
            _ => None,
        }
    }
}

/// id → (kind, parent) of the ids a data plane may name.
type Known = HashMap<Uuid, (Kind, Uuid)>;

/// The ids of a snapshot (ids that are not UUIDs cannot be named by a row: skipped).
fn ids_of(s: &Snapshot) -> Known {
    let mut out = Known::new();
    let uuid = |s: &str| Uuid::parse_str(s).ok();
    for svc in &s.services {
        let (Some(version), Some(package)) = (uuid(&svc.version_id), uuid(&svc.package_id)) else {
            continue;
        };
        out.insert(package, (Kind::Package, Uuid::nil()));
        out.insert(version, (Kind::Version, package));
        for r in &svc.routes {
            if let Some(route) = uuid(&r.id) {
                out.insert(route, (Kind::Route, version));
            }
        }
    }
    for c in &s.consumers {
        if let Some(consumer) = uuid(&c.id) {
            out.insert(consumer, (Kind::Consumer, Uuid::nil()));
        }
    }
    out
}

fn invalid(field: String, message: String) -> AppError {
    AppError::validation(field, message)
}

/// A row's id: `None` when absent, empty or nil.
fn row_id(i: usize, name: &str, v: &Option<String>) -> Result<Option<Uuid>> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => Uuid::parse_str(s)
            .map(|u| (!u.is_nil()).then_some(u))
            .map_err(|_| invalid(format!("rows[{i}].{name}"), "must be a UUID".into())),
    }
}

impl Hub {
    /// Records the ids of a snapshot just built for `group` (before anyone gets it),
    /// and marks the group's ids that are not in it as retired now. Writes nothing
    /// when the stored ids already say so.
    pub(super) async fn record_snapshot_ids(&self, group: Uuid, snap: &Snapshot) -> Result<()> {
        let current = ids_of(snap);
        let stored: HashMap<Uuid, snapshot_id::Model> = snapshot_id::Entity::find()
            .filter(snapshot_id::Column::RuntimeGroupId.eq(group))
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        let upsert: Vec<snapshot_id::ActiveModel> = current
            .iter()
            .filter(|(id, (kind, parent))| {
                !stored.get(id).is_some_and(|m| {
                    m.kind == kind.as_str() && m.parent_id == *parent && m.retired_at.is_none()
                })
            })
            .map(|(id, (kind, parent))| snapshot_id::ActiveModel {
                runtime_group_id: Set(group),
                id: Set(*id),
                kind: Set(kind.as_str().to_string()),
                parent_id: Set(*parent),
                retired_at: Set(None),
            })
            .collect();
        let retire: Vec<Uuid> = stored
            .values()
            .filter(|m| m.retired_at.is_none() && !current.contains_key(&m.id))
            .map(|m| m.id)
            .collect();
        if upsert.is_empty() && retire.is_empty() {
            return Ok(());
        }
        let now = Utc::now();
        let (_writing, txn) = self.write_txn().await?;
        let mut upsert = upsert.into_iter().peekable();
        while upsert.peek().is_some() {
            let chunk: Vec<_> = upsert.by_ref().take(CHUNK).collect();
            snapshot_id::Entity::insert_many(chunk)
                .on_conflict(
                    OnConflict::columns([
                        snapshot_id::Column::RuntimeGroupId,
                        snapshot_id::Column::Id,
                    ])
                    .update_columns([
                        snapshot_id::Column::Kind,
                        snapshot_id::Column::ParentId,
                        snapshot_id::Column::RetiredAt,
                    ])
                    .to_owned(),
                )
                .exec_without_returning(&txn)
                .await
                .map_err(db_err)?;
        }
        for chunk in retire.chunks(CHUNK) {
            snapshot_id::Entity::update_many()
                .col_expr(snapshot_id::Column::RetiredAt, Expr::value(now))
                .filter(snapshot_id::Column::RuntimeGroupId.eq(group))
                .filter(snapshot_id::Column::Id.is_in(chunk.iter().copied()))
                .filter(snapshot_id::Column::RetiredAt.is_null())
                .exec(&txn)
                .await
                .map_err(db_err)?;
        }
        txn.commit().await.map_err(db_err)
    }

    /// Checks that every row of `batch` names a route, its version and its package of
    /// `group`'s current snapshot (or of one retired from it at `retired_since` or
    /// later), or none of them, and no consumer or one of those snapshots'; the first
    /// that does not is a 422 naming `rows[i].<field>`.
    pub(super) async fn check_batch_ids(
        &self,
        group: Uuid,
        group_name: &str,
        batch: &Batch,
        retired_since: DateTime<Utc>,
    ) -> Result<()> {
        let mut rows = Vec::with_capacity(batch.rows.len());
        let mut consumers = Vec::with_capacity(batch.rows.len());
        for (i, r) in batch.rows.iter().enumerate() {
            rows.push((
                row_id(i, "package_id", &r.package_id)?,
                row_id(i, "version_id", &r.version_id)?,
                row_id(i, "route_id", &r.route_id)?,
            ));
            consumers.push(row_id(i, "consumer_id", &r.consumer_id)?);
        }
        if rows.iter().all(|ids| *ids == (None, None, None))
            && consumers.iter().all(Option::is_none)
        {
            return Ok(());
        }
        let mut known = ids_of(&*self.snapshot(group).await?);
        let unknown: BTreeSet<Uuid> = rows
            .iter()
            .zip(&consumers)
            .flat_map(|((p, v, r), c)| [*p, *v, *r, *c])
            .flatten()
            .filter(|id| !known.contains_key(id))
            .collect();
        let unknown: Vec<Uuid> = unknown.into_iter().collect();
        for chunk in unknown.chunks(CHUNK) {
            let retired = snapshot_id::Entity::find()
                .filter(snapshot_id::Column::RuntimeGroupId.eq(group))
                .filter(snapshot_id::Column::Id.is_in(chunk.iter().copied()))
                .filter(
                    snapshot_id::Column::RetiredAt
                        .is_null()
                        .or(snapshot_id::Column::RetiredAt.gte(retired_since)),
                )
                .all(&self.db)
                .await
                .map_err(db_err)?;
            for m in retired {
                if let Some(kind) = Kind::parse(&m.kind) {
                    known.insert(m.id, (kind, m.parent_id));
                }
            }
        }
        let of_group = format!("of runtime group \"{group_name}\"");
        for (i, (ids, consumer)) in rows.iter().zip(&consumers).enumerate() {
            let f = |name: &str| format!("rows[{i}].{name}");
            if let Some(c) = *consumer {
                if !matches!(known.get(&c), Some(&(Kind::Consumer, _))) {
                    return Err(invalid(
                        f("consumer_id"),
                        format!("{c} is not a consumer {of_group}"),
                    ));
                }
            }
            let (package, version, route) = match *ids {
                (None, None, None) => continue,
                (Some(p), Some(v), Some(r)) => (p, v, r),
                (p, v, _) => {
                    let missing = if p.is_none() {
                        "package_id"
                    } else if v.is_none() {
                        "version_id"
                    } else {
                        "route_id"
                    };
                    return Err(invalid(
                        f(missing),
                        "is required: a row names a route, its version and its package, or none of them".into(),
                    ));
                }
            };
            match known.get(&version) {
                Some(&(Kind::Version, of)) if of == package => {}
                Some(&(Kind::Version, _)) => {
                    return Err(invalid(
                        f("package_id"),
                        format!("{package} is not the package of version {version}"),
                    ))
                }
                _ => {
                    return Err(invalid(
                        f("version_id"),
                        format!("{version} is not a version {of_group}"),
                    ))
                }
            }
            match known.get(&route) {
                Some(&(Kind::Route, of)) if of == version => {}
                Some(&(Kind::Route, _)) => {
                    return Err(invalid(
                        f("route_id"),
                        format!("{route} is not a route of version {version}"),
                    ))
                }
                _ => {
                    return Err(invalid(
                        f("route_id"),
                        format!("{route} is not a route {of_group}"),
                    ))
                }
            }
        }
        Ok(())
    }

    /// Deletes the ids retired before `before`; how many.
    pub(super) async fn purge_snapshot_ids(&self, before: DateTime<Utc>) -> Result<u64> {
        let _writing = self.write_lock().await;
        let res = snapshot_id::Entity::delete_many()
            .filter(snapshot_id::Column::RetiredAt.lt(before))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        Ok(res.rows_affected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_id_is_none_when_absent_empty_or_nil() {
        assert_eq!(row_id(0, "route_id", &None).unwrap(), None);
        assert_eq!(row_id(0, "route_id", &Some(" ".into())).unwrap(), None);
        assert_eq!(
            row_id(0, "route_id", &Some(Uuid::nil().to_string())).unwrap(),
            None
        );
        let id = Uuid::new_v4();
        assert_eq!(
            row_id(0, "route_id", &Some(id.to_string())).unwrap(),
            Some(id)
        );
        let e = row_id(3, "version_id", &Some("v1".into())).unwrap_err();
        assert_eq!(e.field(), Some("rows[3].version_id"));
    }
}
