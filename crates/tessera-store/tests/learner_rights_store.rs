//! Learner rights in the store, on the backend `TESSERA_TEST_BACKEND` names: consent history,
//! retention (evidence files after mastery, old access log entries), the privacy note, and
//! erasure leaving no personal text anywhere while the audit chain still verifies.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;
use tessera_review::AuditKind;
use tessera_store::StoreError;
use tessera_store::audit::AuditVerdict;
use tessera_store::learner_rights::{ConsentScope, NewAccess, Retention};
use tessera_store::testing::TestDb;

fn day(n: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap() + Duration::days(n)
}

fn ts(n: i64) -> String {
    format!("'{}'", day(n).to_rfc3339())
}

/// An organisation `o1`, learners `u1` and `u2` (u1 named Zebedee Quillfeather), a teacher
/// `t1`, competencies `c1` and `c2`, a rubric for them.
async fn world() -> TestDb {
    let db = TestDb::new().await;
    let t = ts(0);
    db.execute_raw(&format!(
        "INSERT INTO organisations (id, slug, name, kind, created_at) VALUES ('o1', 'alpha', 'A', 'school', {t});
         INSERT INTO users (id, email, name, password_hash, is_platform_admin, created_at) VALUES
           ('u1', 'zebedee.quillfeather@example.org', 'Zebedee Quillfeather', 'x', FALSE, {t}),
           ('u2', 'other@example.org', 'Other Learner', 'x', FALSE, {t}),
           ('t1', 'teacher@example.org', 'Teacher', 'x', FALSE, {t});
         INSERT INTO memberships (org_id, user_id, role, created_at) VALUES
           ('o1', 'u1', 'learner', {t}), ('o1', 'u2', 'learner', {t}), ('o1', 't1', 'teacher', {t});
         INSERT INTO frameworks (id, uri, org_id, title, status, revision, last_changed, created_at)
           VALUES ('f1', 'urn:f1', 'o1', 'F', 'active', 1, {t}, {t});
         INSERT INTO competencies (id, uri, framework_id, statement, status, framework_revision, last_changed, created_at) VALUES
           ('c1', 'urn:c1', 'f1', 'Counts', 'active', 1, {t}, {t}),
           ('c2', 'urn:c2', 'f1', 'Adds', 'active', 1, {t}, {t});
         INSERT INTO rubrics (id, version, major, minor, patch, org_id, title, digest, competencies, source, created_at)
           VALUES ('r1', '1.0.0', 1, 0, 0, 'o1', 'R', 'sha256:00', '[\"c1\"]', 'x', {t});"
    ))
    .await;
    db
}

/// A submission `id` by `learner` for `competency`, with one file `sha` (blob made if new).
async fn submission(db: &TestDb, id: &str, learner: &str, competency: &str, sha: &str, text: &str) {
    let t = ts(0);
    db.execute_raw(&format!(
        "INSERT INTO evidence_blobs (sha256, size_bytes, created_at) VALUES ('{sha}', 3, {t})
           ON CONFLICT (sha256) DO NOTHING;
         INSERT INTO submissions (id, org_id, learner_id, competency_id, rubric_id, rubric_version, attempt, body_text, links, submitted_at)
           VALUES ('{id}', 'o1', '{learner}', '{competency}', 'r1', '1.0.0',
             (SELECT COUNT(*) + 1 FROM submissions WHERE learner_id = '{learner}' AND competency_id = '{competency}'),
             '{text}', '[]', {t});
         INSERT INTO submission_files (submission_id, position, sha256, media_type, filename, size_bytes)
           VALUES ('{id}', 0, '{sha}', 'text/plain', 'notes-{id}.txt', 3);
         INSERT INTO reviews (id, org_id, submission_id, learner_id, competency_id, rubric_id, rubric_version, state, created_at)
           VALUES ('rev-{id}', 'o1', '{id}', '{learner}', '{competency}', 'r1', '1.0.0', 'pending', {t});"
    ))
    .await;
}

/// A mastery event: `learner` × `competency` reaches `state` on `day`.
async fn event(db: &TestDb, learner: &str, competency: &str, seq: i64, state: &str, on: i64) {
    db.execute_raw(&format!(
        "INSERT INTO mastery_events (learner_id, competency_id, seq, org_id, at, state, event)
           VALUES ('{learner}', '{competency}', {seq}, 'o1', {}, '{state}', '{{\"event\":\"started\"}}')",
        ts(on)
    ))
    .await;
}

