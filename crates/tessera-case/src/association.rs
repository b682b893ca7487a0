//! The CASE association vocabulary.

use std::fmt;

/// `associationType`, an extensible enumeration (CASE 1.1 adds `isTranslationOf` and `ext:` terms).
/// [CFAssociationTypeExtEnum](https://www.imsglobal.org/spec/case/v1p1/infomodel/#cfassociationtypeextenum).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AssociationType {
    /// Origin is a child of the destination (the hierarchy).
    IsChildOf,
    /// Peers.
    IsPeerOf,
    /// Origin is part of the destination.
    IsPartOf,
    /// Equivalent.
    ExactMatchOf,
    /// Origin comes before the destination (prerequisites / sequencing).
    Precedes,
    /// Related in some way.
    IsRelatedTo,
    /// Origin has been replaced by the destination.
    ReplacedBy,
    /// Destination is an exemplar of the origin.
    Exemplar,
    /// Destination defines a skill level of the origin.
    HasSkillLevel,
    /// CASE 1.1: origin is a translation of the destination.
    IsTranslationOf,
    /// Anything else (CASE 1.1 `ext:` terms), kept as written.
    Other(String),
}

impl AssociationType {
    /// Reads an `associationType` value.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        match text {
            "isChildOf" => AssociationType::IsChildOf,
            "isPeerOf" => AssociationType::IsPeerOf,
            "isPartOf" => AssociationType::IsPartOf,
            "exactMatchOf" => AssociationType::ExactMatchOf,
            "precedes" => AssociationType::Precedes,
            "isRelatedTo" => AssociationType::IsRelatedTo,
            "replacedBy" => AssociationType::ReplacedBy,
            "exemplar" => AssociationType::Exemplar,
            "hasSkillLevel" => AssociationType::HasSkillLevel,
            "isTranslationOf" => AssociationType::IsTranslationOf,
            other => AssociationType::Other(other.to_owned()),
        }
    }

    /// The JSON spelling.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            AssociationType::IsChildOf => "isChildOf",
            AssociationType::IsPeerOf => "isPeerOf",
            AssociationType::IsPartOf => "isPartOf",
            AssociationType::ExactMatchOf => "exactMatchOf",
            AssociationType::Precedes => "precedes",
            AssociationType::IsRelatedTo => "isRelatedTo",
            AssociationType::ReplacedBy => "replacedBy",
            AssociationType::Exemplar => "exemplar",
            AssociationType::HasSkillLevel => "hasSkillLevel",
            AssociationType::IsTranslationOf => "isTranslationOf",
            AssociationType::Other(text) => text,
        }
    }
}

impl fmt::Display for AssociationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_standard_term_round_trips() {
        for term in [
            "isChildOf",
            "isPeerOf",
            "isPartOf",
            "exactMatchOf",
            "precedes",
            "isRelatedTo",
            "replacedBy",
            "exemplar",
            "hasSkillLevel",
            "isTranslationOf",
            "ext:alignsTo",
        ] {
            assert_eq!(AssociationType::parse(term).as_str(), term);
        }
        assert_eq!(
            AssociationType::parse("ext:x"),
            AssociationType::Other("ext:x".into())
        );
    }
}
