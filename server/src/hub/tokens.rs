//! Personal API tokens: created with a role at most the owner's, shown once, stored as
//! a SHA-256, listed, revoked, and refused once expired or when the owner is disabled.
//! A token made with a token expires no later than the token that made it.

use app::error::AppError;
use app::model::auth::{check_token_name, normalize_email};
use app::model::*;
use app::ports::{Result, Tokens};
use chrono::{DateTime, Duration, Utc};
use sea_orm::*;
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, Change};
use super::sessions::TOUCH_EVERY_SECS;
use super::{db_err, Hub};
use crate::auth::secret::{self, TOKEN_PREFIX};
use crate::store::{api_token, user};

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

impl Hub {
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
            let _writing = self.write_lock().await;
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

    pub(super) async fn tokens(
        &self,
        _: &Authorized<'_>,
        owner: Option<Uuid>,
    ) -> Result<Vec<ApiToken>> {
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
        actor: &Authorized<'_>,
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
        let asked = match input.expires_in_days {
            None | Some(0) => None,
            Some(d) if d <= 3650 => Some(now + Duration::days(i64::from(d))),
            Some(_) => {
                return Err(AppError::validation(
                    "expires_in_days",
                    "A token expires in 1 to 3650 days (or never: leave it empty).",
                ))
            }
        };
        // A token cannot outlive the token that makes it (nor, through it, mint one
        // that never expires).
        let parent_expiry = match actor.credential {
            Credential::Token(parent) => {
                api_token::Entity::find_by_id(parent)
                    .one(&self.db)
                    .await
                    .map_err(db_err)?
                    .ok_or_else(|| AppError::unauthorized("This API token was revoked."))?
                    .expires_at
            }
            _ => None,
        };
        let expires_at = match (asked, parent_expiry) {
            (Some(a), Some(p)) => Some(a.min(p)),
            (a, p) => a.or(p),
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

    pub(super) async fn remove_token(&self, actor: &Authorized<'_>, id: Uuid) -> Result<()> {
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
        self.add_token(&actor.require(Permission::Read)?, input)
            .await
    }
}

#[async_trait::async_trait]
impl Tokens for Hub {
    /// Everyone's tokens (`all`) needs `Administer`; one's own, `Read`.
    async fn list_tokens(&self, actor: &Actor, all: bool) -> Result<Vec<ApiToken>> {
        let actor = &actor.require(if all {
            Permission::Administer
        } else {
            Permission::Read
        })?;
        if all {
            return self.tokens(actor, None).await;
        }
        match actor.user_id {
            Some(id) => self.tokens(actor, Some(id)).await,
            None => Ok(Vec::new()),
        }
    }
    async fn create_token(&self, actor: &Actor, input: NewApiToken) -> Result<CreatedApiToken> {
        let actor = &actor.require(Permission::Read)?;
        self.add_token(actor, input).await
    }
    /// One's own tokens; an Admin may revoke anyone's (`remove_token` checks which).
    async fn revoke_token(&self, actor: &Actor, id: Uuid) -> Result<()> {
        let actor = &actor.require(Permission::Read)?;
        self.remove_token(actor, id).await
    }
}
