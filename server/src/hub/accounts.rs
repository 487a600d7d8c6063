//! Users, sessions and personal API tokens.

use app::error::AppError;
use app::model::auth::{check_password, check_token_name, normalize_email};
use app::model::*;
use app::ports::{Result, SignedIn};
use chrono::{DateTime, Duration, Utc};
use sea_orm::*;
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, Change};
use super::{db_err, Hub};
use crate::auth::secret::{self, TOKEN_PREFIX};
use crate::store::{api_token, session, user};

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
const TOUCH_EVERY_SECS: i64 = 60;

fn user_dto(m: user::Model) -> User {
    User {
        id: m.id,
        role: Role::parse(&m.role).unwrap_or_default(),
        email: m.email,
        disabled: m.disabled,
        created_at: m.created_at,
        updated_at: m.updated_at,
        last_login_at: m.last_login_at,
    }
}

fn user_summary(m: &user::Model) -> serde_json::Value {
    json!({ "email": m.email, "role": m.role, "disabled": m.disabled })
}

fn token_dto(m: api_token::Model, email: &str) -> ApiToken {
    ApiToken {
        id: m.id,
        user_id: m.user_id,
        user_email: email.to_string(),
        name: m.name,
        role: Role::parse(&m.role).unwrap_or_default(),
        prefix: m.prefix,
        created_at: m.created_at,
        expires_at: m.expires_at,
        last_used_at: m.last_used_at,
    }
}

/// Runs argon2 off the async workers.
async fn hash(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || secret::hash_password(&password))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing task failed");
            AppError::internal()
        })?
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            AppError::internal()
        })
}

async fn verify(password: String, stored: Option<String>) -> Result<bool> {
    tokio::task::spawn_blocking(move || secret::verify_password(&password, stored.as_deref()))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "password check task failed");
            AppError::internal()
        })
}

fn wrong_credentials() -> AppError {
    AppError::unauthorized("The email or the password is wrong.")
}

impl Hub {
    async fn find_user<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<user::Model> {
        user::Entity::find_by_id(id)
            .one(db)
            .await
            .map_err(db_err)?
            .ok_or_else(|| AppError::not_found(format!("No user with id \"{id}\".")))
    }

    async fn find_user_by_email<C: ConnectionTrait>(
        db: &C,
        email: &str,
    ) -> Result<Option<user::Model>> {
        user::Entity::find()
            .filter(user::Column::Email.eq(email))
            .one(db)
            .await
            .map_err(db_err)
    }

