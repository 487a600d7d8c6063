//! The gateway: each version's implementation (upstream) and routes, each runtime
//! group's proxy listen address and config version, data plane tokens and nodes.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RuntimeGroups {
    Table,
    Id,
    NameKey,
    ProxyListen,
    ConfigVersion,
}

#[derive(DeriveIden)]
enum ServiceVersions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Implementations {
    Table,
    VersionId,
    Protocol,
    Host,
    Port,
    Path,
    Retries,
    ConnectTimeout,
    ReadTimeout,
    WriteTimeout,
    Enabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Routes {
    Table,
    Id,
    VersionId,
    RuntimeGroupId,
    Name,
    Config,
    CreatedOrder,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DataPlaneTokens {
    Table,
    Id,
    RuntimeGroupId,
    Name,
    Prefix,
    SecretHash,
    CreatedByEmail,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
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

fn ts(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        m.alter_table(
            Table::alter()
                .table(RuntimeGroups::Table)
                .add_column(
                    ColumnDef::new(RuntimeGroups::ProxyListen)
                        .string_len(255)
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(RuntimeGroups::Table)
                .add_column(
                    ColumnDef::new(RuntimeGroups::ConfigVersion)
                        .big_integer()
                        .not_null()
                        .default(1),
                )
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::update()
                .table(RuntimeGroups::Table)
                .value(RuntimeGroups::ProxyListen, "127.0.0.1:8000")
                .and_where(Expr::col(RuntimeGroups::NameKey).eq("default"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Implementations::Table)
                .col(
                    ColumnDef::new(Implementations::VersionId)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(Implementations::Protocol)
                        .string_len(8)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Implementations::Host)
                        .string_len(255)
                        .not_null(),
                )
                .col(ColumnDef::new(Implementations::Port).integer().not_null())
                .col(ColumnDef::new(Implementations::Path).text().null())
                .col(
                    ColumnDef::new(Implementations::Retries)
                        .integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Implementations::ConnectTimeout)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Implementations::ReadTimeout)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Implementations::WriteTimeout)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Implementations::Enabled)
                        .boolean()
                        .not_null(),
                )
                .col(ts(Implementations::CreatedAt))
                .col(ts(Implementations::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Implementations::Table, Implementations::VersionId)
                        .to(ServiceVersions::Table, ServiceVersions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Routes::Table)
                .col(ColumnDef::new(Routes::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Routes::VersionId).uuid().not_null())
                .col(ColumnDef::new(Routes::RuntimeGroupId).uuid().not_null())
                .col(ColumnDef::new(Routes::Name).string_len(128).null())
                .col(ColumnDef::new(Routes::Config).text().not_null())
                .col(
                    ColumnDef::new(Routes::CreatedOrder)
                        .big_integer()
                        .not_null(),
                )
                .col(ts(Routes::CreatedAt))
                .col(ts(Routes::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Routes::Table, Routes::VersionId)
                        .to(ServiceVersions::Table, ServiceVersions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Routes::Table, Routes::RuntimeGroupId)
                        .to(RuntimeGroups::Table, RuntimeGroups::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_routes_group_name")
                .table(Routes::Table)
                .col(Routes::RuntimeGroupId)
                .col(Routes::Name)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_routes_version")
                .table(Routes::Table)
                .col(Routes::VersionId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(DataPlaneTokens::Table)
                .col(
                    ColumnDef::new(DataPlaneTokens::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(DataPlaneTokens::RuntimeGroupId)
                        .uuid()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(DataPlaneTokens::Name)
                        .string_len(100)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(DataPlaneTokens::Prefix)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(DataPlaneTokens::SecretHash)
                        .string_len(64)
                        .not_null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(DataPlaneTokens::CreatedByEmail)
                        .string_len(255)
                        .not_null(),
                )
                .col(ts(DataPlaneTokens::CreatedAt))
                .col(
                    ColumnDef::new(DataPlaneTokens::LastUsedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(DataPlaneTokens::Table, DataPlaneTokens::RuntimeGroupId)
                        .to(RuntimeGroups::Table, RuntimeGroups::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(DataPlaneNodes::Table)
                .col(
                    ColumnDef::new(DataPlaneNodes::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
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
                        .from(DataPlaneNodes::Table, DataPlaneNodes::RuntimeGroupId)
                        .to(RuntimeGroups::Table, RuntimeGroups::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_data_plane_nodes_group")
                .table(DataPlaneNodes::Table)
                .col(DataPlaneNodes::RuntimeGroupId)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            DataPlaneNodes::Table.into_iden(),
            DataPlaneTokens::Table.into_iden(),
            Routes::Table.into_iden(),
            Implementations::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        m.alter_table(
            Table::alter()
                .table(RuntimeGroups::Table)
                .drop_column(RuntimeGroups::ConfigVersion)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(RuntimeGroups::Table)
                .drop_column(RuntimeGroups::ProxyListen)
                .to_owned(),
        )
        .await
    }
}
