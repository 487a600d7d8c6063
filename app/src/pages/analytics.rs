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

/// A metric and its short name in the matrix ("p95").
type MetricCell = Option<(Metric, &'static str)>;

/// Metric families as rows, their variants as columns (avg, p50, p95, p99).
const METRIC_ROWS: [(&str, [MetricCell; 4]); 7] = [
    (
        "Requests",
        [
            Some((Metric::RequestCount, "count")),
            Some((Metric::RequestsPerMinute, "per min")),
            None,
            None,
        ],
    ),
    (
        "Error rate",
        [
            Some((Metric::ErrorRate4xx, "4xx")),
            Some((Metric::ErrorRate5xx, "5xx")),
            None,
            None,
        ],
    ),
    (
        "Response latency",
        [
            Some((Metric::ResponseLatencyAvg, "avg")),
            Some((Metric::ResponseLatencyP50, "p50")),
            Some((Metric::ResponseLatencyP95, "p95")),
            Some((Metric::ResponseLatencyP99, "p99")),
        ],
    ),
    (
        "Upstream latency",
        [
            Some((Metric::UpstreamLatencyAvg, "avg")),
            Some((Metric::UpstreamLatencyP50, "p50")),
            Some((Metric::UpstreamLatencyP95, "p95")),
            Some((Metric::UpstreamLatencyP99, "p99")),
        ],
    ),
    (
        "Gateway latency",
        [
            Some((Metric::GatewayLatencyAvg, "avg")),
            Some((Metric::GatewayLatencyP50, "p50")),
            Some((Metric::GatewayLatencyP95, "p95")),
            Some((Metric::GatewayLatencyP99, "p99")),
        ],
    ),
    (
        "Request size",
        [
            None,
            Some((Metric::RequestSizeP50, "p50")),
            Some((Metric::RequestSizeP95, "p95")),
            Some((Metric::RequestSizeP99, "p99")),
        ],
    ),
    (
        "Response size",
        [
            None,
            Some((Metric::ResponseSizeP50, "p50")),
            Some((Metric::ResponseSizeP95, "p95")),
            Some((Metric::ResponseSizeP99, "p99")),
        ],
    ),
];

/// The explorer form's live state (with JavaScript).
#[derive(Clone, Copy)]
struct FormState {
    form: RwSignal<ExplorerForm>,
    /// The user changed something: show the live check instead of the last answer.
    touched: RwSignal<bool>,
    live: Memo<Option<validate::FieldError>>,
    server: StoredValue<Option<AppError>>,
    /// The zone the start/end inputs are in, when it is the browser's (else UTC).
    inputs_zone: RwSignal<Option<String>>,
}

impl FormState {
    fn message(self, field: &'static str) -> Signal<Option<String>> {
        Signal::derive(move || {
            if self.touched.get() {
                self.live
                    .get()
                    .filter(|e| e.field == field)
                    .map(|e| e.message)
            } else {
                self.server
                    .get_value()
                    .filter(|e| e.field() == Some(field))
                    .map(|e| e.message().to_string())
            }
        })
    }

    /// The user set `field` to `value`.
    fn edit(self, field: &'static str, value: String) {
        self.form.update(|f| {
            f.set(field, value.clone());
            match field {
                // "then by" only after "group by".
                "group_by" if value.is_empty() => f.then_by.clear(),
                // Typing a range chooses the custom range.
                "start" | "end" if !value.is_empty() => f.time_frame = CUSTOM_RANGE.to_string(),
                _ => {}
            }
        });
        if field == "time_zone" {
            self.follow_zone();
        }
        self.touched.set(true);
    }

    /// Reads the start/end inputs in the browser's zone when the report's zone is the
    /// browser's, else in UTC, converting what they hold.
    fn follow_zone(self) {
        let browser = browser::zone().filter(|z| z != "UTC" && z != "Etc/UTC");
        let wanted = browser.filter(|z| self.form.with_untracked(|f| f.time_zone == *z));
        let current = self.inputs_zone.get_untracked();
        if wanted == current {
            return;
        }
        self.form.update(|f| {
            for v in [&mut f.start, &mut f.end] {
                let utc = if current.is_some() {
                    browser::local_to_utc(v)
                } else {
                    v.clone()
                };
                *v = if wanted.is_some() {
                    browser::utc_to_local(&utc)
                } else {
                    utc
                };
            }
        });
        self.inputs_zone.set(wanted);
    }

    /// The definition with start and end in UTC.
    fn definition(self) -> Result<(AnalyticsQuery, ChartType), validate::FieldError> {
        let mut f = self.form.get_untracked();
        if self.inputs_zone.get_untracked().is_some() {
            f.start = browser::local_to_utc(&f.start);
            f.end = browser::local_to_utc(&f.end);
        }
        f.to_query()
    }
}

/// The report definition form: an island (the browser checks it as the user changes
/// it and runs it by loading the report's URL).
#[island]
fn ExplorerFormView(
    form: ExplorerForm,
    options: ExplorerOptions,
    error: Option<AppError>,
    path: String,
) -> impl IntoView {
    let initial = form.clone();
    let mut shown = form;
    shown.start = input_value_utc(&shown.start);
    shown.end = input_value_utc(&shown.end);
    let state_form = RwSignal::new(shown);
    let state = FormState {
        form: state_form,
        touched: RwSignal::new(false),
        live: Memo::new(move |_| state_form.with(|f| f.to_query().err())),
        server: StoredValue::new(error),
        inputs_zone: RwSignal::new(None),
    };
    // Only once the page runs JavaScript (after hydration).
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| {
        hydrated.set(true);
        state.follow_zone();
    });
    let action = path.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match state.definition() {
            Ok((query, chart)) => {
                let url = ExplorerForm::from_query(&query, chart).url(&path);
                #[cfg(feature = "hydrate")]
                if let Some(w) = web_sys::window() {
                    let _ = w.location().set_href(&url);
                }
                #[cfg(not(feature = "hydrate"))]
                let _ = url;
            }
            Err(_) => state.touched.set(true),
        }
    };
    let dims: Vec<(String, String)> = std::iter::once((String::new(), "None".to_string()))
        .chain(
            Dimension::ALL
                .iter()
                .map(|d| (d.as_str().to_string(), d.label().to_string())),
        )
        .collect();
    let charts: Vec<(String, String)> = ChartType::ALL
        .iter()
        .map(|c| (c.as_str().to_string(), c.label().to_string()))
        .collect();
    let frames: Vec<(String, String)> = TimeFrame::ALL
        .iter()
        .map(|f| (f.as_str().to_string(), f.label().to_string()))
        .chain(std::iter::once((
            CUSTOM_RANGE.to_string(),
            "Custom range".to_string(),
        )))
        .collect();
    let granularities: Vec<(String, String)> = [
        ("", "Automatic"),
        ("1m", "1 minute"),
        ("1h", "1 hour"),
        ("1d", "1 day"),
    ]
    .iter()
    .map(|(v, l)| (v.to_string(), l.to_string()))
    .collect();
    let any = |label: &str, list: Vec<Choice>| -> Vec<(String, String)> {
        std::iter::once((String::new(), label.to_string()))
            .chain(list.into_iter().map(|c| (c.id, c.label)))
            .collect()
    };
    let classes: Vec<(String, String)> = std::iter::once((String::new(), "Any".to_string()))
        .chain((1..=5).map(|c| (c.to_string(), format!("{c}xx"))))
        .collect();
    let auto_hint = move || {
        state.form.with(|f| {
            if !f.granularity.is_empty() {
                return "Buckets of the chosen width.".to_string();
            }
            match f.to_query() {
                Ok((q, _)) => format!(
                    "Automatic: {} buckets here.",
                    q.granularity_or_default().as_str()
                ),
                Err(_) => "Automatic: the time frame's bucket width.".to_string(),
            }
        })
    };
    let range_hint = move || match state.inputs_zone.get() {
        Some(z) => format!("Start and end are in {z} (this browser)."),
        None => "Start and end are in UTC.".to_string(),
    };
    let use_browser_zone = move |_| {
        if let Some(z) = browser::zone() {
            state.edit("time_zone", z);
        }
    };
    let metric_error = state.message("metrics");
    let zone_error = state.message("time_zone");
    let code_error = state.message("status_code");
    view! {
        <form method="get" action=action class="card ax-form" aria-label="Report definition" novalidate=true on:submit=on_submit>
            <div class="ax-grid">
                <fieldset class="ax-fieldset ax-metrics" aria-describedby="ax-metrics-error">
                    <legend>"Metrics"</legend>
                    <div class="ax-matrix">
                        {METRIC_ROWS.iter().map(|(family, cells)| view! {
                            <span class="ax-family" aria-hidden="true">{*family}</span>
                            {cells.iter().map(|cell| match cell {
                                Some((metric, short)) => {
                                    let metric = *metric;
                                    let id = format!("ax-m-{}", metric.as_str());
                                    let label_for = id.clone();
                                    let checked = initial.metrics.iter().any(|m| m == metric.as_str());
                                    view! {
                                        <label class="check ax-check" for=label_for>
                                            <input type="checkbox" id=id name="metrics" value=metric.as_str() checked=checked
                                                on:change=move |ev| {
                                                    let on = event_target_checked(&ev);
                                                    state.form.update(|f| {
                                                        f.metrics.retain(|m| m != metric.as_str());
                                                        if on {
                                                            f.metrics.push(metric.as_str().to_string());
                                                        }
                                                        f.metrics.sort_by_key(|m| Metric::ALL.iter().position(|x| x.as_str() == m));
                                                    });
                                                    state.touched.set(true);
                                                }/>
                                            <span aria-hidden="true">{*short}</span>
                                            <span class="sr-only">{metric.label()}</span>
                                        </label>
                                    }.into_any()
                                }
                                None => view! { <span></span> }.into_any(),
                            }).collect_view()}
                        }).collect_view()}
                    </div>
                    <p class="field-error" id="ax-metrics-error" role="status">{move || metric_error.get()}</p>
                </fieldset>
                <div class="ax-column ax-split">
                    <SelectField name="group_by" label="Group by" choices=dims.clone() state/>
                    <SelectField name="then_by" label="Then by" choices=dims state
                        disabled=Signal::derive(move || hydrated.get() && state.form.with(|f| f.group_by.is_empty() && f.then_by.is_empty()))
                        hint=Signal::stored("Splits each group again; needs “Group by”.".to_string())/>
                    <SelectField name="chart" label="Chart type" choices=charts state/>
                </div>
            </div>
            <fieldset class="ax-fieldset ax-time" aria-describedby="ax-range-hint">
                <legend>"Time"</legend>
                <div class="ax-time-grid">
                    <SelectField name="time_frame" label="Time frame" choices=frames state/>
                    <DateField name="start" label="Start" state/>
                    <DateField name="end" label="End" state/>
                    <SelectField name="granularity" label="Granularity" choices=granularities state hint=Signal::derive(auto_hint)/>
                    <div class="field">
                        <label for="ax-time_zone">"Time zone"</label>
                        <input type="text" id="ax-time_zone" name="time_zone" placeholder="UTC" autocomplete="off"
                            value=initial.time_zone.clone()
                            prop:value=move || state.form.with(|f| f.time_zone.clone())
                            aria-describedby="ax-time_zone-hint ax-time_zone-error"
                            aria-invalid=move || zone_error.get().is_some().to_string()
                            on:change=move |ev| state.edit("time_zone", event_target_value(&ev))/>
                        <p class="hint" id="ax-time_zone-hint">
                            "Bucket edges follow it. "
                            <button type="button" class="link-button ax-js-only" on:click=use_browser_zone>"Use this browser’s"</button>
                        </p>
                        <p class="field-error" id="ax-time_zone-error" role="status">{move || zone_error.get()}</p>
                    </div>
                </div>
                <p class="hint ax-range-hint" id="ax-range-hint">{range_hint}" Typing a start or end chooses the custom range."</p>
            </fieldset>
            <fieldset class="ax-fieldset ax-filters">
                <legend>"Filters"</legend>
                <div class="ax-filter-grid">
                    <SelectField name="runtime_group" label="Runtime group" choices=any("Any", options.runtime_groups) state/>
                    <SelectField name="package" label="Service package" choices=any("Any", options.packages) state/>
                    <SelectField name="version" label="Version" choices=any("Any", options.versions) state/>
                    <SelectField name="route" label="Route" choices=any("Any", options.routes) state/>
                    <SelectField name="status_class" label="Status class" choices=classes state/>
                    <div class="field">
                        <label for="ax-status_code">"Status code"</label>
                        <input type="text" id="ax-status_code" name="status_code" inputmode="numeric" placeholder="e.g. 404, 503" autocomplete="off"
                            value=initial.status_code.clone()
                            prop:value=move || state.form.with(|f| f.status_code.clone())
                            aria-describedby="ax-status_code-error"
                            aria-invalid=move || code_error.get().is_some().to_string()
                            on:input=move |ev| state.edit("status_code", event_target_value(&ev))/>
                        <p class="field-error" id="ax-status_code-error" role="status">{move || code_error.get()}</p>
                    </div>
                </div>
            </fieldset>
            <div class="form-actions">
                <button type="submit" class="button primary">"Run report"</button>
                <a class="button" href="/analytics">"Reset"</a>
            </div>
        </form>
    }
}

