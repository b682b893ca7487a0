//! Mastery-rule edge cases and review validation, on the shipped rubrics and small inline ones.

use std::path::Path;

use tessera_review::{CriterionScore, Error, Outcome, ReviewProblem, Rubric};

fn shipped(name: &str) -> Rubric {
    Rubric::load(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../rubrics")
            .join(name),
    )
    .expect("shipped rubric")
}

fn scores(pairs: &[(&str, &str)]) -> Vec<CriterionScore> {
    pairs
        .iter()
        .map(|(c, l)| CriterionScore::new(*c, *l))
        .collect()
}

fn math(levels: [&str; 5]) -> Vec<CriterionScore> {
    let ids = [
        "understanding",
        "strategy",
        "accuracy",
        "reasoning",
        "communication",
    ];
    ids.iter()
        .zip(levels)
        .map(|(c, l)| CriterionScore::new(*c, l))
        .collect()
}

#[test]
fn exactly_on_the_points_threshold_is_mastered_and_borderline() {
    let r = shipped("math-problem-solving.toml");
    // 3 + 3 + 3 + 3×2 + 3 = 18 = min_total_points.
    let s = r.score(&math(["proficient"; 5])).expect("valid review");
    assert_eq!(s.total_points, 18);
    assert_eq!(s.max_points, 24);
    assert_eq!(s.outcome, Outcome::Mastered);
    assert_eq!(s.points_met, Some(true));
    assert_eq!(s.levels_met, Some(true));
    assert!(s.borderline);
}

#[test]
fn one_point_below_the_threshold_is_not_yet_even_if_every_level_condition_holds() {
    let r = shipped("math-problem-solving.toml");
    let s = r
        .score(&math([
            "developing",
            "proficient",
            "proficient",
            "proficient",
            "proficient",
        ]))
        .expect("valid");
    assert_eq!(s.total_points, 17);
    assert_eq!(s.levels_met, Some(true));
    assert_eq!(s.points_met, Some(false));
    assert_eq!(s.outcome, Outcome::NotYet);
    assert!(s.borderline);
}

#[test]
fn a_criterion_below_its_required_level_blocks_mastery_despite_a_high_total() {
    let r = shipped("math-problem-solving.toml");
    let s = r
        .score(&math([
            "expert",
            "developing",
            "expert",
            "expert",
            "expert",
        ]))
        .expect("valid");
    assert_eq!(s.total_points, 22);
    assert_eq!(s.points_met, Some(true));
    assert_eq!(s.levels_met, Some(false));
    assert_eq!(s.outcome, Outcome::NotYet);
    let strategy = s
        .criteria
        .iter()
        .find(|c| c.criterion == "strategy")
        .expect("strategy");
    assert_eq!(strategy.required_level.as_deref(), Some("proficient"));
    assert_eq!(strategy.meets_required, Some(false));
    // One level up on strategy would flip it.
    assert!(s.borderline);
}

#[test]
fn the_rubric_wide_floor_applies_to_criteria_without_their_own_required_level() {
    let r = shipped("math-problem-solving.toml");
    let s = r
        .score(&math(["expert", "expert", "expert", "expert", "novice"]))
        .expect("valid");
    assert_eq!(s.total_points, 21);
    assert_eq!(s.outcome, Outcome::NotYet);
    let comm = s
        .criteria
        .iter()
        .find(|c| c.criterion == "communication")
        .expect("communication");
    assert_eq!(comm.required_level.as_deref(), Some("developing"));
}

#[test]
fn weights_multiply_points_and_a_clear_mastery_is_not_borderline() {
    let r = shipped("math-problem-solving.toml");
    let s = r.score(&math(["expert"; 5])).expect("valid");
    assert_eq!(s.total_points, 24);
    let reasoning = s
        .criteria
        .iter()
        .find(|c| c.criterion == "reasoning")
        .expect("reasoning");
    assert_eq!(reasoning.points, 8);
    assert_eq!(s.outcome, Outcome::Mastered);
    assert!(!s.borderline);
}

