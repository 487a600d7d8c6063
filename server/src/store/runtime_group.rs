use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "runtime_groups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// The lower-cased slug of the name; unique.
    pub name_key: String,
    pub description: String,
    pub labels: String,
    /// Where the embedded data plane of `portico serve` listens; none: no embedded one.
    pub proxy_listen: Option<String>,
    /// Increases with every change of what the group's data planes serve.
    pub config_version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
