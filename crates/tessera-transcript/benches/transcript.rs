//! The transcript without a rendering: assemble the CLR, sign it, verify it (with every embedded
//! credential), and read it back into the view renderers use.
//!
//! `cargo bench -p tessera-transcript --bench transcript`

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use tessera_transcript::{TranscriptView, sample};
use tessera_vc::VerifyOptions;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn bench(c: &mut Criterion) {
    let key = sample::organisation_key();
    let vm = key.public_key().did_key_verification_method();
    let mut group = c.benchmark_group("transcript");
    group.sample_size(20);
    for n in [5usize, 300] {
        let request = sample::request(n, true).expect("sample");
        group.bench_with_input(BenchmarkId::new("assemble", n), &request, |b, r| {
            b.iter(|| tessera_transcript::assemble(r).expect("assemble"))
        });
        let unsigned = tessera_transcript::assemble(&request).expect("assemble");
        group.bench_with_input(BenchmarkId::new("sign", n), &unsigned, |b, u| {
            b.iter(|| tessera_transcript::sign(u, &key, &vm, request.issued_at).expect("sign"))
        });
        let signed = sample::signed_transcript(&request).expect("signed");
        let options = VerifyOptions::new(request.issued_at + chrono::Duration::days(1));
        group.bench_with_input(BenchmarkId::new("verify", n), &signed, |b, s| {
            b.iter(|| {
                let verdict = tessera_transcript::verify(s, &options).expect("verify");
                assert!(verdict.verified);
                verdict
            })
        });
        group.bench_with_input(BenchmarkId::new("view", n), &signed, |b, s| {
            b.iter(|| TranscriptView::from_clr(s).expect("view"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
