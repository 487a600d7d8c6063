//! The analytics query engine: a validated [`AnalyticsQuery`] and `now` in, an
//! [`AnalyticsResult`] out, over the minute, hour and day rows.
//!
//! How a query runs:
//!
//! 1. **Range**: `[start, end)` from the time frame (ending `now`) or the custom range.
//! 2. **Bucket edges** in the query's time zone (IANA name, default UTC; an unknown
//!    zone is a 422 on `time_zone`). The first bucket is the one that holds `start`,
//!    the last the one that holds the end; every bucket is reported by its start.
//! 3. **Rows**: one table per query (local days: two).
//!    - `1m`: minute rows.
//!    - `1h`: hour rows. In zones whose offset is not a whole number of hours
//!      (Asia/Kolkata +5:30, Asia/Kathmandu +5:45, Australia/Adelaide …) local hours
//!      start at :30 or :45 UTC, which hour rows cannot split: such queries read
//!      minute rows when the range is at most 2 days (exact local hours), and hour
//!      rows otherwise, with buckets aligned to UTC hours (the bucket starts then say
//!      so: they are at :00 UTC).
//!    - `1d`: day rows (UTC days) when the zone is UTC (or any zone always at +0);
//!      otherwise local days of whole hours, so a daylight-saving day holds 23 or 25
//!      hours. In zones with non-whole-hour offsets a local day starts at the UTC hour
//!      that holds local midnight. A local day is read as the day rows of the UTC day
//!      holding most of its hours, plus the hour rows it borrows from its neighbours,
//!      minus those it lends them (see [`LocalDays`]): in Berlin 24 + 1 or 2 rows
//!      per combination instead of 24 hour rows. Hour rows are kept 90 days by
//!      default: past that, local days are the UTC days nearest to them.
//! 4. **Which rows count**: rows whose bucket lies in `[floor(start), end)`, `floor`
//!    being to the row resolution (minute, hour or day). So with `1m` and `1h`
//!    buckets and with UTC days, the first and last buckets count whole (a 24-hour
//!    frame at 12:34 counts from 12:00 yesterday through the current hour); local days
//!    built from hour rows count from the hour holding `start`.
//! 5. **Filters** run in SQL: the bucket range, runtime groups, packages, versions,
//!    routes, consumers, error kinds (each list an OR, the lists ANDed), status
//!    classes and codes (a row passes when its status is in one of the classes, and
//!    in the codes, when given).
//!    Only the columns the metrics need are read; sketch BLOBs only for percentiles.
//! 6. **Aggregation** in Rust, per (bucket, group value, then value); sketches merge.
//!    Sums and sketch counts saturate (at `i64::MAX`, `u64::MAX`) instead of
//!    overflowing.
//! 7. **Metrics**: counts are 0, not `None`; latencies, percentiles and error rates are
//!    `None` where there were no requests. Averages are sums over counts (upstream
//!    latency over the requests that reached an upstream); percentiles come from the
//!    merged sketches (µs / 1000 = ms; sizes in bytes). `requests_per_minute` divides
//!    a bucket's count by the bucket's nominal minutes (60 for an hour, 1,380 for a
//!    23-hour day), also for the partial last bucket of a frame ending now; a series'
//!    total divides by the minutes from the first counted row to the end.
//! 8. **Series**: one per metric and group combination. Combinations are ordered by
//!    their request count over the range (descending); after the first 50 the rest
//!    fold into one "Other". `total` is the metric over the whole range, computed from
//!    the merged aggregates (not an average of the buckets). Labels: names of
//!    packages, versions, routes, runtime groups and consumers (see
//!    [`consumer_names`]); the nil id is "(no route)", or "(anonymous)" for a
//!    consumer; an error kind is its own label, and "(none)" (id `none`) where the
//!    upstream answered.

use std::collections::HashMap;

use app::error::AppError;
use app::model::analytics::{
    AnalyticsQuery, AnalyticsResult, Dimension, DimensionValue, Filters, Granularity, Metric,
    Series, Summary, TimeFrame, Totals, MAX_ERROR_KIND_LEN, NO_ERROR_KIND,
};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Alias, Condition, Expr, Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryResult};
use uuid::Uuid;

use super::plan::*;
pub use super::plan::{parse_zone, plan, Plan, Table, HALF_HOUR_ZONE_MINUTE_RANGE};
use super::sketch::Sketch;
use crate::hub::db_err;
use crate::store::{route, runtime_group, service_package, service_version};

