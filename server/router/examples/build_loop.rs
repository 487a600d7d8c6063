//! Build the 10,000-route benchmark set repeatedly (for profiling the build).
use portico_router::Router;

#[allow(dead_code)]
#[path = "../benches/support/gen.rs"]
mod gen;

fn main() {
    let routes = gen::gen_routes(10_000);
    let mut total = 0;
    for _ in 0..10 {
        if let Ok(r) = Router::build(&routes) {
            total += r.matcher_count();
        }
    }
    println!("{total}");
}
