//! The gateway on a version's dashboard: whether it is live, its implementation and
//! its routes (the route form is in `route_form`, a group's data planes in
//! `dataplanes`). Every form posts without JavaScript.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use crate::api::*;
use crate::components::*;
use crate::model::*;

use super::plugins::PluginsCard;
use super::route_form::RouteFormCard;

/// A copy button for the text of the element `target` (shown only once the page runs
/// JavaScript; without it the text is plain, selectable text). An island.
#[island]
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

/// The "Gateway" and "Routes" cards of a version's dashboard (`#gateway`).
#[component]
pub fn GatewaySection(package: ServicePackage, version: ServiceVersion) -> impl IntoView {
    let save_impl = ServerAction::<SaveImplementation>::new();
    let delete_impl = ServerAction::<DeleteImplementation>::new();
    let save_route = ServerAction::<SaveRoute>::new();
    let delete_route = ServerAction::<DeleteRoute>::new();
    let package_id = package.id.to_string();
    let version_id = version.id.to_string();
    let data = {
        let (p, v) = (package_id.clone(), version_id.clone());
        Resource::new(|| (), move |_| load_version_gateway(p.clone(), v.clone()))
    };
    let ids = StoredValue::new((package_id, version_id));
    let page = format!("/service-hub/{}/versions/{}", package.key, version.id);
    let group_href = format!("/runtime-groups/{}", version.runtime_group_id);
    let editing = use_query_map().read_untracked().get("edit");
    let package_key = package.key.clone();
    view! {
        <div id="gateway" class="gw-section">
            <Suspense fallback=Loading>
                {move || {
                    let (page, group_href) = (page.clone(), group_href.clone());
                    let (editing, package_key) = (editing.clone(), package_key.clone());
                    Suspend::new(async move {
                        match data.await {
                            Ok(g) => {
                                // The route being edited gets its own Plugins card.
                                let route = editing.as_deref().and_then(|id| {
                                    g.routes.iter().find(|r| r.route.id.to_string() == id)
                                }).map(|r| r.route.clone());
                                let route_plugins = route.map(|r| {
                                    let label = r.fields.name.clone().unwrap_or_else(|| "(unnamed)".into());
                                    let scope = ScopeForm {
                                        package: Some(package_key.clone()),
                                        version_id: Some(r.version_id.to_string()),
                                        route_id: Some(r.id.to_string()),
                                        ..Default::default()
                                    };
                                    view! {
                                        <PluginsCard scope anchor="route-plugins"
                                            title=format!("Plugins of route {label}")
                                            intro="Plugins here apply to this route only and take precedence over the same plugin on the version or the group."
                                            path=page.clone() keep=vec![("edit".to_string(), r.id.to_string())]/>
                                    }
                                });
                                view! {
                                    <ImplementationCard gateway=g.clone() group_href ids save=save_impl delete=delete_impl/>
                                    <RoutesCard gateway=g page ids save=save_route delete=delete_route/>
                                    {route_plugins}
                                }.into_any()
                            }
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
                <TextField label="Upstream URL" name="url" value=url required=true check=Check::UpstreamUrl error=save_error
                    placeholder="http://127.0.0.1:8080/api" hint="Where requests go: http:// or https://, a host, an optional port and path."/>
                <div class="gw-grid gw-grid-4">
                    <TextField label="Retries" name="retries" value=retries check=Check::Retries error=save_error/>
                    <TextField label="Connect timeout (ms)" name="connect_timeout" value=connect check=Check::ConnectTimeout error=save_error/>
                    <TextField label="Read timeout (ms)" name="read_timeout" value=read check=Check::ReadTimeout error=save_error/>
                    <TextField label="Write timeout (ms)" name="write_timeout" value=write check=Check::WriteTimeout error=save_error/>
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
            // The new-route form, or with `?edit=<id>` that route's.
            {editor.then(move || {
                let route = query
                    .read_untracked()
                    .get("edit")
                    .and_then(|id| routes.iter().find(|r| r.route.id.to_string() == id))
                    .map(|r| r.route.clone());
                view! { <RouteFormCard route page=page_edit ids save/> }
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