async fn file_count(db: &TestDb, submission: &str) -> usize {
    db.store
        .submissions(
            "o1",
            if submission.starts_with("s2") {
                "u2"
            } else {
                "u1"
            },
            None,
        )
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.id == submission)
        .unwrap()
        .files
        .len()
}

#[tokio::test]
async fn consents_are_granted_withdrawn_and_kept_as_history() {
    let db = world().await;
    let s = &db.store;
    let first = s
        .grant_consent(
            "o1",
            "u1",
            ConsentScope::Credentials,
            "Acme Ltd (employer)",
            Some("job application"),
            day(1),
        )
        .await
        .unwrap();
    assert_eq!(first.scope, "credentials");
    assert!(first.withdrawn_at.is_none());
    // Another learner cannot withdraw it.
    assert!(matches!(
        s.withdraw_consent("o1", "u2", &first.id, day(2)).await,
        Err(StoreError::NotFound)
    ));
    let withdrawn = s
        .withdraw_consent("o1", "u1", &first.id, day(2))
        .await
        .unwrap();
    assert_eq!(withdrawn.withdrawn_at, Some(day(2)));
    assert!(matches!(
        s.withdraw_consent("o1", "u1", &first.id, day(3)).await,
        Err(StoreError::Conflict(_))
    ));
    let again = s
        .grant_consent(
            "o1",
            "u1",
            ConsentScope::Credentials,
            "Acme Ltd (employer)",
            None,
            day(4),
        )
        .await
        .unwrap();
    let history = s.consents("o1", "u1").await.unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[0].id, first.id);
    assert_eq!(history[0].withdrawn_at, Some(day(2)));
    assert_eq!(history[1].id, again.id);
    assert!(history[1].withdrawn_at.is_none());
    assert!(s.consents("o1", "u2").await.unwrap().is_empty());
}

#[tokio::test]
async fn retention_deletes_files_after_mastery_and_old_access_entries() {
    let db = world().await;
    let s = &db.store;
    let (shared, own, other) = ("a".repeat(64), "b".repeat(64), "c".repeat(64));
    // u1 mastered c1 on day 0 (two submissions: one file shared with u2, one of its own);
    // u1 is not yet on c2; u2 submitted the shared file for c1 and has not mastered it.
    submission(&db, "s1a", "u1", "c1", &shared, "first try").await;
    submission(&db, "s1b", "u1", "c1", &own, "second try").await;
    submission(&db, "s1c", "u1", "c2", &other, "adding").await;
    submission(&db, "s2a", "u2", "c1", &shared, "theirs").await;
    event(&db, "u1", "c1", 1, "submitted", 0).await;
    event(&db, "u1", "c1", 2, "mastered", 0).await;
    event(&db, "u1", "c2", 1, "not_yet", 0).await;
    event(&db, "u2", "c1", 1, "submitted", 0).await;
    let access = |learner: &str| NewAccess {
        org_id: "o1".into(),
        learner_id: learner.into(),
        staff_id: "t1".into(),
        staff_roles: "teacher".into(),
        what: "record",
        method: "GET".into(),
        path: format!("/orgs/alpha/learners/{learner}"),
    };
    s.log_access(&[access("u1")], day(0)).await.unwrap();
    s.log_access(&[access("u1"), access("u2")], day(28))
        .await
        .unwrap();

    // Nothing set: nothing happens.
    let run = s.apply_retention(day(100)).await.unwrap();
    assert_eq!(run.submissions, 0);
    assert_eq!(run.access_entries, 0);

    s.set_retention(
        "o1",
        &Retention {
            evidence_files_days: Some(30),
            access_log_days: Some(7),
        },
        "t1",
        day(1),
    )
    .await
    .unwrap();
    assert_eq!(
        s.retention("o1").await.unwrap().evidence_files_days,
        Some(30)
    );

    // Day 10: the mastery is too recent; the day-0 access entry is old enough.
    let run = s.apply_retention(day(10)).await.unwrap();
    assert_eq!(run.submissions, 0);
    assert_eq!(run.access_entries, 1);
    assert_eq!(s.access_log("o1", "u1", 50, 0).await.unwrap().len(), 1);
    assert_eq!(file_count(&db, "s1a").await, 1);

    // Day 31: both of u1's c1 submissions lose their files; only the unshared content is
    // orphaned (u2 still uses the shared one); c2 (not mastered) and u2 keep theirs.
    let run = s.apply_retention(day(31)).await.unwrap();
    assert_eq!(run.submissions, 2);
    assert_eq!(run.orphaned_blobs, vec![own.clone()]);
    assert_eq!(file_count(&db, "s1a").await, 0);
    assert_eq!(file_count(&db, "s1b").await, 0);
    assert_eq!(file_count(&db, "s1c").await, 1);
    assert_eq!(file_count(&db, "s2a").await, 1);
    let (files, at) = s.evidence_purge("s1a").await.unwrap().expect("purge noted");
    assert_eq!((files, at), (1, day(31)));
    // The day-28 entries are 3 days old: kept.
    assert_eq!(s.access_log("o1", "u1", 50, 0).await.unwrap().len(), 1);
    // Running again changes nothing.
    let run = s.apply_retention(day(32)).await.unwrap();
    assert_eq!(run.submissions, 0);
    assert_eq!(run.access_entries, 0);

    // A later event that is not a mastery (withdrawn) stops the clock.
    submission(&db, "s1d", "u1", "c1", &own, "third").await;
    event(&db, "u1", "c1", 3, "not_yet", 33).await;
    let run = s.apply_retention(day(90)).await.unwrap();
    assert_eq!(run.submissions, 0);
    assert_eq!(file_count(&db, "s1d").await, 1);
}

