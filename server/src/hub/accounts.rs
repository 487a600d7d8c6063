//! Users: the first admin, sign-in, password changes, and what admins do to users.

use app::error::AppError;
use app::model::auth::{check_password, normalize_email};
use app::model::*;
use app::ports::{Result, SignedIn, Users};
use chrono::{DateTime, Utc};
use sea_orm::*;
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, Change};
use super::{db_err, Hub};
use crate::auth::secret;
use crate::store::{api_token, user};

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

/// Runs argon2 off the async workers, a few at a time.
async fn hash(password: String) -> Result<String> {
    secret::hash_password_bounded(password).await
}

async fn verify(password: String, stored: Option<String>) -> Result<bool> {
    secret::verify_password_bounded(password, stored).await
}

fn already_set_up() -> AppError {
    AppError::conflict(None, "Portico already has users; sign in instead.")
}

fn wrong_credentials() -> AppError {
    AppError::unauthorized("The email or the password is wrong.")
}

impl Hub {
    pub(super) async fn find_user<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<user::Model> {
        user::Entity::find_by_id(id)
            .one(db)
            .await
            .map_err(db_err)?
            .ok_or_else(|| AppError::not_found(format!("No user with id \"{id}\".")))
    }

    pub(super) async fn find_user_by_email<C: ConnectionTrait>(
        db: &C,
        email: &str,
    ) -> Result<Option<user::Model>> {
        user::Entity::find()
            .filter(user::Column::Email.eq(email))
            .one(db)
            .await
            .map_err(db_err)
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
        setup_code: &str,
        email: &str,
        password: &str,
        source: &str,
    ) -> Result<SignedIn> {
        if self.any_user().await? {
            return Err(already_set_up());
        }
        self.setup_code.check(setup_code)?;
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
            return Err(already_set_up());
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
        self.setup_code.used();
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
        // Counted before the password is checked, so parallel attempts cannot all
        // pass; a success takes it back.
        if let Err(wait) = self.throttle.attempt(&keys, now) {
            return Err(AppError::TooManyRequests {
                message: format!(
                    "Too many failed sign-ins. Try again in {wait} second{}.",
                    if wait == 1 { "" } else { "s" }
                ),
                retry_after: wait,
            });
        }
        let checked = async {
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
            Ok(found.filter(|u| ok && !u.disabled))
        }
        .await;
        let user = match checked {
            Ok(Some(u)) => u,
            Ok(None) => return Err(wrong_credentials()),
            Err(e) => {
                // Not a wrong password: the attempt does not count.
                self.throttle.refund(&keys);
                return Err(e);
            }
        };
        self.throttle.succeeded(&keys);
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

    pub(super) fn own_id(actor: &Actor) -> Result<Uuid> {
        actor
            .user_id
            .ok_or_else(|| AppError::bad_request("The console has no account of its own."))
    }

    pub(super) async fn new_password(
        &self,
        actor: &Authorized<'_>,
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

    pub(super) async fn users(&self, _: &Authorized<'_>) -> Result<Vec<User>> {
        Ok(user::Entity::find()
            .order_by_asc(user::Column::Email)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(user_dto)
            .collect())
    }

    pub(super) async fn add_user(&self, actor: &Authorized<'_>, input: NewUser) -> Result<User> {
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
        actor: &Authorized<'_>,
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

    pub(super) async fn remove_user(&self, actor: &Authorized<'_>, id: Uuid) -> Result<()> {
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

    /// For `portico admin create-user`: a user made on the server's console.
    pub async fn console_create_user(
        &self,
        email: &str,
        role: Role,
        password: &str,
    ) -> Result<User> {
        let console = Actor::console();
        self.add_user(
            &console.require(Permission::Administer)?,
            NewUser {
                email: email.to_string(),
                role,
                password: password.to_string(),
            },
        )
        .await
    }
}

#[async_trait::async_trait]
impl Users for Hub {
    async fn has_users(&self) -> Result<bool> {
        self.any_user().await
    }
    async fn setup_first_admin(
        &self,
        setup_code: &str,
        email: &str,
        password: &str,
        source: &str,
    ) -> Result<SignedIn> {
        self.first_admin(setup_code, email, password, source).await
    }
    async fn login(&self, email: &str, password: &str, source: &str) -> Result<SignedIn> {
        self.sign_in(email, password, source).await
    }
    async fn logout(&self, actor: &Actor) -> Result<()> {
        let actor = &actor.require(Permission::Read)?;
        self.sign_out(actor).await
    }
    async fn change_password(&self, actor: &Actor, current: &str, new: &str) -> Result<SignedIn> {
        let actor = &actor.require(Permission::Read)?;
        self.new_password(actor, current, new).await
    }
    async fn list_users(&self, actor: &Actor) -> Result<Vec<User>> {
        let actor = &actor.require(Permission::Administer)?;
        self.users(actor).await
    }
    async fn create_user(&self, actor: &Actor, input: NewUser) -> Result<User> {
        let actor = &actor.require(Permission::Administer)?;
        self.add_user(actor, input).await
    }
    async fn update_user(&self, actor: &Actor, id: Uuid, patch: UserPatch) -> Result<User> {
        let actor = &actor.require(Permission::Administer)?;
        self.change_user(actor, id, patch).await
    }
    async fn delete_user(&self, actor: &Actor, id: Uuid) -> Result<()> {
        let actor = &actor.require(Permission::Administer)?;
        self.remove_user(actor, id).await
    }
}
