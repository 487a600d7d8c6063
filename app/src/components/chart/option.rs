//! The ECharts option of a chart, built with charming on the server (the browser's
//! ECharts draws it; charming's types stay out of the wasm).

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
