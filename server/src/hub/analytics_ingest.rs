//! The write side of analytics: a data plane's [`Batch`] validated (its package,
//! version, route and consumer ids against the group's snapshots, see
//! `hub::snapshot_ids`; its error kinds by their form) and counted once
//! (its id goes into `analytics_batches` in the same transaction), added to the
//! minute, hour and day rows; and retention per resolution.
//!
//! Every batch updates the three resolutions in one transaction, so an hour or day
//! row always equals the sum of its minute rows (counts, sums, and the merged
//! sketches, which merge exactly). Rows of a batch with the same target key are
//! combined in memory first; then the existing rows are read, merged and written back
//! with one `INSERT … ON CONFLICT DO UPDATE` per chunk (SQLite and PostgreSQL). On
//! SQLite the hub's writer lock serializes ingests; on PostgreSQL a transaction-level
//! advisory lock per runtime group does (several control planes may share one
//! database).

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use app::error::AppError;
use app::ports::Result;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement,
};
use uuid::Uuid;

use super::{db_err, Hub};
use crate::analytics::row::{self, AggregateRow};
use crate::analytics::sketch::Sketch;
use crate::config::Retention;
use crate::gateway::recorder::{Batch, IngestOutcome, Purged, MAX_ROWS_PER_BATCH};
use crate::store::{analytics_batch, runtime_group};

/// The aggregate tables and their bucket widths in seconds.
const RESOLUTIONS: [(&str, i64); 3] = [
    ("analytics_minute", 60),
    ("analytics_hour", 3_600),
    ("analytics_day", 86_400),
];
/// A bucket may start at most this far in the future (clock skew).
const MAX_FUTURE_SECS: i64 = 300;
/// Batch ids are kept this long (a node retries for at most a few hours).
const BATCH_ID_RETENTION: chrono::Duration = chrono::Duration::days(2);
/// How often the retention task runs.
const RETENTION_EVERY: Duration = Duration::from_secs(600);
/// Rows per `INSERT … ON CONFLICT` statement (20 parameters each).
const UPSERT_CHUNK: usize = 200;
/// Route ids per `IN (…)` of the read of existing rows.
const READ_CHUNK: usize = 500;
/// Batch ids deleted per statement.
const PURGE_IDS_CHUNK: u64 = 1_000;

/// The minute retention (days) of this process: batches with older minutes are
/// refused. Set by [`Hub::start_analytics_retention`]; 7 until then.
static MINUTE_RETENTION_DAYS: AtomicU32 = AtomicU32::new(7);

/// One validated row: ids parsed (nil for none), sums as `i64`, sketches decoded.
#[derive(Debug, Clone, Default)]
struct Acc {
    package_id: Uuid,
    requests: i64,
    request_bytes: i64,
    response_bytes: i64,
    total_latency_us: i64,
    upstream_latency_us: i64,
    upstream_requests: i64,
    gateway_latency_us: i64,
    total: Sketch,
    upstream: Sketch,
    gateway: Sketch,
    request_size: Sketch,
    response_size: Sketch,
}

impl Acc {
    /// Adds `o` (sums saturate at `i64::MAX`).
    fn merge(&mut self, o: &Acc) {
        if self.package_id.is_nil() {
            self.package_id = o.package_id;
        }
        self.requests = self.requests.saturating_add(o.requests);
        self.request_bytes = self.request_bytes.saturating_add(o.request_bytes);
        self.response_bytes = self.response_bytes.saturating_add(o.response_bytes);
        self.total_latency_us = self.total_latency_us.saturating_add(o.total_latency_us);
        self.upstream_latency_us = self
            .upstream_latency_us
            .saturating_add(o.upstream_latency_us);
        self.upstream_requests = self.upstream_requests.saturating_add(o.upstream_requests);
        self.gateway_latency_us = self.gateway_latency_us.saturating_add(o.gateway_latency_us);
        self.total.merge(&o.total);
        self.upstream.merge(&o.upstream);
        self.gateway.merge(&o.gateway);
        self.request_size.merge(&o.request_size);
        self.response_size.merge(&o.response_size);
    }
}

/// (bucket, route, version, status, consumer, error kind): a row's key within one
/// runtime group (nil: no consumer; empty: no error kind).
type RowKey = (i64, Uuid, Uuid, i32, Uuid, String);

