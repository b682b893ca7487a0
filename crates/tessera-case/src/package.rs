//! Serde types for a CASE `CFPackage` (CASE 1.0 and 1.1).
//!
//! Field names follow the JSON binding exactly (see the information model,
//! <https://www.imsglobal.org/spec/case/v1p1/infomodel/>); Tessera's schemas in `schemas/` are
//! written from the same model and list the same properties.
//! Dates and date-times are kept as the strings the publisher wrote: the schema checks their
//! format, and keeping the text is what makes an import → export round trip byte-faithful.
//! Numbers whose spelling matters (`weight`, `score`) are kept as [`serde_json::Number`].
//!
//! Every object also has `extra`: properties this crate does not model. The bundled schemas
//! forbid unknown properties, so in a validated package `extra` only holds the tolerated legacy
//! link fields (see [`crate::ValidationOptions::legacy_links`]); it exists so that nothing a
//! caller deserialises is ever silently dropped. CASE 1.1 `extensions` objects are kept whole.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

/// Free-form JSON object (`extensions`, extra properties).
pub type JsonObject = Map<String, Value>;

/// The container for a whole framework: one CFDocument and everything in it.
/// [CFPackage](https://www.imsglobal.org/spec/case/v1p1/infomodel/#cfpackage).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CfPackage {
    /// The root document. Required.
    #[serde(rename = "CFDocument")]
    pub document: CfDocument,
    /// The items (competencies and groupings) of the framework.
    #[serde(rename = "CFItems", default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<CfItem>,
    /// Relationships between the document, its items, and nodes elsewhere.
    #[serde(
        rename = "CFAssociations",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub associations: Vec<CfAssociation>,
    /// Concepts, subjects, licences, item types and association groupings.
    #[serde(
        rename = "CFDefinitions",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub definitions: Option<CfDefinitions>,
    /// Rubrics with their criteria and levels.
    #[serde(rename = "CFRubrics", default, skip_serializing_if = "Vec::is_empty")]
    pub rubrics: Vec<CfRubric>,
    /// CASE 1.1 proprietary extensions of the package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<JsonObject>,
    /// Properties not modelled here (kept for round trips).
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// A reference to a CASE object by title, UUID identifier and URI.
/// [LinkURI](https://www.imsglobal.org/spec/case/v1p1/infomodel/#linkuri).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkUri {
    /// Human-readable title of the target.
    pub title: String,
    /// UUID of the target.
    pub identifier: String,
    /// Resolvable URI of the target.
    pub uri: String,
}

/// A reference to any node (a CASE node or, in 1.1, something else), used by associations. The
/// identifier "may or may not be a UUID".
/// [LinkGenURI](https://www.imsglobal.org/spec/case/v1p1/infomodel/#linkgenuri).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkGenUri {
    /// Human-readable title of the target.
    pub title: String,
    /// Identifier of the target (often a UUID).
    pub identifier: String,
    /// Resolvable URI of the target.
    pub uri: String,
    /// CASE 1.1: what kind of thing the target is (`CASE`, or `ext:…`).
    #[serde(
        rename = "targetType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub target_type: Option<String>,
}

