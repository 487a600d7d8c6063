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
                    <label for="a-action">"Action"</label>
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
                        <th scope="col">"Action"</th>
                        <th scope="col">"Target"</th>
                        <th scope="col">"Change"</th>
                    </tr>
                </thead>
                <tbody>
                    {page.data.into_iter().map(|e| view! {
                        <tr>
                            <td class="nowrap">{e.at.format("%Y-%m-%d").to_string()}<br/><span class="muted">{e.at.format("%H:%M:%S UTC").to_string()}</span></td>
                            <td>{e.actor_email.clone()}<br/><span class="muted small">{format!("from {}", e.source)}</span></td>
                            <td><code>{e.action.clone()}</code></td>
                            <td>{e.target_name.clone()}</td>
                            <td>
                                <ul class="changes">
                                    {describe(&e.summary).into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}
                                </ul>
                            </td>
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

/// A summary `{"before": {…}, "after": {…}}` as lines: `field: old → new` for what
/// changed, `field: value` for what was created or deleted.
pub fn describe(summary: &str) -> Vec<String> {
    use serde_json::Value;
    fn show(v: &Value) -> String {
        let text = match v {
            Value::String(s) if s.is_empty() => "(empty)".to_string(),
            Value::String(s) => s.clone(),
            Value::Null => "(none)".to_string(),
            Value::Object(m) if m.is_empty() => "(none)".to_string(),
            Value::Object(m) => m
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{k}:{}",
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string())
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
            other => other.to_string(),
        };
        if text.chars().count() > 60 {
            format!("{}…", text.chars().take(60).collect::<String>())
        } else {
            text
        }
    }
    let Ok(v) = serde_json::from_str::<Value>(summary) else {
        return vec![summary.chars().take(120).collect()];
    };
    let empty = serde_json::Map::new();
    let before = v.get("before").and_then(Value::as_object);
    let after = v.get("after").and_then(Value::as_object);
    let mut keys: Vec<&String> = before
        .unwrap_or(&empty)
        .keys()
        .chain(after.unwrap_or(&empty).keys())
        .collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for k in keys {
        let b = before.and_then(|m| m.get(k));
        let a = after.and_then(|m| m.get(k));
        match (b, a) {
            (Some(b), Some(a)) if b != a => out.push(format!("{k}: {} → {}", show(b), show(a))),
            (Some(_), Some(_)) => {}
            (Some(x), None) | (None, Some(x)) => out.push(format!("{k}: {}", show(x))),
            (None, None) => {}
        }
    }
    if out.is_empty() && (before.is_some() || after.is_some()) {
        out.push("no field changed".into());
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn summaries_read_as_changes() {
        let s = r#"{"before":{"name":"a","status":"published"},"after":{"name":"b","status":"published"}}"#;
        assert_eq!(super::describe(s), ["name: a → b"]);
        let s = r#"{"after":{"labels":{"team":"x"},"description":""}}"#;
        assert_eq!(
            super::describe(s),
            ["description: (empty)", "labels: team:x"]
        );
        assert!(super::describe("{}").is_empty());
    }
}
