//! The analytics explorer's server functions: the one that runs a definition (with the
//! filters' choices), and the saved reports'.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::explorer_form::*;
use crate::error::AppError;
use crate::model::*;

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
