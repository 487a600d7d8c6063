//! The consumers of a runtime group (`/runtime-groups/{id}/consumers`) and one
//! consumer's page: its API keys (key-auth; a new key is shown once), ACL groups and
//! consumer-scoped plugins. Every form posts without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::*;
use crate::components::*;
use crate::model::*;

use super::gateway::CopyButton;
use super::plugins::PluginsCard;

/// A consumer's name as lists show it: the username, else the custom id.
fn display_name(c: &Consumer) -> String {
    c.username
        .clone()
        .or_else(|| c.custom_id.clone())
        .unwrap_or_else(|| c.id.to_string())
}

/// The "Consumers" card of a runtime group's page: how many, and a link.
#[component]
pub fn ConsumersCard(group: RuntimeGroup) -> impl IntoView {
    let id = group.id.to_string();
    let data = {
        let id = id.clone();
        Resource::new(|| (), move |_| load_consumers(id.clone()))
    };
    let href = format!("/runtime-groups/{id}/consumers");
    view! {
        <section class="card" id="consumers" aria-labelledby="consumers-title">
            <div class="title-row section-head">
                <h2 id="consumers-title">"Consumers"</h2>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        data.await.ok().map(|p| view! { <span class="badge gw-tag" data-testid="consumer-count">{p.consumers.len()}</span> })
                    })}
                </Suspense>
            </div>
            <p class="muted">"The clients of this group's APIs: their API keys (key-auth) and ACL groups, and plugins for one consumer only."</p>
            <a class="button" href=href>"Manage consumers"</a>
        </section>
    }
}

