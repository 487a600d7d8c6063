//! The analytics explorer's form: the page's query string ⇄ a report definition,
//! shared by the browser and the server; the CSV export's query string is read by the
//! same [`ExplorerForm::from_query_string`] and [`ExplorerForm::to_query`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::validate::FieldError;
use crate::model::*;

/// The `time_frame` value of a custom absolute range (`start` and `end`).
pub const CUSTOM_RANGE: &str = "custom";

/// The explorer's form as the URL carries it: every value as typed, so a rejected one
/// is shown back to the user. `metrics` may come as repeated keys (a form posted
/// without JavaScript) or comma-separated (links); filters take comma-separated lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplorerForm {
    pub metrics: Vec<String>,
    pub group_by: String,
    pub then_by: String,
    pub runtime_group: String,
    pub package: String,
    pub version: String,
    pub route: String,
    pub status_class: String,
    pub status_code: String,
    pub chart: String,
    /// `15m` … `30d`, or [`CUSTOM_RANGE`].
    pub time_frame: String,
    /// A date and time as [`parse_instant`] reads it (`YYYY-MM-DDTHH:MM`, what a
    /// datetime-local input sends, is UTC).
    pub start: String,
    pub end: String,
    /// Empty: automatic.
    pub granularity: String,
    /// Empty: UTC.
    pub time_zone: String,
}

/// The query-string keys of the explorer, in the order links write them.
pub const EXPLORER_KEYS: [&str; 15] = [
    "metrics",
    "group_by",
    "then_by",
    "chart",
    "time_frame",
    "start",
    "end",
    "granularity",
    "time_zone",
    "runtime_group",
    "package",
    "version",
    "route",
    "status_class",
    "status_code",
];