#[tokio::test]
async fn the_privacy_note_is_replaced_by_admins() {
    let db = world().await;
    let s = &db.store;
    assert!(s.privacy_note("o1").await.unwrap().is_none());
    s.set_privacy_note("o1", "First text.", "t1", day(1))
        .await
        .unwrap();
    let note = s
        .set_privacy_note("o1", "Second text.", "t1", day(2))
        .await
        .unwrap();
    assert_eq!(note.body, "Second text.");
    let read = s.privacy_note("o1").await.unwrap().unwrap();
    assert_eq!(read.body, "Second text.");
    assert_eq!(read.updated_at, day(2));
}

#[tokio::test]
async fn erasure_leaves_no_personal_text_and_the_chain_verifies() {
    let db = world().await;
    let s = &db.store;
    let blob = "d".repeat(64);
    submission(
        &db,
        "s1a",
        "u1",
        "c1",
        &blob,
        "Essay by Zebedee Quillfeather",
    )
    .await;
    event(&db, "u1", "c1", 1, "submitted", 0).await;
    db.execute_raw(&format!(
        "UPDATE reviews SET scored = '{{\"comment\":\"Well done Zebedee\"}}' WHERE id = 'rev-s1a';
         INSERT INTO prerequisite_exceptions (learner_id, competency_id, org_id, reason, granted_by, granted_at)
           VALUES ('u1', 'c2', 'o1', 'Zebedee was ill', 't1', {t});
         INSERT INTO invitations (id, org_id, email, role, token_hash, created_by, created_at, expires_at)
           VALUES ('i1', 'o1', 'Zebedee.Quillfeather@example.org', 'learner', 'h', 't1', {t}, {t});",
        t = ts(0)
    ))
    .await;
    s.grant_consent(
        "o1",
        "u1",
        ConsentScope::Research,
        "Zebedee's university",
        None,
        day(1),
    )
    .await
    .unwrap();
    s.append_audit(
        AuditKind::OutcomeOverridden,
        &["learner:u1", "competency:c1"],
        &json!({"reason": "Zebedee Quillfeather asked"}),
        day(1),
    )
    .await
    .unwrap();
    s.append_audit(
        AuditKind::SettingChanged,
        &["org:o1"],
        &json!({"sample_per_mille": 10}),
        day(1),
    )
    .await
    .unwrap();
    let needles = [
        "Zebedee",
        "Quillfeather",
        "zebedee.quillfeather@example.org",
    ];
    assert!(
        !s.find_text_everywhere("Quillfeather")
            .await
            .unwrap()
            .is_empty()
    );

    let erasure = s.erase_user("u1", "t1", day(5)).await.unwrap();
    assert_eq!(erasure.orphaned_blobs, vec![blob]);
    assert_eq!(erasure.audit_payloads_removed, 1);
    for needle in needles {
        let left = s.find_text_everywhere(needle).await.unwrap();
        assert!(left.is_empty(), "{needle:?} is still in {left:?}");
    }
    assert!(matches!(
        s.verify_audit().await.unwrap(),
        AuditVerdict::Intact { entries: 3 }
    ));
    let user = s.user("u1").await.unwrap();
    assert_eq!(user.name, "Erased user");
    assert_eq!(s.erased_at("u1").await.unwrap(), Some(day(5)));
    // The other learner is untouched; a second erasure is refused.
    assert_eq!(s.user("u2").await.unwrap().name, "Other Learner");
    assert!(matches!(
        s.erase_user("u1", "t1", day(6)).await,
        Err(StoreError::Conflict(_))
    ));
}