fn invalid(field: String, message: impl Into<String>) -> AppError {
    AppError::validation(field, message)
}

fn sum(field: String, v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| invalid(field, "must be at most 9223372036854775807"))
}

fn id(field: String, v: &Option<String>) -> Result<Uuid> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(Uuid::nil()),
        Some(s) => Uuid::parse_str(s).map_err(|_| invalid(field, "must be a UUID")),
    }
}

/// A row's error kind: empty when absent, else a short lower-case identifier (see
/// [`app::model::analytics::is_error_kind`]).
fn error_kind(field: String, v: &Option<String>) -> Result<String> {
    match v.as_deref() {
        None | Some("") => Ok(String::new()),
        Some(s) if app::model::analytics::is_error_kind(s) => Ok(s.to_string()),
        Some(_) => Err(invalid(
            field,
            format!(
                "must be an error kind: a lower-case letter, then lower-case letters, digits or _, at most {} characters",
                app::model::analytics::MAX_ERROR_KIND_LEN
            ),
        )),
    }
}

fn sketch(field: String, text: &str, count: u64) -> Result<Sketch> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| invalid(field.clone(), "must be a base64 sketch"))?;
    let s = Sketch::decode(&bytes).ok_or_else(|| invalid(field.clone(), "is not a sketch"))?;
    if s.count() != count {
        return Err(invalid(
            field,
            format!("holds {} values, the row says {count}", s.count()),
        ));
    }
    Ok(s)
}

/// Checks every row of `batch` against the rules of `POST /dp/v1/analytics` (see
/// `control`); the rows keyed by minute, combined.
fn validate(batch: &Batch, now: DateTime<Utc>) -> Result<HashMap<RowKey, Acc>> {
    if batch.rows.len() > MAX_ROWS_PER_BATCH {
        return Err(invalid(
            "rows".into(),
            format!(
                "a batch holds at most {MAX_ROWS_PER_BATCH} rows, not {}",
                batch.rows.len()
            ),
        ));
    }
    let now = now.timestamp();
    let retention = i64::from(MINUTE_RETENTION_DAYS.load(Ordering::Relaxed).max(1)) * 86_400;
    let oldest = (now - retention).div_euclid(60) * 60;
    let newest = now + MAX_FUTURE_SECS;
    let mut out: HashMap<RowKey, Acc> = HashMap::new();
    for (i, r) in batch.rows.iter().enumerate() {
        let f = |name: &str| format!("rows[{i}].{name}");
        if r.bucket.rem_euclid(60) != 0 {
            return Err(invalid(
                f("bucket"),
                "must be the start of a minute (a multiple of 60)",
            ));
        }
        if r.bucket > newest {
            return Err(invalid(f("bucket"), "is more than 5 minutes in the future"));
        }
        if r.bucket < oldest {
            return Err(invalid(f("bucket"), "is older than the minute retention"));
        }
        if !(100..=599).contains(&r.status) {
            return Err(invalid(f("status"), "must be an HTTP status (100 to 599)"));
        }
        let route_id = id(f("route_id"), &r.route_id)?;
        let version_id = id(f("version_id"), &r.version_id)?;
        let package_id = id(f("package_id"), &r.package_id)?;
        let consumer_id = id(f("consumer_id"), &r.consumer_id)?;
        let error = error_kind(f("error"), &r.error)?;
        if r.requests == 0 {
            return Err(invalid(f("requests"), "must be at least 1"));
        }
        if r.upstream_requests > r.requests {
            return Err(invalid(f("upstream_requests"), "must be at most requests"));
        }
        let acc = Acc {
            package_id,
            requests: sum(f("requests"), r.requests)?,
            request_bytes: sum(f("request_bytes"), r.request_bytes)?,
            response_bytes: sum(f("response_bytes"), r.response_bytes)?,
            total_latency_us: sum(f("total_latency_us"), r.total_latency_us)?,
            upstream_latency_us: sum(f("upstream_latency_us"), r.upstream_latency_us)?,
            upstream_requests: sum(f("upstream_requests"), r.upstream_requests)?,
            gateway_latency_us: sum(f("gateway_latency_us"), r.gateway_latency_us)?,
            total: sketch(f("total_sketch"), &r.total_sketch, r.requests)?,
            upstream: sketch(
                f("upstream_sketch"),
                &r.upstream_sketch,
                r.upstream_requests,
            )?,
            gateway: sketch(f("gateway_sketch"), &r.gateway_sketch, r.requests)?,
            request_size: sketch(f("request_size_sketch"), &r.request_size_sketch, r.requests)?,
            response_size: sketch(
                f("response_size_sketch"),
                &r.response_size_sketch,
                r.requests,
            )?,
        };
        let key = (
            r.bucket,
            route_id,
            version_id,
            i32::from(r.status),
            consumer_id,
            error,
        );
        match out.get_mut(&key) {
            Some(a) => a.merge(&acc),
            None => {
                out.insert(key, acc);
            }
        }
    }
    Ok(out)
}

