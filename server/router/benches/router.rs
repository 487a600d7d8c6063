//! Router benchmarks: ours vs Kong's atc-router on the same generated routes.
//!
//! Run: `cargo bench --bench router` (reduced sample sizes; a few minutes).
//! Set `ATC_MAX` to limit the sizes atc-router is timed at (default 10000).
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use portico_router::{RequestContext, RouteConfig, Router};
use std::time::Duration;

#[path = "../tests/common/kong.rs"]
mod kong;

#[allow(dead_code)]
#[path = "support/gen.rs"]
mod gen;
use gen::{gen_routes, requests, HEADERS};

fn atc_priority(r: &RouteConfig, paths: &[&str]) -> usize {
    if r.expression.is_some() {
        // expression routes outrank traditional ones (as in this crate)
        ((7u64 << 61) | r.priority.unwrap_or(0)) as usize
    } else {
        kong::group_priority(r, paths) as usize
    }
}

fn bench(c: &mut Criterion) {
    let atc_max: usize = std::env::var("ATC_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    for &n in &[10usize, 100, 1_000, 10_000] {
        let routes = gen_routes(n);
        let router = Router::build(&routes).expect("routes are valid");
        let reqs = requests(n);

        let mut g = c.benchmark_group(format!("n{n}"));
        g.sample_size(20)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_millis(800));
        g.bench_function(BenchmarkId::new("build", "ours"), |b| {
            b.iter_with_large_drop(|| Router::build(black_box(&routes)))
        });
        for q in &reqs {
            g.bench_function(BenchmarkId::new(q.name, "ours"), |b| {
                b.iter(|| {
                    let ctx = RequestContext::new(q.method, &q.host, &q.path).with_headers(HEADERS);
                    black_box(router.find(&ctx).map(|m| m.route_index))
                })
            });
        }

        if n <= atc_max {
            let schema = kong::schema();
            let mut matchers = Vec::new();
            let mut uuid_route = std::collections::HashMap::new();
            for (i, r) in routes.iter().enumerate() {
                let uuid = uuid::Uuid::from_u128(u128::MAX - i as u128);
                uuid_route.insert(uuid, i);
                if r.expression.is_some() {
                    matchers.push((atc_priority(r, &[]), uuid, kong::expression_of(r)));
                } else {
                    for grp in kong::path_groups(r) {
                        matchers.push((
                            atc_priority(r, &grp),
                            uuid,
                            kong::group_expression(r, &grp),
                        ));
                    }
                }
            }
            let build_atc = || {
                let mut a = atc_router::router::Router::new(&schema);
                for (p, u, e) in &matchers {
                    a.add_matcher(*p, *u, e).expect("atc accepts");
                }
                a
            };
            let atc = build_atc();
            // sanity: both engines pick the same route for the benchmark requests
            for q in &reqs {
                let ctx = RequestContext::new(q.method, &q.host, &q.path).with_headers(HEADERS);
                let ours = router.find(&ctx).map(|m| m.route_index);
                let mut cx = kong::context(&schema, &atc.fields, &ctx);
                let theirs = if atc.execute(&mut cx) {
                    cx.result
                        .as_ref()
                        .and_then(|m| uuid_route.get(&m.uuid).copied())
                } else {
                    None
                };
                assert_eq!(ours, theirs, "n={n} {}: engines disagree", q.name);
                if q.name != "miss" {
                    assert!(ours.is_some(), "n={n} {} should hit", q.name);
                }
            }
            g.sample_size(10);
            g.bench_function(BenchmarkId::new("build", "atc"), |b| {
                b.iter_with_large_drop(build_atc)
            });
            for q in &reqs {
                g.bench_function(BenchmarkId::new(q.name, "atc"), |b| {
                    b.iter(|| {
                        let ctx =
                            RequestContext::new(q.method, &q.host, &q.path).with_headers(HEADERS);
                        let mut cx = kong::context(&schema, &atc.fields, &ctx);
                        black_box(atc.execute(&mut cx))
                    })
                });
            }
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
