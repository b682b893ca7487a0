//! Round trip on realistic OB 3.0 and CLR 2.0 credentials: sign, verify, status lists, proof sets,
//! and what the signer refuses.

mod common;

use common::*;
use serde_json::{Value, json};
use tessera_vc::proof::{self, Cryptosuite, ProofOptions};
use tessera_vc::status_list::{self, StatusList};
use tessera_vc::{CheckCode, CheckStatus};

#[test]
fn ob3_achievement_credential_signs_and_verifies_with_both_suites() {
    for (suite, name) in [
        (Cryptosuite::EddsaRdfc2022, "eddsa-rdfc-2022"),
        (Cryptosuite::EddsaJcs2022, "eddsa-jcs-2022"),
    ] {
        let signed = sign_with(
            &fixture("ob3-achievement-credential.json"),
            suite,
            "2025-06-15T12:00:05Z",
        );
        assert_eq!(signed["proof"]["cryptosuite"], name);
        let report = tessera_vc::verify(&signed, &options()).unwrap();
        assert!(report.verified, "{name}: {}", report.to_text());
        for code in [
            CheckCode::Json,
            CheckCode::Contexts,
            CheckCode::SafeMode,
            CheckCode::Proof,
            CheckCode::IssuerBinding,
            CheckCode::ValidityPeriod,
            CheckCode::Status,
            CheckCode::Shape,
        ] {
            assert_eq!(report.status(code), CheckStatus::Passed, "{name} {code}");
        }
    }
}

#[test]
fn signing_is_deterministic() {
    let a = signed_ob();
    let b = signed_ob();
    assert_eq!(a, b);
    let c = sign_with(
        &fixture("ob3-achievement-credential.json"),
        Cryptosuite::EddsaRdfc2022,
        "2025-06-15T12:00:06Z",
    );
    assert_ne!(a["proof"]["proofValue"], c["proof"]["proofValue"]);
}

