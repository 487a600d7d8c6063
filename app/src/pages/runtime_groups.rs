use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::*;
use crate::components::*;
use crate::model::validate;
use crate::model::*;

use super::consumers::ConsumersCard;
use super::dataplanes::{DataPlanesSection, ProxyListenField};
use super::plugins::PluginsCard;

#[component]
fn GroupFields(error: FormError, #[prop(optional)] initial: Option<RuntimeGroup>) -> impl IntoView {
    let (name, description, labels, proxy_listen) = initial
        .map(|g| {
            (
                g.name,
                g.description,
                validate::format_labels(&g.labels),
                g.proxy_listen.unwrap_or_default(),
            )
        })
        .unwrap_or_default();
    view! {
        <TextField label="Name" name="name" value=name required=true check=Check::DisplayName(DisplayNameField::Group) error=error
            placeholder="production" hint="Letters, digits, spaces and . - _ ~ : — unique, ignoring case."/>
        <TextField label="Description" name="description" value=description multiline=true check=Check::Description error=error/>
        <TextField label="Labels" name="labels" value=labels check=Check::Labels error=error placeholder="env:prod, region:eu"
            hint="Up to 5 key:value pairs, separated by commas."/>
        <ProxyListenField value=proxy_listen error=error/>
        <FormAlert error=error fields=&["name", "description", "labels", "proxy_listen"]/>
    }
}