/// Most group combinations in an answer; the rest fold into "Other".
pub const MAX_GROUPS: usize = 50;
// ---------------------------------------------------------------------------------
// Reading rows
// ---------------------------------------------------------------------------------

/// Sketch columns, in [`Acc::sketches`] order.
const SKETCH_COLUMNS: [&str; 5] = [
    "total_sketch",
    "upstream_sketch",
    "gateway_sketch",
    "request_size_sketch",
    "response_size_sketch",
];
const SK_TOTAL: usize = 0;
const SK_UPSTREAM: usize = 1;
const SK_GATEWAY: usize = 2;
const SK_REQUEST_SIZE: usize = 3;
const SK_RESPONSE_SIZE: usize = 4;

/// What the metrics need read.
#[derive(Debug, Clone, Default)]
struct Need {
    total_us: bool,
    upstream: bool,
    gateway_us: bool,
    sketches: [bool; 5],
}

impl Need {
    fn of(metrics: &[Metric]) -> Need {
        let mut n = Need::default();
        for m in metrics {
            match m {
                Metric::ResponseLatencyAvg => n.total_us = true,
                Metric::UpstreamLatencyAvg => n.upstream = true,
                Metric::GatewayLatencyAvg => n.gateway_us = true,
                _ => {}
            }
            if let Some((k, _)) = percentile(*m) {
                n.sketches[k] = true;
            }
        }
        n
    }
}

/// The sketch and quantile of a percentile metric.
fn percentile(m: Metric) -> Option<(usize, f64)> {
    Some(match m {
        Metric::ResponseLatencyP50 => (SK_TOTAL, 0.50),
        Metric::ResponseLatencyP95 => (SK_TOTAL, 0.95),
        Metric::ResponseLatencyP99 => (SK_TOTAL, 0.99),
        Metric::UpstreamLatencyP50 => (SK_UPSTREAM, 0.50),
        Metric::UpstreamLatencyP95 => (SK_UPSTREAM, 0.95),
        Metric::UpstreamLatencyP99 => (SK_UPSTREAM, 0.99),
        Metric::GatewayLatencyP50 => (SK_GATEWAY, 0.50),
        Metric::GatewayLatencyP95 => (SK_GATEWAY, 0.95),
        Metric::GatewayLatencyP99 => (SK_GATEWAY, 0.99),
        Metric::RequestSizeP50 => (SK_REQUEST_SIZE, 0.50),
        Metric::RequestSizeP95 => (SK_REQUEST_SIZE, 0.95),
        Metric::RequestSizeP99 => (SK_REQUEST_SIZE, 0.99),
        Metric::ResponseSizeP50 => (SK_RESPONSE_SIZE, 0.50),
        Metric::ResponseSizeP95 => (SK_RESPONSE_SIZE, 0.95),
        Metric::ResponseSizeP99 => (SK_RESPONSE_SIZE, 0.99),
        _ => return None,
    })
}

fn col(name: &str) -> Expr {
    Expr::col(Alias::new(name))
}

/// The id column of a dimension (`None`: the status column serves it).
fn dimension_column(d: Dimension) -> Option<&'static str> {
    match d {
        Dimension::Package => Some("package_id"),
        Dimension::Version => Some("version_id"),
        Dimension::Route => Some("route_id"),
        Dimension::RuntimeGroup => Some("runtime_group_id"),
        Dimension::Consumer => Some("consumer_id"),
        Dimension::ErrorKind => Some("error_kind"),
        Dimension::StatusCode | Dimension::StatusClass => None,
    }
}

/// Adds the filters to a select.
fn add_filters(sel: &mut SelectStatement, f: &Filters) {
    for (name, ids) in [
        ("runtime_group_id", &f.runtime_groups),
        ("package_id", &f.packages),
        ("version_id", &f.versions),
        ("route_id", &f.routes),
        ("consumer_id", &f.consumers),
    ] {
        if !ids.is_empty() {
            sel.and_where(col(name).is_in(ids.iter().copied()));
        }
    }
    if !f.error_kinds.is_empty() {
        sel.and_where(col("error_kind").is_in(f.error_kinds.iter().map(|k| {
            if k == NO_ERROR_KIND {
                ""
            } else {
                k.as_str()
            }
        })));
    }
    if !f.status_classes.is_empty() {
        let mut any = Condition::any();
        for &c in &f.status_classes {
            let base = i32::from(c) * 100;
            any = any.add(
                Condition::all()
                    .add(col("status").gte(base))
                    .add(col("status").lt(base + 100)),
            );
        }
        sel.cond_where(any);
    }
    if !f.status_codes.is_empty() {
        sel.and_where(col("status").is_in(f.status_codes.iter().map(|&c| i32::from(c))));
    }
}

