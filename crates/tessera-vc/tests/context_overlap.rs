//! Contexts that redefine each other's protected terms identically: VC 2.0 with Data Integrity
//! v2 and Bitstring Status List v1 in one `@context` (both repeat `id`, `type` and their own
//! classes, with the same definitions as the VC 2.0 context). JSON-LD 1.1 allows a protected
//! term to be redefined with the same definition; a different definition is still an error.

mod common;

use serde_json::{Value, json};
use tessera_vc::canon::{CanonError, canonicalize, canonicalize_compiled, canonicalize_general};
use tessera_vc::proof::Cryptosuite;
use tessera_vc::report::{CheckCode, CheckStatus};

use common::{fixture, options, sign_with};

const FIXTURES: [&str; 2] = [
    "vc2-data-integrity-contexts.json",
    "vc2-data-integrity-status-contexts.json",
];

fn both_paths(label: &str, doc: &Value) -> String {
    let general = canonicalize_general(doc).unwrap_or_else(|e| panic!("{label}: general: {e}"));
    let compiled = canonicalize_compiled(doc).unwrap_or_else(|e| panic!("{label}: compiled: {e}"));
    assert_eq!(
        compiled.as_deref(),
        Some(general.as_str()),
        "{label}: the compiled path must handle it and agree"
    );
    assert_eq!(canonicalize(doc).expect("canonicalize"), general, "{label}");
    general
}

#[test]
fn identical_redefinitions_canonicalize_on_both_paths() {
    for name in FIXTURES {
        let doc = fixture(name);
        let nquads = both_paths(name, &doc);
        assert!(nquads.contains("<https://www.w3.org/2018/credentials#VerifiableCredential>"));
    }
    // The status entry's class keeps the meaning both contexts give it.
    let nquads = both_paths(FIXTURES[1], &fixture(FIXTURES[1]));
    assert!(
        nquads.contains("<https://www.w3.org/ns/credentials/status#BitstringStatusListEntry>"),
        "{nquads}"
    );
}

#[test]
fn credentials_with_overlapping_contexts_sign_and_verify() {
    for name in FIXTURES {
        for suite in [Cryptosuite::EddsaRdfc2022, Cryptosuite::EddsaJcs2022] {
            let signed = sign_with(&fixture(name), suite, "2025-06-15T12:00:05Z");
            // The proof configuration (with the document's contexts) goes through both paths too.
            let mut config = signed["proof"].as_object().expect("proof").clone();
            config.remove("proofValue");
            config.insert("@context".into(), signed["@context"].clone());
            both_paths(&format!("{name} proof config"), &Value::Object(config));

            let report = tessera_vc::verify(&signed, &options()).expect("verify");
            assert!(report.verified, "{name} {suite:?}: {report:#?}");
            assert_eq!(report.status(CheckCode::SafeMode), CheckStatus::Passed);
            assert_eq!(report.status(CheckCode::Contexts), CheckStatus::Passed);

            // And a change still breaks the signature.
            let mut tampered = signed.clone();
            tampered["credentialSubject"]["name"] = json!("Grace Hopper");
            let report = tessera_vc::verify(&tampered, &options()).expect("verify");
            assert!(!report.verified, "{name} {suite:?}: tampered verified");
            assert_eq!(report.status(CheckCode::Proof), CheckStatus::Failed);
        }
    }
    // The status entry was checked against the supplied list (index 94568 is not set).
    let signed = sign_with(
        &fixture(FIXTURES[1]),
        Cryptosuite::EddsaRdfc2022,
        "2025-06-15T12:00:05Z",
    );
    let report = tessera_vc::verify(&signed, &options()).expect("verify");
    assert_eq!(report.status(CheckCode::Status), CheckStatus::Passed);
}

#[test]
fn a_conflicting_redefinition_is_still_refused() {
    // VC 1.1 defines `VerifiableCredential`, `issuer`… differently from VC 2.0, and both protect
    // them: whatever the order or company, the document is refused on both paths.
    for contexts in [
        json!([
            "https://www.w3.org/ns/credentials/v2",
            "https://www.w3.org/2018/credentials/v1"
        ]),
        json!([
            "https://www.w3.org/ns/credentials/v2",
            "https://w3id.org/security/data-integrity/v2",
            "https://www.w3.org/2018/credentials/v1"
        ]),
        json!([
            "https://www.w3.org/2018/credentials/v1",
            "https://www.w3.org/ns/credentials/v2"
        ]),
    ] {
        let mut doc = fixture(FIXTURES[0]);
        doc["@context"] = contexts.clone();
        assert!(
            canonicalize_general(&doc).is_err(),
            "{contexts}: general accepted"
        );
        assert!(
            matches!(canonicalize_compiled(&doc), Ok(None) | Err(_)),
            "{contexts}: compiled accepted"
        );
        match canonicalize(&doc) {
            Err(CanonError::InvalidJsonLd { reason, .. }) => {
                assert!(reason.contains("protected"), "{contexts}: {reason}")
            }
            other => panic!("{contexts}: {other:?}"),
        }
    }
}
