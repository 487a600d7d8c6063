//! The analytics explorer: its form (the page's query string ⇄ a report definition,
//! shared by the browser and the server), the server function that runs it, and the
//! saved reports' server functions.
#![allow(clippy::too_many_arguments)]

use chrono::{DateTime, NaiveDateTime, Utc};
use leptos::prelude::*;
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
    /// RFC 3339, or `YYYY-MM-DDTHH:MM` in UTC (what a datetime-local input sends).
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
                parse_instant("start", &self.start)?,
                parse_instant("end", &self.end)?,
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
        AppError::Validation { field, message } => AppError::Validation {
            field: form_field(&field).to_string(),
            message,
        },
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

/// An instant from RFC 3339, or from `YYYY-MM-DDTHH:MM[:SS]` read as UTC.
pub fn parse_utc(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    parse_naive(text).map(|n| n.and_utc())
}

/// `YYYY-MM-DDTHH:MM[:SS]`, what a datetime-local input holds.
pub fn parse_naive(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .ok()
}

/// What a datetime-local input shows for an instant, in UTC.
pub fn input_value_utc(text: &str) -> String {
    parse_utc(text)
        .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_else(|| text.to_string())
}

fn parse_instant(field: &str, text: &str) -> Result<Option<DateTime<Utc>>, FieldError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    parse_utc(text).map(Some).ok_or_else(|| {
        FieldError::new(
            field,
            "Give a date and time such as 2026-11-30T14:00 (UTC).",
        )
    })
}

/// One option of a filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub id: String,
    pub label: String,
}

/// The filters' options, from the catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplorerOptions {
    pub runtime_groups: Vec<Choice>,
    pub packages: Vec<Choice>,
    /// Of the chosen package, else of every package.
    pub versions: Vec<Choice>,
    /// Of the chosen version, else of every version when there are few.
    pub routes: Vec<Choice>,
}

/// What the explorer page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExplorerData {
    /// The definition: written as links write it when valid, else as typed.
    pub form: ExplorerForm,
    /// The saved report being shown (`/analytics/reports/{id}`).
    pub report: Option<Report>,
    pub result: Option<AnalyticsResult>,
    /// Why there is no result (a field's rule, or the server's answer).
    pub error: Option<AppError>,
    pub options: ExplorerOptions,
    pub reports: Result<Vec<Report>, AppError>,
}

/// Runs the explorer's definition (or the saved report's, when the form is blank).
#[server(prefix = "/rpc", endpoint = "analytics-explorer/load", input = leptos::server_fn::codec::Json)]
pub async fn load_explorer(
    report: Option<String>,
    form: ExplorerForm,
) -> Result<ExplorerData, AppError> {
    let actor = crate::ports::actor()?;
    let analytics = crate::ports::analytics()?;
    let report = match report.as_deref().filter(|s| !s.is_empty()) {
        Some(id) => Some(
            analytics
                .get_report(&actor, super::parse_id("id", id)?)
                .await?,
        ),
        None => None,
    };
    let form = match (&report, form.is_blank()) {
        (Some(r), true) => ExplorerForm::from_query(&r.query, r.chart),
        (None, true) => ExplorerForm::from_query(&AnalyticsQuery::default(), ChartType::Line),
        _ => form,
    };
    let (form, result, error) = match form.to_query() {
        Ok((query, chart)) => {
            let canonical = ExplorerForm::from_query(&query, chart);
            match analytics.query(&actor, query).await {
                Ok(r) => (canonical, Some(r), None),
                Err(e) => (canonical, None, Some(form_error(e))),
            }
        }
        Err(e) => (form.with_defaults(), None, Some(e.into())),
    };
    let options = explorer_options(&actor, &form).await;
    let reports = analytics.list_reports(&actor).await;
    Ok(ExplorerData {
        form,
        report,
        result,
        error,
        options,
        reports,
    })
}

/// Packages whose versions the filters list when no package is chosen.
#[cfg(feature = "ssr")]
const MAX_PACKAGES_FOR_VERSIONS: usize = 100;
/// Versions whose routes the filters list when no version is chosen.
#[cfg(feature = "ssr")]
const MAX_VERSIONS_FOR_ROUTES: usize = 30;

