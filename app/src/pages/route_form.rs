//! The route form: the common fields in front, the rest under "Advanced". With
//! JavaScript (an island) it is checked on the server as the user types (300 ms after
//! the last keystroke), before saving; it always saves as a plain form post.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use crate::api::*;
use crate::components::*;
use crate::error::AppError;
use crate::model::*;

/// The route form's state: the fields as typed, which ones the user touched, and the
/// server's answer to the last live check.
#[derive(Clone, Copy)]
struct RouteFormState {
    fields: RwSignal<RouteForm>,
    touched: RwSignal<BTreeSet<&'static str>>,
    live: RwSignal<Option<Vec<(String, String)>>>,
    seq: StoredValue<u64>,
    /// package id, version id, route id (empty for a new route)
    ids: StoredValue<(String, String, String)>,
    submit_error: FormError,
}

impl RouteFormState {
    /// What to show under `field`: the live check's answer once the user has typed
    /// in it (or the last submission failed on it), else the last submission's error.
    fn error(self, field: &'static str) -> Signal<Option<String>> {
        Signal::derive(move || {
            let submitted = self.submit_error.get();
            let live = self.live.get();
            let use_live = self.touched.with(|t| t.contains(field))
                || submitted.as_ref().and_then(|e| e.field()) == Some(field);
            match live {
                Some(list) if use_live => {
                    list.into_iter().find(|(f, _)| f == field).map(|(_, m)| m)
                }
                _ => field_message(submitted, field),
            }
        })
    }

    /// The user changed `field`: check the whole route on the server 300 ms after the
    /// last change.
    fn edit(self, field: &'static str, value: Option<String>) {
        self.fields.update(|f| f.set(field, value));
        self.touched.update(|t| {
            t.insert(field);
        });
        let n = self.seq.get_value() + 1;
        self.seq.set_value(n);
        set_timeout(
            move || {
                // The form may be gone by now (saved, navigated away): then do nothing.
                if self.seq.try_get_value() != Some(n) {
                    return;
                }
                let (Some(fields), Some((p, v, r))) =
                    (self.fields.try_get_untracked(), self.ids.try_get_value())
                else {
                    return;
                };
                leptos::task::spawn_local(async move {
                    if let Ok(list) = check_route_form(p, v, Some(r), fields).await {
                        if self.seq.try_get_value() == Some(n) {
                            self.live.try_set(Some(list));
                        }
                    }
                });
            },
            std::time::Duration::from_millis(300),
        );
    }
}

const ADVANCED_FIELDS: [&str; 10] = [
    "hosts",
    "headers",
    "protocols",
    "strip_path",
    "preserve_host",
    "regex_priority",
    "path_handling",
    "https_redirect_status_code",
    "expression",
    "priority",
];

/// The new-route form, or the edit form of `route`.
#[component]
pub(super) fn RouteFormCard(
    route: Option<Route>,
    page: String,
    ids: StoredValue<(String, String)>,
    save: ServerAction<SaveRoute>,
) -> impl IntoView {
    let (package_id, version_id) = ids.get_value();
    let route_id = route.as_ref().map(|r| r.id.to_string()).unwrap_or_default();
    let editing = route.is_some();
    let title = match &route {
        Some(r) => format!(
            "Edit route {}",
            r.fields.name.clone().unwrap_or_else(|| "(unnamed)".into())
        ),
        None => "New route".to_string(),
    };
    let defaults =
        RouteForm::from_input(&route.as_ref().map(|r| r.fields.clone()).unwrap_or_default());
    // After a rejected post without JavaScript, show what the user typed.
    let rejected = use_query_map()
        .read_untracked()
        .get("__path")
        .is_some_and(|p| p == SaveRoute::url());
    let initial = if rejected {
        let mut f = RouteForm::default();
        for name in ROUTE_FIELDS {
            f.set(name, submitted_value(name));
        }
        f
    } else {
        defaults
    };
    let error = action_error(save).get_untracked();
    let form = RouteFormProps {
        ids: (package_id, version_id, route_id),
        editing,
        page,
        title,
        initial,
    };
    view! { <RouteFormIsland form error/> }
}