#[test]
fn clr_embeds_exactly_the_signed_credentials_and_verifies_all_of_them() {
    let clr = fixture("clr2-transcript.json");
    let embedded = clr["credentialSubject"]["verifiableCredential"]
        .as_array()
        .unwrap();
    assert_eq!(embedded[0], signed_ob());
    assert_eq!(
        embedded[1],
        sign_with(
            &fixture("ob3-achievement-credential-2.json"),
            Cryptosuite::EddsaRdfc2022,
            "2025-06-15T12:00:05Z"
        )
    );
    let report = tessera_vc::verify(&signed_clr(), &options()).unwrap();
    assert!(report.verified, "{}", report.to_text());
    assert_eq!(report.embedded.len(), 2);
    assert!(report.embedded.iter().all(|e| e.report.verified));
    assert_eq!(
        report.embedded[1].path,
        "credentialSubject.verifiableCredential[1]"
    );
    // Each embedded credential's status was checked against the supplied list.
    assert_eq!(
        report.embedded[0].report.status(CheckCode::Status),
        CheckStatus::Passed
    );
    // The report serializes with the stable codes.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["checks"][0]["code"], "json");
    assert!(
        json["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["code"] == "embedded_credentials" && c["status"] == "passed")
    );
}

#[test]
fn status_is_not_checked_without_a_list_and_never_called_revoked() {
    let mut options = options();
    options.clear_status_lists();
    let report = tessera_vc::verify(&signed_ob(), &options).unwrap();
    let status = report.check(CheckCode::Status).unwrap();
    assert_eq!(status.status, CheckStatus::NotChecked);
    assert!(!status.message.contains("revoked"), "{}", status.message);
    assert!(report.verified, "a missing list does not fail verification");
}

fn signed_list(set: &[usize], purpose: &str) -> Value {
    let mut list = StatusList::new(status_list::MIN_BITS, 1).unwrap();
    for i in set {
        list.set(*i, 1).unwrap();
    }
    let unsigned = status_list::list_credential(
        "https://tessera.example/status/lincoln/1",
        ISSUER,
        purpose,
        &list,
        "2025-06-01T00:00:00Z",
    );
    sign_with(
        &unsigned,
        Cryptosuite::EddsaRdfc2022,
        "2025-06-01T00:00:00Z",
    )
}

#[test]
fn revoked_credential_fails_status_naming_the_list() {
    let mut options = options();
    options
        .add_status_list(signed_list(&[94567], "revocation"))
        .unwrap();
    let report = tessera_vc::verify(&signed_ob(), &options).unwrap();
    assert_eq!(report.failed(), vec![CheckCode::Status]);
    let message = &report.check(CheckCode::Status).unwrap().message;
    assert!(message.contains("revoked"), "{message}");
    assert!(message.contains("status/lincoln/1"), "{message}");
    // Another index set: not revoked.
    let mut options = self::common::options();
    options
        .add_status_list(signed_list(&[94566], "revocation"))
        .unwrap();
    let report = tessera_vc::verify(&signed_ob(), &options).unwrap();
    assert!(report.verified, "{}", report.to_text());
}

#[test]
fn status_list_credential_proof_is_checked() {
    let mut list = signed_list(&[], "revocation");
    // Flip the list to say the credential is fine after the issuer signed "revoked": the list's
    // own proof catches it.
    list["credentialSubject"]["encodedList"] =
        signed_list(&[1], "revocation")["credentialSubject"]["encodedList"].clone();
    let mut options = options();
    options.add_status_list(list).unwrap();
    let report = tessera_vc::verify(&signed_ob(), &options).unwrap();
    assert_eq!(report.failed(), vec![CheckCode::Status]);
    assert!(
        report
            .check(CheckCode::Status)
            .unwrap()
            .message
            .contains("STATUS_VERIFICATION_ERROR")
    );
}

#[test]
fn status_purpose_mismatch_fails() {
    let mut options = options();
    options
        .add_status_list(signed_list(&[], "suspension"))
        .unwrap();
    let report = tessera_vc::verify(&signed_ob(), &options).unwrap();
    assert_eq!(report.failed(), vec![CheckCode::Status]);
    assert!(
        report
            .check(CheckCode::Status)
            .unwrap()
            .message
            .contains("statusPurpose")
    );
}

#[test]
fn proof_set_with_both_suites_verifies_and_names_a_broken_member() {
    let (key, vm) = issuer_key();
    let once = signed_ob();
    let twice = proof::sign(
        &once,
        &key,
        &ProofOptions::new(
            Cryptosuite::EddsaJcs2022,
            vm,
            Some("2025-06-15T12:00:06Z".into()),
        ),
    )
    .unwrap();
    assert_eq!(proof::proofs_of(&twice).len(), 2);
    let report = tessera_vc::verify(&twice, &options()).unwrap();
    assert!(report.verified, "{}", report.to_text());
    assert_eq!(report.check(CheckCode::Proof).unwrap().details.len(), 2);

    let mut broken = twice.clone();
    broken["proof"][1]["created"] = json!("2025-06-15T12:00:07Z");
    let report = tessera_vc::verify(&broken, &options()).unwrap();
    assert_eq!(report.failed(), vec![CheckCode::Proof]);
    let message = &report.check(CheckCode::Proof).unwrap().message;
    assert!(message.starts_with("proof 2 of 2"), "{message}");
}

#[test]
fn signer_refuses_undefined_terms_and_unknown_contexts() {
    let (key, vm) = issuer_key();
    let options = ProofOptions::new(Cryptosuite::EddsaRdfc2022, vm.clone(), None);
    let mut doc = fixture("ob3-achievement-credential.json");
    doc["credentialSubject"]["favouriteColour"] = json!("blue");
    let err = proof::sign(&doc, &key, &options).unwrap_err();
    assert!(err.to_string().contains("favouriteColour"), "{err}");
    // The JCS signer applies safe mode too.
    let jcs = ProofOptions::new(Cryptosuite::EddsaJcs2022, vm, None);
    assert!(proof::sign(&doc, &key, &jcs).is_err());

    let mut doc = fixture("ob3-achievement-credential.json");
    doc["@context"]
        .as_array_mut()
        .unwrap()
        .push(json!("https://evil.example/context.json"));
    let err = proof::sign(&doc, &key, &options).unwrap_err();
    assert!(
        err.to_string()
            .contains("https://evil.example/context.json"),
        "{err}"
    );

    let bad_created = ProofOptions::new(
        Cryptosuite::EddsaRdfc2022,
        "did:example:1#k",
        Some("yesterday".into()),
    );
    assert!(matches!(
        proof::sign(
            &fixture("ob3-achievement-credential.json"),
            &key,
            &bad_created
        ),
        Err(tessera_vc::Error::ProofOption(
            tessera_vc::ProofOptionError::NotDateTime {
                option: "created",
                ..
            }
        ))
    ));
}

#[test]
fn proof_expiry_and_key_revocation_fail_the_proof() {
    let (key, vm) = issuer_key();
    let mut options = ProofOptions::new(
        Cryptosuite::EddsaRdfc2022,
        vm.clone(),
        Some("2025-06-15T12:00:05Z".into()),
    );
    options.expires = Some("2025-12-31T00:00:00Z".into());
    let signed = proof::sign(&fixture("ob3-achievement-credential.json"), &key, &options).unwrap();
    let report = tessera_vc::verify(&signed, &common::options()).unwrap();
    assert_eq!(report.failed(), vec![CheckCode::Proof]);
    assert!(
        report
            .check(CheckCode::Proof)
            .unwrap()
            .message
            .contains("expired")
    );

    let mut controller = fixture("issuer-controller.json");
    controller["verificationMethod"][0]["revoked"] = json!("2025-09-01T00:00:00Z");
    let mut verify_options = tessera_vc::VerifyOptions::new(now());
    verify_options.add_controller_document(&controller).unwrap();
    let report = tessera_vc::verify(&signed_ob(), &verify_options).unwrap();
    assert!(
        report
            .check(CheckCode::Proof)
            .unwrap()
            .message
            .contains("revoked")
    );
    assert_eq!(report.status(CheckCode::Proof), CheckStatus::Failed);

    let mut controller = fixture("issuer-controller.json");
    controller["assertionMethod"] = json!([]);
    let mut verify_options = tessera_vc::VerifyOptions::new(now());
    verify_options.add_controller_document(&controller).unwrap();
    let report = tessera_vc::verify(&signed_ob(), &verify_options).unwrap();
    assert_eq!(report.status(CheckCode::Proof), CheckStatus::Failed);
    assert!(
        report
            .check(CheckCode::Proof)
            .unwrap()
            .message
            .contains("assertionMethod")
    );
}

#[test]
fn reordered_keys_and_whitespace_still_verify() {
    fn reverse_keys(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .rev()
                    .map(|(k, v)| (k.clone(), reverse_keys(v)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(reverse_keys).collect()),
            other => other.clone(),
        }
    }
    for suite in [Cryptosuite::EddsaRdfc2022, Cryptosuite::EddsaJcs2022] {
        let signed = sign_with(
            &fixture("ob3-achievement-credential.json"),
            suite,
            "2025-06-15T12:00:05Z",
        );
        let reordered = reverse_keys(&signed);
        assert_ne!(
            serde_json::to_string(&reordered).unwrap(),
            serde_json::to_string(&signed).unwrap()
        );
        let compact = serde_json::to_vec(&reordered).unwrap();
        let spaced = serde_json::to_string_pretty(&reordered)
            .unwrap()
            // Only the structural newlines are outside strings (serde escapes those inside).
            .replace('\n', "\r\n\t  \n");
        for bytes in [compact, spaced.into_bytes()] {
            let report = tessera_vc::verify_bytes(&bytes, &options()).unwrap();
            assert!(report.verified, "{suite:?}: {}", report.to_text());
        }
    }
}

#[test]
fn vc_1_1_credential_uses_issuance_and_expiration_dates() {
    let unsigned = json!({
        "@context": ["https://www.w3.org/2018/credentials/v1",
                     "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:11111111-2222-3333-4444-555555555555",
        "type": ["VerifiableCredential"],
        "issuer": ISSUER,
        "issuanceDate": "2024-01-01T00:00:00Z",
        "expirationDate": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner"}
    });
    let signed = sign_with(
        &unsigned,
        Cryptosuite::EddsaRdfc2022,
        "2024-01-01T00:00:00Z",
    );
    let report = tessera_vc::verify(&signed, &options()).unwrap();
    assert_eq!(
        report.failed(),
        vec![CheckCode::ValidityPeriod],
        "{}",
        report.to_text()
    );
    assert!(
        report
            .check(CheckCode::ValidityPeriod)
            .unwrap()
            .message
            .contains("expirationDate")
    );
    let mut options = options();
    options.now = "2024-06-01T00:00:00Z".parse().unwrap();
    let report = tessera_vc::verify(&signed, &options).unwrap();
    assert!(report.verified, "{}", report.to_text());
}

#[test]
fn did_web_issuer_with_a_supplied_did_document_verifies() {
    let pair = tessera_vc::keys::KeyPair::from_seed([42; 32]);
    let key = tessera_vc::keys::Multikey::from_key_pair(&pair, Some("did:web:school.example"));
    let did_document =
        tessera_vc::did::controller_document("did:web:school.example", std::slice::from_ref(&key));
    assert!(!did_document.to_string().contains("secretKeyMultibase"));
    let mut unsigned = fixture("ob3-achievement-credential.json");
    unsigned["issuer"]["id"] = json!("did:web:school.example");
    unsigned.as_object_mut().unwrap().remove("credentialStatus");
    let signed = proof::sign(
        &unsigned,
        &pair,
        &ProofOptions::new(
            Cryptosuite::EddsaRdfc2022,
            key.id.clone(),
            Some("2025-06-15T12:00:05Z".into()),
        ),
    )
    .unwrap();
    let mut options = tessera_vc::VerifyOptions::new(now());
    options.add_controller_document(&did_document).unwrap();
    let report = tessera_vc::verify(&signed, &options).unwrap();
    assert!(report.verified, "{}", report.to_text());
    assert_eq!(report.status(CheckCode::IssuerBinding), CheckStatus::Passed);

    // A DID document published under another DID does not vouch for this one.
    let wrong = tessera_vc::did::controller_document("did:web:other.example", &[key]);
    let mut options = tessera_vc::VerifyOptions::new(now());
    options.add_controller_document(&wrong).unwrap();
    let report = tessera_vc::verify(&signed, &options).unwrap();
    assert!(!report.verified);
}
