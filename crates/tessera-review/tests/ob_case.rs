//! The rubric ↔ OB 3.0 ResultDescription mapping and the CASE CFRubric import.

use std::path::Path;

use serde_json::{Value, json};
use tessera_review::{
    Borderline, CaseImport, Combine, CriterionScore, Error, Location, Outcome, Problem, Rubric, ob,
    rubric_from_cf_rubric,
};

const BASE: &str = "https://school.example/rubrics/";

fn shipped(name: &str) -> Rubric {
    Rubric::load(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../rubrics")
            .join(name),
    )
    .expect("shipped")
}

fn cf_rubric() -> Value {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/case/cf-rubric-persuasive.json"),
    )
    .expect("fixture");
    serde_json::from_str(&text).expect("json")
}

fn import_options() -> CaseImport {
    CaseImport {
        document: "cf-rubric-persuasive.json".into(),
        version: "1.0.0".into(),
        every_criterion_at_least: Some("meets".into()),
        min_total_points: None,
        combine: Combine::All,
        borderline: Borderline {
            within_levels: 1,
            within_points: None,
        },
        competencies: vec![],
    }
}

#[test]
fn each_criterion_maps_to_one_result_description_with_ordered_levels_and_required_level() {
    let r = shipped("math-problem-solving.toml");
    let rds = ob::result_descriptions(&r, BASE);
    let rds = rds.as_array().expect("array");
    assert_eq!(rds.len(), r.criteria().len());
    let reasoning = &rds[3];
    assert_eq!(
        reasoning["id"],
        "https://school.example/rubrics/math-problem-solving/1.0.0#reasoning"
    );
    assert_eq!(reasoning["type"], json!(["ResultDescription"]));
    assert_eq!(reasoning["name"], "Reasoning and Justification");
    assert_eq!(reasoning["resultType"], "RubricCriterionLevel");
    assert_eq!(
        reasoning["allowedValue"],
        json!(["Novice", "Developing", "Proficient", "Expert"])
    );
    assert_eq!(
        reasoning["requiredLevel"],
        "https://school.example/rubrics/math-problem-solving/1.0.0#reasoning.proficient"
    );
    let levels = reasoning["rubricCriterionLevel"]
        .as_array()
        .expect("levels");
    assert_eq!(levels.len(), 4);
    assert_eq!(levels[0]["type"], json!(["RubricCriterionLevel"]));
    assert_eq!(levels[0]["name"], "Novice");
    assert_eq!(levels[0]["points"], "1", "OB types points as a string");
    assert_eq!(levels[3]["points"], "4");
    assert!(
        levels[2]["description"]
            .as_str()
            .is_some_and(|d| d.contains("convince a classmate"))
    );
    // requiredLevel names one of the listed levels.
    assert!(levels.iter().any(|l| l["id"] == reasoning["requiredLevel"]));
    // Criteria without their own required level get the rubric-wide floor.
    assert_eq!(
        rds[0]["requiredLevel"],
        "https://school.example/rubrics/math-problem-solving/1.0.0#understanding.developing"
    );
    // No alignment for hand-written rubrics.
    assert!(rds[0].get("alignment").is_none());
}

#[test]
fn a_scored_review_maps_to_results_pointing_at_those_descriptions() {
    let r = shipped("science-lab-report.toml");
    let scored = r
        .score(&[
            CriterionScore::new("question-hypothesis", "meeting"),
            CriterionScore::new("design", "exceeding"),
            CriterionScore::new("data", "meeting"),
            CriterionScore::new("analysis", "meeting"),
            CriterionScore::new("conclusion", "approaching"),
        ])
        .expect("valid");
    let results = ob::results(&r, &scored, BASE);
    let rds = ob::result_descriptions(&r, BASE);
    let results = results.as_array().expect("array");
    assert_eq!(results.len(), 5);
    for (res, rd) in results.iter().zip(rds.as_array().expect("array")) {
        assert_eq!(res["type"], json!(["Result"]));
        assert_eq!(res["resultDescription"], rd["id"]);
        let achieved = &res["achievedLevel"];
        assert!(
            rd["rubricCriterionLevel"]
                .as_array()
                .expect("levels")
                .iter()
                .any(|l| &l["id"] == achieved)
        );
    }
    assert_eq!(
        results[1]["achievedLevel"],
        "https://school.example/rubrics/science-lab-report/1.0.0#design.exceeding"
    );
}

