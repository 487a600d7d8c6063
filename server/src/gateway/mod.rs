//! The data plane: the proxy (hyper towards clients, `h1client` towards upstreams),
//! its configuration snapshots and their sync, for the embedded data planes of
//! `portico serve` and the standalone `portico gateway`.
//!
//! - [`DataPlane`]: applies [`snapshot::Snapshot`]s (compiled, swapped atomically) and
//!   serves the proxy and status listeners;
//! - [`log`]: the per-request log step ([`LogSink`], [`LogEntry`], [`CountingSink`]);
//! - [`node`]: the standalone node (`portico gateway`): cache directory, long-poll
//!   sync with the control plane.

mod backoff;
mod body;
mod compiled;
mod counters;
mod dataplane;
mod framing;
mod h1client;
mod limits;
pub mod log;
pub mod node;
mod plugins;
mod proxy;
pub mod recorder;
mod redis_counters;
pub mod snapshot;
mod upstream;

pub use dataplane::{DataPlane, DataPlaneStatus, RefusedSnapshot, DRAIN_TIMEOUT};
pub use limits::ProxyLimits;
pub use log::{CountingSink, Counts, ErrorKind, LogEntry, LogSink, RouteInfo};
