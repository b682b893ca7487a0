//! The signed mastery transcript: it verifies, every embedded credential verifies, tampering with
//! one credential is caught and named, and the learner's choice decides what goes in.

use serde_json::Value;
use tessera_transcript::sample;
use tessera_transcript::{Error, Selection, TranscriptView, assemble, vocab};
use tessera_vc::VerifyOptions;

fn options(request: &tessera_transcript::TranscriptRequest) -> VerifyOptions {
    VerifyOptions::new(request.issued_at + chrono::Duration::days(1))
}

fn embedded(clr: &Value) -> &Vec<Value> {
    clr.pointer("/credentialSubject/verifiableCredential")
        .and_then(Value::as_array)
        .expect("verifiableCredential list")
}

#[test]
fn a_signed_transcript_verifies_with_every_embedded_credential() {
    let request = sample::request(12, false).unwrap();
    let signed = sample::signed_transcript(&request).unwrap();
    let verdict = tessera_transcript::verify(&signed, &options(&request)).unwrap();
    assert!(verdict.verified, "{}", verdict.report.to_text());
    assert!(verdict.failed.is_empty());
    // 12 competencies, every seventh in progress: 11 credentials, each verified on its own.
    assert_eq!(verdict.report.embedded.len(), 11);
    assert!(verdict.report.embedded.iter().all(|e| e.report.verified));
    assert_eq!(signed["partial"], Value::Bool(false));
    assert_eq!(
        signed["@context"][1],
        "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
    );
    assert_eq!(signed["proof"]["cryptosuite"], "eddsa-rdfc-2022");
}

#[test]
fn embedded_credentials_are_exactly_as_issued() {
    let request = sample::request(8, false).unwrap();
    let signed = sample::signed_transcript(&request).unwrap();
    let inside = embedded(&signed);
    assert_eq!(inside.len(), request.credentials.len());
    for (issued, carried) in request.credentials.iter().zip(inside) {
        assert_eq!(
            serde_json::to_string(issued).unwrap(),
            serde_json::to_string(carried).unwrap()
        );
    }
}

#[test]
fn altering_one_embedded_credential_fails_and_names_it() {
    let request = sample::request(8, false).unwrap();
    let mut signed = sample::signed_transcript(&request).unwrap();
    let victim = embedded(&signed)[3].clone();
    let victim_id = victim["id"].as_str().unwrap().to_owned();
    // Claim an earlier mastery inside credential 3 (and re-sign the transcript itself, as a
    // forger holding the organisation's key but not the credential issuer's might).
    let target = signed
        .pointer_mut("/credentialSubject/verifiableCredential/3/credentialSubject/activityEndDate")
        .unwrap();
    *target = Value::String("2023-09-02T08:00:00Z".into());
    let key = sample::organisation_key();
    let mut unsigned = signed.clone();
    unsigned.as_object_mut().unwrap().remove("proof");
    let resigned = tessera_transcript::sign(
        &unsigned,
        &key,
        &key.public_key().did_key_verification_method(),
        request.issued_at,
    )
    .unwrap();

    for doc in [&signed, &resigned] {
        let verdict = tessera_transcript::verify(doc, &options(&request)).unwrap();
        assert!(!verdict.verified);
        assert_eq!(verdict.failed.len(), 1, "{}", verdict.failure_summary());
        let failed = &verdict.failed[0];
        assert_eq!(failed.path, "credentialSubject.verifiableCredential[3]");
        assert_eq!(failed.id.as_deref(), Some(victim_id.as_str()));
        assert_eq!(failed.name.as_deref(), victim["name"].as_str());
        assert!(failed.failed_checks.contains(&"proof".to_owned()));
        assert!(verdict.failure_summary().contains(&victim_id));
    }
    // The tampered but unre-signed transcript also fails its own proof.
    let outer = tessera_transcript::verify(&signed, &options(&request)).unwrap();
    assert_eq!(
        outer.report.status(tessera_vc::CheckCode::Proof),
        tessera_vc::CheckStatus::Failed
    );
}

