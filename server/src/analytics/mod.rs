//! Analytics on the control plane: the quantile sketch (shared with the data planes'
//! recorder in `gateway::recorder`), and the query engine over the minute, hour and
//! day rows that `hub::analytics_ingest` writes.

/// The query engine over the minute, hour and day rows.
pub mod plan;
pub mod query;
pub mod row;
pub mod sketch;
