//! The write side of analytics: storing a data plane's batch (once), retention.
