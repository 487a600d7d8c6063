//! SeaORM entities and conversions to the DTOs of `app::model`.

pub mod analytics_batch;
pub mod analytics_report;
pub mod api_spec;
pub mod api_token;
pub mod audit_event;
pub mod consumer;
pub mod consumer_acl;
pub mod data_plane_node;
pub mod data_plane_token;
pub mod document;
pub mod implementation;
pub mod key_auth_credential;
pub mod package_label;
pub mod plugin;
pub mod route;
pub mod runtime_group;
pub mod service_package;
pub mod service_version;
pub mod session;
pub mod snapshot_id;
pub mod user;

use app::model::Labels;

/// Labels are stored as a JSON object in a text column (portable across SQLite and
/// PostgreSQL). Keys and values only hold `[A-Za-z0-9._-]`, so the text is canonical.
pub fn labels_to_text(labels: &Labels) -> String {
    serde_json::to_string(labels).unwrap_or_else(|_| "{}".into())
}

pub fn labels_from_text(text: &str) -> Labels {
    serde_json::from_str(text).unwrap_or_default()
}
