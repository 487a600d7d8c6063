//! The gateway in the UI: a version's implementation and routes (on its dashboard),
//! a runtime group's data planes and their tokens (on its page).
//!
//! Every form posts without JavaScript; with it, the route form is checked on the
//! server as the user types (300 ms after the last keystroke), before saving.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use crate::api::*;
use crate::components::*;
use crate::error::AppError;
use crate::model::gateway::{proxy_listen, token_name};
use crate::model::validate::FieldError;
use crate::model::*;

/// Counts the successful runs of an action (a failed one leaves the count alone, so a
/// resource keyed on it reloads after a change, not after a rejected form, and what
/// the user typed stays).
pub(crate) fn successes<S>(action: ServerAction<S>) -> Memo<u32>
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Memo::new(move |prev: Option<&u32>| {
        let n = prev.copied().unwrap_or(0);
        if action.value().with(|v| matches!(v, Some(Ok(_)))) {
            n + 1
        } else {
            n
        }
    })
}

/// The message of `error` when it is about `field`.
fn field_message(error: Option<AppError>, field: &str) -> Option<String> {
    error
        .filter(|e| e.field() == Some(field))
        .map(|e| e.message().to_string())
}

/// A copy button for the text of the element `target` (shown only once the page runs
/// JavaScript; without it the text is plain, selectable text).
#[component]
pub fn CopyButton(
    /// The text to copy.
    text: String,
    /// The id of the element that shows the text (selected when the clipboard is not
    /// available, e.g. on a plain-http origin).
    target: String,
    /// What is copied, for screen readers ("Copy the curl command").
    #[prop(into)]
    label: String,
) -> impl IntoView {
    let state = RwSignal::new("Copy");
    let on_click = move |_: leptos::ev::MouseEvent| {
        #[cfg(feature = "hydrate")]
        clipboard::copy(&text, &target, state);
        #[cfg(not(feature = "hydrate"))]
        let _ = (&text, &target);
    };
    view! {
        <button type="button" class="button small gw-copy" aria-label=label on:click=on_click>
            <span aria-live="polite">{move || state.get()}</span>
        </button>
    }
}

#[cfg(feature = "hydrate")]
mod clipboard {
    use leptos::prelude::*;
    use web_sys::js_sys::{Function, Promise, Reflect};
    use web_sys::wasm_bindgen::closure::Closure;
    use web_sys::wasm_bindgen::{JsCast, JsValue};

    fn get(target: &JsValue, key: &str) -> Option<JsValue> {
        Reflect::get(target, &JsValue::from_str(key))
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_null())
    }

    /// Selects the text of the element `id`, so that the user can copy it.
    fn select(id: &str) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let element = window.document().and_then(|d| d.get_element_by_id(id));
        let selection = get(&window, "getSelection")
            .and_then(|f| f.dyn_into::<Function>().ok())
            .and_then(|f| f.call0(&window).ok());
        if let (Some(element), Some(selection)) = (element, selection) {
            if let Some(f) =
                get(&selection, "selectAllChildren").and_then(|f| f.dyn_into::<Function>().ok())
            {
                let _ = f.call1(&selection, &element);
            }
        }
    }

    /// Writes `text` to the clipboard (`navigator.clipboard`, where the browser offers
    /// it); otherwise selects it for the user.
    pub fn copy(text: &str, target: &str, state: RwSignal<&'static str>) {
        let reset = move || {
            set_timeout(
                move || {
                    state.try_set("Copy");
                },
                std::time::Duration::from_secs(2),
            )
        };
        let write = web_sys::window()
            .and_then(|w| get(&w, "navigator"))
            .and_then(|n| get(&n, "clipboard"))
            .and_then(|c| {
                let f = get(&c, "writeText")?.dyn_into::<Function>().ok()?;
                f.call1(&c, &JsValue::from_str(text)).ok()
            })
            .and_then(|p| p.dyn_into::<Promise>().ok());
        match write {
            Some(promise) => {
                let target = target.to_string();
                let done = Closure::once(move |_: JsValue| {
                    state.try_set("Copied");
                    reset();
                });
                let failed = Closure::once(move |_: JsValue| {
                    select(&target);
                    state.try_set("Selected: press Ctrl+C");
                    reset();
                });
                let _ = promise.then2(&done, &failed);
                done.forget();
                failed.forget();
            }
            None => {
                select(target);
                state.set("Selected: press Ctrl+C");
                reset();
            }
        }
    }
}

