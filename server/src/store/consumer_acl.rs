use sea_orm::entity::prelude::*;

/// An ACL group of a consumer (each group once per consumer).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consumer_acls")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub consumer_id: Uuid,
    pub runtime_group_id: Uuid,
    pub group_name: String,
    pub tags: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
