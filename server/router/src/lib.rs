//! Kong Gateway 3.x compatible HTTP route matcher.
//!
//! Supports the `traditional_compatible` router flavor (methods, hosts,
//! paths, headers, with Kong's priority rules) and Kong's expressions
//! language, compiled into an index that only touches the routes that can
//! match a request. See [`router`] for the priority rules, [`normalize`] for
//! request path normalization, [`expr`] for the expressions language and
//! [`upstream`] for `path_handling`.
//!
//! ```
//! use portico_router::{RequestContext, RouteConfig, Router};
//! let mut r = RouteConfig::new("a");
//! r.paths = vec!["/api".into()];
//! let router = Router::build(&[r]).unwrap();
//! let ctx = RequestContext::new("GET", "example.com", "/api/users?x=1");
//! let m = router.find(&ctx).unwrap();
//! assert_eq!(m.route_id, "a");
//! assert_eq!(m.upstream_path, "/users");
//! ```

#![deny(missing_docs)]

pub mod model;
pub use model::{PathHandling, RouteConfig};

#[cfg(feature = "matcher")]
mod matcher {
    pub use crate::captures::Captures;
    pub use crate::context::{Protocol, RequestContext};
    pub use crate::normalize::normalize_path;
    pub use crate::router::{Match, Router};
    pub use crate::upstream::upstream_path;
    pub use crate::validate::{validate_route, RouteError};
}
#[cfg(feature = "matcher")]
pub use matcher::*;

#[cfg(feature = "matcher")]
pub mod captures;
#[cfg(feature = "matcher")]
pub mod context;
#[cfg(feature = "matcher")]
pub mod expr;
#[cfg(feature = "matcher")]
mod index;
#[cfg(feature = "matcher")]
pub mod lazy_regex;
#[cfg(feature = "matcher")]
pub mod normalize;
#[cfg(feature = "matcher")]
pub mod router;
#[cfg(feature = "matcher")]
pub mod upstream;
#[cfg(feature = "matcher")]
pub mod validate;