/// What the route form's island starts from (rendered by the server).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(super) struct RouteFormProps {
    /// package id, version id, route id (empty for a new route)
    ids: (String, String, String),
    editing: bool,
    /// The version page (Cancel goes back to it).
    page: String,
    title: String,
    /// The fields as shown first.
    initial: RouteForm,
}

/// The route form, checked on the server as the user types (an island). It posts like
/// a form without JavaScript: the server redirects back to the page, which then lists
/// the route (or shows the error and what was typed).
#[island]
fn RouteFormIsland(form: RouteFormProps, error: Option<AppError>) -> impl IntoView {
    let RouteFormProps {
        ids: (package_id, version_id, route_id),
        editing,
        page,
        title,
        initial,
    } = form;
    let submit_error: FormError = Signal::stored(error);
    let state = RouteFormState {
        fields: RwSignal::new(initial.clone()),
        touched: RwSignal::new(BTreeSet::new()),
        live: RwSignal::new(None),
        seq: StoredValue::new(0),
        ids: StoredValue::new((package_id.clone(), version_id.clone(), route_id.clone())),
        submit_error,
    };
    let advanced_set = ADVANCED_FIELDS
        .iter()
        .any(|f| initial.get(f) != RouteForm::from_input(&RouteInput::default()).get(f));
    let open_advanced = move || {
        advanced_set
            || submit_error
                .get()
                .and_then(|e| e.field().map(|f| ADVANCED_FIELDS.contains(&f)))
                .unwrap_or(false)
    };
    let [name, methods, paths, hosts, headers, protocols, regex_priority, path_handling, redirect, expression, priority] =
        [
            "name",
            "methods",
            "paths",
            "hosts",
            "headers",
            "protocols",
            "regex_priority",
            "path_handling",
            "https_redirect_status_code",
            "expression",
            "priority",
        ]
        .map(|f| initial.get(f));
    let (strip_path, preserve_host) = (
        initial.strip_path.is_some(),
        initial.preserve_host.is_some(),
    );
    view! {
        <div class="gw-route-form" id="route-form">
            <h3 class="gw-subtitle">{title}</h3>
            <form method="post" action=SaveRoute::url()>
                <input type="hidden" name="package_id" value=package_id/>
                <input type="hidden" name="version_id" value=version_id/>
                <input type="hidden" name="route_id" value=route_id/>
                <div class="gw-grid gw-grid-2">
                    <RouteField state name="name" label="Name" value=name placeholder="orders"
                        hint="Optional. Letters, digits and . - _ ~; unique in the runtime group."/>
                    <RouteField state name="methods" label="Methods" value=methods placeholder="GET, POST"
                        hint="Comma-separated; empty for any method."/>
                </div>
                <RouteField state name="paths" label="Paths" value=paths multiline=true placeholder="/orders"
                    hint="One per line: a prefix such as /orders, or a regex starting with ~ (~/orders/\\d+$). With “Strip path” the matched part is removed before the request goes upstream."/>
                <details class="gw-advanced" open=open_advanced>
                    <summary>"Advanced"</summary>
                    <div class="gw-grid gw-grid-2">
                        <RouteField state name="hosts" label="Hosts" value=hosts multiline=true placeholder="api.example.com"
                            hint="One per line; wildcards *.example.com and example.*; empty for any host."/>
                        <RouteField state name="headers" label="Headers" value=headers multiline=true placeholder="X-Version: v1, v2"
                            hint="One per line: Name: value1, value2 (a value starting with ~* is a regex)."/>
                        <RouteField state name="protocols" label="Protocols" value=protocols placeholder="http, https"
                            hint="http, https or both; with https only, plain http is redirected."/>
                        <RouteField state name="regex_priority" label="Regex priority" value=regex_priority
                            hint="Regex paths of routes with a higher number are tried first."/>
                        <div class="field">
                            <label for="route-path_handling">"Path handling"</label>
                            <select id="route-path_handling" name="path_handling" aria-describedby="route-path_handling-error"
                                on:change=move |ev| state.edit("path_handling", Some(event_target_value(&ev)))>
                                <option value="v0" selected=path_handling == "v0">"v0"</option>
                                <option value="v1" selected=path_handling == "v1">"v1"</option>
                            </select>
                            <p class="hint">"How the upstream's path and the request's path are joined (Kong's v0 or v1)."</p>
                            <p class="field-error" id="route-path_handling-error" role="status">{move || state.error("path_handling").get()}</p>
                        </div>
                        <div class="field">
                            <label for="route-https_redirect_status_code">"HTTPS redirect status"</label>
                            <select id="route-https_redirect_status_code" name="https_redirect_status_code" aria-describedby="route-https_redirect_status_code-error"
                                on:change=move |ev| state.edit("https_redirect_status_code", Some(event_target_value(&ev)))>
                                {["426", "301", "302", "307", "308"].into_iter().map(|c| view! {
                                    <option value=c selected=redirect == c>{c}</option>
                                }).collect_view()}
                            </select>
                            <p class="hint">"The answer to plain http when the route takes https only."</p>
                            <p class="field-error" id="route-https_redirect_status_code-error" role="status">{move || state.error("https_redirect_status_code").get()}</p>
                        </div>
                    </div>
                    <div class="gw-checks">
                        <RouteCheck state name="strip_path" checked=strip_path label="Strip path (remove the matched path before proxying)"/>
                        <RouteCheck state name="preserve_host" checked=preserve_host label="Preserve host (send the client's Host header upstream)"/>
                    </div>
                    <div class="gw-grid gw-grid-expr">
                        <RouteField state name="expression" label="Expression" value=expression multiline=true
                            placeholder="http.path ^= \"/orders\" && http.method == \"GET\""
                            hint="Kong's expressions language, instead of methods, paths, hosts and headers."/>
                        <RouteField state name="priority" label="Priority" value=priority
                            hint="For an expression: higher is tried first."/>
                    </div>
                </details>
                <FormAlert error=submit_error fields=&ROUTE_FIELDS/>
                <div class="form-actions">
                    <button type="submit" class="button primary">{if editing { "Save route" } else { "Add route" }}</button>
                    {editing.then(|| view! { <a class="button" href=format!("{page}#routes")>"Cancel"</a> })}
                </div>
            </form>
        </div>
    }
}

