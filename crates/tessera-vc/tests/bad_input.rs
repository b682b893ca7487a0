//! Bad input: each a clear verdict or a clear error, in bounded time and memory, never a panic.
//!
//! Verdicts (`Ok` with failed checks): not JSON, JSON that is not a credential, an unknown
//! context. Errors ("could not process"): too large, too deep, a poison graph.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};
use tessera_vc::{CheckCode, CheckStatus, Error, VerifyOptions};

fn timed<T>(f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    assert!(took < Duration::from_secs(10), "took {took:?}");
    out
}

#[test]
fn not_json_is_a_failed_json_check() {
    for bytes in [
        &b"not json at all"[..],
        b"{\"@context\": ",
        b"",
        b"\xff\xfe{}",
        b"{} trailing",
    ] {
        let report = tessera_vc::verify_bytes(bytes, &VerifyOptions::new(now())).unwrap();
        assert!(!report.verified);
        assert_eq!(report.failed(), vec![CheckCode::Json]);
        let message = &report.check(CheckCode::Json).unwrap().message;
        assert!(message.starts_with("the file is not JSON"), "{message}");
        assert_eq!(report.status(CheckCode::Proof), CheckStatus::NotChecked);
    }
}

#[test]
fn json_that_is_not_a_credential_is_named() {
    for (doc, expect) in [
        (json!([1, 2, 3]), "an array"),
        (json!("a string"), "a string"),
        (json!(42), "a number"),
        (json!(null), "null"),
    ] {
        let report = tessera_vc::verify(&doc, &VerifyOptions::new(now())).unwrap();
        assert_eq!(report.failed(), vec![CheckCode::Json]);
        assert!(
            report
                .check(CheckCode::Json)
                .unwrap()
                .message
                .contains(expect),
            "{expect}"
        );
    }
    let report =
        tessera_vc::verify(&json!({"hello": "world"}), &VerifyOptions::new(now())).unwrap();
    assert!(!report.verified);
    let failed = report.failed();
    for code in [CheckCode::Contexts, CheckCode::Shape, CheckCode::Proof] {
        assert!(failed.contains(&code), "{code}: {}", report.to_text());
    }
    let shape = report.check(CheckCode::Shape).unwrap();
    assert!(
        shape
            .details
            .iter()
            .any(|d| d.starts_with("credentialSubject")),
        "{shape:?}"
    );
}

#[test]
fn unknown_context_url_is_named_and_never_fetched() {
    let mut doc = signed_ob();
    doc["@context"] = json!([
        "https://www.w3.org/ns/credentials/v2",
        "https://contexts.example/never-fetched.jsonld"
    ]);
    let report = timed(|| tessera_vc::verify(&doc, &options()).unwrap());
    assert!(report.failed().contains(&CheckCode::Contexts));
    let message = &report.check(CheckCode::Contexts).unwrap().message;
    assert!(
        message.contains("https://contexts.example/never-fetched.jsonld"),
        "{message}"
    );
    // Inline contexts that reference an unknown URL are caught by the canonicalizer.
    let mut doc = signed_ob();
    doc["@context"]
        .as_array_mut()
        .unwrap()
        .push(json!({"@import": "https://contexts.example/import.jsonld"}));
    let report = tessera_vc::verify(&doc, &options()).unwrap();
    assert!(!report.verified, "{}", report.to_text());
}

#[test]
fn a_50_mb_document_is_refused_before_parsing() {
    let mut bytes = Vec::with_capacity(50 * 1024 * 1024 + 64);
    bytes.extend_from_slice(
        br#"{"@context":["https://www.w3.org/ns/credentials/v2"],"description":""#,
    );
    bytes.resize(50 * 1024 * 1024, b'a');
    bytes.extend_from_slice(b"\"}");
    let err = timed(|| tessera_vc::verify_bytes(&bytes, &VerifyOptions::new(now())).unwrap_err());
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    assert!(err.to_string().contains("more than the limit"), "{err}");
}

#[test]
fn a_large_parsed_document_is_refused_by_the_canonicalizer() {
    // Under the byte limit of verify_bytes callers may raise, the canonicalizer still bounds it.
    let mut doc = signed_ob();
    doc["description"] = Value::String("x".repeat(9 * 1024 * 1024));
    let err = timed(|| tessera_vc::verify(&doc, &options()).unwrap_err());
    assert!(matches!(err, Error::Canon(_)), "{err}");
    assert!(err.to_string().contains("too large"), "{err}");
}