#[test]
fn a_per_criterion_required_level_can_be_lower_than_the_rubric_floor() {
    let r = shipped("argumentative-writing.toml");
    let mut review = scores(&[
        ("claim", "proficient"),
        ("evidence", "exemplary"),
        ("reasoning", "proficient"),
        ("counterclaim", "proficient"),
        ("organization", "exemplary"),
        ("conventions", "developing"),
    ]);
    let s = r.score(&review).expect("valid");
    assert_eq!(s.outcome, Outcome::Mastered);
    assert!(s.borderline, "claim one level down would flip it");
    review[5].level = "beginning".into();
    assert_eq!(r.score(&review).expect("valid").outcome, Outcome::NotYet);
}

const ANY_RUBRIC: &str = r#"
id = "any"
version = "1.0.0"
title = "Either condition"
competencies = ["C.1"]

[mastery]
combine = "any"
every_criterion_at_least = "good"
min_total_points = 5

[mastery.borderline]
within_levels = 0

[[criteria]]
id = "a"
name = "A"
[[criteria.levels]]
id = "weak"
name = "Weak"
points = 0
[[criteria.levels]]
id = "good"
name = "Good"
points = 1
[[criteria.levels]]
id = "great"
name = "Great"
points = 5

[[criteria]]
id = "b"
name = "B"
[[criteria.levels]]
id = "weak"
name = "Weak"
points = 0
[[criteria.levels]]
id = "good"
name = "Good"
points = 1
[[criteria.levels]]
id = "great"
name = "Great"
points = 5
"#;

#[test]
fn combine_any_masters_on_either_condition_and_within_levels_zero_disables_borderline() {
    let r = Rubric::from_toml_str(ANY_RUBRIC, "any.toml").expect("valid");
    // Levels hold (good, good) with only 2 points.
    let s = r
        .score(&scores(&[("a", "good"), ("b", "good")]))
        .expect("valid");
    assert_eq!(
        (s.levels_met, s.points_met, s.outcome),
        (Some(true), Some(false), Outcome::Mastered)
    );
    // Points hold (5 + 0 = 5) while the level condition fails.
    let s = r
        .score(&scores(&[("a", "great"), ("b", "weak")]))
        .expect("valid");
    assert_eq!(
        (s.levels_met, s.points_met, s.outcome),
        (Some(false), Some(true), Outcome::Mastered)
    );
    // Neither holds.
    let s = r
        .score(&scores(&[("a", "good"), ("b", "weak")]))
        .expect("valid");
    assert_eq!(
        (s.levels_met, s.points_met, s.outcome),
        (Some(false), Some(false), Outcome::NotYet)
    );
    assert!(!s.borderline, "within_levels = 0 and no within_points");
    let s = r
        .score(&scores(&[("a", "great"), ("b", "great")]))
        .expect("valid");
    assert_eq!(s.outcome, Outcome::Mastered);
}

#[test]
fn a_level_not_in_the_rubric_a_missing_an_unknown_and_a_twice_rated_criterion_are_all_reported() {
    let r = shipped("science-lab-report.toml");
    let err = r
        .score(&scores(&[
            ("question-hypothesis", "meeting"),
            ("design", "excellent"),
            ("data", "meeting"),
            ("data", "exceeding"),
            ("presentation", "meeting"),
        ]))
        .expect_err("invalid review");
    let Error::InvalidReview { rubric, problems } = &err else {
        panic!("wrong error {err}")
    };
    assert_eq!(rubric.id, "science-lab-report");
    assert_eq!(
        problems,
        &vec![
            ReviewProblem::UnknownLevel {
                criterion: "design".into(),
                level: "excellent".into(),
                allowed: vec![
                    "emerging".into(),
                    "approaching".into(),
                    "meeting".into(),
                    "exceeding".into()
                ],
            },
            ReviewProblem::DuplicateCriterion {
                criterion: "data".into()
            },
            ReviewProblem::UnknownCriterion {
                criterion: "presentation".into()
            },
            ReviewProblem::MissingCriterion {
                criterion: "analysis".into()
            },
            ReviewProblem::MissingCriterion {
                criterion: "conclusion".into()
            },
        ]
    );
    let msg = err.to_string();
    assert!(
        msg.contains("level `excellent` is not a level of criterion `design`"),
        "{msg}"
    );
}

