//! Tampering: single changes to a signed OB 3.0 credential (and a CLR), each of which must fail
//! verification naming the right check — and only that check, where only one is affected.

mod common;

use common::*;
use serde_json::{Value, json};
use tessera_vc::keys::KeyPair;
use tessera_vc::proof::{self, Cryptosuite, ProofOptions};
use tessera_vc::{CheckCode, CheckStatus, VerifyOptions};

use CheckCode::*;

type Mutation = fn(&mut Value);

/// Replaces the value at `pointer`, or adds it to an existing parent object.
fn set(doc: &mut Value, pointer: &str, value: Value) {
    if let Some(slot) = doc.pointer_mut(pointer) {
        *slot = value;
        return;
    }
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    doc.pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no {parent}"))
        .insert(key.to_owned(), value);
}

fn remove(doc: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    doc.pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .and_then(|o| o.remove(key))
        .unwrap_or_else(|| panic!("no {pointer}"));
}

/// (what changed, the change, the checks that must fail — exactly).
fn cases() -> Vec<(&'static str, Mutation, Vec<CheckCode>)> {
    vec![
        (
            "achievement name",
            |d| {
                set(
                    d,
                    "/credentialSubject/achievement/name",
                    json!("Scientific Argumentation II"),
                )
            },
            vec![Proof],
        ),
        (
            "credential name",
            |d| set(d, "/name", json!("Scientific Argumentation — Advanced")),
            vec![Proof],
        ),
        // The status list belongs to the real issuer, so the status check objects as well.
        (
            "issuer id",
            |d| set(d, "/issuer/id", json!("https://evil.example/issuers/1")),
            vec![Proof, Status],
        ),
        (
            "issuer name",
            |d| set(d, "/issuer/name", json!("Lincoln High School (Honors)")),
            vec![Proof],
        ),
        (
            "validFrom by one second",
            |d| set(d, "/validFrom", json!("2025-06-15T12:00:01Z")),
            vec![Proof],
        ),
        (
            "validUntil removed",
            |d| remove(d, "/validUntil"),
            vec![Proof],
        ),
        (
            "achievedLevel",
            |d| {
                set(
                    d,
                    "/credentialSubject/result/0/achievedLevel",
                    json!("https://tessera.example/competencies/scientific-argumentation/levels/4"),
                )
            },
            vec![Proof],
        ),
        (
            "result value",
            |d| set(d, "/credentialSubject/result/0/value", json!("Advanced")),
            vec![Proof],
        ),
        (
            "order of the allowedValue @list",
            |d| {
                let list = d
                    .pointer_mut("/credentialSubject/achievement/resultDescription/0/allowedValue")
                    .unwrap()
                    .as_array_mut()
                    .unwrap();
                list.swap(2, 3);
            },
            vec![Proof],
        ),
        (
            "alignment targetCode",
            |d| {
                set(
                    d,
                    "/credentialSubject/achievement/alignment/0/targetCode",
                    json!("HS-LS2-7"),
                )
            },
            vec![Proof],
        ),
        (
            "evidence narrative",
            |d| {
                set(
                    d,
                    "/evidence/0/narrative",
                    json!("Reviewed by one teacher."),
                )
            },
            vec![Proof],
        ),
        (
            "identity hash",
            |d| {
                set(
                    d,
                    "/credentialSubject/identifier/0/identityHash",
                    json!("sha256$00"),
                )
            },
            vec![Proof],
        ),
        // The OB context coerces `hashed` to xsd:boolean, so "true" and true are the same RDF and the
        // signature still holds; the shape rules are what catch the JSON type.
        (
            "hashed flag as a string",
            |d| set(d, "/credentialSubject/identifier/0/hashed", json!("true")),
            vec![Shape],
        ),
        (
            "statusListIndex",
            |d| set(d, "/credentialStatus/statusListIndex", json!("10432")),
            vec![Proof, Status],
        ),
        (
            "achievementType",
            |d| {
                set(
                    d,
                    "/credentialSubject/achievement/achievementType",
                    json!("Course"),
                )
            },
            vec![Proof],
        ),
        (
            "undefined property in the subject",
            |d| set(d, "/credentialSubject/favouriteColour", json!("blue")),
            vec![SafeMode],
        ),
        (
            "undefined property at the top",
            |d| set(d, "/gpa", json!(4.0)),
            vec![SafeMode],
        ),
        (
            "relative IRI as achievement id",
            |d| {
                set(
                    d,
                    "/credentialSubject/achievement/id",
                    json!("achievements/1"),
                )
            },
            vec![SafeMode],
        ),
        (
            "unknown context",
            |d| {
                d["@context"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!("https://evil.example/ctx.jsonld"))
            },
            vec![Contexts],
        ),
        (
            "extensions context removed",
            |d| {
                d["@context"].as_array_mut().unwrap().pop();
            },
            vec![SafeMode],
        ),
        (
            "proof created",
            |d| set(d, "/proof/created", json!("2025-06-15T12:00:06Z")),
            vec![Proof],
        ),
        (
            "proof purpose",
            |d| set(d, "/proof/proofPurpose", json!("authentication")),
            vec![Proof],
        ),
        (
            "proof cryptosuite",
            |d| set(d, "/proof/cryptosuite", json!("eddsa-jcs-2022")),
            vec![Proof],
        ),
        (
            "proof type",
            |d| {
                set(d, "/proof/type", json!("Ed25519Signature2020"));
                remove(d, "/proof/cryptosuite");
            },
            vec![Proof],
        ),
        (
            "proof verificationMethod to another did:key",
            |d| {
                set(
                    d,
                    "/proof/verificationMethod",
                    json!(
                        "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
                    ),
                )
            },
            vec![Proof],
        ),
        (
            "proofValue one character changed",
            |d| {
                let v = d["proof"]["proofValue"].as_str().unwrap().to_owned();
                let last = if v.ends_with('A') { "B" } else { "A" };
                set(
                    d,
                    "/proof/proofValue",
                    json!(format!("{}{last}", &v[..v.len() - 1])),
                );
            },
            vec![Proof],
        ),
        (
            "proofValue not base58",
            |d| set(d, "/proof/proofValue", json!("z0OIl")),
            vec![Proof],
        ),
        (
            "proofValue truncated",
            |d| set(d, "/proof/proofValue", json!("z3yMfMu")),
            vec![Proof],
        ),
        (
            "proofValue swapped with another credential's",
            |d| {
                let other = sign_with(
                    &fixture("ob3-achievement-credential-2.json"),
                    Cryptosuite::EddsaRdfc2022,
                    "2025-06-15T12:00:05Z",
                );
                set(d, "/proof/proofValue", other["proof"]["proofValue"].clone());
            },
            vec![Proof],
        ),
        ("proof removed", |d| remove(d, "/proof"), vec![Proof]),
        (
            "proof is a string",
            |d| set(d, "/proof", json!("signed!")),
            vec![Proof],
        ),
        (
            "validFrom in the future",
            |d| {
                *d = sign_with(
                    &{
                        let mut u = fixture("ob3-achievement-credential.json");
                        u["validFrom"] = json!("2027-01-01T00:00:00Z");
                        u
                    },
                    Cryptosuite::EddsaRdfc2022,
                    "2025-06-15T12:00:05Z",
                );
            },
            vec![ValidityPeriod],
        ),
        (
            "validUntil in the past",
            |d| {
                *d = sign_with(
                    &{
                        let mut u = fixture("ob3-achievement-credential.json");
                        u["validUntil"] = json!("2025-12-31T23:59:59Z");
                        u
                    },
                    Cryptosuite::EddsaRdfc2022,
                    "2025-06-15T12:00:05Z",
                );
            },
            vec![ValidityPeriod],
        ),
        (
            "achievement description missing (re-signed)",
            |d| {
                *d = sign_with(
                    &{
                        let mut u = fixture("ob3-achievement-credential.json");
                        u["credentialSubject"]["achievement"]
                            .as_object_mut()
                            .unwrap()
                            .remove("description");
                        u
                    },
                    Cryptosuite::EddsaRdfc2022,
                    "2025-06-15T12:00:05Z",
                );
            },
            vec![Shape],
        ),
        (
            "signed by a key of another issuer (re-signed)",
            |d| {
                let other = KeyPair::from_seed([9; 32]);
                let vm = other.public_key().did_key_verification_method();
                *d = proof::sign(
                    &fixture("ob3-achievement-credential.json"),
                    &other,
                    &ProofOptions::new(
                        Cryptosuite::EddsaRdfc2022,
                        vm,
                        Some("2025-06-15T12:00:05Z".into()),
                    ),
                )
                .unwrap();
            },
            vec![IssuerBinding],
        ),
        (
            "issuer swapped to the other key's did:key (re-signed by the real key)",
            |d| {
                let other = KeyPair::from_seed([9; 32]);
                *d = sign_with(
                    &{
                        let mut u = fixture("ob3-achievement-credential.json");
                        u["issuer"]["id"] = json!(other.public_key().did_key());
                        u
                    },
                    Cryptosuite::EddsaRdfc2022,
                    "2025-06-15T12:00:05Z",
                );
            },
            vec![IssuerBinding, Status],
        ),
    ]
}

