//! Times the two issue-4 store reads that have a speed target, on the backend that
//! `TESSERA_TEST_BACKEND` names (a fresh test database):
//! - a learner's whole mastery record (one query + the fold) with 300 competencies and 1,000
//!   attempts (≈2,300 events): target < 20 ms;
//! - the first page (50) of the review queue with 10,000 pending submissions: target < 50 ms.
//!
//! Prints the median, 95th percentile and maximum of RUNS timed calls after one warm-up call.
//!
//! `cargo run --release -p tessera-store --features testing --example record_bench [RUNS]`

mod common;

use std::time::Instant;

use tessera_store::reviews::QueueFilter;
use tessera_store::testing::TestDb;

const TS: &str = "'2026-01-01T00:00:00Z'";

/// Organisation `o1`, learner `u1`, framework `f1` with `competencies` competencies
/// `c000`, `c001`, …, and rubric `r1`.
fn base_sql(competencies: usize) -> String {
    let comps: Vec<String> = (0..competencies)
        .map(|c| format!("('c{c:03}', 'urn:c{c:03}', 'f1', 'C', 'active', 1, {TS}, {TS}, '{{}}')"))
        .collect();
    format!(
        "INSERT INTO organisations (id, slug, name, kind, created_at) VALUES ('o1', 'alpha', 'A', 'school', {TS});
         INSERT INTO users (id, email, name, password_hash, is_platform_admin, created_at)
           VALUES ('u1', 'l@a.test', 'L', 'x', FALSE, {TS});
         INSERT INTO frameworks (id, uri, org_id, title, status, revision, last_changed, created_at, case_extra)
           VALUES ('f1', 'urn:f1', 'o1', 'F', 'active', 1, {TS}, {TS}, '{{}}');
         INSERT INTO competencies (id, uri, framework_id, statement, status, framework_revision, last_changed, created_at, case_extra)
           VALUES {};
         INSERT INTO rubrics (id, version, major, minor, patch, org_id, title, digest, competencies, source, created_at)
           VALUES ('r1', '1.0.0', 1, 0, 0, NULL, 'R', 'sha256:00', '[]', '', {TS});",
        comps.join(", ")
    )
}

/// The events of 300 competencies: 200 mastered at the 3rd attempt, 100 at the 4th (1,000
/// attempts in all), each started, then submitted / reviewed per attempt.
fn record_sql() -> (String, usize) {
    let review = |outcome: &str| {
        format!(
            r#"{{"event":"reviewed","rubric":{{"id":"r1","version":"1.0.0","digest":"sha256:00"}},"outcome":"{outcome}","levels":[{{"criterion":"a","level":"b"}}],"total_points":3,"borderline":false,"moderated":false,"reviewer":"reviewer:1"}}"#
        )
    };
    let mut rows = Vec::new();
    let mut attempts = 0;
    for i in 0..300 {
        let c = format!("c{i:03}");
        let n = if i < 200 { 3 } else { 4 };
        let (mut seq, mut t) = (0, 0i64);
        let mut push = |state: &str, event: String| {
            seq += 1;
            t += 60;
            let at = chrono::DateTime::from_timestamp(1_767_225_600 + t, 0).expect("time");
            rows.push(format!(
                "('u1', '{c}', {seq}, 'o1', '{}', '{state}', '{event}')",
                at.to_rfc3339()
            ));
        };
        push("in_progress", r#"{"event":"started"}"#.into());
        for a in 0..n {
            attempts += 1;
            push(
                "submitted",
                format!(r#"{{"event":"submitted","submission":"s-{c}-{a}"}}"#),
            );
            let outcome = if a == n - 1 { "mastered" } else { "not_yet" };
            push(outcome, review(outcome));
        }
    }
    let sql = format!(
        "INSERT INTO mastery_events (learner_id, competency_id, seq, org_id, at, state, event) VALUES {};",
        rows.join(",\n")
    );
    (sql, attempts)
}

/// 10,000 pending first reviews of learner `u1` on `c000`, one second apart.
const QUEUE_SQL: &str = "INSERT INTO submissions (id, org_id, learner_id, competency_id, rubric_id, rubric_version, attempt, body_text, links, submitted_at)
       WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
       SELECT 's' || i, 'o1', 'u1', 'c000', 'r1', '1.0.0', i, NULL, '[]', '2026-01-01T00:00:00Z' FROM n;
     INSERT INTO reviews (id, org_id, submission_id, learner_id, competency_id, rubric_id, rubric_version, state, created_at)
       SELECT 'v' || (100000 + attempt), org_id, id, learner_id, competency_id, rubric_id, rubric_version, 'pending', submitted_at FROM submissions;";

#[tokio::main]
async fn main() {
    let runs = common::runs(50);

    // The record.
    let db = TestDb::new().await;
    let backend = db.store.backend();
    let (events, attempts) = record_sql();
    assert_eq!(attempts, 1000);
    db.execute_raw(&base_sql(300)).await;
    db.execute_raw(&events).await;
    let record = db.store.learner_record("o1", "u1").await.expect("record");
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
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let record = db.store.learner_record("o1", "u1").await.expect("record");
        times.push(start.elapsed());
        assert_eq!(record.competencies.len(), 300);
    }
    println!(
        "{backend:?}: mastery record, 300 competencies / 1,000 attempts (one query + fold): {}",
        common::summary(times, 2)
    );

    // The queue (same database: the record's events do not touch `reviews`).
    db.execute_raw(QUEUE_SQL).await;
    let filter = QueueFilter::default();
    let page = db
        .store
        .review_queue("o1", &filter, 50, 0)
        .await
        .expect("queue");
    assert_eq!(page.len(), 50);
    assert_eq!(page[0].id, "v100001");
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let page = db
            .store
            .review_queue("o1", &filter, 50, 0)
            .await
            .expect("queue");
        times.push(start.elapsed());
        assert_eq!(page.len(), 50);
    }
    println!(
        "{backend:?}: review queue, first page of 50 with 10,000 pending: {}",
        common::summary(times, 2)
    );
}
