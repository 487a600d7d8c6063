//! Analytics views shared by the dashboards and the explorer: a chart (its ECharts
//! option built on the server with charming, drawn by the browser's ECharts in an
//! island) with its data table, summary tiles, the time frame selector and the UTC /
//! local time switch, and number formatting.
//!
//! Without JavaScript the server-rendered table is the chart; with JavaScript the chart
//! is drawn into the figure's container once `echarts` (the trimmed build in
//! `/vendor/echarts.min.js`, loaded by [`ChartScript`] on chart pages only) is there,
//! and the table moves behind a "Show table" button (screen readers still read it).

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::model::analytics::{change_percent, Series};
use crate::model::{AnalyticsResult, ChartType, Granularity, Metric, Summary, TimeFrame, Totals};

/// What a dashboard says when a time frame holds no requests.
pub const NO_TRAFFIC: &str =
    "No traffic in this time frame. Requests through the gateway appear here within 15 seconds.";

/// Loads the trimmed ECharts build; put it on pages that draw charts, and only there.
#[component]
pub fn ChartScript() -> impl IntoView {
    view! { <leptos_meta::Script src="/vendor/echarts.min.js" defer="defer"/> }
}

/// `1234567` → `1,234,567`.
pub fn fmt_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A value of `metric` with its unit: `12`, `3.4 ms`, `20.0 %`, `512 B`; `–` for none.
pub fn fmt_value(metric: Metric, v: Option<f64>) -> String {
    let Some(v) = v else {
        return "–".into();
    };
    match metric.unit() {
        "requests" => fmt_count(v.max(0.0).round() as u64),
        "requests/min" => format!("{v:.1}"),
        "%" => fmt_percent(Some(v)),
        "ms" => fmt_ms(Some(v)),
        "bytes" => format!("{} B", fmt_count(v.max(0.0).round() as u64)),
        _ => crate::model::analytics::format_number(v),
    }
}

/// `3.42 ms`, `128 ms`, `1.52 s`; `–` for none.
pub fn fmt_ms(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(v) if v >= 10_000.0 => format!("{:.1} s", v / 1000.0),
        Some(v) if v >= 100.0 => format!("{v:.0} ms"),
        Some(v) if v >= 10.0 => format!("{v:.1} ms"),
        Some(v) => format!("{v:.2} ms"),
    }
}

/// `20.0 %`; `–` for none.
pub fn fmt_percent(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(v) => format!("{v:.1} %"),
    }
}

/// The label of a bucket: `14:05`, `11-29 14:00` (frames over a day) or `2026-11-29`,
/// in the IANA zone `zone` (UTC when the zone is unknown; the server converts).
pub fn bucket_label(t: DateTime<Utc>, granularity: Granularity, long: bool, zone: &str) -> String {
    let (y, mo, d, h, mi) = parts(t, zone);
    match granularity {
        Granularity::Day => format!("{y:04}-{mo:02}-{d:02}"),
        _ if long => format!("{mo:02}-{d:02} {h:02}:{mi:02}"),
        _ => format!("{h:02}:{mi:02}"),
    }
}

fn parts(t: DateTime<Utc>, zone: &str) -> (i32, u32, u32, u32, u32) {
    use chrono::{Datelike, Timelike};
    #[cfg(feature = "ssr")]
    if let Ok(tz) = zone.parse::<chrono_tz::Tz>() {
        let l = t.with_timezone(&tz);
        return (l.year(), l.month(), l.day(), l.hour(), l.minute());
    }
    let _ = zone;
    (t.year(), t.month(), t.day(), t.hour(), t.minute())
}

/// The cookie the zone switch's island sets to the browser's IANA time zone, so that
/// `?tz=local` pages are rendered in it by the server.
pub const ZONE_COOKIE: &str = "portico_tz";

/// The browser's zone for a `?tz=local` page, from [`ZONE_COOKIE`] (a known IANA zone
/// only); `None` without it (no JavaScript, first visit) and outside a request.
pub fn local_zone() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>()?;
        let cookies = parts.headers.get(http::header::COOKIE)?.to_str().ok()?;
        cookies.split(';').find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            let v = v.replace("%2F", "/");
            (k == ZONE_COOKIE && v.parse::<chrono_tz::Tz>().is_ok()).then_some(v)
        })
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// The browser's IANA time zone (`Intl.DateTimeFormat().resolvedOptions().timeZone`);
/// `None` on the server.
pub fn browser_time_zone() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let format =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
        let options = format.resolved_options();
        js_sys::Reflect::get(&options, &wasm_bindgen::JsValue::from_str("timeZone"))
            .ok()
            .and_then(|v| v.as_string())
            .filter(|z| !z.is_empty())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        None
    }
}