/// The PostgreSQL advisory lock key of a group's ingests.
fn lock_key(group: Uuid) -> i64 {
    let b = group.as_bytes();
    let mut k = [0u8; 8];
    k.copy_from_slice(&b[..8]);
    i64::from_be_bytes(k) ^ 0x616e_616c_7974_6963 // "analytic"
}

fn col(name: &str) -> Alias {
    Alias::new(name)
}

impl Hub {
    /// Counts a data plane's batch once: validates it (a field error is a 422
    /// naming `rows[i].field`, and so is a package, version or route that is not in
    /// the group's snapshots: see `hub::snapshot_ids`; a batch of another runtime
    /// group than `group_id` is refused as forbidden), records its id (already there: [`IngestOutcome::Duplicate`],
    /// nothing added) and adds its rows to the minute, hour and day aggregates, all in
    /// one transaction through the writer.
    pub async fn ingest_analytics(
        &self,
        group_id: Uuid,
        node_id: &str,
        batch: &Batch,
    ) -> Result<IngestOutcome> {
        let group = runtime_group::Entity::find_by_id(group_id)
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or_else(|| AppError::not_found("No such runtime group."))?;
        if app::model::validate::slug(&batch.runtime_group) != group.name_key {
            return Err(AppError::forbidden(format!(
                "This batch belongs to runtime group \"{}\", not \"{}\".",
                batch.runtime_group, group.name
            )));
        }
        let now = Utc::now();
        let minutes = validate(batch, now)?;
        let retention = i64::from(MINUTE_RETENTION_DAYS.load(Ordering::Relaxed).max(1));
        self.check_batch_ids(
            group_id,
            &group.name,
            batch,
            now - chrono::Duration::days(retention),
        )
        .await?;
        let rows = batch.rows.len();
        let node_id: String = node_id.chars().take(128).collect();

        let (_writing, txn) = self.write_txn().await?;
        let backend = txn.get_database_backend();
        if backend == DbBackend::Postgres {
            txn.execute(Statement::from_sql_and_values(
                backend,
                "SELECT pg_advisory_xact_lock($1)",
                [lock_key(group_id).into()],
            ))
            .await
            .map_err(db_err)?;
        }
        let inserted = analytics_batch::Entity::insert(analytics_batch::ActiveModel {
            id: sea_orm::Set(batch.id),
            runtime_group_id: sea_orm::Set(group_id),
            node_id: sea_orm::Set(node_id),
            received_at: sea_orm::Set(now),
        })
        .on_conflict(
            OnConflict::column(analytics_batch::Column::Id)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await
        .map_err(db_err)?;
        if inserted == 0 {
            txn.rollback().await.map_err(db_err)?;
            return Ok(IngestOutcome::Duplicate);
        }
        for (table, width) in RESOLUTIONS {
            let mut combined: HashMap<RowKey, Acc> = HashMap::new();
            for ((bucket, route, version, status, consumer, error), acc) in &minutes {
                let key = (
                    bucket.div_euclid(width) * width,
                    *route,
                    *version,
                    *status,
                    *consumer,
                    error.clone(),
                );
                match combined.get_mut(&key) {
                    Some(a) => a.merge(acc),
                    None => {
                        combined.insert(key, acc.clone());
                    }
                }
            }
            merge_existing(&txn, table, group_id, &mut combined).await?;
            upsert(&txn, table, group_id, combined).await?;
        }
        txn.commit().await.map_err(db_err)?;
        Ok(IngestOutcome::Stored { rows })
    }

    /// Deletes, in short chunks through the writer, aggregate rows older than the
    /// retention of their resolution, batch ids older than two days, and the snapshot
    /// ids retired longer ago than the minute retention (see `hub::snapshot_ids`).
    pub async fn purge_analytics(&self, now: DateTime<Utc>, r: &Retention) -> Result<Purged> {
        let now_s = now.timestamp();
        let mut purged = Purged::default();
        // (table, width, retention days, seconds of buckets per chunk)
        let plan = [
            ("analytics_minute", 60, r.minutes_days, 600),
            ("analytics_hour", 3_600, r.hours_days, 86_400),
            ("analytics_day", 86_400, r.days_days, 7 * 86_400),
        ];
        for (table, width, days, span) in plan {
            let cutoff = (now_s - i64::from(days.max(1)) * 86_400).div_euclid(width) * width;
            let mut n = 0u64;
            loop {
                let min = Query::select()
                    .expr(Expr::col(col("bucket")).min())
                    .from(col(table))
                    .and_where(Expr::col(col("bucket")).lt(cutoff))
                    .to_owned();
                let row = self
                    .db
                    .query_one(self.db.get_database_backend().build(&min))
                    .await
                    .map_err(db_err)?;
                let Some(min) = row
                    .and_then(|r| r.try_get_by_index::<Option<i64>>(0).ok())
                    .flatten()
                else {
                    break;
                };
                let upto = cutoff.min(min + span);
                let delete = Query::delete()
                    .from_table(col(table))
                    .and_where(Expr::col(col("bucket")).lt(upto))
                    .to_owned();
                let _writing = self.write_lock().await;
                let res = self
                    .db
                    .execute(self.db.get_database_backend().build(&delete))
                    .await
                    .map_err(db_err)?;
                drop(_writing);
                n += res.rows_affected();
                tokio::task::yield_now().await;
            }
            match table {
                "analytics_minute" => purged.minute_rows = n,
                "analytics_hour" => purged.hour_rows = n,
                _ => purged.day_rows = n,
            }
        }
        self.purge_snapshot_ids(now - chrono::Duration::days(i64::from(r.minutes_days.max(1))))
            .await?;
        let cutoff = now - BATCH_ID_RETENTION;
        loop {
            let ids: Vec<Uuid> = analytics_batch::Entity::find()
                .select_only()
                .column(analytics_batch::Column::Id)
                .filter(analytics_batch::Column::ReceivedAt.lt(cutoff))
                .order_by_asc(analytics_batch::Column::ReceivedAt)
                .limit(PURGE_IDS_CHUNK)
                .into_tuple()
                .all(&self.db)
                .await
                .map_err(db_err)?;
            if ids.is_empty() {
                break;
            }
            let _writing = self.write_lock().await;
            let res = analytics_batch::Entity::delete_many()
                .filter(analytics_batch::Column::Id.is_in(ids))
                .exec(&self.db)
                .await
                .map_err(db_err)?;
            drop(_writing);
            purged.batch_ids += res.rows_affected;
            tokio::task::yield_now().await;
        }
        Ok(purged)
    }

    /// Applies `retention` from now on: batches older than the minute retention are
    /// refused, and a task purges old rows every 10 minutes (the first time after
    /// a minute).
    pub fn start_analytics_retention(&self, retention: Retention) -> tokio::task::JoinHandle<()> {
        MINUTE_RETENTION_DAYS.store(retention.minutes_days.max(1), Ordering::Relaxed);
        let hub = self.clone();
        tokio::spawn(async move {
            let start = tokio::time::Instant::now() + Duration::from_secs(60);
            let mut every = tokio::time::interval_at(start, RETENTION_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                match hub.purge_analytics(Utc::now(), &retention).await {
                    Ok(p) if p != Purged::default() => tracing::info!(
                        "analytics retention: deleted {} minute, {} hour, {} day rows and {} batch ids",
                        p.minute_rows,
                        p.hour_rows,
                        p.day_rows,
                        p.batch_ids
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::warn!("analytics retention failed: {e}"),
                }
            }
        })
    }
}

/// Reads the stored rows of `rows`' keys and merges them in.
async fn merge_existing<C: ConnectionTrait>(
    db: &C,
    table: &str,
    group: Uuid,
    rows: &mut HashMap<RowKey, Acc>,
) -> Result<()> {
    let buckets: BTreeSet<i64> = rows.keys().map(|k| k.0).collect();
    let routes: Vec<Uuid> = rows
        .keys()
        .map(|k| k.1)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for chunk in routes.chunks(READ_CHUNK) {
        let select = Query::select()
            .columns(row::COLUMNS.iter().map(|c| col(c)))
            .from(col(table))
            .and_where(Expr::col(col("runtime_group_id")).eq(group))
            .and_where(Expr::col(col("bucket")).is_in(buckets.iter().copied()))
            .and_where(Expr::col(col("route_id")).is_in(chunk.iter().copied()))
            .to_owned();
        let found = db
            .query_all(db.get_database_backend().build(&select))
            .await
            .map_err(db_err)?;
        for r in found {
            let key: RowKey = (
                r.try_get("", "bucket").map_err(db_err)?,
                r.try_get("", "route_id").map_err(db_err)?,
                r.try_get("", "version_id").map_err(db_err)?,
                r.try_get("", "status").map_err(db_err)?,
                r.try_get("", "consumer_id").map_err(db_err)?,
                r.try_get("", "error_kind").map_err(db_err)?,
            );
            let Some(acc) = rows.get_mut(&key) else {
                continue;
            };
            let blob = |name: &str| -> Result<Sketch> {
                let bytes: Vec<u8> = r.try_get("", name).map_err(db_err)?;
                Sketch::decode(&bytes).ok_or_else(|| {
                    tracing::error!("{table}: a stored {name} is not a sketch");
                    AppError::internal()
                })
            };
            let stored = Acc {
                package_id: r.try_get("", "package_id").map_err(db_err)?,
                requests: r.try_get("", "requests").map_err(db_err)?,
                request_bytes: r.try_get("", "request_bytes").map_err(db_err)?,
                response_bytes: r.try_get("", "response_bytes").map_err(db_err)?,
                total_latency_us: r.try_get("", "total_latency_us").map_err(db_err)?,
                upstream_latency_us: r.try_get("", "upstream_latency_us").map_err(db_err)?,
                upstream_requests: r.try_get("", "upstream_requests").map_err(db_err)?,
                gateway_latency_us: r.try_get("", "gateway_latency_us").map_err(db_err)?,
                total: blob("total_sketch")?,
                upstream: blob("upstream_sketch")?,
                gateway: blob("gateway_sketch")?,
                request_size: blob("request_size_sketch")?,
                response_size: blob("response_size_sketch")?,
            };
            // keep the stored package when the batch's is the same or unknown
            let package = if stored.package_id.is_nil() {
                acc.package_id
            } else {
                stored.package_id
            };
            acc.merge(&stored);
            acc.package_id = package;
        }
    }
    Ok(())
}

/// Writes the merged rows (insert, or replace the stored values).
async fn upsert<C: ConnectionTrait>(
    db: &C,
    table: &str,
    group: Uuid,
    rows: HashMap<RowKey, Acc>,
) -> Result<()> {
    let rows: Vec<(RowKey, Acc)> = rows.into_iter().collect();
    for chunk in rows.chunks(UPSERT_CHUNK) {
        let mut insert = row::insert_into(table);
        for ((bucket, route, version, status, consumer, error), a) in chunk {
            let values = AggregateRow {
                bucket: *bucket,
                runtime_group_id: group,
                package_id: a.package_id,
                version_id: *version,
                route_id: *route,
                status: *status,
                consumer_id: *consumer,
                error_kind: error,
                requests: a.requests,
                request_bytes: a.request_bytes,
                response_bytes: a.response_bytes,
                total_latency_us: a.total_latency_us,
                upstream_latency_us: a.upstream_latency_us,
                upstream_requests: a.upstream_requests,
                gateway_latency_us: a.gateway_latency_us,
                sketches: [
                    &a.total,
                    &a.upstream,
                    &a.gateway,
                    &a.request_size,
                    &a.response_size,
                ],
            }
            .values();
            insert.values(values).map_err(|e| {
                tracing::error!("analytics upsert: {e}");
                AppError::internal()
            })?;
        }
        insert.on_conflict(
            OnConflict::columns(row::KEY_COLUMNS.iter().map(|c| col(c)))
                .update_columns(
                    row::COLUMNS
                        .iter()
                        .filter(|c| !row::KEY_COLUMNS.contains(c))
                        .map(|c| col(c)),
                )
                .to_owned(),
        );
        db.execute(db.get_database_backend().build(&insert))
            .await
            .map_err(db_err)?;
    }
    Ok(())
}
