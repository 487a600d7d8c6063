use sea_orm::entity::prelude::*;

/// A key-auth credential of a consumer. Only the key's SHA-256 (lower-case hex,
/// unique within the runtime group) and its first characters are stored.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "key_auth_credentials")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub consumer_id: Uuid,
    pub runtime_group_id: Uuid,
    pub key_sha256: String,
    pub key_prefix: String,
    /// Seconds the key was given to live (`None`: forever).
    pub ttl: Option<i64>,
    pub expires_at: Option<DateTimeUtc>,
    pub tags: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
