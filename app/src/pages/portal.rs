//! The public Dev Portal: published packages, their docs and API references. Works
//! without JavaScript; every page has a title, a meta description and a canonical link.

use leptos::prelude::*;
use leptos_meta::{Link, Meta, Title};
use leptos_router::hooks::{use_params_map, use_query_map};

use super::with_query;
use crate::api::*;
use crate::components::*;
use crate::error::AppError;
use crate::model::*;

/// A description cut to what search engines show.
fn meta_description(text: &str, fallback: &str) -> String {
    let t = if text.trim().is_empty() {
        fallback
    } else {
        text.trim()
    };
    let mut out: String = t.chars().take(160).collect();
    if t.chars().count() > 160 {
        out.push('…');
    }
    out
}

/// The portal's top bar: brand, search, and a way into the dashboard.
#[component]
fn PortalHeader(#[prop(optional, into)] q: String) -> impl IntoView {
    let signed_in = current_user().is_some();
    view! {
        <header class="portal-header">
            <a class="brand" href="/portal"><span class="brand-mark" aria-hidden="true">"◆"</span>" Dev Portal"</a>
            <form method="get" action="/portal" role="search" class="portal-search">
                <label for="portal-q" class="sr-only">"Search APIs"</label>
                <input id="portal-q" name="q" type="search" placeholder="Search APIs" value=q/>
                <button type="submit" class="button">"Search"</button>
            </form>
            {if signed_in {
                view! { <a class="button small" href="/service-hub">"Service Hub"</a> }.into_any()
            } else {
                view! { <a class="button small" href="/login">"Sign in"</a> }.into_any()
            }}
        </header>
    }
}

/// Anything the portal does not show: the same 404 whatever the reason.
#[component]
pub(crate) fn PortalError(error: AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(code) = http::StatusCode::from_u16(error.status()) {
            res.set_status(code);
        }
    }
    let title = if error.status() == 404 {
        "Not found"
    } else {
        "Something went wrong"
    };
    view! {
        <Title text=title/>
        <Meta name="robots" content="noindex"/>
        <PortalHeader/>
        <section class="card error-card" role="alert">
            <h1>{title}</h1>
            <p>{error.message().to_string()}</p>
            <p><a href="/portal">"Back to the Dev Portal"</a></p>
        </section>
    }
}

