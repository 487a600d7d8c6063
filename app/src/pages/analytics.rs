//! `/analytics` and `/analytics/reports/{id}`: the analytics explorer and saved reports.
//!
//! The explorer is a GET form: the URL carries the whole report definition, so a
//! report is a shareable link and the page works without JavaScript. With JavaScript
//! (the form is an island) it is checked as the user changes it
//! (`AnalyticsQuery::validate`, the rules the server runs) and can read the custom
//! range in the browser's time zone.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::*;
use crate::components::*;
use crate::error::AppError;
use crate::model::*;

use super::explorer_form::ExplorerFormView;

/// `/analytics`: the explorer with the URL's definition (or the default one).
#[component]
pub fn AnalyticsPage() -> impl IntoView {
    view! { <Explorer report_id=Signal::derive(|| None)/> }
}

/// `/analytics/reports/{id}`: the explorer with a saved report's definition (the URL's,
/// when the user changed it), and the report's edit and delete forms.
#[component]
pub fn ReportPage() -> impl IntoView {
    let params = use_params_map();
    view! { <Explorer report_id=Signal::derive(move || params.read().get("id"))/> }
}

#[component]
fn Explorer(report_id: Signal<Option<String>>) -> impl IntoView {
    let query = use_query_map();
    let form = Memo::new(move |_| {
        let q = query.read();
        ExplorerForm::from_lookup(|k| q.get_all(k).unwrap_or_default())
    });
    let create = ServerAction::<CreateReport>::new();
    let update = ServerAction::<UpdateReport>::new();
    let delete = ServerAction::<DeleteReport>::new();
    let data = Resource::new(
        move || (report_id.get(), form.get()),
        |(id, form)| load_explorer(id, form),
    );
    view! {
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! { <ExplorerView data=d create update delete/> }.into_any(),
                    Err(e) => view! { <Title text="Analytics"/><ErrorView error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Whether the signed-in user may change `report` (its creator, or Maintainer and up;
/// the server decides anyway).
fn may_change(report: &Report) -> bool {
    current_user().is_some_and(|m| {
        m.email.eq_ignore_ascii_case(&report.created_by)
            || m.id.to_string() == report.created_by
            || m.can(Permission::EditCatalog)
    })
}

#[component]
fn ExplorerView(
    data: ExplorerData,
    create: ServerAction<CreateReport>,
    update: ServerAction<UpdateReport>,
    delete: ServerAction<DeleteReport>,
) -> impl IntoView {
    let ExplorerData {
        form,
        report,
        result,
        error,
        options,
        reports,
    } = data;
    let path = report
        .as_ref()
        .map(|r| format!("/analytics/reports/{}", r.id))
        .unwrap_or_else(|| "/analytics".to_string());
    let title = report
        .as_ref()
        .map(|r| r.name.clone())
        .unwrap_or_else(|| "Analytics".to_string());
    let mut crumbs = vec![("Analytics".to_string(), "/analytics".to_string())];
    if let Some(r) = &report {
        crumbs.push((r.name.clone(), String::new()));
    }
    let definition = form.to_query().ok();
    let export = definition.as_ref().map(|_| form.export_url());
    let lead = match &report {
        Some(r) if !r.description.is_empty() => r.description.clone(),
        Some(r) => format!("A saved report by {}.", r.created_by),
        None => "Explore the traffic your gateways recorded: choose metrics, split them, filter, and save the result as a report to share it.".to_string(),
    };
    // An error that no field of the form shows.
    let general_error = error
        .clone()
        .filter(|e| e.field().is_none_or(|f| !EXPLORER_KEYS.contains(&f)));
    let result = result.map(|r| relabel(r, &options));
    let results = match (result, &definition) {
        (Some(result), Some((query, chart))) => view! {
            <ResultView result query=query.clone() chart=*chart/>
        }
        .into_any(),
        _ => match general_error {
            Some(e) => view! { <div class="alert" role="alert">{e.message().to_string()}</div> }.into_any(),
            None => view! {
                <div class="alert warning" role="alert"><p>"Correct the highlighted field above to run the report."</p></div>
            }
            .into_any(),
        },
    };
    let reports_path = path.clone();
    let saved = definition.map(|(query, chart)| {
        view! { <SaveCards report=report.clone() query chart create update/> }
    });
    let invalid_note = saved.is_none().then(|| {
        view! {
            <section class="card" aria-labelledby="save-title">
                <h2 id="save-title">"Save as report"</h2>
                <p class="muted">"A report can be saved once its definition is valid."</p>
            </section>
        }
    });
    view! {
        <Title text=title.clone()/>
        <ChartScript/>
        <PageHeader crumbs title=title>
            {export.map(|href| view! { <a class="button" href=href download="">"Export CSV"</a> })}
            {report.is_some().then(|| view! { <a class="button" href="/analytics">"New report"</a> })}
        </PageHeader>
        <p class="lead">{lead}</p>
        <ExplorerFormView form options error path/>
        <div class="ax-results">{results}</div>
        {saved}
        {invalid_note}
        <ReportList reports delete back=reports_path/>
    }
}

/// Versions and routes are named by the recorder without their package ("v1"): where
/// two groups of an answer share a name, the catalog's longer name tells them apart.
fn relabel(mut result: AnalyticsResult, options: &ExplorerOptions) -> AnalyticsResult {
    use std::collections::{HashMap, HashSet};
    let catalog: HashMap<&str, &str> = options
        .versions
        .iter()
        .chain(options.routes.iter())
        .map(|c| (c.id.as_str(), c.label.as_str()))
        .collect();
    for then in [false, true] {
        let value = |s: &Series| {
            if then {
                s.then.clone()
            } else {
                s.group.clone()
            }
        };
        let mut ids_of: HashMap<String, HashSet<String>> = HashMap::new();
        for v in result.series.iter().filter_map(value) {
            ids_of.entry(v.label).or_default().insert(v.id);
        }
        for s in &mut result.series {
            let slot = if then { &mut s.then } else { &mut s.group };
            if let Some(v) = slot {
                if ids_of.get(&v.label).is_some_and(|ids| ids.len() > 1) {
                    if let Some(label) = catalog.get(v.id.as_str()) {
                        v.label = label.to_string();
                    }
                }
            }
        }
    }
    result
}

/// The answer: the chart and the table of its series.
#[component]
fn ResultView(result: AnalyticsResult, query: AnalyticsQuery, chart: ChartType) -> impl IntoView {
    let heading = query
        .metrics
        .iter()
        .map(|m| m.label())
        .collect::<Vec<_>>()
        .join(" · ");
    let zone_note = format!("times in {}", result.time_zone);
    let summary = format!(
        "{} to {} · {} buckets of {} · {}",
        when(&result.start),
        when(&result.end),
        result.buckets.len(),
        result.granularity.as_str(),
        zone_note
    );
    let chart_result = result.clone();
    view! {
        <section class="card ax-result" aria-labelledby="ax-result-title">
            <div class="ax-result-head">
                <h2 id="ax-result-title">"Result"</h2>
                <p class="muted small">{summary}</p>
            </div>
            <AnalyticsChart result=chart_result chart title=heading id="explorer"
                empty_text="No traffic matches this report in this time range. Send requests through a gateway, or widen the time frame or the filters."/>
        </section>
        {has_data(&result).then(|| view! {
            <section class="card ax-result" aria-labelledby="ax-series-title">
                <h2 id="ax-series-title">"Series"</h2>
                <SeriesTable result query/>
            </section>
        })}
    }
}

/// One row per series: group, then, total and a value per bucket (scrolls sideways).
#[component]
fn SeriesTable(result: AnalyticsResult, query: AnalyticsQuery) -> impl IntoView {
    let several = query.metrics.len() > 1;
    let group = query.group_by;
    let then = query.then_by;
    let long = (result.end - result.start).num_hours() >= 24;
    let granularity = result.granularity;
    let zone = result.time_zone.clone();
    let heads = result
        .buckets
        .iter()
        .map(|b| {
            let text = bucket_label(*b, granularity, long, &zone);
            let iso = b.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            view! { <th scope="col" class="num"><time datetime=iso>{text}</time></th> }
        })
        .collect_view();
    let rows = result
        .series
        .into_iter()
        .map(|s| {
            let metric = s.metric;
            let total = fmt_value(metric, s.total);
            let values = s
                .values
                .iter()
                .map(|v| {
                    let text = fmt_value(metric, *v);
                    view! { <td class="num">{text}</td> }
                })
                .collect_view();
            let group_label = s
                .group
                .as_ref()
                .map(|g| g.label.clone())
                .unwrap_or_else(|| "All traffic".to_string());
            let then_label = s.then.as_ref().map(|g| g.label.clone()).unwrap_or_default();
            view! {
                <tr>
                    {several.then(|| view! { <td class="ax-metric">{metric.label()}</td> })}
                    <th scope="row" class="ax-group">{group_label}</th>
                    {then.is_some().then(|| view! { <td>{then_label}</td> })}
                    <td class="num ax-total">{total}</td>
                    {values}
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap ax-table-wrap" tabindex="0" role="region" aria-label="Series values">
            <table class="ax-series" id="ax-series">
                <thead>
                    <tr>
                        {several.then(|| view! { <th scope="col">"Metric"</th> })}
                        <th scope="col">{group.map(|d| d.label()).unwrap_or("Series")}</th>
                        {then.map(|d| view! { <th scope="col">{d.label()}</th> })}
                        <th scope="col" class="num">"Total"</th>
                        {heads}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// "Save as report", and on a saved report that the user may change, its edit form.
#[component]
fn SaveCards(
    report: Option<Report>,
    query: AnalyticsQuery,
    chart: ChartType,
    create: ServerAction<CreateReport>,
    update: ServerAction<UpdateReport>,
) -> impl IntoView {
    let definition = serde_json::to_string(&query).unwrap_or_default();
    let create_error = action_error(create);
    let update_error = action_error(update);
    let edit = report.filter(may_change).map(|r| {
        let definition = definition.clone();
        view! {
            <section class="card ax-save" id="edit" aria-labelledby="edit-title">
                <h2 id="edit-title">"Edit report"</h2>
                <p class="muted small">"Saves the name, the description and the definition shown above."</p>
                <ActionForm action=update>
                    <input type="hidden" name="id" value=r.id.to_string()/>
                    <input type="hidden" name="definition" value=definition/>
                    <div class="ax-save-grid">
                        <TextField label="Name" name="name" value=r.name.clone() required=true check=Check::ReportName error=update_error id_prefix="edit-"/>
                        <TextField label="Description" name="description" value=r.description.clone() check=Check::ReportDescription error=update_error id_prefix="edit-"/>
                        <ChartSelect id="edit-chart" chart/>
                    </div>
                    <FormAlert error=update_error fields=&["name", "description"]/>
                    <div class="form-actions"><button type="submit" class="button primary">"Save changes"</button></div>
                </ActionForm>
            </section>
        }
    });
    let on_report = edit.is_some();
    let create_form = view! {
        <ActionForm action=create>
            <input type="hidden" name="definition" value=definition/>
            <div class="ax-save-grid">
                <TextField label="Report name" name="name" required=true check=Check::ReportName error=create_error id_prefix="save-"/>
                <TextField label="Description" name="description" check=Check::ReportDescription error=create_error id_prefix="save-"
                    hint="Up to 255 characters."/>
                <ChartSelect id="save-chart" chart/>
            </div>
            <FormAlert error=create_error fields=&["name", "description"]/>
            <div class="form-actions"><button type="submit" class="button primary">"Save report"</button></div>
        </ActionForm>
    };
    view! {
        {edit}
        <section class="card ax-save" id="save" aria-labelledby="save-title">
            {if on_report {
                view! {
                    <details open=move || create_error.get().is_some()>
                        <summary><h2 id="save-title">"Save as a new report"</h2></summary>
                        {create_form}
                    </details>
                }.into_any()
            } else {
                view! {
                    <h2 id="save-title">"Save as report"</h2>
                    <p class="muted small">"Saves the definition shown above under a name, for everyone who can read analytics."</p>
                    {create_form}
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn ChartSelect(id: &'static str, chart: ChartType) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>"Chart"</label>
            <select id=id name="chart">
                {ChartType::ALL.iter().map(|c| view! {
                    <option value=c.as_str() selected=*c == chart>{c.label()}</option>
                }).collect_view()}
            </select>
        </div>
    }
}

/// The saved reports, each with its delete confirmation.
#[component]
fn ReportList(
    reports: Result<Vec<Report>, AppError>,
    delete: ServerAction<DeleteReport>,
    back: String,
) -> impl IntoView {
    let delete_error = action_error(delete);
    let body = match reports {
        Err(e) => view! { <div class="alert" role="alert">{e.message().to_string()}</div> }.into_any(),
        Ok(list) if list.is_empty() => view! {
            <div class="empty"><p>"No saved reports yet. Build a chart above and save it to share it."</p></div>
        }
        .into_any(),
        Ok(list) => view! {
            <div class="table-wrap">
                <table class="ax-reports">
                    <thead>
                        <tr>
                            <th scope="col">"Name"</th>
                            <th scope="col" class="ax-desc">"Description"</th>
                            <th scope="col">"Chart"</th>
                            <th scope="col">"Created by"</th>
                            <th scope="col">"Updated"</th>
                            <th scope="col"><span class="sr-only">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        {list.into_iter().map(|r| {
                            let href = format!("/analytics/reports/{}", r.id);
                            // Deleting the report being shown goes back to the explorer.
                            let back = if back == href { "/analytics".to_string() } else { back.clone() };
                            let changeable = may_change(&r);
                            let name = r.name.clone();
                            view! {
                                <tr>
                                    <th scope="row"><a href=href.clone()>{r.name.clone()}</a></th>
                                    <td class="muted ax-desc">{r.description.clone()}</td>
                                    <td class="nowrap">{r.chart.label()}</td>
                                    <td class="ax-by">{r.created_by.clone()}</td>
                                    <td class="nowrap">{when(&r.updated_at)}</td>
                                    <td class="row-actions">
                                        {changeable.then(|| view! {
                                            <div class="gw-actions">
                                                <a class="button small" href=format!("{href}#edit") aria-label=format!("Edit report {name}")>"Edit"</a>
                                                <details class="menu">
                                                    <summary class="button small danger-outline" aria-label=format!("Delete report {name}")>"Delete…"</summary>
                                                    <div class="menu-body">
                                                        <p>{format!("Delete the report “{name}”? Its link stops working.")}</p>
                                                        <ActionForm action=delete>
                                                            <input type="hidden" name="id" value=r.id.to_string()/>
                                                            <input type="hidden" name="back" value=back/>
                                                            <button type="submit" class="button danger small">"Yes, delete"</button>
                                                        </ActionForm>
                                                    </div>
                                                </details>
                                            </div>
                                        })}
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any(),
    };
    view! {
        <section class="card" id="reports" aria-labelledby="reports-title">
            <h2 id="reports-title">"Saved reports"</h2>
            <FormAlert error=delete_error fields=&[]/>
            {body}
        </section>
    }
}
