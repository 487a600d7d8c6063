//! The Plugins card of a runtime group, a version, a route or a consumer: the plugins
//! configured there (enable, disable, edit, delete after a confirmation), those that
//! apply from other scopes, and the add form (choose a plugin, then its config form,
//! made from the plugin's schema). Everything posts without JavaScript; the config
//! form (`plugin_form`) is checked as the user types when JavaScript runs.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use crate::api::*;
use crate::components::*;
use crate::model::*;

use super::plugin_form::{PluginFormIsland, PluginFormProps};

/// The fields of the form last refused by `url`, when it was posted by the card
/// `anchor`.
fn refused_form(url: &str, anchor: &str) -> Option<Vec<(String, String)>> {
    use base64::Engine;
    let query = use_query_map();
    let q = query.read_untracked();
    if q.get("__path").as_deref() != Some(url) {
        return None;
    }
    let body = base64::engine::general_purpose::URL_SAFE
        .decode(q.get("__form")?.as_bytes())
        .ok()?;
    let pairs = crate::model::urlencoded::form_pairs(&String::from_utf8(body).ok()?);
    pairs
        .iter()
        .any(|(k, v)| k == "plugins_at" && v == anchor)
        .then_some(pairs)
}

/// The error of a server action, when the form that failed was this card's.
fn card_error<S>(action: ServerAction<S>, anchor: &'static str) -> FormError
where
    S: leptos::server_fn::ServerFn<Error = crate::error::AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let mine = refused_form(S::url(), anchor).is_some();
    let error = action_error(action);
    Signal::derive(move || if mine { error.get() } else { None })
}

/// The hidden inputs that name a card's scope.
#[component]
pub(super) fn ScopeInputs(scope: ScopeForm, anchor: &'static str) -> impl IntoView {
    let v = |s: &Option<String>| s.clone().unwrap_or_default();
    view! {
        <input type="hidden" name="group" value=v(&scope.group)/>
        <input type="hidden" name="package" value=v(&scope.package)/>
        <input type="hidden" name="version_id" value=v(&scope.version_id)/>
        <input type="hidden" name="route_id" value=v(&scope.route_id)/>
        <input type="hidden" name="consumer" value=v(&scope.consumer)/>
        <input type="hidden" name="plugins_at" value=anchor/>
    }
}

/// A Plugins card. `path`: the page it is on; `keep`: query pairs the page needs
/// (the route being edited).
#[component]
pub fn PluginsCard(
    scope: ScopeForm,
    /// The card's id: `plugins`, or `route-plugins` beside the version's own card.
    anchor: &'static str,
    #[prop(into)] title: String,
    #[prop(into)] intro: String,
    path: String,
    #[prop(optional)] keep: Vec<(String, String)>,
) -> impl IntoView {
    let save = ServerAction::<SavePlugin>::new();
    let toggle = ServerAction::<SetPluginEnabled>::new();
    let remove = ServerAction::<DeletePlugin>::new();
    let save_error = card_error(save, anchor);
    let toggle_error = card_error(toggle, anchor);
    let remove_error = card_error(remove, anchor);
    let query = use_query_map();
    let (add, edit) = {
        let q = query.read_untracked();
        let here = q.get("plugins_at").as_deref() == Some(anchor);
        (
            q.get("add_plugin").filter(|_| here),
            q.get("edit_plugin").filter(|_| here),
        )
    };
    let posted = refused_form(SavePlugin::url(), anchor);
    let data = {
        let scope = scope.clone();
        Resource::new(
            || (),
            move |_| load_plugins(scope.clone(), add.clone(), edit.clone(), posted.clone()),
        )
    };
    let editor = can(Permission::EditCatalog);
    let title_id = format!("{anchor}-title");
    let link = CardLink { path, keep, anchor };
    view! {
        <section class="card pl-card" id=anchor aria-labelledby=title_id.clone()>
            <h2 id=title_id.clone()>{title}</h2>
            <p class="muted">{intro}</p>
            <Suspense fallback=Loading>
                {move || {
                    let (scope, link) = (scope.clone(), link.clone());
                    Suspend::new(async move {
                        let panel = match data.await {
                            Ok(p) => p,
                            Err(e) => return view! { <p class="alert" role="alert">{e.message().to_string()}</p> }.into_any(),
                        };
                        let PluginsPanel { rows, applied, available, form } = panel;
                        let form_open = form.is_some();
                        view! {
                            <FormAlert error=toggle_error fields=&[]/>
                            <FormAlert error=remove_error fields=&[]/>
                            {if rows.is_empty() {
                                let what = if editor { "No plugins here yet: choose one below (key-auth, rate-limiting, cors …) to add it." } else { "No plugins here yet." };
                                view! { <p class="empty gw-empty">{what}</p> }.into_any()
                            } else {
                                view! { <PluginTable rows scope=scope.clone() anchor editor link=link.clone() toggle remove/> }.into_any()
                            }}
                            {(!applied.is_empty()).then(|| view! { <AppliedTable rows=applied/> })}
                            {match form {
                                Some(spec) if editor => {
                                    let general = save_error.get_untracked()
                                        .filter(|e| e.field().is_none_or(|f| !f.starts_with("config")))
                                        .map(|e| e.message().to_string());
                                    let props = PluginFormProps {
                                        scope: scope.clone(),
                                        anchor: anchor.to_string(),
                                        cancel: link.href(&[]),
                                        spec,
                                        error: general,
                                    };
                                    view! { <PluginFormIsland form=props/> }.into_any()
                                }
                                _ => ().into_any(),
                            }}
                            {(editor && !form_open && !available.is_empty()).then(|| {
                                view! { <AddPluginChooser available link=link.clone()/> }
                            })}
                        }.into_any()
                    })
                }}
            </Suspense>
        </section>
    }
}

