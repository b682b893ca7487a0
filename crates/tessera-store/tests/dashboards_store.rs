//! The teacher dashboard's cells (`mastery_cells`, kept by the triggers of migration 0008) agree
//! with the folded record as events are appended and deleted, on the backend
//! `TESSERA_TEST_BACKEND` names.

use chrono::{TimeZone, Utc};
use tessera_store::testing::TestDb;

const TS: &str = "'2026-01-01T00:00:00Z'";

fn base() -> String {
    format!(
        "INSERT INTO organisations (id, slug, name, kind, created_at) VALUES ('o1', 'alpha', 'A', 'school', {TS});
         INSERT INTO users (id, email, name, password_hash, is_platform_admin, created_at)
           VALUES ('u1', 'l@a.test', 'Ann', 'x', FALSE, {TS}), ('u2', 'm@a.test', 'Ben', 'x', FALSE, {TS});
         INSERT INTO memberships (org_id, user_id, role, created_at)
           VALUES ('o1', 'u1', 'learner', {TS}), ('o1', 'u2', 'learner', {TS});
         INSERT INTO frameworks (id, uri, org_id, title, status, revision, last_changed, created_at, case_extra)
           VALUES ('f1', 'urn:f1', 'o1', 'F', 'active', 1, {TS}, {TS}, '{{}}');
         INSERT INTO competencies (id, uri, framework_id, code, statement, status, framework_revision, last_changed, created_at, case_extra)
           VALUES ('c1', 'urn:c1', 'f1', 'C.1', 'One', 'active', 1, {TS}, {TS}, '{{}}'),
                  ('c2', 'urn:c2', 'f1', 'C.2', 'Two', 'active', 1, {TS}, {TS}, '{{}}');"
    )
}

fn event(learner: &str, c: &str, seq: u32, day: u32, state: &str, json: &str) -> String {
    format!(
        "INSERT INTO mastery_events (learner_id, competency_id, seq, org_id, at, state, event) \
         VALUES ('{learner}', '{c}', {seq}, 'o1', '2026-11-{day:02}T09:00:00+00:00', '{state}', '{json}');"
    )
}

const REVIEW_NOT_YET: &str = r#"{"event":"reviewed","rubric":{"id":"r1","version":"1.0.0","digest":"sha256:00"},"outcome":"not_yet","levels":[{"criterion":"a","level":"b"}],"total_points":1,"borderline":false,"moderated":false,"reviewer":"reviewer:1"}"#;

#[tokio::test]
async fn dashboard_cells_follow_appended_and_deleted_events() {
    let db = TestDb::new().await;
    db.execute_raw(&base()).await;
    let mut sql = vec![event(
        "u1",
        "c2",
        1,
        1,
        "in_progress",
        r#"{"event":"started"}"#,
    )];
    for a in 0..2u32 {
        sql.push(event(
            "u1",
            "c2",
            2 + 2 * a,
            2 + 5 * a,
            "submitted",
            &format!(r#"{{"event":"submitted","submission":"s{a}"}}"#),
        ));
        sql.push(event(
            "u1",
            "c2",
            3 + 2 * a,
            3 + 5 * a,
            "not_yet",
            REVIEW_NOT_YET,
        ));
    }
    db.execute_raw(&sql.concat()).await;
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();

    let dash = db
        .store
        .teacher_dashboard("o1", "f1", None, None, now)
        .await
        .unwrap();
    assert_eq!(dash.rows.len(), 2);
    let ann = dash.rows.iter().find(|r| r.learner_id == "u1").unwrap();
    let record = db.store.learner_record("o1", "u1").await.unwrap();
    let folded = &record.competencies["c2"];
    assert_eq!(ann.cells[1].state, folded.state.as_str());
    assert_eq!(ann.cells[1].state, "not_yet");
    assert_eq!(ann.cells[1].attempts as usize, folded.attempts.len());
    assert_eq!(ann.cells[1].attempts, 2);
    assert_eq!(ann.cells[1].last_activity, folded.last_activity);
    assert_eq!(ann.cells[0].state, "not_started");
    // Two attempts are below the default three: the only flag is the silence since Nov 8.
    assert_eq!(ann.flags.len(), 1);
    assert_eq!(
        ann.flags[0].reason,
        "No activity on C.2 for 15 days after a \"not yet\" (last on 2026-11-08)"
    );

    // Deleting the last review puts the cell back to "submitted"; deleting every event empties it.
    db.execute_raw("DELETE FROM mastery_events WHERE learner_id = 'u1' AND seq = 5")
        .await;
    let dash = db
        .store
        .teacher_dashboard("o1", "f1", None, Some("u1"), now)
        .await
        .unwrap();
    assert_eq!(dash.rows.len(), 1);
    assert_eq!(dash.rows[0].cells[1].state, "submitted");
    assert_eq!(dash.rows[0].cells[1].attempts, 2);
    db.execute_raw("DELETE FROM mastery_events WHERE learner_id = 'u1'")
        .await;
    let dash = db
        .store
        .teacher_dashboard("o1", "f1", None, Some("u1"), now)
        .await
        .unwrap();
    assert_eq!(dash.rows[0].cells[1].state, "not_started");
    assert!(dash.rows[0].flags.is_empty());
}
