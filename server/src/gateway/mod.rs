//! The data plane: the proxy (hyper towards clients, `h1client` towards upstreams),
//! its configuration snapshots and their sync, for the embedded data planes of
//! `portico serve` and the standalone `portico gateway`.
//!
//! - [`DataPlane`]: applies [`snapshot::Snapshot`]s (compiled, swapped atomically) and
//!   serves the proxy and status listeners;
//! - [`log`]: the per-request log step ([`LogSink`], [`LogEntry`], [`CountingSink`]);
//! - [`node`]: the standalone node (`portico gateway`): cache directory, long-poll
//!   sync with the control plane.
//!
//! Layout, top-down: `dataplane` (listeners, snapshot apply) -> `proxy` (the request
//! path as named phases) -> `plugins` (one file per plugin, plus the per-route chain)
//! -> `upstream` (pools, the HTTP/1.1 client); beside them `conn` (client connections:
//! framing guard, limits), `body` (streamed bodies and the log state), `node`,
//! `recorder`.

mod backoff;
mod body;
mod compiled;
mod conn;
mod counters;
mod dataplane;
pub mod log;
pub mod node;
mod plugins;
mod proxy;
pub mod recorder;
mod redis_counters;
pub mod snapshot;
mod upstream;

// the modules' former paths, so that `super::framing`, `super::h1client`, … keep working
use conn::{framing, limits};
use upstream::h1client;

pub use dataplane::{DataPlane, DataPlaneStatus, RefusedSnapshot, DRAIN_TIMEOUT};
pub use limits::ProxyLimits;
pub use log::{CountingSink, Counts, ErrorKind, LogEntry, LogSink, RouteInfo};