/// A select over `table` for rows in any of `ranges` (`[lo, hi)` of `bucket`).
fn select_rows(table: Table, ranges: &[(i64, i64)], f: &Filters) -> SelectStatement {
    let mut sel = Query::select();
    sel.from(Alias::new(table.name()));
    let mut any = Condition::any();
    for &(lo, hi) in ranges {
        any = any.add(
            Condition::all()
                .add(col("bucket").gte(lo))
                .add(col("bucket").lt(hi)),
        );
    }
    sel.cond_where(any);
    add_filters(&mut sel, f);
    sel
}

/// Sums and merged sketches of a set of rows.
#[derive(Debug, Clone, Default)]
struct Acc {
    requests: i64,
    e4: i64,
    e5: i64,
    total_us: i64,
    upstream_us: i64,
    upstream_n: i64,
    gateway_us: i64,
    sketches: [Option<Sketch>; 5],
}

impl Acc {
    fn merge(&mut self, o: &Acc) {
        self.add_sums(o);
        for (mine, theirs) in self.sketches.iter_mut().zip(&o.sketches) {
            if let Some(t) = theirs {
                match mine {
                    Some(m) => m.merge(t),
                    None => *mine = Some(t.clone()),
                }
            }
        }
    }

    /// The sums of `o` added (saturating: the stored sums come from data planes).
    fn add_sums(&mut self, o: &Acc) {
        self.requests = self.requests.saturating_add(o.requests);
        self.e4 = self.e4.saturating_add(o.e4);
        self.e5 = self.e5.saturating_add(o.e5);
        self.total_us = self.total_us.saturating_add(o.total_us);
        self.upstream_us = self.upstream_us.saturating_add(o.upstream_us);
        self.upstream_n = self.upstream_n.saturating_add(o.upstream_n);
        self.gateway_us = self.gateway_us.saturating_add(o.gateway_us);
    }

    /// The sums of `o` taken off (saturating).
    fn sub_sums(&mut self, o: &Acc) {
        self.requests = self.requests.saturating_sub(o.requests);
        self.e4 = self.e4.saturating_sub(o.e4);
        self.e5 = self.e5.saturating_sub(o.e5);
        self.total_us = self.total_us.saturating_sub(o.total_us);
        self.upstream_us = self.upstream_us.saturating_sub(o.upstream_us);
        self.upstream_n = self.upstream_n.saturating_sub(o.upstream_n);
        self.gateway_us = self.gateway_us.saturating_sub(o.gateway_us);
    }

    fn add_sketch(&mut self, k: usize, s: Sketch) {
        match &mut self.sketches[k] {
            Some(m) => m.merge(&s),
            slot @ None => *slot = Some(s),
        }
    }

    fn quantile(&self, k: usize, q: f64) -> Option<f64> {
        self.sketches[k].as_ref().and_then(|s| s.quantile(q))
    }

    fn totals(&self) -> Totals {
        let n = self.requests.max(0) as u64;
        let rate = |x: i64| (n > 0).then(|| x as f64 * 100.0 / n as f64);
        let errors = self.e4.saturating_add(self.e5);
        Totals {
            requests: n,
            errors_4xx: self.e4.max(0) as u64,
            errors_5xx: self.e5.max(0) as u64,
            error_rate: rate(errors),
            latency_avg_ms: (n > 0).then(|| self.total_us as f64 / n as f64 / 1000.0),
            latency_p99_ms: self.quantile(SK_TOTAL, 0.99).map(|v| v / 1000.0),
        }
    }

    /// The metric's value; `minutes`: the span for `requests_per_minute`.
    fn value(&self, m: Metric, minutes: f64) -> Option<f64> {
        let n = self.requests as f64;
        let some = self.requests > 0;
        match m {
            Metric::RequestCount => Some(n),
            Metric::RequestsPerMinute => Some(if minutes > 0.0 { n / minutes } else { 0.0 }),
            Metric::ErrorRate4xx => some.then(|| self.e4 as f64 * 100.0 / n),
            Metric::ErrorRate5xx => some.then(|| self.e5 as f64 * 100.0 / n),
            Metric::ResponseLatencyAvg => some.then(|| self.total_us as f64 / n / 1000.0),
            Metric::GatewayLatencyAvg => some.then(|| self.gateway_us as f64 / n / 1000.0),
            Metric::UpstreamLatencyAvg => (self.upstream_n > 0)
                .then(|| self.upstream_us as f64 / self.upstream_n as f64 / 1000.0),
            other => {
                let (k, q) = percentile(other)?;
                let v = self.quantile(k, q)?;
                Some(if k == SK_REQUEST_SIZE || k == SK_RESPONSE_SIZE {
                    v
                } else {
                    v / 1000.0
                })
            }
        }
    }
}