    /// Opens a session for `user_id`; returns the cookie secret.
    async fn open_session<C: ConnectionTrait>(
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

    async fn end_sessions_of<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<()> {
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
            session::Entity::delete_by_id(id_hash)
                .exec(&self.db)
                .await
                .map_err(db_err)?;
            return Ok(None);
        };
        if (now - s.last_seen_at).num_seconds() >= TOUCH_EVERY_SECS {
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

    /// The actor behind an API token, or `None` when it is unknown, expired, revoked
    /// or its user is disabled. The role in force is the lower of the token's and the
    /// owner's current role.
    pub async fn authenticate_token(
        &self,
        token: &str,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Actor>> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let Some(t) = api_token::Entity::find()
            .filter(api_token::Column::SecretHash.eq(secret::sha256_hex(token)))
            .one(&self.db)
            .await
            .map_err(db_err)?
        else {
            return Ok(None);
        };
        if t.expires_at.is_some_and(|e| now >= e) {
            return Ok(None);
        }
        let Some(user) = user::Entity::find_by_id(t.user_id)
            .one(&self.db)
            .await
            .map_err(db_err)?
            .filter(|u| !u.disabled)
        else {
            return Ok(None);
        };
        if t.last_used_at
            .is_none_or(|l| (now - l).num_seconds() >= TOUCH_EVERY_SECS)
        {
            api_token::Entity::update_many()
                .col_expr(
                    api_token::Column::LastUsedAt,
                    sea_orm::sea_query::Expr::value(Some(now)),
                )
                .filter(api_token::Column::Id.eq(t.id))
                .exec(&self.db)
                .await
                .map_err(db_err)?;
        }
        let owner_role = Role::parse(&user.role).unwrap_or_default();
        let token_role = Role::parse(&t.role).unwrap_or_default();
        Ok(Some(Actor {
            user_id: Some(user.id),
            email: user.email,
            role: owner_role.min(token_role),
            credential: Credential::Token(t.id),
            source: source.to_string(),
        }))
    }

    pub(super) async fn any_user(&self) -> Result<bool> {
        Ok(user::Entity::find()
            .one(&self.db)
            .await
            .map_err(db_err)?
            .is_some())
    }

    /// Creates a user (no role check: callers check). Used by the API, the first-run
    /// screen and `portico admin create-user`.
    async fn insert_user<C: ConnectionTrait>(
        db: &C,
        actor: &Actor,
        email: &str,
        role: Role,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> Result<user::Model> {
        if Self::find_user_by_email(db, email).await?.is_some() {
            return Err(AppError::conflict(
                Some("email"),
                format!("A user with the email \"{email}\" already exists."),
            ));
        }
        let m = user::ActiveModel {
            id: Set(Uuid::new_v4()),
            email: Set(email.to_string()),
            password_hash: Set(password_hash),
            role: Set(role.as_str().into()),
            disabled: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            last_login_at: Set(None),
        }
        .insert(db)
        .await
        .map_err(db_err)?;
        audit::record(
            db,
            actor,
            Change {
                action: "user.create",
                target_type: "user",
                target_id: m.id.to_string(),
                target_name: m.email.clone(),
                before: None,
                after: Some(user_summary(&m)),
            },
        )
        .await?;
        Ok(m)
    }

    pub(super) async fn first_admin(
        &self,
        email: &str,
        password: &str,
        source: &str,
    ) -> Result<SignedIn> {
        let email = normalize_email("email", email)?;
        check_password("password", password)?;
        let password_hash = hash(password.to_string()).await?;
        let (_writing, txn) = self.write_txn().await?;
        if user::Entity::find()
            .one(&txn)
            .await
            .map_err(db_err)?
            .is_some()
        {
            return Err(AppError::conflict(
                None,
                "Portico already has users; sign in instead.",
            ));
        }
        let now = Utc::now();
        let actor = Actor {
            user_id: None,
            email: email.clone(),
            role: Role::Admin,
            credential: Credential::Console,
            source: source.to_string(),
        };
        let m = Self::insert_user(&txn, &actor, &email, Role::Admin, password_hash, now).await?;
        let session_secret = self.open_session(&txn, m.id, source, now).await?;
        txn.commit().await.map_err(db_err)?;
        Ok(SignedIn {
            me: Me {
                id: m.id,
                email: m.email,
                role: Role::Admin,
            },
            session_secret,
        })
    }

    pub(super) async fn sign_in(
        &self,
        email: &str,
        password: &str,
        source: &str,
    ) -> Result<SignedIn> {
        let now = Utc::now();
        let typed = email.trim().to_lowercase();
        let keys = [format!("account:{typed}"), format!("address:{source}")];
        if let Err(wait) = self.throttle.check(&keys, now) {
            return Err(AppError::TooManyRequests {
                message: format!(
                    "Too many failed sign-ins. Try again in {wait} second{}.",
                    if wait == 1 { "" } else { "s" }
                ),
                retry_after: wait,
            });
        }
        let found = if password.len() > app::model::auth::PASSWORD_MAX * 4 {
            None
        } else {
            Self::find_user_by_email(&self.db, &typed).await?
        };
        let ok = verify(
            password.to_string(),
            found.as_ref().map(|u| u.password_hash.clone()),
        )
        .await?;
        let user = match found {
            Some(u) if ok && !u.disabled => u,
            _ => {
                self.throttle.fail(&keys, now);
                return Err(wrong_credentials());
            }
        };
        self.throttle.clear(&keys[0]);
        let (_writing, txn) = self.write_txn().await?;
        let session_secret = self.open_session(&txn, user.id, source, now).await?;
        user::Entity::update_many()
            .col_expr(
                user::Column::LastLoginAt,
                sea_orm::sea_query::Expr::value(Some(now)),
            )
            .filter(user::Column::Id.eq(user.id))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        txn.commit().await.map_err(db_err)?;
        Ok(SignedIn {
            me: Me {
                id: user.id,
                role: Role::parse(&user.role).unwrap_or_default(),
                email: user.email,
            },
            session_secret,
        })
    }

    pub(super) async fn sign_out(&self, actor: &Actor) -> Result<()> {
        if let Credential::Session(id_hash) = &actor.credential {
            session::Entity::delete_by_id(id_hash.clone())
                .exec(&self.db)
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }

    fn own_id(actor: &Actor) -> Result<Uuid> {
        actor
            .user_id
            .ok_or_else(|| AppError::bad_request("The console has no account of its own."))
    }

    pub(super) async fn new_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
    ) -> Result<SignedIn> {
        let id = Self::own_id(actor)?;
        check_password("new_password", new)?;
        let user = Self::find_user(&self.db, id).await?;
        if !verify(current.to_string(), Some(user.password_hash.clone())).await? {
            return Err(AppError::validation(
                "current_password",
                "This is not your current password.",
            ));
        }
        if current == new {
            return Err(AppError::validation(
                "new_password",
                "Choose a password different from the current one.",
            ));
        }
        let password_hash = hash(new.to_string()).await?;
        let now = Utc::now();
        let (_writing, txn) = self.write_txn().await?;
        user::Entity::update_many()
            .col_expr(
                user::Column::PasswordHash,
                sea_orm::sea_query::Expr::value(password_hash),
            )
            .col_expr(
                user::Column::UpdatedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(user::Column::Id.eq(id))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        Self::end_sessions_of(&txn, id).await?;
        let session_secret = self.open_session(&txn, id, &actor.source, now).await?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "user.change_password",
                target_type: "user",
                target_id: id.to_string(),
                target_name: user.email.clone(),
                before: None,
                after: None,
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        Ok(SignedIn {
            me: Me {
                id,
                role: Role::parse(&user.role).unwrap_or_default(),
                email: user.email,
            },
            session_secret,
        })
    }

    pub(super) async fn users(&self) -> Result<Vec<User>> {
        Ok(user::Entity::find()
            .order_by_asc(user::Column::Email)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(user_dto)
            .collect())
    }

    pub(super) async fn add_user(&self, actor: &Actor, input: NewUser) -> Result<User> {
        let email = normalize_email("email", &input.email)?;
        check_password("password", &input.password)?;
        let password_hash = hash(input.password).await?;
        let (_writing, txn) = self.write_txn().await?;
        let m =
            Self::insert_user(&txn, actor, &email, input.role, password_hash, Utc::now()).await?;
        txn.commit().await.map_err(db_err)?;
        Ok(user_dto(m))
    }

    /// Refuses a change that would leave no enabled admin.
    async fn keep_an_admin<C: ConnectionTrait>(db: &C, losing: Uuid) -> Result<()> {
        let others = user::Entity::find()
            .filter(user::Column::Role.eq(Role::Admin.as_str()))
            .filter(user::Column::Disabled.eq(false))
            .filter(user::Column::Id.ne(losing))
            .count(db)
            .await
            .map_err(db_err)?;
        if others == 0 {
            return Err(AppError::conflict(
                None,
                "This is the last enabled admin; make another user an admin first.",
            ));
        }
        Ok(())
    }

    pub(super) async fn change_user(
        &self,
        actor: &Actor,
        id: Uuid,
        patch: UserPatch,
    ) -> Result<User> {
        let (_writing, txn) = self.write_txn().await?;
        let current = Self::find_user(&txn, id).await?;
        let was_admin = current.role == Role::Admin.as_str() && !current.disabled;
        let role = patch
            .role
            .unwrap_or_else(|| Role::parse(&current.role).unwrap_or_default());
        let disabled = patch.disabled.unwrap_or(current.disabled);
        if was_admin && (role != Role::Admin || disabled) {
            Self::keep_an_admin(&txn, id).await?;
        }
        let mut row: user::ActiveModel = current.clone().into();
        row.role = Set(role.as_str().into());
        row.disabled = Set(disabled);
        row.updated_at = Set(Utc::now());
        let m = row.update(&txn).await.map_err(db_err)?;
        if disabled {
            // A disabled user's sessions end at once (tokens are refused while disabled).
            Self::end_sessions_of(&txn, id).await?;
        }
        audit::record(
            &txn,
            actor,
            Change {
                action: "user.update",
                target_type: "user",
                target_id: id.to_string(),
                target_name: m.email.clone(),
                before: Some(user_summary(&current)),
                after: Some(user_summary(&m)),
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        Ok(user_dto(m))
    }

    pub(super) async fn remove_user(&self, actor: &Actor, id: Uuid) -> Result<()> {
        let (_writing, txn) = self.write_txn().await?;
        let current = Self::find_user(&txn, id).await?;
        if current.role == Role::Admin.as_str() && !current.disabled {
            Self::keep_an_admin(&txn, id).await?;
        }
        Self::end_sessions_of(&txn, id).await?;
        api_token::Entity::delete_many()
            .filter(api_token::Column::UserId.eq(id))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        user::Entity::delete_by_id(id)
            .exec(&txn)
            .await
            .map_err(db_err)?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "user.delete",
                target_type: "user",
                target_id: id.to_string(),
                target_name: current.email.clone(),
                before: Some(user_summary(&current)),
                after: None,
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)
    }

    pub(super) async fn tokens(&self, owner: Option<Uuid>) -> Result<Vec<ApiToken>> {
        let mut q = api_token::Entity::find();
        if let Some(id) = owner {
            q = q.filter(api_token::Column::UserId.eq(id));
        }
        let rows = q
            .order_by_desc(api_token::Column::CreatedAt)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let users: std::collections::HashMap<Uuid, String> = user::Entity::find()
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|u| (u.id, u.email))
            .collect();
        Ok(rows
            .into_iter()
            .map(|t| {
                let email = users.get(&t.user_id).cloned().unwrap_or_default();
                token_dto(t, &email)
            })
            .collect())
    }

    pub(super) async fn add_token(
        &self,
        actor: &Actor,
        input: NewApiToken,
    ) -> Result<CreatedApiToken> {
        let owner_id = Self::own_id(actor)?;
        let name = input.name.trim().to_string();
        check_token_name("name", &name)?;
        let owner = Self::find_user(&self.db, owner_id).await?;
        let owner_role = Role::parse(&owner.role).unwrap_or_default();
        // A token can't exceed its creator's role in force (a token making tokens
        // can't raise itself).
        let ceiling = owner_role.min(actor.role);
        let role = input.role.unwrap_or(ceiling);
        if role > ceiling {
            return Err(AppError::validation(
                "role",
                format!("A token's role can be at most yours ({}).", ceiling.label()),
            ));
        }
        let now = Utc::now();
        let expires_at = match input.expires_in_days {
            None | Some(0) => None,
            Some(d) if d <= 3650 => Some(now + Duration::days(i64::from(d))),
            Some(_) => {
                return Err(AppError::validation(
                    "expires_in_days",
                    "A token expires in 1 to 3650 days (or never: leave it empty).",
                ))
            }
        };
        let secret = format!("{TOKEN_PREFIX}{}", secret::random_secret());
        let prefix: String = secret.chars().take(10).collect();
        let (_writing, txn) = self.write_txn().await?;
        let m = api_token::ActiveModel {
            id: Set(Uuid::new_v4()),
            user_id: Set(owner_id),
            name: Set(name),
            role: Set(role.as_str().into()),
            secret_hash: Set(secret::sha256_hex(&secret)),
            prefix: Set(prefix),
            created_at: Set(now),
            expires_at: Set(expires_at),
            last_used_at: Set(None),
        }
        .insert(&txn)
        .await
        .map_err(db_err)?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "api_token.create",
                target_type: "api_token",
                target_id: m.id.to_string(),
                target_name: m.name.clone(),
                before: None,
                after: Some(
                    json!({ "name": m.name, "role": m.role, "owner": owner.email,
                    "expires_at": m.expires_at }),
                ),
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        Ok(CreatedApiToken {
            token: token_dto(m, &owner.email),
            secret,
        })
    }

    pub(super) async fn remove_token(&self, actor: &Actor, id: Uuid) -> Result<()> {
        let (_writing, txn) = self.write_txn().await?;
        let t = api_token::Entity::find_by_id(id)
            .one(&txn)
            .await
            .map_err(db_err)?
            .filter(|t| Some(t.user_id) == actor.user_id || actor.can(Permission::Administer))
            .ok_or_else(|| AppError::not_found(format!("No API token with id \"{id}\".")))?;
        api_token::Entity::delete_by_id(id)
            .exec(&txn)
            .await
            .map_err(db_err)?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "api_token.revoke",
                target_type: "api_token",
                target_id: id.to_string(),
                target_name: t.name.clone(),
                before: Some(json!({ "name": t.name, "role": t.role })),
                after: None,
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)
    }

    /// For `portico admin create-user`: a user made on the server's console.
    pub async fn console_create_user(
        &self,
        email: &str,
        role: Role,
        password: &str,
    ) -> Result<User> {
        self.add_user(
            &Actor::console(),
            NewUser {
                email: email.to_string(),
                role,
                password: password.to_string(),
            },
        )
        .await
    }

    /// For `portico admin create-token`: a token for an existing user, printed once.
    pub async fn console_create_token(
        &self,
        email: &str,
        input: NewApiToken,
    ) -> Result<CreatedApiToken> {
        let email = normalize_email("email", email)?;
        let user = Self::find_user_by_email(&self.db, &email)
            .await?
            .ok_or_else(|| AppError::not_found(format!("No user with the email \"{email}\".")))?;
        let actor = Actor {
            user_id: Some(user.id),
            email: user.email.clone(),
            role: Role::parse(&user.role).unwrap_or_default(),
            credential: Credential::Console,
            source: "console".into(),
        };
        self.add_token(&actor, input).await
    }

    /// Removes expired sessions (run now and then).
    pub async fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
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
