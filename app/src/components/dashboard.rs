//! The dashboards' analytics views around the charts: number formatting, bucket labels,
//! the period-over-period tiles, the time frame selector, the UTC / local time switch
//! (and the cookie that tells the server the browser's zone) and the Service Hub card's
//! traffic line.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::model::analytics::change_percent;
use crate::model::{Granularity, Metric, Summary, TimeFrame, Totals};

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
        crate::api::request_cookie(&parts.headers, ZONE_COOKIE)
            .filter(|v| v.parse::<chrono_tz::Tz>().is_ok())
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
}
