//! Server functions of the analytics dashboards: the Service Hub cards, and the
//! analytics sections of the package and version dashboards. Each asks the Analytics
//! port (`crate::ports::analytics()`); the explorer's live in `analytics_reports`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::AppError;
use crate::model::*;

/// What a package or version dashboard shows for one time frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardAnalytics {
    pub frame: TimeFrame,
    /// The zone the buckets follow ("UTC" unless the browser sent its own).
    pub time_zone: String,
    /// Tiles: this frame against the one before it.
    pub summary: Summary,
    /// Requests over time, by version (package) or by route (version).
    pub traffic: AnalyticsResult,
    /// Requests over time by status class.
    pub status: AnalyticsResult,
    /// Response latency p50, p95 and p99 over time.
    pub latency: AnalyticsResult,
    /// Version dashboards: requests, 4xx and 5xx error rates, p50 and p99 latency per
    /// route (the series' totals are the per-route table).
    pub routes: Option<AnalyticsResult>,
}

/// The Service Hub cards' numbers: the last 7 days per package.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HubTraffic {
    pub totals: Vec<(Uuid, Totals)>,
}

/// The time frame of a `?frame=` value; the dashboards' default (24 h) otherwise.
pub fn frame_or_default(frame: Option<&str>) -> TimeFrame {
    frame.and_then(TimeFrame::parse).unwrap_or_default()
}

/// Last 7 days of traffic for the packages of a Service Hub page (ids separated by
/// commas); packages without traffic are absent.
#[server(prefix = "/rpc", endpoint = "analytics/hub", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_hub_traffic(ids: String) -> Result<HubTraffic, AppError> {
    let actor = crate::ports::actor()?;
    let packages: Vec<Uuid> = ids
        .split(',')
        .filter_map(|s| Uuid::parse_str(s.trim()).ok())
        .take(200)
        .collect();
    if packages.is_empty() {
        return Ok(HubTraffic::default());
    }
    let totals = crate::ports::analytics()?
        .package_totals(&actor, packages)
        .await?;
    Ok(HubTraffic { totals })
}

/// The analytics section of a package dashboard.
#[server(prefix = "/rpc", endpoint = "analytics/package", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_package_analytics(
    package_id: String,
    frame: Option<String>,
    tz: Option<String>,
) -> Result<DashboardAnalytics, AppError> {
    let id = super::parse_id("package_id", &package_id)?;
    let filters = Filters {
        packages: vec![id],
        ..Default::default()
    };
    dashboard(filters, Dimension::Version, false, frame, tz).await
}

/// The analytics section of a version dashboard, with its per-route table.
#[server(prefix = "/rpc", endpoint = "analytics/version", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_version_analytics(
    version_id: String,
    frame: Option<String>,
    tz: Option<String>,
) -> Result<DashboardAnalytics, AppError> {
    let id = super::parse_id("version_id", &version_id)?;
    let filters = Filters {
        versions: vec![id],
        ..Default::default()
    };
    dashboard(filters, Dimension::Route, true, frame, tz).await
}

#[cfg(feature = "ssr")]
async fn dashboard(
    filters: Filters,
    traffic_by: Dimension,
    with_routes: bool,
    frame: Option<String>,
    tz: Option<String>,
) -> Result<DashboardAnalytics, AppError> {
    let actor = crate::ports::actor()?;
    let analytics = crate::ports::analytics()?;
    let frame = frame_or_default(frame.as_deref());
    let mut time_zone = tz
        .map(|z| z.trim().to_string())
        .filter(|z| !z.is_empty() && z.len() <= 64 && !z.eq_ignore_ascii_case("utc"));
    let query =
        |metrics: Vec<Metric>, group_by: Option<Dimension>, zone: Option<String>| AnalyticsQuery {
            metrics,
            group_by,
            filters: filters.clone(),
            time_frame: Some(frame),
            time_zone: zone,
            ..Default::default()
        };
    // The first query tells whether the server knows the browser's zone; if not, UTC.
    let traffic = match analytics
        .query(
            &actor,
            query(
                vec![Metric::RequestCount],
                Some(traffic_by),
                time_zone.clone(),
            ),
        )
        .await
    {
        Err(AppError::Validation { field, .. }) if field == "time_zone" && time_zone.is_some() => {
            time_zone = None;
            analytics
                .query(
                    &actor,
                    query(vec![Metric::RequestCount], Some(traffic_by), None),
                )
                .await?
        }
        other => other?,
    };
    let status = analytics
        .query(
            &actor,
            query(
                vec![Metric::RequestCount],
                Some(Dimension::StatusClass),
                time_zone.clone(),
            ),
        )
        .await?;
    let latency = analytics
        .query(
            &actor,
            query(
                vec![
                    Metric::ResponseLatencyP50,
                    Metric::ResponseLatencyP95,
                    Metric::ResponseLatencyP99,
                ],
                None,
                time_zone.clone(),
            ),
        )
        .await?;
    let routes = if with_routes {
        Some(
            analytics
                .query(
                    &actor,
                    query(
                        vec![
                            Metric::RequestCount,
                            Metric::ErrorRate4xx,
                            Metric::ErrorRate5xx,
                            Metric::ResponseLatencyP50,
                            Metric::ResponseLatencyP99,
                        ],
                        Some(Dimension::Route),
                        time_zone.clone(),
                    ),
                )
                .await?,
        )
    } else {
        None
    };
    let summary = analytics.summary(&actor, filters.clone(), frame).await?;
    Ok(DashboardAnalytics {
        frame,
        time_zone: traffic.time_zone.clone(),
        summary,
        traffic,
        status,
        latency,
        routes,
    })
}
