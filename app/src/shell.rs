use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::{path, SsrMode};

use crate::pages::*;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="data:,"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/portico.css"/>
        <Title formatter=|t: String| if t.is_empty() { "Portico".to_string() } else { format!("{t} · Portico") }/>
        <Router>
            <div class="layout">
                <a class="skip-link" href="#main">"Skip to content"</a>
                <Nav/>
                <main id="main" class="content">
                    <Routes fallback=|| view! { <NotFound/> }>
                        <Route path=path!("/service-hub") view=HubPage ssr=SsrMode::Async/>
                        <Route path=path!("/service-hub/new") view=NewPackagePage ssr=SsrMode::Async/>
                        <Route path=path!("/service-hub/:key") view=PackagePage ssr=SsrMode::Async/>
                        <Route path=path!("/service-hub/:key/versions/new") view=NewVersionPage ssr=SsrMode::Async/>
                        <Route path=path!("/service-hub/:key/versions/:version_id") view=VersionPage ssr=SsrMode::Async/>
                        <Route path=path!("/runtime-groups") view=RuntimeGroupsPage ssr=SsrMode::Async/>
                        <Route path=path!("/runtime-groups/new") view=NewRuntimeGroupPage ssr=SsrMode::Async/>
                        <Route path=path!("/runtime-groups/:id") view=RuntimeGroupPage ssr=SsrMode::Async/>
                    </Routes>
                </main>
            </div>
        </Router>
    }
}

#[component]
fn Nav() -> impl IntoView {
    view! {
        <nav class="sidebar" aria-label="Main">
            <a class="brand" href="/service-hub">
                <span class="brand-mark" aria-hidden="true">"◆"</span>
                " Portico"
            </a>
            <ul>
                <li><A href="/service-hub">"Service Hub"</A></li>
                <li><A href="/runtime-groups">"Runtime Groups"</A></li>
                <li><span class="nav-soon" title="Arrives with the analytics work">"Analytics"</span></li>
                <li><span class="nav-soon" title="Arrives with the documentation work">"Dev Portal"</span></li>
                <li><span class="nav-soon" title="Arrives with accounts">"Settings"</span></li>
            </ul>
        </nav>
    }
}
