#![no_main]
//! The expression parser / type checker / evaluator must never panic.
use libfuzzer_sys::fuzz_target;
use portico_router::expr::{compile, eval};
use portico_router::RequestContext;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(e) = compile(s) {
            let ctx = RequestContext::new("GET", "a.example.com", "/a/b/c?x=1")
                .with_headers(&[("x-a", "1"), ("x-a", "2")]);
            let _ = eval(&e, &ctx);
        }
    }
});