/// `/runtime-groups/{id}/consumers`
#[component]
pub fn ConsumersPage() -> impl IntoView {
    let params = use_params_map();
    let create = ServerAction::<CreateConsumer>::new();
    let data = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        load_consumers,
    );
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(p) => view! { <ConsumerList panel=p create/> }.into_any(),
                    Err(e) => view! { <Title text="Error"/><ErrorView error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ConsumerFields(
    error: FormError,
    #[prop(optional)] initial: Option<Consumer>,
    #[prop(optional)] id_prefix: &'static str,
) -> impl IntoView {
    let (username, custom_id, tags) = initial
        .map(|c| {
            (
                c.username.unwrap_or_default(),
                c.custom_id.unwrap_or_default(),
                c.tags.join(", "),
            )
        })
        .unwrap_or_default();
    view! {
        <div class="gw-grid gw-grid-2">
            <TextField label="Username" name="username" value=username error=error placeholder="mobile-app" id_prefix
                hint="Unique in the runtime group. Give a username, a custom id, or both."/>
            <TextField label="Custom ID" name="custom_id" value=custom_id error=error placeholder="crm-4711" id_prefix
                hint="Your own id for this consumer (e.g. from your user database); unique too."/>
        </div>
        <TextField label="Tags" name="tags" value=tags error=error placeholder="partner, eu" id_prefix
            hint="Optional, separated by commas."/>
        <FormAlert error=error fields=&["username", "custom_id", "tags"]/>
    }
}

#[component]
fn ConsumerList(panel: ConsumersPanel, create: ServerAction<CreateConsumer>) -> impl IntoView {
    let ConsumersPanel { group, consumers } = panel;
    let error = action_error(create);
    let editor = can(Permission::EditCatalog);
    let gid = group.id.to_string();
    let base = format!("/runtime-groups/{gid}");
    let none_yet = consumers.is_empty();
    view! {
        <Title text=format!("Consumers · {}", group.name)/>
        <PageHeader
            crumbs=vec![
                ("Runtime Groups".into(), "/runtime-groups".into()),
                (group.name.clone(), base.clone()),
                ("Consumers".into(), String::new()),
            ]
            title="Consumers"
        />
        <p class="lead">{format!("Consumers of the runtime group {}: each can hold API keys for key-auth and ACL groups for acl.", group.name)}</p>
        {editor.then(|| view! {
            <section class="card form-card" aria-labelledby="new-consumer-title">
                <details open=move || none_yet || error.get().is_some()>
                    <summary><h2 id="new-consumer-title">"New consumer"</h2></summary>
                    <ActionForm action=create>
                        <input type="hidden" name="group" value=gid.clone()/>
                        <ConsumerFields error id_prefix="new-"/>
                        <div class="form-actions"><button type="submit" class="button primary">"Create consumer"</button></div>
                    </ActionForm>
                </details>
            </section>
        })}
        {if consumers.is_empty() {
            view! { <div class="empty"><p>"No consumers yet. Create one above to give a client an API key."</p></div> }.into_any()
        } else {
            view! {
                <div class="card table-wrap">
                    <table class="stack" data-testid="consumers">
                        <thead><tr>
                            <th scope="col">"Username"</th>
                            <th scope="col">"Custom ID"</th>
                            <th scope="col">"Tags"</th>
                            <th scope="col">"Created"</th>
                        </tr></thead>
                        <tbody>
                            {consumers.into_iter().map(|c| {
                                let href = format!("{base}/consumers/{}", c.id);
                                let name = display_name(&c);
                                view! {
                                    <tr>
                                        <td class="gw-nowrap"><a href=href>{name}</a></td>
                                        <td data-label="Custom ID">{c.custom_id.clone().map(|i| view! { <code>{i}</code> }.into_any()).unwrap_or_else(|| view! { <span class="muted">"—"</span> }.into_any())}</td>
                                        <td class="muted" data-label="Tags">{c.tags.join(", ")}</td>
                                        <td class="gw-nowrap" data-label="Created">{when(&c.created_at)}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
    }
}

/// `/runtime-groups/{id}/consumers/{consumer}`
#[component]
pub fn ConsumerPage() -> impl IntoView {
    let params = use_params_map();
    let data = Resource::new(
        move || {
            let p = params.read();
            (
                p.get("id").unwrap_or_default(),
                p.get("consumer").unwrap_or_default(),
            )
        },
        |(g, c)| load_consumer(g, c),
    );
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(p) => view! { <ConsumerDetail panel=p/> }.into_any(),
                    Err(e) => view! { <Title text="Error"/><ErrorView error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ConsumerDetail(panel: ConsumerPanel) -> impl IntoView {
    let ConsumerPanel {
        group,
        consumer,
        keys,
        acls,
        new_key,
    } = panel;
    let update = ServerAction::<UpdateConsumer>::new();
    let delete = ServerAction::<DeleteConsumer>::new();
    let update_error = action_error(update);
    let delete_error = action_error(delete);
    let editor = can(Permission::EditCatalog);
    let gid = group.id.to_string();
    let cid = consumer.id.to_string();
    let name = display_name(&consumer);
    let base = format!("/runtime-groups/{gid}");
    let page = format!("{base}/consumers/{cid}");
    let scope = ScopeForm {
        group: Some(gid.clone()),
        consumer: Some(cid.clone()),
        ..Default::default()
    };
    let edit_initial = consumer.clone();
    let (gid2, cid2) = (gid.clone(), cid.clone());
    let (gid3, cid3) = (gid.clone(), cid.clone());
    view! {
        <Title text=format!("{name} · Consumers")/>
        <PageHeader
            crumbs=vec![
                ("Runtime Groups".into(), "/runtime-groups".into()),
                (group.name.clone(), base.clone()),
                ("Consumers".into(), format!("{base}/consumers")),
                (name.clone(), String::new()),
            ]
            title=name.clone()
        >
            {editor.then(|| view! { <a class="button danger-outline" href="#delete-form">"Delete"</a> })}
        </PageHeader>
        <section class="card overview" aria-label="Overview">
            <dl class="facts">
                <div><dt>"Username"</dt><dd>{consumer.username.clone().unwrap_or_else(|| "—".into())}</dd></div>
                <div><dt>"Custom ID"</dt><dd>{consumer.custom_id.clone().unwrap_or_else(|| "—".into())}</dd></div>
                <div><dt>"Id"</dt><dd><code>{cid.clone()}</code></dd></div>
                <div><dt>"Created"</dt><dd>{when(&consumer.created_at)}</dd></div>
            </dl>
            {(!consumer.tags.is_empty()).then(|| view! { <p class="muted">"Tags: "{consumer.tags.join(", ")}</p> })}
        </section>
        <KeysCard keys gid=gid.clone() cid=cid.clone() new_key editor/>
        <AclsCard acls gid=gid.clone() cid=cid.clone() editor/>
        <PluginsCard scope anchor="plugins" title="Plugins for this consumer"
            intro="These apply only to this consumer's requests (after key-auth has identified it), on every route of the group; the same plugin on a version or route for this consumer takes precedence."
            path=page.clone()/>
        {editor.then(|| view! {
            <section class="card" aria-labelledby="edit-title">
                <details open=move || update_error.get().is_some()>
                    <summary><h2 id="edit-title">"Edit consumer"</h2></summary>
                    <ActionForm action=update>
                        <input type="hidden" name="group" value=gid2/>
                        <input type="hidden" name="consumer" value=cid2/>
                        <ConsumerFields error=update_error initial=edit_initial id_prefix="edit-"/>
                        <div class="form-actions"><button type="submit" class="button primary">"Save changes"</button></div>
                    </ActionForm>
                </details>
            </section>
            <section class="card danger-zone" id="delete" aria-labelledby="delete-title">
                <details open=move || delete_error.get().is_some()>
                    <summary><h2 id="delete-title">"Delete consumer"</h2></summary>
                    <div id="delete-form"></div>
                    <p>"Deleting "<strong>{name.clone()}</strong>" also deletes its API keys, ACL groups and plugins. Requests with its keys are refused within the data planes' sync time. This cannot be undone."</p>
                    <ActionForm action=delete>
                        <input type="hidden" name="group" value=gid3/>
                        <input type="hidden" name="consumer" value=cid3/>
                        <FormAlert error=delete_error fields=&[]/>
                        <button type="submit" class="button danger">{format!("Delete {name}")}</button>
                    </ActionForm>
                </details>
            </section>
        })}
    }
}

/// The consumer's key-auth credentials.
#[component]
fn KeysCard(
    keys: Vec<KeyAuthCredential>,
    gid: String,
    cid: String,
    new_key: Option<String>,
    editor: bool,
) -> impl IntoView {
    let create = ServerAction::<CreateKey>::new();
    let remove = ServerAction::<DeleteKey>::new();
    let create_error = action_error(create);
    let remove_error = action_error(remove);
    let (gid2, cid2) = (gid.clone(), cid.clone());
    view! {
        <section class="card" id="keys" aria-labelledby="keys-title">
            <h2 id="keys-title">"API keys"</h2>
            <p class="muted">"A key-auth plugin on a route, version or the group asks for one of these keys (header or query parameter "<code>"apikey"</code>" by default). A key is shown once, when created; Portico keeps only its SHA-256."</p>
            {new_key.map(|key| view! {
                <div class="alert success gw-secret" role="status">
                    <p><strong>"Copy the new key now; it will not be shown again."</strong></p>
                    <div class="gw-curl">
                        <code class="secret" id="new-api-key" data-testid="new-api-key">{key.clone()}</code>
                        <CopyButton text=key target="new-api-key".to_string() label="Copy the key"/>
                    </div>
                </div>
            })}
            {editor.then(|| view! {
                <ActionForm action=create attr:class="gw-token-form pl-key-form">
                    <input type="hidden" name="group" value=gid.clone()/>
                    <input type="hidden" name="consumer" value=cid.clone()/>
                    <TextField label="Own key (optional)" name="secret_key" error=create_error id_prefix="key-"
                        input_type="password" autocomplete="new-password" placeholder="generated"/>
                    <TextField label="Time to live in seconds (optional)" name="ttl" error=create_error id_prefix="key-"
                        placeholder="forever"/>
                    <button type="submit" class="button primary">"Generate key"</button>
                </ActionForm>
                <p class="hint pl-key-hint">"Leave the key empty and Portico generates a 32-character one. A key with a time to live stops working after that many seconds."</p>
                <FormAlert error=create_error fields=&["secret_key", "ttl"]/>
            })}
            <FormAlert error=remove_error fields=&[]/>
            {if keys.is_empty() {
                view! { <p class="muted">"No API keys yet."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="stack" data-testid="api-keys">
                            <thead><tr>
                                <th scope="col">"Key"</th>
                                <th scope="col">"Created"</th>
                                <th scope="col">"Expires"</th>
                                <th scope="col"><span class="sr-only">"Actions"</span></th>
                            </tr></thead>
                            <tbody>
                                {keys.into_iter().map(|k| {
                                    let label = format!("{}…", k.key_prefix);
                                    let (gid, cid) = (gid2.clone(), cid2.clone());
                                    view! {
                                        <tr>
                                            <td><code>{label.clone()}</code></td>
                                            <td class="gw-nowrap" data-label="Created">{when(&k.created_at)}</td>
                                            <td class="gw-nowrap" data-label="Expires">{match k.expires_at {
                                                Some(e) => view! { <span>{when(&e)}</span> }.into_any(),
                                                None => view! { <span class="muted">"never"</span> }.into_any(),
                                            }}</td>
                                            <td class="row-actions">
                                                {editor.then(|| view! {
                                                    <details class="menu pl-confirm">
                                                        <summary class="button small danger-outline" aria-label=format!("Delete key {label}")>"Delete"</summary>
                                                        <div class="menu-body">
                                                            <p>"Delete the key "<code>{label.clone()}</code>"? Requests with it are refused within the sync time."</p>
                                                            <ActionForm action=remove attr:class="inline-form">
                                                                <input type="hidden" name="group" value=gid/>
                                                                <input type="hidden" name="consumer" value=cid/>
                                                                <input type="hidden" name="key_id" value=k.id.to_string()/>
                                                                <button type="submit" class="button small danger">"Delete key"</button>
                                                            </ActionForm>
                                                        </div>
                                                    </details>
                                                })}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}

/// The consumer's ACL groups.
#[component]
fn AclsCard(acls: Vec<AclGroup>, gid: String, cid: String, editor: bool) -> impl IntoView {
    let add = ServerAction::<AddAcl>::new();
    let remove = ServerAction::<DeleteAcl>::new();
    let add_error = action_error(add);
    let remove_error = action_error(remove);
    let (gid2, cid2) = (gid.clone(), cid.clone());
    view! {
        <section class="card" id="acls" aria-labelledby="acls-title">
            <h2 id="acls-title">"ACL groups"</h2>
            <p class="muted">"The acl plugin allows or denies consumers by these groups."</p>
            {editor.then(|| view! {
                <ActionForm action=add attr:class="gw-token-form">
                    <input type="hidden" name="group" value=gid.clone()/>
                    <input type="hidden" name="consumer" value=cid.clone()/>
                    <TextField label="Group" name="acl_group" required=true error=add_error placeholder="partners" id_prefix="acl-"/>
                    <button type="submit" class="button primary">"Add group"</button>
                </ActionForm>
                <FormAlert error=add_error fields=&["acl_group"]/>
            })}
            <FormAlert error=remove_error fields=&[]/>
            {if acls.is_empty() {
                view! { <p class="muted">"In no ACL group."</p> }.into_any()
            } else {
                view! {
                    <ul class="pl-acls" data-testid="acl-groups">
                        {acls.into_iter().map(|a| {
                            let (gid, cid) = (gid2.clone(), cid2.clone());
                            view! {
                                <li class="label pl-acl">
                                    <span>{a.group.clone()}</span>
                                    {editor.then(|| view! {
                                        <ActionForm action=remove attr:class="inline-form">
                                            <input type="hidden" name="group" value=gid/>
                                            <input type="hidden" name="consumer" value=cid/>
                                            <input type="hidden" name="acl_id" value=a.id.to_string()/>
                                            <button type="submit" class="pl-x" aria-label=format!("Remove group {}", a.group)>"×"</button>
                                        </ActionForm>
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}
