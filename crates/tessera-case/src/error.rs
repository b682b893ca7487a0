//! The crate's one error type, and the [`Violation`] list that an invalid package produces.
//!
//! Error policy: *malformed input* (not JSON, not a CFPackage, a broken reference, a cycle) is
//! always a [`CaseError`], never a panic. An invalid package is reported with **every** problem
//! found (up to [`MAX_VIOLATIONS`]), each naming the JSON path of the offending value
//! (`$.CFItems[12].identifier`) and a stable [`Rule`] code, so an API can render them as a
//! problem+json `errors` list and a CLI can print them one per line.

use std::fmt;

use crate::CaseVersion;

/// How many violations are collected before validation stops. A 5,000-item package with a
/// systematic mistake would otherwise produce 5,000 near-identical messages.
pub const MAX_VIOLATIONS: usize = 200;

/// Everything that can go wrong while reading, validating or mapping a CASE package.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// The bytes are not JSON at all (HTTP 400 / problem type `case-malformed-json`).
    #[error("not valid JSON (line {line}, column {column}): {message}")]
    Json {
        /// 1-based line of the syntax error.
        line: usize,
        /// 1-based column of the syntax error.
        column: usize,
        /// The parser's description.
        message: String,
    },
    /// The JSON is not a valid CFPackage: schema or semantic violations (HTTP 422 / problem type
    /// `case-invalid-package`).
    #[error("not a valid CASE {version} CFPackage: {}", summarize(.violations, *.truncated))]
    Invalid {
        /// The CASE version the package was validated against.
        version: CaseVersion,
        /// Every problem found, in document order for schema errors.
        violations: Vec<Violation>,
        /// `true` when more than [`MAX_VIOLATIONS`] problems existed and the list was cut.
        truncated: bool,
    },
    /// Serialising a package failed (only possible for non-finite numbers placed in extension
    /// data by a caller).
    #[error("could not serialise the CFPackage: {0}")]
    Serialize(String),
}

impl CaseError {
    /// The violations of an [`CaseError::Invalid`] error, empty for other variants.
    #[must_use]
    pub fn violations(&self) -> &[Violation] {
        match self {
            CaseError::Invalid { violations, .. } => violations,
            _ => &[],
        }
    }

    /// A stable machine code for the error, suitable as the tail of a problem+json `type`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            CaseError::Json { .. } => "case-malformed-json",
            CaseError::Invalid { .. } => "case-invalid-package",
            CaseError::Serialize(_) => "case-serialize",
        }
    }
}

fn summarize(violations: &[Violation], truncated: bool) -> String {
    let first = violations
        .first()
        .map_or_else(String::new, |v| format!("; first: {v}"));
    let more = if truncated { "+" } else { "" };
    format!("{}{more} problem(s){first}", violations.len())
}

/// One problem in a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSONPath of the offending value, e.g. `$.CFItems[12].identifier`. For a missing required
    /// property the path names the property that should be there.
    pub path: String,
    /// Which rule was broken.
    pub rule: Rule,
    /// A human-readable explanation (English).
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.path, self.message, self.rule.code())
    }
}

/// The rule a [`Violation`] breaks. [`Rule::code`] is stable and documented for API clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// A JSON Schema keyword of Tessera's CASE schema (`schemas/`) failed (`required`, `type`, `format`,
    /// `additionalProperties`, `enum`, `pattern`, `oneOf`, …). The keyword is kept.
    Schema(String),
    /// The value decoded by the schema could not be read into the typed model (for example an
    /// integer beyond 64 bits).
    Decode,
    /// An `identifier` that must be a UUID (8-4-4-4-12 hex) is not.
    Uuid,
    /// Two objects in the package share an identifier.
    DuplicateIdentifier,
    /// Two nodes (the CFDocument and CFItems) share a `uri`.
    DuplicateUri,
    /// An association end does not resolve inside the package and is not an absolute URI, or an
    /// `isChildOf` end that must be inside the package is not.
    DanglingReference,
    /// `isChildOf` associations form a cycle (the hierarchy must be a tree).
    HierarchyCycle,
    /// `precedes` associations form a cycle (prerequisites must be a DAG).
    PrerequisiteCycle,
    /// An association has the same node at both ends.
    SelfReference,
}

