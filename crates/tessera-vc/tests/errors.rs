//! "Could not process" errors are typed: callers match on the case, not on text. Each case has a
//! stable code and a message that names what is wrong and where.

mod common;

use serde_json::json;
use tessera_vc::did::{ControllerDocument, KeyResolver};
use tessera_vc::proof::{self, Cryptosuite, ProofOptions};
use tessera_vc::status_list::StatusList;
use tessera_vc::{
    DidError, Error, PreviousProofError, ProofOptionError, ProofSuiteError, StatusListError,
};

use common::{fixture, issuer_key, signed_ob};

#[test]
fn did_errors_are_typed() {
    let err = ControllerDocument::for_did_key("did:web:example.org").unwrap_err();
    assert!(
        matches!(&err, Error::Did(DidError::NotDidKey { did }) if did == "did:web:example.org"),
        "{err:?}"
    );
    assert_eq!(err.code(), "did");
    assert_eq!(
        err.to_string(),
        "invalid DID or controller document: did:web:example.org is not a did:key"
    );

    let err = ControllerDocument::for_did_key("did:key:u6Mk").unwrap_err();
    assert!(
        matches!(&err, Error::Did(e @ DidError::DidKeyNotBase58 { .. }) if e.code() == "did_key_not_base58btc"),
        "{err:?}"
    );

    let cases = [
        (json!([]), DidError::DocumentNotAnObject),
        (
            json!({"verificationMethod": []}),
            DidError::DocumentWithoutId,
        ),
        (
            json!({"id": "https://a.example/issuer", "assertionMethod": [3]}),
            DidError::BadAssertionMethod,
        ),
        (
            json!({"id": "https://a.example/issuer", "verificationMethod": ["#k"]}),
            DidError::MethodNotAnObject,
        ),
        (
            json!({"id": "https://a.example/issuer", "verificationMethod": [{"type": "Multikey"}]}),
            DidError::MethodWithoutId,
        ),
        (
            json!({"id": "https://a.example/issuer", "verificationMethod": [{"id": "#k",
                "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": "AA", "d": "AA"}}]}),
            DidError::JwkWithPrivateKey,
        ),
        (
            json!({"id": "https://a.example/issuer", "verificationMethod": [{"id": "#k",
                "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519"}}]}),
            DidError::JwkWithoutX,
        ),
        (
            json!({"id": "https://a.example/issuer", "verificationMethod": [{"id": "#k",
                "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": "!!"}}]}),
            DidError::JwkXNotBase64url,
        ),
    ];
    for (doc, expected) in cases {
        match KeyResolver::new().with_document(&doc) {
            Err(Error::Did(e)) => assert_eq!(e, expected, "{doc}"),
            other => panic!("{doc}: {other:?}"),
        }
    }
}

#[test]
fn proof_option_errors_are_typed_and_name_the_option() {
    let err = "eddsa-2019".parse::<Cryptosuite>().unwrap_err();
    assert!(
        matches!(&err, Error::ProofOption(ProofOptionError::UnsupportedCryptosuite { value }) if value == "eddsa-2019"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "invalid proof option `cryptosuite`: \"eddsa-2019\" is not supported (eddsa-rdfc-2022, eddsa-jcs-2022)"
    );

    let (key, vm) = issuer_key();
    let doc = fixture("ob3-achievement-credential.json");
    let bad_expires = ProofOptions {
        expires: Some("next week".into()),
        ..ProofOptions::new(Cryptosuite::EddsaRdfc2022, vm, None)
    };
    let err = proof::sign(&doc, &key, &bad_expires).unwrap_err();
    match &err {
        Error::ProofOption(e) => {
            assert_eq!(e.option(), "expires");
            assert_eq!(e.code(), "not_a_datetime");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("`expires`"), "{err}");

    let no_vm = ProofOptions::new(Cryptosuite::EddsaRdfc2022, "", None);
    let err = proof::sign(&doc, &key, &no_vm).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::ProofOption(ProofOptionError::VerificationMethod { .. })
        ),
        "{err:?}"
    );

    // Signing inputs of a signed document (what `tessera canon` shows): a proof it cannot read
    // is an error naming the field.
    let mut signed = signed_ob();
    signed["proof"]["cryptosuite"] = json!("bbs-2023");
    let err = proof::signing_inputs(&signed).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::ProofOption(ProofOptionError::Suite(
                ProofSuiteError::UnsupportedCryptosuite { .. }
            ))
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with("invalid proof option `type`"),
        "{err}"
    );

    let mut signed = signed_ob();
    signed["proof"]["previousProof"] = json!("urn:uuid:missing");
    let err = proof::signing_inputs(&signed).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::ProofOption(ProofOptionError::PreviousProof(
                PreviousProofError::NotInProofSet { id }
            )) if id == "urn:uuid:missing"
        ),
        "{err:?}"
    );
}

#[test]
fn status_list_errors_are_typed() {
    let err = StatusList::new(10, 0).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::StatusList(StatusListError::StatusSize { size: 0 })
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), "status_list");

    let mut list = StatusList::new(131_072, 1).unwrap();
    let err = list.set(131_072, 1).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::StatusList(StatusListError::IndexOutOfRange {
                index: 131_072,
                len: 131_072
            })
        ),
        "{err:?}"
    );
    let err = list.set(1, 2).unwrap_err();
    assert!(
        matches!(&err, Error::StatusList(e @ StatusListError::ValueTooWide { value: 2, bits: 1 }) if e.code() == "value_too_wide"),
        "{err:?}"
    );

    let mut options = common::options();
    let err = options
        .add_status_list(json!({"type": ["VerifiableCredential"]}))
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::StatusList(StatusListError::CredentialWithoutId)
        ),
        "{err:?}"
    );
}
