//! `cargo bench -p server --bench spec_render`: parsing and rendering a generated ~5 MB
//! OpenAPI 3.0 spec, in YAML and in JSON. The goal is rendering the reference in at
//! most 300 ms (release build).

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use server::docs::spec::{parse, render_reference};

#[path = "../src/docs/spec/testgen.rs"]
mod testgen;

const TARGET_BYTES: usize = 5 * 1024 * 1024;

fn spec_render(c: &mut Criterion) {
    let texts = [
        ("yaml", testgen::large_spec_text(TARGET_BYTES, false)),
        ("json", testgen::large_spec_text(TARGET_BYTES, true)),
    ];
    for (format, text) in &texts {
        let started = Instant::now();
        let spec = parse(text).expect("the generated spec parses");
        let parsed = started.elapsed();
        let reference = render_reference(&spec, None);
        let filtered = render_reference(&spec, Some("group3"));
        eprintln!(
            "{format}: {:.2} MB of spec, {} operations, {} tags -> {:.2} MB of HTML ({:.2}x); \
             one tag: {} operations, {:.0} KB of HTML; first parse {parsed:.0?}",
            text.len() as f64 / 1048576.0,
            reference.operation_count,
            reference.tags.len(),
            reference.html.len() as f64 / 1048576.0,
            reference.html.len() as f64 / text.len() as f64,
            filtered.operation_count,
            filtered.html.len() as f64 / 1024.0,
        );
    }

    let mut group = c.benchmark_group("spec_5mb");
    group.sample_size(10);
    for (format, text) in &texts {
        let spec = parse(text).expect("the generated spec parses");
        group.bench_function(format!("parse_{format}"), |b| {
            b.iter(|| parse(black_box(text)).expect("parses"))
        });
        group.bench_function(format!("render_{format}"), |b| {
            b.iter(|| render_reference(black_box(&spec), None))
        });
        group.bench_function(format!("render_one_tag_{format}"), |b| {
            b.iter(|| render_reference(black_box(&spec), Some("group3")))
        });
        group.bench_function(format!("parse_and_render_{format}"), |b| {
            b.iter(|| {
                let spec = parse(black_box(text)).expect("parses");
                render_reference(&spec, None)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, spec_render);
criterion_main!(benches);
