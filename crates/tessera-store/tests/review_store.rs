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
async fn a_stored_payload_is_salted_so_its_digest_confirms_no_guess_once_erased() {
    let db = TestDb::new().await;
    let record = json!({"learner": "l1", "level": "Secure"});
    let mut entries = Vec::new();
    for _ in 0..2 {
        entries.push(
            db.store
                .append_audit(AuditKind::MasteryChanged, &["learner:l1"], &record, t0())
                .await
                .unwrap(),
        );
    }
    // The same record twice: two digests, neither the digest of the record alone.
    assert_ne!(entries[0].payload_digest, entries[1].payload_digest);
    for e in &entries {
        assert!(!e.payload_matches(record.to_string().as_bytes()));
    }
    assert_eq!(
        db.store.verify_audit().await.unwrap(),
        AuditVerdict::Intact { entries: 2 }
    );
    // The bare record put back in place of the salted one does not pass for it.
    db.execute_raw(&format!(
        "UPDATE audit_payloads SET payload = '{record}' WHERE seq = 1"
    ))
    .await;
    assert_eq!(
        db.store.verify_audit().await.unwrap(),
        AuditVerdict::PayloadAltered { seq: 1 }
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

/// The review queue with 10,000 pending submissions: the first page comes from the
/// `reviews_queue` index, oldest first. (Timing printed; the bound is loose because this runs in
/// a debug build next to other work — the release figure is far below it.)
#[tokio::test]
async fn the_first_queue_page_with_10000_pending_is_fast_and_oldest_first() {
    use tessera_store::reviews::QueueFilter;
    let db = TestDb::new().await;
    let ts = "'2026-01-01T00:00:00Z'";
    db.execute_raw(&format!(
        "INSERT INTO organisations (id, slug, name, kind, created_at) VALUES ('o1', 'alpha', 'A', 'school', {ts});
         INSERT INTO users (id, email, name, password_hash, is_platform_admin, created_at)
           VALUES ('u1', 'l@a.test', 'L', 'x', FALSE, {ts});
         INSERT INTO frameworks (id, uri, org_id, title, status, revision, last_changed, created_at, case_extra)
           VALUES ('f1', 'urn:f1', 'o1', 'F', 'active', 1, {ts}, {ts}, '{{}}');
         INSERT INTO competencies (id, uri, framework_id, statement, status, framework_revision, last_changed, created_at, case_extra)
           VALUES ('c1', 'urn:c1', 'f1', 'C', 'active', 1, {ts}, {ts}, '{{}}');
         INSERT INTO rubrics (id, version, major, minor, patch, org_id, title, digest, competencies, source, created_at)
           VALUES ('r1', '1.0.0', 1, 0, 0, NULL, 'R', 'sha256:00', '[]', '', {ts});
         INSERT INTO submissions (id, org_id, learner_id, competency_id, rubric_id, rubric_version, attempt, body_text, links, submitted_at)
           WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
           SELECT 's' || i, 'o1', 'u1', 'c1', 'r1', '1.0.0', i, NULL, '[]', {ts} FROM n;
         INSERT INTO reviews (id, org_id, submission_id, learner_id, competency_id, rubric_id, rubric_version, state, created_at)
           SELECT 'v' || (100000 + attempt), org_id, id, learner_id, competency_id, rubric_id, rubric_version, 'pending', submitted_at FROM submissions;"
    ))
    .await;
    let filter = QueueFilter::default();
    // Warm the connection and statement cache, then measure.
    db.store.review_queue("o1", &filter, 50, 0).await.unwrap();
    let started = std::time::Instant::now();
    let page = db.store.review_queue("o1", &filter, 50, 0).await.unwrap();
    let elapsed = started.elapsed();
    println!("first queue page of 10,000 pending: {elapsed:?}");
    assert_eq!(page.len(), 50);
    assert_eq!(page[0].id, "v100001");
    assert_eq!(page[49].id, "v100050");
    assert!(elapsed.as_millis() < 200, "{elapsed:?}");
    let filtered = QueueFilter {
        learner: Some("u1".into()),
        competency: Some("c1".into()),
        rubric: Some("r1".into()),
        stage: None,
    };
    let started = std::time::Instant::now();
    let page = db
        .store
        .review_queue("o1", &filtered, 50, 9_980)
        .await
        .unwrap();
    println!("filtered last page: {:?}", started.elapsed());
    assert_eq!(page.len(), 20);
}

/// A learner's whole record with 300 competencies and 1,000 attempts: one query and a fold.
/// (Timing printed; a loose bound for a debug build on a shared machine.)
#[tokio::test]
async fn a_record_with_300_competencies_and_1000_attempts_reads_in_one_query() {
    let db = TestDb::new().await;
    let ts = "'2026-01-01T00:00:00Z'";
    let mut sql = format!(
        "INSERT INTO organisations (id, slug, name, kind, created_at) VALUES ('o1', 'alpha', 'A', 'school', {ts});
         INSERT INTO users (id, email, name, password_hash, is_platform_admin, created_at)
           VALUES ('u1', 'l@a.test', 'L', 'x', FALSE, {ts});
         INSERT INTO frameworks (id, uri, org_id, title, status, revision, last_changed, created_at)
           VALUES ('f1', 'urn:f1', 'o1', 'F', 'active', 1, {ts}, {ts});
         INSERT INTO competencies (id, uri, framework_id, statement, status, framework_revision, last_changed, created_at) VALUES "
    );
    let comps: Vec<String> = (0..300).map(|c| format!("c{c:03}")).collect();
    sql.push_str(
        &comps
            .iter()
            .map(|c| format!("('{c}', 'urn:{c}', 'f1', 'C', 'active', 1, {ts}, {ts})"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    sql.push_str(";\nINSERT INTO mastery_events (learner_id, competency_id, seq, org_id, at, state, event) VALUES ");
    let review = |outcome: &str| {
        format!(
            r#"{{"event":"reviewed","rubric":{{"id":"r1","version":"1.0.0","digest":"sha256:00"}},"outcome":"{outcome}","levels":[{{"criterion":"a","level":"b"}}],"total_points":3,"borderline":false,"moderated":false,"reviewer":"reviewer:1"}}"#
        )
    };
    let mut rows = Vec::new();
    let mut attempts = 0;
    for (i, c) in comps.iter().enumerate() {
        let n = if i < 200 { 3 } else { 4 };
        let mut seq = 0;
        let mut t = 0;
        let mut push = |state: &str, event: String, seq: &mut i32, t: &mut i64| {
            *seq += 1;
            *t += 60;
            let at = chrono::DateTime::from_timestamp(1_767_225_600 + *t, 0).unwrap();
            rows.push(format!(
                "('u1', '{c}', {seq}, 'o1', '{}', '{state}', '{event}')",
                at.to_rfc3339()
            ));
        };
        push(
            "in_progress",
            r#"{"event":"started"}"#.into(),
            &mut seq,
            &mut t,
        );
        for a in 0..n {
            attempts += 1;
            push(
                "submitted",
                format!(r#"{{"event":"submitted","submission":"s-{c}-{a}"}}"#),
                &mut seq,
                &mut t,
            );
            let last = a == n - 1;
            let outcome = if last { "mastered" } else { "not_yet" };
            push(outcome, review(outcome), &mut seq, &mut t);
        }
    }
    assert_eq!(attempts, 1000);
    sql.push_str(&rows.join(",\n"));
    db.execute_raw(&sql).await;

    db.store.learner_record("o1", "u1").await.unwrap();
    let started = std::time::Instant::now();
    let record = db.store.learner_record("o1", "u1").await.unwrap();
    let elapsed = started.elapsed();
    println!("record of 300 competencies / 1,000 attempts: {elapsed:?}");
    assert_eq!(record.competencies.len(), 300);
    assert_eq!(
        record
            .competencies
            .values()
            .map(|r| r.attempts.len())
            .sum::<usize>(),
        1000
    );
    assert_eq!(record.mastered().count(), 300);
    assert_eq!(record.competencies["c250"].attempts_to_mastery, Some(4));
    assert!(elapsed.as_millis() < 200, "{elapsed:?}");
}

/// The deterministic sample picks exactly `share` of every 1000 consecutive first reviews.
#[test]
fn the_sample_draw_picks_exactly_the_share_of_every_thousand() {
    use tessera_store::reviews::sample_draw;
    for share in [0u16, 1, 7, 250, 500, 999, 1000] {
        for start in [1i64, 2, 1001, 12_345] {
            let picked = (start..start + 1000)
                .filter(|&n| sample_draw(share, n) < share)
                .count();
            assert_eq!(picked, usize::from(share), "share {share} from {start}");
        }
    }
    // 500 ‰: every second one, starting with the second.
    let picks: Vec<bool> = (1..=6).map(|n| sample_draw(500, n) < 500).collect();
    assert_eq!(picks, [false, true, false, true, false, true]);
}