/// A link to a card: its page, the query the page needs, and the card's anchor.
#[derive(Clone)]
struct CardLink {
    path: String,
    keep: Vec<(String, String)>,
    anchor: &'static str,
}

impl CardLink {
    fn href(&self, extra: &[(&str, String)]) -> String {
        let mut all: Vec<(&str, Option<String>)> = self
            .keep
            .iter()
            .map(|(k, v)| (k.as_str(), Some(v.clone())))
            .collect();
        all.extend(extra.iter().map(|(k, v)| (*k, Some(v.clone()))));
        format!("{}#{}", super::with_query(&self.path, &all), self.anchor)
    }
}

/// Choose a plugin to add: a GET form that opens the plugin's config form.
#[component]
fn AddPluginChooser(available: Vec<String>, link: CardLink) -> impl IntoView {
    let anchor = link.anchor;
    let id = format!("{anchor}-add");
    view! {
        <form method="get" action=format!("{}#{anchor}", link.path) class="pl-add">
            {link.keep.into_iter().map(|(k, v)| view! { <input type="hidden" name=k value=v/> }).collect_view()}
            <input type="hidden" name="plugins_at" value=anchor/>
            <div class="field inline">
                <label for=id.clone()>"Add a plugin"</label>
                <select id=id name="add_plugin">
                    {available.into_iter().map(|n| view! { <option value=n.clone()>{n.clone()}</option> }).collect_view()}
                </select>
            </div>
            <button type="submit" class="button primary">"Configure"</button>
        </form>
    }
}

