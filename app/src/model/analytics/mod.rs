//! Analytics: the report definition (what the explorer, the dashboards and
//! `POST /api/v1/analytics/query` ask), its answer (time buckets and series), summary
//! tiles, saved reports and the CSV form of an answer. Pure types and rules, shared by
//! the browser and the server.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::validate::FieldError;

mod report;
pub use report::*;

/// A relative time frame ending now, with its default bucket width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum TimeFrame {
    #[serde(rename = "15m")]
    M15,
    #[serde(rename = "1h")]
    H1,
    #[serde(rename = "6h")]
    H6,
    #[serde(rename = "12h")]
    H12,
    #[default]
    #[serde(rename = "24h")]
    H24,
    #[serde(rename = "7d")]
    D7,
    #[serde(rename = "30d")]
    D30,
}

impl TimeFrame {
    pub const ALL: [TimeFrame; 7] = [
        TimeFrame::M15,
        TimeFrame::H1,
        TimeFrame::H6,
        TimeFrame::H12,
        TimeFrame::H24,
        TimeFrame::D7,
        TimeFrame::D30,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            TimeFrame::M15 => "15m",
            TimeFrame::H1 => "1h",
            TimeFrame::H6 => "6h",
            TimeFrame::H12 => "12h",
            TimeFrame::H24 => "24h",
            TimeFrame::D7 => "7d",
            TimeFrame::D30 => "30d",
        }
    }
    pub fn parse(s: &str) -> Option<TimeFrame> {
        TimeFrame::ALL.into_iter().find(|f| f.as_str() == s)
    }
    /// "Last 24 hours".
    pub fn label(self) -> &'static str {
        match self {
            TimeFrame::M15 => "Last 15 minutes",
            TimeFrame::H1 => "Last hour",
            TimeFrame::H6 => "Last 6 hours",
            TimeFrame::H12 => "Last 12 hours",
            TimeFrame::H24 => "Last 24 hours",
            TimeFrame::D7 => "Last 7 days",
            TimeFrame::D30 => "Last 30 days",
        }
    }
    pub fn seconds(self) -> i64 {
        match self {
            TimeFrame::M15 => 15 * 60,
            TimeFrame::H1 => 3600,
            TimeFrame::H6 => 6 * 3600,
            TimeFrame::H12 => 12 * 3600,
            TimeFrame::H24 => 24 * 3600,
            TimeFrame::D7 => 7 * 86400,
            TimeFrame::D30 => 30 * 86400,
        }
    }
    /// The pairs: 15m/1m, 1h/1m, 6h/1m, 12h/1h, 24h/1h, 7d/1h, 30d/1d.
    pub fn granularity(self) -> Granularity {
        match self {
            TimeFrame::M15 | TimeFrame::H1 | TimeFrame::H6 => Granularity::Minute,
            TimeFrame::H12 | TimeFrame::H24 | TimeFrame::D7 => Granularity::Hour,
            TimeFrame::D30 => Granularity::Day,
        }
    }
}

/// Bucket width. Buckets start at whole minutes / hours / days of the query's time
/// zone (days are 23 or 25 hours long on daylight-saving days).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Granularity {
    #[serde(rename = "1m")]
    Minute,
    #[serde(rename = "1h")]
    Hour,
    #[serde(rename = "1d")]
    Day,
}

impl Granularity {
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Minute => "1m",
            Granularity::Hour => "1h",
            Granularity::Day => "1d",
        }
    }
    /// Nominal length in seconds (a day is 86,400 here; see the zone for real days).
    pub fn seconds(self) -> i64 {
        match self {
            Granularity::Minute => 60,
            Granularity::Hour => 3600,
            Granularity::Day => 86400,
        }
    }
    /// The finest bucket that keeps a range of `seconds` at or under ~500 points.
    pub fn for_range(seconds: i64) -> Granularity {
        if seconds <= 500 * 60 {
            Granularity::Minute
        } else if seconds <= 500 * 3600 {
            Granularity::Hour
        } else {
            Granularity::Day
        }
    }
}

