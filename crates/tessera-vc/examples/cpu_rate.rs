//! Sign and verify rates per core measured in *thread CPU time* (Linux
//! `/proc/thread-self/schedstat`) as well as wall time: on a machine shared with other builds the
//! wall-clock figures of the criterion bench stretch with the load, the CPU time per operation
//! much less. Same inputs as `benches/sign_verify.rs` (mimalloc, one thread).
//!
//! `cargo run --release -p tessera-vc --example cpu_rate [SECONDS_PER_CASE]`

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde_json::Value;
use tessera_vc::VerifyOptions;
use tessera_vc::keys::Multikey;
use tessera_vc::proof::{self, Cryptosuite, ProofOptions};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// CPU time this thread has run, in nanoseconds (first field of schedstat).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .expect("/proc/thread-self/schedstat (Linux only)")
}

/// Runs `f` for about `budget` of wall time; returns (CPU µs/op, wall µs/op).
fn measure(budget: Duration, mut f: impl FnMut()) -> (f64, f64) {
    for _ in 0..50 {
        f();
    }
    let (wall0, cpu0) = (Instant::now(), thread_cpu_ns());
    let mut n = 0u64;
    while wall0.elapsed() < budget {
        for _ in 0..20 {
            f();
        }
        n += 20;
    }
    let cpu = (thread_cpu_ns() - cpu0) as f64 / 1e3 / n as f64;
    let wall = wall0.elapsed().as_secs_f64() * 1e6 / n as f64;
    (cpu, wall)
}

/// One measured operation.
type Operation<'a> = Box<dyn FnMut() + 'a>;

fn load(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture")
}

fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let budget = Duration::from_secs_f64(secs);
    let cases = [
        (
            "ob3-1edtech",
            load(include_str!("../tests/vectors/1edtech-ob3/unsigned.json")),
            include_str!("../tests/vectors/1edtech-ob3/keyPair.json"),
            load(include_str!("../tests/vectors/1edtech-ob3/controller.json")),
            "2010-01-01T19:23:24Z",
        ),
        (
            "ob3-realistic",
            load(include_str!(
                "../tests/fixtures/ob3-achievement-credential.json"
            )),
            include_str!("../tests/fixtures/issuer-key.json"),
            load(include_str!("../tests/fixtures/issuer-controller.json")),
            "2025-06-15T12:00:05Z",
        ),
    ];
    let now = "2026-01-01T00:00:00Z".parse().expect("now");
    println!("| operation | input | suite | CPU µs/op | ops/s per core (CPU) | wall µs/op |");
    println!("|---|---|---|---|---|---|");
    for (name, unsigned, key, controller, created) in &cases {
        let key = Multikey::from_json(key).expect("key");
        let pair = key.key_pair().expect("secret");
        let mut options = VerifyOptions::new(now);
        options
            .add_controller_document(controller)
            .expect("controller");
        for suite in [Cryptosuite::EddsaRdfc2022, Cryptosuite::EddsaJcs2022] {
            let proof_options = ProofOptions::new(suite, key.id.clone(), Some((*created).into()));
            let signed = proof::sign(unsigned, &pair, &proof_options).expect("sign");
            assert!(
                tessera_vc::verify(&signed, &options)
                    .expect("verify")
                    .verified
            );
            let bytes = serde_json::to_vec(&signed).expect("json");
            let rows: [(&str, Operation); 3] = [
                (
                    "sign",
                    Box::new(|| {
                        black_box(proof::sign(black_box(unsigned), &pair, &proof_options).ok());
                    }),
                ),
                (
                    "verify",
                    Box::new(|| {
                        black_box(tessera_vc::verify(black_box(&signed), &options).ok());
                    }),
                ),
                (
                    "verify_bytes",
                    Box::new(|| {
                        black_box(tessera_vc::verify_bytes(black_box(&bytes), &options).ok());
                    }),
                ),
            ];
            for (op, mut f) in rows {
                let (cpu, wall) = measure(budget, &mut f);
                println!(
                    "| {op} | {name} | {} | {cpu:.1} | {:.0} | {wall:.1} |",
                    suite.as_str(),
                    1e6 / cpu
                );
            }
        }
    }
}
