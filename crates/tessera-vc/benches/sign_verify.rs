//! Sign and verify throughput (one thread, mimalloc as the binary runs it) on the 1EdTech OB 3.0
//! vector credential and on Tessera's realistic OB 3.0 fixture (alignment, rubric levels, an
//! `allowedValue` list, result, evidence, status entry, identity object), with `eddsa-rdfc-2022`
//! and `eddsa-jcs-2022`. `verify` is the full check list (contexts, safe mode, proof, issuer
//! binding, dates, status, shape), not just the signature.
//!
//! `cargo bench -p tessera-vc --bench sign_verify`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::Value;
use tessera_vc::VerifyOptions;
use tessera_vc::keys::Multikey;
use tessera_vc::proof::{self, Cryptosuite, ProofOptions};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn load(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture")
}

struct Case {
    name: &'static str,
    unsigned: Value,
    key: Multikey,
    controller: Value,
    created: &'static str,
}

fn bench(c: &mut Criterion) {
    let cases = [
        Case {
            name: "ob3-1edtech",
            unsigned: load(include_str!("../tests/vectors/1edtech-ob3/unsigned.json")),
            key: Multikey::from_json(include_str!("../tests/vectors/1edtech-ob3/keyPair.json"))
                .expect("key"),
            controller: load(include_str!("../tests/vectors/1edtech-ob3/controller.json")),
            created: "2010-01-01T19:23:24Z",
        },
        Case {
            name: "ob3-realistic",
            unsigned: load(include_str!(
                "../tests/fixtures/ob3-achievement-credential.json"
            )),
            key: Multikey::from_json(include_str!("../tests/fixtures/issuer-key.json"))
                .expect("key"),
            controller: load(include_str!("../tests/fixtures/issuer-controller.json")),
            created: "2025-06-15T12:00:05Z",
        },
    ];
    let now = "2026-01-01T00:00:00Z".parse().expect("now");
    for case in &cases {
        let pair = case.key.key_pair().expect("secret");
        let mut options = VerifyOptions::new(now);
        options
            .add_controller_document(&case.controller)
            .expect("controller");
        for suite in [Cryptosuite::EddsaRdfc2022, Cryptosuite::EddsaJcs2022] {
            let proof_options =
                ProofOptions::new(suite, case.key.id.clone(), Some(case.created.into()));
            let label = format!("{}/{}", case.name, suite.as_str());
            c.bench_function(&format!("sign/{label}"), |b| {
                b.iter(|| {
                    proof::sign(black_box(&case.unsigned), &pair, &proof_options).expect("sign")
                })
            });
            let signed = proof::sign(&case.unsigned, &pair, &proof_options).expect("sign");
            assert!(
                tessera_vc::verify(&signed, &options)
                    .expect("verify")
                    .verified
            );
            c.bench_function(&format!("verify/{label}"), |b| {
                b.iter(|| tessera_vc::verify(black_box(&signed), &options).expect("verify"))
            });
            let bytes = serde_json::to_vec(&signed).expect("json");
            c.bench_function(&format!("verify_bytes/{label}"), |b| {
                b.iter(|| tessera_vc::verify_bytes(black_box(&bytes), &options).expect("verify"))
            });
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
