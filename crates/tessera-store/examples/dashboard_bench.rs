//! Times the teacher dashboard (issue 7: 1,000 learners × 100 competencies, target < 200 ms
//! server time) on the backend that `TESSERA_TEST_BACKEND` names (a fresh test database).
//!
//! The fixture: organisation `o1`, course `f1` with 100 competencies (`c000` … `c099`, each a
//! prerequisite of the next within a block of ten), 1,000 learners. Learner `i` has worked on the
//! first 40–99 competencies: most mastered at the first or second attempt, every seventh "not
//! yet" after three attempts, the last one started and left; a quarter have target dates, and
//! some flags carry a teacher's decision. Roughly 250,000 mastery events.
//!
//! Checks every 97th learner's cells against their folded record, then prints the median, 95th
//! percentile and maximum of RUNS timed calls (after that warm-up) for the queries alone
//! (`Store::teacher_facts`), the assembly with the flag rules alone, and the whole dashboard.
//!
//! `cargo run --release -p tessera-store --features testing --example dashboard_bench [RUNS]`
//! (`TESSERA_TEST_BACKEND=postgres TEST_DATABASE_URL=postgres://… ` for PostgreSQL)

mod common;

use std::time::Instant;

use tessera_store::dashboards::assemble;
use tessera_store::testing::TestDb;

const TS: &str = "'2026-01-01T00:00:00Z'";
const LEARNERS: usize = 1000;
const COMPETENCIES: usize = 100;

fn base_sql() -> String {
    let comps: Vec<String> = (0..COMPETENCIES)
        .map(|c| {
            format!(
                "('c{c:03}', 'urn:c{c:03}', 'f1', 'C.{c:03}', 'Statement {c}', 'active', 1, {TS}, {TS}, '{{}}')"
            )
        })
        .collect();
    let assocs: Vec<String> = (0..COMPETENCIES - 1)
        .filter(|c| c % 10 != 9)
        .map(|c| {
            format!(
                "('a{c:03}', 'urn:a{c:03}', 'f1', 'precedes', 'c{c:03}', 'urn:c{c:03}', 'c{n:03}', 'urn:c{n:03}', {TS})",
                n = c + 1
            )
        })
        .collect();
    let users: Vec<String> = (0..LEARNERS)
        .map(|u| format!("('u{u:04}', 'l{u}@a.test', 'Learner {u:04}', 'x', FALSE, {TS})"))
        .collect();
    let members: Vec<String> = (0..LEARNERS)
        .map(|u| format!("('o1', 'u{u:04}', 'learner', {TS})"))
        .collect();
    format!(
        "INSERT INTO organisations (id, slug, name, kind, created_at) VALUES ('o1', 'alpha', 'A', 'school', {TS});
         INSERT INTO users (id, email, name, password_hash, is_platform_admin, created_at)
           VALUES ('t1', 't@a.test', 'Teacher', 'x', FALSE, {TS}), {};
         INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ('o1', 't1', 'teacher', {TS}), {};
         INSERT INTO frameworks (id, uri, org_id, title, status, revision, last_changed, created_at, case_extra)
           VALUES ('f1', 'urn:f1', 'o1', 'F', 'active', 1, {TS}, {TS}, '{{}}');
         INSERT INTO competencies (id, uri, framework_id, code, statement, status, framework_revision, last_changed, created_at, case_extra)
           VALUES {};
         INSERT INTO associations (id, uri, framework_id, association_type, origin_id, origin_uri, destination_id, destination_uri, last_changed)
           VALUES {};",
        users.join(", "),
        members.join(", "),
        comps.join(", "),
        assocs.join(", "),
    )
}

fn review(outcome: &str) -> String {
    format!(
        r#"{{"event":"reviewed","rubric":{{"id":"r1","version":"1.0.0","digest":"sha256:00"}},"outcome":"{outcome}","levels":[{{"criterion":"a","level":"b"}}],"total_points":3,"borderline":false,"moderated":false,"reviewer":"reviewer:1"}}"#
    )
}