/// One line of a chart or column of its table.
#[derive(Debug, Clone, PartialEq)]
struct Line {
    name: String,
    metric: Metric,
    /// Colour key: a status class (`2xx`), or none.
    class: Option<String>,
    values: Vec<Option<f64>>,
    total: Option<f64>,
}

/// What a chart draws, in plain data (built on both sides; drawn in the browser).
#[derive(Debug, Clone, PartialEq)]
struct ChartData {
    kind: ChartType,
    labels: Vec<String>,
    lines: Vec<Line>,
    unit: &'static str,
}

/// The longest run of whole words the labels share at their start ("Response latency").
fn common_prefix(labels: &[&str]) -> usize {
    let Some(first) = labels.first() else {
        return 0;
    };
    let mut end = 0;
    for (i, _) in first.match_indices(' ') {
        let prefix = &first[..=i];
        if labels.iter().all(|l| l.starts_with(prefix)) {
            end = i + 1;
        } else {
            break;
        }
    }
    end
}

fn status_class(s: &Series) -> Option<String> {
    [&s.group, &s.then].into_iter().flatten().find_map(|g| {
        let l = g.label.trim();
        (l.len() == 3 && l.ends_with("xx") && l.starts_with(['1', '2', '3', '4', '5']))
            .then(|| l.to_string())
    })
}

fn chart_data(result: &AnalyticsResult, kind: ChartType) -> ChartData {
    let mut metrics: Vec<Metric> = Vec::new();
    for s in &result.series {
        if !metrics.contains(&s.metric) {
            metrics.push(s.metric);
        }
    }
    let metric_labels: Vec<&str> = metrics.iter().map(|m| m.label()).collect();
    let cut = if metrics.len() > 1 {
        common_prefix(&metric_labels)
    } else {
        0
    };
    let lines = result
        .series
        .iter()
        .map(|s| {
            let group: Vec<&str> = [&s.group, &s.then]
                .into_iter()
                .flatten()
                .map(|g| g.label.as_str())
                .collect();
            let metric = &s.metric.label()[cut..];
            let name = match (group.is_empty(), metrics.len() > 1) {
                (true, _) => metric.to_string(),
                (false, false) => group.join(" · "),
                (false, true) => format!("{metric} · {}", group.join(" · ")),
            };
            Line {
                name,
                metric: s.metric,
                class: status_class(s),
                values: s.values.clone(),
                total: s.total,
            }
        })
        .collect();
    let long = result.granularity != Granularity::Day
        && (result.end - result.start).num_seconds() > 86_400 - 1;
    ChartData {
        kind,
        labels: result
            .buckets
            .iter()
            .map(|b| bucket_label(*b, result.granularity, long, &result.time_zone))
            .collect(),
        lines,
        unit: metrics.first().map(|m| m.unit()).unwrap_or(""),
    }
}

