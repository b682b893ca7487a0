//! The signed transcript read back into what a reader sees: areas, competencies with level and
//! dates, the pace, and for each competency its rubric and shared evidence.
//!
//! Renderers take a [`TranscriptView`] made from the *signed* JSON, never from the request, so
//! the page and the PDF show exactly what the signature covers.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::assemble::{AREA_TYPE, FRAMEWORK_TYPE, duration_days};
use crate::error::Error;
use crate::vocab;

/// Everything a rendering shows.
#[derive(Debug, Clone, Serialize)]
pub struct TranscriptView {
    /// The transcript's `id`.
    pub id: String,
    /// Its title.
    pub title: String,
    /// The sentence under the title, if any.
    pub description: Option<String>,
    /// The issuing organisation.
    pub issuer_name: String,
    /// The issuer's id (a DID or URL).
    pub issuer_id: String,
    /// The issuer's web site, if given.
    pub issuer_url: Option<String>,
    /// The learner's name.
    pub learner_name: String,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// Start of the period covered.
    pub period_start: Option<DateTime<Utc>>,
    /// End of the period covered.
    pub period_end: Option<DateTime<Utc>>,
    /// True when the learner chose part of their record.
    pub partial: bool,
    /// `everything`, `framework` or `competencies`.
    pub scope: String,
    /// The pacing summary.
    pub pacing: Pacing,
    /// Competencies grouped by area, in registry order.
    pub areas: Vec<Area>,
    /// Whether the transcript carries a proof (a rendering of an unsigned draft says so).
    pub signed: bool,
}

/// The pacing summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Pacing {
    /// Competencies mastered.
    pub mastered: u64,
    /// Competencies in progress.
    pub in_progress: u64,
    /// Median days from first activity to mastery.
    pub median_days: Option<f64>,
    /// Mean attempts per mastered competency.
    pub mean_attempts: Option<String>,
    /// Masteries per 30 days.
    pub per_month: Option<String>,
}

/// One area (or a framework with no areas) and its competencies.
#[derive(Debug, Clone, Serialize)]
pub struct Area {
    /// The area's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The framework it belongs to, if named.
    pub framework: Option<String>,
    /// Its competencies, oldest mastery first, in-progress last.
    pub competencies: Vec<Competency>,
}

/// One competency as the transcript shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Competency {
    /// Its id.
    pub id: String,
    /// A short code, if any.
    pub code: Option<String>,
    /// Its name.
    pub name: String,
    /// Its statement.
    pub statement: String,
    /// The level reached, if any.
    pub level: Option<String>,
    /// First activity.
    pub first_activity: Option<DateTime<Utc>>,
    /// Mastery date (None while in progress).
    pub mastered_at: Option<DateTime<Utc>>,
    /// Attempts.
    pub attempts: u64,
    /// Days from first activity to mastery.
    pub days_to_mastery: Option<f64>,
    /// The id of the credential that awards it, if embedded.
    pub credential_id: Option<String>,
    /// The rubric (levels, with the one achieved and the one required marked).
    pub rubric: Vec<RubricLevel>,
    /// The evidence the learner shared.
    pub evidence: Vec<Evidence>,
    /// Names of the competencies that precede it.
    pub prerequisites: Vec<String>,
}

/// One rubric level.
#[derive(Debug, Clone, Serialize)]
pub struct RubricLevel {
    /// Criterion name (the ResultDescription's).
    pub criterion: String,
    /// The level's name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// This is the level achieved.
    pub achieved: bool,
    /// This is the level required for mastery.
    pub required: bool,
}

/// One piece of evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    /// Its name.
    pub name: String,
    /// What it shows.
    pub narrative: Option<String>,
    /// Where to see it.
    pub url: Option<String>,
}

fn s(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn list(v: Option<&Value>) -> Vec<&Value> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
    }
}

fn time(v: Option<&Value>) -> Option<DateTime<Utc>> {
    let text = match v? {
        Value::String(t) => t.as_str(),
        Value::Object(o) => o.get("@value")?.as_str()?,
        _ => return None,
    };
    tessera_vc::datetime::parse_timestamp(text)
}

fn literal(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(t) => Some(t.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(o) => o.get("@value").map(|v| match v {
            Value::String(t) => t.clone(),
            other => other.to_string(),
        }),
        _ => None,
    }
}