/// A labelled select bound to one field of the explorer form.
#[component]
fn SelectField(
    name: &'static str,
    #[prop(into)] label: String,
    /// (value, label) pairs.
    choices: Vec<(String, String)>,
    state: FormState,
    #[prop(optional)] disabled: Option<Signal<bool>>,
    #[prop(optional)] hint: Option<Signal<String>>,
) -> impl IntoView {
    let id = format!("ax-{name}");
    let hint_id = format!("{id}-hint");
    let err_id = format!("{id}-error");
    let current = state.form.with_untracked(|f| f.get(name).to_string());
    let mut choices = choices;
    // A value the catalog does not list (deleted, or several ids) stays chosen.
    if !current.is_empty() && !choices.iter().any(|(v, _)| *v == current) {
        choices.push((current.clone(), format!("{current} (not listed)")));
    }
    let message = state.message(name);
    let described = if hint.is_some() {
        format!("{hint_id} {err_id}")
    } else {
        err_id.clone()
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select id=id name=name
                aria-describedby=described
                aria-invalid=move || message.get().is_some().to_string()
                disabled=move || disabled.is_some_and(|d| d.get())
                prop:value=move || state.form.with(|f| f.get(name).to_string())
                on:change=move |ev| state.edit(name, event_target_value(&ev))>
                {choices.into_iter().map(|(value, text)| {
                    let selected = value == current;
                    view! { <option value=value selected=selected>{text}</option> }
                }).collect_view()}
            </select>
            {hint.map(|h| view! { <p class="hint" id=hint_id>{move || h.get()}</p> })}
            <p class="field-error" id=err_id role="status">{move || message.get()}</p>
        </div>
    }
}