/// Whether an answer holds anything to draw (a count above 0 or any other value).
pub fn has_data(result: &AnalyticsResult) -> bool {
    result.series.iter().any(|s| {
        s.values
            .iter()
            .flatten()
            .chain(s.total.iter())
            .any(|v| *v != 0.0)
    })
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// A chart of an analytics answer: a figure with an accessible title, the chart (its
/// ECharts option built here, on the server, with charming; drawn by the browser's
/// ECharts in an island, resized with the window) and the same numbers as a table,
/// which is what pages show without JavaScript. Buckets without data are left out of
/// the table; times are in the answer's zone.
#[component]
pub fn AnalyticsChart(
    result: AnalyticsResult,
    chart: ChartType,
    #[prop(into)] title: String,
    /// Unique on the page (default: from the title); the drawing's element is
    /// `chart-{id}`, the figure's test id `chart-{id}`.
    #[prop(optional, into)]
    id: Option<String>,
    /// Shown instead of the chart when the answer holds nothing.
    #[prop(optional, into)]
    empty_text: Option<String>,
) -> impl IntoView {
    let id = id.unwrap_or_else(|| slug(&title));
    let chart_id = format!("chart-{id}");
    let caption_id = format!("chart-{id}-title");
    if !has_data(&result) {
        let text = empty_text.unwrap_or_else(|| NO_TRAFFIC.to_string());
        let labelled_by = caption_id.clone();
        return view! {
            <figure class="chart-figure chart-empty" aria-labelledby=labelled_by data-testid=chart_id>
                <figcaption id=caption_id class="chart-title">{title}</figcaption>
                <p class="muted">{text}</p>
            </figure>
        }
        .into_any();
    }
    let data = chart_data(&result, chart);
    let table = chart_table(&data, &result.time_zone);
    #[cfg(feature = "ssr")]
    let option = option::build(&data);
    #[cfg(not(feature = "ssr"))]
    let option = String::new();
    view! { <ChartFigure id title option>{table}</ChartFigure> }.into_any()
}

/// The figure of a chart: its title, the "Show table" button, the drawing and (the
/// children) the table. An island: the browser draws `option` (ECharts option JSON,
/// with [`TEXT_COLOUR`] and [`GRID_COLOUR`] standing for the theme's colours).
#[island]
fn ChartFigure(id: String, title: String, option: String, children: Children) -> impl IntoView {
    let chart_id = format!("chart-{id}");
    let caption_id = format!("chart-{id}-title");
    let (show_table, set_show_table) = signal(false);
    let label = format!("{title}: chart (the numbers are in the table below)");
    let canvas = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    draw::schedule(canvas, option);
    #[cfg(not(feature = "hydrate"))]
    let _ = option;
    let (labelled_by, test_id) = (caption_id.clone(), chart_id.clone());
    view! {
        <figure class="chart-figure" class:show-table=move || show_table.get() aria-labelledby=labelled_by data-testid=test_id>
            <figcaption class="chart-head">
                <span id=caption_id class="chart-title">{title}</span>
                <button type="button" class="button small chart-toggle" aria-expanded=move || if show_table.get() { "true" } else { "false" }
                    on:click=move |_| set_show_table.update(|s| *s = !*s)>
                    {move || if show_table.get() { "Hide table" } else { "Show table" }}
                </button>
            </figcaption>
            <div class="chart" id=chart_id node_ref=canvas role="img" aria-label=label></div>
            <div class="chart-table table-wrap">{children()}</div>
        </figure>
    }
}

/// Stands for the theme's muted text colour in an option (the page's `--muted`).
pub const TEXT_COLOUR: &str = "#text#";
/// Stands for the theme's grid line colour in an option (the page's `--border`).
pub const GRID_COLOUR: &str = "#grid#";

fn chart_table(data: &ChartData, zone: &str) -> AnyView {
    if data.kind == ChartType::HorizontalBar {
        let rows = data
            .lines
            .iter()
            .map(|l| {
                view! { <tr><th scope="row">{l.name.clone()}</th><td class="num">{fmt_value(l.metric, l.total)}</td></tr> }
            })
            .collect_view();
        let head = data.lines.first().map(|l| l.metric.label()).unwrap_or("");
        return view! {
            <table class="compact">
                <thead><tr><th scope="col">"Series"</th><th scope="col" class="num">{head}</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any();
    }
    let rows: Vec<usize> = (0..data.labels.len())
        .filter(|i| {
            data.lines.iter().any(|l| {
                l.values
                    .get(*i)
                    .copied()
                    .flatten()
                    .is_some_and(|v| v != 0.0)
            })
        })
        .collect();
    let head = data
        .lines
        .iter()
        .map(|l| view! { <th scope="col" class="num">{l.name.clone()}</th> })
        .collect_view();
    let body = rows
        .into_iter()
        .map(|i| {
            let cells = data
                .lines
                .iter()
                .map(|l| view! { <td class="num">{fmt_value(l.metric, l.values.get(i).copied().flatten())}</td> })
                .collect_view();
            view! { <tr><th scope="row">{data.labels[i].clone()}</th>{cells}</tr> }
        })
        .collect_view();
    let totals = data
        .lines
        .iter()
        .map(|l| view! { <td class="num">{fmt_value(l.metric, l.total)}</td> })
        .collect_view();
    view! {
        <table class="compact">
            <caption class="muted small">{format!("Times in {zone}; buckets without traffic are left out.")}</caption>
            <thead><tr><th scope="col">"Time"</th>{head}</tr></thead>
            <tbody>{body}</tbody>
            <tfoot><tr><th scope="row">"Whole frame"</th>{totals}</tr></tfoot>
        </table>
    }
    .into_any()
}

/// Drawing in the browser: waits for `echarts` and the mounted container, draws the
/// option in the theme's colours, resizes it with the window and disposes of it with
/// the island.
#[cfg(feature = "hydrate")]
mod draw {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::Duration;

    use leptos::prelude::*;
    use send_wrapper::SendWrapper;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;

    use super::{GRID_COLOUR, TEXT_COLOUR};

    #[wasm_bindgen]
    extern "C" {
        /// An ECharts instance.
        #[derive(Clone)]
        type Echarts;
        #[wasm_bindgen(method, js_name = setOption)]
        fn set_option(this: &Echarts, option: &JsValue);
        #[wasm_bindgen(method)]
        fn resize(this: &Echarts);
        #[wasm_bindgen(js_namespace = echarts, js_name = init)]
        fn echarts_init(el: &web_sys::Element, theme: JsValue, opts: JsValue) -> Echarts;
        #[wasm_bindgen(js_namespace = echarts, js_name = dispose)]
        fn echarts_dispose(chart: &Echarts);
    }

    struct Drawn {
        chart: Echarts,
        resize: Option<WindowListenerHandle>,
    }

    /// (the island is gone, what was drawn)
    type Slot = Rc<RefCell<(bool, Option<Drawn>)>>;

    /// Draws once the island's container is mounted (an effect) and `echarts` is
    /// defined.
    pub fn schedule(canvas: NodeRef<leptos::html::Div>, option: String) {
        let slot: Slot = Rc::new(RefCell::new((false, None)));
        let cleanup = SendWrapper::new(slot.clone());
        on_cleanup(move || {
            let mut s = cleanup.borrow_mut();
            s.0 = true;
            if let Some(d) = s.1.take() {
                if let Some(h) = d.resize {
                    h.remove();
                }
                echarts_dispose(&d.chart);
            }
        });
        Effect::new(move |_| {
            if let Some(el) = canvas.get() {
                attempt(el.into(), option.clone(), slot.clone(), 0);
            }
        });
    }

    fn echarts_ready() -> bool {
        js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("echarts"))
            .map(|v| !v.is_undefined())
            .unwrap_or(false)
    }

    fn attempt(el: web_sys::Element, option: String, slot: Slot, tries: u32) {
        if slot.borrow().0 || slot.borrow().1.is_some() {
            return;
        }
        // The script is deferred: it may run after the islands hydrate.
        if !echarts_ready() || !el.is_connected() {
            if tries < 300 {
                set_timeout(
                    move || attempt(el, option, slot, tries + 1),
                    Duration::from_millis(50),
                );
            }
            return;
        }
        let (text, grid) = theme_colours(&el);
        let json = option
            .replace(TEXT_COLOUR, &text)
            .replace(GRID_COLOUR, &grid);
        let Ok(parsed) = js_sys::JSON::parse(&json) else {
            return;
        };
        let drawn = echarts_init(&el, JsValue::NULL, JsValue::UNDEFINED);
        drawn.set_option(&parsed);
        let handle = drawn.clone();
        let resize = window_event_listener(leptos::ev::resize, move |_| handle.resize());
        slot.borrow_mut().1 = Some(Drawn {
            chart: drawn,
            resize: Some(resize),
        });
    }

    /// The page's muted text and border colours (its custom properties follow the
    /// light or dark theme).
    fn theme_colours(el: &web_sys::Element) -> (String, String) {
        let style =
            web_sys::window().and_then(|w| w.get_computed_style(el.unchecked_ref()).ok().flatten());
        let get = |name: &str, default: &str| {
            style
                .as_ref()
                .and_then(|s| s.get_property_value(name).ok())
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_string())
        };
        (get("--muted", "#5a6472"), get("--border", "#d9dde3"))
    }
}

