//! An API spec's facts and its rendered reference, for the dashboard and the portal.

use leptos::prelude::*;

use crate::model::*;

/// Size in KB or MB.
pub fn byte_size(n: u64) -> String {
    if n >= 1024 * 1024 {
        format!("{:.1} MB", n as f64 / (1024.0 * 1024.0))
    } else {
        format!("{:.1} KB", n as f64 / 1024.0)
    }
}

/// Dialect, title and version, size, warnings and the download link.
#[component]
pub fn SpecSummary(info: ApiSpecInfo, #[prop(into)] download: String) -> impl IntoView {
    let warnings = info.warnings.clone();
    view! {
        <div class="spec-facts">
            <span class="badge">{info.dialect()}</span>
            <strong>{info.title.clone()}</strong>
            <span class="muted">{format!("version {}", info.api_version)}</span>
            <span class="muted small">{format!("{} · {} · updated {}", info.format.to_uppercase(), byte_size(info.size), super::when(&info.updated_at))}</span>
            <a class="button small" href=download rel="nofollow">"Download spec"</a>
        </div>
        {(!warnings.is_empty()).then(|| view! {
            <div class="alert warning" role="status">
                <p>"Accepted with warnings:"</p>
                <ul>{warnings.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
            </div>
        })}
    }
}

/// The reference, rendered (and escaped) on the server.
#[component]
pub fn SpecReference(spec: SpecView) -> impl IntoView {
    view! { <div class="spec-host" inner_html=spec.html></div> }
}
