//! The rubric as Open Badges 3.0 `ResultDescription`s, and a scored review as `Result`s.
//!
//! One criterion ↔ one `ResultDescription` with `resultType: "RubricCriterionLevel"`, its levels
//! ↔ `rubricCriterionLevel[]` (lowest first, as OB requires), the criterion's required level ↔
//! `requiredLevel`, level names ↔ `allowedValue[]` (lowest first). CASE links become
//! `Alignment`s with `targetType` `CFRubricCriterion` / `CFRubricCriterionLevel`.
//!
//! See: <https://www.imsglobal.org/spec/ob/v3p0/#resultdescription>,
//! <https://www.imsglobal.org/spec/ob/v3p0/#rubriccriterionlevel>,
//! <https://www.imsglobal.org/spec/ob/v3p0/#result>.

use serde_json::{Map, Value, json};

use crate::rubric::{CaseLink, Criterion, Rubric};
use crate::scoring::ScoredReview;

/// The id of a criterion's ResultDescription: `{base}/{rubric id}/{version}#{criterion id}`.
/// `base` is where the service publishes rubric pages, e.g. `https://school.example/rubrics`.
pub fn result_description_id(base: &str, rubric: &Rubric, criterion: &str) -> String {
    format!(
        "{}/{}/{}#{}",
        base.trim_end_matches('/'),
        rubric.id(),
        rubric.version(),
        criterion
    )
}

/// The id of a level: `{base}/{rubric id}/{version}#{criterion id}.{level id}`.
pub fn level_id(base: &str, rubric: &Rubric, criterion: &str, level: &str) -> String {
    format!(
        "{}.{}",
        result_description_id(base, rubric, criterion),
        level
    )
}

fn alignment(name: &str, link: &CaseLink, target_type: &str) -> Value {
    // See: https://www.imsglobal.org/spec/ob/v3p0/#alignment
    json!({
        "type": ["Alignment"],
        "targetName": name,
        "targetUrl": link.uri,
        "targetCode": link.identifier,
        "targetType": target_type,
    })
}

fn result_description(base: &str, rubric: &Rubric, c: &Criterion) -> Value {
    let mut rd = Map::new();
    rd.insert(
        "id".into(),
        json!(result_description_id(base, rubric, c.id())),
    );
    rd.insert("type".into(), json!(["ResultDescription"]));
    rd.insert("name".into(), json!(c.name()));
    rd.insert("resultType".into(), json!("RubricCriterionLevel"));
    rd.insert(
        "allowedValue".into(),
        json!(c.levels().iter().map(|l| l.name()).collect::<Vec<_>>()),
    );
    if let Some(req) = c.required_level(rubric.mastery()) {
        rd.insert(
            "requiredLevel".into(),
            json!(level_id(base, rubric, c.id(), req)),
        );
    }
    let levels: Vec<Value> = c
        .levels()
        .iter()
        .map(|l| {
            let mut lv = Map::new();
            lv.insert("id".into(), json!(level_id(base, rubric, c.id(), l.id())));
            lv.insert("type".into(), json!(["RubricCriterionLevel"]));
            lv.insert("name".into(), json!(l.name()));
            if let Some(d) = l.description() {
                lv.insert("description".into(), json!(d));
            }
            lv.insert("level".into(), json!(l.name()));
            // OB types `points` as a String.
            lv.insert("points".into(), json!(l.points().to_string()));
            if let Some(link) = l.case() {
                lv.insert(
                    "alignment".into(),
                    json!([alignment(l.name(), link, "CFRubricCriterionLevel")]),
                );
            }
            Value::Object(lv)
        })
        .collect();
    rd.insert("rubricCriterionLevel".into(), Value::Array(levels));
    if let Some(link) = c.case() {
        rd.insert(
            "alignment".into(),
            json!([alignment(c.name(), link, "CFRubricCriterion")]),
        );
    }
    Value::Object(rd)
}

/// `Achievement.resultDescription[]` for a rubric: one entry per criterion, in rubric order.
pub fn result_descriptions(rubric: &Rubric, base: &str) -> Value {
    Value::Array(
        rubric
            .criteria()
            .iter()
            .map(|c| result_description(base, rubric, c))
            .collect(),
    )
}

/// `AchievementSubject.result[]` for a scored review: one `Result` per criterion pointing at its
/// ResultDescription and the achieved level. `rubric` must be the version the review was scored
/// against.
pub fn results(rubric: &Rubric, scored: &ScoredReview, base: &str) -> Value {
    Value::Array(
        scored
            .criteria
            .iter()
            .map(|c| {
                json!({
                    "type": ["Result"],
                    "resultDescription": result_description_id(base, rubric, &c.criterion),
                    "achievedLevel": level_id(base, rubric, &c.criterion, &c.level),
                })
            })
            .collect(),
    )
}

/// `Achievement.alignment[]` entry for a rubric imported from CASE (`targetType: "CFRubric"`).
pub fn rubric_alignment(rubric: &Rubric) -> Option<Value> {
    rubric
        .case()
        .map(|link| alignment(rubric.title(), link, "CFRubric"))
}
