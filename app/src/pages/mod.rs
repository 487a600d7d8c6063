//! One module per routed page.

mod account;
mod analytics;
mod audit;
mod auth;
mod consumers;
mod dataplanes;
mod docs;
mod explorer_form;
mod gateway;
mod hub;
mod not_found;
mod package;
mod plugin_form;
mod plugins;
mod portal;
mod route_form;
mod runtime_groups;
mod users;
mod version;

pub use account::AccountPage;
pub use analytics::{AnalyticsPage, ReportPage};
pub use audit::AuditPage;
pub use auth::{LoginPage, SetupPage};
pub use consumers::{ConsumerPage, ConsumersPage};
pub use docs::{DocPage, DocsCard, NewDocPage};
pub use hub::HubPage;
pub use not_found::NotFound;
pub use package::{NewPackagePage, PackagePage};
pub use portal::{PortalCatalogPage, PortalDocPage, PortalPackagePage};
pub use runtime_groups::{NewRuntimeGroupPage, RuntimeGroupPage, RuntimeGroupsPage};
pub use users::UsersPage;
pub use version::{NewVersionPage, VersionPage};

/// Builds `path?k=v&…` from the non-empty pairs, percent-encoding the values.
pub(crate) fn with_query(path: &str, pairs: &[(&str, Option<String>)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| {
            v.as_ref()
                .filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", encode(v)))
        })
        .collect();
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_strings_skip_empty_values_and_encode() {
        assert_eq!(super::with_query("/x", &[("a", None)]), "/x");
        assert_eq!(
            super::with_query(
                "/x",
                &[("a", Some("t:v w".into())), ("b", Some(String::new()))]
            ),
            "/x?a=t%3Av%20w"
        );
    }
}
