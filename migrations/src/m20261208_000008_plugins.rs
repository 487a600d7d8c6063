//! Plugins and consumers of runtime groups (Kong's entities):
//!
//! - `plugins`: one instance of a plugin with its config (JSON text), attached to a
//!   runtime group, a version, a route, and/or narrowed to a consumer. `scope_key`
//!   names the attachment without NULLs (`<version>/<route>/<consumer>`, `-` when
//!   absent), because NULLs are distinct in unique indexes: the unique index over
//!   (group, scope key, name) is what keeps one instance of a plugin per scope.
//! - `consumers`: `username` and `custom_id` unique per runtime group (several
//!   consumers may have neither one of them set: NULLs do not clash).
//! - `key_auth_credentials`: only the SHA-256 of a key (unique per runtime group) and
//!   its first characters; `expires_at` from the credential's `ttl`.
//! - `consumer_acls`: a consumer's ACL groups, each once.
//!
//! Every row goes with its runtime group, version, route or consumer (foreign keys
//! with `ON DELETE CASCADE`; the hub also deletes them explicitly in the same
//! transaction).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RuntimeGroups {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ServiceVersions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Routes {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Consumers {
    Table,
    Id,
    RuntimeGroupId,
    Username,
    CustomId,
    Tags,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Plugins {
    Table,
    Id,
    RuntimeGroupId,
    VersionId,
    RouteId,
    ConsumerId,
    ScopeKey,
    Name,
    Config,
    Enabled,
    Protocols,
    Tags,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum KeyAuthCredentials {
    Table,
    Id,
    ConsumerId,
    RuntimeGroupId,
    KeySha256,
    KeyPrefix,
    Ttl,
    ExpiresAt,
    Tags,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ConsumerAcls {
    Table,
    Id,
    ConsumerId,
    RuntimeGroupId,
    GroupName,
    Tags,
    CreatedAt,
}

fn ts(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn cascade(
    from: impl IntoIden + 'static,
    col: impl IntoIden + 'static,
    to: impl IntoIden + 'static,
    to_col: impl IntoIden + 'static,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from, col)
        .to(to, to_col)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Consumers::Table)
                .col(
                    ColumnDef::new(Consumers::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Consumers::RuntimeGroupId).uuid().not_null())
                .col(ColumnDef::new(Consumers::Username).string_len(255).null())
                .col(ColumnDef::new(Consumers::CustomId).string_len(255).null())
                .col(ColumnDef::new(Consumers::Tags).text().not_null())
                .col(ts(Consumers::CreatedAt))
                .col(ts(Consumers::UpdatedAt))
                .foreign_key(&mut cascade(
                    Consumers::Table,
                    Consumers::RuntimeGroupId,
                    RuntimeGroups::Table,
                    RuntimeGroups::Id,
                ))
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_consumers_group_username", Consumers::Username),
            ("idx_consumers_group_custom_id", Consumers::CustomId),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Consumers::Table)
                    .col(Consumers::RuntimeGroupId)
                    .col(col)
                    .unique()
                    .to_owned(),
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table(Plugins::Table)
                .col(ColumnDef::new(Plugins::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Plugins::RuntimeGroupId).uuid().not_null())
                .col(ColumnDef::new(Plugins::VersionId).uuid().null())
                .col(ColumnDef::new(Plugins::RouteId).uuid().null())
                .col(ColumnDef::new(Plugins::ConsumerId).uuid().null())
                .col(ColumnDef::new(Plugins::ScopeKey).string_len(120).not_null())
                .col(ColumnDef::new(Plugins::Name).string_len(64).not_null())
                .col(ColumnDef::new(Plugins::Config).text().not_null())
                .col(ColumnDef::new(Plugins::Enabled).boolean().not_null())
                .col(ColumnDef::new(Plugins::Protocols).text().not_null())
                .col(ColumnDef::new(Plugins::Tags).text().not_null())
                .col(ts(Plugins::CreatedAt))
                .col(ts(Plugins::UpdatedAt))
                .foreign_key(&mut cascade(
                    Plugins::Table,
                    Plugins::RuntimeGroupId,
                    RuntimeGroups::Table,
                    RuntimeGroups::Id,
                ))
                .foreign_key(&mut cascade(
                    Plugins::Table,
                    Plugins::VersionId,
                    ServiceVersions::Table,
                    ServiceVersions::Id,
                ))
                .foreign_key(&mut cascade(
                    Plugins::Table,
                    Plugins::RouteId,
                    Routes::Table,
                    Routes::Id,
                ))
                .foreign_key(&mut cascade(
                    Plugins::Table,
                    Plugins::ConsumerId,
                    Consumers::Table,
                    Consumers::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_plugins_group_scope_name")
                .table(Plugins::Table)
                .col(Plugins::RuntimeGroupId)
                .col(Plugins::ScopeKey)
                .col(Plugins::Name)
                .unique()
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_plugins_version", Plugins::VersionId),
            ("idx_plugins_route", Plugins::RouteId),
            ("idx_plugins_consumer", Plugins::ConsumerId),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Plugins::Table)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table(KeyAuthCredentials::Table)
                .col(
                    ColumnDef::new(KeyAuthCredentials::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(KeyAuthCredentials::ConsumerId)
                        .uuid()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(KeyAuthCredentials::RuntimeGroupId)
                        .uuid()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(KeyAuthCredentials::KeySha256)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(KeyAuthCredentials::KeyPrefix)
                        .string_len(16)
                        .not_null(),
                )
                .col(ColumnDef::new(KeyAuthCredentials::Ttl).big_integer().null())
                .col(
                    ColumnDef::new(KeyAuthCredentials::ExpiresAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(ColumnDef::new(KeyAuthCredentials::Tags).text().not_null())
                .col(ts(KeyAuthCredentials::CreatedAt))
                .foreign_key(&mut cascade(
                    KeyAuthCredentials::Table,
                    KeyAuthCredentials::ConsumerId,
                    Consumers::Table,
                    Consumers::Id,
                ))
                .foreign_key(&mut cascade(
                    KeyAuthCredentials::Table,
                    KeyAuthCredentials::RuntimeGroupId,
                    RuntimeGroups::Table,
                    RuntimeGroups::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_key_auth_group_hash")
                .table(KeyAuthCredentials::Table)
                .col(KeyAuthCredentials::RuntimeGroupId)
                .col(KeyAuthCredentials::KeySha256)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_key_auth_consumer")
                .table(KeyAuthCredentials::Table)
                .col(KeyAuthCredentials::ConsumerId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ConsumerAcls::Table)
                .col(
                    ColumnDef::new(ConsumerAcls::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(ConsumerAcls::ConsumerId).uuid().not_null())
                .col(
                    ColumnDef::new(ConsumerAcls::RuntimeGroupId)
                        .uuid()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ConsumerAcls::GroupName)
                        .string_len(255)
                        .not_null(),
                )
                .col(ColumnDef::new(ConsumerAcls::Tags).text().not_null())
                .col(ts(ConsumerAcls::CreatedAt))
                .foreign_key(&mut cascade(
                    ConsumerAcls::Table,
                    ConsumerAcls::ConsumerId,
                    Consumers::Table,
                    Consumers::Id,
                ))
                .foreign_key(&mut cascade(
                    ConsumerAcls::Table,
                    ConsumerAcls::RuntimeGroupId,
                    RuntimeGroups::Table,
                    RuntimeGroups::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_consumer_acls_consumer_group")
                .table(ConsumerAcls::Table)
                .col(ConsumerAcls::ConsumerId)
                .col(ConsumerAcls::GroupName)
                .unique()
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            ConsumerAcls::Table.into_iden(),
            KeyAuthCredentials::Table.into_iden(),
            Plugins::Table.into_iden(),
            Consumers::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
