use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::ErrorView;
use crate::error::AppError;

/// The page for any path that matches no route.
#[component]
pub fn NotFound() -> impl IntoView {
    let path = leptos_router::hooks::use_location()
        .pathname
        .get_untracked();
    let error = AppError::not_found("There is no page at this address.");
    if path == "/portal" || path.starts_with("/portal/") {
        return view! { <super::portal::PortalError error/> }.into_any();
    }
    view! {
        <Title text="Not found"/>
        <ErrorView error/>
    }
    .into_any()
}
