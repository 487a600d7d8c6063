//! Data planes are trusted only for their own runtime group:
//!
//! - `data_plane_nodes` is keyed by (runtime group, node id), so a token of one group
//!   cannot rewrite another group's node by sending its id. No database can change a
//!   primary key in place everywhere (SQLite cannot), so the table is rebuilt: a new
//!   table, the rows copied, the old one dropped and the new one renamed, in one
//!   transaction.
//! - `snapshot_ids`: the packages, versions and routes that were in a config snapshot
//!   of a group (`kind`, and `parent_id`: a route's version, a version's package, nil
//!   for a package), and when they left it (`retired_at`, null while they are in the
//!   latest snapshot built). Analytics rows are accepted for these ids only, so a row
//!   recorded just before its route was deleted still counts.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::TransactionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RuntimeGroups {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum DataPlaneNodes {
    Table,
    Id,
    RuntimeGroupId,
    Hostname,
    Version,
    ConfigVersion,
    Embedded,
    LastError,
    FirstSeenAt,
    LastSeenAt,
}

/// The rebuilt `data_plane_nodes` before its rename.
#[derive(DeriveIden)]
enum DataPlaneNodesNew {
    Table,
}

#[derive(DeriveIden)]
enum SnapshotIds {
    Table,
    RuntimeGroupId,
    Id,
    Kind,
    ParentId,
    RetiredAt,
}

const NODE_COLUMNS: [DataPlaneNodes; 9] = [
    DataPlaneNodes::Id,
    DataPlaneNodes::RuntimeGroupId,
    DataPlaneNodes::Hostname,
    DataPlaneNodes::Version,
    DataPlaneNodes::ConfigVersion,
    DataPlaneNodes::Embedded,
    DataPlaneNodes::LastError,
    DataPlaneNodes::FirstSeenAt,
    DataPlaneNodes::LastSeenAt,
];

fn ts(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

/// `data_plane_nodes` as `table`, keyed by the node id alone (before this migration)
/// or by the group and the node id.
fn nodes_table(table: impl IntoIden + 'static, by_group: bool) -> TableCreateStatement {
    let mut t = Table::create();
    t.table(table)
        .col(ColumnDef::new(DataPlaneNodes::Id).uuid().not_null())
        .col(
            ColumnDef::new(DataPlaneNodes::RuntimeGroupId)
                .uuid()
                .not_null(),
        )
        .col(
            ColumnDef::new(DataPlaneNodes::Hostname)
                .string_len(255)
                .not_null(),
        )
        .col(
            ColumnDef::new(DataPlaneNodes::Version)
                .string_len(64)
                .not_null(),
        )
        .col(
            ColumnDef::new(DataPlaneNodes::ConfigVersion)
                .big_integer()
                .not_null(),
        )
        .col(
            ColumnDef::new(DataPlaneNodes::Embedded)
                .boolean()
                .not_null(),
        )
        .col(ColumnDef::new(DataPlaneNodes::LastError).text().null())
        .col(ts(DataPlaneNodes::FirstSeenAt))
        .col(ts(DataPlaneNodes::LastSeenAt))
        .foreign_key(
            ForeignKey::create()
                .from_col(DataPlaneNodes::RuntimeGroupId)
                .to(RuntimeGroups::Table, RuntimeGroups::Id)
                .on_delete(ForeignKeyAction::Cascade),
        );
    let mut pk = Index::create();
    if by_group {
        pk.col(DataPlaneNodes::RuntimeGroupId);
    }
    pk.col(DataPlaneNodes::Id);
    t.primary_key(&mut pk);
    t.to_owned()
}

fn group_index() -> IndexCreateStatement {
    Index::create()
        .name("idx_data_plane_nodes_group")
        .table(DataPlaneNodes::Table)
        .col(DataPlaneNodes::RuntimeGroupId)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One transaction (sea-orm-migration runs PostgreSQL's migrations in one, not
        // SQLite's): a crash leaves the old table or the new one, never neither.
        let txn = m.get_connection().begin().await?;
        let m = &SchemaManager::new(&txn);
        m.create_table(nodes_table(DataPlaneNodesNew::Table, true))
            .await?;
        let copy = Query::insert()
            .into_table(DataPlaneNodesNew::Table)
            .columns(NODE_COLUMNS)
            .select_from(
                Query::select()
                    .columns(NODE_COLUMNS)
                    .from(DataPlaneNodes::Table)
                    .to_owned(),
            )
            .map_err(|e| DbErr::Migration(e.to_string()))?
            .to_owned();
        m.exec_stmt(copy).await?;
        m.drop_table(Table::drop().table(DataPlaneNodes::Table).to_owned())
            .await?;
        m.rename_table(
            Table::rename()
                .table(DataPlaneNodesNew::Table, DataPlaneNodes::Table)
                .to_owned(),
        )
        .await?;
        // (the primary key serves the group's lookups: no index of its own)

        m.create_table(
            Table::create()
                .table(SnapshotIds::Table)
                .col(
                    ColumnDef::new(SnapshotIds::RuntimeGroupId)
                        .uuid()
                        .not_null(),
                )
                .col(ColumnDef::new(SnapshotIds::Id).uuid().not_null())
                .col(ColumnDef::new(SnapshotIds::Kind).string_len(16).not_null())
                .col(ColumnDef::new(SnapshotIds::ParentId).uuid().not_null())
                .col(
                    ColumnDef::new(SnapshotIds::RetiredAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .primary_key(
                    Index::create()
                        .col(SnapshotIds::RuntimeGroupId)
                        .col(SnapshotIds::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(SnapshotIds::Table, SnapshotIds::RuntimeGroupId)
                        .to(RuntimeGroups::Table, RuntimeGroups::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        txn.commit().await
    }

    /// Back to one row per node id: the node rows are dropped (every node records
    /// itself again on its next poll, and two groups' rows of one id cannot both be
    /// kept).
    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SnapshotIds::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(DataPlaneNodes::Table).to_owned())
            .await?;
        m.create_table(nodes_table(DataPlaneNodes::Table, false))
            .await?;
        m.create_index(group_index()).await
    }
}
