//! A runtime group's data planes on its page: proxy address, config version, nodes,
//! and the data plane tokens that let standalone nodes connect.

use leptos::prelude::*;

use crate::api::*;
use crate::components::*;
use crate::model::*;

use super::gateway::CopyButton;

/// The proxy listen address field of the runtime group form.
#[component]
pub fn ProxyListenField(value: String, error: FormError) -> impl IntoView {
    view! {
        <TextField label="Proxy listen address" name="proxy_listen" value=value check=Check::ProxyListen error=error
            placeholder="127.0.0.1:8000"
            hint="IP:port where portico serve runs this group's data plane, e.g. 127.0.0.1:8000; empty for none."/>
    }
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
    let group_id = group.id.to_string();
    let data = {
        let g = group_id.clone();
        Resource::new(|| (), move |_| load_group_gateway(g.clone()))
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
                        // The token just created (the server hands it over once, after the post).
                        let fresh = new_secret.map(|secret| (secret.clone(), command(&secret)));
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
                            {fresh.map(|(secret, cmd)| view! {
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
                                let group = group_id.clone();
                                || view! {
                                <ActionForm action=create attr:class="gw-token-form">
                                    <input type="hidden" name="group" value=group/>
                                    <TextField label="Token name" name="name" required=true check=Check::TokenName error=create_error
                                        placeholder="edge-eu-1" id_prefix="dp-token-"/>
                                    <button type="submit" class="button primary">"Create token"</button>
                                </ActionForm>
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
