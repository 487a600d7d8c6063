//! Documentation pages of a package: the list on the dashboard, a page with its
//! rendered Markdown and (for editors) its edit form, and the new-page form.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::*;
use crate::components::*;
use crate::error::AppError;
use crate::model::*;

/// The documentation card on the package dashboard.
#[component]
pub fn DocsCard(package: ServicePackage, pages: Vec<Document>) -> impl IntoView {
    let editor = can(Permission::EditCatalog);
    let new_href = format!("/service-hub/{}/docs/new", package.key);
    let d = depths(&pages);
    view! {
        <section class="card" id="docs" aria-labelledby="docs-title">
            <div class="section-head title-row">
                <h2 id="docs-title">"Documentation"</h2>
                {editor.then(|| view! { <a class="button small" href=new_href.clone()>"+ New page"</a> })}
            </div>
            {if pages.is_empty() {
                view! { <p class="muted">"No documentation pages yet. Write Markdown here, or push it from CI with the REST API."</p> }.into_any()
            } else {
                view! {
                    <ul class="doc-tree">
                        {pages.into_iter().zip(d).map(|(p, depth)| view! {
                            <li class=format!("depth-{}", depth.min(4))>
                                <a href=format!("/service-hub/{}/docs/{}", package.key, p.slug)>{p.title.clone()}</a>
                                {(!p.published).then(|| view! { <span class="badge badge-unpublished">"Draft"</span> })}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

/// The title, slug, parent, published and content fields.
#[component]
fn DocFields(
    error: FormError,
    pages: Vec<Document>,
    #[prop(optional)] initial: Option<Document>,
    /// The saved content rendered, shown in the preview until the first edit.
    #[prop(optional)]
    preview_html: String,
) -> impl IntoView {
    let (title, slug, parent, published, content, me) = initial
        .map(|d| {
            (
                d.title,
                d.slug,
                d.parent_id,
                d.published,
                d.content,
                Some(d.id),
            )
        })
        .unwrap_or_default();
    // After a rejected post, what the user typed (the server sends the form back).
    let (content, published, parent, preview_html) = match submitted_value("title") {
        Some(_) => (
            submitted_value("content").unwrap_or_default(),
            submitted_value("published").is_some(),
            submitted_value("parent_id").and_then(|p| p.parse().ok()),
            String::new(),
        ),
        None => (content, published, parent, preview_html),
    };
    let d = depths(&pages);
    let content_error = field_message(error.get_untracked(), "content");
    view! {
        <TextField label="Title" name="title" value=title required=true error=error/>
        <TextField label="Slug" name="slug" value=slug error=error
            hint="Lower-case letters, digits and dashes; the page's address. Made from the title when empty."/>
        <div class="field">
            <label for="doc-parent">"Under"</label>
            <select id="doc-parent" name="parent_id">
                <option value="">"(top level)"</option>
                {pages.into_iter().zip(d).filter(|(p, _)| Some(p.id) != me).map(|(p, depth)| {
                    let selected = Some(p.id) == parent;
                    view! { <option value=p.id.to_string() selected=selected>{format!("{}{}", "— ".repeat(depth), p.title)}</option> }
                }).collect_view()}
            </select>
            <p class="field-error" role="status">{move || field_message(error.get(), "parent_id")}</p>
        </div>
        <label class="check"><input type="checkbox" name="published" checked=published/>" Published (shown in the Dev Portal when the package is)"</label>
        <MarkdownEditor content preview_html error=content_error/>
        <FormAlert error=error fields=&["title", "slug", "parent_id", "content"]/>
    }
}

/// The Markdown content and its preview, rendered on the server (the same renderer as
/// the saved page) 300 ms after typing stops: an island.
#[island]
fn MarkdownEditor(content: String, preview_html: String, error: Option<String>) -> impl IntoView {
    let stale = preview_html.is_empty() && !content.is_empty();
    let preview = RwSignal::new(preview_html);
    let seq = StoredValue::new(0u64);
    // Renders `text` after `delay` unless the user typed again meanwhile.
    let render = move |text: String, delay: u64| {
        let n = seq.get_value() + 1;
        seq.set_value(n);
        set_timeout(
            move || {
                // The form may be gone by now: then do nothing.
                if seq.try_get_value() != Some(n) {
                    return;
                }
                leptos::task::spawn_local(async move {
                    if let Ok(html) = preview_markdown(text).await {
                        if seq.try_get_value() == Some(n) {
                            preview.try_set(html);
                        }
                    }
                });
            },
            std::time::Duration::from_millis(delay),
        );
    };
    // Text the server sent back after a rejected save has no preview yet.
    if stale {
        let text = content.clone();
        Effect::new(move |_| render(text.clone(), 0));
    }
    let on_input = move |ev: leptos::ev::Event| render(event_target_value(&ev), 300);
    view! {
        <div class="editor-split">
            <div class="field">
                <label for="doc-content">"Content (Markdown)"</label>
                <textarea id="doc-content" name="content" rows="18" class="markdown-input" on:input=on_input>{content}</textarea>
                <p class="hint">"GitHub-flavoured Markdown: tables, task lists, ~~strikethrough~~, footnotes, autolinks, highlighted code blocks. Raw HTML is shown as text."</p>
                <p class="field-error" role="status">{error}</p>
            </div>
            <div class="field">
                <span class="preview-label" id="doc-preview-label">"Preview"</span>
                <div class="markdown preview" aria-labelledby="doc-preview-label" aria-live="polite" inner_html=move || preview.get()></div>
                <p class="hint">"Updates as you type (with JavaScript); without it, save to see the page."</p>
            </div>
        </div>
    }
}

/// Markdown files as new pages (a plain multipart form: works without JavaScript).
#[component]
fn UploadDocsCard(action: String, pages: Vec<Document>, error: Option<AppError>) -> impl IntoView {
    let d = depths(&pages);
    view! {
        <section class="card form-card wide" aria-labelledby="upload-docs-title">
            <h2 id="upload-docs-title">"Or upload Markdown files"</h2>
            <p class="muted">"Each .md file becomes a page: the title comes from its first # heading (else the file name), the slug from the file name."</p>
            <form method="post" action=action enctype="multipart/form-data">
                <div class="field">
                    <label for="upload-files">"Markdown files"</label>
                    <input id="upload-files" name="files" type="file" multiple=true accept=".md,.markdown,text/markdown"/>
                </div>
                <div class="field">
                    <label for="upload-parent">"Under"</label>
                    <select id="upload-parent" name="parent_id">
                        <option value="">"(top level)"</option>
                        {pages.into_iter().zip(d).map(|(p, depth)| view! {
                            <option value=p.id.to_string()>{format!("{}{}", "— ".repeat(depth), p.title)}</option>
                        }).collect_view()}
                    </select>
                </div>
                <label class="check"><input type="checkbox" name="published"/>" Published"</label>
                <p class="alert" role="alert" id="upload-error" hidden=error.is_none()>{error.as_ref().map(|e| e.message().to_string()).unwrap_or_default()}</p>
                <div class="form-actions"><button type="submit" class="button">"Upload"</button></div>
            </form>
        </section>
    }
}

/// `/service-hub/{key}/docs/new`
#[component]
pub fn NewDocPage() -> impl IntoView {
    let params = use_params_map();
    let data = Resource::new(
        move || params.read().get("key").unwrap_or_default(),
        |key| load_docs(key, None),
    );
    let create = ServerAction::<CreateDocument>::new();
    let error = action_error(create);
    view! {
        <Gate action=Permission::EditCatalog>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(v) => {
                            let base = format!("/service-hub/{}", v.package.key);
                            let upload = format!("/upload/service-hub/{}/docs", v.package.key);
                            let upload_pages = v.pages.clone();
                            let upload_error = v.upload_error.clone();
                            view! {
                                <Title text=format!("New page · {}", v.package.display_name)/>
                                <PageHeader
                                    crumbs=vec![
                                        ("Service Hub".into(), "/service-hub".into()),
                                        (v.package.display_name.clone(), base.clone()),
                                        ("New documentation page".into(), String::new()),
                                    ]
                                    title="New documentation page"
                                />
                                <section class="card form-card wide">
                                    <ActionForm action=create>
                                        <input type="hidden" name="package_id" value=v.package.id.to_string()/>
                                        <DocFields error=error pages=v.pages/>
                                        <div class="form-actions">
                                            <button type="submit" class="button primary">"Create page"</button>
                                            <a class="button" href=base>"Cancel"</a>
                                        </div>
                                    </ActionForm>
                                </section>
                                <UploadDocsCard action=upload pages=upload_pages error=upload_error/>
                            }.into_any()
                        }
                        Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </Gate>
    }
}

/// `/service-hub/{key}/docs/{slug}`
#[component]
pub fn DocPage() -> impl IntoView {
    let params = use_params_map();
    let update = ServerAction::<UpdateDocument>::new();
    let delete = ServerAction::<DeleteDocument>::new();
    let data = Resource::new(
        move || {
            let p = params.read();
            (
                p.get("key").unwrap_or_default(),
                p.get("slug").unwrap_or_default(),
                update.version().get(),
            )
        },
        |(key, slug, _)| load_docs(key, Some(slug)),
    );
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(v) => view! { <DocView view=v update delete/> }.into_any(),
                    Err(e) => view! { <Title text="Error"/><ErrorView error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn DocView(
    view: DocsView,
    update: ServerAction<UpdateDocument>,
    delete: ServerAction<DeleteDocument>,
) -> impl IntoView {
    let DocsView {
        package,
        pages,
        page,
        html,
        ..
    } = view;
    let Some(page) = page else {
        return view! { <ErrorView error=AppError::not_found("No such page.")/> }.into_any();
    };
    let editor = can(Permission::EditCatalog);
    let update_error = action_error(update);
    let delete_error = action_error(delete);
    let base = format!("/service-hub/{}", package.key);
    let d = depths(&pages);
    let current = page.id;
    let nav = pages.clone();
    let package_id = package.id.to_string();
    let package_id2 = package_id.clone();
    let page_edit = page.clone();
    let doc_id = page.id.to_string();
    let doc_id2 = doc_id.clone();
    let html_preview = html.clone();
    view! {
        <Title text=format!("{} · {}", page.title, package.display_name)/>
        <PageHeader
            crumbs=vec![
                ("Service Hub".into(), "/service-hub".into()),
                (package.display_name.clone(), base.clone()),
                (page.title.clone(), String::new()),
            ]
            title=page.title.clone()
        >
            {(!page.published).then(|| view! { <span class="badge badge-unpublished">"Draft"</span> })}
        </PageHeader>
        <div class="doc-layout">
            <nav class="card doc-nav" aria-label="Documentation pages">
                <ul class="doc-tree">
                    {nav.into_iter().zip(d).map(|(p, depth)| {
                        let here = p.id == current;
                        view! {
                            <li class=format!("depth-{}", depth.min(4))>
                                <a href=format!("{base}/docs/{}", p.slug) aria-current=here.then_some("page")>{p.title.clone()}</a>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </nav>
            <article class="card markdown" inner_html=html></article>
        </div>
        {editor.then(|| view! {
            <section class="card" aria-labelledby="doc-edit-title">
                <details open=move || update_error.get().is_some()>
                    <summary><h2 id="doc-edit-title">"Edit page"</h2></summary>
                    <ActionForm action=update>
                        <input type="hidden" name="package_id" value=package_id.clone()/>
                        <input type="hidden" name="id" value=doc_id.clone()/>
                        <DocFields error=update_error pages=pages.clone() initial=page_edit.clone() preview_html=html_preview.clone()/>
                        <div class="form-actions"><button type="submit" class="button primary">"Save page"</button></div>
                    </ActionForm>
                </details>
            </section>
            <section class="card danger-zone" aria-labelledby="doc-delete-title">
                <h2 id="doc-delete-title">"Delete page"</h2>
                <ActionForm action=delete>
                    <input type="hidden" name="package_id" value=package_id2.clone()/>
                    <input type="hidden" name="id" value=doc_id2.clone()/>
                    <FormAlert error=delete_error fields=&[]/>
                    <button type="submit" class="button danger">"Delete this page"</button>
                </ActionForm>
            </section>
        })}
    }
    .into_any()
}