/// The ECharts option of a chart, built with charming on the server.
#[cfg(feature = "ssr")]
mod option {
    use charming::component::{Axis, Grid, Legend, LegendType};
    use charming::element::{
        AxisLabel, AxisType, Formatter, LineStyle, SplitLine, TextStyle, Tooltip, Trigger,
    };
    use charming::series::{Bar, Line as LineSeries};
    use charming::Chart;

    use super::{ChartData, GRID_COLOUR, TEXT_COLOUR};
    use crate::model::ChartType;

    /// Colours that read on the light and the dark surface alike.
    const PALETTE: [&str; 8] = [
        "#3b82f6", "#8b5cf6", "#14b8a6", "#f59e0b", "#ec4899", "#64748b", "#22c55e", "#ef4444",
    ];

    fn class_colour(class: &str) -> &'static str {
        match class {
            "2xx" => "#22a05a",
            "3xx" => "#3b82f6",
            "4xx" => "#f59e0b",
            "5xx" => "#e5484d",
            _ => "#64748b",
        }
    }

    /// The option as JSON, the theme's colours as placeholders.
    pub fn build(data: &ChartData) -> String {
        let chart = chart(data, TEXT_COLOUR, GRID_COLOUR);
        let Ok(mut option) = serde_json::to_value(&chart) else {
            return chart.to_string();
        };
        // Every point of a line that shows its points, also on a narrow chart (ECharts
        // otherwise thins them out, and a lone point between gaps would vanish);
        // charming has no setter for it.
        if let Some(series) = option.get_mut("series").and_then(|s| s.as_array_mut()) {
            for s in series {
                if s.get("showSymbol") == Some(&serde_json::Value::Bool(true)) {
                    s["showAllSymbol"] = serde_json::Value::Bool(true);
                }
            }
        }
        option.to_string()
    }

    fn chart(data: &ChartData, text: &str, grid_colour: &str) -> Chart {
        let label = || AxisLabel::new().color(text);
        // Values with their unit where it is short ("12 ms", "5 %"); counts bare.
        let suffix = match data.unit {
            "ms" => " ms",
            "%" => " %",
            "bytes" => " B",
            _ => "",
        };
        let value_label = || {
            let l = label();
            if suffix.is_empty() {
                l
            } else {
                l.formatter(Formatter::String(format!("{{value}}{suffix}")))
            }
        };
        let split = || SplitLine::new().line_style(LineStyle::new().color(grid_colour));
        let unit = data.unit;
        let colours: Vec<&str> = data
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| match &l.class {
                Some(c) => class_colour(c),
                None => PALETTE[i % PALETTE.len()],
            })
            .collect();
        let chart = Chart::new().animation(false).color(colours).grid(
            Grid::new()
                .left(8)
                .right(16)
                .top(if data.lines.len() > 1 { 36 } else { 16 })
                .bottom(8)
                .contain_label(true),
        );
        if data.kind == ChartType::HorizontalBar {
            // Totals per series, the first on top.
            let names: Vec<String> = data.lines.iter().rev().map(|l| l.name.clone()).collect();
            let totals: Vec<Option<f64>> = data.lines.iter().rev().map(|l| l.total).collect();
            return chart
                .tooltip(
                    Tooltip::new()
                        .trigger(Trigger::Axis)
                        .formatter(Formatter::String(format!("{{b}}: {{c}} {unit}"))),
                )
                .x_axis(
                    Axis::new()
                        .type_(AxisType::Value)
                        .axis_label(value_label())
                        .split_line(split()),
                )
                .y_axis(
                    Axis::new()
                        .type_(AxisType::Category)
                        .data(names)
                        .axis_label(label()),
                )
                .series(Bar::new().name(unit).data(totals));
        }
        // A plain template (no inline styles: the page's CSP refuses them).
        let mut tip = String::from("{b}");
        for i in 0..data.lines.len() {
            tip.push_str(&format!("<br/>{{a{i}}}: {{c{i}}}"));
        }
        let mut chart = chart
            .legend(
                Legend::new()
                    .show(data.lines.len() > 1)
                    .top(0)
                    .left(0)
                    .type_(LegendType::Scroll)
                    .text_style(TextStyle::new().color(text)),
            )
            .tooltip(
                Tooltip::new()
                    .trigger(Trigger::Axis)
                    .formatter(Formatter::String(tip)),
            )
            .x_axis(
                Axis::new()
                    .type_(AxisType::Category)
                    .data(data.labels.clone())
                    .axis_label(label()),
            )
            .y_axis(
                Axis::new()
                    .type_(AxisType::Value)
                    .axis_label(value_label())
                    .split_line(split()),
            );
        for l in &data.lines {
            chart = match data.kind {
                ChartType::StackedBar => chart.series(
                    Bar::new()
                        .name(l.name.clone())
                        .stack("total")
                        .data(l.values.clone()),
                ),
                _ => chart.series(
                    LineSeries::new()
                        .name(l.name.clone())
                        .show_symbol(data.labels.len() <= 60)
                        .data(l.values.clone()),
                ),
            };
        }
        chart
    }
}

