//! What the service hands over to make a transcript: plain values, read from the store.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// A node of the competency registry that the transcript may name.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistryNode {
    /// Its IRI: the `Achievement.id` it has in credentials (for a competency, the
    /// `credentialSubject.achievement.id` of the credentials that award it).
    pub id: String,
    /// The framework it belongs to (for a framework node, its own id).
    pub framework_id: String,
    /// What it is.
    pub kind: NodeKind,
    /// Short human-readable code (`HS-LS2-6`), if any.
    pub code: Option<String>,
    /// Its name.
    pub name: String,
    /// Its full statement.
    pub statement: String,
}

/// The kinds of registry node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A whole framework.
    Framework,
    /// A grouping inside a framework (a domain, strand or performance area).
    Area,
    /// A competency credentials are awarded for.
    Competency,
}

/// The CLR `AssociationType`s the registry uses (they mirror CASE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssociationType {
    /// `exactMatchOf`.
    ExactMatchOf,
    /// `isChildOf`: the source sits under the target (competency → area → framework).
    IsChildOf,
    /// `isParentOf`.
    IsParentOf,
    /// `isPartOf`.
    IsPartOf,
    /// `isPeerOf`.
    IsPeerOf,
    /// `isRelatedTo`.
    IsRelatedTo,
    /// `precedes`: the source is a prerequisite of the target.
    Precedes,
    /// `replacedBy`.
    ReplacedBy,
}

impl AssociationType {
    /// The CLR 2.0 enumeration value.
    pub fn as_str(self) -> &'static str {
        match self {
            AssociationType::ExactMatchOf => "exactMatchOf",
            AssociationType::IsChildOf => "isChildOf",
            AssociationType::IsParentOf => "isParentOf",
            AssociationType::IsPartOf => "isPartOf",
            AssociationType::IsPeerOf => "isPeerOf",
            AssociationType::IsRelatedTo => "isRelatedTo",
            AssociationType::Precedes => "precedes",
            AssociationType::ReplacedBy => "replacedBy",
        }
    }

    /// Parses the CLR 2.0 enumeration value (also the CASE association type names).
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "exactMatchOf" => AssociationType::ExactMatchOf,
            "isChildOf" => AssociationType::IsChildOf,
            "isParentOf" => AssociationType::IsParentOf,
            "isPartOf" => AssociationType::IsPartOf,
            "isPeerOf" => AssociationType::IsPeerOf,
            "isRelatedTo" => AssociationType::IsRelatedTo,
            "precedes" => AssociationType::Precedes,
            "replacedBy" => AssociationType::ReplacedBy,
            _ => return None,
        })
    }
}

/// One registry association between two nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistryAssociation {
    /// The source node's id.
    pub source: String,
    /// The association.
    pub kind: AssociationType,
    /// The target node's id.
    pub target: String,
}

/// The learner's time-variable record of one competency (the store's mastery record).
#[derive(Debug, Clone, PartialEq)]
pub struct CompetencyRecord {
    /// The competency's node id.
    pub competency_id: String,
    /// First activity (first submission) on it.
    pub first_activity: DateTime<Utc>,
    /// Attempts (reviewed submissions) so far.
    pub attempts: u32,
    /// When mastery was decided; `None` while in progress.
    pub mastered_at: Option<DateTime<Utc>>,
    /// The rubric level reached (its name), if any.
    pub level: Option<String>,
}

/// Who the transcript is about.
#[derive(Debug, Clone, PartialEq)]
pub struct Learner {
    /// The learner's id (a DID or URN), if they have one to disclose.
    pub id: Option<String>,
    /// The name printed on the transcript (recorded as a `name` IdentityObject).
    pub name: String,
    /// Further IdentityObjects (a hashed e-mail …), as JSON.
    pub identifiers: Vec<Value>,
}

/// What the learner chose to put in the transcript. The choice is recorded in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every competency of the record.
    Everything,
    /// The competencies of one framework (by id).
    Framework(String),
    /// These competencies (by id).
    Competencies(Vec<String>),
}

/// Everything a transcript is made from.
#[derive(Debug, Clone)]
pub struct TranscriptRequest {
    /// The ClrCredential's `id` (`urn:uuid:…`; the caller makes it, so tests are deterministic).
    pub id: String,
    /// The issuing organisation's OB 3.0 `Profile` (JSON, with `id`, `type`, `name`).
    pub issuer: Value,
    /// The transcript's title; `None` gives "Mastery Transcript — {learner name}".
    pub name: Option<String>,
    /// A sentence under the title, if any.
    pub description: Option<String>,
    /// The learner.
    pub learner: Learner,
    /// "Now": the transcript's `validFrom` and `awardedDate`, and the end of its period.
    pub issued_at: DateTime<Utc>,
    /// Start of the period covered; `None` takes the earliest first activity included.
    pub period_start: Option<DateTime<Utc>>,
    /// The registry nodes the record refers to: frameworks, areas and competencies.
    pub nodes: Vec<RegistryNode>,
    /// The registry associations between those nodes.
    pub associations: Vec<RegistryAssociation>,
    /// The learner's record, one entry per competency worked on.
    pub records: Vec<CompetencyRecord>,
    /// The learner's signed AchievementCredentials, exactly as issued.
    pub credentials: Vec<Value>,
    /// The learner's choice.
    pub selection: Selection,
}
