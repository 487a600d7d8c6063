//! Plain serde types shared by the browser and the server, and the pure validation
//! rules both sides run.

mod types;
pub mod validate;

pub use types::*;
