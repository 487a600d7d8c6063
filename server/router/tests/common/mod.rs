#![allow(dead_code)]
use portico_router::{RequestContext, RouteConfig, Router};

pub mod kong;
pub mod reference;

pub fn route(id: &str, f: impl FnOnce(&mut RouteConfig)) -> RouteConfig {
    let mut r = RouteConfig::new(id);
    f(&mut r);
    r
}

pub fn paths(p: &[&str]) -> Vec<String> {
    p.iter().map(|s| s.to_string()).collect()
}

pub fn build(routes: &[RouteConfig]) -> Router {
    match Router::build(routes) {
        Ok(r) => r,
        Err(e) => panic!("build failed: {e:?}"),
    }
}

/// id of the route matched by (method, host, path, headers)
pub fn hit(
    router: &Router,
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Option<String> {
    let ctx = RequestContext::new(method, host, path).with_headers(headers);
    router.find(&ctx).map(|m| m.route_id.to_string())
}