#[test]
fn nesting_10000_deep_is_a_clear_error() {
    let depth = 10_000;
    let mut text = String::from(r#"{"@context":["https://www.w3.org/ns/credentials/v2"],"x":"#);
    text.push_str(&"[".repeat(depth));
    text.push_str(&"]".repeat(depth));
    text.push('}');
    let err = timed(|| {
        tessera_vc::verify_bytes(text.as_bytes(), &VerifyOptions::new(now())).unwrap_err()
    });
    assert!(matches!(err, Error::TooDeep { limit: 128 }), "{err}");
    assert!(err.to_string().contains("deeper than 128"), "{err}");

    // Deeper than the canonicalizer's limit but within serde's: also an error, not a stack overflow.
    let mut doc = json!("leaf");
    for _ in 0..100 {
        doc = json!({ "https://example.com/p": doc });
    }
    let mut credential = signed_ob();
    credential["credentialSubject"]["https://example.com/nested"] = doc;
    let err = timed(|| tessera_vc::verify(&credential, &options()).unwrap_err());
    assert!(err.to_string().contains("nested too deeply"), "{err}");
}

#[test]
fn a_poison_graph_is_rejected_in_bounded_time() {
    // The rdf-canon test074 shape: a 10-node clique of blank nodes (with self-loops).
    let nodes: Vec<Value> = (0..10)
        .map(|i| {
            json!({
                "@id": format!("_:e{i}"),
                "https://example.com/p": (0..10).map(|j| json!({"@id": format!("_:e{j}")})).collect::<Vec<_>>()
            })
        })
        .collect();
    let doc = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {"@id": "_:e0", "https://example.com/p": nodes},
        "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
                  "proofPurpose": "assertionMethod",
                  "verificationMethod": "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
                  "proofValue": "z2YwC8z3ap7yx1nZYCg4L3j3ApHsF8kgPdSb5xoS1VR7vPG3F561B52hYnQF9iseabecm3ijx4K1FBTQsCZahKZme"}
    });
    let err = timed(|| tessera_vc::verify(&doc, &VerifyOptions::new(now())).unwrap_err());
    assert!(err.to_string().contains("poison"), "{err}");
    // The signer refuses it too.
    let (key, vm) = issuer_key();
    let err = tessera_vc::proof::sign(
        &doc,
        &key,
        &tessera_vc::proof::ProofOptions::new(
            tessera_vc::proof::Cryptosuite::EddsaRdfc2022,
            vm,
            None,
        ),
    )
    .unwrap_err();
    assert!(err.to_string().contains("poison"), "{err}");
}

#[test]
fn credentials_embedded_too_deep_are_an_error() {
    let mut doc = json!({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"]});
    for _ in 0..6 {
        doc = json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "credentialSubject": {"verifiableCredential": [doc]}
        });
    }
    let err = tessera_vc::verify(&doc, &VerifyOptions::new(now())).unwrap_err();
    assert!(matches!(err, Error::EmbeddingTooDeep { .. }), "{err}");
}

#[test]
fn malformed_proofs_and_dates_are_verdicts() {
    let cases: Vec<(&str, Value)> = vec![
        ("/proof/created", json!("not a date")),
        ("/proof/verificationMethod", json!(42)),
        ("/proof/proofValue", json!(["z"])),
        ("/proof", json!([1, "two", null])),
        ("/validFrom", json!("2025-06-15")),
        (
            "/credentialStatus",
            json!({"type": "BitstringStatusListEntry"}),
        ),
        ("/issuer", json!(["a", "b"])),
        ("/credentialSubject", json!("nobody")),
    ];
    for (pointer, value) in cases {
        let mut doc = signed_ob();
        *doc.pointer_mut(pointer).unwrap() = value;
        let report = tessera_vc::verify(&doc, &options())
            .unwrap_or_else(|e| panic!("{pointer}: could not process: {e}"));
        assert!(!report.verified, "{pointer}");
        assert!(!report.failed().is_empty(), "{pointer}");
    }
}
