//! The data plane: the proxy (hyper), its configuration snapshots and their sync, for
//! the embedded data planes of `portico serve` and the standalone `portico gateway`.

pub mod snapshot;
