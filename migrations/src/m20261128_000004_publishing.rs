//! Publishing: a package's `published` flag (shown in the Dev Portal) and the API spec
//! of each version (the original text, validated on the way in, and its reference as
//! rendered then).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ServicePackages {
    Table,
    Published,
}

#[derive(DeriveIden)]
enum ApiSpecs {
    Table,
    VersionId,
    Format,
    SpecVersion,
    Title,
    ApiVersion,
    Warnings,
    Content,
    Size,
    ReferenceHtml,
    Tags,
    OperationCount,
    RenderVersion,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ServiceVersions {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ServicePackages::Table)
                .add_column(
                    ColumnDef::new(ServicePackages::Published)
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ApiSpecs::Table)
                .col(
                    ColumnDef::new(ApiSpecs::VersionId)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(ApiSpecs::Format).string_len(8).not_null())
                .col(
                    ColumnDef::new(ApiSpecs::SpecVersion)
                        .string_len(32)
                        .not_null(),
                )
                .col(ColumnDef::new(ApiSpecs::Title).text().not_null())
                .col(ColumnDef::new(ApiSpecs::ApiVersion).text().not_null())
                .col(ColumnDef::new(ApiSpecs::Warnings).text().not_null())
                .col(ColumnDef::new(ApiSpecs::Content).text().not_null())
                .col(ColumnDef::new(ApiSpecs::Size).big_integer().not_null())
                .col(ColumnDef::new(ApiSpecs::ReferenceHtml).text().not_null())
                .col(ColumnDef::new(ApiSpecs::Tags).text().not_null())
                .col(
                    ColumnDef::new(ApiSpecs::OperationCount)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(ApiSpecs::RenderVersion).integer().not_null())
                .col(
                    ColumnDef::new(ApiSpecs::UpdatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ApiSpecs::Table, ApiSpecs::VersionId)
                        .to(ServiceVersions::Table, ServiceVersions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ApiSpecs::Table).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(ServicePackages::Table)
                .drop_column(ServicePackages::Published)
                .to_owned(),
        )
        .await
    }
}
