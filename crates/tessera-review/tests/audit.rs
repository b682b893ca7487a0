//! The audit chain: every kind of tampering is named at the right seq; erasure does not break it.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use tessera_review::{
    AuditEntry, AuditKind, ChainFault, ChainHead, Error, Hash32, SubjectId, verify_chain,
    verify_chain_to_head,
};

fn t(i: u64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0)
        .single()
        .expect("date")
        + TimeDelta::minutes(i as i64)
}

fn subj(s: &str) -> Vec<SubjectId> {
    vec![SubjectId::parse(s).expect("opaque id")]
}

/// Ten entries, as the service would append them.
fn chain() -> Vec<AuditEntry> {
    let kinds = [
        AuditKind::EvidenceSubmitted,
        AuditKind::ReviewRecorded,
        AuditKind::MasteryChanged,
    ];
    let mut out = vec![AuditEntry::first(
        AuditKind::RubricPublished,
        subj("rubric:math-problem-solving"),
        b"{}",
        t(0),
    )];
    for i in 1..10u64 {
        let prev = out.last().expect("non-empty");
        let payload = format!("{{\"n\":{i}}}");
        let e = prev.next(
            kinds[(i % 3) as usize],
            subj(&format!("learner:{i:04x}")),
            payload.as_bytes(),
            t(i),
        );
        out.push(e);
    }
    out
}

