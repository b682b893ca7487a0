//! A credential built here, signed with an issuer key under did:web, verifies with the credential
//! core given the DID document and the status lists built here — and shows revoked or
//! suspended when the bits are set.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::Value;
use tessera_issue::achievement::{CompetencyItem, CredentialInput, EvidenceRef, IssuerProfile};
use tessera_issue::did::{ListedKey, did_document, did_web, method_id};
use tessera_issue::{achievement, context, sign, status};
use tessera_review::{
    CriterionScore, EventKind, MasteryEvent, MasteryRecord, ReviewDecision, Rubric,
};
use tessera_vc::keys::KeyPair;
use tessera_vc::{CheckCode, CheckStatus, VerifyOptions, verify_bytes};

const PUBLIC: &str = "https://school.example";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, 1, 8, 0, 0).unwrap()
}

fn rubric() -> Rubric {
    Rubric::from_toml_str(
        include_str!("../../../rubrics/math-problem-solving.toml"),
        "math-problem-solving.toml",
    )
    .unwrap()
}

/// Two attempts, the second mastered.
fn record(rubric: &Rubric) -> MasteryRecord {
    let top: Vec<CriterionScore> = rubric
        .criteria()
        .iter()
        .map(|c| CriterionScore::new(c.id(), c.levels().last().unwrap().id()))
        .collect();
    let low: Vec<CriterionScore> = rubric
        .criteria()
        .iter()
        .map(|c| CriterionScore::new(c.id(), c.levels()[0].id()))
        .collect();
    let not_yet = rubric.score(&low).unwrap();
    let mastered = rubric.score(&top).unwrap();
    let events = [
        (0, EventKind::Started),
        (
            1,
            EventKind::Submitted {
                submission: "s1".into(),
            },
        ),
        (
            2,
            EventKind::Reviewed(ReviewDecision::from_scored(&not_yet, "reviewer:1", false)),
        ),
        (
            5,
            EventKind::Submitted {
                submission: "s2".into(),
            },
        ),
        (
            9,
            EventKind::Reviewed(ReviewDecision::from_scored(&mastered, "reviewer:1", false)),
        ),
    ];
    MasteryRecord::fold(
        "c-1",
        events.into_iter().map(|(d, kind)| MasteryEvent {
            at: t0() + Duration::days(d),
            kind,
        }),
    )
    .unwrap()
}

struct Issued {
    bytes: String,
    did_doc: Value,
    revocation: (String, i64),
    suspension: (String, i64),
    key: KeyPair,
    vm: String,
}

fn issue(key: KeyPair, seq: i64) -> Issued {
    let rubric = rubric();
    let record = record(&rubric);
    let did = did_web(PUBLIC, "lincoln").unwrap();
    let vm = method_id(&did, seq);
    let issuer = IssuerProfile {
        id: did.clone(),
        name: "Lincoln High".into(),
        url: Some(PUBLIC.into()),
    };
    let item = CompetencyItem {
        id: "c-1".into(),
        uri: format!("{PUBLIC}/ims/case/v1p1/CFItems/c-1"),
        code: Some("MP.1".into()),
        statement: "Make sense of problems and persevere in solving them.".into(),
        abbreviated: Some("Persevere".into()),
        description: None,
        framework: Some("Mathematical Practices".into()),
    };
    let rev_url = status::list_url(PUBLIC, "lincoln", "revocation", 1);
    let sus_url = status::list_url(PUBLIC, "lincoln", "suspension", 1);
    let evidence = [EvidenceRef {
        url: format!("{PUBLIC}/api/v1/orgs/lincoln/evidence/{}", "ab".repeat(32)),
        sha256_hex: "ab".repeat(32),
        media_type: Some("application/pdf".into()),
        name: "Attempt 2, file 1".into(),
    }];
    let input = CredentialInput {
        id: "5b0e6c5e-2f7e-4b8e-9d57-0c9c1c1f4a11",
        issuer: &issuer,
        achievement_id: &format!("{PUBLIC}/orgs/lincoln/achievements/c-1"),
        competency: &item,
        rubric: Some(&rubric),
        rubric_base: &format!("{PUBLIC}/rubrics"),
        record: &record,
        subject_id: "urn:uuid:0f7c2a8e-4d55-4a43-9a0e-1b1b2c2c3d3d",
        valid_from: t0() + Duration::days(10),
        status: vec![
            status::entry(&rev_url, "revocation", 94_567),
            status::entry(&sus_url, "suspension", 17),
        ],
        evidence: &evidence,
        image: Some(&format!("{PUBLIC}/orgs/lincoln/achievements/c-1/image.png")),
        identifier: None,
    };
    let doc = achievement::build(&input).unwrap();
    let bytes = sign::sign_to_string(&doc, &key, &vm, t0() + Duration::days(10), true).unwrap();
    let did_doc = did_document(
        &did,
        &[ListedKey {
            seq,
            public_key_multibase: key.public_key().to_multibase(),
        }],
    )
    .unwrap();
    Issued {
        bytes,
        did_doc,
        revocation: (rev_url, 94_567),
        suspension: (sus_url, 17),
        key,
        vm,
    }
}