#[test]
fn a_case_cf_rubric_imports_with_levels_ordered_lowest_first_and_competencies_from_cf_items() {
    let cf = cf_rubric();
    let r = rubric_from_cf_rubric(&cf, &import_options()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.id(), cf["identifier"].as_str().expect("id"));
    assert_eq!(r.title(), "Persuasive Essay (CASE)");
    // Criteria ordered by CASE `position`: Claim (1) before Evidence (2).
    let names: Vec<&str> = r.criteria().iter().map(|c| c.name()).collect();
    assert_eq!(names, ["Claim", "Evidence"]);
    let claim = &r.criteria()[0];
    assert_eq!(claim.id(), "0238bbcb-a473-57c8-9dbd-d8582d971167");
    let ids: Vec<&str> = claim.levels().iter().map(|l| l.id()).collect();
    assert_eq!(ids, ["beginning", "approaches", "meets", "exceeds"]);
    assert_eq!(claim.levels()[0].points(), 1);
    assert_eq!(r.criteria()[1].weight(), 2);
    assert_eq!(r.max_points(), 4 + 8);
    assert_eq!(r.competencies().len(), 2);
    assert!(r.assesses("01197525-3845-5482-a017-7b003b1b7189"));
    // It scores and maps to OB like any rubric, with CASE alignments.
    let s = r
        .score(&[
            CriterionScore::new(claim.id(), "meets"),
            CriterionScore::new(r.criteria()[1].id(), "exceeds"),
        ])
        .expect("valid");
    assert_eq!(s.outcome, Outcome::Mastered);
    let rds = ob::result_descriptions(&r, BASE);
    let al = &rds[0]["alignment"][0];
    assert_eq!(al["targetType"], "CFRubricCriterion");
    assert_eq!(al["targetUrl"], cf["CFRubricCriteria"][1]["uri"]);
    assert_eq!(
        rds[0]["rubricCriterionLevel"][0]["alignment"][0]["targetType"],
        "CFRubricCriterionLevel"
    );
    let rubric_al = ob::rubric_alignment(&r).expect("imported from CASE");
    assert_eq!(rubric_al["targetType"], "CFRubric");
    assert_eq!(rubric_al["targetCode"], cf["identifier"]);
    assert!(ob::rubric_alignment(&shipped("science-lab-report.toml")).is_none());
    // And it has a canonical TOML form that reloads identically.
    let again =
        Rubric::from_toml_str(&r.to_toml(), "imported.toml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again, r);
}

#[test]
fn case_problems_are_located_by_json_pointer() {
    let mut cf = cf_rubric();
    cf["CFRubricCriteria"][0]["CFRubricCriterionLevels"][2]["score"] = json!(2.5);
    cf["CFRubricCriteria"][1]["weight"] = json!(0.5);
    let Err(Error::InvalidRubric(d)) = rubric_from_cf_rubric(&cf, &import_options()) else {
        panic!("must fail")
    };
    let got: Vec<String> = d.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "cf-rubric-persuasive.json#/CFRubricCriteria/0/CFRubricCriterionLevels/2/score: `score` = 2.5 is out of range (a whole number)",
            "cf-rubric-persuasive.json#/CFRubricCriteria/1/weight: `weight` = 0.5 is out of range (a whole number)",
        ]
    );
    let mut opts = import_options();
    opts.every_criterion_at_least = Some("proficient".into());
    opts.version = "1".into();
    let Err(Error::InvalidRubric(d)) = rubric_from_cf_rubric(&cf_rubric(), &opts) else {
        panic!("must fail")
    };
    assert!(
        d.iter()
            .any(|x| x.problem == Problem::BadVersion { value: "1".into() }
                && x.location
                    == Location::Json {
                        document: "import options".into(),
                        pointer: "/version".into()
                    })
    );
    assert!(d.iter().any(
        |x| matches!(&x.problem, Problem::UnknownLevel { level, .. } if level == "proficient")
    ));
    let mut cf = cf_rubric();
    cf["CFRubricCriteria"][0]
        .as_object_mut()
        .expect("object")
        .remove("CFRubricCriterionLevels");
    let Err(Error::InvalidRubric(d)) = rubric_from_cf_rubric(&cf, &import_options()) else {
        panic!("must fail")
    };
    assert_eq!(
        d.0[0].to_string(),
        "cf-rubric-persuasive.json#/CFRubricCriteria/0: missing field `CFRubricCriterionLevels` in /CFRubricCriteria/0"
    );
    assert!(rubric_from_cf_rubric(&json!([1, 2]), &import_options()).is_err());
}

#[test]
fn json_locations_order_array_indices_numerically() {
    let at = |p: &str| Location::Json {
        document: "d".into(),
        pointer: p.into(),
    };
    assert!(at("/CFRubricCriteria/2/weight") < at("/CFRubricCriteria/10/weight"));
    assert!(at("/CFRubricCriteria/2") < at("/CFRubricCriteria/2/weight"));
    let src = |line: usize, column: usize| Location::Source {
        file: "f".into(),
        line,
        column,
    };
    assert!(src(2, 30) < src(10, 1));
}
