//! Analytics: per-minute, per-hour and per-day aggregates of the proxied traffic, the
//! ids of the batches already counted, and saved reports.
//!
//! The three aggregate tables have the same columns. A row holds the requests of one
//! bucket (`bucket`: Unix seconds of its start, UTC) for one runtime group, version,
//! route and status code; the package is the version's. Requests no route matched
//! have the nil UUID as package, version and route. No foreign keys: traffic stays
//! countable after its version is deleted.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Agg {
    Bucket,
    RuntimeGroupId,
    PackageId,
    VersionId,
    RouteId,
    Status,
    Requests,
    RequestBytes,
    ResponseBytes,
    TotalLatencyUs,
    UpstreamLatencyUs,
    UpstreamRequests,
    GatewayLatencyUs,
    TotalSketch,
    UpstreamSketch,
    GatewaySketch,
    RequestSizeSketch,
    ResponseSizeSketch,
}

#[derive(DeriveIden)]
enum AnalyticsBatches {
    Table,
    Id,
    RuntimeGroupId,
    NodeId,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum AnalyticsReports {
    Table,
    Id,
    Name,
    Description,
    Chart,
    Query,
    CreatedByEmail,
    CreatedAt,
    UpdatedAt,
}

/// The aggregate tables: minutes, hours, days.
pub const AGGREGATE_TABLES: [&str; 3] = ["analytics_minute", "analytics_hour", "analytics_day"];

fn ts(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn big(col: Agg) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .default(0)
        .to_owned()
}

fn blob(col: Agg) -> ColumnDef {
    ColumnDef::new(col).binary().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for name in AGGREGATE_TABLES {
            let table = Alias::new(name);
            m.create_table(
                Table::create()
                    .table(table.clone())
                    .col(ColumnDef::new(Agg::Bucket).big_integer().not_null())
                    .col(ColumnDef::new(Agg::RuntimeGroupId).uuid().not_null())
                    .col(ColumnDef::new(Agg::PackageId).uuid().not_null())
                    .col(ColumnDef::new(Agg::VersionId).uuid().not_null())
                    .col(ColumnDef::new(Agg::RouteId).uuid().not_null())
                    .col(ColumnDef::new(Agg::Status).integer().not_null())
                    .col(big(Agg::Requests))
                    .col(big(Agg::RequestBytes))
                    .col(big(Agg::ResponseBytes))
                    .col(big(Agg::TotalLatencyUs))
                    .col(big(Agg::UpstreamLatencyUs))
                    .col(big(Agg::UpstreamRequests))
                    .col(big(Agg::GatewayLatencyUs))
                    .col(blob(Agg::TotalSketch))
                    .col(blob(Agg::UpstreamSketch))
                    .col(blob(Agg::GatewaySketch))
                    .col(blob(Agg::RequestSizeSketch))
                    .col(blob(Agg::ResponseSizeSketch))
                    .primary_key(
                        Index::create()
                            .col(Agg::RuntimeGroupId)
                            .col(Agg::Bucket)
                            .col(Agg::RouteId)
                            .col(Agg::VersionId)
                            .col(Agg::Status),
                    )
                    .to_owned(),
            )
            .await?;
            for (suffix, col) in [
                ("bucket", Agg::Bucket),
                ("package", Agg::PackageId),
                ("version", Agg::VersionId),
            ] {
                let mut idx = Index::create();
                idx.name(format!("idx_{name}_{suffix}"))
                    .table(table.clone());
                if !matches!(col, Agg::Bucket) {
                    idx.col(col);
                }
                idx.col(Agg::Bucket);
                m.create_index(idx.to_owned()).await?;
            }
        }

        m.create_table(
            Table::create()
                .table(AnalyticsBatches::Table)
                .col(
                    ColumnDef::new(AnalyticsBatches::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(AnalyticsBatches::RuntimeGroupId)
                        .uuid()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(AnalyticsBatches::NodeId)
                        .string_len(128)
                        .not_null(),
                )
                .col(ts(AnalyticsBatches::ReceivedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_analytics_batches_received")
                .table(AnalyticsBatches::Table)
                .col(AnalyticsBatches::ReceivedAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AnalyticsReports::Table)
                .col(
                    ColumnDef::new(AnalyticsReports::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(AnalyticsReports::Name)
                        .string_len(255)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(AnalyticsReports::Description)
                        .string_len(255)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(AnalyticsReports::Chart)
                        .string_len(32)
                        .not_null(),
                )
                .col(ColumnDef::new(AnalyticsReports::Query).text().not_null())
                .col(
                    ColumnDef::new(AnalyticsReports::CreatedByEmail)
                        .string_len(255)
                        .not_null(),
                )
                .col(ts(AnalyticsReports::CreatedAt))
                .col(ts(AnalyticsReports::UpdatedAt))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AnalyticsReports::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(AnalyticsBatches::Table).to_owned())
            .await?;
        for name in AGGREGATE_TABLES {
            m.drop_table(Table::drop().table(Alias::new(name)).to_owned())
                .await?;
        }
        Ok(())
    }
}