fn check_upstream_url(s: &str) -> Result<(), FieldError> {
    ImplementationInput {
        url: Some(s.to_string()),
        ..Default::default()
    }
    .validate()
    .map(|_| ())
}

/// One number of the implementation form, checked alone.
fn check_number(field: &'static str, s: &str) -> Result<(), FieldError> {
    let get = |f: &str| if f == field { s } else { "" };
    implementation_input(
        "http://upstream",
        get("retries"),
        get("connect_timeout"),
        get("read_timeout"),
        get("write_timeout"),
        true,
    )
    .map_err(|e| FieldError::new(field, e.message()))?
    .validate()
    .map(|_| ())
}

fn check_retries(s: &str) -> Result<(), FieldError> {
    check_number("retries", s)
}
fn check_connect_timeout(s: &str) -> Result<(), FieldError> {
    check_number("connect_timeout", s)
}
fn check_read_timeout(s: &str) -> Result<(), FieldError> {
    check_number("read_timeout", s)
}
fn check_write_timeout(s: &str) -> Result<(), FieldError> {
    check_number("write_timeout", s)
}

/// The "Gateway" and "Routes" cards of a version's dashboard (`#gateway`).
#[component]
pub fn GatewaySection(package: ServicePackage, version: ServiceVersion) -> impl IntoView {
    let save_impl = ServerAction::<SaveImplementation>::new();
    let delete_impl = ServerAction::<DeleteImplementation>::new();
    let save_route = ServerAction::<SaveRoute>::new();
    let delete_route = ServerAction::<DeleteRoute>::new();
    let changes = (
        successes(save_impl),
        successes(delete_impl),
        successes(save_route),
        successes(delete_route),
    );
    let package_id = package.id.to_string();
    let version_id = version.id.to_string();
    let data = {
        let (p, v) = (package_id.clone(), version_id.clone());
        Resource::new(
            move || {
                (
                    changes.0.get(),
                    changes.1.get(),
                    changes.2.get(),
                    changes.3.get(),
                )
            },
            move |_| load_version_gateway(p.clone(), v.clone()),
        )
    };
    let ids = StoredValue::new((package_id, version_id));
    let page = format!("/service-hub/{}/versions/{}", package.key, version.id);
    let group_href = format!("/runtime-groups/{}", version.runtime_group_id);
    view! {
        <div id="gateway" class="gw-section">
            <Suspense fallback=Loading>
                {move || {
                    let (page, group_href) = (page.clone(), group_href.clone());
                    Suspend::new(async move {
                        match data.await {
                            Ok(g) => view! {
                                <ImplementationCard gateway=g.clone() group_href ids save=save_impl delete=delete_impl/>
                                <RoutesCard gateway=g page ids save=save_route saved=changes.2 delete=delete_route/>
                            }.into_any(),
                            Err(e) => view! {
                                <section class="card" aria-labelledby="gw-title">
                                    <h2 id="gw-title">"Gateway"</h2>
                                    <p class="alert" role="alert">{e.message().to_string()}</p>
                                </section>
                            }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </div>
    }
}

/// Whether the version takes traffic, and its implementation (the upstream).
#[component]
fn ImplementationCard(
    gateway: VersionGateway,
    group_href: String,
    ids: StoredValue<(String, String)>,
    save: ServerAction<SaveImplementation>,
    delete: ServerAction<DeleteImplementation>,
) -> impl IntoView {
    let VersionGateway {
        implementation,
        liveness,
        proxy_base,
        runtime_group,
        ..
    } = gateway;
    let editor = can(Permission::EditCatalog);
    let save_error = action_error(save);
    let delete_error = action_error(delete);
    let (package_id, version_id) = ids.get_value();
    let [retries, connect, read, write] = implementation_numbers(implementation.as_ref());
    let url = implementation
        .as_ref()
        .map(|i| i.url.clone())
        .unwrap_or_default();
    // After a rejected post without JavaScript, the box shows what was sent.
    let rejected = use_query_map()
        .read_untracked()
        .get("__path")
        .is_some_and(|p| p == SaveImplementation::url());
    let enabled = if rejected {
        submitted_value("enabled").is_some()
    } else {
        implementation.as_ref().is_none_or(|i| i.enabled)
    };
    let has_impl = implementation.is_some();
    let live = liveness.live;
    let form = {
        let (package_id, version_id) = (package_id.clone(), version_id.clone());
        view! {
            <ActionForm action=save attr:class="gw-form">
                <input type="hidden" name="package_id" value=package_id/>
                <input type="hidden" name="version_id" value=version_id/>
                <TextField label="Upstream URL" name="url" value=url required=true check=check_upstream_url error=save_error
                    placeholder="http://127.0.0.1:8080/api" hint="Where requests go: http:// or https://, a host, an optional port and path."/>
                <div class="gw-grid gw-grid-4">
                    <TextField label="Retries" name="retries" value=retries check=check_retries error=save_error/>
                    <TextField label="Connect timeout (ms)" name="connect_timeout" value=connect check=check_connect_timeout error=save_error/>
                    <TextField label="Read timeout (ms)" name="read_timeout" value=read check=check_read_timeout error=save_error/>
                    <TextField label="Write timeout (ms)" name="write_timeout" value=write check=check_write_timeout error=save_error/>
                </div>
                <label class="check gw-check"><input type="checkbox" name="enabled" checked=enabled/>" Enabled (when off, this version's routes take no traffic)"</label>
                <FormAlert error=save_error fields=&["url", "retries", "connect_timeout", "read_timeout", "write_timeout"]/>
                <div class="form-actions">
                    <button type="submit" class="button primary">{if has_impl { "Save implementation" } else { "Set implementation" }}</button>
                </div>
            </ActionForm>
        }
    };
    view! {
        <section class="card" aria-labelledby="gw-title">
            <div class="title-row section-head">
                <h2 id="gw-title">"Gateway"</h2>
                {if live {
                    view! { <span class="badge gw-ok" data-testid="gateway-live">"Live"</span> }.into_any()
                } else {
                    view! { <span class="badge gw-off" data-testid="gateway-live">"Not live"</span> }.into_any()
                }}
            </div>
            {(!live).then(|| view! {
                <div class="gw-missing">
                    <p>"To take traffic, this version still needs:"</p>
                    <ul>{liveness.missing.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}</ul>
                </div>
            })}
            <p class="muted gw-proxy">
                // The overview above links the group by its name already.
                "Runtime group "<strong>{runtime_group.clone()}</strong>
                {match proxy_base {
                    Some(base) => view! { " proxies at "<code>{base}</code>"." }.into_any(),
                    None => view! {
                        " has no proxy address in this Portico: set one on "<a href=group_href.clone()>"the group's page"</a>
                        ", or connect a data plane with a token."
                    }.into_any(),
                }}
            </p>
            <h3 class="gw-subtitle">"Implementation"</h3>
            {match implementation {
                Some(i) => view! {
                    <dl class="facts gw-facts">
                        <div class="gw-wide"><dt>"Upstream URL"</dt><dd><code data-testid="upstream-url">{i.url.clone()}</code></dd></div>
                        <div><dt>"Retries"</dt><dd>{i.retries}</dd></div>
                        <div><dt>"Connect timeout"</dt><dd>{format!("{} ms", i.connect_timeout)}</dd></div>
                        <div><dt>"Read timeout"</dt><dd>{format!("{} ms", i.read_timeout)}</dd></div>
                        <div><dt>"Write timeout"</dt><dd>{format!("{} ms", i.write_timeout)}</dd></div>
                        <div><dt>"Enabled"</dt><dd>{if i.enabled { "Yes" } else { "No" }}</dd></div>
                    </dl>
                }.into_any(),
                None => view! {
                    <p class="muted">"No implementation yet: give the URL of the service that answers this version's requests."</p>
                }.into_any(),
            }}
            {editor.then(move || if has_impl {
                view! {
                    <details class="gw-edit" open=move || save_error.get().is_some()>
                        <summary>"Edit implementation"</summary>
                        {form}
                        <ActionForm action=delete attr:class="inline-form gw-remove">
                            <input type="hidden" name="package_id" value=package_id.clone()/>
                            <input type="hidden" name="version_id" value=version_id.clone()/>
                            <button type="submit" class="button small danger-outline">"Remove the implementation"</button>
                        </ActionForm>
                        <FormAlert error=delete_error fields=&[]/>
                    </details>
                }.into_any()
            } else {
                form.into_any()
            })}
        </section>
    }
}

/// The routes of a version: a table with their proxy URLs and curl commands, and the
/// form to add one or (with `?edit=<id>`) change one.
#[component]
fn RoutesCard(
    gateway: VersionGateway,
    page: String,
    ids: StoredValue<(String, String)>,
    save: ServerAction<SaveRoute>,
    /// How many times a route was saved (the form starts anew after each).
    saved: Memo<u32>,
    delete: ServerAction<DeleteRoute>,
) -> impl IntoView {
    let editor = can(Permission::EditCatalog);
    let delete_error = action_error(delete);
    let query = use_query_map();
    let routes = gateway.routes;
    let has_proxy = gateway.proxy_base.is_some();
    let table_routes = routes.clone();
    let (package_id, version_id) = ids.get_value();
    let page_edit = page.clone();
    view! {
        <section class="card" id="routes" aria-labelledby="routes-title">
            <h2 id="routes-title">"Routes"</h2>
            <p class="muted">"A request that matches a route goes to the implementation's upstream. Fields and matching follow Kong's routes."</p>
            {if table_routes.is_empty() {
                view! { <p class="empty gw-empty">"No routes yet: add one below to choose which requests reach this version."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="gw-routes">
                            <thead>
                                <tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"Methods"</th>
                                    <th scope="col">"Paths"</th>
                                    <th scope="col">"Hosts"</th>
                                    <th scope="col">"Protocols"</th>
                                    <th scope="col"><span class="sr-only">"Actions"</span></th>
                                </tr>
                            </thead>
                            {table_routes.into_iter().map(|rv| {
                                let (package_id, version_id) = (package_id.clone(), version_id.clone());
                                view! { <RouteRows rv page=page.clone() package_id version_id editor has_proxy delete/> }
                            }).collect_view()}
                        </table>
                    </div>
                }.into_any()
            }}
            <FormAlert error=delete_error fields=&[]/>
            // A new form (new inputs, new state) for another route to edit and after each
            // save; re-rendering in place would keep what was typed in the inputs.
            {editor.then(move || view! {
                <For each=move || [(query.read().get("edit"), saved.get())] key=|k| k.clone() let:k>
                    {
                        let route = k
                            .0
                            .as_deref()
                            .and_then(|id| routes.iter().find(|r| r.route.id.to_string() == id))
                            .map(|r| r.route.clone());
                        view! { <RouteFormCard route page=page_edit.clone() ids save/> }
                    }
                </For>
            })}
        </section>
    }
}

/// A route's row and the row under it with its curl command.
#[component]
fn RouteRows(
    rv: RouteView,
    page: String,
    package_id: String,
    version_id: String,
    editor: bool,
    has_proxy: bool,
    delete: ServerAction<DeleteRoute>,
) -> impl IntoView {
    let RouteView {
        route,
        proxy_url,
        curl,
    } = rv;
    let f = route.fields;
    let id = route.id.to_string();
    let name = f.name.clone().unwrap_or_default();
    let label = if name.is_empty() {
        "(unnamed)".to_string()
    } else {
        name.clone()
    };
    let any = |v: &[String], what: &'static str| {
        if v.is_empty() {
            view! { <span class="muted">{what}</span> }.into_any()
        } else {
            view! { <ul class="gw-list">{v.iter().map(|x| view! { <li><code>{x.clone()}</code></li> }).collect_view()}</ul> }.into_any()
        }
    };
    let paths = match &f.expression {
        Some(e) => {
            view! { <span class="muted">"Expression: "</span><code>{e.clone()}</code> }.into_any()
        }
        None => any(&f.paths, "any path"),
    };
    let curl_id = format!("curl-{id}");
    let copy_label = format!("Copy the curl command of route {label}");
    let edit_href = format!("{page}?edit={id}#route-form");
    view! {
        <tbody class="gw-route">
            <tr>
                <td class="gw-name gw-nowrap">{if name.is_empty() { view! { <span class="muted">{label.clone()}</span> }.into_any() } else { view! { <strong>{label.clone()}</strong> }.into_any() }}</td>
                <td>{any(&f.methods, "any")}</td>
                <td>{paths}</td>
                <td>{any(&f.hosts, "any")}</td>
                <td class="gw-nowrap">{f.protocols.join(", ")}</td>
                <td class="row-actions">
                    {editor.then(|| view! {
                        <div class="gw-actions">
                            <a class="button small" href=edit_href aria-label=format!("Edit route {label}")>"Edit"</a>
                            <ActionForm action=delete attr:class="inline-form">
                                <input type="hidden" name="package_id" value=package_id/>
                                <input type="hidden" name="version_id" value=version_id/>
                                <input type="hidden" name="route_id" value=id.clone()/>
                                <button type="submit" class="button small danger-outline" aria-label=format!("Delete route {label}")>"Delete"</button>
                            </ActionForm>
                        </div>
                    })}
                </td>
            </tr>
            <tr class="gw-curl-row">
                <td colspan="6">
                    {match (proxy_url, curl) {
                        (Some(u), Some(c)) => view! {
                            <div class="gw-call">
                                <span class="gw-call-label">"Proxy URL"</span>
                                <code class="gw-url" data-testid="route-proxy-url">{u}</code>
                                <span></span>
                                <span class="gw-call-label">"Try it"</span>
                                <code id=curl_id.clone() class="gw-command" tabindex="0" data-testid="route-curl">{c.clone()}</code>
                                <CopyButton text=c target=curl_id label=copy_label/>
                            </div>
                        }.into_any(),
                        _ => view! {
                            <p class="muted small">{if has_proxy { "" } else { "No proxy address in this Portico for the runtime group: its data planes elsewhere serve this route." }}</p>
                        }.into_any(),
                    }}
                </td>
            </tr>
        </tbody>
    }
}

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
fn RouteFormCard(
    route: Option<Route>,
    page: String,
    ids: StoredValue<(String, String)>,
    save: ServerAction<SaveRoute>,
) -> impl IntoView {
    let (package_id, version_id) = ids.get_value();
    let route_id = route.as_ref().map(|r| r.id.to_string()).unwrap_or_default();
    let editing = route.is_some();
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
        defaults.clone()
    };
    let submit_error = action_error(save);
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
    let title = match &route {
        Some(r) => format!(
            "Edit route {}",
            r.fields.name.clone().unwrap_or_else(|| "(unnamed)".into())
        ),
        None => "New route".to_string(),
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
            <ActionForm action=save>
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
            </ActionForm>
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
    let invalid = move || error.get().is_some().to_string();
    let on_input = move |ev: leptos::ev::Event| state.edit(name, Some(event_target_value(&ev)));
    let input = if multiline {
        let text = value.clone();
        view! {
            // The text inside for the server's HTML; the property for a form rendered in
            // the browser (after following an Edit link), where the text alone stays empty.
            <textarea id=id.clone() name=name rows="3" placeholder=placeholder aria-describedby=described
                aria-invalid=invalid on:input=on_input prop:value=text>{value}</textarea>
        }
        .into_any()
    } else {
        view! {
            <input id=id.clone() name=name type="text" value=value placeholder=placeholder autocomplete="off"
                aria-describedby=described aria-invalid=invalid on:input=on_input/>
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

fn check_proxy_listen_field(s: &str) -> Result<(), FieldError> {
    proxy_listen("proxy_listen", s).map(|_| ())
}

/// The proxy listen address field of the runtime group form.
#[component]
pub fn ProxyListenField(value: String, error: FormError) -> impl IntoView {
    view! {
        <TextField label="Proxy listen address" name="proxy_listen" value=value check=check_proxy_listen_field error=error
            placeholder="127.0.0.1:8000"
            hint="IP:port where portico serve runs this group's data plane, e.g. 127.0.0.1:8000; empty for none."/>
    }
}

fn check_token_name(s: &str) -> Result<(), FieldError> {
    token_name("name", s)
}

/// A word as a shell argument: quoted when it holds anything but safe characters.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '/' | '~'))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The "Data planes" card of a runtime group: its proxy address, config version,
/// nodes, and the tokens that let other data planes connect.
#[component]
pub fn DataPlanesSection(group: RuntimeGroup) -> impl IntoView {
    let create = ServerAction::<CreateDpToken>::new();
    let revoke = ServerAction::<RevokeDpToken>::new();
    let changes = (successes(create), successes(revoke));
    let created = changes.0;
    let group_id = group.id.to_string();
    let data = {
        let g = group_id.clone();
        Resource::new(
            move || (changes.0.get(), changes.1.get()),
            move |_| load_group_gateway(g.clone()),
        )
    };
    let create_error = action_error(create);
    let revoke_error = action_error(revoke);
    let editor = can(Permission::EditCatalog);
    let name = group.name.clone();
    view! {
        <section class="card" id="data-planes" aria-labelledby="dp-title">
            <h2 id="dp-title">"Data planes"</h2>
            <Suspense fallback=Loading>
                {move || {
                    let (group_id, name) = (group_id.clone(), name.clone());
                    Suspend::new(async move {
                        let panel = match data.await {
                            Ok(p) => p,
                            Err(e) => return view! { <p class="alert" role="alert">{e.message().to_string()}</p> }.into_any(),
                        };
                        let DataPlanesPanel { gateway, new_secret, control_plane } = panel;
                        let connected = gateway.nodes.iter().filter(|n| n.connected).count();
                        let total = gateway.nodes.len();
                        let config_version = gateway.config_version;
                        let command = move |token: &str| format!(
                            "portico gateway --control-plane {} --runtime-group {} --token {} --listen 127.0.0.1:8000 --cache-dir ./gateway-cache",
                            shell_word(&control_plane), shell_word(&name), token
                        );
                        let example = command("<token>");
                        let fresh = {
                            let command = command.clone();
                            move || {
                                create
                                    .value()
                                    .get()
                                    .and_then(|r| r.ok())
                                    .map(|c| c.secret)
                                    .or_else(|| new_secret.clone())
                                    .map(|secret| (secret.clone(), command(&secret)))
                            }
                        };
                        view! {
                            <dl class="facts">
                                <div><dt>"Proxy address"</dt><dd>{match gateway.proxy_listen.clone() {
                                    Some(a) => view! { <code data-testid="proxy-listen">{a}</code> }.into_any(),
                                    None => view! { <span class="muted">"none"</span> }.into_any(),
                                }}</dd></div>
                                <div><dt>"Config version"</dt><dd>{config_version}</dd></div>
                                <div><dt>"Connected nodes"</dt><dd>{format!("{connected} of {total}")}</dd></div>
                            </dl>
                            <p class="muted"><code>"portico serve"</code>" runs this group's data plane on its proxy address. Data planes elsewhere connect with a token below and keep serving their last configuration while the control plane is away."</p>
                            <h3 class="gw-subtitle">"Nodes"</h3>
                            {if gateway.nodes.is_empty() {
                                view! { <p class="muted">"No data plane has connected yet."</p> }.into_any()
                            } else {
                                view! { <NodeTable nodes=gateway.nodes.clone() config_version/> }.into_any()
                            }}
                            <h3 class="gw-subtitle">"Tokens"</h3>
                            <p class="muted">"A data plane token lets one data plane fetch this group's configuration. It is shown once, when created."</p>
                            {move || fresh().map(|(secret, cmd)| view! {
                                <div class="alert success gw-secret" role="status">
                                    <p><strong>"Copy the new token now; it will not be shown again."</strong></p>
                                    <div class="gw-curl">
                                        <code class="secret" id="dp-new-token" data-testid="new-dp-token">{secret.clone()}</code>
                                        <CopyButton text=secret target="dp-new-token".to_string() label="Copy the token"/>
                                    </div>
                                    <p>"Start a data plane with it:"</p>
                                    <div class="gw-curl">
                                        <code class="gw-command" tabindex="0" id="dp-command">{cmd.clone()}</code>
                                        <CopyButton text=cmd target="dp-command".to_string() label="Copy the command"/>
                                    </div>
                                </div>
                            })}
                            {editor.then({
                                let gid = StoredValue::new(group_id.clone());
                                // A new form after each token created (an empty name field).
                                move || view! {
                                <For each=move || [created.get()] key=|n| *n let:_n>
                                    <ActionForm action=create attr:class="gw-token-form">
                                        <input type="hidden" name="group" value=gid.get_value()/>
                                        <TextField label="Token name" name="name" required=true check=check_token_name error=create_error
                                            placeholder="edge-eu-1" id_prefix="dp-token-"/>
                                        <button type="submit" class="button primary">"Create token"</button>
                                    </ActionForm>
                                </For>
                                <FormAlert error=create_error fields=&["name"]/>
                            }})}
                            <FormAlert error=revoke_error fields=&[]/>
                            {if gateway.tokens.is_empty() {
                                view! { <p class="muted">"No tokens yet."</p> }.into_any()
                            } else {
                                view! { <TokenTable tokens=gateway.tokens.clone() group_id=group_id.clone() editor revoke/> }.into_any()
                            }}
                            <details class="gw-howto">
                                <summary>"How to run a data plane elsewhere"</summary>
                                <p>"With a token of this group, on any machine that reaches this control plane:"</p>
                                <pre class="gw-pre" tabindex="0"><code>{example}</code></pre>
                            </details>
                        }.into_any()
                    })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn NodeTable(nodes: Vec<DataPlaneNode>, config_version: u64) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="gw-nodes">
                <thead>
                    <tr>
                        <th scope="col">"Id"</th>
                        <th scope="col">"Hostname"</th>
                        <th scope="col">"Portico version"</th>
                        <th scope="col">"Config version"</th>
                        <th scope="col">"Last seen"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Last error"</th>
                    </tr>
                </thead>
                <tbody>
                    {nodes.into_iter().map(|n| {
                        let id = n.id.to_string();
                        let short: String = id.chars().take(8).collect();
                        let behind = n.config_version < config_version;
                        // The badge says it; the name need not.
                        let host = if n.embedded {
                            n.hostname.trim_end_matches(" (embedded)").to_string()
                        } else {
                            n.hostname.clone()
                        };
                        view! {
                            <tr>
                                <td><code title=id>{short}</code></td>
                                <td class="gw-nowrap">{host}{n.embedded.then(|| view! { " "<span class="badge gw-tag">"embedded"</span> })}</td>
                                <td>{n.version.clone()}</td>
                                <td>{n.config_version}{behind.then(|| view! { " "<span class="badge gw-warn">"behind"</span> })}</td>
                                <td>{when(&n.last_seen_at)}</td>
                                <td>{if n.connected {
                                    view! { <span class="badge gw-ok">"Connected"</span> }.into_any()
                                } else {
                                    view! { <span class="badge gw-off">"Disconnected"</span> }.into_any()
                                }}</td>
                                <td class="gw-error-cell">{match n.last_error.clone() {
                                    Some(e) => view! { <span class="gw-error-text">{e}</span> }.into_any(),
                                    None => view! { <span class="muted">"—"</span> }.into_any(),
                                }}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn TokenTable(
    tokens: Vec<DataPlaneToken>,
    group_id: String,
    editor: bool,
    revoke: ServerAction<RevokeDpToken>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="gw-tokens">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Token"</th>
                        <th scope="col">"Created by"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {tokens.into_iter().map(|t| {
                        let group_id = group_id.clone();
                        view! {
                        <tr>
                            <td>{t.name.clone()}</td>
                            <td><code>{format!("{}…", t.prefix)}</code></td>
                            <td>{t.created_by.clone()}</td>
                            <td>{when(&t.created_at)}</td>
                            <td>{t.last_used_at.as_ref().map(when).unwrap_or_else(|| "never".into())}</td>
                            <td class="row-actions">
                                {editor.then(|| view! {
                                    <ActionForm action=revoke attr:class="inline-form">
                                        <input type="hidden" name="group" value=group_id/>
                                        <input type="hidden" name="token_id" value=t.id.to_string()/>
                                        <button type="submit" class="button small danger-outline" aria-label=format!("Revoke {}", t.name)>"Revoke"</button>
                                    </ActionForm>
                                })}
                            </td>
                        </tr>
                    }}).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
