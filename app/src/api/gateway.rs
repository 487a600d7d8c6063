//! The gateway side of a version (implementation, routes) and of a runtime group
//! (data plane tokens and nodes). Forms send text; `gateway_forms` turns it into the
//! domain's inputs.
// The implementation form has eight fields; the server macro makes a function of them.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::*;

use super::gateway_forms::RouteForm;
#[cfg(feature = "ssr")]
use super::gateway_forms::{checked, implementation_input, route_problem};

/// The version dashboard's page, gateway section.
#[cfg(feature = "ssr")]
async fn version_page(actor: &Actor, package_id: &str, version_id: uuid::Uuid) -> String {
    match crate::ports::catalog() {
        Ok(c) => match c.get_version(actor, package_id, version_id).await {
            Ok(v) => format!("/service-hub/{}/versions/{}#gateway", v.package_key, v.id),
            Err(_) => format!("/service-hub/{package_id}"),
        },
        Err(_) => "/service-hub".into(),
    }
}

#[server(prefix = "/rpc", endpoint = "gateway/version", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_version_gateway(
    package_id: String,
    version_id: String,
) -> Result<VersionGateway, AppError> {
    let actor = crate::ports::actor()?;
    let version_id = super::parse_id("version_id", &version_id)?;
    crate::ports::gateways()?
        .version_gateway(&actor, &package_id, version_id)
        .await
}

#[server(prefix = "/rpc", endpoint = "gateway/implementation/save")]
pub async fn save_implementation(
    package_id: String,
    version_id: String,
    url: String,
    retries: Option<String>,
    connect_timeout: Option<String>,
    read_timeout: Option<String>,
    write_timeout: Option<String>,
    enabled: Option<String>,
) -> Result<Implementation, AppError> {
    let actor = crate::ports::actor()?;
    let version_id = super::parse_id("version_id", &version_id)?;
    let input = implementation_input(
        &url,
        retries.as_deref().unwrap_or(""),
        connect_timeout.as_deref().unwrap_or(""),
        read_timeout.as_deref().unwrap_or(""),
        write_timeout.as_deref().unwrap_or(""),
        checked(&enabled),
    )?;
    let saved = crate::ports::gateways()?
        .put_implementation(&actor, &package_id, version_id, input)
        .await?;
    super::redirect(&version_page(&actor, &package_id, version_id).await);
    Ok(saved)
}

#[server(prefix = "/rpc", endpoint = "gateway/implementation/delete")]
pub async fn delete_implementation(package_id: String, version_id: String) -> Result<(), AppError> {
    let actor = crate::ports::actor()?;
    let version_id = super::parse_id("version_id", &version_id)?;
    crate::ports::gateways()?
        .delete_implementation(&actor, &package_id, version_id)
        .await?;
    super::redirect(&version_page(&actor, &package_id, version_id).await);
    Ok(())
}

/// Creates a route (no `route_id`) or replaces one.
#[server(prefix = "/rpc", endpoint = "gateway/routes/save")]
pub async fn save_route(
    package_id: String,
    version_id: String,
    route_id: Option<String>,
    #[server(flatten)] fields: RouteForm,
) -> Result<Route, AppError> {
    let actor = crate::ports::actor()?;
    let version_id = super::parse_id("version_id", &version_id)?;
    let route_id = match route_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) => Some(super::parse_id("route_id", id)?),
        None => None,
    };
    let (input, errors) = fields.parse();
    if let Some((field, message)) = errors.into_iter().next() {
        return Err(AppError::validation(field, message));
    }
    let gateways = crate::ports::gateways()?;
    let saved = match route_id {
        Some(id) => {
            gateways
                .update_route(&actor, &package_id, version_id, id, input.clone())
                .await
        }
        None => {
            gateways
                .create_route(&actor, &package_id, version_id, input.clone())
                .await
        }
    };
    let saved = saved.map_err(|e| match e {
        AppError::Validation { field, message, .. } => {
            let (field, message) = route_problem(&input, &field, &message);
            AppError::validation(field, message)
        }
        other => other,
    })?;
    super::redirect(&version_page(&actor, &package_id, version_id).await);
    Ok(saved)
}