/// What can be measured. Latencies are in milliseconds, sizes in bytes, error rates in
/// percent of requests, `requests_per_minute` is the bucket's count over its minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    RequestCount,
    RequestsPerMinute,
    #[serde(rename = "error_rate_4xx", alias = "error_rate4xx")]
    ErrorRate4xx,
    #[serde(rename = "error_rate_5xx", alias = "error_rate5xx")]
    ErrorRate5xx,
    ResponseLatencyAvg,
    ResponseLatencyP50,
    ResponseLatencyP95,
    ResponseLatencyP99,
    UpstreamLatencyAvg,
    UpstreamLatencyP50,
    UpstreamLatencyP95,
    UpstreamLatencyP99,
    GatewayLatencyAvg,
    GatewayLatencyP50,
    GatewayLatencyP95,
    GatewayLatencyP99,
    RequestSizeP50,
    RequestSizeP95,
    RequestSizeP99,
    ResponseSizeP50,
    ResponseSizeP95,
    ResponseSizeP99,
}

impl Metric {
    pub const ALL: [Metric; 22] = [
        Metric::RequestCount,
        Metric::RequestsPerMinute,
        Metric::ErrorRate4xx,
        Metric::ErrorRate5xx,
        Metric::ResponseLatencyAvg,
        Metric::ResponseLatencyP50,
        Metric::ResponseLatencyP95,
        Metric::ResponseLatencyP99,
        Metric::UpstreamLatencyAvg,
        Metric::UpstreamLatencyP50,
        Metric::UpstreamLatencyP95,
        Metric::UpstreamLatencyP99,
        Metric::GatewayLatencyAvg,
        Metric::GatewayLatencyP50,
        Metric::GatewayLatencyP95,
        Metric::GatewayLatencyP99,
        Metric::RequestSizeP50,
        Metric::RequestSizeP95,
        Metric::RequestSizeP99,
        Metric::ResponseSizeP50,
        Metric::ResponseSizeP95,
        Metric::ResponseSizeP99,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::RequestCount => "request_count",
            Metric::RequestsPerMinute => "requests_per_minute",
            Metric::ErrorRate4xx => "error_rate_4xx",
            Metric::ErrorRate5xx => "error_rate_5xx",
            Metric::ResponseLatencyAvg => "response_latency_avg",
            Metric::ResponseLatencyP50 => "response_latency_p50",
            Metric::ResponseLatencyP95 => "response_latency_p95",
            Metric::ResponseLatencyP99 => "response_latency_p99",
            Metric::UpstreamLatencyAvg => "upstream_latency_avg",
            Metric::UpstreamLatencyP50 => "upstream_latency_p50",
            Metric::UpstreamLatencyP95 => "upstream_latency_p95",
            Metric::UpstreamLatencyP99 => "upstream_latency_p99",
            Metric::GatewayLatencyAvg => "gateway_latency_avg",
            Metric::GatewayLatencyP50 => "gateway_latency_p50",
            Metric::GatewayLatencyP95 => "gateway_latency_p95",
            Metric::GatewayLatencyP99 => "gateway_latency_p99",
            Metric::RequestSizeP50 => "request_size_p50",
            Metric::RequestSizeP95 => "request_size_p95",
            Metric::RequestSizeP99 => "request_size_p99",
            Metric::ResponseSizeP50 => "response_size_p50",
            Metric::ResponseSizeP95 => "response_size_p95",
            Metric::ResponseSizeP99 => "response_size_p99",
        }
    }
    pub fn parse(s: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.as_str() == s)
    }
    /// "Response latency p99".
    pub fn label(self) -> &'static str {
        match self {
            Metric::RequestCount => "Requests",
            Metric::RequestsPerMinute => "Requests per minute",
            Metric::ErrorRate4xx => "4xx error rate",
            Metric::ErrorRate5xx => "5xx error rate",
            Metric::ResponseLatencyAvg => "Response latency avg",
            Metric::ResponseLatencyP50 => "Response latency p50",
            Metric::ResponseLatencyP95 => "Response latency p95",
            Metric::ResponseLatencyP99 => "Response latency p99",
            Metric::UpstreamLatencyAvg => "Upstream latency avg",
            Metric::UpstreamLatencyP50 => "Upstream latency p50",
            Metric::UpstreamLatencyP95 => "Upstream latency p95",
            Metric::UpstreamLatencyP99 => "Upstream latency p99",
            Metric::GatewayLatencyAvg => "Gateway latency avg",
            Metric::GatewayLatencyP50 => "Gateway latency p50",
            Metric::GatewayLatencyP95 => "Gateway latency p95",
            Metric::GatewayLatencyP99 => "Gateway latency p99",
            Metric::RequestSizeP50 => "Request size p50",
            Metric::RequestSizeP95 => "Request size p95",
            Metric::RequestSizeP99 => "Request size p99",
            Metric::ResponseSizeP50 => "Response size p50",
            Metric::ResponseSizeP95 => "Response size p95",
            Metric::ResponseSizeP99 => "Response size p99",
        }
    }
    /// "ms", "%", "bytes", "requests", "requests/min".
    pub fn unit(self) -> &'static str {
        match self {
            Metric::RequestCount => "requests",
            Metric::RequestsPerMinute => "requests/min",
            Metric::ErrorRate4xx | Metric::ErrorRate5xx => "%",
            Metric::RequestSizeP50
            | Metric::RequestSizeP95
            | Metric::RequestSizeP99
            | Metric::ResponseSizeP50
            | Metric::ResponseSizeP95
            | Metric::ResponseSizeP99 => "bytes",
            _ => "ms",
        }
    }
}