#[test]
fn a_chosen_framework_or_competencies_make_a_partial_transcript_and_the_choice_is_recorded() {
    let mut request = sample::request(10, false).unwrap();
    // Everything of the only framework is not partial.
    request.selection =
        Selection::Framework("https://tessera.example/frameworks/lincoln-graduate-profile".into());
    let whole = assemble(&request).unwrap();
    assert_eq!(whole["partial"], Value::Bool(false));
    assert_eq!(
        whole["credentialSubject"][vocab::SELECTED][vocab::SCOPE],
        "framework"
    );

    let chosen = vec![sample::competency_id(1), sample::competency_id(4)];
    request.selection = Selection::Competencies(chosen.clone());
    let part = sample::signed_transcript(&request).unwrap();
    assert_eq!(part["partial"], Value::Bool(true));
    let awarded: Vec<&str> = embedded(&part)
        .iter()
        .map(|c| {
            c.pointer("/credentialSubject/achievement/id")
                .unwrap()
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        awarded,
        chosen.iter().map(String::as_str).collect::<Vec<_>>()
    );
    let selected = &part["credentialSubject"][vocab::SELECTED];
    assert_eq!(selected[vocab::SCOPE], "competencies");
    assert_eq!(selected[vocab::INCLUDES][1]["@id"], chosen[1].as_str());
    let records = part["credentialSubject"][vocab::TIME_VARIABLE_RECORD]
        .as_array()
        .unwrap();
    assert_eq!(records.len(), 2);
    let verdict = tessera_transcript::verify(&part, &options(&request)).unwrap();
    assert!(verdict.verified, "{}", verdict.report.to_text());

    request.selection = Selection::Competencies(vec!["https://nowhere.example/x".into()]);
    assert!(matches!(
        assemble(&request),
        Err(Error::UnknownCompetency(id)) if id == "https://nowhere.example/x"
    ));
    request.selection = Selection::Framework("https://nowhere.example/f".into());
    assert!(matches!(
        assemble(&request),
        Err(Error::UnknownFramework(_))
    ));
    // Only an in-progress competency: no credential to embed, which CLR does not allow.
    request.selection = Selection::Competencies(vec![sample::competency_id(6)]);
    assert!(matches!(assemble(&request), Err(Error::Empty)));
}

#[test]
fn registry_associations_become_clr_associations_between_named_achievements() {
    let request = sample::request(12, false).unwrap();
    let clr = assemble(&request).unwrap();
    let associations = clr["credentialSubject"]["association"].as_array().unwrap();
    let has = |kind: &str, source: &str, target: &str| {
        associations.iter().any(|a| {
            a["type"] == "Association"
                && a["associationType"] == kind
                && a["sourceId"] == source
                && a["targetId"] == target
        })
    };
    assert!(has(
        "isChildOf",
        &sample::competency_id(7),
        "https://tessera.example/areas/a1"
    ));
    assert!(has(
        "isChildOf",
        "https://tessera.example/areas/a1",
        "https://tessera.example/frameworks/lincoln-graduate-profile"
    ));
    assert!(has(
        "precedes",
        &sample::competency_id(1),
        &sample::competency_id(7)
    ));
    // Every association end is defined in the transcript (an achievement or a credential's).
    let achievements = clr["credentialSubject"]["achievement"].as_array().unwrap();
    for a in associations {
        for end in ["sourceId", "targetId"] {
            let id = a[end].as_str().unwrap();
            let defined = achievements.iter().any(|x| x["id"] == id)
                || embedded(&clr)
                    .iter()
                    .any(|c| c["credentialSubject"]["achievement"]["id"] == id);
            assert!(defined, "{id} is not defined in the transcript");
        }
    }
}

#[test]
fn the_time_variable_record_and_pace_read_back_from_the_signed_transcript() {
    let request = sample::request(14, true).unwrap();
    let signed = sample::signed_transcript(&request).unwrap();
    let view = TranscriptView::from_clr(&signed).unwrap();
    assert_eq!(view.learner_name, sample::LEARNER_NAME);
    assert!(view.signed);
    assert_eq!(view.competencies().count(), 14);
    assert_eq!(view.pacing.mastered, 12);
    assert_eq!(view.pacing.in_progress, 2);
    assert_eq!(view.areas.len(), 6);
    assert_eq!(
        view.areas[0].framework.as_deref(),
        Some("Lincoln Graduate Profile — Профиль выпускника")
    );
    for (record, c) in request.records.iter().map(|r| {
        (
            r,
            view.competencies()
                .find(|c| c.id == r.competency_id)
                .unwrap(),
        )
    }) {
        assert_eq!(c.first_activity, Some(record.first_activity));
        assert_eq!(c.mastered_at, record.mastered_at);
        assert_eq!(c.attempts, u64::from(record.attempts));
        assert_eq!(c.level, record.level);
        match record.mastered_at {
            Some(m) => {
                let days = (m - record.first_activity).num_days() as f64;
                assert_eq!(c.days_to_mastery, Some(days));
                assert_eq!(c.rubric.len(), 4);
                assert!(c.rubric.iter().any(|l| l.achieved));
                assert!(c.rubric[2].required);
                assert_eq!(c.evidence.len(), 1);
            }
            None => {
                assert_eq!(c.days_to_mastery, None);
                assert!(c.credential_id.is_none());
            }
        }
    }
    let seventh = view
        .competencies()
        .find(|c| c.id == sample::competency_id(7))
        .unwrap();
    assert_eq!(
        seventh.prerequisites,
        vec!["Моделирование систем 1".to_owned()]
    );
}

#[test]
fn a_credential_without_an_achievement_id_is_refused_by_name() {
    let mut request = sample::request(3, false).unwrap();
    request.credentials[1]["credentialSubject"]
        .as_object_mut()
        .unwrap()
        .remove("achievement");
    let id = request.credentials[1]["id"].as_str().unwrap().to_owned();
    match assemble(&request) {
        Err(Error::Credential { credential, .. }) => assert_eq!(credential, id),
        other => panic!("expected a credential error, got {other:?}"),
    }
}
