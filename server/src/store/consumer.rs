use sea_orm::entity::prelude::*;

/// A consumer of a runtime group (Kong's consumer). `username` and `custom_id` are
/// each unique within the group when set; `tags` is a JSON array.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consumers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub runtime_group_id: Uuid,
    pub username: Option<String>,
    pub custom_id: Option<String>,
    pub tags: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
