#![no_main]
//! Building a router from arbitrary route fields and matching arbitrary
//! requests must never panic.
use libfuzzer_sys::fuzz_target;
use portico_router::{RequestContext, RouteConfig, Router};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let parts: Vec<&str> = s.split('\n').collect();
    let get = |i: usize| parts.get(i).copied().unwrap_or("");
    let mut r = RouteConfig::new("fuzz");
    r.paths = vec![get(0).to_string()];
    r.hosts = vec![get(1).to_string()];
    r.methods = vec![get(2).to_string()];
    r.headers.insert(get(3).to_string(), vec![get(4).to_string()]);
    if let Ok(router) = Router::build(&[r]) {
        let headers = [(get(3), get(5))];
        let ctx = RequestContext::new(get(2), get(6), get(7)).with_headers(&headers);
        let _ = router.find(&ctx);
    }
});
