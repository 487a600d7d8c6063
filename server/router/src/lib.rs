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

pub mod captures;
pub mod context;
pub mod expr;
mod index;
pub mod lazy_regex;
pub mod model;
pub mod normalize;
pub mod router;
pub mod upstream;
pub mod validate;

pub use captures::Captures;
pub use context::{Protocol, RequestContext};
pub use model::{PathHandling, RouteConfig};
pub use normalize::normalize_path;
pub use router::{Match, Router};
pub use upstream::upstream_path;
pub use validate::{validate_route, RouteError};