fn options(issued: &Issued, revoked: &[i64], suspended: &[i64]) -> VerifyOptions {
    let did = issued.did_doc["id"].as_str().unwrap();
    let now = t0() + Duration::days(11);
    let mut o = VerifyOptions::new(now);
    o.add_controller_document(&issued.did_doc).unwrap();
    for ((url, _), (purpose, set)) in [&issued.revocation, &issued.suspension]
        .into_iter()
        .zip([("revocation", revoked), ("suspension", suspended)])
    {
        let spec = status::ListSpec {
            url,
            issuer_id: did,
            purpose,
            size: 131_072,
            set,
            valid_from: t0(),
        };
        let list = status::signed_list(&spec, &issued.key, &issued.vm).unwrap();
        o.add_status_list(serde_json::from_str(&list).unwrap())
            .unwrap();
    }
    o
}

#[test]
fn an_issued_credential_verifies_with_its_did_document_and_status_lists() {
    let issued = issue(KeyPair::from_seed([3; 32]), 1);
    let report = verify_bytes(issued.bytes.as_bytes(), &options(&issued, &[], &[])).unwrap();
    assert!(report.verified, "{report:#?}");
    assert_eq!(report.status(CheckCode::Status), CheckStatus::Passed);
    let doc: Value = serde_json::from_str(&issued.bytes).unwrap();
    let subject = &doc["credentialSubject"];
    assert_eq!(subject["attemptsToMastery"], 2);
    assert_eq!(subject["timeToMastery"], "P9D");
    assert_eq!(subject["activityStartDate"], "2026-09-01T08:00:00Z");
    assert_eq!(subject["activityEndDate"], "2026-09-10T08:00:00Z");
    assert_eq!(subject["achievement"]["achievementType"], "Competency");
    assert_eq!(subject["achievement"]["image"]["type"], "Image");
    assert_eq!(
        subject["achievement"]["image"]["id"],
        format!("{PUBLIC}/orgs/lincoln/achievements/c-1/image.png")
    );
    assert_eq!(
        subject["achievement"]["alignment"][0]["targetType"],
        "CFItem"
    );
    let results = subject["result"].as_array().unwrap();
    assert_eq!(results.len(), rubric().criteria().len());
    assert_eq!(
        doc["proof"].as_array().unwrap().len(),
        2,
        "rdfc + jcs proof set"
    );
    assert_eq!(doc["relatedResource"][0]["id"], context::URL);
    assert_eq!(
        doc["relatedResource"][0]["digestSRI"],
        context::digest_sri().as_str()
    );
    // No personal content inline: evidence is a reference and a digest.
    assert!(
        doc["evidence"][0]["digestSRI"]
            .as_str()
            .unwrap()
            .starts_with("sha256-")
    );
}

#[test]
fn a_set_bit_shows_revoked_or_suspended() {
    let issued = issue(KeyPair::from_seed([4; 32]), 1);
    let revoked = verify_bytes(
        issued.bytes.as_bytes(),
        &options(&issued, &[issued.revocation.1], &[]),
    )
    .unwrap();
    assert!(!revoked.verified);
    let check = revoked
        .checks
        .iter()
        .find(|c| c.code == CheckCode::Status)
        .unwrap();
    assert_eq!(check.status, CheckStatus::Failed);
    assert!(check.message.contains("revoked"), "{}", check.message);
    let suspended = verify_bytes(
        issued.bytes.as_bytes(),
        &options(&issued, &[], &[issued.suspension.1]),
    )
    .unwrap();
    let check = suspended
        .checks
        .iter()
        .find(|c| c.code == CheckCode::Status)
        .unwrap();
    assert!(check.message.contains("suspended"), "{}", check.message);
}

#[test]
fn a_tampered_credential_does_not_verify() {
    let issued = issue(KeyPair::from_seed([5; 32]), 2);
    let tampered = issued
        .bytes
        .replace("\"attemptsToMastery\":2", "\"attemptsToMastery\":1");
    assert_ne!(tampered, issued.bytes);
    let report = verify_bytes(tampered.as_bytes(), &options(&issued, &[], &[])).unwrap();
    assert!(!report.verified);
}