/// INSERT statements (a few thousand rows each) for every event, target date and decision.
fn activity_sql() -> (Vec<String>, usize) {
    let mut rows = Vec::new();
    let mut targets = Vec::new();
    let mut decisions = Vec::new();
    let base = 1_767_225_600i64; // 2026-01-01
    for u in 0..LEARNERS {
        let worked = 40 + (u * 7) % 60;
        for c in 0..worked {
            let mut seq = 0;
            let mut t = base + (u as i64) * 60 + (c as i64) * 86_400;
            let mut push = |state: &str, event: String| {
                seq += 1;
                t += 3600;
                let at = chrono::DateTime::from_timestamp(t, 0).expect("time");
                rows.push(format!(
                    "('u{u:04}', 'c{c:03}', {seq}, 'o1', '{}', '{state}', '{event}')",
                    at.to_rfc3339()
                ));
            };
            push("in_progress", r#"{"event":"started"}"#.into());
            if c + 1 == worked {
                continue; // started and left
            }
            let (attempts, last) = if (u + c) % 7 == 0 {
                (3, "not_yet")
            } else {
                (1 + (u + c) % 2, "mastered")
            };
            for a in 0..attempts {
                push(
                    "submitted",
                    format!(r#"{{"event":"submitted","submission":"s-{u}-{c}-{a}"}}"#),
                );
                let outcome = if a + 1 == attempts { last } else { "not_yet" };
                push(outcome, review(outcome));
            }
            if u % 4 == 0 && c % 5 == 0 {
                targets.push(format!(
                    "('u{u:04}', 'c{c:03}', 'o1', '2026-0{}-15', 't1', {TS})",
                    1 + c % 9
                ));
            }
            if u % 10 == 0 && (u + c) % 7 == 0 {
                decisions.push(format!(
                    "('u{u:04}', 'c{c:03}', 'attempts_without_mastery', 'o1', 'dismissed', 'r', 'Talked to the learner', 't1', '2026-12-01T00:00:00Z')"
                ));
            }
        }
    }
    let events = rows.len();
    let mut sql: Vec<String> = rows
        .chunks(5000)
        .map(|chunk| {
            format!(
                "INSERT INTO mastery_events (learner_id, competency_id, seq, org_id, at, state, event) VALUES {};",
                chunk.join(",\n")
            )
        })
        .collect();
    sql.push(format!(
        "INSERT INTO target_dates (learner_id, competency_id, org_id, target_date, set_by, set_at) VALUES {};",
        targets.join(", ")
    ));
    sql.push(format!(
        "INSERT INTO flag_decisions (learner_id, competency_id, kind, org_id, decision, reason, note, decided_by, decided_at) VALUES {};",
        decisions.join(", ")
    ));
    (sql, events)
}

#[tokio::main]
async fn main() {
    let runs = common::runs(30);
    let db = TestDb::new().await;
    let backend = db.store.backend();
    db.execute_raw(&base_sql()).await;
    let (sql, events) = activity_sql();
    for s in &sql {
        db.execute_raw(s).await;
    }
    db.execute_raw("ANALYZE").await;
    let now = chrono::DateTime::from_timestamp(1_767_225_600 + 330 * 86_400, 0).expect("now");

    // Warm-up, and a check of the aggregated cells against the folded records.
    let dash = db
        .store
        .teacher_dashboard("o1", "f1", None, None, now)
        .await
        .expect("dashboard");
    assert_eq!(dash.rows.len(), LEARNERS);
    assert_eq!(dash.competencies.len(), COMPETENCIES);
    for r in dash.rows.iter().step_by(97) {
        let record = db
            .store
            .learner_record("o1", &r.learner_id)
            .await
            .expect("record");
        for (k, c) in dash.competencies.iter().enumerate() {
            let cell = &r.cells[k];
            match record.competencies.get(&c.id) {
                None => assert_eq!(cell.state, "not_started"),
                Some(m) => {
                    assert_eq!(cell.state, m.state.as_str(), "{} {}", r.learner_id, c.id);
                    assert_eq!(cell.attempts as usize, m.attempts.len());
                    assert_eq!(cell.last_activity, m.last_activity);
                }
            }
        }
    }
    let flags: usize = dash.rows.iter().map(|r| r.flags.len()).sum();
    let flagged = dash.rows.iter().filter(|r| r.flagged).count();
    println!(
        "{backend:?}: {LEARNERS} learners × {COMPETENCIES} competencies, {events} events; \
         {flags} flags, {flagged} learners flagged"
    );

    let mut queries = Vec::with_capacity(runs);
    let mut assembly = Vec::with_capacity(runs);
    let mut whole = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let facts = db
            .store
            .teacher_facts("o1", "f1", None, None)
            .await
            .expect("facts");
        let read = start.elapsed();
        let mid = Instant::now();
        let dash = assemble(facts, now).expect("assemble");
        assembly.push(mid.elapsed());
        queries.push(read);
        whole.push(start.elapsed());
        assert_eq!(dash.rows.len(), LEARNERS);
    }
    println!(
        "{backend:?}: teacher dashboard, queries:  {}",
        common::summary(queries, 1)
    );
    println!(
        "{backend:?}: teacher dashboard, assembly: {}",
        common::summary(assembly, 1)
    );
    println!(
        "{backend:?}: teacher dashboard, whole:    {}",
        common::summary(whole, 1)
    );
}
