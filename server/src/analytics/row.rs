//! One aggregate row of `analytics_minute`, `analytics_hour` and `analytics_day` (the
//! tables of `migration::AGGREGATE_TABLES`): its column list and its values in that
//! order, shared by the ingest, the query benchmark's seeder and the tests, so the three
//! cannot disagree on a column.

use sea_orm::sea_query::{Alias, InsertStatement, Query, SimpleExpr};
use uuid::Uuid;

use super::sketch::Sketch;

/// The columns of an aggregate row, in [`AggregateRow::values`] order.
pub const COLUMNS: [&str; 20] = [
    "bucket",
    "runtime_group_id",
    "package_id",
    "version_id",
    "route_id",
    "status",
    "consumer_id",
    "error_kind",
    "requests",
    "request_bytes",
    "response_bytes",
    "total_latency_us",
    "upstream_latency_us",
    "upstream_requests",
    "gateway_latency_us",
    "total_sketch",
    "upstream_sketch",
    "gateway_sketch",
    "request_size_sketch",
    "response_size_sketch",
];

/// The primary key: one row per (group, bucket, route, version, status, consumer,
/// error kind).
pub const KEY_COLUMNS: [&str; 7] = [
    "runtime_group_id",
    "bucket",
    "route_id",
    "version_id",
    "status",
    "consumer_id",
    "error_kind",
];

/// One row's values (nil ids for no package, version, route or consumer; an empty
/// error kind when the upstream answered).
#[derive(Debug, Clone, Copy)]
pub struct AggregateRow<'a> {
    pub bucket: i64,
    pub runtime_group_id: Uuid,
    pub package_id: Uuid,
    pub version_id: Uuid,
    pub route_id: Uuid,
    pub status: i32,
    pub consumer_id: Uuid,
    pub error_kind: &'a str,
    pub requests: i64,
    pub request_bytes: i64,
    pub response_bytes: i64,
    pub total_latency_us: i64,
    pub upstream_latency_us: i64,
    pub upstream_requests: i64,
    pub gateway_latency_us: i64,
    /// Total, upstream and gateway latency (µs), request and response size (bytes).
    pub sketches: [&'a Sketch; 5],
}

impl AggregateRow<'_> {
    /// The values in [`COLUMNS`] order (sketches encoded).
    pub fn values(&self) -> Vec<SimpleExpr> {
        let mut v: Vec<SimpleExpr> = vec![
            self.bucket.into(),
            self.runtime_group_id.into(),
            self.package_id.into(),
            self.version_id.into(),
            self.route_id.into(),
            self.status.into(),
            self.consumer_id.into(),
            self.error_kind.into(),
            self.requests.into(),
            self.request_bytes.into(),
            self.response_bytes.into(),
            self.total_latency_us.into(),
            self.upstream_latency_us.into(),
            self.upstream_requests.into(),
            self.gateway_latency_us.into(),
        ];
        v.extend(self.sketches.iter().map(|s| s.encode().into()));
        v
    }
}

/// An `INSERT INTO table (COLUMNS…)` to add [`AggregateRow::values`] to.
pub fn insert_into(table: &str) -> InsertStatement {
    let mut ins = Query::insert();
    ins.into_table(Alias::new(table))
        .columns(COLUMNS.map(Alias::new));
    ins
}
