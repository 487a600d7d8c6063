use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RuntimeGroups {
    Table,
    Id,
    Name,
    NameKey,
    Description,
    Labels,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ServicePackages {
    Table,
    Id,
    Key,
    DisplayName,
    Description,
    Labels,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PackageLabels {
    Table,
    PackageId,
    Key,
    ValueLower,
}

#[derive(DeriveIden)]
enum ServiceVersions {
    Table,
    Id,
    PackageId,
    RuntimeGroupId,
    Name,
    Status,
    CreatedAt,
    UpdatedAt,
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
        m.create_table(
            Table::create()
                .table(RuntimeGroups::Table)
                .col(
                    ColumnDef::new(RuntimeGroups::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(RuntimeGroups::Name)
                        .string_len(100)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(RuntimeGroups::NameKey)
                        .string_len(100)
                        .not_null()
                        .unique_key(),
                )
                .col(ColumnDef::new(RuntimeGroups::Description).text().not_null())
                .col(ColumnDef::new(RuntimeGroups::Labels).text().not_null())
                .col(ts(RuntimeGroups::CreatedAt))
                .col(ts(RuntimeGroups::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ServicePackages::Table)
                .col(
                    ColumnDef::new(ServicePackages::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(ServicePackages::Key)
                        .string_len(100)
                        .not_null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(ServicePackages::DisplayName)
                        .string_len(100)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ServicePackages::Description)
                        .text()
                        .not_null(),
                )
                .col(ColumnDef::new(ServicePackages::Labels).text().not_null())
                .col(ts(ServicePackages::CreatedAt))
                .col(ts(ServicePackages::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_service_packages_updated_at")
                .table(ServicePackages::Table)
                .col(ServicePackages::UpdatedAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(PackageLabels::Table)
                .col(ColumnDef::new(PackageLabels::PackageId).uuid().not_null())
                .col(ColumnDef::new(PackageLabels::Key).string_len(63).not_null())
                .col(
                    ColumnDef::new(PackageLabels::ValueLower)
                        .string_len(63)
                        .not_null(),
                )
                .primary_key(
                    Index::create()
                        .col(PackageLabels::PackageId)
                        .col(PackageLabels::Key),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(PackageLabels::Table, PackageLabels::PackageId)
                        .to(ServicePackages::Table, ServicePackages::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_package_labels_key_value")
                .table(PackageLabels::Table)
                .col(PackageLabels::Key)
                .col(PackageLabels::ValueLower)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ServiceVersions::Table)
                .col(
                    ColumnDef::new(ServiceVersions::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(ServiceVersions::PackageId).uuid().not_null())
                .col(
                    ColumnDef::new(ServiceVersions::RuntimeGroupId)
                        .uuid()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ServiceVersions::Name)
                        .string_len(100)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ServiceVersions::Status)
                        .string_len(16)
                        .not_null(),
                )
                .col(ts(ServiceVersions::CreatedAt))
                .col(ts(ServiceVersions::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(ServiceVersions::Table, ServiceVersions::PackageId)
                        .to(ServicePackages::Table, ServicePackages::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ServiceVersions::Table, ServiceVersions::RuntimeGroupId)
                        .to(RuntimeGroups::Table, RuntimeGroups::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_service_versions_unique_name")
                .table(ServiceVersions::Table)
                .col(ServiceVersions::PackageId)
                .col(ServiceVersions::RuntimeGroupId)
                .col(ServiceVersions::Name)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_service_versions_runtime_group")
                .table(ServiceVersions::Table)
                .col(ServiceVersions::RuntimeGroupId)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            ServiceVersions::Table.into_iden(),
            PackageLabels::Table.into_iden(),
            ServicePackages::Table.into_iden(),
            RuntimeGroups::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
