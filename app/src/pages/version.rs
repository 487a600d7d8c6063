use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::*;
use crate::components::*;
use crate::error::AppError;
use crate::model::*;

use super::gateway::GatewaySection;
use super::package::{export_href, AnalyticsSection, Scope};
use super::plugins::PluginsCard;

/// `/service-hub/{key}/versions/new`
#[component]
pub fn NewVersionPage() -> impl IntoView {
    let params = use_params_map();
    let key = move || params.read().get("key").unwrap_or_default();
    let data = Resource::new(key, get_package);
    let groups = Resource::new(|| (), |_| list_runtime_groups());
    let create = ServerAction::<CreateVersion>::new();
    let error = action_error(create);
    view! {
        <Gate action=Permission::EditCatalog>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                let package = match data.await {
                    Ok(p) => p,
                    Err(e) => return view! { <ErrorView error=e/> }.into_any(),
                };
                let groups = groups.await.unwrap_or_default();
                let base = format!("/service-hub/{}", package.key);
                view! {
                    <Title text=format!("New version · {}", package.display_name)/>
                    <PageHeader
                        crumbs=vec![
                            ("Service Hub".into(), "/service-hub".into()),
                            (package.display_name.clone(), base.clone()),
                            ("New version".into(), String::new()),
                        ]
                        title="New version"
                    />
                    <section class="card form-card">
                        <ActionForm action=create>
                            <input type="hidden" name="package_id" value=package.id.to_string()/>
                            <TextField label="Version name" name="name" required=true check=Check::VersionName error=error
                                placeholder="v1" hint="Any text, such as v1 or 1.2.0; unique in its runtime group."/>
                            <div class="field">
                                <label for="runtime_group_id">"Runtime group"</label>
                                <select id="runtime_group_id" name="runtime_group_id" aria-describedby="rg-hint">
                                    {groups.into_iter().map(|g| {
                                        let sel = g.name == "default";
                                        view! { <option value=g.id.to_string() selected=sel>{g.name}</option> }
                                    }).collect_view()}
                                </select>
                                <p class="hint" id="rg-hint">"Chosen once: a version never moves to another group."</p>
                            </div>
                            <div class="field">
                                <label for="status">"Status"</label>
                                <select id="status" name="status">
                                    {VersionStatus::ALL.iter().map(|s| view! {
                                        <option value=s.as_str() selected=*s == VersionStatus::default()>{s.label()}</option>
                                    }).collect_view()}
                                </select>
                            </div>
                            <FormAlert error=error fields=&["name"]/>
                            <div class="form-actions">
                                <button type="submit" class="button primary">"Create version"</button>
                                <a class="button" href=base>"Cancel"</a>
                            </div>
                        </ActionForm>
                    </section>
                }.into_any()
            })}
        </Suspense>
        </Gate>
    }
}

