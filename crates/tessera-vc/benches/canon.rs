//! Canonicalization cost (JSON-LD → RDF → RDFC-1.0) on the 1EdTech OB 3.0 credential and the W3C
//! alumni credential, with mimalloc as the binary would run it.
//!
//! `cargo bench -p tessera-vc --bench canon`

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::Value;
use std::hint::black_box;
use tessera_vc::canon;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn load(text: &str) -> Value {
    serde_json::from_str(text).expect("vector")
}

fn bench(c: &mut Criterion) {
    let docs = [
        (
            "ob3",
            load(include_str!("../tests/vectors/1edtech-ob3/unsigned.json")),
        ),
        (
            "clr2",
            load(include_str!("../tests/vectors/1edtech-clr2/unsigned.json")),
        ),
        (
            "alumni",
            load(include_str!(
                "../tests/vectors/w3c-vc-di-eddsa/unsigned.json"
            )),
        ),
        (
            "alumni_proof_config",
            load(include_str!(
                "../tests/vectors/w3c-vc-di-eddsa/eddsa-rdfc-2022/proofConfigDataInt.json"
            )),
        ),
    ];
    for (name, doc) in &docs {
        c.bench_function(&format!("canonicalize/{name}"), |b| {
            b.iter(|| canon::canonicalize(black_box(doc)).expect("canon"))
        });
        c.bench_function(&format!("compiled_only/{name}"), |b| {
            b.iter(|| canon::canonicalize_compiled(black_box(doc)).expect("canon"))
        });
        c.bench_function(&format!("general/{name}"), |b| {
            b.iter(|| canon::canonicalize_general(black_box(doc)).expect("canon"))
        });
        let nq = canon::to_nquads(doc).expect("nquads");
        c.bench_function(&format!("rdfc_only/{name}"), |b| {
            b.iter(|| canon::canonicalize_nquads(black_box(&nq)).expect("canon"))
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
