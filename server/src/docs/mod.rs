//! Documentation: Markdown rendering (and, later, API spec parsing and rendering).

pub mod markdown;
pub mod spec;
