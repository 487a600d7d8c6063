//! Analytics over REST: run a report definition (JSON, or CSV with `Accept: text/csv`),
//! export CSV from a plain link, and saved reports.

use app::api::{ExplorerForm, EXPLORER_KEYS};
use app::error::AppError;
use app::model::analytics::{to_csv, AnalyticsQuery, AnalyticsResult, Metric, Report, ReportInput};
use app::model::urlencoded::form_pairs;
use app::ports::AnalyticsRef;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
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

/// The query-string form of a report definition, for plain download links: the
/// explorer's own (its "CSV" link). Lists are comma- or space-separated (or the parameter
/// repeated); empty values are ignored.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ExportParams {
    /// `15m`, `1h`, `6h`, `12h`, `24h`, `7d` or `30d` (or `custom`, or give `start` and `end`).
    time_frame: Option<String>,
    /// RFC 3339, `YYYY-MM-DDTHH:MM[:SS]` (UTC) or a date.
    start: Option<String>,
    /// Same forms as `start`.
    end: Option<String>,
    /// `1m`, `1h` or `1d` (or `auto`).
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
    /// 100–599.
    status_code: Option<String>,
    /// Consumer ids (the nil UUID: anonymous requests).
    consumer: Option<String>,
    /// Error kinds (`rate_limited`, `no_route` …; `none`: the upstream answered).
    error_kind: Option<String>,
    /// Ignored (the explorer's chart type; its links carry it).
    chart: Option<String>,
}

/// Reads the export parameters into a report definition, as the explorer reads its own
/// query string ([`ExplorerForm`]); a parameter the explorer does not know is refused.
/// Without metrics: the request count; without a time frame or range: 24 hours.
pub fn query_from_params(raw: &str) -> Result<AnalyticsQuery, AppError> {
    if let Some((k, _)) = form_pairs(raw)
        .into_iter()
        .find(|(k, _)| !EXPLORER_KEYS.contains(&k.as_str()))
    {
        return Err(AppError::validation(
            &k,
            format!("Unknown parameter \"{k}\"."),
        ));
    }
    let mut form = ExplorerForm::from_query_string(raw);
    if form.metrics.is_empty() {
        form.metrics.push(Metric::RequestCount.as_str().to_string());
    }
    let (query, _chart) = form.with_defaults().to_query()?;
    Ok(query)
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
    use app::model::analytics::{Dimension, TimeFrame};

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

    /// The export and the explorer read a query string the same way. Before, the export
    /// had its own parser: it refused the explorer's `datetime-local` times, `5X`,
    /// space-separated ids, `custom` and `auto`, and took status code 999.
    #[test]
    fn the_export_reads_what_the_explorer_reads() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let ids =
            format!("metrics=request_count%2Cerror_rate_5xx&package={a}+{b}&status_code=500%20503");
        for raw in [
            "metrics=request_count&time_frame=custom&start=2026-11-20T10:00&end=2026-11-20T12:00",
            "start=2026-11-20&end=2026-11-21T00:00:00Z&time_zone=Europe%2fBerlin",
            "metrics=request_count&status_class=5X&granularity=auto&group_by=status_code",
            ids.as_str(),
        ] {
            let mut form = ExplorerForm::from_query_string(raw);
            if form.metrics.is_empty() {
                form.metrics.push("request_count".into());
            }
            let (explorer, _) = form.with_defaults().to_query().unwrap();
            assert_eq!(query_from_params(raw).unwrap(), explorer, "{raw}");
        }
        let q = query_from_params(&ids).unwrap();
        assert_eq!(q.filters.packages, [a, b]);
        assert_eq!(q.filters.status_codes, [500, 503]);
        for (raw, field) in [
            ("metrics=request_count&status_code=999", "status_code"),
            ("metrics=request_count&start=yesterday", "start"),
            ("metrics=request_count&group_by=planet", "group_by"),
        ] {
            assert_eq!(
                query_from_params(raw).unwrap_err().field(),
                Some(field),
                "{raw}"
            );
            assert_eq!(
                ExplorerForm::from_query_string(raw)
                    .to_query()
                    .unwrap_err()
                    .field,
                field,
                "{raw}"
            );
        }
    }
}
