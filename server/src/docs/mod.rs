//! Documentation: Markdown rendering, API spec parsing and rendering, and the pool
//! that runs both off the async runtime.

pub mod markdown;
pub mod pool;
pub mod spec;