fn failed_codes(doc: &Value) -> (Vec<CheckCode>, tessera_vc::VerificationReport) {
    let report = tessera_vc::verify(doc, &options()).unwrap();
    (report.failed(), report)
}

#[test]
fn every_single_change_fails_naming_the_right_check() {
    let signed = signed_ob();
    let (failed, report) = failed_codes(&signed);
    assert!(failed.is_empty() && report.verified, "{}", report.to_text());
    let cases = cases();
    assert!(cases.len() >= 25, "{} cases", cases.len());
    let mut problems = Vec::new();
    for (name, mutate, expected) in &cases {
        let mut doc = signed.clone();
        mutate(&mut doc);
        let (failed, report) = failed_codes(&doc);
        if report.verified || &failed != expected {
            problems.push(format!(
                "{name}: expected {expected:?} to fail, got {failed:?}\n{}",
                report.to_text()
            ));
        }
        for code in expected {
            let check = report.check(*code).unwrap();
            if check.message.trim().is_empty() {
                problems.push(format!("{name}: {code} failed without a message"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_changed_proof_names_what_to_suspect() {
    let mut doc = signed_ob();
    set(&mut doc, "/credentialSubject/achievement/name", json!("X"));
    let (_, report) = failed_codes(&doc);
    let message = &report.check(Proof).unwrap().message;
    assert!(message.contains("does not match"), "{message}");
    // An undefined term names its JSON path.
    let mut doc = signed_ob();
    set(
        &mut doc,
        "/credentialSubject/favouriteColour",
        json!("blue"),
    );
    let (_, report) = failed_codes(&doc);
    let message = &report.check(SafeMode).unwrap().message;
    assert!(message.contains("favouriteColour"), "{message}");
    assert_eq!(report.status(Proof), CheckStatus::NotChecked);
}

#[test]
fn jcs_proof_detects_tampering_too() {
    let signed = sign_with(
        &fixture("ob3-achievement-credential.json"),
        Cryptosuite::EddsaJcs2022,
        "2025-06-15T12:00:05Z",
    );
    for (name, mutate, _) in cases().into_iter().take(12) {
        let mut doc = signed.clone();
        mutate(&mut doc);
        let (failed, report) = failed_codes(&doc);
        assert!(failed.contains(&Proof), "{name}: {}", report.to_text());
    }
}

#[test]
fn an_altered_embedded_clr_credential_is_named() {
    let clr = signed_clr();
    let mut doc = clr.clone();
    set(
        &mut doc,
        "/credentialSubject/verifiableCredential/1/credentialSubject/result/0/value",
        json!("Proficient"),
    );
    let report = tessera_vc::verify(&doc, &options()).unwrap();
    assert!(!report.verified);
    // The CLR's own proof covers the embedded credential, and the embedded one fails on its own.
    assert_eq!(report.failed(), vec![Proof, EmbeddedCredentials]);
    let message = &report.check(EmbeddedCredentials).unwrap().message;
    assert!(
        message.contains("credentialSubject.verifiableCredential[1]")
            && message.contains("urn:uuid:0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f"),
        "{message}"
    );
    assert!(report.embedded[0].report.verified);
    assert_eq!(report.embedded[1].report.failed(), vec![Proof]);

    // Re-signing the CLR over the altered credential does not launder it.
    let mut unsigned = doc.clone();
    unsigned.as_object_mut().unwrap().remove("proof");
    let resigned = sign_with(
        &unsigned,
        Cryptosuite::EddsaRdfc2022,
        "2025-06-20T00:00:05Z",
    );
    let report = tessera_vc::verify(&resigned, &options()).unwrap();
    assert_eq!(report.failed(), vec![EmbeddedCredentials]);
}

#[test]
fn one_broken_proof_of_a_set_fails_the_set() {
    let (key, vm) = issuer_key();
    let mut doc = proof::sign(
        &signed_ob(),
        &key,
        &ProofOptions::new(
            Cryptosuite::EddsaJcs2022,
            vm,
            Some("2025-06-15T12:00:06Z".into()),
        ),
    )
    .unwrap();
    set(&mut doc, "/proof/0/proofPurpose", json!("authentication"));
    let report = tessera_vc::verify(&doc, &options()).unwrap();
    assert_eq!(report.failed(), vec![Proof]);
    let check = report.check(Proof).unwrap();
    assert!(
        check.message.starts_with("proof 1 of 2"),
        "{}",
        check.message
    );
    assert!(
        check.details[1].starts_with("proof[1] passed"),
        "{:?}",
        check.details
    );
}

#[test]
fn without_the_controller_document_nothing_is_claimed() {
    let report = tessera_vc::verify(&signed_ob(), &VerifyOptions::new(now())).unwrap();
    assert!(!report.verified);
    assert!(report.failed().is_empty(), "{}", report.to_text());
    assert_eq!(report.status(Proof), CheckStatus::NotChecked);
    assert_eq!(report.status(IssuerBinding), CheckStatus::NotChecked);
}

#[test]
fn the_ob_type_alias_is_the_same_statement() {
    // OB 3.0 defines AchievementCredential as an alias of OpenBadgeCredential (same IRI): the
    // signed RDF does not change, so this is not tampering.
    let mut doc = signed_ob();
    set(&mut doc, "/type/1", json!("AchievementCredential"));
    let report = tessera_vc::verify(&doc, &options()).unwrap();
    assert!(report.verified, "{}", report.to_text());
}