/// One value of a dimension in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Key {
    Id(Uuid),
    Code(u16),
    Class(u8),
    /// An error kind (empty: none).
    Kind(ShortStr),
    Other,
}

/// An error kind kept inline, so a [`Key`] stays `Copy` (longer stored text, which
/// the ingest never writes, is cut).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct ShortStr {
    bytes: [u8; MAX_ERROR_KIND_LEN],
    len: u8,
}

impl ShortStr {
    fn new(s: &str) -> ShortStr {
        let mut end = s.len().min(MAX_ERROR_KIND_LEN);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        let mut bytes = [0u8; MAX_ERROR_KIND_LEN];
        bytes[..end].copy_from_slice(&s.as_bytes()[..end]);
        ShortStr {
            bytes,
            len: end as u8,
        }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

type Combo = (Option<Key>, Option<Key>);

/// The columns of a select, in order, and how to read a row of it.
struct Reader {
    need: Need,
    dims: Vec<Dimension>,
    /// Index of the first dimension column.
    dim_at: usize,
    dim_cols: usize,
}

impl Reader {
    /// Selects `bucket, status, requests`, the dimension ids, then what `need` asks.
    fn columns(sel: &mut SelectStatement, need: &Need, dims: &[Dimension]) -> Reader {
        sel.column(Alias::new("bucket"))
            .column(Alias::new("status"))
            .column(Alias::new("requests"));
        let mut dim_cols = 0;
        for d in dims {
            if let Some(c) = dimension_column(*d) {
                sel.column(Alias::new(c));
                dim_cols += 1;
            }
        }
        if need.total_us {
            sel.column(Alias::new("total_latency_us"));
        }
        if need.upstream {
            sel.column(Alias::new("upstream_latency_us"))
                .column(Alias::new("upstream_requests"));
        }
        if need.gateway_us {
            sel.column(Alias::new("gateway_latency_us"));
        }
        for (k, &on) in need.sketches.iter().enumerate() {
            if on {
                sel.column(Alias::new(SKETCH_COLUMNS[k]));
            }
        }
        Reader {
            need: need.clone(),
            dims: dims.to_vec(),
            dim_at: 3,
            dim_cols,
        }
    }

    /// Reads one row: its bucket, its dimension keys, its sums and its sketches
    /// (still encoded: [`fold_row`] merges them without decoding each on its own).
    fn read(&self, row: &QueryResult) -> Result<(i64, Combo, Acc, Blobs), sea_orm::DbErr> {
        let bucket: i64 = row.try_get_by_index(0)?;
        let status: i32 = row.try_get_by_index(1)?;
        let requests: i64 = row.try_get_by_index(2)?;
        let mut keys = [None, None];
        let mut i = self.dim_at;
        for (slot, d) in keys.iter_mut().zip(&self.dims) {
            *slot = Some(match d {
                Dimension::StatusCode => Key::Code(status.clamp(0, 999) as u16),
                Dimension::StatusClass => Key::Class((status / 100).clamp(0, 9) as u8),
                Dimension::ErrorKind => {
                    let kind: String = row.try_get_by_index(i)?;
                    i += 1;
                    Key::Kind(ShortStr::new(&kind))
                }
                _ => {
                    let id: Uuid = row.try_get_by_index(i)?;
                    i += 1;
                    Key::Id(id)
                }
            });
        }
        let mut i = self.dim_at + self.dim_cols;
        let mut acc = Acc {
            requests,
            ..Default::default()
        };
        match status / 100 {
            4 => acc.e4 = requests,
            5 => acc.e5 = requests,
            _ => {}
        }
        if self.need.total_us {
            acc.total_us = row.try_get_by_index(i)?;
            i += 1;
        }
        if self.need.upstream {
            acc.upstream_us = row.try_get_by_index(i)?;
            acc.upstream_n = row.try_get_by_index(i + 1)?;
            i += 2;
        }
        if self.need.gateway_us {
            acc.gateway_us = row.try_get_by_index(i)?;
            i += 1;
        }
        let mut blobs: Blobs = Default::default();
        for (k, &on) in self.need.sketches.iter().enumerate() {
            if on {
                blobs[k] = Some(row.try_get_by_index(i)?);
                i += 1;
            }
        }
        Ok((bucket, (keys[0], keys[1]), acc, blobs))
    }
}

/// The encoded sketches of a row, in [`Acc::sketches`] order.
type Blobs = [Option<Vec<u8>>; 5];

/// Adds a row (its sums and its encoded sketches) to the slot.
fn fold_row(slot: &mut Acc, acc: Acc, blobs: &Blobs) {
    fold(slot, acc);
    for (k, b) in blobs.iter().enumerate() {
        if let Some(bytes) = b {
            if !slot.sketches[k]
                .get_or_insert_with(Sketch::new)
                .merge_encoded(bytes)
            {
                tracing::warn!(
                    column = SKETCH_COLUMNS[k],
                    "an analytics row holds an unreadable sketch; skipped"
                );
            }
        }
    }
}

/// Takes a row (its sums and its encoded sketches) off the slot: the inverse of
/// [`fold_row`] for a slot that holds it.
fn unfold_row(slot: &mut Acc, acc: &Acc, blobs: &Blobs) {
    slot.sub_sums(acc);
    for (k, b) in blobs.iter().enumerate() {
        if let (Some(bytes), Some(s)) = (b, slot.sketches[k].as_mut()) {
            if !s.remove_encoded(bytes) {
                tracing::warn!(
                    column = SKETCH_COLUMNS[k],
                    "an analytics row holds an unreadable sketch; skipped"
                );
            }
        }
    }
}

/// Merges `acc` into the slot; moves sketches in when the slot has none.
fn fold(slot: &mut Acc, mut acc: Acc) {
    slot.add_sums(&acc);
    for (k, s) in acc.sketches.iter_mut().enumerate() {
        if let Some(s) = s.take() {
            slot.add_sketch(k, s);
        }
    }
}

// ---------------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------------

/// The slot of combination `combo` in bucket `i`.
fn cell(cells: &mut HashMap<Combo, HashMap<usize, Acc>>, combo: Combo, i: usize) -> &mut Acc {
    cells.entry(combo).or_default().entry(i).or_default()
}

/// Reads the rows of `table` in `ranges` that pass the filters, handing each
/// (bucket, combination, sums, encoded sketches) to `f`.
async fn read_rows<C: ConnectionTrait>(
    db: &C,
    table: Table,
    ranges: &[(i64, i64)],
    filters: &Filters,
    need: &Need,
    dims: &[Dimension],
    mut f: impl FnMut(i64, Combo, Acc, &Blobs),
) -> Result<(), AppError> {
    if ranges.is_empty() {
        return Ok(());
    }
    let mut sel = select_rows(table, ranges, filters);
    let reader = Reader::columns(&mut sel, need, dims);
    let stmt = db.get_database_backend().build(&sel);
    for row in db.query_all(stmt).await.map_err(db_err)? {
        let (bucket, combo, acc, blobs) = reader.read(&row).map_err(db_err)?;
        f(bucket, combo, acc, &blobs);
    }
    Ok(())
}

/// Runs a query (already validated with [`AnalyticsQuery::validate`]) at `now`.
pub async fn run<C: ConnectionTrait>(
    db: &C,
    q: &AnalyticsQuery,
    now: DateTime<Utc>,
) -> Result<AnalyticsResult, AppError> {
    let tz = parse_zone(q.time_zone.as_deref())?;
    let (start, end) = q.range_at(now);
    let granularity = q.granularity_or_default();
    let plan = plan(granularity, tz, start, end);
    let dims: Vec<Dimension> = q.group_by.into_iter().chain(q.then_by).collect();
    let need = Need::of(&q.metrics);

    let n = plan.buckets();
    // Sparse: a combination holds only the buckets it has rows in.
    let mut cells: HashMap<Combo, HashMap<usize, Acc>> = HashMap::new();
    if plan.table == Table::Hour && granularity == Granularity::Day {
        let split = LocalDays::of(&plan);
        if let Some((d0, d1)) = split.days {
            read_rows(
                db,
                Table::Day,
                &[(d0, d1)],
                &q.filters,
                &need,
                &dims,
                |b, combo, acc, blobs| {
                    let day = usize::try_from((b - d0).div_euclid(SECS_DAY)).ok();
                    if let Some(i) = day.and_then(|k| split.credit.get(k).copied().flatten()) {
                        fold_row(cell(&mut cells, combo, i), acc, blobs);
                    }
                },
            )
            .await?;
        }
        read_rows(
            db,
            Table::Hour,
            &split.hours,
            &q.filters,
            &need,
            &dims,
            |b, combo, acc, blobs| {
                let own = plan.bucket_of(b);
                let lender = split.lender(b);
                match lender {
                    // Read with its day's row and credited there already.
                    Some(day) if day == own => {}
                    Some(day) => {
                        if let Some(d) = day {
                            unfold_row(cell(&mut cells, combo, d), &acc, blobs);
                        }
                        if let Some(i) = own {
                            fold_row(cell(&mut cells, combo, i), acc, blobs);
                        }
                    }
                    None => {
                        if let Some(i) = own {
                            fold_row(cell(&mut cells, combo, i), acc, blobs);
                        }
                    }
                }
            },
        )
        .await?;
        // A combination whose requests all moved to a neighbouring day.
        for slots in cells.values_mut() {
            slots.retain(|_, a| a.requests > 0);
        }
        cells.retain(|_, slots| !slots.is_empty());
    } else {
        read_rows(
            db,
            plan.table,
            &[(plan.lo, plan.hi)],
            &q.filters,
            &need,
            &dims,
            |b, combo, acc, blobs| {
                if let Some(i) = plan.bucket_of(b) {
                    fold_row(cell(&mut cells, combo, i), acc, blobs);
                }
            },
        )
        .await?;
    }
    if dims.is_empty() && cells.is_empty() {
        cells.insert((None, None), HashMap::new());
    }

    // Order the combinations by requests; fold the tail into "Other".
    let mut combos: Vec<(Combo, HashMap<usize, Acc>, Acc)> = cells
        .into_iter()
        .map(|(k, slots)| {
            let mut total = Acc::default();
            for a in slots.values() {
                total.merge(a);
            }
            (k, slots, total)
        })
        .collect();
    combos.sort_by(|a, b| b.2.requests.cmp(&a.2.requests).then(a.0.cmp(&b.0)));
    if combos.len() > MAX_GROUPS {
        let tail = combos.split_off(MAX_GROUPS);
        let other_key = (
            q.group_by.map(|_| Key::Other),
            q.then_by.map(|_| Key::Other),
        );
        let mut slots: HashMap<usize, Acc> = HashMap::new();
        let mut total = Acc::default();
        for (_, s, t) in tail {
            for (i, a) in s {
                fold(slots.entry(i).or_default(), a);
            }
            fold(&mut total, t);
        }
        combos.push((other_key, slots, total));
    }

    let labels = Labels::load(db, &combos.iter().map(|c| c.0).collect::<Vec<_>>(), &dims).await?;
    let minutes: Vec<f64> = plan
        .edges
        .windows(2)
        .map(|w| (w[1] - w[0]) as f64 / 60.0)
        .collect();
    let range_minutes = (plan.hi - plan.lo).max(1) as f64 / 60.0;
    let empty = Acc::default();
    let mut series = Vec::with_capacity(q.metrics.len() * combos.len());
    for &m in &q.metrics {
        for (combo, slots, total) in &combos {
            let values = minutes
                .iter()
                .enumerate()
                .map(|(i, &min)| slots.get(&i).unwrap_or(&empty).value(m, min))
                .collect();
            series.push(Series {
                metric: m,
                group: combo
                    .0
                    .map(|k| labels.value(q.group_by.unwrap_or(Dimension::Package), k)),
                then: combo
                    .1
                    .map(|k| labels.value(q.then_by.unwrap_or(Dimension::Package), k)),
                values,
                total: total.value(m, range_minutes),
            });
        }
    }
    Ok(AnalyticsResult {
        start,
        end,
        granularity,
        time_zone: tz.name().to_string(),
        buckets: plan.edges[..n].iter().map(|&e| at(e)).collect(),
        series,
    })
}

/// Names of the ids in an answer.
#[derive(Default)]
struct Labels {
    names: HashMap<(Dimension, Uuid), String>,
}

/// Label of the nil id: requests no route matched.
pub const NO_ROUTE: &str = "(no route)";
/// Label of an id that no longer exists.
pub const DELETED: &str = "(deleted)";
/// Label of the nil consumer: no plugin identified one.
pub const ANONYMOUS: &str = "(anonymous)";
/// Label of the requests without an error kind: the upstream answered.
pub const NO_ERROR: &str = "(none)";

/// The names of consumers, for their labels in an answer: `username`, else
/// `custom_id`, else the id (ids not found: shown as deleted).
async fn consumer_names<C: ConnectionTrait>(
    db: &C,
    ids: Vec<Uuid>,
) -> Result<Vec<(Uuid, String)>, AppError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows = crate::store::consumer::Entity::find()
            .filter(crate::store::consumer::Column::Id.is_in(chunk.to_vec()))
            .all(db)
            .await
            .map_err(db_err)?;
        out.extend(rows.into_iter().map(|c| {
            let name = c
                .username
                .filter(|u| !u.is_empty())
                .or(c.custom_id.filter(|u| !u.is_empty()))
                .unwrap_or_else(|| c.id.to_string());
            (c.id, name)
        }));
    }
    Ok(out)
}

