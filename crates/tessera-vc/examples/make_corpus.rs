//! Writes N distinct signed OB 3.0 credentials (the realistic fixture with a different id,
//! learner identifier and status index each) for the `tessera verify` throughput run in
//! `scripts/bench-verify`.
//!
//! `cargo run --release -p tessera-vc --example make_corpus -- DIR N [eddsa-rdfc-2022|eddsa-jcs-2022]`

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tessera_vc::keys::Multikey;
use tessera_vc::proof::{self, Cryptosuite, ProofOptions};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dir), Some(count)) = (
        args.first(),
        args.get(1).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: make_corpus DIR N [eddsa-rdfc-2022|eddsa-jcs-2022]");
        return ExitCode::from(2);
    };
    let suite: Cryptosuite = match args
        .get(2)
        .map_or(Ok(Cryptosuite::EddsaRdfc2022), |s| s.parse())
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let read = |name: &str| std::fs::read_to_string(fixtures.join(name)).expect("fixture");
    let key = Multikey::from_json(&read("issuer-key.json")).expect("key");
    let pair = key.key_pair().expect("secret");
    let template: Value =
        serde_json::from_str(&read("ob3-achievement-credential.json")).expect("json");
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir).expect("create dir");
    let options = ProofOptions::new(suite, key.id.clone(), Some("2025-06-15T12:00:05Z".into()));
    for i in 0..count {
        let mut doc = template.clone();
        doc["id"] = json!(format!("urn:uuid:00000000-0000-4000-8000-{i:012}"));
        let email = format!("learner{i}@lincoln.example.edu");
        let salt = "b5f3c1a9e0d24f7c";
        let hash = hex::encode(Sha256::digest(format!("{email}{salt}").as_bytes()));
        doc["credentialSubject"]["identifier"][0]["identityHash"] = json!(format!("sha256${hash}"));
        let index = (i * 7919) % 131_072;
        doc["credentialStatus"]["id"] =
            json!(format!("https://tessera.example/status/lincoln/1#{index}"));
        doc["credentialStatus"]["statusListIndex"] = json!(index.to_string());
        let signed = proof::sign(&doc, &pair, &options).expect("sign");
        std::fs::write(
            dir.join(format!("credential-{i:05}.json")),
            serde_json::to_vec_pretty(&signed).expect("json"),
        )
        .expect("write");
    }
    ExitCode::SUCCESS
}
