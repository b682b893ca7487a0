//! Issue 4 in the store: the audit chain (append, verify, sabotage detected), rubric versions,
//! evidence, reviews and the mastery record. Runs on the backend chosen by TESSERA_TEST_BACKEND.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;
use tessera_review::{AuditKind, ChainFault};
use tessera_store::audit::AuditVerdict;
use tessera_store::testing::TestDb;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap()
}

/// A log of five entries, one second apart.
async fn five_entries() -> TestDb {
    let db = TestDb::new().await;
    for i in 0..5 {
        db.store
            .append_audit(
                AuditKind::MasteryChanged,
                &[&format!("learner:{i}"), "competency:c1"],
                &json!({"n": i, "note": "Ada Lovelace's essay"}),
                // Sub-second part: PostgreSQL keeps microseconds, the hash uses them.
                t0() + Duration::seconds(i) + Duration::nanoseconds(123_456_789),
            )
            .await
            .unwrap();
    }
    db
}

#[tokio::test]
async fn an_untouched_log_verifies_and_an_empty_one_too() {
    let empty = TestDb::new().await;
    assert_eq!(
        empty.store.verify_audit().await.unwrap(),
        AuditVerdict::Intact { entries: 0 }
    );
    let db = five_entries().await;
    assert_eq!(
        db.store.verify_audit().await.unwrap(),
        AuditVerdict::Intact { entries: 5 }
    );
    let (entries, head) = db.store.audit_entries().await.unwrap();
    assert_eq!(entries.len(), 5);
    assert_eq!(head.seq, 5);
    assert_eq!(head.hash, entries[4].hash);
    assert_eq!(entries[1].prev_hash, entries[0].hash);
}

#[tokio::test]
async fn personal_data_cannot_enter_the_chain() {
    let db = TestDb::new().await;
    let err = db
        .store
        .append_audit(
            AuditKind::MasteryChanged,
            &["ada@example.org"],
            &json!({}),
            t0(),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("pseudonymous"), "{err}");
    // Nothing was written, the head did not move.
    assert_eq!(
        db.store.verify_audit().await.unwrap(),
        AuditVerdict::Intact { entries: 0 }
    );
}

async fn broken_after(sql: &str) -> AuditVerdict {
    let db = five_entries().await;
    db.execute_raw(sql).await;
    db.store.verify_audit().await.unwrap()
}

#[tokio::test]
async fn editing_any_field_is_detected_at_that_entry() {
    for sql in [
        "UPDATE audit_log SET kind = 'mastery_withdrawn' WHERE seq = 3",
        "UPDATE audit_log SET subjects = '[\"learner:9\",\"competency:c1\"]' WHERE seq = 3",
        "UPDATE audit_log SET payload_digest = '0000000000000000000000000000000000000000000000000000000000000001' WHERE seq = 3",
        "UPDATE audit_log SET at = (SELECT at FROM audit_log WHERE seq = 1) WHERE seq = 3",
        "UPDATE audit_log SET kind = 'no_such_kind' WHERE seq = 3",
        "UPDATE audit_log SET hash = 'zz' WHERE seq = 3",
    ] {
        assert_eq!(
            broken_after(sql).await,
            AuditVerdict::Broken {
                seq: 3,
                fault: ChainFault::Edited
            },
            "{sql}"
        );
    }
}

#[tokio::test]
async fn deleting_an_entry_is_detected() {
    assert_eq!(
        broken_after("DELETE FROM audit_log WHERE seq = 2").await,
        AuditVerdict::Broken {
            seq: 2,
            fault: ChainFault::Deleted
        }
    );
    // The newest entry: only the head shows it.
    assert_eq!(
        broken_after("DELETE FROM audit_log WHERE seq = 5").await,
        AuditVerdict::Broken {
            seq: 5,
            fault: ChainFault::Truncated
        }
    );
    // Deleting the newest entry and moving the head back is caught by the payload left behind.
    assert_eq!(
        broken_after(
            "DELETE FROM audit_log WHERE seq = 5; \
             UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit_log WHERE seq = 4)"
        )
        .await,
        AuditVerdict::PayloadAltered { seq: 5 }
    );
}

#[tokio::test]
async fn reordering_entries_is_detected() {
    // Swap the seq numbers of entries 2 and 4 (via a free number: seq is the primary key).
    let verdict = broken_after(
        "UPDATE audit_log SET seq = 100 WHERE seq = 2; \
         UPDATE audit_log SET seq = 2 WHERE seq = 4; \
         UPDATE audit_log SET seq = 4 WHERE seq = 100",
    )
    .await;
    assert!(
        matches!(verdict, AuditVerdict::Broken { seq: 2, .. }),
        "{verdict:?}"
    );
    // Swapping whole contents between two rows.
    let verdict = broken_after(
        "UPDATE audit_log SET seq = -1 WHERE seq = 3; \
         UPDATE audit_log SET seq = 3, prev_hash = (SELECT prev_hash FROM audit_log WHERE seq = 2) WHERE seq = 2; \
         UPDATE audit_log SET seq = 2 WHERE seq = -1",
    )
    .await;
    assert!(
        matches!(verdict, AuditVerdict::Broken { .. }),
        "{verdict:?}"
    );
}

#[tokio::test]
async fn an_edited_payload_is_detected() {
    assert_eq!(
        broken_after("UPDATE audit_payloads SET payload = '{\"n\":2}' WHERE seq = 2").await,
        AuditVerdict::PayloadAltered { seq: 2 }
    );
}

#[tokio::test]
async fn concurrent_appends_form_one_chain() {
    let db = TestDb::new().await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = db.store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .append_audit(
                    AuditKind::ReviewRecorded,
                    &[&format!("review:{i}")],
                    &json!({"i": i}),
                    t0(),
                )
                .await
                .unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        db.store.verify_audit().await.unwrap(),
        AuditVerdict::Intact { entries: 20 }
    );
}
