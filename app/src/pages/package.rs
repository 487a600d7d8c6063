use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::*;
use crate::components::*;
use crate::model::validate;
use crate::model::*;

/// The name, description and labels fields shared by the create and edit forms.
#[component]
fn PackageFields(
    error: FormError,
    #[prop(optional)] initial: Option<ServicePackage>,
) -> impl IntoView {
    let (name, description, labels) = initial
        .map(|p| {
            (
                p.display_name,
                p.description,
                validate::format_labels(&p.labels),
            )
        })
        .unwrap_or_default();
    view! {
        <TextField label="Display name" name="display_name" value=name required=true check=Check::DisplayName(DisplayNameField::Package) error=error
            hint="Letters, digits, spaces and . - _ ~ : — the key is derived from it (lower case, spaces as -)."/>
        <TextField label="Description" name="description" value=description multiline=true check=Check::Description error=error/>
        <TextField label="Labels" name="labels" value=labels check=Check::Labels error=error placeholder="team:payments, tier:gold"
            hint="Up to 5 key:value pairs, separated by commas."/>
        <FormAlert error=error fields=&["display_name", "description", "labels"]/>
    }
}

/// `/service-hub/new`
#[component]
pub fn NewPackagePage() -> impl IntoView {
    let create = ServerAction::<CreatePackage>::new();
    let error = action_error(create);
    view! {
        <Gate action=Permission::EditCatalog>
        <Title text="New service package"/>
        <PageHeader
            crumbs=vec![("Service Hub".into(), "/service-hub".into()), ("New service package".into(), String::new())]
            title="New service package"
        />
        <section class="card form-card">
            <ActionForm action=create>
                <PackageFields error=error/>
                <div class="form-actions">
                    <button type="submit" class="button primary">"Create"</button>
                    <a class="button" href="/service-hub">"Cancel"</a>
                </div>
            </ActionForm>
        </section>
        </Gate>
    }
}