#[test]
fn a_rubric_for_another_competency_is_refused() {
    let r = shipped("science-lab-report.toml");
    let review = scores(&[
        ("question-hypothesis", "meeting"),
        ("design", "meeting"),
        ("data", "meeting"),
        ("analysis", "meeting"),
        ("conclusion", "meeting"),
    ]);
    let err = r
        .score_for("CCSS.ELA-LITERACY.W.9-10.1", &review)
        .expect_err("wrong competency");
    assert!(
        matches!(err, Error::CompetencyNotAssessed { ref competency, .. } if competency == "CCSS.ELA-LITERACY.W.9-10.1")
    );
    let ok = r
        .score_for("NGSS.SEP.4", &review)
        .expect("assessed competency");
    assert_eq!(ok.total_points, 18);
    assert_eq!(ok.outcome, Outcome::Mastered);
}

#[test]
fn comments_are_kept_per_criterion() {
    let r = shipped("science-lab-report.toml");
    let mut review = scores(&[
        ("question-hypothesis", "meeting"),
        ("design", "approaching"),
        ("data", "meeting"),
        ("analysis", "meeting"),
        ("conclusion", "meeting"),
    ]);
    review[1].comment =
        Some("Only one trial per temperature: repeat each at least three times.".into());
    let s = r.score(&review).expect("valid");
    assert_eq!(
        s.criteria[1].comment.as_deref(),
        Some("Only one trial per temperature: repeat each at least three times.")
    );
    assert_eq!(s.total_points, 17);
    assert_eq!(s.outcome, Outcome::NotYet);
}

mod moderation {
    use super::*;
    use tessera_review::{
        ModerationPolicy, Reconciliation, SecondReview, agreement_by_pair, double_ratings,
        reconcile, second_review,
    };

    #[test]
    fn borderline_reviews_always_get_a_second_reviewer_and_others_by_sample() {
        let r = shipped("math-problem-solving.toml");
        let borderline = r.score(&math(["proficient"; 5])).expect("valid");
        let clear = r.score(&math(["expert"; 5])).expect("valid");
        let none = ModerationPolicy {
            sample_per_mille: 0,
        };
        let tenth = ModerationPolicy {
            sample_per_mille: 100,
        };
        assert_eq!(
            second_review(none, &borderline, 999),
            SecondReview::Borderline
        );
        assert_eq!(second_review(none, &clear, 0), SecondReview::NotRequired);
        assert_eq!(second_review(tenth, &clear, 99), SecondReview::Sampled);
        assert_eq!(second_review(tenth, &clear, 100), SecondReview::NotRequired);
        let all = ModerationPolicy {
            sample_per_mille: 1000,
        };
        assert_eq!(second_review(all, &clear, 999), SecondReview::Sampled);
    }

    #[test]
    fn two_reviews_agree_on_the_outcome_or_go_to_a_moderator() {
        let r = shipped("math-problem-solving.toml");
        let a = r.score(&math(["proficient"; 5])).expect("valid");
        let b = r
            .score(&math([
                "expert",
                "proficient",
                "proficient",
                "proficient",
                "developing",
            ]))
            .expect("valid");
        let c = r
            .score(&math([
                "developing",
                "proficient",
                "proficient",
                "proficient",
                "proficient",
            ]))
            .expect("valid");
        assert_eq!(
            reconcile(&a, &b).expect("same rubric"),
            Reconciliation::Agreed {
                outcome: Outcome::Mastered
            }
        );
        assert_eq!(
            reconcile(&a, &c).expect("same rubric"),
            Reconciliation::NeedsModerator {
                first: Outcome::Mastered,
                second: Outcome::NotYet
            }
        );
        let other = shipped("science-lab-report.toml")
            .score(&scores(&[
                ("question-hypothesis", "meeting"),
                ("design", "meeting"),
                ("data", "meeting"),
                ("analysis", "meeting"),
                ("conclusion", "meeting"),
            ]))
            .expect("valid");
        assert!(matches!(
            reconcile(&a, &other),
            Err(Error::RubricMismatch { .. })
        ));
        // Both reviews feed agreement statistics.
        let ratings = double_ratings(&a, "rev:1", &b, "rev:2");
        assert_eq!(ratings.len(), 5);
        let pairs = agreement_by_pair(&r, &ratings).expect("valid");
        assert_eq!(pairs[0].agreement.exact, Some(3.0 / 5.0));
    }
}
