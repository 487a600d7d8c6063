//! Portico's server: everything with I/O. The domain (`hub`) over SeaORM (`store`),
//! the REST API (`rest`), the axum application (`web`) and the CLI (`config`).
// The Leptos views of the larger pages are deeply nested types; their layout needs
// more than the default query depth when the server monomorphizes them.
#![recursion_limit = "256"]

pub mod analytics;
pub mod auth;
pub mod config;
pub mod control;
pub mod db;
pub mod docs;
pub mod gateway;
pub mod hub;
pub mod rest;
pub mod seed;
pub mod store;
pub mod uploads;
pub mod web;

use std::net::SocketAddr;

use leptos::config::LeptosOptions;

/// Leptos options from the environment cargo-leptos sets, with defaults so that the
/// built binary runs with no variable set.
pub fn leptos_options(addr: SocketAddr, site_root: &str) -> LeptosOptions {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
    LeptosOptions::builder()
        .output_name(env("LEPTOS_OUTPUT_NAME", "portico"))
        .site_root(site_root.to_string())
        .site_pkg_dir(env("LEPTOS_SITE_PKG_DIR", "pkg"))
        .site_addr(addr)
        .build()
}
