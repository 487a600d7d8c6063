//! The audit log: one row per change, written in the change's own transaction, so a
//! change and its record commit or roll back together.

use app::model::*;
use app::ports::{AuditLog, Result};
use chrono::Utc;
use sea_orm::sea_query::{Expr, Func, LikeExpr};
use sea_orm::*;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{db_err, like_pattern, Hub};
use crate::store::audit_event;

/// The longest summary kept; longer ones are cut (descriptions can be 10,000 chars).
const SUMMARY_MAX: usize = 2000;

/// What changed: the target and a short before/after.
pub(crate) struct Change<'a> {
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: String,
    pub target_name: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Cuts long strings inside a summary value.
fn shorten(v: Value) -> Value {
    match v {
        Value::String(s) if s.chars().count() > 200 => {
            Value::String(format!("{}…", s.chars().take(200).collect::<String>()))
        }
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, shorten(v))).collect()),
        Value::Array(a) => Value::Array(a.into_iter().map(shorten).collect()),
        other => other,
    }
}

/// Writes one audit row with `db` (the change's transaction).
pub(crate) async fn record<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    change: Change<'_>,
) -> Result<()> {
    let mut summary = json!({});
    if let Some(b) = change.before {
        summary["before"] = shorten(b);
    }
    if let Some(a) = change.after {
        summary["after"] = shorten(a);
    }
    let mut summary = summary.to_string();
    if summary.len() > SUMMARY_MAX {
        let mut cut = SUMMARY_MAX;
        while !summary.is_char_boundary(cut) {
            cut -= 1;
        }
        summary.truncate(cut);
        summary.push('…');
    }
    let name: String = change.target_name.chars().take(255).collect();
    audit_event::ActiveModel {
        id: Set(Uuid::new_v4()),
        at: Set(Utc::now()),
        actor_id: Set(actor.user_id),
        actor_email: Set(actor.email.clone()),
        action: Set(change.action.to_string()),
        target_type: Set(change.target_type.to_string()),
        target_id: Set(change.target_id),
        target_name: Set(name),
        summary: Set(summary),
        source: Set(actor.source.chars().take(64).collect()),
    }
    .insert(db)
    .await
    .map_err(db_err)?;
    Ok(())
}

fn to_dto(m: audit_event::Model) -> AuditEvent {
    AuditEvent {
        id: m.id,
        at: m.at,
        actor_id: m.actor_id,
        actor_email: m.actor_email,
        action: m.action,
        target_type: m.target_type,
        target_id: m.target_id,
        target_name: m.target_name,
        summary: m.summary,
        source: m.source,
    }
}

impl Hub {
    pub(super) async fn audit_page(
        &self,
        _: &Authorized<'_>,
        q: AuditQuery,
    ) -> Result<Page<AuditEvent>> {
        use audit_event::Column as C;
        let mut select = audit_event::Entity::find();
        if let Some(user) = q.user.as_deref().filter(|s| !s.trim().is_empty()) {
            select = select.filter(
                Expr::expr(Func::lower(Expr::col(C::ActorEmail)))
                    .like(LikeExpr::new(like_pattern(user)).escape('\\')),
            );
        }
        if let Some(action) = q.action.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            select = if action.ends_with('.') {
                select.filter(C::Action.starts_with(action))
            } else {
                select.filter(C::Action.eq(action))
            };
        }
        if let Some(target) = q.target.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            select = select.filter(
                Condition::any().add(C::TargetId.eq(target)).add(
                    Expr::expr(Func::lower(Expr::col(C::TargetName)))
                        .like(LikeExpr::new(like_pattern(target)).escape('\\')),
                ),
            );
        }
        if let Some(from) = q.from {
            select = select.filter(C::At.gte(from));
        }
        if let Some(to) = q.to {
            select = select.filter(C::At.lt(to));
        }
        let page_size = if q.page_size == 0 {
            100
        } else {
            q.page_size.min(500)
        };
        let page = q.page.max(1);
        let paginator = select
            .order_by_desc(C::At)
            .order_by_desc(C::Id)
            .paginate(&self.db, page_size);
        let total = paginator.num_items().await.map_err(db_err)?;
        let rows = paginator.fetch_page(page - 1).await.map_err(db_err)?;
        Ok(Page {
            data: rows.into_iter().map(to_dto).collect(),
            page,
            page_size,
            total,
        })
    }
}

#[async_trait::async_trait]
impl AuditLog for Hub {
    async fn audit_events(&self, actor: &Actor, query: AuditQuery) -> Result<Page<AuditEvent>> {
        let actor = &actor.require(Permission::Administer)?;
        self.audit_page(actor, query).await
    }
}