/// The plugins configured on the card's own scope.
#[component]
fn PluginTable(
    rows: Vec<PluginRow>,
    scope: ScopeForm,
    anchor: &'static str,
    editor: bool,
    link: CardLink,
    toggle: ServerAction<SetPluginEnabled>,
    remove: ServerAction<DeletePlugin>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="pl-table stack" data-testid=format!("{anchor}-table")>
                <thead>
                    <tr>
                        <th scope="col">"Plugin"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Settings"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|r| {
                        let edit = link.href(&[("plugins_at", anchor.to_string()), ("edit_plugin", r.id.clone())]);
                        let scope = scope.clone();
                        let (name, enabled, summary, tags) = (r.name.clone(), r.enabled, r.summary.clone(), r.tags.clone());
                        let data_name = name.clone();
                        view! {
                            <tr data-plugin=data_name>
                                <th scope="row" class="gw-nowrap"><code>{name}</code></th>
                                <td data-label="Status"><EnabledBadge enabled/></td>
                                <td class="pl-summary" data-label="Settings">
                                    <Summary text=summary/>
                                    {(!tags.is_empty()).then(|| view! { <span class="muted small">" tags: "{tags.join(", ")}</span> })}
                                </td>
                                <td class="row-actions">
                                    {editor.then(|| view! { <PluginActions row=r scope anchor edit toggle remove/> })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn EnabledBadge(enabled: bool) -> impl IntoView {
    if enabled {
        view! { <span class="badge gw-ok">"Enabled"</span> }.into_any()
    } else {
        view! { <span class="badge gw-off">"Disabled"</span> }.into_any()
    }
}

#[component]
fn Summary(text: String) -> impl IntoView {
    if text.is_empty() {
        view! { <span class="muted small">"defaults"</span> }.into_any()
    } else {
        view! { <code class="pl-config">{text}</code> }.into_any()
    }
}

/// Edit, enable or disable, and delete (after a confirmation, without JavaScript too).
#[component]
fn PluginActions(
    row: PluginRow,
    scope: ScopeForm,
    anchor: &'static str,
    edit: String,
    toggle: ServerAction<SetPluginEnabled>,
    remove: ServerAction<DeletePlugin>,
) -> impl IntoView {
    let name = row.name.clone();
    let (turn, turn_label) = if row.enabled {
        ("false", "Disable")
    } else {
        ("true", "Enable")
    };
    let scope2 = scope.clone();
    let (id, id2) = (row.id.clone(), row.id.clone());
    let (edit_label, toggle_label, delete_label) = (
        format!("Edit {name}"),
        format!("{turn_label} {name}"),
        format!("Delete {name}"),
    );
    view! {
        <div class="gw-actions">
            <a class="button small" href=edit aria-label=edit_label>"Edit"</a>
            <ActionForm action=toggle attr:class="inline-form">
                <ScopeInputs scope anchor/>
                <input type="hidden" name="plugin_id" value=id/>
                <input type="hidden" name="enabled" value=turn/>
                <button type="submit" class="button small" aria-label=toggle_label>{turn_label}</button>
            </ActionForm>
            <details class="menu pl-confirm">
                <summary class="button small danger-outline" aria-label=delete_label.clone()>"Delete"</summary>
                <div class="menu-body">
                    <p>"Delete the "<strong>{name.clone()}</strong>" plugin? It stops applying at once."</p>
                    <ActionForm action=remove attr:class="inline-form">
                        <ScopeInputs scope=scope2 anchor/>
                        <input type="hidden" name="plugin_id" value=id2/>
                        <button type="submit" class="button small danger">{delete_label}</button>
                    </ActionForm>
                </div>
            </details>
        </div>
    }
}

/// The plugins that apply here from other scopes.
#[component]
fn AppliedTable(rows: Vec<AppliedRow>) -> impl IntoView {
    view! {
        <h3 class="gw-subtitle">"Also applied here"</h3>
        <p class="muted small">"Configured on a wider scope or for one consumer. A plugin configured on a narrower scope overrides the same plugin from a wider one (route + consumer > version + consumer > consumer > route > version > runtime group)."</p>
        <div class="table-wrap">
            <table class="pl-table stack" data-testid="applied-plugins">
                <thead>
                    <tr>
                        <th scope="col">"Plugin"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"From"</th>
                        <th scope="col">"Settings"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|a| view! {
                        <tr data-plugin=a.row.name.clone() class:pl-overridden=a.overridden>
                            <th scope="row" class="gw-nowrap"><code>{a.row.name.clone()}</code></th>
                            <td data-label="Status">
                                <EnabledBadge enabled=a.row.enabled/>
                                {a.overridden.then(|| view! { " "<span class="badge gw-warn">"overridden"</span> })}
                            </td>
                            <td class="gw-nowrap" data-label="From">{match a.href.clone() {
                                Some(h) => view! { <a href=h>{format!("from {}", a.from)}</a> }.into_any(),
                                None => view! { <span>{format!("from {}", a.from)}</span> }.into_any(),
                            }}</td>
                            <td class="pl-summary" data-label="Settings"><Summary text=a.row.summary.clone()/></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
