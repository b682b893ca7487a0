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
