//! File uploads from the dashboard's forms (multipart, so they work without
//! JavaScript): a version's API spec, and Markdown files as documentation pages; and
//! the portal's spec download. Each answers with a redirect: to the result, or back to
//! the form with the error in a one-time cookie the page reads. They call the same
//! ports as the REST API and the server functions (never the hub's inner functions),
//! so the role checks are the ports' own.

use app::api::flash_error_cookie;
use app::error::AppError;
use app::model::*;
use app::ports::{CatalogRef, OverTls, PortalRef};
use axum::extract::{DefaultBodyLimit, FromRef, Multipart, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use std::sync::Arc;
use uuid::Uuid;

use crate::docs::spec::SPEC_MAX_BYTES;
use crate::hub::Hub;
use crate::rest::specs::{spec_download, spec_text};

/// What the upload handlers reach: the ports, nothing else of the hub.
#[derive(Clone)]
struct Ports {
    catalog: CatalogRef,
    portal: PortalRef,
}

impl FromRef<Ports> for CatalogRef {
    fn from_ref(p: &Ports) -> Self {
        p.catalog.clone()
    }
}

impl FromRef<Ports> for PortalRef {
    fn from_ref(p: &Ports) -> Self {
        p.portal.clone()
    }
}

/// The routes, with the hub's ports as state.
pub fn router<S: Clone + Send + Sync + 'static>(hub: Hub) -> Router<S> {
    let ports = Ports {
        catalog: Arc::new(hub.clone()),
        portal: Arc::new(hub),
    };
    Router::new()
        .route(
            "/upload/service-hub/{key}/versions/{version_id}/spec",
            post(upload_spec),
        )
        .route("/upload/service-hub/{key}/docs", post(upload_docs))
        .layer(DefaultBodyLimit::max(2 * SPEC_MAX_BYTES + 64 * 1024))
        .route(
            "/portal/services/{key}/versions/{version}/spec",
            get(portal_spec),
        )
        .with_state(ports)
}

/// Whether the request came over TLS (the authentication layer says).
fn https(tls: Option<Extension<OverTls>>) -> bool {
    tls.is_some_and(|Extension(t)| t.0)
}

/// Back to `to` with `error` shown there once.
fn back_with(to: &str, error: AppError, https: bool) -> Response {
    (
        [(header::SET_COOKIE, flash_error_cookie(&error, https))],
        Redirect::to(to),
    )
        .into_response()
}

/// Fields of a multipart form: text fields, and files (name, bytes).
#[derive(Default)]
struct Form {
    fields: Vec<(String, String)>,
    files: Vec<(String, String, Vec<u8>)>,
}

impl Form {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A multipart error as the user should read it: too large, or unreadable.
fn form_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status().as_u16() == 413 {
        AppError::validation("spec", "The upload is larger than 10 MB.")
    } else {
        AppError::bad_request(format!("The form could not be read: {}", e.body_text()))
    }
}

async fn read_form(mut m: Multipart) -> Result<Form, AppError> {
    let mut form = Form::default();
    loop {
        let field = match m.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(form_error(e)),
        };
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let bytes = field.bytes().await.map_err(form_error)?;
        match file_name {
            Some(f) if !f.is_empty() || !bytes.is_empty() => {
                form.files.push((name, f, bytes.to_vec()))
            }
            Some(_) => {}
            None => form
                .fields
                .push((name, String::from_utf8_lossy(&bytes).into_owned())),
        }
    }
    Ok(form)
}