#[cfg(feature = "ssr")]
async fn explorer_options(actor: &Actor, form: &ExplorerForm) -> ExplorerOptions {
    let Ok(catalog) = crate::ports::catalog() else {
        return ExplorerOptions::default();
    };
    let chosen = |list: &str, id: &uuid::Uuid| list.split(',').any(|s| s.trim() == id.to_string());
    let runtime_groups = catalog
        .list_runtime_groups(actor)
        .await
        .map(|gs| {
            gs.into_iter()
                .map(|g| Choice {
                    id: g.id.to_string(),
                    label: g.name,
                })
                .collect()
        })
        .unwrap_or_default();
    let packages = catalog
        .list_packages(
            actor,
            PackageQuery {
                page_size: 500,
                ..Default::default()
            },
        )
        .await
        .map(|p| p.data)
        .unwrap_or_default();
    let mut versions = Vec::new();
    let version_packages: Vec<&ServicePackage> = if form.package.is_empty() {
        packages.iter().take(MAX_PACKAGES_FOR_VERSIONS).collect()
    } else {
        packages
            .iter()
            .filter(|p| chosen(&form.package, &p.id))
            .collect()
    };
    for p in version_packages {
        if let Ok(page) = catalog
            .list_versions(actor, &p.id.to_string(), VersionQuery::default())
            .await
        {
            versions.extend(page.data.into_iter().map(|v| (p.display_name.clone(), v)));
        }
    }
    let mut routes = Vec::new();
    if let Ok(gateways) = crate::ports::gateways() {
        let route_versions: Vec<&(String, ServiceVersion)> = if !form.version.is_empty() {
            versions
                .iter()
                .filter(|(_, v)| chosen(&form.version, &v.id))
                .collect()
        } else if versions.len() <= MAX_VERSIONS_FOR_ROUTES {
            versions.iter().collect()
        } else {
            Vec::new()
        };
        for (package, v) in route_versions {
            if let Ok(list) = gateways
                .list_routes(actor, &v.package_id.to_string(), v.id)
                .await
            {
                routes.extend(list.into_iter().map(|r| {
                    let name = r
                        .fields
                        .name
                        .clone()
                        .or_else(|| r.fields.paths.first().cloned())
                        .unwrap_or_else(|| r.id.to_string());
                    Choice {
                        id: r.id.to_string(),
                        label: format!("{package} · {} · {name}", v.name),
                    }
                }));
            }
        }
    }
    ExplorerOptions {
        runtime_groups,
        packages: packages
            .iter()
            .map(|p| Choice {
                id: p.id.to_string(),
                label: p.display_name.clone(),
            })
            .collect(),
        versions: versions
            .into_iter()
            .map(|(package, v)| Choice {
                id: v.id.to_string(),
                label: format!("{package} · {} ({})", v.name, v.runtime_group_name),
            })
            .collect(),
        routes,
    }
}

/// A saved report's input from the save form: the definition comes as the JSON of
/// the report shown (a hidden field), name, description and chart as typed.
#[cfg(feature = "ssr")]
fn report_input(
    name: String,
    description: Option<String>,
    chart: Option<String>,
    definition: String,
) -> Result<ReportInput, AppError> {
    let query: AnalyticsQuery = serde_json::from_str(&definition).map_err(|_| {
        AppError::validation(
            "definition",
            "The report definition is not valid; run the report again, then save it.",
        )
    })?;
    let chart = match chart.as_deref().map(str::trim).unwrap_or("") {
        "" => ChartType::default(),
        c => ChartType::parse(c)
            .ok_or_else(|| AppError::validation("chart", "Choose a chart type."))?,
    };
    let input = ReportInput {
        name: name.trim().to_string(),
        description: description.unwrap_or_default().trim().to_string(),
        chart,
        query,
    };
    input.validate().map_err(|e| form_error(e.into()))?;
    Ok(input)
}

/// Saves the explorer's definition as a named report and opens it.
#[server(prefix = "/rpc", endpoint = "analytics-reports/create")]
pub async fn create_report(
    name: String,
    description: Option<String>,
    chart: Option<String>,
    definition: String,
) -> Result<Report, AppError> {
    let actor = crate::ports::actor()?;
    let input = report_input(name, description, chart, definition)?;
    let report = crate::ports::analytics()?
        .create_report(&actor, input)
        .await
        .map_err(form_error)?;
    super::redirect(&format!("/analytics/reports/{}", report.id));
    Ok(report)
}

/// Changes a saved report: name, description, chart and the definition shown.
#[server(prefix = "/rpc", endpoint = "analytics-reports/update")]
pub async fn update_report(
    id: String,
    name: String,
    description: Option<String>,
    chart: Option<String>,
    definition: String,
) -> Result<Report, AppError> {
    let actor = crate::ports::actor()?;
    let id = super::parse_id("id", &id)?;
    let input = report_input(name, description, chart, definition)?;
    let report = crate::ports::analytics()?
        .update_report(&actor, id, input)
        .await
        .map_err(form_error)?;
    super::redirect(&format!("/analytics/reports/{}", report.id));
    Ok(report)
}

/// Deletes a saved report, then goes `back` (an explorer page) or to `/analytics`.
#[server(prefix = "/rpc", endpoint = "analytics-reports/delete")]
pub async fn delete_report(id: String, back: Option<String>) -> Result<(), AppError> {
    let actor = crate::ports::actor()?;
    let id = super::parse_id("id", &id)?;
    crate::ports::analytics()?.delete_report(&actor, id).await?;
    let back = back
        .filter(|b| b == "/analytics" || b.starts_with("/analytics?"))
        .unwrap_or_else(|| "/analytics".to_string());
    super::redirect(&back);
    Ok(())
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