/// The framework's root record.
/// [CFDocument](https://www.imsglobal.org/spec/case/v1p1/infomodel/#cfpckgdocument).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CfDocument {
    /// UUID of the framework.
    pub identifier: String,
    /// Resolvable URI of the framework.
    pub uri: String,
    /// CASE 1.1: kind of framework (e.g. `CourseCodes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_type: Option<String>,
    /// CASE 1.1: `"1.1"` when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_version: Option<String>,
    /// Who created the framework. Required.
    pub creator: String,
    /// Title of the framework. Required.
    pub title: String,
    /// Timestamp of the last change (ISO 8601 date-time). Required.
    pub last_change_date_time: String,
    /// Where the authoritative source is published.
    #[serde(
        rename = "officialSourceURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub official_source_url: Option<String>,
    /// Publishing organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// Description of the framework.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Academic subjects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subject: Vec<String>,
    /// Links to CFSubject definitions.
    #[serde(rename = "subjectURI", default, skip_serializing_if = "Vec::is_empty")]
    pub subject_uri: Vec<LinkUri>,
    /// Default language (ISO 639).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Publisher's version label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Publication status (e.g. `Draft`, `Adopted`, `Deprecated`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adoption_status: Option<String>,
    /// Date the status started (ISO 8601 date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_start_date: Option<String>,
    /// Date the status ended (ISO 8601 date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_end_date: Option<String>,
    /// Link to the CFLicense.
    #[serde(
        rename = "licenseURI",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub license_uri: Option<LinkUri>,
    /// Notes on the framework.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// CASE 1.1 proprietary extensions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<JsonObject>,
    /// Properties not modelled here (e.g. legacy `CFPackageURI`).
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// One competency statement, or a grouping of them.
/// [CFItem](https://www.imsglobal.org/spec/case/v1p1/infomodel/#cfpckgitem).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CfItem {
    /// UUID of the item.
    pub identifier: String,
    /// The statement text. Required.
    pub full_statement: String,
    /// Alternative term for "competency" used by the institution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternative_label: Option<String>,
    /// Label of the item's type (e.g. `Standard`, `Domain`).
    #[serde(
        rename = "CFItemType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub item_type: Option<String>,
    /// Resolvable URI of the item.
    pub uri: String,
    /// Human-readable code, e.g. `CCSS.MATH.5.NF.1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human_coding_scheme: Option<String>,
    /// Position label in a list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_enumeration: Option<String>,
    /// Short form of the statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abbreviated_statement: Option<String>,
    /// Free-text keywords.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub concept_keywords: Vec<String>,
    /// Link to a CFConcept.
    #[serde(
        rename = "conceptKeywordsURI",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub concept_keywords_uri: Option<LinkUri>,
    /// Notes on the derivation of the statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// CASE 1.1: academic subjects of the item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subject: Vec<String>,
    /// CASE 1.1: links to CFSubject definitions.
    #[serde(rename = "subjectURI", default, skip_serializing_if = "Vec::is_empty")]
    pub subject_uri: Vec<LinkUri>,
    /// Language of the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Education or grade levels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub education_level: Vec<String>,
    /// Link to the CFItemType definition.
    #[serde(
        rename = "CFItemTypeURI",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub item_type_uri: Option<LinkUri>,
    /// Link to the CFLicense.
    #[serde(
        rename = "licenseURI",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub license_uri: Option<LinkUri>,
    /// Date the item's status started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_start_date: Option<String>,
    /// Date the item's status ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_end_date: Option<String>,
    /// Timestamp of the last change. Required.
    pub last_change_date_time: String,
    /// CASE 1.1 proprietary extensions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<JsonObject>,
    /// Properties not modelled here (e.g. legacy `CFDocumentURI`).
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// A typed relationship between two nodes.
/// [CFAssociation](https://www.imsglobal.org/spec/case/v1p1/infomodel/#cfpckgassociation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CfAssociation {
    /// UUID of the association.
    pub identifier: String,
    /// The association type as written (see [`crate::AssociationType`]).
    pub association_type: String,
    /// Order among siblings (for `isChildOf`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<i64>,
    /// Resolvable URI of the association.
    pub uri: String,
    /// The origin node (for `isChildOf`: the child; for `precedes`: the earlier one).
    #[serde(rename = "originNodeURI")]
    pub origin: LinkGenUri,
    /// The destination node (for `isChildOf`: the parent).
    #[serde(rename = "destinationNodeURI")]
    pub destination: LinkGenUri,
    /// Link to a CFAssociationGrouping.
    #[serde(
        rename = "CFAssociationGroupingURI",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub grouping_uri: Option<LinkUri>,
    /// Timestamp of the last change. Required.
    pub last_change_date_time: String,
    /// CASE 1.1: notes on the association.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// CASE 1.1 proprietary extensions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<JsonObject>,
    /// Properties not modelled here (e.g. legacy `CFDocumentURI`).
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// The definitions used by a framework.
/// [CFDefinition](https://www.imsglobal.org/spec/case/v1p1/infomodel/#cfdefinition).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CfDefinitions {
    /// Concept definitions.
    #[serde(rename = "CFConcepts", default, skip_serializing_if = "Vec::is_empty")]
    pub concepts: Vec<CfConcept>,
    /// Subject definitions.
    #[serde(rename = "CFSubjects", default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<CfSubject>,
    /// Licence definitions.
    #[serde(rename = "CFLicenses", default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<CfLicense>,
    /// Item type definitions.
    #[serde(rename = "CFItemTypes", default, skip_serializing_if = "Vec::is_empty")]
    pub item_types: Vec<CfItemType>,
    /// Association grouping definitions.
    #[serde(
        rename = "CFAssociationGroupings",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub association_groupings: Vec<CfAssociationGrouping>,
    /// CASE 1.1 proprietary extensions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<JsonObject>,
    /// Properties not modelled here.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// [CFConcept](https://www.imsglobal.org/spec/case/v1p1/infomodel/#cfconcept).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CfConcept {
    /// UUID.
    pub identifier: String,
    /// Resolvable URI.
    pub uri: String,
    /// Title.
    pub title: String,
    /// Keywords delimited by `|`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keywords: Option<String>,
    /// Publisher's code.
    pub hierarchy_code: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Timestamp of the last change.
    pub last_change_date_time: String,
    /// CASE 1.1 proprietary extensions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<JsonObject>,
    /// Properties not modelled here.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// [CFSubject](https://www.imsglobal.org/spec/case/v1p1/infomodel/#cfsubject).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CfSubject {
    /// UUID.
    pub identifier: String,
    /// Resolvable URI.
    pub uri: String,
    /// Title.
    pub title: String,
    /// Publisher's code.
    pub hierarchy_code: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Timestamp of the last change.
    pub last_change_date_time: String,
    /// CASE 1.1 proprietary extensions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<JsonObject>,
    /// Properties not modelled here.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// [CFLicense](https://www.imsglobal.org/spec/case/v1p1/infomodel/#cflicense).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CfLicense {
    /// UUID.
    pub identifier: String,
    /// Resolvable URI.
    pub uri: String,
    /// Title.
    pub title: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The licence text.
    pub license_text: String,
    /// Timestamp of the last change.
    pub last_change_date_time: String,
    /// CASE 1.1 proprietary extensions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<JsonObject>,
    /// Properties not modelled here.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// [CFItemType](https://www.imsglobal.org/spec/case/v1p1/infomodel/#cfitemtype).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CfItemType {
    /// UUID.
    pub identifier: String,
    /// Resolvable URI.
    pub uri: String,
    /// Title.
    pub title: String,
    /// Description (required by the schema).
    pub description: String,
    /// Publisher's code.
    pub hierarchy_code: String,
    /// Code used for type identification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_code: Option<String>,
    /// Timestamp of the last change.
    pub last_change_date_time: String,
    /// CASE 1.1 proprietary extensions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<JsonObject>,
    /// Properties not modelled here.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// [CFAssociationGrouping](https://www.imsglobal.org/spec/case/v1p1/infomodel/#cfassociationgrouping).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CfAssociationGrouping {
    /// UUID.
    pub identifier: String,
    /// Resolvable URI.
    pub uri: String,
    /// Title.
    pub title: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Timestamp of the last change.
    pub last_change_date_time: String,
    /// CASE 1.1 proprietary extensions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<JsonObject>,
    /// Properties not modelled here.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// A rubric addressed by the framework.