/// The period-over-period tiles: requests, error rate and average latency.
#[component]
pub fn SummaryTiles(summary: Summary, frame: TimeFrame) -> impl IntoView {
    let Summary {
        current, previous, ..
    } = summary;
    let before = format!("the previous {}", frame_noun(frame));
    let requests_change = change_percent(current.requests as f64, previous.requests as f64)
        .map(|c| (c, Tone::Neutral));
    // Rates and latencies of a period without requests do not exist.
    let was = |v: Option<f64>, f: fn(Option<f64>) -> String| match v {
        Some(_) => format!("{} in {before}", f(v)),
        None => format!("No requests in {before}"),
    };
    view! {
        <div class="tiles" role="group" aria-label="Summary">
            <Tile name="Requests" test_id="tile-requests" value=fmt_count(current.requests)
                change=requests_change
                previous=format!("{} in {before}", fmt_count(previous.requests))/>
            <Tile name="Error rate" test_id="tile-error-rate" value=fmt_percent(current.error_rate)
                change=opt_change(current.error_rate, previous.error_rate).map(|c| (c, Tone::UpIsBad))
                previous=was(previous.error_rate, fmt_percent)/>
            <Tile name="Average latency" test_id="tile-latency" value=fmt_ms(current.latency_avg_ms)
                change=opt_change(current.latency_avg_ms, previous.latency_avg_ms).map(|c| (c, Tone::UpIsBad))
                previous=was(previous.latency_avg_ms, fmt_ms)/>
        </div>
    }
}

