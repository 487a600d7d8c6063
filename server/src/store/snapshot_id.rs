use sea_orm::entity::prelude::*;

/// A package, version or route that was in a config snapshot of a runtime group, and
/// when it left the group's snapshot (`None` while it is in the latest one built).
/// Analytics rows of a group's data planes may name these ids only.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "snapshot_ids")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub runtime_group_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `package`, `version` or `route`.
    pub kind: String,
    /// A route's version, a version's package; nil for a package.
    pub parent_id: Uuid,
    pub retired_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
