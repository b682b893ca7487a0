//! Benchmarks: folding a learner's whole mastery record (300 competencies, 1,000 attempts) and
//! scoring one review. Run: `cargo bench -p tessera-review --bench review`.

use std::hint::black_box;
use std::path::Path;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use tessera_review::{
    CriterionScore, EventKind, LearnerRecord, LevelAchieved, MasteryEvent, Outcome, ReviewDecision,
    Rubric,
};

fn rubric() -> Rubric {
    Rubric::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rubrics/math-problem-solving.toml"),
    )
    .expect("shipped rubric")
}

/// 300 competencies, 1,000 attempts: 100 competencies with 4 attempts (3 not yet, then mastered)
/// and 200 with 3 attempts (the last one still not yet on half of them). Each review keeps five
/// criterion levels, as the math rubric has.
fn learner_events(r: &Rubric) -> Vec<(String, MasteryEvent)> {
    let start: DateTime<Utc> = Utc
        .with_ymd_and_hms(2025, 9, 1, 8, 0, 0)
        .single()
        .expect("date");
    let levels: Vec<LevelAchieved> = r
        .criteria()
        .iter()
        .map(|c| LevelAchieved {
            criterion: c.id().to_owned(),
            level: "proficient".into(),
        })
        .collect();
    let mut out = Vec::new();
    let mut attempts = 0;
    for c in 0..300u32 {
        let competency = format!("CCSS.MATH.{c:04}");
        let n = if c < 100 { 4 } else { 3 };
        let mut t = start + TimeDelta::hours(i64::from(c));
        out.push((
            competency.clone(),
            MasteryEvent {
                at: t,
                kind: EventKind::Started,
            },
        ));
        for a in 0..n {
            attempts += 1;
            t += TimeDelta::days(3);
            out.push((
                competency.clone(),
                MasteryEvent {
                    at: t,
                    kind: EventKind::Submitted {
                        submission: format!("sub-{c}-{a}"),
                    },
                },
            ));
            t += TimeDelta::days(1);
            let mastered = a == n - 1 && (c < 100 || c % 2 == 0);
            let outcome = if mastered {
                Outcome::Mastered
            } else {
                Outcome::NotYet
            };
            let decision = ReviewDecision {
                rubric: r.reference(),
                outcome,
                levels: levels.clone(),
                total_points: 18,
                borderline: false,
                moderated: false,
                reviewer: "reviewer:7".into(),
            };
            out.push((
                competency.clone(),
                MasteryEvent {
                    at: t,
                    kind: EventKind::Reviewed(decision),
                },
            ));
        }
    }
    assert_eq!(attempts, 1000);
    out
}

fn bench(c: &mut Criterion) {
    let r = rubric();
    let events = learner_events(&r);
    // The events are cloned in the (untimed) setup: the service decodes owned events from rows,
    // and the fold moves them into the record.
    c.bench_function(
        "fold learner record (300 competencies, 1000 attempts)",
        |b| {
            b.iter_batched(
                || events.clone(),
                |events| black_box(LearnerRecord::fold(events).expect("valid")),
                BatchSize::LargeInput,
            )
        },
    );
    c.bench_function(
        "clone the events (stand-in for decoding them from rows)",
        |b| b.iter(|| black_box(events.clone())),
    );
    let scores: Vec<CriterionScore> = [
        "understanding",
        "strategy",
        "accuracy",
        "reasoning",
        "communication",
    ]
    .iter()
    .map(|c| CriterionScore::new(*c, "proficient"))
    .collect();
    c.bench_function("score one review (5 criteria, borderline check)", |b| {
        b.iter(|| black_box(r.score(black_box(&scores)).expect("valid")))
    });
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rubrics/math-problem-solving.toml"),
    )
    .expect("read");
    c.bench_function("parse and validate a rubric file", |b| {
        b.iter(|| black_box(Rubric::from_toml_str(black_box(&text), "m.toml").expect("valid")))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
