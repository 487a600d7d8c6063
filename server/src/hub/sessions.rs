//! Browser sessions: opened at sign-in, found from the cookie on each request, ended
//! by idle or absolute expiry, sign-out, a password change or disabling the user.

use app::model::*;
use app::ports::Result;
use chrono::{DateTime, Duration, Utc};
use sea_orm::*;
use uuid::Uuid;

use super::{db_err, Hub};
use crate::auth::secret;
use crate::store::{session, user};

/// How long sessions last.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// A session unused for this long ends.
    pub idle: Duration,
    /// A session ends this long after sign-in, used or not.
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: Duration::hours(12),
            absolute: Duration::days(7),
        }
    }
}

/// `last_seen_at` / `last_used_at` are written at most this often.
pub(super) const TOUCH_EVERY_SECS: i64 = 60;

impl Hub {
    /// Opens a session for `user_id`; returns the cookie secret.
    pub(super) async fn open_session<C: ConnectionTrait>(
        &self,
        db: &C,
        user_id: Uuid,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let secret = secret::random_secret();
        session::ActiveModel {
            id_hash: Set(secret::sha256_hex(&secret)),
            user_id: Set(user_id),
            created_at: Set(now),
            last_seen_at: Set(now),
            expires_at: Set(now + self.sessions.absolute),
            source: Set(source.chars().take(64).collect()),
        }
        .insert(db)
        .await
        .map_err(db_err)?;
        Ok(secret)
    }

    pub(super) async fn end_sessions_of<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<()> {
        session::Entity::delete_many()
            .filter(session::Column::UserId.eq(user_id))
            .exec(db)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// The actor behind a session cookie, or `None` when the session is unknown,
    /// expired (idle or absolute) or its user is disabled. Expired sessions are removed.
    pub async fn authenticate_session(
        &self,
        cookie_secret: &str,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Actor>> {
        let id_hash = secret::sha256_hex(cookie_secret);
        let Some(s) = session::Entity::find_by_id(id_hash.clone())
            .one(&self.db)
            .await
            .map_err(db_err)?
        else {
            return Ok(None);
        };
        let expired = now >= s.expires_at || now - s.last_seen_at >= self.sessions.idle;
        let user = if expired {
            None
        } else {
            user::Entity::find_by_id(s.user_id)
                .one(&self.db)
                .await
                .map_err(db_err)?
                .filter(|u| !u.disabled)
        };
        let Some(user) = user else {
            let _writing = self.write_lock().await;
            session::Entity::delete_by_id(id_hash)
                .exec(&self.db)
                .await
                .map_err(db_err)?;
            return Ok(None);
        };
        if (now - s.last_seen_at).num_seconds() >= TOUCH_EVERY_SECS {
            let _writing = self.write_lock().await;
            session::Entity::update_many()
                .col_expr(
                    session::Column::LastSeenAt,
                    sea_orm::sea_query::Expr::value(now),
                )
                .filter(session::Column::IdHash.eq(id_hash.clone()))
                .exec(&self.db)
                .await
                .map_err(db_err)?;
        }
        Ok(Some(Actor {
            user_id: Some(user.id),
            role: Role::parse(&user.role).unwrap_or_default(),
            email: user.email,
            credential: Credential::Session(id_hash),
            source: source.to_string(),
        }))
    }

    pub(super) async fn sign_out(&self, actor: &Authorized<'_>) -> Result<()> {
        if let Credential::Session(id_hash) = &actor.credential {
            let _writing = self.write_lock().await;
            session::Entity::delete_by_id(id_hash.clone())
                .exec(&self.db)
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }

    /// Removes expired sessions (run now and then).
    pub async fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        let _writing = self.write_lock().await;
        let res = session::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(session::Column::ExpiresAt.lte(now))
                    .add(session::Column::LastSeenAt.lte(now - self.sessions.idle)),
            )
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        Ok(res.rows_affected)
    }
}
