//! The mastery record state machine and the fold over dated events.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use tessera_review::{
    Error, EventKind, EventName, LearnerRecord, LevelAchieved, MasteryEvent, MasteryRecord,
    MasteryState, Outcome, ReviewDecision, RubricRef, RubricVersion,
};

fn day(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0)
        .single()
        .expect("valid date")
        + TimeDelta::days(i64::from(d))
}

fn rubric_ref() -> RubricRef {
    RubricRef {
        id: "math-problem-solving".into(),
        version: RubricVersion {
            major: 1,
            minor: 0,
            patch: 0,
        },
        digest: "sha256:00".into(),
    }
}

fn decision(outcome: Outcome, level: &str) -> ReviewDecision {
    ReviewDecision {
        rubric: rubric_ref(),
        outcome,
        levels: vec![LevelAchieved {
            criterion: "strategy".into(),
            level: level.into(),
        }],
        total_points: 0,
        borderline: false,
        moderated: false,
        reviewer: "reviewer:r1".into(),
    }
}

fn ev(d: u32, kind: EventKind) -> MasteryEvent {
    MasteryEvent { at: day(d), kind }
}

fn submit(d: u32, id: &str) -> MasteryEvent {
    ev(
        d,
        EventKind::Submitted {
            submission: id.into(),
        },
    )
}

fn review(d: u32, outcome: Outcome) -> MasteryEvent {
    let level = if outcome == Outcome::Mastered {
        "proficient"
    } else {
        "developing"
    };
    ev(d, EventKind::Reviewed(decision(outcome, level)))
}

fn override_to(d: u32, to: Outcome, reason: &str) -> MasteryEvent {
    ev(
        d,
        EventKind::Overridden {
            to,
            reason: reason.into(),
            by: "teacher:t1".into(),
        },
    )
}

fn withdraw(d: u32, reason: &str) -> MasteryEvent {
    ev(
        d,
        EventKind::Withdrawn {
            reason: reason.into(),
            by: "teacher:t1".into(),
        },
    )
}

#[test]
fn three_attempts_to_mastery_give_dates_attempt_count_and_time_to_mastery() {
    let events = vec![
        ev(0, EventKind::Started),
        submit(3, "s1"),
        review(5, Outcome::NotYet),
        submit(20, "s2"),
        review(21, Outcome::NotYet),
        submit(40, "s3"),
        review(42, Outcome::Mastered),
    ];
    let r = MasteryRecord::fold("MP1", events).expect("valid history");
    assert_eq!(r.state, MasteryState::Mastered);
    assert_eq!(r.first_activity, Some(day(0)));
    assert_eq!(r.mastered_at, Some(day(42)));
    assert_eq!(r.attempts_to_mastery, Some(3));
    assert_eq!(r.time_to_mastery, Some(TimeDelta::days(42)));
    assert_eq!(r.rubric, Some(rubric_ref()));
    assert!(!r.by_override);
    assert_eq!(r.attempts.len(), 3);
    let a2 = &r.attempts[1];
    assert_eq!(
        (a2.number, a2.submitted_at, a2.reviewed_at),
        (2, day(20), Some(day(21)))
    );
    assert_eq!(a2.outcome(), Some(Outcome::NotYet));
    assert_eq!(
        a2.review.as_ref().map(|d| d.levels[0].level.as_str()),
        Some("developing")
    );
    assert_eq!(r.attempts[2].outcome(), Some(Outcome::Mastered));
}

