//! The explorer's report definition form: an island. The browser checks it as the user
//! changes it (`AnalyticsQuery::validate`, the rules the server runs), reads the custom
//! range in the browser's time zone and runs it by loading the report's URL; without
//! JavaScript it is a plain GET form.

use leptos::prelude::*;

use crate::api::*;
use crate::components::field_message;
use crate::error::AppError;
use crate::model::*;

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
                field_message(self.server.get_value(), field)
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
pub(super) fn ExplorerFormView(
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
    let consumer_error = state.message("consumer");
    let kind_error = state.message("error_kind");
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
                    <div class="field">
                        <label for="ax-consumer">"Consumer"</label>
                        <input type="text" id="ax-consumer" name="consumer" placeholder="Consumer ids" autocomplete="off"
                            value=initial.consumer.clone()
                            prop:value=move || state.form.with(|f| f.consumer.clone())
                            aria-describedby="ax-consumer-error"
                            aria-invalid=move || consumer_error.get().is_some().to_string()
                            on:input=move |ev| state.edit("consumer", event_target_value(&ev))/>
                        <p class="field-error" id="ax-consumer-error" role="status">{move || consumer_error.get()}</p>
                    </div>
                    <div class="field">
                        <label for="ax-error_kind">"Error kind"</label>
                        <input type="text" id="ax-error_kind" name="error_kind" placeholder="e.g. rate_limited, none" autocomplete="off"
                            value=initial.error_kind.clone()
                            prop:value=move || state.form.with(|f| f.error_kind.clone())
                            aria-describedby="ax-error_kind-hint ax-error_kind-error"
                            aria-invalid=move || kind_error.get().is_some().to_string()
                            on:input=move |ev| state.edit("error_kind", event_target_value(&ev))/>
                        <p class="hint" id="ax-error_kind-hint">"Why the gateway answered itself; none: the upstream answered."</p>
                        <p class="field-error" id="ax-error_kind-error" role="status">{move || kind_error.get()}</p>
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
        let Some(t) = crate::model::parse_instant(text) else {
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
        let Some(n) = crate::model::parse_local(text) else {
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
