//! A chart of an analytics answer, shared by the dashboards and the explorer: its
//! ECharts option built on the server with charming, drawn by the browser's ECharts in
//! an island, with the same numbers as a table.
//!
//! Without JavaScript the server-rendered table is the chart; with JavaScript the chart
//! is drawn into the figure's container once `echarts` (the trimmed build in
//! `/vendor/echarts.min.js`, loaded by [`ChartScript`] on chart pages only) is there,
//! and the table moves behind a "Show table" button (screen readers still read it).

use leptos::prelude::*;

use super::dashboard::{bucket_label, fmt_value};
use crate::model::analytics::Series;
use crate::model::{AnalyticsResult, ChartType, Granularity, Metric};

/// What a dashboard says when a time frame holds no requests.
pub const NO_TRAFFIC: &str =
    "No traffic in this time frame. Requests through the gateway appear here within 15 seconds.";

/// Loads the trimmed ECharts build; put it on pages that draw charts, and only there.
#[component]
pub fn ChartScript() -> impl IntoView {
    view! { <leptos_meta::Script src="/vendor/echarts.min.js" defer="defer"/> }
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
mod option;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_words_leave_the_legend() {
        assert_eq!(
            common_prefix(&["Response latency p50", "Response latency p99"]),
            "Response latency ".len()
        );
        assert_eq!(common_prefix(&["Requests", "4xx error rate"]), 0);
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
