//! Saved reports (their chart type, name and description rules) and the CSV form of
//! an answer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::super::validate::FieldError;
use super::{AnalyticsQuery, AnalyticsResult};
/// Chart type of a saved report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChartType {
    #[default]
    Line,
    StackedBar,
    HorizontalBar,
}

impl ChartType {
    pub const ALL: [ChartType; 3] = [
        ChartType::Line,
        ChartType::StackedBar,
        ChartType::HorizontalBar,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ChartType::Line => "line",
            ChartType::StackedBar => "stacked_bar",
            ChartType::HorizontalBar => "horizontal_bar",
        }
    }
    pub fn parse(s: &str) -> Option<ChartType> {
        ChartType::ALL.into_iter().find(|c| c.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            ChartType::Line => "Line",
            ChartType::StackedBar => "Stacked bar",
            ChartType::HorizontalBar => "Horizontal bar",
        }
    }
}

/// A saved report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Report {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub chart: ChartType,
    pub query: AnalyticsQuery,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Body of `POST /api/v1/analytics/reports` and `PUT …/reports/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub chart: ChartType,
    pub query: AnalyticsQuery,
}

/// Longest report name and description.
pub const REPORT_TEXT_MAX: usize = 255;

/// A report's name: not blank, at most [`REPORT_TEXT_MAX`] characters (trimmed).
pub fn check_report_name(name: &str) -> Result<(), FieldError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(FieldError::new("name", "Give the report a name."));
    }
    if name.chars().count() > REPORT_TEXT_MAX {
        return Err(FieldError::new(
            "name",
            format!("A report name is at most {REPORT_TEXT_MAX} characters."),
        ));
    }
    Ok(())
}

/// A report's description: at most [`REPORT_TEXT_MAX`] characters.
pub fn check_report_description(description: &str) -> Result<(), FieldError> {
    if description.chars().count() > REPORT_TEXT_MAX {
        return Err(FieldError::new(
            "description",
            format!("A description is at most {REPORT_TEXT_MAX} characters."),
        ));
    }
    Ok(())
}

impl ReportInput {
    pub fn validate(&self) -> Result<(), FieldError> {
        check_report_name(&self.name)?;
        check_report_description(&self.description)?;
        self.query.validate().map_err(|e| FieldError {
            field: format!("query.{}", e.field),
            ..e
        })
    }
}

/// The CSV form of an answer: one row per bucket and series, with a header row.
/// Columns: `bucket_start` (RFC 3339, UTC), `metric`, `unit`, `group`, `group_id`,
/// `then`, `then_id`, `value` (empty when there is none).
pub fn to_csv(result: &AnalyticsResult) -> String {
    let mut out = String::from("bucket_start,metric,unit,group,group_id,then,then_id,value\n");
    for s in &result.series {
        for (i, b) in result.buckets.iter().enumerate() {
            let value = s.values.get(i).copied().flatten();
            let cells = [
                b.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                s.metric.as_str().to_string(),
                s.metric.unit().to_string(),
                s.group
                    .as_ref()
                    .map(|g| g.label.clone())
                    .unwrap_or_default(),
                s.group.as_ref().map(|g| g.id.clone()).unwrap_or_default(),
                s.then.as_ref().map(|g| g.label.clone()).unwrap_or_default(),
                s.then.as_ref().map(|g| g.id.clone()).unwrap_or_default(),
                value.map(format_number).unwrap_or_default(),
            ];
            let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
            out.push_str(&line.join(","));
            out.push('\n');
        }
    }
    out
}

/// A number without a trailing `.0` and with at most 3 decimals.
pub fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// One CSV cell: quoted when it holds a comma, quote or line break; a leading `=`, `+`,
/// `-` or `@` is prefixed with `'` so spreadsheets never run it as a formula.
pub fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) && s.parse::<f64>().is_err() {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}
