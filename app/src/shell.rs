use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::{path, SsrMode};

use crate::components::{current_user, load_current_user, CurrentUser};
use crate::model::Permission;
use crate::pages::*;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="data:,"/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The page's Content-Security-Policy: our own scripts and styles only, plus the
/// nonce of the inline scripts Leptos writes for hydration, plus 'wasm-unsafe-eval'.
#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    let nonce = leptos::nonce::use_nonce().map(|n| n.to_string());
    let policy = content_security_policy(nonce.as_deref());
    if let (Some(res), Ok(v)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&policy),
    ) {
        res.insert_header(http::header::CONTENT_SECURITY_POLICY, v);
    }
}

/// The Content-Security-Policy; `nonce` allows the inline scripts carrying it.
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let nonce = nonce.map(|n| format!(" 'nonce-{n}'")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'{nonce} 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(CurrentUser(load_current_user()));
    view! {
        <Stylesheet id="leptos" href="/pkg/portico.css"/>
        <Title formatter=|t: String| if t.is_empty() { "Portico".to_string() } else { format!("{t} · Portico") }/>
        <Router>
            <Frame/>
        </Router>
    }
}

/// The page frame: the dashboard's sidebar, or the portal's own (public) layout.
#[component]
fn Frame() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let in_portal = move || {
        let p = location.pathname.get();
        p == "/portal" || p.starts_with("/portal/")
    };
    view! {
            <div class=move || if in_portal() { "layout portal-layout" } else { "layout" }>
                <a class="skip-link" href="#main">"Skip to content"</a>
                {move || (!in_portal()).then(|| view! { <Nav/> })}
                <main id="main" class="content">
                    <Routes fallback=|| view! { <NotFound/> }>
                        <Route path=path!("/portal") view=PortalCatalogPage ssr=SsrMode::Async/>
                        <Route path=path!("/portal/services/:key") view=PortalPackagePage ssr=SsrMode::Async/>
                        <Route path=path!("/portal/services/:key/versions/:version_name") view=PortalPackagePage ssr=SsrMode::Async/>
                        <Route path=path!("/portal/services/:key/docs/:slug") view=PortalDocPage ssr=SsrMode::Async/>
                        <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                        <Route path=path!("/setup") view=SetupPage ssr=SsrMode::Async/>
                        <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async/>
                        <Route path=path!("/settings/users") view=UsersPage ssr=SsrMode::Async/>
                        <Route path=path!("/settings/audit") view=AuditPage ssr=SsrMode::Async/>
                        <Route path=path!("/service-hub") view=HubPage ssr=SsrMode::Async/>
                        <Route path=path!("/service-hub/new") view=NewPackagePage ssr=SsrMode::Async/>
                        <Route path=path!("/service-hub/:key") view=PackagePage ssr=SsrMode::Async/>
                        <Route path=path!("/service-hub/:key/docs/new") view=NewDocPage ssr=SsrMode::Async/>
                        <Route path=path!("/service-hub/:key/docs/:slug") view=DocPage ssr=SsrMode::Async/>
                        <Route path=path!("/service-hub/:key/versions/new") view=NewVersionPage ssr=SsrMode::Async/>
                        <Route path=path!("/service-hub/:key/versions/:version_id") view=VersionPage ssr=SsrMode::Async/>
                        <Route path=path!("/runtime-groups") view=RuntimeGroupsPage ssr=SsrMode::Async/>
                        <Route path=path!("/runtime-groups/new") view=NewRuntimeGroupPage ssr=SsrMode::Async/>
                        <Route path=path!("/runtime-groups/:id") view=RuntimeGroupPage ssr=SsrMode::Async/>
                        <Route path=path!("/runtime-groups/:id/consumers") view=ConsumersPage ssr=SsrMode::Async/>
                        <Route path=path!("/runtime-groups/:id/consumers/:consumer") view=ConsumerPage ssr=SsrMode::Async/>
                        <Route path=path!("/analytics") view=AnalyticsPage ssr=SsrMode::Async/>
                        <Route path=path!("/analytics/reports/:id") view=ReportPage ssr=SsrMode::Async/>
                    </Routes>
                </main>
            </div>
    }
}

#[component]
fn Nav() -> impl IntoView {
    let me = current_user();
    let signed_in = me.is_some();
    let admin = me.as_ref().is_some_and(|m| m.can(Permission::Administer));
    view! {
        <nav class="sidebar" aria-label="Main">
            <a class="brand" href="/service-hub">
                <span class="brand-mark" aria-hidden="true">"◆"</span>
                " Portico"
            </a>
            {signed_in.then(|| view! {
                <ul>
                    <li><A href="/service-hub">"Service Hub"</A></li>
                    <li><A href="/runtime-groups">"Runtime Groups"</A></li>
                    <li><A href="/analytics">"Analytics"</A></li>
                    <li><A href="/portal">"Dev Portal"</A></li>
                </ul>
            })}
            {admin.then(|| view! {
                <p class="nav-heading">"Settings"</p>
                <ul>
                    <li><A href="/settings/users">"Users"</A></li>
                    <li><A href="/settings/audit">"Audit log"</A></li>
                </ul>
            })}
            {me.map(|m| view! {
                <div class="nav-user">
                    <a href="/account" class="nav-user-email" title="Your account">{m.email.clone()}</a>
                    <span class="muted small">{m.role.label()}</span>
                    <form method="post" action=crate::api::Logout::url()>
                        <button type="submit" class="button small">"Sign out"</button>
                    </form>
                </div>
            })}
        </nav>
    }
}