/// Every rule the route in the form breaks, field by field, without saving (for the
/// form's live check).
#[server(prefix = "/rpc", endpoint = "gateway/routes/check", input = leptos::server_fn::codec::Json)]
pub async fn check_route_form(
    package_id: String,
    version_id: String,
    route_id: Option<String>,
    fields: RouteForm,
) -> Result<Vec<(String, String)>, AppError> {
    let actor = crate::ports::actor()?;
    let version_id = super::parse_id("version_id", &version_id)?;
    let route_id = route_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(|id| uuid::Uuid::parse_str(id).ok());
    let (input, mut errors) = fields.parse();
    let problems = crate::ports::gateways()?
        .check_route(&actor, &package_id, version_id, route_id, input.clone())
        .await?;
    for (field, message) in problems {
        let (field, message) = route_problem(&input, &field, &message);
        // A field that could not be read is checked with its default: keep its own error.
        if !errors.iter().any(|(f, _)| *f == field) {
            errors.push((field, message));
        }
    }
    Ok(errors)
}

#[server(prefix = "/rpc", endpoint = "gateway/routes/delete")]
pub async fn delete_route(
    package_id: String,
    version_id: String,
    route_id: String,
) -> Result<(), AppError> {
    let actor = crate::ports::actor()?;
    let version_id = super::parse_id("version_id", &version_id)?;
    let route_id = super::parse_id("route_id", &route_id)?;
    crate::ports::gateways()?
        .delete_route(&actor, &package_id, version_id, route_id)
        .await?;
    super::redirect(&version_page(&actor, &package_id, version_id).await);
    Ok(())
}

/// The data plane section of a runtime group's page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataPlanesPanel {
    pub gateway: GroupGateway,
    /// The secret of the token just created by a form posted without JavaScript,
    /// shown once.
    pub new_secret: Option<String>,
    /// This control plane's origin as the browser reached it (`http://host:port`),
    /// for the `portico gateway` example.
    pub control_plane: String,
}

/// A data plane token just created travels to the next page (a form posted without
/// JavaScript) in this short-lived cookie, tied to its group: `<group id>.<secret>`.
#[cfg(feature = "ssr")]
const NEW_DP_TOKEN_COOKIE: &str = "portico_new_dp_token";

#[cfg(feature = "ssr")]
fn accepts_html() -> bool {
    crate::ports::request_parts().is_some_and(|p| {
        p.headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    })
}

#[server(prefix = "/rpc", endpoint = "gateway/group", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_group_gateway(group: String) -> Result<DataPlanesPanel, AppError> {
    let actor = crate::ports::actor()?;
    let gateway = crate::ports::gateways()?
        .group_gateway(&actor, &group)
        .await?;
    let parts = crate::ports::request_parts();
    let flash = super::auth::own_request_cookie(NEW_DP_TOKEN_COOKIE);
    let mut new_secret = None;
    if let Some(flash) = flash {
        // Only the group the token belongs to shows it (and takes it).
        let group_id = crate::ports::catalog()?
            .get_runtime_group(&actor, &group)
            .await?
            .id
            .to_string();
        if let Some((g, secret)) = flash.split_once('.') {
            if g == group_id {
                new_secret = Some(secret.to_string());
                super::set_cookie(&super::own_cookie(
                    NEW_DP_TOKEN_COOKIE,
                    None,
                    "Strict",
                    None,
                    super::auth::request_is_https(),
                ));
            }
        }
    }
    let control_plane = parts
        .as_ref()
        .and_then(|p| {
            let host = p
                .headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())?;
            let scheme = if super::is_https(p) { "https" } else { "http" };
            Some(format!("{scheme}://{host}"))
        })
        .unwrap_or_else(|| "http://127.0.0.1:3000".into());
    Ok(DataPlanesPanel {
        gateway,
        new_secret,
        control_plane,
    })
}