impl Labels {
    async fn load<C: ConnectionTrait>(
        db: &C,
        combos: &[Combo],
        dims: &[Dimension],
    ) -> Result<Labels, AppError> {
        let mut out = Labels::default();
        for (pos, &d) in dims.iter().enumerate() {
            let ids: Vec<Uuid> = combos
                .iter()
                .filter_map(|c| match if pos == 0 { c.0 } else { c.1 } {
                    Some(Key::Id(id)) if !id.is_nil() => Some(id),
                    _ => None,
                })
                .collect();
            if ids.is_empty() {
                continue;
            }
            let names: Vec<(Uuid, String)> = match d {
                Dimension::Package => service_package::Entity::find()
                    .filter(service_package::Column::Id.is_in(ids))
                    .all(db)
                    .await
                    .map_err(db_err)?
                    .into_iter()
                    .map(|p| (p.id, p.display_name))
                    .collect(),
                Dimension::Version => service_version::Entity::find()
                    .filter(service_version::Column::Id.is_in(ids))
                    .all(db)
                    .await
                    .map_err(db_err)?
                    .into_iter()
                    .map(|v| (v.id, v.name))
                    .collect(),
                Dimension::Route => route::Entity::find()
                    .filter(route::Column::Id.is_in(ids))
                    .all(db)
                    .await
                    .map_err(db_err)?
                    .into_iter()
                    .map(|r| {
                        let label = r.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| {
                            first_path(&r.config).unwrap_or_else(|| r.id.to_string())
                        });
                        (r.id, label)
                    })
                    .collect(),
                Dimension::RuntimeGroup => runtime_group::Entity::find()
                    .filter(runtime_group::Column::Id.is_in(ids))
                    .all(db)
                    .await
                    .map_err(db_err)?
                    .into_iter()
                    .map(|g| (g.id, g.name))
                    .collect(),
                Dimension::Consumer => consumer_names(db, ids).await?,
                Dimension::StatusCode | Dimension::StatusClass | Dimension::ErrorKind => Vec::new(),
            };
            for (id, name) in names {
                out.names.insert((d, id), name);
            }
        }
        Ok(out)
    }

    fn value(&self, d: Dimension, k: Key) -> DimensionValue {
        match k {
            Key::Code(c) => DimensionValue {
                id: c.to_string(),
                label: c.to_string(),
            },
            Key::Class(c) => DimensionValue {
                id: format!("{c}xx"),
                label: format!("{c}xx"),
            },
            Key::Other => DimensionValue {
                id: "other".into(),
                label: "Other".into(),
            },
            Key::Kind(k) if k.as_str().is_empty() => DimensionValue {
                id: NO_ERROR_KIND.into(),
                label: NO_ERROR.into(),
            },
            Key::Kind(k) => DimensionValue {
                id: k.as_str().to_string(),
                label: k.as_str().to_string(),
            },
            Key::Id(id) => DimensionValue {
                id: id.to_string(),
                label: if id.is_nil() && d == Dimension::Consumer {
                    ANONYMOUS.to_string()
                } else if id.is_nil() {
                    NO_ROUTE.to_string()
                } else {
                    self.names
                        .get(&(d, id))
                        .cloned()
                        .unwrap_or_else(|| DELETED.to_string())
                },
            },
        }
    }
}

