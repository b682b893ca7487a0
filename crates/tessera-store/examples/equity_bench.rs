//! Times the equity audit (issue 7) for 1,000 learners × 100 competencies on the backend that
//! `TESSERA_TEST_BACKEND` names (a fresh test database).
//!
//! The fixture: organisation `o1`, framework `f1` with 100 competencies, 1,000 learners with a
//! subgroup attribute `lang` (`en`, `fr`, `de`, `es` for most; `it` for 7 learners, a group the
//! audit must hide; every 11th learner gave no answer). Learner `i` has worked on the first 40–99
//! competencies, each submitted and reviewed: mastered after 1–20 days, every seventh not yet.
//! About 140,000 mastery events. The generator's own count of each group's records is checked
//! against the report's rates before timing.
//!
//! Prints the median, 95th percentile and maximum of RUNS timed calls (after one warm-up) of the
//! SQL reduction alone (`Store::equity_facts`) and of the whole report (`Store::equity_report`)
//! for the framework (100 sections) and for all frameworks.
//!
//! `cargo run --release -p tessera-store --features testing --example equity_bench [RUNS]`
//! (`TESSERA_TEST_BACKEND=postgres TEST_DATABASE_URL=postgres://… ` for PostgreSQL)

mod common;

use std::collections::HashMap;
use std::time::Instant;

use tessera_store::subgroups::AttributeDefinition;
use tessera_store::testing::TestDb;

const TS: &str = "'2026-01-01T00:00:00Z'";
const LEARNERS: usize = 1000;
const COMPETENCIES: usize = 100;

fn answer(u: usize) -> Option<&'static str> {
    if u.is_multiple_of(11) {
        None
    } else if u < 8 {
        Some("it")
    } else {
        Some(["en", "fr", "de", "es"][u % 4])
    }
}

fn base_sql() -> String {
    let comps: Vec<String> = (0..COMPETENCIES)
        .map(|c| {
            format!(
                "('c{c:03}', 'urn:c{c:03}', 'f1', 'C.{c:03}', 'Statement {c}', 'active', 1, {TS}, {TS}, '{{}}')"
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
         INSERT INTO users (id, email, name, password_hash, is_platform_admin, created_at) VALUES {};
         INSERT INTO memberships (org_id, user_id, role, created_at) VALUES {};
         INSERT INTO frameworks (id, uri, org_id, title, status, revision, last_changed, created_at, case_extra)
           VALUES ('f1', 'urn:f1', 'o1', 'F', 'active', 1, {TS}, {TS}, '{{}}');
         INSERT INTO competencies (id, uri, framework_id, code, statement, status, framework_revision, last_changed, created_at, case_extra)
           VALUES {};",
        users.join(", "),
        members.join(", "),
        comps.join(", "),
    )
}

fn review(outcome: &str) -> String {
    format!(
        r#"{{"event":"reviewed","rubric":{{"id":"r1","version":"1.0.0","digest":"sha256:00"}},"outcome":"{outcome}","levels":[{{"criterion":"a","level":"b"}}],"total_points":3,"borderline":false,"moderated":false,"reviewer":"reviewer:1"}}"#
    )
}

/// INSERT statements for every event and answer; per group, (started, mastered) records.
fn activity_sql() -> (Vec<String>, usize, HashMap<&'static str, (u64, u64)>) {
    let mut rows = Vec::new();
    let mut answers = Vec::new();
    let mut expected: HashMap<&'static str, (u64, u64)> = HashMap::new();
    let base = 1_767_225_600i64; // 2026-01-01
    for u in 0..LEARNERS {
        let group = answer(u);
        if let Some(v) = group {
            answers.push(format!("('u{u:04}', 'o1', 'lang', '{v}', {TS})"));
        }
        let worked = 40 + (u * 7) % 60;
        for c in 0..worked {
            let t = base + (u as i64) * 60 + (c as i64) * 86_400;
            let mastered = !(u + c).is_multiple_of(7);
            let decided = t + 86_400 * (1 + ((u + c) % 20) as i64);
            let at = |t| {
                chrono::DateTime::from_timestamp(t, 0)
                    .expect("time")
                    .to_rfc3339()
            };
            rows.push(format!(
                "('u{u:04}', 'c{c:03}', 1, 'o1', '{}', 'submitted', '{{\"event\":\"submitted\",\"submission\":\"s-{u}-{c}\"}}')",
                at(t)
            ));
            let outcome = if mastered { "mastered" } else { "not_yet" };
            rows.push(format!(
                "('u{u:04}', 'c{c:03}', 2, 'o1', '{}', '{outcome}', '{}')",
                at(decided),
                review(outcome)
            ));
            let e = expected.entry(group.unwrap_or("not stated")).or_default();
            e.0 += 1;
            e.1 += u64::from(mastered);
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
        "INSERT INTO learner_subgroups (user_id, org_id, attribute, value, consented_at) VALUES {};",
        answers.join(", ")
    ));
    (sql, events, expected)
}

#[tokio::main]
async fn main() {
    let runs = common::runs(20);
    let db = TestDb::new().await;
    let backend = db.store.backend();
    db.execute_raw(&base_sql()).await;
    let def = AttributeDefinition::parse("lang", "Home language", ["en", "fr", "de", "es", "it"])
        .expect("definition");
    let now = chrono::DateTime::from_timestamp(1_767_225_600, 0).expect("now");
    db.store
        .put_subgroup_attribute("o1", &def, now)
        .await
        .expect("attribute");
    let (sql, events, expected) = activity_sql();
    for s in &sql {
        db.execute_raw(s).await;
    }
    db.execute_raw("ANALYZE").await;

    // Warm-up and check: the report's rates are the generator's, and `it` (7 learners) is hidden.
    let report = db
        .store
        .equity_report("o1", "lang", Some("f1"))
        .await
        .expect("report");
    // Learners work on at most the first 99 competencies: 99 competency sections and the whole.
    assert_eq!(report.sections.len(), 1 + 99);
    let all = &report.sections[0];
    assert_eq!(all.total.learners, Some(LEARNERS as u32));
    for cell in &all.cells {
        if cell.group == "it" {
            assert!(cell.suppressed.is_some() && cell.learners.is_none());
            continue;
        }
        let Some(rate) = cell.mastery_rate_percent else {
            continue; // hidden to protect `it`
        };
        let (started, mastered) = expected[cell.group.as_str()];
        let want = (mastered as f64 * 1000.0 / started as f64).round() / 10.0;
        assert_eq!(rate, want, "{}", cell.group);
    }

    let mut facts = Vec::with_capacity(runs);
    let mut framework = Vec::with_capacity(runs);
    let mut everything = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let f = db
            .store
            .equity_facts("o1", "lang", Some("f1"))
            .await
            .expect("facts");
        facts.push(t.elapsed());
        std::hint::black_box(f);
        let t = Instant::now();
        let r = db
            .store
            .equity_report("o1", "lang", Some("f1"))
            .await
            .expect("report");
        framework.push(t.elapsed());
        std::hint::black_box(r);
        let t = Instant::now();
        let r = db
            .store
            .equity_report("o1", "lang", None)
            .await
            .expect("report");
        everything.push(t.elapsed());
        std::hint::black_box(r);
    }
    println!(
        "{} · {LEARNERS} learners × {COMPETENCIES} competencies, {events} events",
        backend.as_str()
    );
    println!(
        "SQL reduction (equity_facts):          {}",
        common::summary(facts, 1)
    );
    println!(
        "report, one framework (100 sections):  {}",
        common::summary(framework, 1)
    );
    println!(
        "report, all frameworks:                {}",
        common::summary(everything, 1)
    );
}
