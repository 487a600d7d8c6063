//! Plain serde types shared by the browser and the server, and the pure validation
//! rules both sides run.

pub mod analytics;
pub mod auth;
pub mod datetime;
pub mod docs;
pub mod gateway;
pub mod plugins;
pub mod portal;
mod types;
pub mod urlencoded;
pub mod validate;

/// Route configuration with Kong's field names and defaults. The matcher that reads it
/// lives in the `portico-router` crate (server side); the UI edits these types.
pub mod route {
    pub use portico_router::model::*;
}

pub use analytics::{
    AnalyticsQuery, AnalyticsResult, ChartType, Dimension, DimensionValue, Filters, Granularity,
    Metric, Report, ReportInput, Series, Summary, TimeFrame, Totals,
};
pub use auth::{
    Actor, ApiToken, AuditEvent, AuditQuery, Authorized, CreatedApiToken, Credential, Me,
    NewApiToken, NewUser, Permission, Role, User, UserPatch,
};
pub use datetime::{date_time_error, parse_instant, parse_local, DATE_TIME_FORMATS};
pub use docs::{ApiSpecInfo, Document, DocumentPatch, NewDocument, RenderedDocument, SpecView};
pub use gateway::{
    CreatedDataPlaneToken, DataPlaneNode, DataPlaneToken, GroupGateway, Implementation,
    ImplementationInput, Liveness, NewDataPlaneToken, Route, RouteInput, RouteView, VersionGateway,
};
pub use plugins::*;
pub use portal::*;
pub use types::*;