#[test]
fn every_state_event_pair_outside_the_diagram_is_rejected_naming_from_and_to() {
    use MasteryState::*;
    // (event, allowed from, leads to) — the diagram in the module docs, written out independently.
    let table: Vec<(EventKind, Vec<MasteryState>, MasteryState)> = vec![
        (EventKind::Started, vec![NotStarted], InProgress),
        (
            EventKind::Submitted {
                submission: "s".into(),
            },
            vec![InProgress, NotYet],
            Submitted,
        ),
        (
            EventKind::Reviewed(decision(Outcome::Mastered, "p")),
            vec![Submitted],
            Mastered,
        ),
        (
            EventKind::Reviewed(decision(Outcome::NotYet, "d")),
            vec![Submitted],
            NotYet,
        ),
        (
            EventKind::Overridden {
                to: Outcome::Mastered,
                reason: "r".into(),
                by: "t".into(),
            },
            vec![Submitted, NotYet],
            Mastered,
        ),
        (
            EventKind::Overridden {
                to: Outcome::NotYet,
                reason: "r".into(),
                by: "t".into(),
            },
            vec![Submitted, Mastered],
            NotYet,
        ),
        (
            EventKind::Withdrawn {
                reason: "r".into(),
                by: "t".into(),
            },
            vec![Mastered],
            NotYet,
        ),
    ];
    let mut checked = 0;
    for (event, allowed, to) in &table {
        for from in [NotStarted, InProgress, Submitted, Mastered, NotYet] {
            let got = from.next(event, "C");
            if allowed.contains(&from) {
                assert_eq!(
                    got.expect("allowed transition"),
                    *to,
                    "{from} --{}-->",
                    event.name()
                );
            } else {
                let err = got.expect_err("disallowed transition");
                match &err {
                    Error::InvalidTransition {
                        from: f,
                        to: t,
                        event: e,
                        allowed_from,
                        competency,
                    } => {
                        assert_eq!((*f, *t, *e), (from, *to, event.name()));
                        assert_eq!(allowed_from, allowed);
                        assert_eq!(competency, "C");
                    }
                    other => panic!("wrong error {other}"),
                }
                let msg = err.to_string();
                assert!(msg.contains(&format!("from {from} to {to}")), "{msg}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 35);
}

#[test]
fn a_rejected_event_leaves_the_record_unchanged() {
    let mut r =
        MasteryRecord::fold("C", [ev(0, EventKind::Started), submit(1, "s1")]).expect("valid");
    let before = r.clone();
    let err = r.apply(submit(2, "s2")).expect_err("already submitted");
    assert!(matches!(
        err,
        Error::InvalidTransition {
            from: MasteryState::Submitted,
            to: MasteryState::Submitted,
            event: EventName::Submit,
            ..
        }
    ));
    assert_eq!(r, before);
}

#[test]
fn submitting_without_starting_is_rejected() {
    let err = MasteryRecord::fold("C", [submit(0, "s1")]).expect_err("not started");
    assert_eq!(
        err.to_string(),
        "competency `C`: cannot go from not_started to submitted by `submit` (allowed from: in_progress; not_yet)"
    );
}

#[test]
fn overrides_need_a_written_reason_and_are_marked() {
    let base = vec![
        ev(0, EventKind::Started),
        submit(1, "s1"),
        review(2, Outcome::NotYet),
    ];
    let mut r = MasteryRecord::fold("C", base).expect("valid");
    for blank in ["", "   \n"] {
        let err = r
            .apply(override_to(3, Outcome::Mastered, blank))
            .expect_err("no reason");
        assert!(matches!(
            err,
            Error::ReasonRequired {
                event: EventName::OverrideMastered,
                ..
            }
        ));
    }
    r.apply(override_to(
        3,
        Outcome::Mastered,
        "Oral defence showed full understanding of the strategy.",
    ))
    .expect("override with reason");
    assert_eq!(r.state, MasteryState::Mastered);
    assert!(r.by_override);
    assert_eq!(r.mastered_at, Some(day(3)));
    assert_eq!(r.attempts_to_mastery, Some(1));
    let o = r.attempts[0]
        .overridden
        .as_ref()
        .expect("attempt marked as overridden");
    assert_eq!(
        (o.event, o.to, o.attempt),
        (EventName::OverrideMastered, MasteryState::Mastered, Some(1))
    );
    assert_eq!(r.attempts[0].outcome(), Some(Outcome::Mastered));
    assert_eq!(
        r.attempts[0].review.as_ref().map(|d| d.outcome),
        Some(Outcome::NotYet),
        "the review itself is kept"
    );
}

#[test]
fn withdrawing_a_mastery_clears_the_mastery_date_and_a_later_mastery_counts_all_attempts() {
    let events = [
        ev(0, EventKind::Started),
        submit(1, "s1"),
        review(2, Outcome::Mastered),
        withdraw(10, "Submitted work was not the learner's own."),
        submit(30, "s2"),
        review(31, Outcome::Mastered),
    ];
    let mut r = MasteryRecord::fold("C", events[..4].to_vec()).expect("valid");
    assert_eq!(
        (r.state, r.mastered_at, r.attempts_to_mastery),
        (MasteryState::NotYet, None, None)
    );
    assert!(r.by_override);
    assert_eq!(r.overrides.len(), 1);
    for e in events[4..].iter().cloned() {
        r.apply(e).expect("valid");
    }
    assert_eq!(r.state, MasteryState::Mastered);
    assert_eq!(r.mastered_at, Some(day(31)));
    assert_eq!(r.attempts_to_mastery, Some(2));
    assert_eq!(r.time_to_mastery, Some(TimeDelta::days(31)));
    assert!(!r.by_override, "a fresh review decided the current outcome");
    assert_eq!(r.overrides.len(), 1, "the withdrawal stays in the history");
    let err = MasteryRecord::fold("C", [ev(0, EventKind::Started), withdraw(1, "reason")])
        .expect_err("nothing to withdraw");
    assert!(matches!(
        err,
        Error::InvalidTransition {
            from: MasteryState::InProgress,
            event: EventName::Withdraw,
            ..
        }
    ));
}

#[test]
fn a_teacher_can_set_not_yet_against_a_mastered_review() {
    let events = vec![
        ev(0, EventKind::Started),
        submit(1, "s1"),
        review(2, Outcome::Mastered),
        override_to(
            3,
            Outcome::NotYet,
            "Rubric applied too generously; evidence lacks justification.",
        ),
        submit(4, "s2"),
    ];
    let r = MasteryRecord::fold("C", events).expect("valid");
    assert_eq!(r.state, MasteryState::Submitted);
    assert_eq!(r.mastered_at, None);
    assert_eq!(r.attempts[0].outcome(), Some(Outcome::NotYet));
}

#[test]
fn events_out_of_time_order_are_rejected() {
    let err = MasteryRecord::fold("C", [ev(5, EventKind::Started), submit(4, "s1")])
        .expect_err("out of order");
    assert!(
        matches!(err, Error::EventOutOfOrder { at, previous, .. } if at == day(4) && previous == day(5))
    );
}

#[test]
fn a_learner_record_folds_interleaved_competencies() {
    let a = [
        ev(0, EventKind::Started),
        submit(1, "a1"),
        review(2, Outcome::Mastered),
    ];
    let b = [ev(1, EventKind::Started), submit(2, "b1")];
    let interleaved = vec![
        ("A", a[0].clone()),
        ("B", b[0].clone()),
        ("A", a[1].clone()),
        ("B", b[1].clone()),
        ("A", a[2].clone()),
    ];
    let rec = LearnerRecord::fold(interleaved).expect("valid");
    assert_eq!(rec.competencies.len(), 2);
    assert_eq!(rec.competencies["A"].state, MasteryState::Mastered);
    assert_eq!(rec.competencies["B"].state, MasteryState::Submitted);
    assert_eq!(rec.mastered().collect::<Vec<_>>(), vec![("A", day(2))]);
}

#[test]
fn a_second_review_of_the_same_attempt_is_rejected_so_there_is_no_double_outcome() {
    let mut r = MasteryRecord::fold(
        "C",
        [
            ev(0, EventKind::Started),
            submit(1, "s1"),
            review(2, Outcome::NotYet),
        ],
    )
    .expect("valid");
    let err = r
        .apply(review(2, Outcome::Mastered))
        .expect_err("already reviewed");
    assert!(matches!(
        err,
        Error::InvalidTransition {
            from: MasteryState::NotYet,
            to: MasteryState::Mastered,
            event: EventName::Review,
            ..
        }
    ));
    assert_eq!(r.attempts.len(), 1);
    assert_eq!(r.attempts[0].outcome(), Some(Outcome::NotYet));
}

#[test]
fn events_round_trip_through_json_as_the_store_keeps_them() {
    let events = vec![
        ev(0, EventKind::Started),
        submit(1, "s1"),
        review(2, Outcome::NotYet),
        override_to(3, Outcome::Mastered, "Observed in class."),
    ];
    let json = serde_json::to_string(&events).expect("serialise");
    assert!(json.contains(r#""event":"overridden""#), "{json}");
    let back: Vec<MasteryEvent> = serde_json::from_str(&json).expect("deserialise");
    assert_eq!(back, events);
    assert_eq!(
        MasteryRecord::fold("C", back).expect("valid"),
        MasteryRecord::fold("C", events).expect("valid")
    );
    let bad = json.replace(r#""version":"1.0.0""#, r#""version":"1.0""#);
    assert!(
        serde_json::from_str::<Vec<MasteryEvent>>(&bad).is_err(),
        "rubric versions are checked on the way in"
    );
}
