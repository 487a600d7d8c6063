//! The browser side: hydrates the islands (the interactive parts) of the
//! server-rendered pages.
// The app's view types are deep; the wasm-release build needs more than the default.
#![recursion_limit = "512"]

// Links the app crate: its islands export their hydration functions (nothing here
// names the crate otherwise, and an unnamed dependency is not linked).
extern crate app;

use wasm_bindgen::JsCast;

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
/// in the URL (`__err`), and the page opens at its top: bring the field the error is
/// about (else the error) into view, and put the focus on that field.
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
    let target = ["[aria-invalid=\"true\"]", "[role=\"alert\"]"]
        .into_iter()
        .find_map(|selector| document.query_selector(selector).ok().flatten());
    let Some(target) = target else {
        return;
    };
    let options = web_sys::ScrollIntoViewOptions::new();
    options.set_block(web_sys::ScrollLogicalPosition::Center);
    target.scroll_into_view_with_scroll_into_view_options(&options);
    if let Ok(field) = target.dyn_into::<web_sys::HtmlElement>() {
        let _ = field.focus();
    }
}
