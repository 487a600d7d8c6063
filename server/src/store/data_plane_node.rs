use sea_orm::entity::prelude::*;

/// A data plane node as last seen by the control plane: one row per runtime group and
/// node id, so a node id sent with one group's token never touches another group's row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "data_plane_nodes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub runtime_group_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub hostname: String,
    pub version: String,
    pub config_version: i64,
    pub embedded: bool,
    pub last_error: Option<String>,
    pub first_seen_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