impl TranscriptView {
    /// Reads a (signed) transcript made by [`crate::assemble()`].
    pub fn from_clr(clr: &Value) -> Result<Self, Error> {
        let subject = clr
            .get("credentialSubject")
            .filter(|s| s.is_object())
            .ok_or_else(|| Error::NotATranscript("no credentialSubject".into()))?;
        let issuer = clr
            .get("issuer")
            .ok_or_else(|| Error::NotATranscript("no issuer".into()))?;
        let (issuer_id, issuer_name, issuer_url) = match issuer {
            Value::String(id) => (id.clone(), id.clone(), None),
            other => (
                s(other, "id").unwrap_or_default(),
                s(other, "name").unwrap_or_default(),
                s(other, "url"),
            ),
        };
        let learner_name = list(subject.get("identifier"))
            .into_iter()
            .find(|i| i.get("identityType").and_then(Value::as_str) == Some("name"))
            .and_then(|i| s(i, "identityHash"))
            .unwrap_or_default();

        // Definitions: registry nodes, then the achievements of embedded credentials.
        let mut defs: HashMap<String, &Value> = HashMap::new();
        let mut order: Vec<String> = Vec::new();
        for a in list(subject.get("achievement")) {
            if let Some(id) = s(a, "id") {
                order.push(id.clone());
                defs.insert(id, a);
            }
        }
        let mut awarded: HashMap<String, &Value> = HashMap::new();
        for c in list(subject.get("verifiableCredential")) {
            if let Some(id) = c
                .pointer("/credentialSubject/achievement/id")
                .and_then(Value::as_str)
            {
                awarded.insert(id.to_owned(), c);
            }
        }
        let mut parent: HashMap<String, String> = HashMap::new();
        let mut preceded_by: HashMap<String, Vec<String>> = HashMap::new();
        for a in list(subject.get("association")) {
            let (Some(kind), Some(src), Some(dst)) =
                (s(a, "associationType"), s(a, "sourceId"), s(a, "targetId"))
            else {
                continue;
            };
            match kind.as_str() {
                "isChildOf" => {
                    parent.entry(src).or_insert(dst);
                }
                "precedes" => preceded_by.entry(dst).or_default().push(src),
                _ => {}
            }
        }
        let name_of = |id: &str| -> String {
            awarded
                .get(id)
                .and_then(|c| c.pointer("/credentialSubject/achievement/name"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| defs.get(id).and_then(|a| s(a, "name")))
                .unwrap_or_else(|| id.to_owned())
        };
        let kind_of = |id: &str| defs.get(id).and_then(|a| s(a, "achievementType"));

        let mut areas: Vec<Area> = Vec::new();
        let mut area_index: HashMap<String, usize> = HashMap::new();
        for id in &order {
            let kind = kind_of(id);
            if kind.as_deref() == Some(AREA_TYPE) {
                area_index.insert(id.clone(), areas.len());
                areas.push(Area {
                    id: id.clone(),
                    name: name_of(id),
                    framework: framework_of(id, &parent, &kind_of).map(|f| name_of(&f)),
                    competencies: Vec::new(),
                });
            }
        }

        for r in list(subject.get(vocab::TIME_VARIABLE_RECORD)) {
            let Some(id) = r
                .get(vocab::COMPETENCY)
                .and_then(|c| c.get("@id"))
                .and_then(Value::as_str)
            else {
                continue;
            };
            let credential = awarded.get(id).copied();
            let achievement = credential
                .and_then(|c| c.pointer("/credentialSubject/achievement"))
                .or_else(|| defs.get(id).copied());
            let competency = Competency {
                id: id.to_owned(),
                code: achievement.and_then(|a| s(a, "humanCode")).or_else(|| {
                    achievement
                        .and_then(|a| a.pointer("/alignment/0/targetCode"))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                }),
                name: name_of(id),
                statement: achievement
                    .and_then(|a| s(a, "description"))
                    .unwrap_or_default(),
                level: literal(r.get(vocab::LEVEL)),
                first_activity: time(r.get(vocab::FIRST_ACTIVITY)),
                mastered_at: time(r.get(vocab::MASTERED_AT)),
                attempts: r.get(vocab::ATTEMPTS).and_then(Value::as_u64).unwrap_or(0),
                days_to_mastery: literal(r.get(vocab::TIME_TO_MASTERY))
                    .and_then(|d| duration_days(&d)),
                credential_id: credential.and_then(|c| s(c, "id")),
                rubric: credential.map(rubric).unwrap_or_default(),
                evidence: credential.map(evidence).unwrap_or_default(),
                prerequisites: preceded_by
                    .get(id)
                    .map(|p| p.iter().map(|p| name_of(p)).collect())
                    .unwrap_or_default(),
            };
            // The area is the nearest ancestor that is an area; else the framework; else "Other".
            let mut at = id.to_owned();
            let mut home = None;
            for _ in 0..64 {
                let Some(p) = parent.get(&at) else { break };
                if area_index.contains_key(p) {
                    home = Some(p.clone());
                    break;
                }
                if kind_of(p).as_deref() == Some(FRAMEWORK_TYPE) {
                    home = Some(p.clone());
                    break;
                }
                at = p.clone();
            }
            let home = home.unwrap_or_else(|| "urn:tessera:other".to_owned());
            let index = match area_index.get(&home) {
                Some(i) => *i,
                None => {
                    area_index.insert(home.clone(), areas.len());
                    areas.push(Area {
                        name: if home == "urn:tessera:other" {
                            "Other competencies".to_owned()
                        } else {
                            name_of(&home)
                        },
                        framework: None,
                        id: home,
                        competencies: Vec::new(),
                    });
                    areas.len() - 1
                }
            };
            areas[index].competencies.push(competency);
        }
        areas.retain(|a| !a.competencies.is_empty());

        let pacing_node = subject.get(vocab::PACING);
        let pacing = Pacing {
            mastered: pacing_node
                .and_then(|p| p.get(vocab::MASTERED_COUNT))
                .and_then(Value::as_u64)
                .unwrap_or(0),
            in_progress: pacing_node
                .and_then(|p| p.get(vocab::IN_PROGRESS_COUNT))
                .and_then(Value::as_u64)
                .unwrap_or(0),
            median_days: literal(pacing_node.and_then(|p| p.get(vocab::MEDIAN_TIME_TO_MASTERY)))
                .and_then(|d| duration_days(&d)),
            mean_attempts: literal(pacing_node.and_then(|p| p.get(vocab::MEAN_ATTEMPTS))),
            per_month: literal(pacing_node.and_then(|p| p.get(vocab::MASTERIES_PER_MONTH))),
        };
        let covers = subject.get(vocab::COVERS);
        Ok(TranscriptView {
            id: s(clr, "id").unwrap_or_default(),
            title: s(clr, "name").unwrap_or_default(),
            description: s(clr, "description"),
            issuer_name,
            issuer_id,
            issuer_url,
            learner_name,
            issued_at: time(clr.get("validFrom"))
                .ok_or_else(|| Error::NotATranscript("no readable validFrom".into()))?,
            period_start: time(covers.and_then(|c| c.get(vocab::START))),
            period_end: time(covers.and_then(|c| c.get(vocab::END))),
            partial: clr.get("partial").and_then(Value::as_bool).unwrap_or(false),
            scope: subject
                .get(vocab::SELECTED)
                .and_then(|s| s.get(vocab::SCOPE))
                .and_then(Value::as_str)
                .unwrap_or("everything")
                .to_owned(),
            pacing,
            areas,
            signed: clr.get("proof").is_some(),
        })
    }

    /// Every competency, in area order.
    pub fn competencies(&self) -> impl Iterator<Item = &Competency> {
        self.areas.iter().flat_map(|a| a.competencies.iter())
    }
}

fn framework_of(
    id: &str,
    parent: &HashMap<String, String>,
    kind_of: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    let mut at = id.to_owned();
    for _ in 0..64 {
        let p = parent.get(&at)?;
        if kind_of(p).as_deref() == Some(FRAMEWORK_TYPE) {
            return Some(p.clone());
        }
        at = p.clone();
    }
    None
}

fn rubric(credential: &Value) -> Vec<RubricLevel> {
    let achieved: Vec<String> = list(credential.pointer("/credentialSubject/result"))
        .into_iter()
        .filter_map(|r| s(r, "achievedLevel"))
        .collect();
    let mut out = Vec::new();
    for rd in list(credential.pointer("/credentialSubject/achievement/resultDescription")) {
        let criterion = s(rd, "name").unwrap_or_default();
        let required = s(rd, "requiredLevel");
        for level in list(rd.get("rubricCriterionLevel")) {
            let id = s(level, "id");
            out.push(RubricLevel {
                criterion: criterion.clone(),
                name: s(level, "name").unwrap_or_default(),
                description: s(level, "description").unwrap_or_default(),
                achieved: id.as_ref().is_some_and(|i| achieved.contains(i)),
                required: id.is_some() && id == required,
            });
        }
    }
    out
}

fn evidence(credential: &Value) -> Vec<Evidence> {
    list(credential.get("evidence"))
        .into_iter()
        .map(|e| Evidence {
            name: s(e, "name").unwrap_or_else(|| "Evidence".to_owned()),
            narrative: s(e, "narrative").or_else(|| s(e, "description")),
            url: s(e, "id").filter(|u| u.starts_with("https://") || u.starts_with("http://")),
        })
        .collect()
}
