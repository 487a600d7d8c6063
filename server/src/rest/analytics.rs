//! Analytics over REST: run a report definition (JSON, or CSV with `Accept: text/csv`),
//! export CSV from a plain link, and saved reports.

use app::error::AppError;
use app::model::analytics::{
    to_csv, AnalyticsQuery, AnalyticsResult, Dimension, Filters, Granularity, Metric, Report,
    ReportInput, TimeFrame,
};
use app::ports::AnalyticsRef;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::{ApiError, ApiJson, ApiResult, Caller, ErrorBody};

/// Whether the client asked for CSV.
fn wants_csv(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("text/csv"))
}

/// A file name made of the safe characters of `name`.
fn file_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    let out: String = out.chars().take(80).collect();
    if out.is_empty() {
        "analytics.csv".into()
    } else {
        format!("{out}.csv")
    }
}

/// The CSV form of an answer, as a download.
fn csv_response(result: &AnalyticsResult, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", file_name(name)),
            ),
        ],
        to_csv(result),
    )
        .into_response()
}

fn answer(result: AnalyticsResult, headers: &HeaderMap, name: &str) -> Response {
    if wants_csv(headers) {
        csv_response(&result, name)
    } else {
        Json(result).into_response()
    }
}

#[utoipa::path(post, path = "/api/v1/analytics/query", tag = "analytics",
    request_body = AnalyticsQuery,
    responses(
        (status = 200, description = "The series as JSON, or as CSV with `Accept: text/csv`",
            content((AnalyticsResult = "application/json"), (String = "text/csv"))),
        (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn query(
    State(a): State<AnalyticsRef>,
    Caller(actor): Caller,
    headers: HeaderMap,
    ApiJson(q): ApiJson<AnalyticsQuery>,
) -> ApiResult<Response> {
    let result = a.query(&actor, q).await?;
    Ok(answer(result, &headers, "analytics"))
}

/// The query-string form of a report definition, for plain download links. Lists are
/// comma-separated (or the parameter repeated); empty values are ignored.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ExportParams {
    /// `15m`, `1h`, `6h`, `12h`, `24h`, `7d` or `30d` (or give `start` and `end`).
    time_frame: Option<String>,
    /// RFC 3339.
    start: Option<String>,
    /// RFC 3339.
    end: Option<String>,
    /// `1m`, `1h` or `1d`.
    granularity: Option<String>,
    /// IANA zone name for bucket edges (default UTC).
    time_zone: Option<String>,
    /// Metric names, comma-separated (default `request_count`).
    metrics: Option<String>,
    group_by: Option<String>,
    then_by: Option<String>,
    /// Package ids.
    package: Option<String>,
    /// Version ids.
    version: Option<String>,
    /// Route ids.
    route: Option<String>,
    /// Runtime group ids.
    runtime_group: Option<String>,
    /// `1`–`5` or `2xx` … `5xx`.
    status_class: Option<String>,
    status_code: Option<String>,
}

fn bad(field: &str, message: impl Into<String>) -> AppError {
    AppError::validation(field, message)
}

fn parse_ids(field: &str, value: &str, into: &mut Vec<Uuid>) -> Result<(), AppError> {
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        into.push(
            Uuid::parse_str(part).map_err(|_| bad(field, format!("\"{part}\" is not an id.")))?,
        );
    }
    Ok(())
}

fn parse_time(field: &str, value: &str) -> Result<DateTime<Utc>, AppError> {
    DateTime::parse_from_rfc3339(value.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            bad(
                field,
                format!("\"{value}\" is not an RFC 3339 time (2026-11-30T12:00:00Z)."),
            )
        })
}

fn parse_dimension(field: &str, value: &str) -> Result<Dimension, AppError> {
    Dimension::parse(value.trim()).ok_or_else(|| {
        bad(
            field,
            format!(
                "\"{value}\" is not one of package, version, route, status_code, status_class, runtime_group."
            ),
        )
    })
}

/// Reads the export parameters into a report definition.
pub fn query_from_params(raw: &str) -> Result<AnalyticsQuery, AppError> {
    let mut q = AnalyticsQuery {
        metrics: Vec::new(),
        time_frame: None,
        ..Default::default()
    };
    let mut f = Filters::default();
    for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        match k.as_ref() {
            "time_frame" => {
                q.time_frame = Some(TimeFrame::parse(v).ok_or_else(|| {
                    bad(
                        "time_frame",
                        format!("\"{v}\" is not one of 15m, 1h, 6h, 12h, 24h, 7d, 30d."),
                    )
                })?)
            }
            "start" => q.start = Some(parse_time("start", v)?),
            "end" => q.end = Some(parse_time("end", v)?),
            "granularity" => {
                q.granularity = Some(match v {
                    "1m" => Granularity::Minute,
                    "1h" => Granularity::Hour,
                    "1d" => Granularity::Day,
                    _ => {
                        return Err(bad(
                            "granularity",
                            format!("\"{v}\" is not one of 1m, 1h, 1d."),
                        ))
                    }
                })
            }
            "time_zone" => q.time_zone = Some(v.to_string()),
            "metrics" => {
                for m in v.split(',').map(str::trim).filter(|m| !m.is_empty()) {
                    q.metrics.push(
                        Metric::parse(m)
                            .ok_or_else(|| bad("metrics", format!("\"{m}\" is not a metric.")))?,
                    );
                }
            }
            "group_by" => q.group_by = Some(parse_dimension("group_by", v)?),
            "then_by" => q.then_by = Some(parse_dimension("then_by", v)?),
            "package" => parse_ids("package", v, &mut f.packages)?,
            "version" => parse_ids("version", v, &mut f.versions)?,
            "route" => parse_ids("route", v, &mut f.routes)?,
            "runtime_group" => parse_ids("runtime_group", v, &mut f.runtime_groups)?,
            "status_class" => {
                for c in v.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                    let digits = c.strip_suffix("xx").unwrap_or(c);
                    f.status_classes.push(
                        digits
                            .parse::<u8>()
                            .ok()
                            .filter(|d| (1..=5).contains(d))
                            .ok_or_else(|| {
                                bad("status_class", format!("\"{c}\" is not 1 to 5 (or 2xx …)."))
                            })?,
                    );
                }
            }
            "status_code" => {
                for c in v.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                    f.status_codes.push(c.parse::<u16>().map_err(|_| {
                        bad("status_code", format!("\"{c}\" is not a status code."))
                    })?);
                }
            }
            other => return Err(bad(other, format!("Unknown parameter \"{other}\"."))),
        }
    }
    if q.metrics.is_empty() {
        q.metrics.push(Metric::RequestCount);
    }
    if q.time_frame.is_none() && q.start.is_none() && q.end.is_none() {
        q.time_frame = Some(TimeFrame::H24);
    }
    q.filters = f;
    Ok(q)
}