/// `/service-hub/{key}`: the service package dashboard.
#[component]
pub fn PackagePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let update = ServerAction::<UpdatePackage>::new();
    let delete = ServerAction::<DeletePackage>::new();
    let set_status = ServerAction::<SetVersionStatus>::new();
    let publish = ServerAction::<SetPackagePublished>::new();
    let data = Resource::new(
        move || {
            let q = query.read();
            (
                params.read().get("key").unwrap_or_default(),
                q.get("q"),
                q.get("runtime_group"),
                q.get("status"),
                (set_status.version().get(), publish.version().get()),
            )
        },
        |(key, q, rg, status, _)| load_package_dashboard(key, q, rg, status),
    );
    view! {
        <ChartScript/>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! { <Dashboard data=d update delete set_status publish/> }.into_any(),
                    Err(e) => view! { <Title text="Error"/><ErrorView error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Dashboard(
    data: PackageDashboard,
    update: ServerAction<UpdatePackage>,
    delete: ServerAction<DeletePackage>,
    set_status: ServerAction<SetVersionStatus>,
    publish: ServerAction<SetPackagePublished>,
) -> impl IntoView {
    let query = use_query_map();
    let PackageDashboard {
        package,
        versions,
        runtime_groups,
        documents,
    } = data;
    let update_error = action_error(update);
    let delete_error = action_error(delete);
    let status_error = action_error(set_status);
    let editor = can(Permission::EditCatalog);
    let base = format!("/service-hub/{}", package.key);
    let id = package.id.to_string();
    let id_table = id.clone();
    let id_edit = id.clone();
    let id_delete = id.clone();
    let package_edit = package.clone();
    let new_version_href = format!("{base}/versions/new");
    let new_version_href2 = new_version_href.clone();
    let base_clear = base.clone();
    let filtered = ["q", "runtime_group", "status"]
        .iter()
        .any(|k| query.read_untracked().get(k).is_some_and(|v| !v.is_empty()));
    let q_value = query.read_untracked().get("q").unwrap_or_default();
    let rg_value = query
        .read_untracked()
        .get("runtime_group")
        .unwrap_or_default();
    let status_value = query.read_untracked().get("status").unwrap_or_default();
    view! {
        <Title text=package.display_name.clone()/>
        <PageHeader
            crumbs=vec![("Service Hub".into(), "/service-hub".into()), (package.display_name.clone(), String::new())]
            title=package.display_name.clone()
        >
            {editor.then(|| view! {
                <a class="button" href="#edit-form">"Edit"</a>
                <a class="button danger-outline" href="#delete-form">"Delete"</a>
                <a class="button primary" href=new_version_href>"+ New version"</a>
            })}
        </PageHeader>
        <section class="card overview" aria-label="Overview">
            <dl class="facts">
                <div><dt>"Key"</dt><dd><code>{package.key.clone()}</code></dd></div>
                <div><dt>"Versions"</dt><dd>{package.versions_count}</dd></div>
                <div><dt>"Created"</dt><dd>{when(&package.created_at)}</dd></div>
                <div><dt>"Modified"</dt><dd>{when(&package.updated_at)}</dd></div>
            </dl>
            <p class="description">{if package.description.is_empty() { "No description yet.".to_string() } else { package.description.clone() }}</p>
            <LabelList labels=package.labels.clone()/>
        </section>
        <AnalyticsSection
            scope=Scope::Package(package.id)
            path=base.clone()
            keep=&["q", "runtime_group", "status"]
            traffic_title="Traffic by version"
        />
        <PortalCard package=package.clone() publish/>

        <section class="card" aria-labelledby="versions-title">
            <div class="section-head">
                <h2 id="versions-title">"Service Versions"</h2>
            </div>
            <form method="get" action=base.clone() class="toolbar" role="search" aria-label="Filter versions">
                <div class="field inline">
                    <label for="v-q">"Search"</label>
                    <input id="v-q" name="q" type="search" placeholder="Version name" value=q_value/>
                </div>
                <div class="field inline">
                    <label for="v-rg">"Runtime group"</label>
                    <select id="v-rg" name="runtime_group">
                        <option value="">"All"</option>
                        {runtime_groups.iter().map(|g| {
                            let v = g.id.to_string();
                            let sel = v == rg_value;
                            view! { <option value=v selected=sel>{g.name.clone()}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <div class="field inline">
                    <label for="v-status">"Status"</label>
                    <select id="v-status" name="status">
                        <option value="">"All"</option>
                        {VersionStatus::ALL.iter().map(|s| {
                            let sel = s.as_str() == status_value;
                            view! { <option value=s.as_str() selected=sel>{s.label()}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <button type="submit" class="button">"Apply"</button>
            </form>
            <FormAlert error=status_error fields=&[]/>
            {if versions.is_empty() {
                if filtered {
                    view! { <div class="empty"><p>"No versions match these filters. "<a href=base_clear>"Clear the filters"</a></p></div> }.into_any()
                } else {
                    view! {
                        <div class="empty">
                            <h3>"No versions yet"</h3>
                            <p>"A version lives in one runtime group. Create the first one to describe what runs where."</p>
                            {editor.then(|| view! { <a class="button primary" href=new_version_href2>"+ New version"</a> })}
                        </div>
                    }.into_any()
                }
            } else {
                view! { <VersionTable versions package_id=id_table set_status/> }.into_any()
            }}
        </section>

        <super::DocsCard package=package.clone() pages=documents/>

        {editor.then(|| view! {
        <section class="card" id="edit" aria-labelledby="edit-title">
            <details open=move || update_error.get().is_some()>
                <summary><h2 id="edit-title">"Edit service package"</h2></summary>
                <div id="edit-form"></div>
                <ActionForm action=update>
                    <input type="hidden" name="id" value=id_edit/>
                    <PackageFields error=update_error initial=package_edit/>
                    <div class="form-actions"><button type="submit" class="button primary">"Save changes"</button></div>
                </ActionForm>
            </details>
        </section>

        <section class="card danger-zone" id="delete" aria-labelledby="delete-title">
            <details open=move || delete_error.get().is_some()>
                <summary><h2 id="delete-title">"Delete service package"</h2></summary>
                <div id="delete-form"></div>
                <p>"This deletes the package and all "{package.versions_count}" of its versions. It cannot be undone."</p>
                <ActionForm action=delete>
                    <input type="hidden" name="id" value=id_delete/>
                    <TextField label=format!("Type the key \"{}\" to confirm", package.key) name="confirm" error=delete_error id_prefix="delete-"/>
                    <FormAlert error=delete_error fields=&["confirm"]/>
                    <div class="form-actions"><button type="submit" class="button danger">"Delete package"</button></div>
                </ActionForm>
            </details>
        </section>
        })}
    }
}

#[component]
fn VersionTable(
    versions: Vec<ServiceVersion>,
    package_id: String,
    set_status: ServerAction<SetVersionStatus>,
) -> impl IntoView {
    let publisher = can(Permission::Publish);
    let editor = can(Permission::EditCatalog);
    view! {
        <div class="table-wrap">
            <table>
                <thead>
                    <tr>
                        <th scope="col">"Version"</th>
                        <th scope="col">"Runtime group"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Modified"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {versions.into_iter().map(|v| {
                        let href = format!("/service-hub/{}/versions/{}", v.package_key, v.id);
                        let vid = v.id.to_string();
                        let package_id = package_id.clone();
                        let select_id = format!("status-{}", v.id);
                        view! {
                            <tr>
                                <td><a href=href.clone()>{v.name.clone()}</a></td>
                                <td><a href=format!("/runtime-groups/{}", v.runtime_group_id)>{v.runtime_group_name.clone()}</a></td>
                                <td><StatusBadge status=v.status/></td>
                                <td>{when(&v.updated_at)}</td>
                                <td class="row-actions">
                                    {publisher.then(|| view! {
                                    <details class="menu">
                                        <summary class="button small" aria-label=format!("Actions for {}", v.name)>"⋯"</summary>
                                        <div class="menu-body">
                                            <ActionForm action=set_status attr:class="inline-form">
                                                <input type="hidden" name="package_id" value=package_id/>
                                                <input type="hidden" name="version_id" value=vid/>
                                                <label for=select_id.clone()>"Status"</label>
                                                <select id=select_id name="status">
                                                    {VersionStatus::ALL.iter().map(|s| view! {
                                                        <option value=s.as_str() selected=*s == v.status>{s.label()}</option>
                                                    }).collect_view()}
                                                </select>
                                                <button type="submit" class="button small">"Save status"</button>
                                            </ActionForm>
                                            {editor.then(|| view! { <a href=format!("{href}#delete-form")>"Delete…"</a> })}
                                            <a href=href>"View details"</a>
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
    }
}

/// Whether the package is in the Dev Portal, and the button that changes it.
#[component]
fn PortalCard(
    package: ServicePackage,
    publish: ServerAction<SetPackagePublished>,
) -> impl IntoView {
    let error = action_error(publish);
    let publisher = can(Permission::Publish);
    let portal_href = format!("/portal/services/{}", package.key);
    let listed = package.status_counts.published + package.status_counts.deprecated;
    view! {
        <section class="card portal-card" aria-labelledby="portal-title">
            <div class="section-head title-row">
                <h2 id="portal-title">"Dev Portal"</h2>
                {if package.published {
                    view! { <span class="badge badge-published">"Published"</span> }.into_any()
                } else {
                    view! { <span class="badge badge-unpublished">"Not published"</span> }.into_any()
                }}
            </div>
            {if package.published {
                view! {
                    <p>"Developers find this package in the "<a href=portal_href>"Dev Portal"</a>
                    {format!(" with its {listed} published or deprecated version(s) and its published pages.")}</p>
                }.into_any()
            } else {
                view! { <p class="muted">"Only people signed in to Portico see this package. Publish it to list it in the public Dev Portal, with its published and deprecated versions, their API specs and the published documentation pages."</p> }.into_any()
            }}
            {publisher.then(|| view! {
                <ActionForm action=publish attr:class="inline-form">
                    <input type="hidden" name="id" value=package.id.to_string()/>
                    <input type="hidden" name="published" value=if package.published { "false" } else { "true" }/>
                    <button type="submit" class=if package.published { "button" } else { "button primary" }>
                        {if package.published { "Unpublish" } else { "Publish to portal" }}
                    </button>
                </ActionForm>
            })}
            <FormAlert error=error fields=&[]/>
        </section>
    }
}

/// Whose traffic an analytics section shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Scope {
    Package(uuid::Uuid),
    Version(uuid::Uuid),
}

impl Scope {
    /// The CSV export's filter parameter and what its rows are split by.
    fn export_param(self) -> (&'static str, String, Option<Dimension>) {
        match self {
            Scope::Package(id) => ("package", id.to_string(), Some(Dimension::Version)),
            Scope::Version(id) => ("version", id.to_string(), Some(Dimension::Route)),
        }
    }
}

/// The metrics a dashboard's CSV export holds.
pub(super) const EXPORT_METRICS: &str = "request_count,error_rate_4xx,error_rate_5xx,response_latency_avg,response_latency_p50,response_latency_p95,response_latency_p99";

/// `/api/v1/analytics/export?{filter}={id}&time_frame=…&metrics=…[&group_by=…]` (a
/// plain link: the browser downloads the CSV with the session cookie).
pub(super) fn export_href(filter: (&str, String, Option<Dimension>), frame: TimeFrame) -> String {
    super::with_query(
        "/api/v1/analytics/export",
        &[
            (filter.0, Some(filter.1)),
            ("time_frame", Some(frame.as_str().to_string())),
            ("metrics", Some(EXPORT_METRICS.to_string())),
            ("group_by", filter.2.map(|d| d.as_str().to_string())),
        ],
    )
}

/// The analytics section of the package and version dashboards: time frame and zone,
/// tiles against the previous period, traffic, status class and latency charts, CSV
/// export; the version's per-route table. Server-rendered; charts drawn with JavaScript.
#[component]
pub(super) fn AnalyticsSection(
    scope: Scope,
    /// The dashboard's path (links keep it).
    path: String,
    /// Query parameters of the page's other controls, kept by the frame and zone links.
    keep: &'static [&'static str],
    traffic_title: &'static str,
) -> impl IntoView {
    let query = use_query_map();
    let frame = Memo::new(move |_| frame_or_default(query.read().get("frame").as_deref()));
    let local = Signal::derive(move || query.read().get("tz").as_deref() == Some("local"));
    // The browser's zone reaches the server in a cookie (set by the zone switch).
    let zone = local.get_untracked().then(local_zone).flatten();
    let zone = StoredValue::new(zone);
    let data = Resource::new(
        move || (frame.get(), zone.get_value()),
        move |(f, z)| {
            let frame = Some(f.as_str().to_string());
            async move {
                match scope {
                    Scope::Package(id) => load_package_analytics(id.to_string(), frame, z).await,
                    Scope::Version(id) => load_version_analytics(id.to_string(), frame, z).await,
                }
            }
        },
    );
    let kept = move |skip: &str| -> Vec<(&'static str, Option<String>)> {
        let q = query.read();
        keep.iter()
            .copied()
            .chain(["frame", "tz"])
            .filter(|k| *k != skip)
            .map(|k| (k, q.get(k)))
            .collect()
    };
    let (path2, path3) = (path.clone(), path.clone());
    view! {
        <section class="card analytics" id="analytics" aria-labelledby="analytics-title">
            <div class="analytics-head">
                <h2 id="analytics-title">"Analytics"</h2>
                {move || view! {
                    <FrameSelector path=path2.clone() anchor="analytics" current=frame.get() keep=kept("frame")/>
                    <ZoneSwitch path=path3.clone() anchor="analytics" local=local.get() zone=zone.get_value() keep=kept("tz")/>
                }}
            </div>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(d) => view! { <AnalyticsBody data=d scope traffic_title/> }.into_any(),
                        Err(e) => view! { <p class="alert" role="alert">{format!("Analytics are not available: {}", e.message())}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn AnalyticsBody(
    data: DashboardAnalytics,
    scope: Scope,
    traffic_title: &'static str,
) -> impl IntoView {
    let frame = data.frame;
    let export = export_href(scope.export_param(), frame);
    let quiet = data.summary.current.requests == 0;
    let routes = data.routes.clone();
    view! {
        <SummaryTiles summary=data.summary frame/>
        {if quiet {
            view! { <div class="empty analytics-empty"><p>{NO_TRAFFIC}</p></div> }.into_any()
        } else {
            view! {
                <div class="chart-grid">
                    <AnalyticsChart result=data.traffic chart=ChartType::StackedBar title=traffic_title id="traffic"/>
                    <AnalyticsChart result=data.status chart=ChartType::StackedBar title="Status codes" id="status"/>
                    <AnalyticsChart result=data.latency chart=ChartType::Line title="Response latency" id="latency"/>
                </div>
                {routes.map(|r| view! { <super::version::RouteTable result=r frame/> })}
            }.into_any()
        }}
        <p class="exports small">
            <a href=export download="">{format!("Download CSV ({})", frame.label().to_lowercase())}</a>
            <span class="muted">" · requests, error rates and latency per bucket"</span>
        </p>
    }
}
