use sea_orm::entity::prelude::*;

/// The gateway implementation (upstream) of a version: at most one per version.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "implementations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub version_id: Uuid,
    pub protocol: String,
    pub host: String,
    pub port: i32,
    pub path: Option<String>,
    pub retries: i32,
    pub connect_timeout: i64,
    pub read_timeout: i64,
    pub write_timeout: i64,
    pub enabled: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