/// "24 hours", "7 days".
fn frame_noun(frame: TimeFrame) -> &'static str {
    match frame {
        TimeFrame::M15 => "15 minutes",
        TimeFrame::H1 => "hour",
        TimeFrame::H6 => "6 hours",
        TimeFrame::H12 => "12 hours",
        TimeFrame::H24 => "24 hours",
        TimeFrame::D7 => "7 days",
        TimeFrame::D30 => "30 days",
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Tone {
    Neutral,
    UpIsBad,
}

/// The change in percent; `None` without both values (or without a base).
fn opt_change(current: Option<f64>, previous: Option<f64>) -> Option<f64> {
    change_percent(current?, previous?)
}

#[component]
fn Tile(
    name: &'static str,
    test_id: &'static str,
    value: String,
    change: Option<(f64, Tone)>,
    previous: String,
) -> impl IntoView {
    let delta = change.map(|(p, tone)| match p {
        p if p.abs() < 0.5 => view! { <span class="delta muted">"→ 0 %"</span> }.into_any(),
        p => {
            let up = p > 0.0;
            let class = match (tone, up) {
                (Tone::Neutral, _) => "delta neutral",
                (Tone::UpIsBad, true) => "delta bad",
                (Tone::UpIsBad, false) => "delta good",
            };
            let text = format!("{} {:.0} %", if up { "↑" } else { "↓" }, p.abs());
            let sr = format!(
                "{} by {:.0} % against the previous period",
                if up { "up" } else { "down" },
                p.abs()
            );
            view! { <span class=class><span aria-hidden="true">{text}</span><span class="sr-only">{sr}</span></span> }.into_any()
        }
    });
    view! {
        <div class="tile" data-testid=test_id>
            <div class="tile-name">{name}</div>
            <div class="tile-value">{value}</div>
            <div class="tile-change">{delta}<span class="muted small">{previous}</span></div>
        </div>
    }
}

/// The time frame selector: plain links to `?frame=…` (the other `keep` pairs kept).
#[component]
pub fn FrameSelector(
    /// The page's path.
    #[prop(into)]
    path: String,
    /// The section to scroll to (`analytics`).
    #[prop(into)]
    anchor: String,
    current: TimeFrame,
    /// The other query parameters to keep (`tz`, filters).
    keep: Vec<(&'static str, Option<String>)>,
) -> impl IntoView {
    view! {
        <nav class="segmented frames" aria-label="Time frame">
            {TimeFrame::ALL.into_iter().map(|f| {
                let mut pairs = keep.clone();
                pairs.push(("frame", (f != TimeFrame::default()).then(|| f.as_str().to_string())));
                let href = format!("{}#{anchor}", crate::pages::with_query(&path, &pairs));
                view! {
                    <a href=href title=f.label() aria-current=(f == current).then_some("true")>{f.as_str()}</a>
                }
            }).collect_view()}
        </nav>
    }
}

/// UTC or local time: links to `?tz=local` and back; says which zone the times are in,
/// and when local time cannot be had (without JavaScript the server knows no zone, and
/// shows UTC).
#[component]
pub fn ZoneSwitch(
    #[prop(into)] path: String,
    #[prop(into)] anchor: String,
    local: bool,
    /// The browser's zone the page was rendered in ([`local_zone`]).
    zone: Option<String>,
    keep: Vec<(&'static str, Option<String>)>,
) -> impl IntoView {
    let link = |tz: Option<&str>| {
        let mut pairs = keep.clone();
        pairs.push(("tz", tz.map(str::to_string)));
        format!("{}#{anchor}", crate::pages::with_query(&path, &pairs))
    };
    let (utc_href, local_href) = (link(None), link(Some("local")));
    let note = match (local, &zone) {
        (true, Some(z)) => format!("Times in {z}."),
        (true, None) => "Local time needs JavaScript: times are in UTC.".to_string(),
        (false, _) => "Times in UTC.".to_string(),
    };
    let rendered = if local { zone } else { None };
    view! {
        <div class="zone-switch">
            <nav class="segmented" aria-label="Time zone">
                <a href=utc_href aria-current=(!local).then_some("true")>"UTC"</a>
                <a href=local_href aria-current=local.then_some("true")>"Local"</a>
            </nav>
            <span class="muted small" data-testid="zone-note">{note}</span>
            <ZoneCookie local rendered/>
        </div>
    }
}

/// Tells the server the browser's zone: sets [`ZONE_COOKIE`] once hydrated, and
/// reloads a local-time page that was rendered in another zone (once: only when the
/// cookie was not already this zone).
#[island]
fn ZoneCookie(local: bool, rendered: Option<String>) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::JsCast;
        let Some(zone) = browser_time_zone() else {
            return;
        };
        let Some(doc) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.dyn_into::<web_sys::HtmlDocument>().ok())
        else {
            return;
        };
        let value = zone.replace('/', "%2F");
        let had = doc.cookie().unwrap_or_default();
        let known = had
            .split(';')
            .any(|c| c.trim() == format!("{ZONE_COOKIE}={value}"));
        if !known {
            let _ = doc.set_cookie(&format!(
                "{ZONE_COOKIE}={value}; path=/; max-age=31536000; SameSite=Lax"
            ));
            if local && rendered.as_deref() != Some(zone.as_str()) {
                if let Some(w) = web_sys::window() {
                    let _ = w.location().reload();
                }
            }
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (local, rendered);
}

/// A Service Hub card's traffic line: last 7 days, or "No traffic yet".
#[component]
pub fn TrafficFacts(totals: Option<Totals>) -> impl IntoView {
    match totals.filter(|t| t.requests > 0) {
        None => view! { <p class="traffic muted small" data-testid="card-traffic">"No traffic yet"</p> }.into_any(),
        Some(t) => view! {
            <dl class="traffic" data-testid="card-traffic" aria-label="Last 7 days">
                <div><dt>"Requests (7 d)"</dt><dd data-testid="card-requests">{fmt_count(t.requests)}</dd></div>
                <div><dt>"Errors"</dt><dd data-testid="card-error-rate">{fmt_percent(t.error_rate)}</dd></div>
                <div><dt>"p99"</dt><dd data-testid="card-p99">{fmt_ms(t.latency_p99_ms)}</dd></div>
            </dl>
        }
        .into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(fmt_count(0), "0");
        assert_eq!(fmt_count(1234567), "1,234,567");
        assert_eq!(fmt_percent(Some(20.0)), "20.0 %");
        assert_eq!(fmt_ms(Some(3.456)), "3.46 ms");
        assert_eq!(fmt_ms(Some(250.4)), "250 ms");
        assert_eq!(fmt_value(Metric::RequestCount, Some(15.0)), "15");
        assert_eq!(fmt_value(Metric::ResponseLatencyP99, None), "–");
    }

    #[test]
    fn shared_words_leave_the_legend() {
        assert_eq!(
            common_prefix(&["Response latency p50", "Response latency p99"]),
            "Response latency ".len()
        );
        assert_eq!(common_prefix(&["Requests", "4xx error rate"]), 0);
    }

    #[test]
    fn bucket_labels() {
        let t = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert_eq!(bucket_label(t, Granularity::Hour, false, "UTC"), "08:00");
        assert_eq!(
            bucket_label(t, Granularity::Hour, true, "UTC"),
            "01-15 08:00"
        );
        assert_eq!(bucket_label(t, Granularity::Day, true, "UTC"), "2027-01-15");
        // In the answer's zone (Berlin is UTC+1 in January); an unknown zone is UTC.
        assert_eq!(
            bucket_label(t, Granularity::Hour, true, "Europe/Berlin"),
            "01-15 09:00"
        );
        assert_eq!(
            bucket_label(t, Granularity::Hour, false, "Nowhere/Else"),
            "08:00"
        );
    }

    fn line(name: &str, class: Option<&str>, values: Vec<Option<f64>>) -> Line {
        Line {
            name: name.into(),
            metric: Metric::RequestCount,
            class: class.map(str::to_string),
            total: Some(values.iter().flatten().sum()),
            values,
        }
    }

    /// The option the browser draws: one series per line, stacked bars stacked,
    /// status classes in their colours, the theme's colours left for the browser.
    #[test]
    fn options_are_built_on_the_server() {
        let data = ChartData {
            kind: ChartType::StackedBar,
            labels: vec!["14:00".into(), "15:00".into()],
            lines: vec![
                line("2xx", Some("2xx"), vec![Some(12.0), None]),
                line("4xx", Some("4xx"), vec![Some(3.0), Some(1.0)]),
            ],
            unit: "requests",
        };
        let option: serde_json::Value =
            serde_json::from_str(&option::build(&data)).expect("the option is JSON");
        let series = option["series"].as_array().expect("series");
        assert_eq!(series.len(), 2);
        assert!(series
            .iter()
            .all(|s| s["type"] == "bar" && s["stack"] == "total"));
        assert_eq!(series[0]["name"], "2xx");
        assert_eq!(series[1]["data"], serde_json::json!([3.0, 1.0]));
        assert_eq!(series[0]["data"][1], serde_json::Value::Null);
        assert_eq!(option["color"], serde_json::json!(["#22a05a", "#f59e0b"]));
        assert_eq!(
            option["xAxis"]["data"],
            serde_json::json!(["14:00", "15:00"])
        );
        assert_eq!(option["xAxis"]["axisLabel"]["color"], TEXT_COLOUR);
        assert_eq!(
            option["yAxis"]["splitLine"]["lineStyle"]["color"],
            GRID_COLOUR
        );
        assert_eq!(option["legend"]["show"], true);

        let bars = ChartData {
            kind: ChartType::HorizontalBar,
            ..data.clone()
        };
        let option: serde_json::Value =
            serde_json::from_str(&option::build(&bars)).expect("the option is JSON");
        // Totals per series, the first on top.
        assert_eq!(option["yAxis"]["data"], serde_json::json!(["4xx", "2xx"]));
        assert_eq!(option["series"][0]["data"], serde_json::json!([4.0, 12.0]));

        // A line chart's points all show, however narrow the chart.
        let lines = ChartData {
            kind: ChartType::Line,
            ..data
        };
        let option: serde_json::Value =
            serde_json::from_str(&option::build(&lines)).expect("the option is JSON");
        assert!(option["series"]
            .as_array()
            .expect("series")
            .iter()
            .all(|s| s["type"] == "line" && s["showAllSymbol"] == true));
    }
}
