//! `/account`: one's own password and personal API tokens.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::{my_tokens, ChangePassword, CreateToken, RevokeToken};
use crate::components::*;
use crate::model::auth::PASSWORD_MIN;
use crate::model::*;

#[component]
pub fn AccountPage() -> impl IntoView {
    let me = current_user();
    let changed = use_query_map().read_untracked().get("changed").is_some();
    let password = ServerAction::<ChangePassword>::new();
    let password_error = action_error(password);
    let create = ServerAction::<CreateToken>::new();
    let create_error = action_error(create);
    let revoke = ServerAction::<RevokeToken>::new();
    let revoke_error = action_error(revoke);
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| my_tokens(),
    );
    let role = me.as_ref().map(|m| m.role).unwrap_or_default();
    view! {
        <Title text="Your account"/>
        <PageHeader crumbs=vec![("Account".into(), String::new())] title="Your account"/>
        <section class="card overview" aria-label="Who you are">
            <dl class="facts">
                <div><dt>"Email"</dt><dd>{me.as_ref().map(|m| m.email.clone())}</dd></div>
                <div><dt>"Role"</dt><dd>{role.label()}</dd></div>
            </dl>
        </section>

        <section class="card" aria-labelledby="tokens-title">
            <div class="section-head"><h2 id="tokens-title">"API tokens"</h2></div>
            <p class="muted">"Personal access tokens for the REST API: send "<code>"Authorization: Bearer <token>"</code>". A token's role is at most yours."</p>
            <ActionForm action=create attr:class="toolbar">
                <div class="field inline">
                    <label for="token-name">"Name"</label>
                    <input id="token-name" name="name" type="text" required placeholder="CI pipeline" autocomplete="off"/>
                </div>
                <div class="field inline">
                    <label for="token-role">"Role"</label>
                    <select id="token-role" name="role">
                        {Role::ALL.iter().filter(|r| **r <= role).map(|r| {
                            view! { <option value=r.as_str() selected=*r == role>{r.label()}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <div class="field inline">
                    <label for="token-expiry">"Expires in (days)"</label>
                    <input id="token-expiry" name="expires_in_days" type="number" min="1" max="3650" placeholder="never"/>
                </div>
                <button type="submit" class="button primary">"Create token"</button>
            </ActionForm>
            <FormAlert error=create_error fields=&[]/>
            {move || create_error.get().and_then(|e| e.field().map(|_| view! { <div class="alert" role="alert">{e.message().to_string()}</div> }))}
            <FormAlert error=revoke_error fields=&[]/>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(data) => view! {
                            {data.new_secret.map(|secret| view! {
                                <div class="alert success" role="status">
                                    <p><strong>"Copy your new token now; it will not be shown again."</strong></p>
                                    <p><code class="secret" data-testid="new-token">{secret}</code></p>
                                </div>
                            })}
                            {if data.tokens.is_empty() {
                                view! { <p class="empty">"No tokens yet."</p> }.into_any()
                            } else {
                                view! { <TokenTable tokens=data.tokens revoke/> }.into_any()
                            }}
                        }.into_any(),
                        Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>

        <section class="card form-card" aria-labelledby="password-title">
            <h2 id="password-title">"Change your password"</h2>
            {changed.then(|| view! { <div class="alert success" role="status">"Your password was changed. Your other sessions were signed out."</div> })}
            <form method="post" action=ChangePassword::url()>
                <TextField label="Current password" name="current_password" input_type="password" autocomplete="current-password" required=true error=password_error/>
                <TextField label="New password" name="new_password" input_type="password" autocomplete="new-password" required=true error=password_error
                    hint=format!("At least {PASSWORD_MIN} characters. Every other session of yours is signed out.")/>
                <TextField label="Repeat the new password" name="new_password_confirm" input_type="password" autocomplete="new-password" required=true error=password_error/>
                <FormAlert error=password_error fields=&["current_password", "new_password", "new_password_confirm"]/>
                <div class="form-actions"><button type="submit" class="button primary">"Change password"</button></div>
            </form>
        </section>
    }
}

#[component]
fn TokenTable(tokens: Vec<ApiToken>, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table>
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Token"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Expires"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {tokens.into_iter().map(|t| view! {
                        <tr>
                            <td>{t.name.clone()}</td>
                            <td><code>{format!("{}…", t.prefix)}</code></td>
                            <td>{t.role.label()}</td>
                            <td>{when(&t.created_at)}</td>
                            <td>{t.expires_at.as_ref().map(when).unwrap_or_else(|| "never".into())}</td>
                            <td>{t.last_used_at.as_ref().map(when).unwrap_or_else(|| "never".into())}</td>
                            <td class="row-actions">
                                <ActionForm action=revoke attr:class="inline-form">
                                    <input type="hidden" name="id" value=t.id.to_string()/>
                                    <button type="submit" class="button small danger-outline" aria-label=format!("Revoke {}", t.name)>"Revoke"</button>
                                </ActionForm>
                            </td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
