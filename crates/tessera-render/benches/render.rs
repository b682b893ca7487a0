//! The mastery transcript end to end: assemble the CLR from the learner's record and signed
//! credentials, sign it, serialise it and render the PDF (fonts subset, QR code, CLR attached).
//! Issue 6 asks for < 200 ms at 300 competencies and < 30 ms at 5.
//!
//! `cargo bench -p tessera-render --bench render`

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use tessera_render::{Templates, render_html, render_pdf};
use tessera_transcript::sample;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn bench(c: &mut Criterion) {
    let templates = Templates::load(Templates::shipped_dir()).expect("templates");
    let key = sample::organisation_key();
    let vm = key.public_key().did_key_verification_method();
    let mut group = c.benchmark_group("transcript");
    group.sample_size(20);
    for n in [5usize, 300] {
        // The credentials exist before the transcript is asked for: signing them is setup.
        let mut request = sample::request(n, true).expect("sample");
        request.learner.name = "Zoë Ångström · 李小龙 · Ολυμπία".into();
        group.bench_with_input(
            BenchmarkId::new("assemble_sign_render_pdf", n),
            &request,
            |b, request| {
                b.iter(|| {
                    let unsigned = tessera_transcript::assemble(request).expect("assemble");
                    let signed = tessera_transcript::sign(&unsigned, &key, &vm, request.issued_at)
                        .expect("sign");
                    let json = serde_json::to_vec(&signed).expect("json");
                    render_pdf(&json, &templates).expect("pdf")
                })
            },
        );
        let signed = sample::signed_transcript(&request).expect("signed");
        let json = serde_json::to_vec(&signed).expect("json");
        group.bench_with_input(BenchmarkId::new("render_pdf", n), &json, |b, json| {
            b.iter(|| render_pdf(json, &templates).expect("pdf"))
        });
        group.bench_with_input(BenchmarkId::new("render_html", n), &json, |b, json| {
            b.iter(|| render_html(json, &templates).expect("html"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
