use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::with_query;
use crate::api::{hub_packages, load_hub_traffic, HubData, HubTraffic, HubView};
use crate::components::*;
use crate::error::AppError;
use crate::model::{Permission, ServicePackage};

#[derive(Clone, Default, PartialEq)]
struct HubParams {
    q: Option<String>,
    label: Option<String>,
    sort: Option<String>,
    page: Option<u64>,
    view: Option<String>,
}

impl HubParams {
    fn url(&self, page: Option<u64>, view: Option<&str>) -> String {
        with_query(
            "/service-hub",
            &[
                ("q", self.q.clone()),
                ("label", self.label.clone()),
                ("sort", self.sort.clone()),
                ("page", page.filter(|p| *p > 1).map(|p| p.to_string())),
                ("view", view.map(str::to_string)),
            ],
        )
    }
    fn filtered(&self) -> bool {
        self.q.as_deref().is_some_and(|s| !s.trim().is_empty())
            || self.label.as_deref().is_some_and(|s| !s.trim().is_empty())
    }
}

/// `/service-hub`: the catalog of service packages.
#[component]
pub fn HubPage() -> impl IntoView {
    let query = use_query_map();
    let params = Memo::new(move |_| {
        let q = query.read();
        HubParams {
            q: q.get("q"),
            label: q.get("label"),
            sort: q.get("sort"),
            page: q.get("page").and_then(|p| p.parse().ok()),
            view: q.get("view"),
        }
    });
    let data = Resource::new(
        move || params.get(),
        |p| hub_packages(p.q, p.label, p.sort, p.page, p.view),
    );
    let field = move |k: &'static str| move || query.read().get(k).unwrap_or_default();
    let sort = move || query.read().get("sort").unwrap_or_else(|| "name".into());
    view! {
        <Title text="Service Hub"/>
        <PageHeader crumbs=vec![("Service Hub".into(), "/service-hub".into())] title="Service Hub">
            {can(Permission::EditCatalog).then(|| view! { <a class="button primary" href="/service-hub/new">"+ New service package"</a> })}
        </PageHeader>
        <p class="lead">"Every service your teams run, with its versions in each runtime group."</p>
        <form method="get" action="/service-hub" class="toolbar" role="search" aria-label="Filter service packages">
            <div class="field inline">
                <label for="hub-q">"Name"</label>
                <input id="hub-q" name="q" type="search" placeholder="Filter by name" prop:value=field("q") value=field("q")/>
            </div>
            <div class="field inline">
                <label for="hub-label">"Label"</label>
                <input id="hub-label" name="label" type="search" placeholder="key:value" prop:value=field("label") value=field("label")/>
            </div>
            <div class="field inline">
                <label for="hub-sort">"Sort by"</label>
                <select id="hub-sort" name="sort">
                    <option value="name" selected=move || sort() == "name">"Name (A–Z)"</option>
                    <option value="-name" selected=move || sort() == "-name">"Name (Z–A)"</option>
                    <option value="modified" selected=move || sort() == "modified">"Recently modified"</option>
                    <option value="-modified" selected=move || sort() == "-modified">"Least recently modified"</option>
                </select>
            </div>
            <button type="submit" class="button">"Apply"</button>
        </form>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                let p = params.get_untracked();
                match data.await {
                    Ok(d) => view! { <HubResults data=d params=p/> }.into_any(),
                    Err(AppError::Validation { message, .. }) => {
                        view! { <div class="alert" role="alert">{message}</div> }.into_any()
                    }
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn HubResults(data: HubData, params: HubParams) -> impl IntoView {
    let HubData { page, view } = data;
    let total = page.total;
    let pages = page.page_count();
    let current = page.page;
    let cards_url = params.url(params.page, Some("cards"));
    let list_url = params.url(params.page, Some("list"));
    let prev = (current > 1).then(|| params.url(Some(current - 1), None));
    let next = (current < pages).then(|| params.url(Some(current + 1), None));
    let body = if page.data.is_empty() {
        if params.filtered() {
            view! {
                <div class="empty">
                    <h2>"No service packages match these filters"</h2>
                    <p><a href="/service-hub">"Clear the filters"</a></p>
                </div>
            }
            .into_any()
        } else {
            view! {
                <div class="empty">
                    <h2>"No service packages yet"</h2>
                    <p>"A service package is the catalog entry of one of your services. Create one, then add its versions."</p>
                    {can(Permission::EditCatalog).then(|| view! { <a class="button primary" href="/service-hub/new">"+ New service package"</a> })}
                </div>
            }
            .into_any()
        }
    } else if view == HubView::List {
        view! { <PackageTable packages=page.data/> }.into_any()
    } else {
        // One analytics call for the page's packages: last 7 days on every card.
        let ids = page
            .data
            .iter()
            .map(|p| p.id.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let traffic = Resource::new(move || ids.clone(), load_hub_traffic);
        view! { <PackageCards packages=page.data traffic/> }.into_any()
    };
    view! {
        <div class="results-bar">
            <p class="muted" aria-live="polite">{format!("{total} service package{}", if total == 1 { "" } else { "s" })}</p>
            <div class="segmented" role="group" aria-label="View">
                <a href=cards_url aria-current=(view == HubView::Cards).then_some("true")>"Cards"</a>
                <a href=list_url aria-current=(view == HubView::List).then_some("true")>"List"</a>
            </div>
        </div>
        {body}
        {(pages > 1).then(|| view! {
            <nav class="pager" aria-label="Pages">
                {prev.map(|u| view! { <a class="button" href=u rel="prev">"← Previous"</a> })}
                <span>{format!("Page {current} of {pages}")}</span>
                {next.map(|u| view! { <a class="button" href=u rel="next">"Next →"</a> })}
            </nav>
        })}
    }
}

fn versions_text(p: &ServicePackage) -> String {
    format!(
        "{} version{}",
        p.versions_count,
        if p.versions_count == 1 { "" } else { "s" }
    )
}

#[component]
fn PackageCards(
    packages: Vec<ServicePackage>,
    traffic: Resource<Result<HubTraffic, AppError>>,
) -> impl IntoView {
    view! {
        <ul class="cards">
            {packages
                .into_iter()
                .map(|p| {
                    let href = format!("/service-hub/{}", p.key);
                    view! {
                        <li class="card package-card">
                            <div class="card-top">
                                <h2><a href=href>{p.display_name.clone()}</a></h2>
                                {p.status_counts.headline().map(|s| view! { <StatusBadge status=s/> })}
                            </div>
                            <p class="key"><code>{p.key.clone()}</code></p>
                            <p class="description">{if p.description.is_empty() { "No description".to_string() } else { p.description.clone() }}</p>
                            <LabelList labels=p.labels.clone()/>
                            <Suspense fallback=|| view! { <p class="traffic muted small">"Traffic…"</p> }>
                                {move || Suspend::new(async move {
                                    // Without analytics (an error) the card just leaves the line out.
                                    traffic.await.ok().map(|t| {
                                        let totals = t.totals.iter().find(|(id, _)| *id == p.id).map(|(_, t)| *t);
                                        view! { <TrafficFacts totals/> }
                                    })
                                })}
                            </Suspense>
                            <p class="meta">{versions_text(&p)}" · modified "{when(&p.updated_at)}</p>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

#[component]
fn PackageTable(packages: Vec<ServicePackage>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table>
                <thead>
                    <tr><th scope="col">"Name"</th><th scope="col">"Labels"</th><th scope="col">"Versions"</th><th scope="col">"Status"</th><th scope="col">"Modified"</th></tr>
                </thead>
                <tbody>
                    {packages
                        .into_iter()
                        .map(|p| {
                            let href = format!("/service-hub/{}", p.key);
                            view! {
                                <tr>
                                    <td><a href=href>{p.display_name.clone()}</a><div class="muted small"><code>{p.key.clone()}</code></div></td>
                                    <td><LabelList labels=p.labels.clone()/></td>
                                    <td>{p.versions_count}</td>
                                    <td>{p.status_counts.headline().map(|s| view! { <StatusBadge status=s/> })}</td>
                                    <td>{when(&p.updated_at)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
