//! Reusable views: page header, labels, badges, form fields, errors.

mod chart;
mod dashboard;
mod fields;
mod spec;
pub use chart::*;
pub use dashboard::*;
pub use fields::*;
pub use spec::*;

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{Labels, Me, Permission, VersionStatus};

/// Breadcrumbs, title and the page's primary actions.
#[component]
pub fn PageHeader(
    /// (label, link) pairs; the last one is the current page.
    crumbs: Vec<(String, String)>,
    #[prop(into)] title: String,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let last = crumbs.len().saturating_sub(1);
    view! {
        <header class="page-header">
            <nav aria-label="Breadcrumb" class="crumbs">
                <ol>
                    {crumbs
                        .into_iter()
                        .enumerate()
                        .map(|(i, (label, href))| {
                            if i == last {
                                view! { <li><span aria-current="page">{label}</span></li> }.into_any()
                            } else {
                                view! { <li><a href=href>{label}</a></li> }.into_any()
                            }
                        })
                        .collect_view()}
                </ol>
            </nav>
            <div class="title-row">
                <h1>{title}</h1>
                <div class="actions">{children.map(|c| c())}</div>
            </div>
        </header>
    }
}

#[component]
pub fn LabelList(labels: Labels) -> impl IntoView {
    if labels.is_empty() {
        return view! { <span class="muted">"No labels"</span> }.into_any();
    }
    view! {
        <ul class="labels" aria-label="Labels">
            {labels
                .into_iter()
                .map(|(k, v)| view! { <li class="label"><span class="label-key">{k}</span>":"<span>{v}</span></li> })
                .collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
pub fn StatusBadge(status: VersionStatus) -> impl IntoView {
    view! { <span class=format!("badge badge-{}", status.as_str())>{status.label()}</span> }
}

/// Renders an error; a not-found error also sets the HTTP status to 404.
#[component]
pub fn ErrorView(error: AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(code) = http::StatusCode::from_u16(error.status()) {
            res.set_status(code);
        }
    }
    let title = match &error {
        AppError::NotFound { .. } => "Not found",
        AppError::Validation { .. } | AppError::BadRequest { .. } => "That request is not valid",
        AppError::Conflict { .. } => "Conflict",
        AppError::Unauthorized { .. } => "Sign-in required",
        AppError::Forbidden { .. } => "Not allowed",
        AppError::TooManyRequests { .. } => "Too many attempts",
        AppError::Internal { .. } => "Something went wrong",
    };
    view! {
        <section class="card error-card" role="alert">
            <h1>{title}</h1>
            <p>{error.message().to_string()}</p>
            <p><a href="/service-hub">"Back to the Service Hub"</a></p>
        </section>
    }
}

/// A loading placeholder for Suspense.
#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="muted" aria-live="polite">"Loading…"</p> }
}

/// Formats a timestamp for tables: `2026-11-28 17:03 UTC`.
pub fn when(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The signed-in user for this page load, in the context.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Option<Me>);

/// Who is signed in, from the request (pages are rendered on the server; islands do
/// not ask).
pub fn load_current_user() -> Option<Me> {
    #[cfg(feature = "ssr")]
    {
        crate::ports::request_parts()
            .and_then(|p| p.extensions.get::<crate::model::Actor>().cloned())
            .map(|a| Me {
                id: a.user_id.unwrap_or_default(),
                email: a.email,
                role: a.role,
            })
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// The signed-in user, from the context.
pub fn current_user() -> Option<Me> {
    use_context::<CurrentUser>().and_then(|c| c.0)
}

/// Whether the signed-in user may do `action` (to show or hide controls; the server
/// decides anyway).
pub fn can(action: Permission) -> bool {
    current_user().is_some_and(|m| m.can(action))
}

/// Shows its children only to a user whose role allows `action`; others get a 403.
#[component]
pub fn Gate(action: Permission, children: Children) -> impl IntoView {
    if can(action) {
        children().into_any()
    } else {
        let role = current_user()
            .map(|m| m.role.label())
            .unwrap_or("Anonymous");
        view! {
            <ErrorView error=AppError::forbidden(format!(
                "Your role ({role}) cannot do this; it needs {} or higher.",
                action.least_role().label()
            ))/>
        }
        .into_any()
    }
}
