//! The rubric model: a validated, immutable rubric version.
//!
//! A [`Rubric`] can only be built by parsing ([`Rubric::from_toml_str`], [`Rubric::load`]) or by
//! importing a CASE CFRubric ([`crate::case::rubric_from_cf_rubric`]); both run the same
//! validation, so every `Rubric` value holds the invariants scoring relies on: at least one
//! criterion, each with two or more levels listed lowest first with strictly increasing points,
//! unique ids, a mastery rule whose levels exist and whose points threshold is reachable.
//!
//! Versions are immutable. [`Rubric::digest`] is the SHA-256 of the canonical form (comments,
//! key order, whitespace and spelled-out defaults do not change it), so the service can tell an
//! unchanged re-upload from an edit that kept the version number ([`check_new_version`]).

use std::cmp::Ordering;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::error::Error;

mod draft;
mod toml_source;

pub(crate) use draft::{
    DraftBorderline, DraftCriterion, DraftLevel, DraftMastery, DraftRubric, L, validate,
};

/// Domain-separation prefix of the digest: bump it if the canonical form ever changes.
const DIGEST_PREFIX: &[u8] = b"tessera-rubric-v1\n";

/// A rubric version: `MAJOR.MINOR.PATCH`, compared numerically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RubricVersion {
    /// Incremented for changes that alter what mastery means (levels, rule).
    pub major: u64,
    /// Incremented for new or reworded criteria and descriptors.
    pub minor: u64,
    /// Incremented for typo fixes.
    pub patch: u64,
}

impl FromStr for RubricVersion {
    type Err = ();

    /// Strict: three dot-separated decimal numbers without leading zeros or signs.
    fn from_str(s: &str) -> Result<Self, ()> {
        let mut parts = s.split('.');
        let mut next = || -> Result<u64, ()> {
            let p = parts.next().ok_or(())?;
            let ok = !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p == "0" || !p.starts_with('0'));
            if !ok {
                return Err(());
            }
            p.parse().map_err(|_| ())
        };
        let v = RubricVersion {
            major: next()?,
            minor: next()?,
            patch: next()?,
        };
        if parts.next().is_some() {
            return Err(());
        }
        Ok(v)
    }
}

impl fmt::Display for RubricVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl Serialize for RubricVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RubricVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|()| serde::de::Error::custom(format!("bad rubric version `{s}`")))
    }
}

/// SHA-256 of a rubric's canonical form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RubricDigest(pub [u8; 32]);

impl fmt::Display for RubricDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", hex::encode(self.0))
    }
}

/// Identifies the exact rubric version a review was scored against.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RubricRef {
    /// Rubric id.
    pub id: String,
    /// Rubric version.
    pub version: RubricVersion,
    /// `sha256:<hex>` of the canonical form.
    pub digest: String,
}