impl ExplorerForm {
    /// Reads the form from a query string, given all values of a key.
    pub fn from_lookup(get_all: impl Fn(&str) -> Vec<String>) -> Self {
        let mut form = ExplorerForm::default();
        for key in EXPLORER_KEYS {
            let values = get_all(key);
            if key == "metrics" {
                form.metrics = values
                    .iter()
                    .flat_map(|v| v.split(','))
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_string)
                    .collect();
            } else {
                let joined = values
                    .iter()
                    .map(|v| v.trim())
                    .filter(|v| !v.is_empty())
                    .collect::<Vec<_>>()
                    .join(",");
                form.set(key, joined);
            }
        }
        form
    }

    /// Reads the form from a raw query string (form-urlencoded): the one reading of the
    /// explorer's links and of the CSV export's (`GET /api/v1/analytics/export`).
    pub fn from_query_string(raw: &str) -> Self {
        let pairs = crate::model::urlencoded::form_pairs(raw.strip_prefix('?').unwrap_or(raw));
        Self::from_lookup(|k| {
            pairs
                .iter()
                .filter(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .collect()
        })
    }

    /// The value of a (non-metrics) field.
    pub fn get(&self, key: &str) -> &str {
        match key {
            "group_by" => &self.group_by,
            "then_by" => &self.then_by,
            "runtime_group" => &self.runtime_group,
            "package" => &self.package,
            "version" => &self.version,
            "route" => &self.route,
            "status_class" => &self.status_class,
            "status_code" => &self.status_code,
            "chart" => &self.chart,
            "time_frame" => &self.time_frame,
            "start" => &self.start,
            "end" => &self.end,
            "granularity" => &self.granularity,
            "time_zone" => &self.time_zone,
            _ => "",
        }
    }

    pub fn set(&mut self, key: &str, value: String) {
        let slot = match key {
            "metrics" => {
                self.metrics = value
                    .split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_string)
                    .collect();
                return;
            }
            "group_by" => &mut self.group_by,
            "then_by" => &mut self.then_by,
            "runtime_group" => &mut self.runtime_group,
            "package" => &mut self.package,
            "version" => &mut self.version,
            "route" => &mut self.route,
            "status_class" => &mut self.status_class,
            "status_code" => &mut self.status_code,
            "chart" => &mut self.chart,
            "time_frame" => &mut self.time_frame,
            "start" => &mut self.start,
            "end" => &mut self.end,
            "granularity" => &mut self.granularity,
            "time_zone" => &mut self.time_zone,
            _ => return,
        };
        *slot = value;
    }

    /// Fills what a link may leave out: the chart (line) and the time frame (24 hours,
    /// or the custom range when a start or end is given).
    pub fn with_defaults(mut self) -> Self {
        if self.chart.trim().is_empty() {
            self.chart = ChartType::default().as_str().to_string();
        }
        if self.time_frame.trim().is_empty() {
            self.time_frame = if self.start.is_empty() && self.end.is_empty() {
                TimeFrame::default().as_str().to_string()
            } else {
                CUSTOM_RANGE.to_string()
            };
        }
        self
    }

    /// No definition at all (a bare `/analytics`).
    pub fn is_blank(&self) -> bool {
        self.metrics.is_empty()
            && EXPLORER_KEYS
                .iter()
                .all(|k| *k == "metrics" || self.get(k).is_empty())
    }

    /// The report definition and chart type, or the first broken rule, named by the
    /// form's field (`then_by`, `status_code`, `end` …).
    pub fn to_query(&self) -> Result<(AnalyticsQuery, ChartType), FieldError> {
        let mut metrics = Vec::new();
        for m in &self.metrics {
            let metric = Metric::parse(m)
                .ok_or_else(|| FieldError::new("metrics", format!("\"{m}\" is not a metric.")))?;
            if !metrics.contains(&metric) {
                metrics.push(metric);
            }
        }
        let filters = Filters {
            runtime_groups: ids("runtime_group", &self.runtime_group)?,
            packages: ids("package", &self.package)?,
            versions: ids("version", &self.version)?,
            routes: ids("route", &self.route)?,
            status_classes: status_classes(&self.status_class)?,
            status_codes: status_codes(&self.status_code)?,
        };
        let chart = match self.chart.trim() {
            "" => ChartType::default(),
            c => ChartType::parse(c)
                .ok_or_else(|| FieldError::new("chart", "Choose a chart type."))?,
        };
        let custom = self.time_frame == CUSTOM_RANGE
            || (self.time_frame.is_empty() && !(self.start.is_empty() && self.end.is_empty()));
        let (time_frame, start, end) = if custom {
            (
                None,
                instant_field("start", &self.start)?,
                instant_field("end", &self.end)?,
            )
        } else if self.time_frame.is_empty() {
            (Some(TimeFrame::default()), None, None)
        } else {
            let frame = TimeFrame::parse(&self.time_frame)
                .ok_or_else(|| FieldError::new("time_frame", "Choose a time frame."))?;
            (Some(frame), None, None)
        };
        let granularity = match self.granularity.trim() {
            "" | "auto" => None,
            "1m" => Some(Granularity::Minute),
            "1h" => Some(Granularity::Hour),
            "1d" => Some(Granularity::Day),
            _ => {
                return Err(FieldError::new(
                    "granularity",
                    "Choose automatic, 1 minute, 1 hour or 1 day.",
                ))
            }
        };
        let time_zone = match self.time_zone.trim() {
            "" | "UTC" | "utc" | "Etc/UTC" => None,
            z => Some(z.to_string()),
        };
        let query = AnalyticsQuery {
            metrics,
            group_by: dimension("group_by", &self.group_by)?,
            then_by: dimension("then_by", &self.then_by)?,
            filters,
            time_frame,
            start,
            end,
            granularity,
            time_zone,
        };
        query.validate().map_err(|e| FieldError {
            field: form_field(&e.field).to_string(),
            ..e
        })?;
        Ok((query, chart))
    }

    /// The form of a definition, written the way links write it.
    pub fn from_query(q: &AnalyticsQuery, chart: ChartType) -> Self {
        fn join<T: ToString>(items: &[T]) -> String {
            items
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        }
        let instant = |t: Option<DateTime<Utc>>| {
            t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default()
        };
        ExplorerForm {
            metrics: q.metrics.iter().map(|m| m.as_str().to_string()).collect(),
            group_by: q
                .group_by
                .map(|d| d.as_str().to_string())
                .unwrap_or_default(),
            then_by: q
                .then_by
                .map(|d| d.as_str().to_string())
                .unwrap_or_default(),
            runtime_group: join(&q.filters.runtime_groups),
            package: join(&q.filters.packages),
            version: join(&q.filters.versions),
            route: join(&q.filters.routes),
            status_class: join(&q.filters.status_classes),
            status_code: join(&q.filters.status_codes),
            chart: chart.as_str().to_string(),
            time_frame: q
                .time_frame
                .map(|f| f.as_str().to_string())
                .unwrap_or_else(|| CUSTOM_RANGE.to_string()),
            start: if q.time_frame.is_some() {
                String::new()
            } else {
                instant(q.start)
            },
            end: if q.time_frame.is_some() {
                String::new()
            } else {
                instant(q.end)
            },
            granularity: q
                .granularity
                .map(|g| g.as_str().to_string())
                .unwrap_or_default(),
            time_zone: q.time_zone.clone().unwrap_or_default(),
        }
    }

    /// The non-empty fields as query-string pairs (metrics comma-separated).
    pub fn pairs(&self) -> Vec<(&'static str, Option<String>)> {
        EXPLORER_KEYS
            .iter()
            .map(|k| {
                let v = if *k == "metrics" {
                    self.metrics.join(",")
                } else {
                    self.get(k).to_string()
                };
                (*k, Some(v))
            })
            .collect()
    }

    /// The explorer at `path` with this definition: a shareable link.
    pub fn url(&self, path: &str) -> String {
        crate::pages::with_query(path, &self.pairs())
    }

    /// The CSV export of this definition (`GET /api/v1/analytics/export`).
    pub fn export_url(&self) -> String {
        let pairs: Vec<(&str, Option<String>)> = self
            .pairs()
            .into_iter()
            .filter(|(k, _)| *k != "chart")
            .filter(|(k, _)| !(*k == "time_frame" && self.time_frame == CUSTOM_RANGE))
            .collect();
        crate::pages::with_query("/api/v1/analytics/export", &pairs)
    }
}