/// The first path of a route's stored config (`{"paths": ["/orders", …], …}`).
fn first_path(config: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(config).ok()?;
    v.get("paths")?
        .as_array()?
        .iter()
        .find_map(|p| p.as_str().map(str::to_string))
}

/// The rows with `lo <= bucket < hi` as [`day_plan`] reads them (day rows first, then
/// hour rows), each handed to `f` with its combination and whether it is taken off
/// (`true`) rather than added.
async fn read_day_plan<C: ConnectionTrait>(
    db: &C,
    filters: &Filters,
    need: &Need,
    dims: &[Dimension],
    lo: i64,
    hi: i64,
    mut f: impl FnMut(Combo, Acc, &Blobs, bool),
) -> Result<(), AppError> {
    let (day_ranges, plus, minus) = day_plan(lo, hi);
    // Day rows first: the hours taken off are inside them.
    read_rows(
        db,
        Table::Day,
        &day_ranges,
        filters,
        need,
        dims,
        |_, c, a, blobs| f(c, a, blobs, false),
    )
    .await?;
    let mut hours = plus;
    hours.extend(minus.iter().copied());
    read_rows(
        db,
        Table::Hour,
        &hours,
        filters,
        need,
        dims,
        |b, c, a, blobs| f(c, a, blobs, minus.iter().any(|&(l, h)| b >= l && b < h)),
    )
    .await
}