#[utoipa::path(get, path = "/api/v1/analytics/export", tag = "analytics",
    params(ExportParams),
    responses(
        (status = 200, description = "CSV: bucket_start, metric, unit, group, group_id, then, then_id, value",
            content((String = "text/csv"))),
        (status = 422, body = ErrorBody)))]
pub async fn export(
    State(a): State<AnalyticsRef>,
    Caller(actor): Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let q = query_from_params(raw.as_deref().unwrap_or(""))?;
    let result = a.query(&actor, q).await?;
    Ok(csv_response(&result, "analytics"))
}

#[utoipa::path(get, path = "/api/v1/analytics/reports", tag = "analytics",
    responses((status = 200, body = Vec<Report>)))]
pub async fn list_reports(
    State(a): State<AnalyticsRef>,
    Caller(actor): Caller,
) -> ApiResult<Json<Vec<Report>>> {
    Ok(Json(a.list_reports(&actor).await?))
}

#[utoipa::path(post, path = "/api/v1/analytics/reports", tag = "analytics",
    request_body = ReportInput,
    responses((status = 201, body = Report), (status = 400, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_report(
    State(a): State<AnalyticsRef>,
    Caller(actor): Caller,
    ApiJson(input): ApiJson<ReportInput>,
) -> ApiResult<(StatusCode, Json<Report>)> {
    Ok((
        StatusCode::CREATED,
        Json(a.create_report(&actor, input).await?),
    ))
}

fn report_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| {
        ApiError(AppError::not_found(format!(
            "No saved report with id \"{id}\"."
        )))
    })
}

#[utoipa::path(get, path = "/api/v1/analytics/reports/{id}", tag = "analytics",
    params(("id" = Uuid, Path, description = "Report id")),
    responses((status = 200, body = Report), (status = 404, body = ErrorBody)))]
pub async fn get_report(
    State(a): State<AnalyticsRef>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Report>> {
    Ok(Json(a.get_report(&actor, report_id(&id)?).await?))
}

#[utoipa::path(put, path = "/api/v1/analytics/reports/{id}", tag = "analytics",
    params(("id" = Uuid, Path, description = "Report id")),
    request_body = ReportInput,
    responses((status = 200, body = Report), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_report(
    State(a): State<AnalyticsRef>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReportInput>,
) -> ApiResult<Json<Report>> {
    Ok(Json(a.update_report(&actor, report_id(&id)?, input).await?))
}

#[utoipa::path(delete, path = "/api/v1/analytics/reports/{id}", tag = "analytics",
    params(("id" = Uuid, Path, description = "Report id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_report(
    State(a): State<AnalyticsRef>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    a.delete_report(&actor, report_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/analytics/reports/{id}/data", tag = "analytics",
    params(("id" = Uuid, Path, description = "Report id")),
    responses(
        (status = 200, description = "The report's series as JSON, or as CSV with `Accept: text/csv`",
            content((AnalyticsResult = "application/json"), (String = "text/csv"))),
        (status = 404, body = ErrorBody)))]
pub async fn report_data(
    State(a): State<AnalyticsRef>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let report = a.get_report(&actor, report_id(&id)?).await?;
    let result = a.query(&actor, report.query).await?;
    Ok(answer(result, &headers, &report.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_parameters() {
        let q = query_from_params(
            "time_frame=7d&metrics=request_count,response_latency_p99&group_by=version\
             &status_class=5xx,4&status_code=503&package=&time_zone=Europe%2FBerlin",
        )
        .unwrap();
        assert_eq!(q.time_frame, Some(TimeFrame::D7));
        assert_eq!(q.metrics.len(), 2);
        assert_eq!(q.group_by, Some(Dimension::Version));
        assert_eq!(q.filters.status_classes, vec![5, 4]);
        assert_eq!(q.filters.status_codes, vec![503]);
        assert_eq!(q.time_zone.as_deref(), Some("Europe/Berlin"));
        assert_eq!(
            query_from_params("bogus=1").unwrap_err().field(),
            Some("bogus")
        );
        assert_eq!(
            query_from_params("metrics=nope").unwrap_err().field(),
            Some("metrics")
        );
        assert_eq!(file_name("My report: 5xx!"), "my-report-5xx.csv");
    }
}