#[server(prefix = "/rpc", endpoint = "gateway/tokens/create")]
pub async fn create_dp_token(
    group: String,
    name: String,
) -> Result<CreatedDataPlaneToken, AppError> {
    let actor = crate::ports::actor()?;
    let created = crate::ports::gateways()?
        .create_data_plane_token(&actor, &group, NewDataPlaneToken { name })
        .await?;
    // Without JavaScript the page is loaded anew: the secret goes with it, once. With
    // JavaScript the page shows it from this answer, and stays where it is.
    if accepts_html() {
        super::set_cookie(&super::own_cookie(
            NEW_DP_TOKEN_COOKIE,
            Some(&format!(
                "{}.{}",
                created.token.runtime_group_id, created.secret
            )),
            "Strict",
            Some(120),
            super::auth::request_is_https(),
        ));
        super::redirect(&format!(
            "/runtime-groups/{}#data-planes",
            created.token.runtime_group_id
        ));
    }
    Ok(created)
}

#[server(prefix = "/rpc", endpoint = "gateway/tokens/revoke")]
pub async fn revoke_dp_token(group: String, token_id: String) -> Result<(), AppError> {
    let actor = crate::ports::actor()?;
    let id = super::parse_id("token_id", &token_id)?;
    crate::ports::gateways()?
        .revoke_data_plane_token(&actor, &group, id)
        .await?;
    if accepts_html() {
        super::redirect(&format!("/runtime-groups/{group}#data-planes"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_text_round_trips() {
        let form = RouteForm {
            name: Some(" orders ".into()),
            methods: Some("get, post\nput".into()),
            paths: Some("/a, /b\n~/c/\\d{1,3}$".into()),
            hosts: Some("a.example.com b.example.com".into()),
            headers: Some("X-Version: v1, v2\nx-a: ~*^a,b$".into()),
            protocols: Some(String::new()),
            strip_path: Some("on".into()),
            ..Default::default()
        };
        let (r, errors) = form.parse();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(r.name.as_deref(), Some("orders"));
        assert_eq!(r.methods, ["GET", "POST", "PUT"]);
        assert_eq!(r.paths, ["/a", "/b", "~/c/\\d{1,3}$"]);
        assert_eq!(r.hosts, ["a.example.com", "b.example.com"]);
        assert_eq!(r.headers["X-Version"], ["v1", "v2"]);
        assert_eq!(r.headers["x-a"], ["~*^a,b$"]);
        assert_eq!(r.protocols, ["http", "https"]);
        assert!(r.strip_path && !r.preserve_host);
        assert_eq!(r.https_redirect_status_code, 426);
        let (again, _) = RouteForm::from_input(&r).parse();
        assert_eq!(again, r);
    }

    #[test]
    fn unreadable_fields_are_named() {
        let form = RouteForm {
            headers: Some("no colon".into()),
            regex_priority: Some("high".into()),
            priority: Some("-1".into()),
            ..Default::default()
        };
        let (_, errors) = form.parse();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["headers", "regex_priority", "priority"]);
        assert!(errors[0].1.contains("Line 1"));
        let e = implementation_input("http://x", "5", "abc", "", "", true).unwrap_err();
        assert_eq!(e.field(), Some("connect_timeout"));
        let i = implementation_input("http://x", "", "", "", "1000", false).unwrap();
        assert_eq!((i.retries, i.write_timeout, i.enabled), (5, 1000, false));
    }

    #[test]
    fn matcher_fields_point_at_the_entry() {
        let r = RouteInput {
            paths: vec!["/a".into(), "b".into()],
            ..Default::default()
        };
        let (f, m) = route_problem(&r, "paths[1]", "path must start with `/`");
        assert_eq!(f, "paths");
        assert_eq!(m, "\"b\": Path must start with `/`.");
        let (f, m) = route_problem(&r, "headers.x-a[0]", "invalid regex");
        assert_eq!(
            (f.as_str(), m.as_str()),
            ("headers", "Header \"x-a\": Invalid regex.")
        );
        let (f, _) = route_problem(&r, "methods, hosts, headers, paths", "x");
        assert_eq!(f, "paths");
        let (f, m) = route_problem(&r, "name", "Taken.");
        assert_eq!((f.as_str(), m.as_str()), ("name", "Taken."));
    }
}
