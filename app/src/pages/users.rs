//! `/settings/users` (Admin): create users, change their role, disable, delete.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{list_users, CreateUser, DeleteUser, UpdateUser};
use crate::components::*;
use crate::model::auth::PASSWORD_MIN;
use crate::model::*;

#[component]
pub fn UsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let create_error = action_error(create);
    let update = ServerAction::<UpdateUser>::new();
    let update_error = action_error(update);
    let delete = ServerAction::<DeleteUser>::new();
    let delete_error = action_error(delete);
    let users = Resource::new(
        move || {
            (
                create.version().get(),
                update.version().get(),
                delete.version().get(),
            )
        },
        |_| list_users(),
    );
    let me = current_user().map(|m| m.id);
    view! {
        <Gate action=Permission::Administer>
        <Title text="Users"/>
        <PageHeader crumbs=vec![("Settings".into(), String::new()), ("Users".into(), String::new())] title="Users"/>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(list) => view! {
                        <section class="card" aria-labelledby="users-title">
                            <div class="section-head"><h2 id="users-title">{format!("{} user{}", list.len(), if list.len() == 1 { "" } else { "s" })}</h2></div>
                            <FormAlert error=update_error fields=&[]/>
                            <FormAlert error=delete_error fields=&[]/>
                            <UserTable users=list update delete me/>
                        </section>
                    }.into_any(),
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                }
            })}
        </Suspense>
        <section class="card form-card" aria-labelledby="new-user-title">
            <h2 id="new-user-title">"New user"</h2>
            <ActionForm action=create>
                <TextField label="Email" name="email" input_type="email" required=true error=create_error/>
                <div class="field">
                    <label for="new-user-role">"Role"</label>
                    <select id="new-user-role" name="role">
                        {Role::ALL.iter().map(|r| view! { <option value=r.as_str() selected=*r == Role::Viewer>{r.label()}</option> }).collect_view()}
                    </select>
                    <p class="hint">"Viewer reads; Publisher also changes version status; Maintainer also edits the catalog; Admin also manages users."</p>
                </div>
                <TextField label="Initial password" name="password" input_type="password" autocomplete="new-password" required=true error=create_error
                    hint=format!("At least {PASSWORD_MIN} characters; tell it to the user, who can change it on their Account page.")/>
                <FormAlert error=create_error fields=&["email", "password", "role"]/>
                <div class="form-actions"><button type="submit" class="button primary">"Create user"</button></div>
            </ActionForm>
        </section>
        </Gate>
    }
}

#[component]
fn UserTable(
    users: Vec<User>,
    update: ServerAction<UpdateUser>,
    delete: ServerAction<DeleteUser>,
    me: Option<uuid::Uuid>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table>
                <thead>
                    <tr>
                        <th scope="col">"Email"</th>
                        <th scope="col">"Role and access"</th>
                        <th scope="col">"Last sign-in"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {users.into_iter().map(|u| {
                        let id = u.id.to_string();
                        let id2 = id.clone();
                        let role_id = format!("role-{}", u.id);
                        let is_me = Some(u.id) == me;
                        let role_label = format!("Role of {}", u.email);
                        let delete_label = format!("Delete {}", u.email);
                        let email = u.email.clone();
                        view! {
                            <tr>
                                <td>
                                    {email}
                                    {is_me.then(|| view! { <span class="muted small">" (you)"</span> })}
                                    {u.disabled.then(|| view! { <span class="badge badge-deprecated">"Disabled"</span> })}
                                </td>
                                <td>
                                    <ActionForm action=update attr:class="inline-form">
                                        <input type="hidden" name="id" value=id/>
                                        <label for=role_id.clone() class="sr-only">{role_label}</label>
                                        <select id=role_id name="role">
                                            {Role::ALL.iter().map(|r| view! { <option value=r.as_str() selected=*r == u.role>{r.label()}</option> }).collect_view()}
                                        </select>
                                        <label class="check">
                                            <input type="checkbox" name="disabled" checked=u.disabled/>
                                            " Disabled"
                                        </label>
                                        <button type="submit" class="button small">"Save"</button>
                                    </ActionForm>
                                </td>
                                <td>{u.last_login_at.as_ref().map(when).unwrap_or_else(|| "never".into())}</td>
                                <td class="row-actions">
                                    <ActionForm action=delete attr:class="inline-form">
                                        <input type="hidden" name="id" value=id2/>
                                        <button type="submit" class="button small danger-outline" aria-label=delete_label>"Delete"</button>
                                    </ActionForm>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
