//! Analytics: what the data planes record about each request (per-minute aggregates
//! with latency and size sketches), how they ship it, how the control plane stores it
//! (minute, hour and day rows) and answers queries over it.

/// The query engine over the minute, hour and day rows.
pub mod query;
/// Per-minute aggregates fed by the data plane's log step; sealed into batches.
pub mod recorder;
/// Shipping batches to the control plane (standalone nodes) with a bounded buffer.
pub mod ship;
pub mod sketch;
