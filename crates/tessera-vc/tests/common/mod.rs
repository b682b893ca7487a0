//! Shared helpers for the integration tests: fixtures, the test issuer and its key.
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value;
use tessera_vc::VerifyOptions;
use tessera_vc::keys::{KeyPair, Multikey};
use tessera_vc::proof::{self, Cryptosuite, ProofOptions};

pub const ISSUER: &str = "https://tessera.example/issuers/lincoln-high";

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn fixture(name: &str) -> Value {
    let text = std::fs::read_to_string(fixture_path(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

pub fn issuer_key() -> (KeyPair, String) {
    let text = std::fs::read_to_string(fixture_path("issuer-key.json")).unwrap();
    let key = Multikey::from_json(&text).unwrap();
    (key.key_pair().unwrap(), key.id)
}

pub fn now() -> chrono::DateTime<chrono::Utc> {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

/// Options that know the test issuer's controller document and status list.
pub fn options() -> VerifyOptions {
    let mut options = VerifyOptions::new(now());
    options
        .add_controller_document(&fixture("issuer-controller.json"))
        .unwrap();
    options
        .add_status_list(fixture("status-list-credential.json"))
        .unwrap();
    options
}

pub fn sign_with(doc: &Value, suite: Cryptosuite, created: &str) -> Value {
    let (key, vm) = issuer_key();
    proof::sign(
        doc,
        &key,
        &ProofOptions::new(suite, vm, Some(created.to_owned())),
    )
    .unwrap()
}

/// The first OB credential, signed with eddsa-rdfc-2022 exactly as embedded in the CLR fixture.
pub fn signed_ob() -> Value {
    sign_with(
        &fixture("ob3-achievement-credential.json"),
        Cryptosuite::EddsaRdfc2022,
        "2025-06-15T12:00:05Z",
    )
}

pub fn signed_clr() -> Value {
    sign_with(
        &fixture("clr2-transcript.json"),
        Cryptosuite::EddsaRdfc2022,
        "2025-06-20T00:00:05Z",
    )
}