/// [CFRubric](https://www.imsglobal.org/spec/case/v1p1/infomodel/#cfrubric).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CfRubric {
    /// UUID.
    pub identifier: String,
    /// Resolvable URI.
    pub uri: String,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Timestamp of the last change.
    pub last_change_date_time: String,
    /// The criteria (rows) of the rubric.
    #[serde(
        rename = "CFRubricCriteria",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub criteria: Vec<CfRubricCriterion>,
    /// CASE 1.1 proprietary extensions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<JsonObject>,
    /// Properties not modelled here.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// [CFRubricCriterion](https://www.imsglobal.org/spec/case/v1p1/infomodel/#cfrubriccriterion).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CfRubricCriterion {
    /// UUID.
    pub identifier: String,
    /// Resolvable URI.
    pub uri: String,
    /// Category label for grouping criteria.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The CFItem this criterion assesses.
    #[serde(rename = "CFItemURI", default, skip_serializing_if = "Option::is_none")]
    pub item_uri: Option<LinkUri>,
    /// Weight for scored rubrics (kept as written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<Number>,
    /// Position in the criteria list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    /// UUID of the parent rubric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rubric_id: Option<String>,
    /// Timestamp of the last change.
    pub last_change_date_time: String,
    /// The levels (columns) of the criterion.
    #[serde(
        rename = "CFRubricCriterionLevels",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub levels: Vec<CfRubricCriterionLevel>,
    /// CASE 1.1 proprietary extensions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<JsonObject>,
    /// Properties not modelled here.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// [CFRubricCriterionLevel](https://www.imsglobal.org/spec/case/v1p1/infomodel/#cfrubriccriterionlevel).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CfRubricCriterionLevel {
    /// UUID.
    pub identifier: String,
    /// Resolvable URI.
    pub uri: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Qualitative label (column header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<String>,
    /// Points for this level (kept as written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<Number>,
    /// Pre-defined feedback text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<String>,
    /// Position among the criterion's levels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    /// UUID of the parent criterion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rubric_criterion_id: Option<String>,
    /// Timestamp of the last change.
    pub last_change_date_time: String,
    /// CASE 1.1 proprietary extensions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<JsonObject>,
    /// Properties not modelled here.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl CfPackage {
    /// Sorts every list by identifier, so two packages that differ only in order compare equal.
    /// CASE gives list order no meaning (order is carried by `sequenceNumber`/`position`).
    pub fn normalize_order(&mut self) {
        self.items.sort_by(|a, b| a.identifier.cmp(&b.identifier));
        self.associations
            .sort_by(|a, b| a.identifier.cmp(&b.identifier));
        self.rubrics.sort_by(|a, b| a.identifier.cmp(&b.identifier));
        for rubric in &mut self.rubrics {
            rubric
                .criteria
                .sort_by(|a, b| a.identifier.cmp(&b.identifier));
            for criterion in &mut rubric.criteria {
                criterion
                    .levels
                    .sort_by(|a, b| a.identifier.cmp(&b.identifier));
            }
        }
        if let Some(defs) = &mut self.definitions {
            defs.concepts
                .sort_by(|a, b| a.identifier.cmp(&b.identifier));
            defs.subjects
                .sort_by(|a, b| a.identifier.cmp(&b.identifier));
            defs.licenses
                .sort_by(|a, b| a.identifier.cmp(&b.identifier));
            defs.item_types
                .sort_by(|a, b| a.identifier.cmp(&b.identifier));
            defs.association_groupings
                .sort_by(|a, b| a.identifier.cmp(&b.identifier));
        }
    }
}