/// What series can be split by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Package,
    Version,
    Route,
    StatusCode,
    StatusClass,
    RuntimeGroup,
    /// The consumer a plugin identified (key-auth); nil: anonymous.
    Consumer,
    /// Why Portico answered itself (`no_route`, `rate_limited` …); [`NO_ERROR_KIND`]:
    /// the upstream answered.
    ErrorKind,
}

impl Dimension {
    pub const ALL: [Dimension; 8] = [
        Dimension::Package,
        Dimension::Version,
        Dimension::Route,
        Dimension::StatusCode,
        Dimension::StatusClass,
        Dimension::RuntimeGroup,
        Dimension::Consumer,
        Dimension::ErrorKind,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Package => "package",
            Dimension::Version => "version",
            Dimension::Route => "route",
            Dimension::StatusCode => "status_code",
            Dimension::StatusClass => "status_class",
            Dimension::RuntimeGroup => "runtime_group",
            Dimension::Consumer => "consumer",
            Dimension::ErrorKind => "error_kind",
        }
    }
    pub fn parse(s: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            Dimension::Package => "Service package",
            Dimension::Version => "Version",
            Dimension::Route => "Route",
            Dimension::StatusCode => "Status code",
            Dimension::StatusClass => "Status class",
            Dimension::RuntimeGroup => "Runtime group",
            Dimension::Consumer => "Consumer",
            Dimension::ErrorKind => "Error kind",
        }
    }
}

/// The error kind value (dimension id and filter) of the requests the upstream
/// answered: no error kind.
pub const NO_ERROR_KIND: &str = "none";
/// Longest error kind a data plane may report or a filter may name.
pub const MAX_ERROR_KIND_LEN: usize = 32;