fn fault(r: Result<Option<ChainHead>, Error>) -> (u64, ChainFault) {
    match r {
        Err(Error::ChainBroken { seq, fault }) => (seq, fault),
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

#[test]
fn an_intact_chain_verifies_and_returns_its_head() {
    let c = chain();
    let head = verify_chain(&c).expect("intact").expect("non-empty");
    assert_eq!(head.seq, 10);
    assert_eq!(head.hash, c[9].hash);
    assert_eq!(verify_chain(&[]).expect("empty log is fine"), None);
    // Rebuilding entries from stored columns gives the same verdict.
    let stored: Vec<AuditEntry> = c
        .iter()
        .map(|e| {
            AuditEntry::from_stored(
                e.seq,
                Hash32::from_hex(&e.prev_hash.to_hex()).expect("hex"),
                e.kind.as_str().parse().expect("kind"),
                e.subjects.clone(),
                e.payload_digest,
                e.at,
                Hash32::from_hex(&e.hash.to_hex().to_uppercase()).expect("hex"),
            )
        })
        .collect();
    assert!(verify_chain(&stored).is_ok());
}

#[test]
fn editing_any_field_is_detected_at_that_seq() {
    for k in 0..10 {
        let mut c = chain();
        c[k].payload_digest = Hash32::of(b"forged");
        assert_eq!(
            fault(verify_chain(&c)),
            (k as u64 + 1, ChainFault::Edited),
            "payload of entry {k}"
        );
        let mut c = chain();
        c[k].at += TimeDelta::seconds(1);
        assert_eq!(
            fault(verify_chain(&c)),
            (k as u64 + 1, ChainFault::Edited),
            "time of entry {k}"
        );
        let mut c = chain();
        c[k].kind = AuditKind::CredentialRevoked;
        assert_eq!(
            fault(verify_chain(&c)),
            (k as u64 + 1, ChainFault::Edited),
            "kind of entry {k}"
        );
        let mut c = chain();
        c[k].subjects = subj("learner:ffff");
        assert_eq!(
            fault(verify_chain(&c)),
            (k as u64 + 1, ChainFault::Edited),
            "subjects of entry {k}"
        );
    }
}

#[test]
fn an_edit_with_a_recomputed_hash_is_named_by_the_broken_link_after_it() {
    let mut c = chain();
    c[4].payload_digest = Hash32::of(b"forged");
    c[4].hash = c[4].expected_hash();
    assert_eq!(fault(verify_chain(&c)), (5, ChainFault::EditedAndRehashed));
    // Rehashing the newest entry is only visible against a head kept elsewhere.
    let good_head = verify_chain(&chain()).expect("intact").expect("head");
    let mut c = chain();
    c[9].payload_digest = Hash32::of(b"forged");
    c[9].hash = c[9].expected_hash();
    assert!(verify_chain(&c).is_ok());
    assert_eq!(
        fault(verify_chain_to_head(&c, &good_head).map(Some)),
        (10, ChainFault::EditedAndRehashed)
    );
}

#[test]
fn deleting_an_entry_is_detected_at_the_missing_seq() {
    for k in 0..9 {
        let mut c = chain();
        c.remove(k);
        assert_eq!(
            fault(verify_chain(&c)),
            (k as u64 + 1, ChainFault::Deleted),
            "deleted {k}"
        );
    }
    // Deleting the newest entries needs the head.
    let head = verify_chain(&chain()).expect("intact").expect("head");
    let mut c = chain();
    c.truncate(7);
    assert!(verify_chain(&c).is_ok());
    assert_eq!(
        fault(verify_chain_to_head(&c, &head).map(Some)),
        (8, ChainFault::Truncated)
    );
    assert_eq!(
        verify_chain_to_head(&chain(), &head).expect("intact").seq,
        10
    );
}

#[test]
fn reordering_entries_is_detected_at_the_first_entry_out_of_place() {
    let mut c = chain();
    c.swap(3, 6);
    assert_eq!(fault(verify_chain(&c)), (7, ChainFault::Reordered));
    let mut c = chain();
    c.swap(0, 1);
    assert_eq!(fault(verify_chain(&c)), (2, ChainFault::Reordered));
    // Renumbering after a swap breaks the hashes instead.
    let mut c = chain();
    c.swap(3, 4);
    c[3].seq = 4;
    c[4].seq = 5;
    assert_eq!(fault(verify_chain(&c)), (4, ChainFault::Edited));
}

#[test]
fn inserting_an_entry_is_detected() {
    // A well-formed forged entry claiming seq 5, linked to entry 4.
    let c = chain();
    let forged = c[3].next(
        AuditKind::OutcomeOverridden,
        subj("learner:0004"),
        b"forged",
        t(4),
    );
    let mut with_insert = c.clone();
    with_insert.insert(4, forged.clone());
    assert_eq!(fault(verify_chain(&with_insert)), (5, ChainFault::Inserted));
    // Sorted the other way (original first) it is still a second seq 5.
    let mut other = c.clone();
    other.insert(5, forged);
    assert_eq!(fault(verify_chain(&other)), (5, ChainFault::Inserted));
    // A forged first entry.
    let mut c = chain();
    c[0].prev_hash = Hash32::of(b"x");
    c[0].hash = c[0].expected_hash();
    assert_eq!(fault(verify_chain(&c)), (1, ChainFault::BadGenesis));
}

#[test]
fn erasing_payloads_keeps_the_chain_valid_because_personal_data_is_not_hashed_in() {
    let c = chain();
    let payload = br#"{"n":3}"#;
    assert!(c[3].payload_matches(payload));
    // After erasure the service deletes the payload row; entries are unchanged, the chain holds.
    assert!(verify_chain(&c).is_ok());
    assert!(!c[3].payload_matches(b"{}"));
}

#[test]
fn subject_ids_must_be_opaque() {
    for bad in [
        "jane.doe@example.org",
        "Jane Doe",
        "",
        "learner/1",
        &"x".repeat(129),
    ] {
        assert!(
            matches!(SubjectId::parse(bad), Err(Error::NotPseudonymous(_))),
            "{bad:?}"
        );
    }
    for good in [
        "learner:7f3a9c",
        "0f8fad5b-d9cb-469f-a165-70867728950e",
        "org.school_1",
    ] {
        assert!(SubjectId::parse(good).is_ok(), "{good}");
    }
}

#[test]
fn times_are_hashed_at_microsecond_precision_so_a_database_round_trip_verifies() {
    let at = Utc
        .with_ymd_and_hms(2026, 3, 1, 8, 0, 0)
        .single()
        .expect("date")
        + TimeDelta::nanoseconds(123_456_789);
    let e = AuditEntry::first(AuditKind::ReviewRecorded, subj("review:1"), b"p", at);
    assert_eq!(e.at.timestamp_subsec_nanos(), 123_456_000);
    let from_db = DateTime::from_timestamp_micros(e.at.timestamp_micros()).expect("micros");
    let back = AuditEntry::from_stored(
        e.seq,
        e.prev_hash,
        e.kind,
        e.subjects.clone(),
        e.payload_digest,
        from_db,
        e.hash,
    );
    assert!(verify_chain(&[back]).is_ok());
    assert!("not_a_kind".parse::<AuditKind>().is_err());
    assert!(Hash32::from_hex("zz").is_err());
}

#[test]
fn entries_round_trip_through_json_and_personal_data_is_refused_on_the_way_in() {
    let c = chain();
    let json = serde_json::to_string(&c).expect("serialise");
    let back: Vec<AuditEntry> = serde_json::from_str(&json).expect("deserialise");
    assert_eq!(back, c);
    assert!(verify_chain(&back).is_ok());
    let with_email = json.replacen("learner:0001", "jane@example.org", 1);
    assert!(serde_json::from_str::<Vec<AuditEntry>>(&with_email).is_err());
}
