//! Which rows a query reads and how they fall into buckets: bucket edges in IANA zones
//! (23/25-hour days, zones at :30 and :45), local days read as day rows plus and minus
//! the hours they borrow and lend, and the day plans of the summary tiles. The rules are
//! described in [`super::query`]'s documentation.

use app::error::AppError;
use app::model::analytics::Granularity;
use chrono::{DateTime, Duration, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// Longest range for which zones with non-whole-hour offsets read minute rows for
/// hour buckets.
pub const HALF_HOUR_ZONE_MINUTE_RANGE: i64 = 2 * 86400;

pub(super) const SECS_MIN: i64 = 60;
pub(super) const SECS_HOUR: i64 = 3600;
pub(super) const SECS_DAY: i64 = 86400;

/// The aggregate tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    Minute,
    Hour,
    Day,
}

impl Table {
    pub fn name(self) -> &'static str {
        match self {
            Table::Minute => "analytics_minute",
            Table::Hour => "analytics_hour",
            Table::Day => "analytics_day",
        }
    }
    pub fn seconds(self) -> i64 {
        match self {
            Table::Minute => SECS_MIN,
            Table::Hour => SECS_HOUR,
            Table::Day => SECS_DAY,
        }
    }
}

/// The zone named by a query (`None`: UTC); a 422 on `time_zone` when unknown.
pub fn parse_zone(name: Option<&str>) -> Result<Tz, AppError> {
    let name = name.map(str::trim).unwrap_or("UTC");
    name.parse::<Tz>().map_err(|_| {
        AppError::validation(
            "time_zone",
            format!("\"{name}\" is not a known IANA time zone (such as Europe/Berlin or UTC)."),
        )
    })
}

pub(super) fn floor_to(t: i64, step: i64) -> i64 {
    t.div_euclid(step) * step
}

/// Unix seconds of `t`, rounded up.
pub(super) fn ceil_secs(t: DateTime<Utc>) -> i64 {
    t.timestamp() + i64::from(t.timestamp_subsec_nanos() > 0)
}

pub(super) fn at(t: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(t, 0).unwrap_or_default()
}

/// The zone's offset from UTC at `t`, in seconds.
pub(super) fn offset_at(tz: Tz, t: i64) -> i64 {
    i64::from(
        tz.offset_from_utc_datetime(&at(t).naive_utc())
            .fix()
            .local_minus_utc(),
    )
}

/// The offsets the zone has over `[start, end]` (sampled at both ends and every
/// 6 hours between: offsets change at most a few times a year).
pub(super) fn offsets_over(tz: Tz, start: i64, end: i64) -> Vec<i64> {
    let mut out = Vec::new();
    let mut t = start;
    loop {
        let o = offset_at(tz, t);
        if !out.contains(&o) {
            out.push(o);
        }
        if t >= end {
            break;
        }
        t = (t + 6 * SECS_HOUR).min(end);
    }
    out
}

/// Which rows a query reads and how they fall into buckets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub table: Table,
    /// Bucket edges in Unix seconds: bucket `i` is `[edges[i], edges[i + 1])`.
    pub edges: Vec<i64>,
    /// Rows with `lo <= bucket < hi` count.
    pub lo: i64,
    pub hi: i64,
}

impl Plan {
    pub fn buckets(&self) -> usize {
        self.edges.len().saturating_sub(1)
    }
    /// The bucket of a row (`None` outside the edges).
    pub(super) fn bucket_of(&self, b: i64) -> Option<usize> {
        let i = self.edges.partition_point(|&e| e <= b);
        (i >= 1 && i < self.edges.len()).then(|| i - 1)
    }
}

/// Edges every `step` seconds from the step holding `start` until one reaches `end`.
pub(super) fn regular_edges(start: i64, end: i64, step: i64) -> Vec<i64> {
    let mut edges = vec![floor_to(start, step)];
    while let Some(&last) = edges.last() {
        if last >= end {
            break;
        }
        edges.push(last + step);
    }
    edges
}

/// Whether `t` starts a local hour.
pub(super) fn local_hour_start(tz: Tz, t: i64) -> bool {
    (t + offset_at(tz, t)).rem_euclid(SECS_HOUR) == 0
}