/// `POST /upload/service-hub/{key}/versions/{version_id}/spec`: `file` (a YAML or JSON
/// file) or `text` (pasted); the file wins when both are given.
async fn upload_spec(
    State(catalog): State<CatalogRef>,
    Extension(actor): Extension<Actor>,
    tls: Option<Extension<OverTls>>,
    Path((key, version_id)): Path<(String, Uuid)>,
    multipart: Multipart,
) -> Response {
    let page = format!("/service-hub/{key}/versions/{version_id}");
    let result = async {
        let form = read_form(multipart).await?;
        let pasted = form.field("text").unwrap_or_default().to_string();
        let text = match form
            .files
            .into_iter()
            .find(|(n, _, b)| n == "file" && !b.is_empty())
        {
            Some((_, _, bytes)) => spec_text(bytes)?,
            None => pasted,
        };
        if text.trim().is_empty() {
            return Err(AppError::validation(
                "spec",
                "Choose a YAML or JSON file, or paste the spec.",
            ));
        }
        catalog.put_spec(&actor, &key, version_id, text).await
    }
    .await;
    match result {
        Ok(_) => Redirect::to(&format!("{page}#spec")).into_response(),
        Err(e) => back_with(&page, e, https(tls)),
    }
}

/// `POST /upload/service-hub/{key}/docs`: one or more `.md` files, each a new page
/// (title from its first `#` heading, else the file name; slug from the file name),
/// under `parent_id`, published when `published` is on. All or none are created.
async fn upload_docs(
    State(catalog): State<CatalogRef>,
    Extension(actor): Extension<Actor>,
    tls: Option<Extension<OverTls>>,
    Path(key): Path<String>,
    multipart: Multipart,
) -> Response {
    let form_page = format!("/service-hub/{key}/docs/new");
    let result = async {
        let form = read_form(multipart).await?;
        let parent_id = match form
            .field("parent_id")
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(p) => Some(Uuid::parse_str(p).map_err(|_| {
                AppError::validation("parent_id", format!("\"{p}\" is not a page id."))
            })?),
            None => None,
        };
        let published = form
            .field("published")
            .is_some_and(|v| v == "on" || v == "true");
        let files: Vec<_> = form
            .files
            .into_iter()
            .filter(|(n, _, _)| n == "files")
            .collect();
        if files.is_empty() {
            return Err(AppError::validation(
                "files",
                "Choose one or more .md files.",
            ));
        }
        let mut docs = Vec::new();
        for (_, file_name, bytes) in files {
            let lower = file_name.to_ascii_lowercase();
            if !(lower.ends_with(".md") || lower.ends_with(".markdown")) {
                return Err(AppError::validation(
                    "files",
                    format!("\"{file_name}\" is not a Markdown file (.md or .markdown)."),
                ));
            }
            let content = String::from_utf8(bytes).map_err(|_| {
                AppError::validation("files", format!("\"{file_name}\" is not UTF-8 text."))
            })?;
            crate::docs::markdown::check_size("files", &content)?;
            let stem = file_name
                .rsplit(['/', '\\'])
                .next()
                .unwrap_or(&file_name)
                .rsplit_once('.')
                .map(|(s, _)| s.to_string())
                .unwrap_or_else(|| file_name.clone());
            let title = content
                .lines()
                .find_map(|l| l.strip_prefix("# ").map(|t| t.trim().to_string()))
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| stem.replace(['-', '_'], " "));
            docs.push(NewDocument {
                title,
                slug: Some(app::model::docs::slug_of(&stem)),
                parent_id,
                position: None,
                published,
                content,
            });
        }
        catalog.create_documents(&actor, &key, docs).await
    }
    .await;
    match result {
        Ok(created) => {
            let to = match created.as_slice() {
                [one] => format!("/service-hub/{key}/docs/{}", one.slug),
                _ => format!("/service-hub/{key}#docs"),
            };
            Redirect::to(&to).into_response()
        }
        Err(e) => back_with(&form_page, e, https(tls)),
    }
}

/// `GET /portal/services/{key}/versions/{version}/spec`: the original text.
async fn portal_spec(
    State(portal): State<PortalRef>,
    Path((key, version)): Path<(String, String)>,
) -> Response {
    match portal.portal_spec_text(&key, &version).await {
        Ok((info, text)) => spec_download(&info, &info.file_name(&key, &version), text),
        Err(e) => crate::rest::ApiError(e).into_response(),
    }
}
