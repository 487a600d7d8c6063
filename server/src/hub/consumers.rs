//! Consumers of runtime groups and their credentials: `impl Consumers for Hub`.
//!
//! A consumer has a `username` and/or a `custom_id`, each unique in its group. Its
//! key-auth keys are stored only as SHA-256 (unique in the group) with their first
//! characters for display: the key is shown once, by `create_key`. Every change bumps
//! the group's config version (consumers travel in the snapshot) and is audited.

use app::error::AppError;
use app::model::*;
use app::ports::{Consumers, Result};
use chrono::{Duration, Utc};
use rand::distr::{Alphanumeric, SampleString};
use sea_orm::*;
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, Change};
use super::plugin_rules::{check_tags, list_from_text, list_to_text};
use super::{db_err, Hub};
use crate::auth::secret;
use crate::store::{consumer, consumer_acl, key_auth_credential, plugin, runtime_group};

/// Length of a generated key (alphanumeric).
pub const GENERATED_KEY_LEN: usize = 32;
/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 1024;
/// Kong's `DAO_MAX_TTL`.
pub const MAX_TTL: u64 = 100_000_000;

fn consumer_dto(m: consumer::Model) -> Consumer {
    Consumer {
        id: m.id,
        runtime_group: EntityRef {
            id: m.runtime_group_id,
        },
        username: m.username,
        custom_id: m.custom_id,
        tags: list_from_text(&m.tags),
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

fn consumer_summary(c: &Consumer) -> serde_json::Value {
    json!({"username": c.username, "custom_id": c.custom_id, "tags": c.tags})
}

fn consumer_name(m: &consumer::Model) -> String {
    m.username
        .clone()
        .or_else(|| m.custom_id.clone())
        .unwrap_or_else(|| m.id.to_string())
}

fn key_dto(m: key_auth_credential::Model) -> KeyAuthCredential {
    KeyAuthCredential {
        id: m.id,
        consumer: EntityRef { id: m.consumer_id },
        key_prefix: m.key_prefix,
        ttl: m.ttl.map(|t| t.max(0) as u64),
        expires_at: m.expires_at,
        tags: list_from_text(&m.tags),
        created_at: m.created_at,
    }
}

fn acl_dto(m: consumer_acl::Model) -> AclGroup {
    AclGroup {
        id: m.id,
        consumer: EntityRef { id: m.consumer_id },
        group: m.group_name,
        tags: list_from_text(&m.tags),
        created_at: m.created_at,
    }
}

/// A name-like field (username, custom_id, ACL group): 1 to 255 characters, no
/// control characters.
fn check_text(field: &str, v: &str) -> Result<()> {
    let n = v.chars().count();
    if n == 0 {
        return Err(AppError::validation(field, "length must be at least 1"));
    }
    if n > 255 {
        return Err(AppError::validation(field, "length must be at most 255"));
    }
    if v.chars().any(char::is_control) {
        return Err(AppError::validation(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// A key given by the client: Kong only requires it to be non-empty; Portico also
/// refuses what no header or query string could carry intact (control characters,
/// leading or trailing spaces) and keys over 1024 characters.
fn check_key(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(AppError::validation("key", "length must be at least 1"));
    }
    if key.chars().count() > MAX_KEY_LEN {
        return Err(AppError::validation(
            "key",
            format!("length must be at most {MAX_KEY_LEN}"),
        ));
    }
    if key.chars().any(char::is_control) || key.trim() != key {
        return Err(AppError::validation(
            "key",
            "must not contain control characters or start or end with a space",
        ));
    }
    Ok(())
}

/// The characters of a key kept for display: at most 6, and never more than a
/// quarter of the key (a short key given by hand is not shown whole).
fn key_prefix(key: &str) -> String {
    let n = (key.chars().count() / 4).min(6);
    key.chars().take(n).collect()
}

impl Hub {
    /// A consumer of `group` by id or, failing that, by username.
    pub(super) async fn consumer_row<C: ConnectionTrait>(
        db: &C,
        group: &runtime_group::Model,
        id_or_username: &str,
    ) -> Result<consumer::Model> {
        let in_group =
            || consumer::Entity::find().filter(consumer::Column::RuntimeGroupId.eq(group.id));
        if let Ok(id) = Uuid::parse_str(id_or_username) {
            if let Some(m) = in_group()
                .filter(consumer::Column::Id.eq(id))
                .one(db)
                .await
                .map_err(db_err)?
            {
                return Ok(m);
            }
        }
        in_group()
            .filter(consumer::Column::Username.eq(id_or_username))
            .one(db)
            .await
            .map_err(db_err)?
            .ok_or_else(|| {
                AppError::not_found(format!(
                    "No consumer \"{id_or_username}\" in runtime group \"{}\".",
                    group.name
                ))
            })
    }

    async fn group_and_consumer<C: ConnectionTrait>(
        db: &C,
        group: &str,
        consumer: &str,
    ) -> Result<(runtime_group::Model, consumer::Model)> {
        let g = Self::find_group_row(db, group).await?;
        let c = Self::consumer_row(db, &g, consumer).await?;
        Ok((g, c))
    }

    /// 409 naming the field when `username` or `custom_id` is taken in the group.
    async fn consumer_free<C: ConnectionTrait>(
        db: &C,
        group: &runtime_group::Model,
        input: &ConsumerInput,
        except: Option<Uuid>,
    ) -> Result<()> {
        for (field, col, value) in [
            ("username", consumer::Column::Username, &input.username),
            ("custom_id", consumer::Column::CustomId, &input.custom_id),
        ] {
            let Some(value) = value else { continue };
            let mut q = consumer::Entity::find()
                .filter(consumer::Column::RuntimeGroupId.eq(group.id))
                .filter(col.eq(value.as_str()));
            if let Some(id) = except {
                q = q.filter(consumer::Column::Id.ne(id));
            }
            if q.one(db).await.map_err(db_err)?.is_some() {
                return Err(AppError::conflict(
                    Some(field),
                    format!(
                        "A consumer with {field} \"{value}\" already exists in runtime group \"{}\".",
                        group.name
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Kong's consumer rules: at least one of `username` and `custom_id`.
    fn check_consumer(input: ConsumerInput) -> Result<(ConsumerInput, Vec<String>)> {
        if input.username.is_none() && input.custom_id.is_none() {
            return Err(AppError::validation(
                "username",
                "at least one of these fields must be non-empty: 'custom_id', 'username'",
            ));
        }
        if let Some(u) = &input.username {
            check_text("username", u)?;
        }
        if let Some(c) = &input.custom_id {
            check_text("custom_id", c)?;
        }
        let tags = check_tags("tags", input.tags.clone())?;
        Ok((input, tags))
    }

    async fn consumers_of(&self, _: &Authorized<'_>, group: &str) -> Result<Vec<Consumer>> {
        let g = Self::find_group_row(&self.db, group).await?;
        Ok(consumer::Entity::find()
            .filter(consumer::Column::RuntimeGroupId.eq(g.id))
            .order_by_asc(consumer::Column::CreatedAt)
            .order_by_asc(consumer::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(consumer_dto)
            .collect())
    }

    async fn insert_consumer(
        &self,
        actor: &Authorized<'_>,
        group: &str,
        input: ConsumerInput,
    ) -> Result<Consumer> {
        let (input, tags) = Self::check_consumer(input)?;
        let (_writing, txn) = self.write_txn().await?;
        let g = Self::find_group_row(&txn, group).await?;
        Self::consumer_free(&txn, &g, &input, None).await?;
        let now = Utc::now();
        let m = consumer::ActiveModel {
            id: Set(Uuid::new_v4()),
            runtime_group_id: Set(g.id),
            username: Set(input.username),
            custom_id: Set(input.custom_id),
            tags: Set(list_to_text(&tags)),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(db_err)?;
        Self::bump_config(&txn, vec![g.id]).await?;
        let name = consumer_name(&m);
        let dto = consumer_dto(m);
        audit::record(
            &txn,
            actor,
            Change {
                action: "consumer.create",
                target_type: "consumer",
                target_id: dto.id.to_string(),
                target_name: format!("{}/{name}", g.name),
                before: None,
                after: Some(consumer_summary(&dto)),
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        self.gateway_changed();
        Ok(dto)
    }

    async fn replace_consumer(
        &self,
        actor: &Authorized<'_>,
        group: &str,
        consumer: &str,
        input: ConsumerInput,
    ) -> Result<Consumer> {
        let (input, tags) = Self::check_consumer(input)?;
        let (_writing, txn) = self.write_txn().await?;
        let (g, current) = Self::group_and_consumer(&txn, group, consumer).await?;
        Self::consumer_free(&txn, &g, &input, Some(current.id)).await?;
        let before = consumer_dto(current.clone());
        let mut row: consumer::ActiveModel = current.into();
        row.username = Set(input.username);
        row.custom_id = Set(input.custom_id);
        row.tags = Set(list_to_text(&tags));
        row.updated_at = Set(Utc::now());
        let m = row.update(&txn).await.map_err(db_err)?;
        Self::bump_config(&txn, vec![g.id]).await?;
        let name = consumer_name(&m);
        let dto = consumer_dto(m);
        audit::record(
            &txn,
            actor,
            Change {
                action: "consumer.update",
                target_type: "consumer",
                target_id: dto.id.to_string(),
                target_name: format!("{}/{name}", g.name),
                before: Some(consumer_summary(&before)),
                after: Some(consumer_summary(&dto)),
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        self.gateway_changed();
        Ok(dto)
    }

    async fn remove_consumer(
        &self,
        actor: &Authorized<'_>,
        group: &str,
        consumer: &str,
    ) -> Result<()> {
        let (_writing, txn) = self.write_txn().await?;
        let (g, current) = Self::group_and_consumer(&txn, group, consumer).await?;
        plugin::Entity::delete_many()
            .filter(plugin::Column::ConsumerId.eq(current.id))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        key_auth_credential::Entity::delete_many()
            .filter(key_auth_credential::Column::ConsumerId.eq(current.id))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        consumer_acl::Entity::delete_many()
            .filter(consumer_acl::Column::ConsumerId.eq(current.id))
            .exec(&txn)
            .await
            .map_err(db_err)?;
        consumer::Entity::delete_by_id(current.id)
            .exec(&txn)
            .await
            .map_err(db_err)?;
        Self::bump_config(&txn, vec![g.id]).await?;
        let name = consumer_name(&current);
        audit::record(
            &txn,
            actor,
            Change {
                action: "consumer.delete",
                target_type: "consumer",
                target_id: current.id.to_string(),
                target_name: format!("{}/{name}", g.name),
                before: Some(consumer_summary(&consumer_dto(current))),
                after: None,
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        self.gateway_changed();
        Ok(())
    }

    async fn keys_of(
        &self,
        _: &Authorized<'_>,
        group: &str,
        consumer: &str,
    ) -> Result<Vec<KeyAuthCredential>> {
        let (_, c) = Self::group_and_consumer(&self.db, group, consumer).await?;
        Ok(key_auth_credential::Entity::find()
            .filter(key_auth_credential::Column::ConsumerId.eq(c.id))
            .order_by_asc(key_auth_credential::Column::CreatedAt)
            .order_by_asc(key_auth_credential::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(key_dto)
            .collect())
    }

    async fn insert_key(
        &self,
        actor: &Authorized<'_>,
        group: &str,
        consumer: &str,
        input: NewKeyAuthCredential,
    ) -> Result<CreatedKeyAuthCredential> {
        let key = match input.key {
            Some(k) => {
                check_key(&k)?;
                k
            }
            None => Alphanumeric.sample_string(&mut rand::rng(), GENERATED_KEY_LEN),
        };
        let ttl = match input.ttl {
            Some(t) if t > MAX_TTL => {
                return Err(AppError::validation(
                    "ttl",
                    format!("must be an integer between 0 and {MAX_TTL}"),
                ))
            }
            Some(0) | None => None,
            Some(t) => Some(t),
        };
        let tags = check_tags("tags", input.tags)?;
        let hash = secret::sha256_hex(&key);
        let (_writing, txn) = self.write_txn().await?;
        let (g, c) = Self::group_and_consumer(&txn, group, consumer).await?;
        let taken = key_auth_credential::Entity::find()
            .filter(key_auth_credential::Column::RuntimeGroupId.eq(g.id))
            .filter(key_auth_credential::Column::KeySha256.eq(hash.as_str()))
            .one(&txn)
            .await
            .map_err(db_err)?;
        if taken.is_some() {
            return Err(AppError::conflict(
                Some("key"),
                format!(
                    "This key is already in use in runtime group \"{}\" (keys are unique within a group).",
                    g.name
                ),
            ));
        }
        let now = Utc::now();
        let m = key_auth_credential::ActiveModel {
            id: Set(Uuid::new_v4()),
            consumer_id: Set(c.id),
            runtime_group_id: Set(g.id),
            key_sha256: Set(hash),
            key_prefix: Set(key_prefix(&key)),
            ttl: Set(ttl.map(|t| t as i64)),
            expires_at: Set(ttl.map(|t| now + Duration::seconds(t as i64))),
            tags: Set(list_to_text(&tags)),
            created_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(db_err)?;
        Self::bump_config(&txn, vec![g.id]).await?;
        let dto = key_dto(m);
        audit::record(
            &txn,
            actor,
            Change {
                action: "key_auth.create",
                target_type: "consumer",
                target_id: c.id.to_string(),
                target_name: format!("{}/{}", g.name, consumer_name(&c)),
                before: None,
                after: Some(json!({
                    "id": dto.id, "key_prefix": dto.key_prefix, "ttl": dto.ttl, "tags": dto.tags
                })),
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        self.gateway_changed();
        Ok(CreatedKeyAuthCredential {
            credential: dto,
            key,
        })
    }

    async fn remove_key(
        &self,
        actor: &Authorized<'_>,
        group: &str,
        consumer: &str,
        id: Uuid,
    ) -> Result<()> {
        let (_writing, txn) = self.write_txn().await?;
        let (g, c) = Self::group_and_consumer(&txn, group, consumer).await?;
        let k = key_auth_credential::Entity::find_by_id(id)
            .filter(key_auth_credential::Column::ConsumerId.eq(c.id))
            .one(&txn)
            .await
            .map_err(db_err)?
            .ok_or_else(|| {
                AppError::not_found(format!(
                    "No key-auth credential \"{id}\" of consumer \"{}\".",
                    consumer_name(&c)
                ))
            })?;
        key_auth_credential::Entity::delete_by_id(k.id)
            .exec(&txn)
            .await
            .map_err(db_err)?;
        Self::bump_config(&txn, vec![g.id]).await?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "key_auth.delete",
                target_type: "consumer",
                target_id: c.id.to_string(),
                target_name: format!("{}/{}", g.name, consumer_name(&c)),
                before: Some(json!({"id": k.id, "key_prefix": k.key_prefix})),
                after: None,
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        self.gateway_changed();
        Ok(())
    }

    async fn acls_of(
        &self,
        _: &Authorized<'_>,
        group: &str,
        consumer: &str,
    ) -> Result<Vec<AclGroup>> {
        let (_, c) = Self::group_and_consumer(&self.db, group, consumer).await?;
        Ok(consumer_acl::Entity::find()
            .filter(consumer_acl::Column::ConsumerId.eq(c.id))
            .order_by_asc(consumer_acl::Column::GroupName)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(acl_dto)
            .collect())
    }

    async fn insert_acl(
        &self,
        actor: &Authorized<'_>,
        group: &str,
        consumer: &str,
        input: NewAclGroup,
    ) -> Result<AclGroup> {
        check_text("group", &input.group)?;
        let tags = check_tags("tags", input.tags)?;
        let (_writing, txn) = self.write_txn().await?;
        let (g, c) = Self::group_and_consumer(&txn, group, consumer).await?;
        let taken = consumer_acl::Entity::find()
            .filter(consumer_acl::Column::ConsumerId.eq(c.id))
            .filter(consumer_acl::Column::GroupName.eq(input.group.as_str()))
            .one(&txn)
            .await
            .map_err(db_err)?;
        if taken.is_some() {
            return Err(AppError::conflict(
                Some("group"),
                format!(
                    "Consumer \"{}\" is already in ACL group \"{}\".",
                    consumer_name(&c),
                    input.group
                ),
            ));
        }
        let m = consumer_acl::ActiveModel {
            id: Set(Uuid::new_v4()),
            consumer_id: Set(c.id),
            runtime_group_id: Set(g.id),
            group_name: Set(input.group),
            tags: Set(list_to_text(&tags)),
            created_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await
        .map_err(db_err)?;
        Self::bump_config(&txn, vec![g.id]).await?;
        let dto = acl_dto(m);
        audit::record(
            &txn,
            actor,
            Change {
                action: "acl.create",
                target_type: "consumer",
                target_id: c.id.to_string(),
                target_name: format!("{}/{}", g.name, consumer_name(&c)),
                before: None,
                after: Some(json!({"id": dto.id, "group": dto.group, "tags": dto.tags})),
            },
        )
        .await?;
        txn.commit().await.map_err(db_err)?;
        self.gateway_changed();
        Ok(dto)
    }

    async fn remove_acl(
        &self,
        actor: &Authorized<'_>,
        group: &str,
        consumer: &str,
        id: Uuid,
    ) -> Result<()> {
        let (_writing, txn) = self.write_txn().await?;
        let (g, c) = Self::group_and_consumer(&txn, group, consumer).await?;
        let a = consumer_acl::Entity::find_by_id(id)
            .filter(consumer_acl::Column::ConsumerId.eq(c.id))
            .one(&txn)
            .await
            .map_err(db_err)?
            .ok_or_else(|| {
                AppError::not_found(format!(
                    "No ACL group \"{id}\" of consumer \"{}\".",
                    consumer_name(&c)
                ))
            })?;
        consumer_acl::Entity::delete_by_id(a.id)
            .exec(&txn)
            .await
            .map_err(db_err)?;
        Self::bump_config(&txn, vec![g.id]).await?;
        audit::record(
            &txn,
            actor,
            Change {
                action: "acl.delete",
                target_type: "consumer",
                target_id: c.id.to_string(),
                target_name: format!("{}/{}", g.name, consumer_name(&c)),
                before: Some(json!({"id": a.id, "group": a.group_name})),
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
impl Consumers for Hub {
    async fn list_consumers(&self, actor: &Actor, group: &str) -> Result<Vec<Consumer>> {
        let actor = &actor.require(Permission::Read)?;
        self.consumers_of(actor, group).await
    }
    async fn get_consumer(&self, actor: &Actor, group: &str, consumer: &str) -> Result<Consumer> {
        let _actor = &actor.require(Permission::Read)?;
        let (_, c) = Self::group_and_consumer(&self.db, group, consumer).await?;
        Ok(consumer_dto(c))
    }
    async fn create_consumer(
        &self,
        actor: &Actor,
        group: &str,
        input: ConsumerInput,
    ) -> Result<Consumer> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.insert_consumer(actor, group, input).await
    }
    async fn update_consumer(
        &self,
        actor: &Actor,
        group: &str,
        consumer: &str,
        input: ConsumerInput,
    ) -> Result<Consumer> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.replace_consumer(actor, group, consumer, input).await
    }
    async fn delete_consumer(&self, actor: &Actor, group: &str, consumer: &str) -> Result<()> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.remove_consumer(actor, group, consumer).await
    }
    async fn list_keys(
        &self,
        actor: &Actor,
        group: &str,
        consumer: &str,
    ) -> Result<Vec<KeyAuthCredential>> {
        let actor = &actor.require(Permission::Read)?;
        self.keys_of(actor, group, consumer).await
    }
    async fn create_key(
        &self,
        actor: &Actor,
        group: &str,
        consumer: &str,
        input: NewKeyAuthCredential,
    ) -> Result<CreatedKeyAuthCredential> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.insert_key(actor, group, consumer, input).await
    }
    async fn delete_key(&self, actor: &Actor, group: &str, consumer: &str, id: Uuid) -> Result<()> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.remove_key(actor, group, consumer, id).await
    }
    async fn list_acls(&self, actor: &Actor, group: &str, consumer: &str) -> Result<Vec<AclGroup>> {
        let actor = &actor.require(Permission::Read)?;
        self.acls_of(actor, group, consumer).await
    }
    async fn add_acl(
        &self,
        actor: &Actor,
        group: &str,
        consumer: &str,
        input: NewAclGroup,
    ) -> Result<AclGroup> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.insert_acl(actor, group, consumer, input).await
    }
    async fn delete_acl(&self, actor: &Actor, group: &str, consumer: &str, id: Uuid) -> Result<()> {
        let actor = &actor.require(Permission::EditCatalog)?;
        self.remove_acl(actor, group, consumer, id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_rules_and_prefix() {
        assert!(check_key("").is_err());
        assert!(check_key(" key").is_err());
        assert!(check_key("a\nb").is_err());
        assert!(check_key(&"x".repeat(MAX_KEY_LEN + 1)).is_err());
        assert!(check_key("my-key").is_ok());
        assert_eq!(key_prefix("abcdefghijklmnopqrstuvwxyz012345"), "abcdef");
        // A short key is never shown whole.
        assert_eq!(key_prefix("abc"), "");
        assert_eq!(key_prefix("abcdefgh"), "ab");
    }
}