impl Rule {
    /// Stable code: `schema.<keyword>` for schema rules, otherwise a kebab-case name.
    #[must_use]
    pub fn code(&self) -> String {
        match self {
            Rule::Schema(keyword) => format!("schema.{keyword}"),
            Rule::Decode => "decode".into(),
            Rule::Uuid => "uuid".into(),
            Rule::DuplicateIdentifier => "duplicate-identifier".into(),
            Rule::DuplicateUri => "duplicate-uri".into(),
            Rule::DanglingReference => "dangling-reference".into(),
            Rule::HierarchyCycle => "hierarchy-cycle".into(),
            Rule::PrerequisiteCycle => "prerequisite-cycle".into(),
            Rule::SelfReference => "self-reference".into(),
        }
    }
}

/// Collects violations up to [`MAX_VIOLATIONS`].
#[derive(Debug, Default)]
pub(crate) struct Violations {
    pub(crate) list: Vec<Violation>,
    pub(crate) truncated: bool,
}

impl Violations {
    pub(crate) fn push(&mut self, path: impl Into<String>, rule: Rule, message: impl Into<String>) {
        if self.list.len() >= MAX_VIOLATIONS {
            self.truncated = true;
            return;
        }
        self.list.push(Violation {
            path: path.into(),
            rule,
            message: message.into(),
        });
    }

    pub(crate) fn is_full(&self) -> bool {
        self.list.len() >= MAX_VIOLATIONS
    }

    #[cfg(test)]
    pub(crate) fn into_result(self, version: CaseVersion) -> Result<(), CaseError> {
        if self.list.is_empty() {
            Ok(())
        } else {
            Err(CaseError::Invalid {
                version,
                violations: self.list,
                truncated: self.truncated,
            })
        }
    }
}

/// Converts a JSON pointer (`/CFItems/12/identifier`) to the JSONPath form used in messages
/// (`$.CFItems[12].identifier`). Array indices are recognised from the instance, so a property
/// named `"12"` stays a property.
pub(crate) fn pointer_to_path(pointer: &str, root: &serde_json::Value) -> String {
    let mut out = String::from("$");
    let mut node = Some(root);
    for raw in pointer.split('/').skip(1) {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        match node {
            Some(serde_json::Value::Array(items)) => {
                let index = segment.parse::<usize>().ok();
                out.push('[');
                out.push_str(&segment);
                out.push(']');
                node = index.and_then(|i| items.get(i));
            }
            other => {
                push_property(&mut out, &segment);
                node = other.and_then(|v| v.get(&segment));
            }
        }
    }
    out
}

/// Appends `.name`, or `["name"]` when the name is not a plain identifier.
pub(crate) fn push_property(out: &mut String, name: &str) {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if plain {
        out.push('.');
        out.push_str(name);
    } else {
        out.push_str("[\"");
        out.push_str(&name.replace('\\', "\\\\").replace('"', "\\\""));
        out.push_str("\"]");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointer_becomes_jsonpath_with_indices_from_the_instance() {
        let doc = json!({"CFItems": [{"identifier": "x"}], "extensions": {"12": {"a b": 1}}});
        assert_eq!(
            pointer_to_path("/CFItems/0/identifier", &doc),
            "$.CFItems[0].identifier"
        );
        assert_eq!(
            pointer_to_path("/extensions/12/a b", &doc),
            "$.extensions[\"12\"][\"a b\"]"
        );
        assert_eq!(pointer_to_path("", &doc), "$");
    }

    #[test]
    fn violations_stop_at_the_cap_and_say_so() {
        let mut v = Violations::default();
        for i in 0..MAX_VIOLATIONS + 5 {
            v.push(format!("$.x[{i}]"), Rule::Uuid, "bad");
        }
        assert_eq!(v.list.len(), MAX_VIOLATIONS);
        assert!(v.truncated);
        let err = v.into_result(CaseVersion::V1_1).unwrap_err();
        assert!(err.to_string().contains("200+ problem(s)"), "{err}");
    }
}