/// `/portal`: the catalog of published packages.
#[component]
pub fn PortalCatalogPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let q = query.read();
            let num = |k: &str| q.get(k).and_then(|p| p.parse::<u64>().ok());
            (q.get("q"), num("page"), q.get("view"), num("page_size"))
        },
        |(q, page, view, size)| load_portal_catalog(q, page, view, size),
    );
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(v) => view! { <PortalCatalogView data=v/> }.into_any(),
                    Err(e) => view! { <PortalError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn PortalCatalogView(data: PortalCatalogView) -> impl IntoView {
    let PortalCatalogView {
        origin,
        catalog,
        q,
        table,
    } = data;
    let q_opt = Some(q.clone()).filter(|s| !s.is_empty());
    let canonical = format!("{origin}{}", with_query("/portal", &[("q", q_opt.clone())]));
    let cards_href = with_query("/portal", &[("q", q_opt.clone())]);
    let table_href = with_query(
        "/portal",
        &[("q", q_opt.clone()), ("view", Some("table".into()))],
    );
    let view_name = table.then(|| "table".to_string());
    let size = (catalog.page_size != 48).then(|| catalog.page_size.to_string());
    let page_href = move |p: u64| {
        with_query(
            "/portal",
            &[
                ("q", q_opt.clone()),
                ("view", view_name.clone()),
                ("page_size", size.clone()),
                ("page", Some(p.to_string())),
            ],
        )
    };
    let pages = catalog.page_count();
    let page = catalog.page;
    let total = catalog.total;
    let heading = if q.is_empty() {
        "APIs".to_string()
    } else {
        format!("APIs matching \"{q}\"")
    };
    view! {
        <Title text="Dev Portal"/>
        <Meta name="description" content="Browse the published APIs: their documentation, versions and API reference."/>
        <Link rel="canonical" href=canonical/>
        <PortalHeader q=q.clone()/>
        <div class="portal-intro">
            <h1>{heading}</h1>
            <p class="muted">{format!("{total} published service(s)")}</p>
            <nav class="segmented" aria-label="View">
                <a href=cards_href aria-current=(!table).then_some("true")>"Cards"</a>
                <a href=table_href aria-current=table.then_some("true")>"Table"</a>
            </nav>
        </div>
        {if catalog.data.is_empty() {
            view! {
                <section class="card empty">
                    <h2>{if q.is_empty() { "Nothing published yet" } else { "No API matches this search" }}</h2>
                    <p class="muted">"Services appear here once their owners publish them in the Service Hub."</p>
                </section>
            }.into_any()
        } else if table {
            view! {
                <section class="card table-wrap">
                    <table class="table portal-table">
                        <thead><tr><th scope="col">"Service"</th><th scope="col">"Description"</th><th scope="col">"Latest version"</th><th scope="col">"Versions"</th></tr></thead>
                        <tbody>
                            {catalog.data.into_iter().map(|p| {
                                let latest = p.default_version().map(|v| v.name.clone()).unwrap_or_else(|| "—".into());
                                view! {
                                    <tr>
                                        <td><a href=format!("/portal/services/{}", p.key)>{p.display_name.clone()}</a></td>
                                        <td class="muted">{p.description.clone()}</td>
                                        <td>{latest}</td>
                                        <td>{p.versions.len()}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </section>
            }.into_any()
        } else {
            view! {
                <ul class="portal-cards">
                    {catalog.data.into_iter().map(|p| {
                        let latest = p.default_version().cloned();
                        view! {
                            <li class="card portal-service">
                                <h2><a href=format!("/portal/services/{}", p.key)>{p.display_name.clone()}</a></h2>
                                <p class="muted">{if p.description.is_empty() { "No description.".to_string() } else { p.description.clone() }}</p>
                                <p class="small">{match latest {
                                    Some(v) => view! { "Latest: "<strong>{v.name}</strong>{(v.status == VersionStatus::Deprecated).then(|| view! { " "<span class="badge badge-deprecated">"Deprecated"</span> })}{v.has_spec.then_some(" · API reference")} }.into_any(),
                                    None => view! { <span class="muted">"Documentation only"</span> }.into_any(),
                                }}</p>
                                <LabelList labels=p.labels.clone()/>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
        {(pages > 1).then(|| view! {
            <nav class="pager" aria-label="Pages">
                {(page > 1).then(|| view! { <a class="button small" href=page_href(page - 1) rel="prev">"Previous"</a> })}
                <span class="muted">{format!("Page {page} of {pages}")}</span>
                {(page < pages).then(|| view! { <a class="button small" href=page_href(page + 1) rel="next">"Next"</a> })}
            </nav>
        })}
    }
}

/// The left column of a package: versions (the selector) and the docs tree.
#[component]
fn PortalSidebar(
    package: PortalPackage,
    pages: Vec<Document>,
    #[prop(optional)] version: Option<String>,
    #[prop(optional)] slug: Option<String>,
) -> impl IntoView {
    let d = depths(&pages);
    let key = package.key.clone();
    let key2 = key.clone();
    view! {
        <nav class="portal-sidebar" aria-label="This service">
            {(!package.versions.is_empty()).then(|| view! {
                <h2 class="nav-heading">"Versions"</h2>
                <ul class="version-list">
                    {package.versions.iter().map(|v| {
                        let current = version.as_deref() == Some(v.name.as_str());
                        view! {
                            <li>
                                <a href=format!("/portal/services/{}/versions/{}", key, v.name) aria-current=current.then_some("page")>{v.name.clone()}</a>
                                {(v.status == VersionStatus::Deprecated).then(|| view! { " "<span class="badge badge-deprecated">"Deprecated"</span> })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
            {(!pages.is_empty()).then(|| view! {
                <h2 class="nav-heading">"Documentation"</h2>
                <ul class="doc-tree">
                    {pages.into_iter().zip(d).map(|(p, depth)| {
                        let current = slug.as_deref() == Some(p.slug.as_str());
                        view! {
                            <li class=format!("depth-{}", depth.min(4))>
                                <a href=format!("/portal/services/{}/docs/{}", key2, p.slug) aria-current=current.then_some("page")>{p.title.clone()}</a>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
        </nav>
    }
}

/// `/portal/services/{key}` and `/portal/services/{key}/versions/{version_name}`.
#[component]
pub fn PortalPackagePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let p = params.read();
            (
                p.get("key").unwrap_or_default(),
                p.get("version_name"),
                query.read().get("tag"),
            )
        },
        |(key, version, tag)| load_portal_package(key, version, tag),
    );
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                let explicit = params.read_untracked().get("version_name").is_some();
                match data.await {
                    Ok(v) => view! { <PortalPackageView data=v explicit/> }.into_any(),
                    Err(e) => view! { <PortalError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn PortalPackageView(data: PortalPackagePage, explicit: bool) -> impl IntoView {
    let PortalPackagePage { origin, view } = data;
    let PortalPackageView {
        package,
        pages,
        version,
        spec,
    } = view;
    let base = format!("/portal/services/{}", package.key);
    let path = match (&version, explicit) {
        (Some(v), true) => format!("{base}/versions/{}", v.name),
        _ => base.clone(),
    };
    let title = match (&version, explicit) {
        (Some(v), true) => format!("{} {}", package.display_name, v.name),
        _ => package.display_name.clone(),
    };
    let description = meta_description(
        &package.description,
        &format!("{} API: documentation and reference.", package.display_name),
    );
    let version_name = version.as_ref().map(|v| v.name.clone());
    let download = version
        .as_ref()
        .map(|v| format!("{base}/versions/{}/spec", v.name))
        .unwrap_or_default();
    view! {
        <Title text=title.clone()/>
        <Meta name="description" content=description/>
        <Link rel="canonical" href=format!("{origin}{path}")/>
        <PortalHeader/>
        <div class="portal-body">
            <PortalSidebar package=package.clone() pages=pages version=version_name.clone().unwrap_or_default()/>
            <article class="portal-main">
                <nav aria-label="Breadcrumb" class="crumbs"><ol><li><a href="/portal">"Dev Portal"</a></li><li aria-current="page">{package.display_name.clone()}</li></ol></nav>
                <h1>{title}</h1>
                {(!package.description.is_empty()).then(|| view! { <p class="description">{package.description.clone()}</p> })}
                <LabelList labels=package.labels.clone()/>
                {version.as_ref().filter(|v| v.status == VersionStatus::Deprecated).map(|v| view! {
                    <div class="banner deprecated" role="note">
                        <strong>"Deprecated. "</strong>
                        {format!("Version {} is deprecated: it still works, but plan to move to a newer version.", v.name)}
                    </div>
                })}
                {match (version, spec) {
                    (Some(_), Some(spec)) => view! {
                        <section class="spec-card" aria-label="API reference">
                            <SpecSummary info=spec.info.clone() download=download/>
                            <SpecReference spec=spec/>
                        </section>
                    }.into_any(),
                    (Some(v), None) => view! { <p class="muted">{format!("Version {} has no API reference yet.", v.name)}</p> }.into_any(),
                    (None, _) => view! { <p class="muted">"This service has documentation only."</p> }.into_any(),
                }}
            </article>
        </div>
    }
}

/// `/portal/services/{key}/docs/{slug}`
#[component]
pub fn PortalDocPage() -> impl IntoView {
    let params = use_params_map();
    let data = Resource::new(
        move || {
            let p = params.read();
            (
                p.get("key").unwrap_or_default(),
                p.get("slug").unwrap_or_default(),
            )
        },
        |(key, slug)| load_portal_doc(key, slug),
    );
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(v) => view! { <PortalDocView data=v/> }.into_any(),
                    Err(e) => view! { <PortalError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn PortalDocView(data: PortalDocPage) -> impl IntoView {
    let PortalDocPage { origin, view } = data;
    let PortalDocView {
        package,
        pages,
        page,
        html,
    } = view;
    let base = format!("/portal/services/{}", package.key);
    let description = meta_description(
        page.content
            .lines()
            .find(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .unwrap_or_default(),
        &format!("{} — {}", page.title, package.display_name),
    );
    view! {
        <Title text=format!("{} · {}", page.title, package.display_name)/>
        <Meta name="description" content=description/>
        <Link rel="canonical" href=format!("{origin}{base}/docs/{}", page.slug)/>
        <PortalHeader/>
        <div class="portal-body">
            <PortalSidebar package=package.clone() pages=pages slug=page.slug.clone()/>
            <article class="portal-main">
                <nav aria-label="Breadcrumb" class="crumbs"><ol>
                    <li><a href="/portal">"Dev Portal"</a></li>
                    <li><a href=base>{package.display_name.clone()}</a></li>
                    <li aria-current="page">{page.title.clone()}</li>
                </ol></nav>
                <div class="markdown" inner_html=html></div>
            </article>
        </div>
    }
}