/// A datetime-local input of the custom range.
#[component]
fn DateField(name: &'static str, label: &'static str, state: FormState) -> impl IntoView {
    let id = format!("ax-{name}");
    let err_id = format!("{id}-error");
    let initial = state.form.with_untracked(|f| f.get(name).to_string());
    let message = state.message(name);
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input type="datetime-local" id=id name=name value=initial
                prop:value=move || state.form.with(|f| f.get(name).to_string())
                aria-describedby=err_id.clone()
                aria-invalid=move || message.get().is_some().to_string()
                on:change=move |ev| state.edit(name, event_target_value(&ev))/>
            <p class="field-error" id=err_id role="status">{move || message.get()}</p>
        </div>
    }
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

/// The browser's clock and time zone (with JavaScript); without, everything is UTC.
#[cfg(feature = "hydrate")]
mod browser {
    use chrono::{Datelike, Timelike};
    use leptos::wasm_bindgen::JsValue;
    use leptos::web_sys::js_sys;

    /// The browser's IANA time zone.
    pub fn zone() -> Option<String> {
        let format =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
        js_sys::Reflect::get(&format.resolved_options(), &JsValue::from_str("timeZone"))
            .ok()?
            .as_string()
            .filter(|z| !z.is_empty())
    }

    /// `YYYY-MM-DDTHH:MM` in UTC → the same instant in the browser's zone.
    pub fn utc_to_local(text: &str) -> String {
        let Some(t) = crate::api::parse_utc(text) else {
            return text.to_string();
        };
        let d = js_sys::Date::new(&JsValue::from_f64(t.timestamp_millis() as f64));
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}",
            d.get_full_year(),
            d.get_month() + 1,
            d.get_date(),
            d.get_hours(),
            d.get_minutes()
        )
    }

    /// `YYYY-MM-DDTHH:MM` in the browser's zone → the same instant in UTC.
    pub fn local_to_utc(text: &str) -> String {
        let Some(n) = crate::api::parse_naive(text) else {
            return text.to_string();
        };
        let d = js_sys::Date::new_with_year_month_day_hr_min(
            n.year().max(0) as u32,
            n.month0() as i32,
            n.day() as i32,
            n.hour() as i32,
            n.minute() as i32,
        );
        let ms = d.get_time();
        if ms.is_nan() {
            return text.to_string();
        }
        chrono::DateTime::from_timestamp_millis(ms as i64)
            .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_else(|| text.to_string())
    }
}

#[cfg(not(feature = "hydrate"))]
mod browser {
    pub fn zone() -> Option<String> {
        None
    }
    pub fn utc_to_local(text: &str) -> String {
        text.to_string()
    }
    pub fn local_to_utc(text: &str) -> String {
        text.to_string()
    }
}