/// Edges at local hour starts (minute resolution), for zones whose local hours do
/// not start at whole UTC hours.
pub(super) fn local_hour_edges(tz: Tz, start: i64, end: i64) -> Vec<i64> {
    let mut first = floor_to(start, SECS_MIN);
    for _ in 0..180 {
        if local_hour_start(tz, first) {
            break;
        }
        first -= SECS_MIN;
    }
    let mut edges = vec![first];
    let mut t = first;
    loop {
        t += SECS_MIN;
        if local_hour_start(tz, t) || t - edges[edges.len() - 1] >= 2 * SECS_HOUR {
            edges.push(t);
            if t >= end {
                return edges;
            }
        }
    }
}

/// The instant local day `d` starts (the first valid local time on or after
/// midnight, for the zones that skip midnight on a daylight-saving day).
pub(super) fn local_midnight(tz: Tz, d: chrono::NaiveDate) -> i64 {
    for h in 0..4 {
        let local = d.and_time(NaiveTime::MIN) + Duration::hours(h);
        if let Some(t) = tz.from_local_datetime(&local).earliest() {
            return t.timestamp();
        }
    }
    // Unreachable for real zones; fall back to UTC midnight.
    d.and_time(NaiveTime::MIN).and_utc().timestamp()
}

/// Edges at local midnights, floored to whole UTC hours (so hour rows tile them).
pub(super) fn local_day_edges(tz: Tz, start: i64, end: i64) -> Vec<i64> {
    let mut d = at(start).with_timezone(&tz).date_naive();
    let mut edges: Vec<i64> = Vec::new();
    loop {
        let e = floor_to(local_midnight(tz, d), SECS_HOUR);
        if edges.last().is_none_or(|&l| e > l) {
            edges.push(e);
        }
        if e >= end {
            break;
        }
        match d.succ_opt() {
            Some(n) => d = n,
            None => break,
        }
    }
    edges
}

/// The bucket edges and the table of a query over `[start, end)`.
pub fn plan(granularity: Granularity, tz: Tz, start: DateTime<Utc>, end: DateTime<Utc>) -> Plan {
    let s = start.timestamp();
    let e = ceil_secs(end).max(s + 1);
    let offsets = offsets_over(tz, s, e);
    let whole_hours = offsets.iter().all(|o| o % SECS_HOUR == 0);
    let (table, mut edges) = match granularity {
        Granularity::Minute => (Table::Minute, regular_edges(s, e, SECS_MIN)),
        Granularity::Hour if whole_hours => (Table::Hour, regular_edges(s, e, SECS_HOUR)),
        Granularity::Hour if e - s <= HALF_HOUR_ZONE_MINUTE_RANGE => {
            (Table::Minute, local_hour_edges(tz, s, e))
        }
        Granularity::Hour => (Table::Hour, regular_edges(s, e, SECS_HOUR)),
        Granularity::Day if offsets.iter().all(|&o| o == 0) => {
            (Table::Day, regular_edges(s, e, SECS_DAY))
        }
        Granularity::Day => (Table::Hour, local_day_edges(tz, s, e)),
    };
    // The first bucket is the one that holds `start`.
    while edges.len() > 2 && edges[1] <= s {
        edges.remove(0);
    }
    let lo = floor_to(s, table.seconds()).max(edges[0]);
    Plan {
        table,
        edges,
        lo,
        hi: e,
    }
}

/// How local days (a plan over hour rows in a zone other than UTC) read far fewer
/// rows than 24 hour rows a day: each whole UTC day inside the range is read as its
/// day rows and credited to the local day holding most of its hours; the hours of
/// that UTC day that belong to another local day are read as hour rows, credited to
/// theirs and taken off the day's (sums and sketch bucket counts subtract exactly, and
/// the ingest writes hour and day rows in one transaction, so they agree). In Berlin
/// that is 1 or 2 hour rows a day instead of 24. Hours of the range outside whole UTC
/// days are read as hour rows. (Past the hour rows' retention the borrowed hours are
/// gone: such days are then UTC days credited to the nearest local day.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LocalDays {
    /// The whole UTC days `[d0, d1)` read from day rows.
    pub(super) days: Option<(i64, i64)>,
    /// The local day (bucket) each of those UTC days is credited to.
    pub(super) credit: Vec<Option<usize>>,
    /// The hour rows to read: the range outside whole days, and the lent hours.
    pub(super) hours: Vec<(i64, i64)>,
}

