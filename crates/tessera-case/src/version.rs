//! CASE versions and how a package's version is decided.

use std::fmt;

use serde_json::Value;

/// A CASE specification version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CaseVersion {
    /// CASE 1.0 (2017).
    V1_0,
    /// CASE 1.1 (Final, January 2025).
    V1_1,
}

impl CaseVersion {
    /// `"1.0"` or `"1.1"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            CaseVersion::V1_0 => "1.0",
            CaseVersion::V1_1 => "1.1",
        }
    }

    /// Parses `"1.0"` / `"1.1"` (as stored by the registry).
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "1.0" => Some(CaseVersion::V1_0),
            "1.1" => Some(CaseVersion::V1_1),
            _ => None,
        }
    }

    /// The REST base path of this version (`/ims/case/v1p0` or `/ims/case/v1p1`).
    #[must_use]
    pub fn rest_base(self) -> &'static str {
        match self {
            CaseVersion::V1_0 => "/ims/case/v1p0",
            CaseVersion::V1_1 => "/ims/case/v1p1",
        }
    }
}

impl fmt::Display for CaseVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Decides which schema a package is validated against.
///
/// - `CFDocument.caseVersion` present (any value) → 1.1: only CASE 1.1 defines the property, and
///   its schema reports a value other than `"1.1"` at `$.CFDocument.caseVersion`.
/// - absent → 1.1 when the package uses anything only 1.1 defines (`extensions`,
///   `frameworkType`, association `notes`, `targetType`, item `subject`/`subjectURI`, the
///   `isTranslationOf` or `ext:` association types); otherwise 1.0.
#[must_use]
pub fn detect(package: &Value) -> CaseVersion {
    let Some(root) = package.as_object() else {
        return CaseVersion::V1_1;
    };
    let document = root.get("CFDocument");
    if document.and_then(|d| d.get("caseVersion")).is_some() {
        return CaseVersion::V1_1;
    }
    if root.contains_key("extensions")
        || document.is_some_and(|d| d.get("frameworkType").is_some() || has_ext(d))
    {
        return CaseVersion::V1_1;
    }
    let items = root.get("CFItems").and_then(Value::as_array);
    if items.is_some_and(|items| {
        items
            .iter()
            .any(|i| has_ext(i) || i.get("subject").is_some() || i.get("subjectURI").is_some())
    }) {
        return CaseVersion::V1_1;
    }
    let associations = root.get("CFAssociations").and_then(Value::as_array);
    if associations.is_some_and(|list| list.iter().any(association_is_1_1)) {
        return CaseVersion::V1_1;
    }
    let defs = root.get("CFDefinitions");
    if defs.is_some_and(|d| {
        has_ext(d)
            || d.as_object().is_some_and(|o| {
                o.values()
                    .filter_map(Value::as_array)
                    .any(|list| list.iter().any(has_ext))
            })
    }) {
        return CaseVersion::V1_1;
    }
    let rubrics = root.get("CFRubrics").and_then(Value::as_array);
    if rubrics.is_some_and(|list| list.iter().any(rubric_has_ext)) {
        return CaseVersion::V1_1;
    }
    CaseVersion::V1_0
}

fn has_ext(v: &Value) -> bool {
    v.get("extensions").is_some()
}

fn association_is_1_1(a: &Value) -> bool {
    let kind = a.get("associationType").and_then(Value::as_str);
    has_ext(a)
        || a.get("notes").is_some()
        || kind.is_some_and(|k| k == "isTranslationOf" || k.starts_with("ext:"))
        || ["originNodeURI", "destinationNodeURI"]
            .iter()
            .any(|end| a.get(end).and_then(|n| n.get("targetType")).is_some())
}

fn rubric_has_ext(r: &Value) -> bool {
    has_ext(r)
        || r.get("CFRubricCriteria")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter().any(|c| {
                    has_ext(c)
                        || c.get("CFRubricCriterionLevels")
                            .and_then(Value::as_array)
                            .is_some_and(|ls| ls.iter().any(has_ext))
                })
            })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn declared_version_wins_and_markers_select_1_1() {
        assert_eq!(
            detect(&json!({"CFDocument": {"caseVersion": "1.1"}})),
            CaseVersion::V1_1
        );
        assert_eq!(detect(&json!({"CFDocument": {}})), CaseVersion::V1_0);
        assert_eq!(
            detect(
                &json!({"CFDocument": {}, "CFAssociations": [{"associationType": "isTranslationOf"}]})
            ),
            CaseVersion::V1_1
        );
        assert_eq!(
            detect(&json!({"CFDocument": {}, "CFItems": [{"subject": ["Math"]}]})),
            CaseVersion::V1_1
        );
        assert_eq!(
            detect(
                &json!({"CFDocument": {}, "CFRubrics": [{"CFRubricCriteria": [{"CFRubricCriterionLevels": [{"extensions": {}}]}]}]})
            ),
            CaseVersion::V1_1
        );
    }
}
