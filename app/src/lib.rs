//! Portico's UI and its contract: DTOs and validation (`model`), the wire error,
//! server functions (`api`), pages and components. Features `ssr` | `hydrate`.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod ports;

mod shell;
pub use shell::{content_security_policy, shell, App};