impl LocalDays {
    pub(super) fn of(plan: &Plan) -> LocalDays {
        let mut hours: Vec<(i64, i64)> = Vec::new();
        let mut push = |lo: i64, hi: i64| {
            if lo >= hi {
                return;
            }
            match hours.last_mut() {
                Some(last) if last.1 == lo => last.1 = hi,
                _ => hours.push((lo, hi)),
            }
        };
        let d0 = floor_to(plan.lo + SECS_DAY - 1, SECS_DAY);
        let d1 = floor_to(plan.hi, SECS_DAY);
        if d0 >= d1 {
            push(plan.lo, plan.hi);
            return LocalDays {
                days: None,
                credit: Vec::new(),
                hours,
            };
        }
        push(plan.lo, d0);
        let mut credit = Vec::new();
        let mut d = d0;
        while d < d1 {
            let own: Vec<Option<usize>> =
                (0..24).map(|h| plan.bucket_of(d + h * SECS_HOUR)).collect();
            let mut best: Option<usize> = None;
            let mut best_n = 0;
            for b in own.iter().flatten() {
                let n = own.iter().filter(|o| **o == Some(*b)).count();
                if n > best_n {
                    (best, best_n) = (Some(*b), n);
                }
            }
            credit.push(best);
            for (h, o) in (0i64..).zip(&own) {
                if *o != best {
                    push(d + h * SECS_HOUR, d + (h + 1) * SECS_HOUR);
                }
            }
            d += SECS_DAY;
        }
        push(d1, plan.hi);
        LocalDays {
            days: Some((d0, d1)),
            credit,
            hours,
        }
    }

    /// For an hour inside the whole days: `Some(the local day its UTC day is credited
    /// to)`; `None` for an hour outside them.
    pub(super) fn lender(&self, hour: i64) -> Option<Option<usize>> {
        let (d0, d1) = self.days?;
        if hour < d0 || hour >= d1 {
            return None;
        }
        let k = usize::try_from((hour - d0).div_euclid(SECS_DAY)).ok()?;
        self.credit.get(k).copied()
    }
}

/// Appends `[lo, hi)` to `v`, joining it to the last range when they touch.
pub(super) fn push_range(v: &mut Vec<(i64, i64)>, lo: i64, hi: i64) {
    if lo >= hi {
        return;
    }
    match v.last_mut() {
        Some(last) if last.1 == lo => last.1 = hi,
        _ => v.push((lo, hi)),
    }
}

/// Which rows sum to `[lo, hi)` (`lo` on a whole hour) with day rows: `(day ranges to
/// add, hour ranges to add, hour ranges to take off)`. Whole UTC days are day rows; a
/// partial day at either end is its hour rows when it holds at most 12 hours, otherwise
/// its day row minus the hours outside the range (sketch bucket counts subtract
/// exactly). Today's partial day is thus mostly one day row instead of up to 23 hours.
pub(super) type DayPlan = (Vec<(i64, i64)>, Vec<(i64, i64)>, Vec<(i64, i64)>);

pub(super) fn day_plan(lo: i64, hi: i64) -> DayPlan {
    let (mut days, mut plus, mut minus) = (Vec::new(), Vec::new(), Vec::new());
    if lo >= hi {
        return (days, plus, minus);
    }
    let first = floor_to(lo, SECS_DAY);
    let last = floor_to(hi - 1, SECS_DAY);
    let half = 12 * SECS_HOUR;
    if first == last {
        push_range(&mut plus, lo, hi);
        return (days, plus, minus);
    }
    if first + SECS_DAY - lo <= half {
        push_range(&mut plus, lo, first + SECS_DAY);
    } else {
        push_range(&mut days, first, first + SECS_DAY);
        push_range(&mut minus, first, lo);
    }
    push_range(&mut days, first + SECS_DAY, last);
    if hi - last <= half {
        push_range(&mut plus, last, hi);
    } else {
        push_range(&mut days, last, last + SECS_DAY);
        push_range(&mut minus, hi, last + SECS_DAY);
    }
    (days, plus, minus)
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
