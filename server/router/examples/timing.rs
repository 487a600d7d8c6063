//! Quick timing of build / precompile / lookups without criterion:
//! `cargo run --release --example timing [routes]`
use portico_router::{RequestContext, Router};
use std::time::Instant;

#[allow(dead_code)]
#[path = "../benches/support/gen.rs"]
mod gen;

/// CPU time of this process (Linux `/proc/self/schedstat`), to see through
/// a machine shared with other work.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let routes = gen::gen_routes(n);
    let t = Instant::now();
    let mut ok = 0;
    for r in &routes {
        ok += usize::from(portico_router::validate_route(r).is_ok());
    }
    println!("validate {n} routes: {:?} ({ok} ok)", t.elapsed());
    let mut router = None;
    for _ in 0..5 {
        let t = Instant::now();
        let c = cpu_ns();
        let r = match Router::build(&routes) {
            Ok(r) => r,
            Err(e) => panic!("{e:?}"),
        };
        println!(
            "build: {:?} wall, {:.1} ms cpu",
            t.elapsed(),
            (cpu_ns() - c) as f64 / 1e6
        );
        router = Some(r);
    }
    let Some(router) = router else { return };
    let t = Instant::now();
    router.precompile();
    println!(
        "precompile (lazy regexes and regex sets): {:?}",
        t.elapsed()
    );
    for q in gen::requests(n) {
        let iters = 200_000;
        let t = Instant::now();
        let mut hits = 0;
        for _ in 0..iters {
            let ctx = RequestContext::new(q.method, &q.host, &q.path).with_headers(gen::HEADERS);
            hits += usize::from(router.find(std::hint::black_box(&ctx)).is_some());
        }
        let per = t.elapsed() / iters;
        let t = Instant::now();
        for _ in 0..iters {
            let ctx = RequestContext::new(q.method, &q.host, &q.path).with_headers(gen::HEADERS);
            std::hint::black_box(router.find_route(std::hint::black_box(&ctx)));
        }
        let per_route = t.elapsed() / iters;
        let t = Instant::now();
        for _ in 0..iters {
            let ctx = RequestContext::new(q.method, &q.host, &q.path).with_headers(gen::HEADERS);
            std::hint::black_box(ctx);
        }
        let per_ctx = t.elapsed() / iters;
        println!(
            "{:10} find {per:?}  find_route {per_route:?}  ctx only {per_ctx:?}  (hit={})",
            q.name,
            hits > 0
        );
    }
}
