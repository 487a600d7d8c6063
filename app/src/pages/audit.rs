//! `/settings/audit` (Admin): who changed what, when, from where.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::list_audit_events;
use crate::components::*;
use crate::model::*;

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let q = query.read();
            (
                q.get("user"),
                q.get("action"),
                q.get("target"),
                q.get("from"),
                q.get("to"),
                q.get("page"),
            )
        },
        |(user, action, target, from, to, page)| {
            list_audit_events(
                user,
                action,
                target,
                from,
                to,
                page.and_then(|p| p.parse().ok()),
            )
        },
    );
    let value = move |k: &str| query.read_untracked().get(k).unwrap_or_default();
    view! {
        <Gate action=Permission::Administer>
        <Title text="Audit log"/>
        <PageHeader crumbs=vec![("Settings".into(), String::new()), ("Audit log".into(), String::new())] title="Audit log"/>
        <section class="card">
            <form method="get" action="/settings/audit" class="toolbar" role="search" aria-label="Filter the audit log">
                <div class="field inline"><label for="a-user">"User"</label><input id="a-user" name="user" type="search" placeholder="email" value=value("user")/></div>
                <div class="field inline">
                    <label for="a-action">"Permission"</label>
                    <select id="a-action" name="action">
                        <option value="">"All"</option>
                        {["service_package.", "service_version.", "runtime_group.", "user.", "api_token."].iter().map(|a| {
                            let selected = value("action") == *a;
                            view! { <option value=*a selected=selected>{a.trim_end_matches('.').replace('_', " ")}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <div class="field inline"><label for="a-target">"Target"</label><input id="a-target" name="target" type="search" placeholder="name or id" value=value("target")/></div>
                <div class="field inline"><label for="a-from">"From (UTC)"</label><input id="a-from" name="from" type="datetime-local" value=value("from")/></div>
                <div class="field inline"><label for="a-to">"To (UTC)"</label><input id="a-to" name="to" type="datetime-local" value=value("to")/></div>
                <button type="submit" class="button">"Apply"</button>
            </form>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(page) if page.data.is_empty() => view! { <p class="empty">"No changes match."</p> }.into_any(),
                        Ok(page) => view! { <AuditTable page/> }.into_any(),
                        Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
        </Gate>
    }
}

#[component]
fn AuditTable(page: Page<AuditEvent>) -> impl IntoView {
    let query = use_query_map();
    let pages = page.page_count();
    let current = page.page;
    let link = move |p: u64| {
        let q = query.read_untracked();
        super::with_query(
            "/settings/audit",
            &[
                ("user", q.get("user")),
                ("action", q.get("action")),
                ("target", q.get("target")),
                ("from", q.get("from")),
                ("to", q.get("to")),
                ("page", Some(p.to_string())),
            ],
        )
    };
    view! {
        <p class="results-bar muted">{format!("{} change{}", page.total, if page.total == 1 { "" } else { "s" })}</p>
        <div class="table-wrap">
            <table class="audit">
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"Who"</th>
                        <th scope="col">"Permission"</th>
                        <th scope="col">"Target"</th>
                        <th scope="col">"Change"</th>
                        <th scope="col">"From"</th>
                    </tr>
                </thead>
                <tbody>
                    {page.data.into_iter().map(|e| view! {
                        <tr>
                            <td class="nowrap">{e.at.format("%Y-%m-%d %H:%M:%S UTC").to_string()}</td>
                            <td>{e.actor_email.clone()}</td>
                            <td><code>{e.action.clone()}</code></td>
                            <td>{e.target_name.clone()}</td>
                            <td><code class="summary">{e.summary.clone()}</code></td>
                            <td>{e.source.clone()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {(pages > 1).then(|| view! {
            <nav class="pager" aria-label="Pages">
                {(current > 1).then(|| view! { <a class="button small" href=link(current - 1)>"← Newer"</a> })}
                <span class="muted">{format!("Page {current} of {pages}")}</span>
                {(current < pages).then(|| view! { <a class="button small" href=link(current + 1)>"Older →"</a> })}
            </nav>
        })}
    }
}