/// A text field of the route form, with its error (live or from the last submission).
#[component]
fn RouteField(
    state: RouteFormState,
    name: &'static str,
    label: &'static str,
    value: String,
    #[prop(optional)] multiline: bool,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] hint: &'static str,
) -> impl IntoView {
    let id = format!("route-{name}");
    let hint_id = format!("{id}-hint");
    let err_id = format!("{id}-error");
    let described = if hint.is_empty() {
        err_id.clone()
    } else {
        format!("{hint_id} {err_id}")
    };
    let error = state.error(name);
    // The field the last post was refused for takes the focus when the page opens.
    let refused = error.get_untracked().is_some();
    let invalid = move || error.get().is_some().to_string();
    let on_input = move |ev: leptos::ev::Event| state.edit(name, Some(event_target_value(&ev)));
    let input = if multiline {
        let text = value.clone();
        view! {
            // The text inside for the server's HTML; the property for a form rendered in
            // the browser (after following an Edit link), where the text alone stays empty.
            <textarea id=id.clone() name=name rows="3" placeholder=placeholder autofocus=refused aria-describedby=described
                aria-invalid=invalid on:input=on_input prop:value=text>{value}</textarea>
        }
        .into_any()
    } else {
        view! {
            <input id=id.clone() name=name type="text" value=value placeholder=placeholder autocomplete="off"
                autofocus=refused aria-describedby=described aria-invalid=invalid on:input=on_input/>
        }
        .into_any()
    };
    view! {
        <div class="field">
            <label for=id>{label}</label>
            {input}
            {(!hint.is_empty()).then(|| view! { <p class="hint" id=hint_id.clone()>{hint}</p> })}
            <p class="field-error" id=err_id role="status">{move || error.get()}</p>
        </div>
    }
}

#[component]
fn RouteCheck(
    state: RouteFormState,
    name: &'static str,
    label: &'static str,
    checked: bool,
) -> impl IntoView {
    let error = state.error(name);
    let err_id = format!("route-{name}-error");
    view! {
        <label class="check">
            <input type="checkbox" name=name checked=checked aria-describedby=err_id.clone()
                on:change=move |ev| state.edit(name, event_target_checked(&ev).then(|| "on".to_string()))/>
            " "{label}
        </label>
        <p class="field-error" id=err_id role="status">{move || error.get()}</p>
    }
}
