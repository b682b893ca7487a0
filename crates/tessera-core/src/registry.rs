//! Frameworks and competencies, modelled on 1EdTech CASE 1.1 so that CASE packages round-trip.
//!
//! A framework is a CASE `CFDocument`, a competency a `CFItem`, and every link between them a
//! `CFAssociation` (<https://www.imsglobal.org/spec/case/v1p1/#cfassociation>). The hierarchy is
//! the `isChildOf` associations and the prerequisites are the `precedes` associations
//! ("A precedes B": A is a prerequisite of B); every other association type is kept as it came.

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// Whether a framework or competency may be used for new work. Nothing that a credential may
/// point at is ever deleted; it is retired instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Status {
    /// In use.
    Active,
    /// Kept for history and for credentials that point at it; not offered for new work.
    Retired,
}

impl Status {
    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Retired => "retired",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "active" => Ok(Self::Active),
            "retired" => Ok(Self::Retired),
            _ => Err(DomainError::invalid("status", "must be active or retired")),
        }
    }
}

/// CASE association type for the hierarchy: the origin is a child of the destination.
pub const IS_CHILD_OF: &str = "isChildOf";
/// CASE association type for prerequisites: the origin must come before the destination.
pub const PRECEDES: &str = "precedes";
/// The association types CASE 1.1 defines (§ CFAssociationType). Extension types are kept as
/// they come from an import but the API only creates these.
pub const ASSOCIATION_TYPES: [&str; 9] = [
    IS_CHILD_OF,
    "isPeerOf",
    "isPartOf",
    "exactMatchOf",
    PRECEDES,
    "isRelatedTo",
    "replacedBy",
    "exemplar",
    "hasSkillLevel",
];

/// Checks a required text field: trimmed, non-empty, at most `max` characters.
pub fn required_text(field: &'static str, value: &str, max: usize) -> Result<String, DomainError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if v.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(v.to_owned())
}

/// Checks an optional text field: absent or empty-after-trim become `None`.
pub fn optional_text(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, DomainError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => required_text(field, v, max).map(Some),
    }
}

/// Checks a language tag in the shape of BCP 47 (letters, digits and `-`, 2–35 characters).
pub fn language_tag(value: Option<&str>) -> Result<Option<String>, DomainError> {
    match value {
        None => Ok(None),
        Some(v) => {
            let ok = (2..=35).contains(&v.len())
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && v.as_bytes()[0].is_ascii_alphabetic();
            if ok {
                Ok(Some(v.to_owned()))
            } else {
                Err(DomainError::invalid(
                    "language",
                    "is not a BCP 47 language tag",
                ))
            }
        }
    }
}

/// Checks a competency code (CASE `humanCodingScheme`): at most 100 characters, no control
/// characters.
pub fn code(value: Option<&str>) -> Result<Option<String>, DomainError> {
    let v = optional_text("code", value, 100)?;
    if v.as_deref()
        .is_some_and(|c| c.chars().any(char::is_control))
    {
        return Err(DomainError::invalid(
            "code",
            "must not contain control characters",
        ));
    }
    Ok(v)
}

/// Maximum lengths, shared by the API validation and its documentation.
pub mod limits {
    /// Framework titles.
    pub const TITLE: usize = 500;
    /// Competency statements (CASE `fullStatement`).
    pub const STATEMENT: usize = 10_000;
    /// Descriptions and notes.
    pub const DESCRIPTION: usize = 20_000;
    /// Short fields: version, abbreviated statement, item type.
    pub const SHORT: usize = 500;
}

impl TryFrom<String> for Status {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, DomainError> {
        Self::parse(&s)
    }
}

/// Builds the CASE `uri` of things this registry creates, from the service's public URL, so
/// that the URIs resolve to our own CASE read API (`/ims/case/v1p1/…`). Imported things keep the
/// URIs they came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseUris {
    base: String,
}

impl CaseUris {
    /// URIs under `public_url` (with or without a trailing `/`).
    pub fn new(public_url: &str) -> Self {
        Self {
            base: format!("{}/ims/case/v1p1", public_url.trim_end_matches('/')),
        }
    }

    /// The URI of a framework (`CFDocument`).
    pub fn document(&self, id: &str) -> String {
        format!("{}/CFDocuments/{id}", self.base)
    }

    /// The URI of a competency (`CFItem`).
    pub fn item(&self, id: &str) -> String {
        format!("{}/CFItems/{id}", self.base)
    }

    /// The URI of an association (`CFAssociation`).
    pub fn association(&self, id: &str) -> String {
        format!("{}/CFAssociations/{id}", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_text_trims_and_bounds() {
        assert_eq!(required_text("title", "  Maths ", 10).unwrap(), "Maths");
        assert!(required_text("title", "   ", 10).is_err());
        assert!(required_text("title", "abcdefghijk", 10).is_err());
    }

    #[test]
    fn language_tags_are_checked() {
        assert_eq!(
            language_tag(Some("en-GB")).unwrap().as_deref(),
            Some("en-GB")
        );
        assert!(language_tag(Some("e")).is_err());
        assert!(language_tag(Some("en GB")).is_err());
        assert!(language_tag(Some("1en")).is_err());
    }

    #[test]
    fn codes_reject_control_characters() {
        assert_eq!(code(Some("C.4")).unwrap().as_deref(), Some("C.4"));
        assert!(code(Some("C\u{7}4")).is_err());
        assert_eq!(code(Some("  ")).unwrap(), None);
    }

    #[test]
    fn status_round_trips() {
        assert_eq!(Status::parse("retired").unwrap(), Status::Retired);
        assert!(Status::parse("deleted").is_err());
    }
}