/// The explorer's field for a field name of the query's rules or of the REST API
/// (`filters.status_classes` → `status_class`, `query.then_by` → `then_by`).
pub fn form_field(field: &str) -> &str {
    let field = field.strip_prefix("query.").unwrap_or(field);
    let field = field.split('[').next().unwrap_or(field);
    match field {
        "filters.runtime_groups" => "runtime_group",
        "filters.packages" => "package",
        "filters.versions" => "version",
        "filters.routes" => "route",
        "filters.status_classes" => "status_class",
        "filters.status_codes" => "status_code",
        f => f,
    }
}

/// An error with its field renamed to the explorer's (see [`form_field`]).
pub fn form_error(e: AppError) -> AppError {
    match e {
        AppError::Validation { field, message, .. } => {
            AppError::validation(form_field(&field), message)
        }
        other => other,
    }
}

fn list(text: &str) -> impl Iterator<Item = &str> {
    text.split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn ids(field: &str, text: &str) -> Result<Vec<uuid::Uuid>, FieldError> {
    list(text)
        .map(|s| {
            uuid::Uuid::parse_str(s)
                .map_err(|_| FieldError::new(field, format!("\"{s}\" is not a valid id.")))
        })
        .collect()
}

fn status_classes(text: &str) -> Result<Vec<u8>, FieldError> {
    list(text)
        .map(|s| {
            let digits = s.trim_end_matches(['x', 'X']);
            match digits.parse::<u8>() {
                Ok(c) if (1..=5).contains(&c) => Ok(c),
                _ => Err(FieldError::new(
                    "status_class",
                    "Status classes are 1xx to 5xx.",
                )),
            }
        })
        .collect()
}

fn status_codes(text: &str) -> Result<Vec<u16>, FieldError> {
    list(text)
        .map(|s| match s.parse::<u16>() {
            Ok(c) if (100..=599).contains(&c) => Ok(c),
            _ => Err(FieldError::new(
                "status_code",
                format!("\"{s}\" is not a status code (100 to 599)."),
            )),
        })
        .collect()
}

fn dimension(field: &str, text: &str) -> Result<Option<Dimension>, FieldError> {
    match text.trim() {
        "" => Ok(None),
        d => Dimension::parse(d)
            .map(Some)
            .ok_or_else(|| FieldError::new(field, "Choose one of the listed dimensions.")),
    }
}

/// What a datetime-local input shows for an instant, in UTC.
pub fn input_value_utc(text: &str) -> String {
    parse_instant(text)
        .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_else(|| text.to_string())
}

fn instant_field(field: &str, text: &str) -> Result<Option<DateTime<Utc>>, FieldError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    parse_instant(text)
        .map(Some)
        .ok_or_else(|| FieldError::new(field, date_time_error(text.trim())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> ExplorerForm {
        ExplorerForm::from_lookup(|k| {
            pairs
                .iter()
                .filter(|(key, _)| *key == k)
                .map(|(_, v)| v.to_string())
                .collect()
        })
    }

    #[test]
    fn a_form_posted_without_javascript_is_a_definition() {
        let f = form(&[
            ("metrics", "request_count"),
            ("metrics", "error_rate_5xx"),
            ("group_by", "status_class"),
            ("then_by", ""),
            ("chart", "stacked_bar"),
            ("time_frame", "24h"),
            ("start", ""),
            ("end", ""),
            ("status_class", "5xx"),
            ("status_code", "500, 503"),
        ]);
        let (q, chart) = f.to_query().unwrap();
        assert_eq!(q.metrics, [Metric::RequestCount, Metric::ErrorRate5xx]);
        assert_eq!(q.group_by, Some(Dimension::StatusClass));
        assert_eq!(q.time_frame, Some(TimeFrame::H24));
        assert_eq!(q.filters.status_classes, [5]);
        assert_eq!(q.filters.status_codes, [500, 503]);
        assert_eq!(chart, ChartType::StackedBar);
        let link = ExplorerForm::from_query(&q, chart).url("/analytics");
        assert_eq!(
            link,
            "/analytics?metrics=request_count%2Cerror_rate_5xx&group_by=status_class\
             &chart=stacked_bar&time_frame=24h&status_class=5&status_code=500%2C503"
        );
    }

    #[test]
    fn custom_ranges_read_datetime_local_as_utc() {
        let f = form(&[
            ("metrics", "request_count"),
            ("time_frame", "custom"),
            ("start", "2026-11-30T10:00"),
            ("end", "2026-11-30T12:30"),
        ]);
        let (q, _) = f.to_query().unwrap();
        assert_eq!(q.time_frame, None);
        assert_eq!(q.start.unwrap().to_rfc3339(), "2026-11-30T10:00:00+00:00");
        let canonical = ExplorerForm::from_query(&q, ChartType::Line);
        assert_eq!(canonical.end, "2026-11-30T12:30:00Z");
        assert_eq!(input_value_utc(&canonical.end), "2026-11-30T12:30");
        assert!(canonical
            .export_url()
            .contains("start=2026-11-30T10%3A00%3A00Z"));
        assert!(!canonical.export_url().contains("time_frame"));
    }

    #[test]
    fn rules_name_the_forms_fields() {
        let err = |pairs: &[(&str, &str)]| form(pairs).to_query().unwrap_err().field;
        assert_eq!(err(&[("time_frame", "24h")]), "metrics");
        assert_eq!(
            err(&[("metrics", "request_count"), ("then_by", "route")]),
            "then_by"
        );
        assert_eq!(
            err(&[("metrics", "request_count"), ("status_class", "7xx")]),
            "status_class"
        );
        assert_eq!(
            err(&[
                ("metrics", "request_count"),
                ("time_frame", "custom"),
                ("start", "2026-11-30T10:00"),
                ("end", "2026-11-30T09:00"),
            ]),
            "end"
        );
        assert_eq!(
            err(&[
                ("metrics", "request_count"),
                ("time_frame", "30d"),
                ("granularity", "1m")
            ]),
            "granularity"
        );
        assert_eq!(form_field("query.filters.status_codes"), "status_code");
        assert!(form(&[]).is_blank());
    }
}
