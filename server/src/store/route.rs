use sea_orm::entity::prelude::*;

/// A route of a version. `config` is the route's fields as JSON (Kong's names, the
/// `portico_router::RouteConfig` shape without `id` and `created_order`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "routes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub version_id: Uuid,
    pub runtime_group_id: Uuid,
    /// Unique within the runtime group when set.
    pub name: Option<String>,
    pub config: String,
    pub created_order: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
