//! Parse + validate + map of a generated 5,000-item CASE framework, and export of it.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn pipeline(c: &mut Criterion) {
    let json = tessera_case::generate::package_json(5_000);
    let options = tessera_case::ValidationOptions::default();
    let mut group = c.benchmark_group("case_5000_items");
    group.sample_size(20);
    group.bench_function("parse_validate_map", |b| {
        b.iter(|| tessera_case::import(black_box(json.as_bytes()), &options))
    });
    let framework = match tessera_case::import(json.as_bytes(), &options) {
        Ok(f) => f,
        Err(e) => panic!("generated package must import: {e}"),
    };
    group.bench_function("export_serialize", |b| {
        b.iter(|| tessera_case::to_json(&tessera_case::export(black_box(&framework))))
    });
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
