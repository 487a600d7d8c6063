//! Documentation pages of service packages: a tree (parent), ordered, Markdown.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Documents {
    Table,
    Id,
    PackageId,
    ParentId,
    Title,
    Slug,
    Position,
    Published,
    Content,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ServicePackages {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Documents::Table)
                .col(
                    ColumnDef::new(Documents::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Documents::PackageId).uuid().not_null())
                .col(ColumnDef::new(Documents::ParentId).uuid().null())
                .col(ColumnDef::new(Documents::Title).string_len(255).not_null())
                .col(ColumnDef::new(Documents::Slug).string_len(100).not_null())
                .col(ColumnDef::new(Documents::Position).integer().not_null())
                .col(ColumnDef::new(Documents::Published).boolean().not_null())
                .col(ColumnDef::new(Documents::Content).text().not_null())
                .col(
                    ColumnDef::new(Documents::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Documents::UpdatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Documents::Table, Documents::PackageId)
                        .to(ServicePackages::Table, ServicePackages::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_documents_package_slug")
                .table(Documents::Table)
                .col(Documents::PackageId)
                .col(Documents::Slug)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Documents::Table).to_owned())
            .await
    }
}
