//! Rubric versions are immutable: the content digest, version comparison and publishing rules.

use std::path::Path;

use tessera_review::{
    Error, Publish, Rubric, RubricChange, RubricVersion, VersionRelation, check_new_version,
};

fn source(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../rubrics")
            .join(name),
    )
    .expect("shipped")
}

fn parse(text: &str) -> Rubric {
    Rubric::from_toml_str(text, "test.toml").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn comments_whitespace_key_order_and_spelled_out_defaults_do_not_change_the_digest() {
    let text = source("math-problem-solving.toml");
    let a = parse(&text);
    // Strip comments and blank lines, move `version` after `title`, spell out weight = 1 and combine.
    let mut b_text: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    b_text = b_text.replacen("version = \"1.0.0\"\n", "", 1).replacen(
        "title = \"Mathematical Problem Solving\"\n",
        "title = \"Mathematical Problem Solving\"\nversion = \"1.0.0\"\n",
        1,
    );
    b_text = b_text.replacen(
        "name = \"Understanding the Problem\"\n",
        "name = \"Understanding the Problem\"\nweight = 1\n",
        1,
    );
    let b = parse(&b_text);
    assert_eq!(a.digest(), b.digest());
    assert_eq!(
        a.reference().relation_to(&b.reference()),
        VersionRelation::Identical
    );
    assert!(a.digest().to_string().starts_with("sha256:"));
    assert_eq!(a.digest().to_string().len(), "sha256:".len() + 64);
}

#[test]
fn an_edit_that_keeps_the_version_is_caught_and_refused() {
    let text = source("science-lab-report.toml");
    let stored = parse(&text);
    let edited = parse(&text.replacen("min_total_points = 18", "min_total_points = 17", 1));
    assert_ne!(stored.digest(), edited.digest());
    assert_eq!(
        stored.reference().relation_to(&edited.reference()),
        VersionRelation::ContentChangedWithoutNewVersion
    );
    let err =
        check_new_version(&[stored.reference()], &edited.reference()).expect_err("reused version");
    assert!(matches!(err, Error::VersionReused { ref version, .. } if version == "1.0.0"));
    assert!(
        err.to_string()
            .contains("publish the edit as a new version")
    );
    // A pure descriptor rewording changes the digest too.
    let reworded = parse(&text.replacen(
        "Restates data without identifying a pattern.",
        "Repeats the data; no pattern.",
        1,
    ));
    assert_ne!(stored.digest(), reworded.digest());
}

#[test]
fn publishing_rules_accept_identical_and_newer_versions_only() {
    let text = source("science-lab-report.toml");
    let v1 = parse(&text);
    let v2 = parse(
        &text
            .replacen("version = \"1.0.0\"", "version = \"1.1.0\"", 1)
            .replacen("min_total_points = 18", "min_total_points = 17", 1),
    );
    let other = parse(&source("argumentative-writing.toml"));
    assert_eq!(
        check_new_version(&[], &v1.reference()).expect("first"),
        Publish::NewVersion
    );
    assert_eq!(
        check_new_version(&[v1.reference()], &v1.reference()).expect("same"),
        Publish::AlreadyStored
    );
    assert_eq!(
        check_new_version(&[v1.reference(), other.reference()], &v2.reference()).expect("newer"),
        Publish::NewVersion
    );
    let err = check_new_version(&[v2.reference()], &v1.reference().clone());
    // v1 with v2 stored: different version numbers, v1 older → refused.
    assert!(matches!(err, Err(Error::VersionNotNewer { ref latest, .. }) if latest == "1.1.0"));
    assert_eq!(
        v1.reference().relation_to(&v2.reference()),
        VersionRelation::OtherIsNewer
    );
    assert_eq!(
        v2.reference().relation_to(&v1.reference()),
        VersionRelation::OtherIsOlder
    );
    assert_eq!(
        v1.reference().relation_to(&other.reference()),
        VersionRelation::DifferentRubric
    );
    assert_eq!(v1.changes_to(&v2), vec![RubricChange::MasteryRule]);
}

#[test]
fn changes_between_versions_are_classified() {
    let text = source("argumentative-writing.toml");
    let v1 = parse(&text);
    let v2_text = text
        .replacen("version = \"1.0.0\"", "version = \"2.0.0\"", 1)
        .replacen("name = \"Claim\"", "name = \"Thesis\"", 1)
        .replacen("id = \"counterclaim\"", "id = \"counterargument\"", 1)
        .replacen(
            "required_level = \"developing\"",
            "required_level = \"proficient\"",
            1,
        );
    let v2 = parse(&v2_text);
    let changes = v1.changes_to(&v2);
    assert_eq!(
        changes,
        vec![
            RubricChange::CriterionReworded("claim".into()),
            RubricChange::CriterionRemoved("counterclaim".into()),
            RubricChange::CriterionScaleChanged("conventions".into()),
            RubricChange::CriterionAdded("counterargument".into()),
        ]
    );
}

#[test]
fn versions_compare_numerically_and_parse_strictly() {
    let v = |s: &str| s.parse::<RubricVersion>();
    assert!(v("1.10.0").expect("ok") > v("1.9.3").expect("ok"));
    assert_eq!(v("0.0.0").expect("ok").to_string(), "0.0.0");
    for bad in [
        "1.0",
        "1.0.0.0",
        "01.0.0",
        "1.0.0-beta",
        "v1.0.0",
        "",
        "1..0",
        "+1.0.0",
    ] {
        assert!(v(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_canonical_toml_form_reloads_to_the_same_rubric() {
    for name in [
        "argumentative-writing.toml",
        "math-problem-solving.toml",
        "science-lab-report.toml",
    ] {
        let r = parse(&source(name));
        let canonical = r.to_toml();
        let back = Rubric::from_toml_str(&canonical, "canonical.toml")
            .unwrap_or_else(|e| panic!("{name}: {e}\n{canonical}"));
        assert_eq!(back, r, "{name}");
        assert_eq!(back.digest(), r.digest());
    }
}
