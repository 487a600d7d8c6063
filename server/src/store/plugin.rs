use sea_orm::entity::prelude::*;

/// A plugin instance (Kong's plugin entity). Attached to the runtime group alone
/// (all of `version_id`, `route_id`, `consumer_id` null), a version, or a route, and
/// possibly narrowed to a consumer. `scope_key` is that attachment without NULLs
/// (`<version>/<route>/<consumer>`, `-` when absent): (group, scope key, name) is
/// unique. `config` is the complete config as JSON text; `protocols` and `tags` JSON
/// arrays.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plugins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub runtime_group_id: Uuid,
    pub version_id: Option<Uuid>,
    pub route_id: Option<Uuid>,
    pub consumer_id: Option<Uuid>,
    pub scope_key: String,
    pub name: String,
    pub config: String,
    pub enabled: bool,
    pub protocols: String,
    pub tags: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The scope key of an attachment (see [`Model::scope_key`]).
pub fn scope_key(version: Option<Uuid>, route: Option<Uuid>, consumer: Option<Uuid>) -> String {
    let part = |id: Option<Uuid>| id.map(|u| u.to_string()).unwrap_or_else(|| "-".into());
    format!("{}/{}/{}", part(version), part(route), part(consumer))
}