/// `/runtime-groups`
#[component]
pub fn RuntimeGroupsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| list_runtime_groups());
    view! {
        <Title text="Runtime Groups"/>
        <PageHeader crumbs=vec![("Runtime Groups".into(), "/runtime-groups".into())] title="Runtime Groups">
            {can(Permission::EditCatalog).then(|| view! { <a class="button primary" href="/runtime-groups/new">"+ New runtime group"</a> })}
        </PageHeader>
        <p class="lead">"A runtime group is an environment — a set of gateway nodes that share one configuration. Each service version lives in one group."</p>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(groups) => view! { <GroupTable groups/> }.into_any(),
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn GroupTable(groups: Vec<RuntimeGroup>) -> impl IntoView {
    view! {
        <div class="card table-wrap">
            <table>
                <thead>
                    <tr><th scope="col">"Name"</th><th scope="col">"Description"</th><th scope="col">"Labels"</th><th scope="col">"Versions"</th><th scope="col">"Modified"</th></tr>
                </thead>
                <tbody>
                    {groups.into_iter().map(|g| view! {
                        <tr>
                            <td><a href=format!("/runtime-groups/{}", g.id)>{g.name.clone()}</a></td>
                            <td class="muted">{g.description.clone()}</td>
                            <td><LabelList labels=g.labels.clone()/></td>
                            <td>{g.versions_count}</td>
                            <td>{when(&g.updated_at)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// `/runtime-groups/new`
#[component]
pub fn NewRuntimeGroupPage() -> impl IntoView {
    let create = ServerAction::<CreateRuntimeGroup>::new();
    let error = action_error(create);
    view! {
        <Gate action=Permission::EditCatalog>
        <Title text="New runtime group"/>
        <PageHeader
            crumbs=vec![("Runtime Groups".into(), "/runtime-groups".into()), ("New runtime group".into(), String::new())]
            title="New runtime group"
        />
        <section class="card form-card">
            <ActionForm action=create>
                <GroupFields error=error/>
                <div class="form-actions">
                    <button type="submit" class="button primary">"Create"</button>
                    <a class="button" href="/runtime-groups">"Cancel"</a>
                </div>
            </ActionForm>
        </section>
        </Gate>
    }
}

/// `/runtime-groups/{id}`
#[component]
pub fn RuntimeGroupPage() -> impl IntoView {
    let params = use_params_map();
    let update = ServerAction::<UpdateRuntimeGroup>::new();
    let delete = ServerAction::<DeleteRuntimeGroup>::new();
    let data = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        load_runtime_group,
    );
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! { <GroupDetail detail=d update delete/> }.into_any(),
                    Err(e) => view! { <Title text="Error"/><ErrorView error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn GroupDetail(
    detail: RuntimeGroupDetail,
    update: ServerAction<UpdateRuntimeGroup>,
    delete: ServerAction<DeleteRuntimeGroup>,
) -> impl IntoView {
    let RuntimeGroupDetail { group, versions } = detail;
    let update_error = action_error(update);
    let delete_error = action_error(delete);
    let id = group.id.to_string();
    let id_edit = id.clone();
    let id_delete = id.clone();
    let group_edit = group.clone();
    let is_default = group.name == "default";
    let editor = can(Permission::EditCatalog);
    view! {
        <Title text=group.name.clone()/>
        <PageHeader
            crumbs=vec![("Runtime Groups".into(), "/runtime-groups".into()), (group.name.clone(), String::new())]
            title=group.name.clone()
        />
        <section class="card overview" aria-label="Overview">
            <dl class="facts">
                <div><dt>"Id"</dt><dd><code>{id.clone()}</code></dd></div>
                <div><dt>"Versions"</dt><dd>{group.versions_count}</dd></div>
                <div><dt>"Created"</dt><dd>{when(&group.created_at)}</dd></div>
                <div><dt>"Modified"</dt><dd>{when(&group.updated_at)}</dd></div>
            </dl>
            <p class="description">{if group.description.is_empty() { "No description yet.".to_string() } else { group.description.clone() }}</p>
            <LabelList labels=group.labels.clone()/>
        </section>
        <section class="card" aria-labelledby="gv-title">
            <h2 id="gv-title">"Service versions in this group"</h2>
            {if versions.is_empty() {
                view! { <div class="empty"><p>"No service version runs in this group yet. Create one from a service package's page."</p></div> }.into_any()
            } else {
                view! {
                    <div class="table-wrap"><table>
                        <thead><tr><th scope="col">"Service package"</th><th scope="col">"Version"</th><th scope="col">"Status"</th></tr></thead>
                        <tbody>
                            {versions.into_iter().map(|v| view! {
                                <tr>
                                    <td><a href=format!("/service-hub/{}", v.package_key)>{v.package_key.clone()}</a></td>
                                    <td><a href=format!("/service-hub/{}/versions/{}", v.package_key, v.id)>{v.name.clone()}</a></td>
                                    <td><StatusBadge status=v.status/></td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table></div>
                }.into_any()
            }}
        </section>
        <DataPlanesSection group=group.clone()/>
        <PluginsCard
            scope=ScopeForm { group: Some(id.clone()), ..Default::default() }
            anchor="plugins" title="Plugins"
            intro="Plugins here apply to every route of every version in this group, unless a version, route or consumer configures the same plugin."
            path=format!("/runtime-groups/{id}")/>
        <ConsumersCard group=group.clone()/>
        {editor.then(|| view! {
        <section class="card" aria-labelledby="edit-title">
            <details open=move || update_error.get().is_some()>
                <summary><h2 id="edit-title">"Edit runtime group"</h2></summary>
                {is_default.then(|| view! { <p class="muted">"The default group cannot be renamed; its description and labels can change."</p> })}
                <ActionForm action=update>
                    <input type="hidden" name="id" value=id_edit/>
                    <GroupFields error=update_error initial=group_edit/>
                    <div class="form-actions"><button type="submit" class="button primary">"Save changes"</button></div>
                </ActionForm>
            </details>
        </section>
        })}
        {(editor && !is_default).then(|| view! {
            <section class="card danger-zone" id="delete" aria-labelledby="delete-title">
                <h2 id="delete-title">"Delete runtime group"</h2>
                <p>"A group can be deleted only when no service version uses it."</p>
                <ActionForm action=delete>
                    <input type="hidden" name="id" value=id_delete.clone()/>
                    <FormAlert error=delete_error fields=&[]/>
                    <button type="submit" class="button danger">"Delete runtime group"</button>
                </ActionForm>
            </section>
        })}
    }
}