/// Adds a row to the slot, or takes it off.
fn apply_row(slot: &mut Acc, acc: Acc, blobs: &Blobs, off: bool) {
    if off {
        unfold_row(slot, &acc, blobs);
    } else {
        fold_row(slot, acc, blobs);
    }
}

/// What the tiles and the Service Hub cards read: request count, latency sum and the
/// total-latency sketch.
fn totals_need() -> Need {
    Need {
        total_us: true,
        sketches: [true, false, false, false, false],
        ..Default::default()
    }
}

/// The totals of the rows with `lo <= bucket < hi`: `fine` rows only, or (with
/// `days`) day rows and hour rows as [`day_plan`] says.
async fn range_totals<C: ConnectionTrait>(
    db: &C,
    filters: &Filters,
    lo: i64,
    hi: i64,
    fine: Table,
    days: bool,
) -> Result<Acc, AppError> {
    let need = totals_need();
    let mut acc = Acc::default();
    if days {
        read_day_plan(db, filters, &need, &[], lo, hi, |_, a, blobs, off| {
            apply_row(&mut acc, a, blobs, off)
        })
        .await?;
    } else {
        read_rows(
            db,
            fine,
            &[(lo, hi)],
            filters,
            &need,
            &[],
            |_, _, a, blobs| fold_row(&mut acc, a, blobs),
        )
        .await?;
    }
    Ok(acc)
}

