//! Analytics per consumer and per error kind: the minute, hour and day aggregate
//! tables gain `consumer_id` (the consumer a plugin identified; the nil UUID for
//! none) and `error_kind` (why Portico answered itself, `ErrorKind::as_str` of the
//! gateway: `no_route`, `rate_limited` …; empty when the upstream answered), both in
//! the primary key, so a bucket holds one row per (group, route, version, status,
//! consumer, error kind).
//!
//! No database can change a primary key in place everywhere (SQLite cannot), so each
//! table is rebuilt as the data plane trust migration rebuilds `data_plane_nodes`: a
//! new table, the rows copied (with no consumer and no error kind: the defaults), the
//! old one dropped, the new one renamed and its indexes made again, in one
//! transaction. Hour and day rows stay the sums of their minute rows: every row keeps
//! its sums and only gains the two key columns, the same in the three tables.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};

/// (named apart from h-cp's migration 8, whose struct is also `Migration`: the lead
/// orders both in `lib.rs`)
#[derive(DeriveMigrationName)]
pub struct AnalyticsConsumersMigration;

#[derive(DeriveIden, Clone, Copy)]
enum Agg {
    Bucket,
    RuntimeGroupId,
    PackageId,
    VersionId,
    RouteId,
    Status,
    ConsumerId,
    ErrorKind,
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

/// The columns both shapes have, in order.
const OLD_COLUMNS: [Agg; 18] = [
    Agg::Bucket,
    Agg::RuntimeGroupId,
    Agg::PackageId,
    Agg::VersionId,
    Agg::RouteId,
    Agg::Status,
    Agg::Requests,
    Agg::RequestBytes,
    Agg::ResponseBytes,
    Agg::TotalLatencyUs,
    Agg::UpstreamLatencyUs,
    Agg::UpstreamRequests,
    Agg::GatewayLatencyUs,
    Agg::TotalSketch,
    Agg::UpstreamSketch,
    Agg::GatewaySketch,
    Agg::RequestSizeSketch,
    Agg::ResponseSizeSketch,
];

/// The aggregate tables: minutes, hours, days (`crate::AGGREGATE_TABLES`).
const TABLES: [&str; 3] = crate::AGGREGATE_TABLES;

/// The nil UUID as the backend stores a bound UUID: 16 zero bytes on SQLite (sqlx
/// binds a UUID as a blob there), a `uuid` on PostgreSQL.
fn nil_uuid(backend: DbBackend) -> SimpleExpr {
    match backend {
        DbBackend::Sqlite => Expr::cust("X'00000000000000000000000000000000'"),
        _ => Expr::cust("'00000000-0000-0000-0000-000000000000'::uuid"),
    }
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

/// An aggregate table as `name`, with the consumer and error kind (in the key) or
/// without them (the shape of `m20261130_000006_analytics`).
fn aggregate_table(name: &str, extended: bool, backend: DbBackend) -> TableCreateStatement {
    let mut t = Table::create();
    t.table(Alias::new(name))
        .col(ColumnDef::new(Agg::Bucket).big_integer().not_null())
        .col(ColumnDef::new(Agg::RuntimeGroupId).uuid().not_null())
        .col(ColumnDef::new(Agg::PackageId).uuid().not_null())
        .col(ColumnDef::new(Agg::VersionId).uuid().not_null())
        .col(ColumnDef::new(Agg::RouteId).uuid().not_null())
        .col(ColumnDef::new(Agg::Status).integer().not_null());
    if extended {
        t.col(
            ColumnDef::new(Agg::ConsumerId)
                .uuid()
                .not_null()
                .default(nil_uuid(backend)),
        )
        .col(
            ColumnDef::new(Agg::ErrorKind)
                .string_len(64)
                .not_null()
                .default(""),
        );
    }
    t.col(big(Agg::Requests))
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
        .col(blob(Agg::ResponseSizeSketch));
    let mut pk = Index::create();
    pk.col(Agg::RuntimeGroupId)
        .col(Agg::Bucket)
        .col(Agg::RouteId)
        .col(Agg::VersionId)
        .col(Agg::Status);
    if extended {
        pk.col(Agg::ConsumerId).col(Agg::ErrorKind);
    }
    t.primary_key(&mut pk);
    t.to_owned()
}

/// The indexes of an aggregate table (those of `m20261130_000006_analytics`, and one
/// per consumer when `extended`).
fn indexes(name: &str, extended: bool) -> Vec<IndexCreateStatement> {
    let mut out = Vec::new();
    let mut of = vec![
        ("bucket", None),
        ("package", Some(Agg::PackageId)),
        ("version", Some(Agg::VersionId)),
    ];
    if extended {
        of.push(("consumer", Some(Agg::ConsumerId)));
    }
    for (suffix, col) in of {
        let mut idx = Index::create();
        idx.name(format!("idx_{name}_{suffix}"))
            .table(Alias::new(name));
        if let Some(col) = col {
            idx.col(col);
        }
        idx.col(Agg::Bucket);
        out.push(idx.to_owned());
    }
    out
}

/// Rebuilds every aggregate table in the `extended` shape, copying the rows that
/// shape can hold (see [`AnalyticsConsumersMigration::down`]).
async fn rebuild(m: &SchemaManager<'_>, extended: bool) -> Result<(), DbErr> {
    let backend = m.get_database_backend();
    // One transaction (sea-orm-migration runs PostgreSQL's migrations in one, not
    // SQLite's): a crash leaves the old tables or the new ones, never neither.
    let txn = m.get_connection().begin().await?;
    let m = &SchemaManager::new(&txn);
    for name in TABLES {
        let new = format!("{name}_rebuilt");
        m.create_table(aggregate_table(&new, extended, backend))
            .await?;
        let mut select = Query::select();
        select.columns(OLD_COLUMNS).from(Alias::new(name));
        if !extended {
            // The old key cannot tell consumers and error kinds apart, and sketches
            // cannot be merged in SQL: only the rows without either go back.
            select
                .and_where(Expr::col(Agg::ConsumerId).eq(nil_uuid(backend)))
                .and_where(Expr::col(Agg::ErrorKind).eq(""));
        }
        let copy = Query::insert()
            .into_table(Alias::new(&new))
            .columns(OLD_COLUMNS)
            .select_from(select)
            .map_err(|e| DbErr::Migration(e.to_string()))?
            .to_owned();
        m.exec_stmt(copy).await?;
        m.drop_table(Table::drop().table(Alias::new(name)).to_owned())
            .await?;
        m.rename_table(
            Table::rename()
                .table(Alias::new(&new), Alias::new(name))
                .to_owned(),
        )
        .await?;
        if backend == DbBackend::Postgres {
            // the key keeps the name it was made with: give it the table's again, so
            // a later rebuild can make `…_rebuilt` once more
            m.get_connection()
                .execute_unprepared(&format!(
                    "ALTER TABLE {name} RENAME CONSTRAINT {new}_pkey TO {name}_pkey"
                ))
                .await?;
        }
        for idx in indexes(name, extended) {
            m.create_index(idx).await?;
        }
    }
    txn.commit().await
}

#[async_trait::async_trait]
impl MigrationTrait for AnalyticsConsumersMigration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rebuild(m, true).await
    }

    /// Back to one row per (group, bucket, route, version, status): the rows of a
    /// consumer or an error kind are dropped (their sketches cannot be merged into
    /// the others' in SQL).
    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rebuild(m, false).await
    }
}