impl fmt::Display for RubricRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` {}", self.id, self.version)
    }
}

/// How two rubric versions relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionRelation {
    /// Same id, version and content.
    Identical,
    /// Same id and version but different content: an edit that kept the version number.
    /// The service must refuse it.
    ContentChangedWithoutNewVersion,
    /// `other` is a later version of the same rubric.
    OtherIsNewer,
    /// `other` is an earlier version of the same rubric.
    OtherIsOlder,
    /// Different rubrics.
    DifferentRubric,
}

impl RubricRef {
    /// How `other` relates to `self`.
    pub fn relation_to(&self, other: &RubricRef) -> VersionRelation {
        if self.id != other.id {
            return VersionRelation::DifferentRubric;
        }
        match other.version.cmp(&self.version) {
            Ordering::Greater => VersionRelation::OtherIsNewer,
            Ordering::Less => VersionRelation::OtherIsOlder,
            Ordering::Equal if self.digest == other.digest => VersionRelation::Identical,
            Ordering::Equal => VersionRelation::ContentChangedWithoutNewVersion,
        }
    }
}

/// What the service should do with an uploaded rubric, given the versions it already stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Publish {
    /// Exactly this version is already stored: nothing to do.
    AlreadyStored,
    /// A new rubric or a newer version: store it.
    NewVersion,
}

/// Decide whether `candidate` may be published next to the `stored` versions of any rubrics.
///
/// Refuses a reused version number with different content ([`Error::VersionReused`]) and a new
/// version that is not newer than the latest stored one ([`Error::VersionNotNewer`]).
pub fn check_new_version(stored: &[RubricRef], candidate: &RubricRef) -> Result<Publish, Error> {
    let mut latest: Option<&RubricRef> = None;
    for s in stored.iter().filter(|s| s.id == candidate.id) {
        match s.relation_to(candidate) {
            VersionRelation::Identical => return Ok(Publish::AlreadyStored),
            VersionRelation::ContentChangedWithoutNewVersion => {
                return Err(Error::VersionReused {
                    id: candidate.id.clone(),
                    version: candidate.version.to_string(),
                    stored: s.digest.clone(),
                    offered: candidate.digest.clone(),
                });
            }
            _ => {}
        }
        if latest.is_none_or(|l| s.version > l.version) {
            latest = Some(s);
        }
    }
    match latest {
        Some(l) if l.version > candidate.version => Err(Error::VersionNotNewer {
            id: candidate.id.clone(),
            latest: l.version.to_string(),
            offered: candidate.version.to_string(),
        }),
        _ => Ok(Publish::NewVersion),
    }
}

/// A link back to the CASE object a rubric, criterion or level was imported from. It becomes an
/// OB `Alignment` (`targetType` `CFRubric`, `CFRubricCriterion`, `CFRubricCriterionLevel`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseLink {
    /// CASE `identifier` (a UUID).
    pub identifier: String,
    /// CASE `uri`.
    pub uri: String,
}

/// One performance level of a criterion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Level {
    pub(crate) id: String,
    pub(crate) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    pub(crate) points: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) case: Option<CaseLink>,
}

impl Level {
    /// Level id, unique within its criterion.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// Short name ("Proficient").
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The descriptor: what work at this level looks like.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    /// Points for this level, before the criterion weight.
    pub fn points(&self) -> u64 {
        self.points
    }
    /// The CASE level this was imported from.
    pub fn case(&self) -> Option<&CaseLink> {
        self.case.as_ref()
    }
}

/// One row of the rubric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Criterion {
    pub(crate) id: String,
    pub(crate) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    pub(crate) weight: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) required_level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) case: Option<CaseLink>,
    pub(crate) levels: Vec<Level>,
}

impl Criterion {
    /// Criterion id, unique within the rubric.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// Short name ("Claim").
    pub fn name(&self) -> &str {
        &self.name
    }
    /// What the criterion looks at.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    /// Multiplier applied to the level points in the total (default 1).
    pub fn weight(&self) -> u64 {
        self.weight
    }
    /// Levels, lowest first, with strictly increasing points.
    pub fn levels(&self) -> &[Level] {
        &self.levels
    }
    /// The CASE criterion this was imported from.
    pub fn case(&self) -> Option<&CaseLink> {
        self.case.as_ref()
    }
    /// Position of a level in the scale (0 = lowest).
    pub fn level_index(&self, level_id: &str) -> Option<usize> {
        self.levels.iter().position(|l| l.id == level_id)
    }
    /// Highest weighted points this criterion can give.
    pub fn max_points(&self) -> u64 {
        self.levels
            .last()
            .map_or(0, |l| l.points.saturating_mul(self.weight))
    }
    /// The id of the level this criterion must reach under the level condition: its own
    /// `required_level`, else the rubric-wide `every_criterion_at_least`, else none.
    pub fn required_level<'a>(&'a self, rule: &'a MasteryRule) -> Option<&'a str> {
        self.required_level
            .as_deref()
            .or(rule.every_criterion_at_least.as_deref())
    }
    /// Index of the required level, if any.
    pub(crate) fn required_index(&self, rule: &MasteryRule) -> Option<usize> {
        self.required_level(rule)
            .and_then(|id| self.level_index(id))
    }
}

/// How the level and points conditions of a mastery rule combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    /// Every condition present must hold.
    All,
    /// One condition suffices.
    Any,
}

/// When a scored review counts as borderline and goes to a second reviewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Borderline {
    /// Borderline if moving any one criterion up or down by at most this many levels would flip
    /// the outcome (0 disables this test).
    pub within_levels: u64,
    /// Borderline if the total is within this many points of `min_total_points`, on either side
    /// (only meaningful with a points condition; 0 means "exactly on the threshold").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within_points: Option<u64>,
}

/// The mastery rule: which scored reviews mean *mastered*. Anything else is *not yet*.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MasteryRule {
    pub(crate) combine: Combine,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) every_criterion_at_least: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) min_total_points: Option<u64>,
    pub(crate) borderline: Borderline,
}

impl MasteryRule {
    /// How the conditions combine.
    pub fn combine(&self) -> Combine {
        self.combine
    }
    /// The rubric-wide level every criterion must reach (criteria may override).
    pub fn every_criterion_at_least(&self) -> Option<&str> {
        self.every_criterion_at_least.as_deref()
    }
    /// The total (weighted) points needed.
    pub fn min_total_points(&self) -> Option<u64> {
        self.min_total_points
    }
    /// The borderline definition.
    pub fn borderline(&self) -> Borderline {
        self.borderline
    }
}

/// A validated rubric version. See the module docs for its invariants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rubric {
    pub(crate) id: String,
    pub(crate) version: RubricVersion,
    pub(crate) title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    pub(crate) competencies: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) case: Option<CaseLink>,
    pub(crate) mastery: MasteryRule,
    pub(crate) criteria: Vec<Criterion>,
    #[serde(skip)]
    pub(crate) digest: RubricDigest,
}

impl Rubric {
    /// Parse and validate a rubric from TOML text. `file` is only used in error locations.
    pub fn from_toml_str(source: &str, file: &str) -> Result<Rubric, Error> {
        toml_source::parse(source, file)
    }

    /// Read, parse and validate a rubric file.
    pub fn load(path: &Path) -> Result<Rubric, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Rubric::from_toml_str(&text, &path.display().to_string())
    }

    /// The canonical TOML form: a valid rubric file with defaults spelled out and no comments.
    /// Used to store CASE-imported rubrics in the same format as hand-written ones.
    pub fn to_toml(&self) -> String {
        // Serialising plain strings, integers and tables cannot fail.
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// Rubric id.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// Rubric version.
    pub fn version(&self) -> RubricVersion {
        self.version
    }
    /// Title.
    pub fn title(&self) -> &str {
        &self.title
    }
    /// Description.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    /// The competencies (CASE identifiers, URIs or human codes) the rubric assesses.
    pub fn competencies(&self) -> &[String] {
        &self.competencies
    }
    /// Whether the rubric assesses this competency.
    pub fn assesses(&self, competency: &str) -> bool {
        self.competencies.iter().any(|c| c == competency)
    }
    /// The criteria, in rubric order.
    pub fn criteria(&self) -> &[Criterion] {
        &self.criteria
    }
    /// A criterion by id.
    pub fn criterion(&self, id: &str) -> Option<&Criterion> {
        self.criteria.iter().find(|c| c.id == id)
    }
    /// The mastery rule.
    pub fn mastery(&self) -> &MasteryRule {
        &self.mastery
    }
    /// The CASE CFRubric this was imported from.
    pub fn case(&self) -> Option<&CaseLink> {
        self.case.as_ref()
    }
    /// Highest possible weighted total.
    pub fn max_points(&self) -> u64 {
        self.criteria
            .iter()
            .map(Criterion::max_points)
            .fold(0, u64::saturating_add)
    }
    /// SHA-256 of the canonical form.
    pub fn digest(&self) -> RubricDigest {
        self.digest
    }
    /// Id, version and digest, as recorded with every review.
    pub fn reference(&self) -> RubricRef {
        RubricRef {
            id: self.id.clone(),
            version: self.version,
            digest: self.digest.to_string(),
        }
    }

    pub(crate) fn compute_digest(&self) -> RubricDigest {
        let mut h = Sha256::new();
        h.update(DIGEST_PREFIX);
        // The struct serialises with a fixed field order and no floats, so the JSON is canonical.
        h.update(serde_json::to_vec(self).unwrap_or_default());
        RubricDigest(h.finalize().into())
    }

    /// What changed from `self` to `newer` (for a teacher reviewing a new version).
    pub fn changes_to(&self, newer: &Rubric) -> Vec<RubricChange> {
        let mut out = Vec::new();
        if self.id != newer.id {
            out.push(RubricChange::DifferentRubric);
            return out;
        }
        if self.title != newer.title || self.description != newer.description {
            out.push(RubricChange::TitleOrDescription);
        }
        if self.competencies != newer.competencies {
            out.push(RubricChange::Competencies);
        }
        if self.mastery != newer.mastery {
            out.push(RubricChange::MasteryRule);
        }
        for c in &self.criteria {
            match newer.criterion(&c.id) {
                None => out.push(RubricChange::CriterionRemoved(c.id.clone())),
                Some(n) if n != c => {
                    let levels_same = c.levels.len() == n.levels.len()
                        && c.levels
                            .iter()
                            .zip(&n.levels)
                            .all(|(a, b)| a.id == b.id && a.points == b.points);
                    out.push(
                        if levels_same
                            && c.weight == n.weight
                            && c.required_level == n.required_level
                        {
                            RubricChange::CriterionReworded(c.id.clone())
                        } else {
                            RubricChange::CriterionScaleChanged(c.id.clone())
                        },
                    );
                }
                Some(_) => {}
            }
        }
        for n in &newer.criteria {
            if self.criterion(&n.id).is_none() {
                out.push(RubricChange::CriterionAdded(n.id.clone()));
            }
        }
        out
    }
}

/// One difference between two rubric versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RubricChange {
    /// The two are different rubrics altogether.
    DifferentRubric,
    /// Title or description changed.
    TitleOrDescription,
    /// The assessed competencies changed.
    Competencies,
    /// The mastery rule (levels, threshold, combination, borderline) changed.
    MasteryRule,
    /// A criterion was added.
    CriterionAdded(String),
    /// A criterion was removed.
    CriterionRemoved(String),
    /// Only names or descriptors of a criterion or its levels changed.
    CriterionReworded(String),
    /// Levels, points, weight or required level of a criterion changed: scores from the two
    /// versions are not comparable for this criterion.
    CriterionScaleChanged(String),
}
