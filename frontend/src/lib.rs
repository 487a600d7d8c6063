//! The browser side: hydrates the islands (the interactive parts) of the
//! server-rendered pages.
// The app's view types are deep; the wasm-release build needs more than the default.
#![recursion_limit = "512"]

// Links the app crate: its islands export their hydration functions (nothing here
// names the crate otherwise, and an unnamed dependency is not linked).
extern crate app;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    show_rejected_field();
    // Tests and scripts can wait for this marker before they interact.
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}

/// After a rejected post the server sends the browser back to the page with the error
/// in the URL (`__err`). A field the error is about has `autofocus` (the page opens at
/// it); an error about no field is an alert, which this brings into view.
fn show_rejected_field() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let rejected = window
        .location()
        .search()
        .is_ok_and(|q| q.contains("__err="));
    let Some(document) = window.document().filter(|_| rejected) else {
        return;
    };
    if document
        .query_selector("[autofocus]")
        .ok()
        .flatten()
        .is_some()
    {
        return;
    }
    if let Some(alert) = document.query_selector("[role=\"alert\"]").ok().flatten() {
        let options = web_sys::ScrollIntoViewOptions::new();
        options.set_block(web_sys::ScrollLogicalPosition::Center);
        alert.scroll_into_view_with_scroll_into_view_options(&options);
    }
}
