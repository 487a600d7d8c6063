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
    // Tests and scripts can wait for this marker before they interact.
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
