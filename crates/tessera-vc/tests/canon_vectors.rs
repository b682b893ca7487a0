//! Correctness anchors: canonical forms published with the W3C `vc-di-eddsa` and the 1EdTech
//! OB 3.0 / CLR 2.0 test vectors, reproduced byte for byte.

use serde_json::Value;
use tessera_vc::canon::{canonicalize, to_nquads};

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("vector JSON")
}

/// The document a Data Integrity proof signs: the signed document minus `proof`.
fn without_proof(text: &str) -> Value {
    let mut v = json(text);
    v.as_object_mut().expect("object").remove("proof");
    v
}

#[test]
fn w3c_alumni_unsigned_canonical_document() {
    let doc = json(include_str!("vectors/w3c-vc-di-eddsa/unsigned.json"));
    let expected = include_str!("vectors/w3c-vc-di-eddsa/eddsa-rdfc-2022/canonDocDataInt.txt");
    assert_eq!(canonicalize(&doc).expect("canonicalize"), expected);
}

#[test]
fn w3c_alumni_signed_minus_proof_canonical_document() {
    let doc = without_proof(include_str!(
        "vectors/w3c-vc-di-eddsa/eddsa-rdfc-2022/signedDataInt.json"
    ));
    let expected = include_str!("vectors/w3c-vc-di-eddsa/eddsa-rdfc-2022/canonDocDataInt.txt");
    assert_eq!(canonicalize(&doc).expect("canonicalize"), expected);
}

#[test]
fn w3c_alumni_proof_configuration() {
    let doc = json(include_str!(
        "vectors/w3c-vc-di-eddsa/eddsa-rdfc-2022/proofConfigDataInt.json"
    ));
    let expected = include_str!("vectors/w3c-vc-di-eddsa/eddsa-rdfc-2022/proofCanonDataInt.txt");
    assert_eq!(canonicalize(&doc).expect("canonicalize"), expected);
}

#[test]
fn w3c_employ_canonical_document_and_proof_configuration() {
    let unsigned = json(include_str!("vectors/w3c-vc-di-eddsa/employmentAuth.json"));
    let signed = without_proof(include_str!(
        "vectors/w3c-vc-di-eddsa/eddsa-rdfc-2022/employ/signedDataInt.json"
    ));
    let expected =
        include_str!("vectors/w3c-vc-di-eddsa/eddsa-rdfc-2022/employ/canonDocDataInt.txt");
    assert_eq!(canonicalize(&unsigned).expect("unsigned"), expected);
    assert_eq!(canonicalize(&signed).expect("signed minus proof"), expected);
    let config = json(include_str!(
        "vectors/w3c-vc-di-eddsa/eddsa-rdfc-2022/employ/proofConfigDataInt.json"
    ));
    let expected =
        include_str!("vectors/w3c-vc-di-eddsa/eddsa-rdfc-2022/employ/proofCanonDataInt.txt");
    assert_eq!(canonicalize(&config).expect("proof config"), expected);
}

#[test]
fn w3c_ed25519signature2020_canonical_document() {
    let doc = without_proof(include_str!(
        "vectors/w3c-vc-di-eddsa/Ed25519Signature2020/signedEdSig.json"
    ));
    let expected = include_str!("vectors/w3c-vc-di-eddsa/Ed25519Signature2020/canonDocEdSig.txt");
    assert_eq!(canonicalize(&doc).expect("canonicalize"), expected);
}

#[test]
fn onedtech_ob3_document_canon() {
    let expected = include_str!("vectors/1edtech-ob3/document-canon.txt");
    let unsigned = json(include_str!("vectors/1edtech-ob3/unsigned.json"));
    let signed = without_proof(include_str!("vectors/1edtech-ob3/signed.json"));
    assert_eq!(canonicalize(&unsigned).expect("unsigned"), expected);
    assert_eq!(canonicalize(&signed).expect("signed minus proof"), expected);
}

#[test]
fn onedtech_clr2_document_canon() {
    let expected = include_str!("vectors/1edtech-clr2/document-canon.txt");
    let unsigned = json(include_str!("vectors/1edtech-clr2/unsigned.json"));
    let signed = without_proof(include_str!("vectors/1edtech-clr2/signed.json"));
    assert_eq!(canonicalize(&unsigned).expect("unsigned"), expected);
    assert_eq!(canonicalize(&signed).expect("signed minus proof"), expected);
}

#[test]
fn to_nquads_gives_the_same_dataset_before_canonicalization() {
    let doc = json(include_str!("vectors/w3c-vc-di-eddsa/unsigned.json"));
    let raw = to_nquads(&doc).expect("to_nquads");
    let canon = canonicalize(&doc).expect("canonicalize");
    assert_eq!(raw.lines().count(), canon.lines().count());
    assert_eq!(
        tessera_vc::canon::canonicalize_nquads(&raw).expect("re-canonicalize"),
        canon
    );
}

#[test]
fn canonicalize_is_thread_safe_and_deterministic() {
    let doc = json(include_str!("vectors/1edtech-ob3/unsigned.json"));
    let expected = include_str!("vectors/1edtech-ob3/document-canon.txt");
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    (0..5)
                        .map(|_| canonicalize(&doc).expect("canon"))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            for out in h.join().expect("thread") {
                assert_eq!(out, expected);
            }
        }
    });
}