/// Whether `s` has the form of an error kind (the gateway's `ErrorKind::as_str`:
/// `no_route`, `upstream_timeout`, `rate_limited` …): a lower-case ASCII letter, then
/// lower-case letters, digits or `_`, at most [`MAX_ERROR_KIND_LEN`] characters. A
/// form rather than a list, so kinds a newer data plane knows need no change here.
pub fn is_error_kind(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_ERROR_KIND_LEN
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

/// Filters; an empty list does not filter. Status classes are 1..=5 (`2` = 2xx).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Filters {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runtime_groups: Vec<Uuid>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<Uuid>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<Uuid>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Uuid>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status_classes: Vec<u8>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status_codes: Vec<u16>,
    /// Consumer ids (the nil UUID: anonymous requests).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consumers: Vec<Uuid>,
    /// Error kinds ([`NO_ERROR_KIND`]: requests the upstream answered).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub error_kinds: Vec<String>,
}

/// A report definition: the explorer's state, a saved report's content and the body of
/// `POST /api/v1/analytics/query`. Either `time_frame` or `start` + `end`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AnalyticsQuery {
    pub metrics: Vec<Metric>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<Dimension>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub then_by: Option<Dimension>,
    #[serde(default)]
    pub filters: Filters,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_frame: Option<TimeFrame>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<DateTime<Utc>>,
    /// Default: the time frame's, or the finest that keeps ≤ ~500 points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granularity: Option<Granularity>,
    /// IANA zone name for bucket edges (`Europe/Berlin`); default UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

impl Default for AnalyticsQuery {
    fn default() -> Self {
        AnalyticsQuery {
            metrics: vec![Metric::RequestCount],
            group_by: None,
            then_by: None,
            filters: Filters::default(),
            time_frame: Some(TimeFrame::H24),
            start: None,
            end: None,
            granularity: None,
            time_zone: None,
        }
    }
}

/// Most points a query may ask for.
pub const MAX_POINTS: i64 = 1500;
/// Most metrics in one query.
pub const MAX_METRICS: usize = 10;
/// Longest custom range (two years, the default day retention).
pub const MAX_RANGE_SECONDS: i64 = 731 * 86400;