/// `/service-hub/{key}/versions/{version_id}`: the version dashboard.
#[component]
pub fn VersionPage() -> impl IntoView {
    let params = use_params_map();
    let set_status = ServerAction::<SetVersionStatus>::new();
    let delete = ServerAction::<DeleteVersion>::new();
    let data = Resource::new(
        move || {
            let p = params.read();
            (
                p.get("key").unwrap_or_default(),
                p.get("version_id").unwrap_or_default(),
                set_status.version().get(),
            )
        },
        |(key, id, _)| load_version(key, id),
    );
    view! {
        <ChartScript/>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! { <VersionDashboard detail=d set_status delete/> }.into_any(),
                    Err(e) => view! { <Title text="Error"/><ErrorView error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn VersionDashboard(
    detail: VersionDetail,
    set_status: ServerAction<SetVersionStatus>,
    delete: ServerAction<DeleteVersion>,
) -> impl IntoView {
    let VersionDetail {
        package,
        version,
        spec_upload_error,
    } = detail;
    let status_error = action_error(set_status);
    let delete_error = action_error(delete);
    let base = format!("/service-hub/{}", package.key);
    let package_id = package.id.to_string();
    let version_id = version.id.to_string();
    let (package_id2, version_id2) = (package_id.clone(), version_id.clone());
    let publisher = can(Permission::Publish);
    let editor = can(Permission::EditCatalog);
    view! {
        <Title text=format!("{} · {}", version.name, package.display_name)/>
        <PageHeader
            crumbs=vec![
                ("Service Hub".into(), "/service-hub".into()),
                (package.display_name.clone(), base.clone()),
                (version.name.clone(), String::new()),
            ]
            title=version.name.clone()
        >
            {editor.then(|| view! { <a class="button danger-outline" href="#delete-form">"Delete"</a> })}
        </PageHeader>
        <section class="card overview" aria-label="Overview">
            <dl class="facts">
                <div><dt>"Service package"</dt><dd><a href=base.clone()>{package.display_name.clone()}</a></dd></div>
                <div><dt>"Runtime group"</dt><dd><a href=format!("/runtime-groups/{}", version.runtime_group_id)>{version.runtime_group_name.clone()}</a></dd></div>
                <div><dt>"Status"</dt><dd><StatusBadge status=version.status/></dd></div>
                <div><dt>"Created"</dt><dd>{when(&version.created_at)}</dd></div>
                <div><dt>"Modified"</dt><dd>{when(&version.updated_at)}</dd></div>
            </dl>
        </section>
        <AnalyticsSection
            scope=Scope::Version(version.id)
            path=format!("{base}/versions/{}", version.id)
            keep=&["tag"]
            traffic_title="Traffic by route"
        />
        <section class="card" aria-labelledby="status-title">
            <h2 id="status-title">"Status"</h2>
            <p class="muted">"Published and deprecated versions are listed in the Dev Portal; unpublished ones are not. Traffic flows in all three."</p>
            {publisher.then(|| view! {
            <ActionForm action=set_status attr:class="inline-form">
                <input type="hidden" name="package_id" value=package_id2/>
                <input type="hidden" name="version_id" value=version_id2/>
                <label for="version-status">"Status"</label>
                <select id="version-status" name="status">
                    {VersionStatus::ALL.iter().map(|s| view! {
                        <option value=s.as_str() selected=*s == version.status>{s.label()}</option>
                    }).collect_view()}
                </select>
                <button type="submit" class="button">"Save status"</button>
            </ActionForm>
            })}
            <FormAlert error=status_error fields=&[]/>
        </section>
        <GatewaySection package=package.clone() version=version.clone()/>
        <PluginsCard
            scope=ScopeForm { package: Some(package.key.clone()), version_id: Some(version.id.to_string()), ..Default::default() }
            anchor="plugins" title="Plugins"
            intro="Plugins here apply to every route of this version (Kong's service plugins), unless a route or consumer configures the same plugin."
            path=format!("{base}/versions/{}", version.id)/>
        <SpecCard package=package.clone() version=version.clone() upload_error=spec_upload_error/>
        {editor.then(|| view! {
        <section class="card danger-zone" id="delete" aria-labelledby="delete-title">
            <details open=move || delete_error.get().is_some()>
                <summary><h2 id="delete-title">"Delete version"</h2></summary>
                <div id="delete-form"></div>
                <p>"Deleting a version cannot be undone."</p>
                <ActionForm action=delete>
                    <input type="hidden" name="package_id" value=package_id/>
                    <input type="hidden" name="version_id" value=version_id/>
                    <TextField label=format!("Type the version name \"{}\" to confirm", version.name) name="confirm" error=delete_error id_prefix="delete-"/>
                    <FormAlert error=delete_error fields=&["confirm"]/>
                    <div class="form-actions"><button type="submit" class="button danger">"Delete version"</button></div>
                </ActionForm>
            </details>
        </section>
        })}
    }
}

/// The version's API spec: its reference, download, and (for editors) upload or paste.
#[component]
fn SpecCard(
    package: ServicePackage,
    version: ServiceVersion,
    upload_error: Option<AppError>,
) -> impl IntoView {
    let query = use_query_map();
    let remove = ServerAction::<DeleteSpec>::new();
    let remove_error = action_error(remove);
    let package_id = package.id.to_string();
    let version_id = version.id.to_string();
    let data = {
        let (p, v) = (package_id.clone(), version_id.clone());
        Resource::new(
            move || (query.read().get("tag"), remove.version().get()),
            move |(tag, _)| load_spec(p.clone(), v.clone(), tag),
        )
    };
    let editor = can(Permission::EditCatalog);
    let upload_action = format!(
        "/upload/service-hub/{}/versions/{}/spec",
        package.key, version.id
    );
    let download = format!(
        "/api/v1/service-packages/{}/versions/{}/spec",
        package.id, version.id
    );
    view! {
        <section class="card spec-card" id="spec" aria-labelledby="spec-title">
            <h2 id="spec-title">"API spec"</h2>
            <Suspense fallback=Loading>
                {move || {
                    let (upload_action, download) = (upload_action.clone(), download.clone());
                    let (package_id, version_id) = (package_id.clone(), version_id.clone());
                    let upload_error = upload_error.clone();
                    Suspend::new(async move {
                    let panel = match data.await {
                        Ok(p) => p,
                        Err(e) => return view! { <p class="alert" role="alert">{e.message().to_string()}</p> }.into_any(),
                    };
                    let has_spec = panel.spec.is_some();
                    let open_upload = !has_spec || upload_error.is_some();
                    let error_text = upload_error.as_ref().map(|e| e.message().to_string()).unwrap_or_default();
                    let no_error = upload_error.is_none();
                    view! {
                        {panel.spec.as_ref().map(|spec| view! {
                            <SpecSummary info=spec.info.clone() download=download.clone()/>
                            <FormAlert error=remove_error fields=&[]/>
                        })}
                        {editor.then(|| view! {
                            <details class="spec-upload" open=open_upload>
                                <summary>{if has_spec { "Replace the spec" } else { "Upload a spec" }}</summary>
                                <form method="post" action=upload_action.clone() enctype="multipart/form-data">
                                    <div class="field">
                                        <label for="spec-file">"File (YAML or JSON)"</label>
                                        <input id="spec-file" name="file" type="file" accept=".yaml,.yml,.json,application/json,application/yaml,text/yaml"/>
                                    </div>
                                    <div class="field">
                                        <label for="spec-text">"Or paste it"</label>
                                        <textarea id="spec-text" name="text" rows="8" class="markdown-input" placeholder="openapi: 3.1.0"></textarea>
                                    </div>
                                    <p class="alert" role="alert" id="spec-error" hidden=no_error>{error_text}</p>
                                    <div class="form-actions">
                                        <button type="submit" class="button primary">{if has_spec { "Replace spec" } else { "Upload spec" }}</button>
                                    </div>
                                </form>
                                {has_spec.then(|| view! {
                                    <ActionForm action=remove attr:class="inline-form remove-spec">
                                        <input type="hidden" name="package_id" value=package_id.clone()/>
                                        <input type="hidden" name="version_id" value=version_id.clone()/>
                                        <button type="submit" class="button small danger-outline">"Remove the spec"</button>
                                    </ActionForm>
                                })}
                            </details>
                        })}
                        {match panel.spec {
                            Some(spec) => view! {
                                <SpecReference spec=spec/>
                            }.into_any(),
                            None => view! {
                                <p class="muted">"No API spec yet. Upload or paste an OpenAPI 3.0 or 3.1 or a Swagger 2.0 document (YAML or JSON, up to 10 MB): it is rendered here and, once the version and its package are published, in the Dev Portal."</p>
                            }.into_any(),
                        }}
                    }.into_any()
                })}}
            </Suspense>
        </section>
    }
}

/// One row of the per-route table.
#[derive(Debug, Clone, Default, PartialEq)]
struct RouteRow {
    id: String,
    name: String,
    requests: Option<f64>,
    errors_4xx: Option<f64>,
    errors_5xx: Option<f64>,
    p50: Option<f64>,
    p99: Option<f64>,
}

/// The route rows of a `group_by = route` answer, busiest first (from the series'
/// totals over the whole frame).
fn route_rows(result: &AnalyticsResult) -> Vec<RouteRow> {
    let mut rows: Vec<RouteRow> = Vec::new();
    for s in &result.series {
        let (id, name) = s
            .group
            .as_ref()
            .map(|g| (g.id.clone(), g.label.clone()))
            .unwrap_or_else(|| (String::new(), "(no route)".to_string()));
        let i = match rows.iter().position(|r| r.id == id) {
            Some(i) => i,
            None => {
                rows.push(RouteRow {
                    id,
                    name,
                    ..Default::default()
                });
                rows.len() - 1
            }
        };
        let row = &mut rows[i];
        match s.metric {
            Metric::RequestCount => row.requests = s.total,
            Metric::ErrorRate4xx => row.errors_4xx = s.total,
            Metric::ErrorRate5xx => row.errors_5xx = s.total,
            Metric::ResponseLatencyP50 => row.p50 = s.total,
            Metric::ResponseLatencyP99 => row.p99 = s.total,
            _ => {}
        }
    }
    rows.retain(|r| r.requests.unwrap_or(0.0) > 0.0);
    rows.sort_by(|a, b| {
        b.requests
            .unwrap_or(0.0)
            .total_cmp(&a.requests.unwrap_or(0.0))
            .then_with(|| a.name.cmp(&b.name))
    });
    rows
}

/// Requests, error rate and p50 / p99 latency per route, with a CSV export per route.
#[component]
pub(super) fn RouteTable(result: AnalyticsResult, frame: TimeFrame) -> impl IntoView {
    let rows = route_rows(&result);
    view! {
        <div class="route-analytics">
            <h3 id="route-analytics-title">"Routes"</h3>
            {if rows.is_empty() {
                view! { <p class="muted">"No route saw traffic in this time frame."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="compact" aria-labelledby="route-analytics-title" data-testid="route-table">
                            <thead>
                                <tr>
                                    <th scope="col">"Route"</th>
                                    <th scope="col" class="num">"Requests"</th>
                                    <th scope="col" class="num">"Error rate"</th>
                                    <th scope="col" class="num">"p50"</th>
                                    <th scope="col" class="num">"p99"</th>
                                    <th scope="col"><span class="sr-only">"Export"</span></th>
                                </tr>
                            </thead>
                            <tbody>
                                {rows.into_iter().map(|r| {
                                    let errors = match (r.errors_4xx, r.errors_5xx) {
                                        (None, None) => None,
                                        (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
                                    };
                                    let href = (!r.id.is_empty()).then(|| export_href(("route", r.id.clone(), None), frame));
                                    let label = format!("CSV of route {}", r.name);
                                    view! {
                                        <tr data-route=r.name.clone()>
                                            <th scope="row">{r.name.clone()}</th>
                                            <td class="num" data-col="requests">{fmt_value(Metric::RequestCount, r.requests)}</td>
                                            <td class="num" data-col="error-rate">{fmt_percent(errors)}</td>
                                            <td class="num" data-col="p50">{fmt_ms(r.p50)}</td>
                                            <td class="num" data-col="p99">{fmt_ms(r.p99)}</td>
                                            <td class="row-actions">{href.map(|h| view! { <a href=h download="" aria-label=label>"CSV"</a> })}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </div>
    }
}
