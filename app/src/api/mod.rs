//! Server functions: the UI's API. Each body is a few lines that call a port trait.
//! Endpoints are pinned so their URLs are stable: `/rpc/<area>/<name>`.

mod analytics;
mod analytics_reports;
mod auth;
mod consumers;
#[cfg(feature = "ssr")]
mod cookies;
mod docs;
mod explorer_form;
mod gateway;
mod gateway_forms;
mod packages;
mod plugin_forms;
mod plugins;
mod portal;
mod runtime_groups;
mod specs;
mod versions;

pub use analytics::*;
pub use analytics_reports::*;
pub use auth::*;
pub use consumers::*;
#[cfg(feature = "ssr")]
pub use cookies::*;
pub use docs::*;
pub use explorer_form::*;
pub use gateway::*;
pub use gateway_forms::*;
pub use packages::*;
pub use plugin_forms::*;
pub use plugins::*;
pub use portal::*;
pub use runtime_groups::*;
pub use specs::*;
pub use versions::*;

use crate::error::AppError;

/// Parses a UUID sent by a form.
pub fn parse_id(field: &str, text: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(text.trim())
        .map_err(|_| AppError::validation(field, format!("\"{text}\" is not a valid id.")))
}

/// Tells the browser (with or without JavaScript) to go to `path` after a mutation.
/// A path that cannot be a `Location` header (leptos_axum would panic on it) goes to
/// the Service Hub instead.
#[cfg(feature = "ssr")]
pub fn redirect(path: &str) {
    if http::HeaderValue::from_str(path).is_err() {
        tracing::error!(
            ?path,
            "not a valid redirect target; going to the Service Hub"
        );
        leptos_axum::redirect("/service-hub");
        return;
    }
    leptos_axum::redirect(path);
}