impl AnalyticsQuery {
    /// The rules that need no database or zone table; the first broken one names its
    /// field. (The server also checks `time_zone` against its zone table.)
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.metrics.is_empty() {
            return Err(FieldError::new("metrics", "Choose at least one metric."));
        }
        if self.metrics.len() > MAX_METRICS {
            return Err(FieldError::new(
                "metrics",
                format!("At most {MAX_METRICS} metrics in one query."),
            ));
        }
        if self.then_by.is_some() && self.group_by.is_none() {
            return Err(FieldError::new(
                "then_by",
                "\"then_by\" needs \"group_by\" first.",
            ));
        }
        if self.then_by.is_some() && self.then_by == self.group_by {
            return Err(FieldError::new(
                "then_by",
                "\"then_by\" must differ from \"group_by\".",
            ));
        }
        match (self.time_frame, self.start, self.end) {
            (Some(_), None, None) => {}
            (Some(_), _, _) => {
                return Err(FieldError::new(
                    "time_frame",
                    "Give either a time frame or start and end, not both.",
                ))
            }
            (None, Some(start), Some(end)) => {
                if end <= start {
                    return Err(FieldError::new("end", "\"end\" must be after \"start\"."));
                }
                if (end - start).num_seconds() > MAX_RANGE_SECONDS {
                    return Err(FieldError::new(
                        "end",
                        "A custom range is at most two years long.",
                    ));
                }
            }
            (None, None, _) => {
                return Err(FieldError::new(
                    "start",
                    "Give a time frame, or start and end.",
                ))
            }
            (None, Some(_), None) => {
                return Err(FieldError::new("end", "Give \"end\" with \"start\"."))
            }
        }
        for c in &self.filters.status_classes {
            if !(1..=5).contains(c) {
                return Err(FieldError::new(
                    "filters.status_classes",
                    "Status classes are 1 to 5 (2 means 2xx).",
                ));
            }
        }
        for c in &self.filters.status_codes {
            if !(100..=599).contains(c) {
                return Err(FieldError::new(
                    "filters.status_codes",
                    "Status codes are 100 to 599.",
                ));
            }
        }
        for k in &self.filters.error_kinds {
            if !is_error_kind(k) {
                return Err(FieldError::new(
                    "filters.error_kinds",
                    format!("\"{k}\" is not an error kind (such as rate_limited, or none)."),
                ));
            }
        }
        if let Some(tz) = &self.time_zone {
            if tz.is_empty() || tz.len() > 64 {
                return Err(FieldError::new(
                    "time_zone",
                    "Give an IANA time zone name such as Europe/Berlin, or UTC.",
                ));
            }
        }
        let g = self.granularity_or_default();
        let points = self.range_seconds() / g.seconds();
        if points > MAX_POINTS {
            return Err(FieldError::new(
                "granularity",
                format!(
                    "{} buckets over this range would be {points} points; at most {MAX_POINTS}.",
                    g.as_str()
                ),
            ));
        }
        Ok(())
    }

    /// The bucket width: the asked one, else the time frame's, else the finest that
    /// keeps ≤ ~500 points.
    pub fn granularity_or_default(&self) -> Granularity {
        if let Some(g) = self.granularity {
            return g;
        }
        if let Some(f) = self.time_frame {
            return f.granularity();
        }
        match (self.start, self.end) {
            (Some(s), Some(e)) => Granularity::for_range((e - s).num_seconds()),
            _ => Granularity::Hour,
        }
    }

    /// Length of the range in seconds.
    pub fn range_seconds(&self) -> i64 {
        match (self.time_frame, self.start, self.end) {
            (Some(f), _, _) => f.seconds(),
            (None, Some(s), Some(e)) => (e - s).num_seconds(),
            _ => 86400,
        }
    }

    /// `[start, end)` of the query at `now` (a time frame ends now).
    pub fn range_at(&self, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        match (self.time_frame, self.start, self.end) {
            (Some(f), _, _) => (now - chrono::Duration::seconds(f.seconds()), now),
            (None, Some(s), Some(e)) => (s, e),
            _ => (now - chrono::Duration::seconds(86400), now),
        }
    }
}

/// One value of a dimension: its id (uuid, status code, `2xx`) and what to show.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DimensionValue {
    pub id: String,
    pub label: String,
}

/// One line of a chart: a metric, for one group (and then-by) value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Series {
    pub metric: Metric,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<DimensionValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub then: Option<DimensionValue>,
    /// One value per bucket of [`AnalyticsResult::buckets`]; `None` where the metric has
    /// no value (a latency of a bucket without requests). Counts are 0, not `None`.
    pub values: Vec<Option<f64>>,
    /// The metric over the whole range.
    pub total: Option<f64>,
}

/// The answer to an [`AnalyticsQuery`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AnalyticsResult {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub granularity: Granularity,
    /// The zone the bucket edges follow ("UTC" by default).
    pub time_zone: String,
    /// Start of each bucket (the first may start before `start`: it is the bucket that
    /// holds `start`).
    pub buckets: Vec<DateTime<Utc>>,
    pub series: Vec<Series>,
}

/// Totals of a range, for the tiles and the Service Hub cards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Totals {
    pub requests: u64,
    pub errors_4xx: u64,
    pub errors_5xx: u64,
    /// (4xx + 5xx) / requests in percent; `None` without requests.
    pub error_rate: Option<f64>,
    /// Average response latency in ms; `None` without requests.
    pub latency_avg_ms: Option<f64>,
    pub latency_p99_ms: Option<f64>,
}

/// The tiles of a dashboard: this period and the one before it (same length).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Summary {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub current: Totals,
    pub previous: Totals,
}

/// Change from `previous` to `current` in percent (`None` when there is no base).
pub fn change_percent(current: f64, previous: f64) -> Option<f64> {
    if previous == 0.0 {
        None
    } else {
        Some((current - previous) / previous * 100.0)
    }
}

#[cfg(test)]
mod tests;