/// The tiles: the frame ending `now` and the period of the same length before it.
///
/// Frames up to 6 hours read minute rows and start at the minute holding
/// `now - frame`; 12 and 24 hours read hour rows and start at the hour; 7 and 30 days
/// read day rows for the whole UTC days inside and, for the partial days at both ends,
/// hour rows or the day row minus the hours outside (see [`day_plan`]). The previous
/// period ends where the current one starts.
pub async fn summary<C: ConnectionTrait>(
    db: &C,
    filters: &Filters,
    frame: TimeFrame,
    now: DateTime<Utc>,
) -> Result<Summary, AppError> {
    let (fine, days) = match frame {
        TimeFrame::M15 | TimeFrame::H1 | TimeFrame::H6 => (Table::Minute, false),
        TimeFrame::H12 | TimeFrame::H24 => (Table::Hour, false),
        TimeFrame::D7 | TimeFrame::D30 => (Table::Hour, true),
    };
    let f = frame.seconds();
    let now_s = now.timestamp();
    let cur_lo = floor_to(now_s - f, fine.seconds());
    let prev_lo = floor_to(now_s - 2 * f, fine.seconds());
    let previous = range_totals(db, filters, prev_lo, cur_lo, fine, days).await?;
    let current = range_totals(db, filters, cur_lo, now_s + 1, fine, days).await?;
    Ok(Summary {
        start: now - Duration::seconds(f),
        end: now,
        current: current.totals(),
        previous: previous.totals(),
    })
}

/// Totals of the last 7 days (from the hour holding `now - 7 days`) per package;
/// packages without traffic are absent. Read as [`day_plan`] says: whole UTC days and
/// the larger partial day from day rows, the rest from hour rows.
pub async fn package_totals<C: ConnectionTrait>(
    db: &C,
    packages: &[Uuid],
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, Totals)>, AppError> {
    if packages.is_empty() {
        return Ok(Vec::new());
    }
    let lo = floor_to(now.timestamp() - 7 * SECS_DAY, SECS_HOUR);
    let filters = Filters {
        packages: packages.to_vec(),
        ..Default::default()
    };
    let mut per: HashMap<Uuid, Acc> = HashMap::new();
    read_day_plan(
        db,
        &filters,
        &totals_need(),
        &[Dimension::Package],
        lo,
        now.timestamp() + 1,
        |combo, a, blobs, off| {
            if let (Some(Key::Id(id)), _) = combo {
                apply_row(per.entry(id).or_default(), a, blobs, off);
            }
        },
    )
    .await?;
    Ok(packages
        .iter()
        .filter_map(|id| {
            per.get(id)
                .filter(|a| a.requests > 0)
                .map(|a| (*id, a.totals()))
        })
        .collect())
}
