//! Assembling the unsigned `ClrCredential` from a [`TranscriptRequest`].
//!
//! CLR 2.0 and OB 3.0 terms are used wherever they exist: the embedded credentials, the registry
//! nodes as `achievement[]`, the hierarchy and prerequisites as `association[]`, `partial`. The
//! time-variable record, the period, the pacing summary and the learner's choice have no
//! CLR/OB term and use the Tessera IRIs of [`crate::vocab`].

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use crate::error::Error;
use crate::model::{
    AssociationType, CompetencyRecord, NodeKind, RegistryNode, Selection, TranscriptRequest,
};
use crate::vocab;

/// `@context` of every transcript: VC 2.0, CLR 2.0.1, OB 3.0.3 (the list the 1EdTech validator
/// expects for a CLR).
pub const CONTEXTS: [&str; 3] = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
];

/// `achievementType` of a framework node (OB 3.0 allows `ext:` extensions).
pub const FRAMEWORK_TYPE: &str = "ext:Framework";
/// `achievementType` of an area node.
pub const AREA_TYPE: &str = "ext:Area";

/// Builds the unsigned ClrCredential. Every credential keeps its exact JSON; `partial` is true
/// when the selection left out part of the learner's record.
pub fn assemble(request: &TranscriptRequest) -> Result<Value, Error> {
    let nodes: HashMap<&str, &RegistryNode> =
        request.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    let records: HashMap<&str, &CompetencyRecord> = request
        .records
        .iter()
        .map(|r| (r.competency_id.as_str(), r))
        .collect();

    // The learner's whole record: competencies worked on, and competencies credentials award.
    let mut credential_competency = Vec::with_capacity(request.credentials.len());
    for (i, credential) in request.credentials.iter().enumerate() {
        credential_competency.push(competency_of(credential, i)?);
    }
    let mut universe: Vec<&str> = request
        .records
        .iter()
        .map(|r| r.competency_id.as_str())
        .collect();
    universe.extend(credential_competency.iter().map(String::as_str));
    let universe: BTreeSet<&str> = universe.into_iter().collect();

    let included = select(&request.selection, &universe, &nodes)?;
    let partial = included.len() < universe.len();

    let embedded: Vec<Value> = request
        .credentials
        .iter()
        .zip(&credential_competency)
        .filter(|(_, c)| included.contains(c.as_str()))
        .map(|(v, _)| v.clone())
        .collect();
    if embedded.is_empty() {
        return Err(Error::Empty);
    }
    let awarded: HashSet<&str> = credential_competency
        .iter()
        .map(String::as_str)
        .filter(|c| included.contains(c))
        .collect();

    // Achievement definitions: the areas and frameworks above the included competencies, and
    // the included competencies no embedded credential defines (those still in progress).
    let parents = parent_map(request);
    let mut defined: Vec<&str> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for competency in &included {
        if !awarded.contains(competency) && seen.insert(competency) {
            defined.push(competency);
        }
        let mut at = *competency;
        let mut hops = 0;
        while let Some(parent) = parents.get(at) {
            hops += 1;
            if hops > 64 || !seen.insert(parent) {
                break;
            }
            defined.push(parent);
            at = parent;
        }
    }
    let mut achievements = Vec::with_capacity(defined.len());
    for id in &defined {
        let node = nodes
            .get(id)
            .ok_or_else(|| Error::UnknownCompetency((*id).to_owned()))?;
        if node.kind == NodeKind::Competency && !nodes.contains_key(node.framework_id.as_str()) {
            return Err(Error::MissingFramework {
                competency: node.id.clone(),
                framework: node.framework_id.clone(),
            });
        }
        achievements.push(achievement(node));
    }

    // Associations between nodes the transcript names.
    let named: HashSet<&str> = included
        .iter()
        .copied()
        .chain(defined.iter().copied())
        .collect();
    let associations: Vec<Value> = request
        .associations
        .iter()
        .filter(|a| named.contains(a.source.as_str()) && named.contains(a.target.as_str()))
        .map(|a| {
            json!({
                "type": "Association",
                "associationType": a.kind.as_str(),
                "sourceId": a.source,
                "targetId": a.target,
            })
        })
        .collect();

    // The time-variable record, oldest mastery first, in-progress last.
    let mut chosen: Vec<&CompetencyRecord> = included
        .iter()
        .filter_map(|c| records.get(c).copied())
        .collect();
    chosen.sort_by(|a, b| {
        (
            a.mastered_at.is_none(),
            a.mastered_at,
            a.first_activity,
            &a.competency_id,
        )
            .cmp(&(
                b.mastered_at.is_none(),
                b.mastered_at,
                b.first_activity,
                &b.competency_id,
            ))
    });
    let period_start = request
        .period_start
        .or_else(|| chosen.iter().map(|r| r.first_activity).min())
        .unwrap_or(request.issued_at);

    let mut subject = Map::new();
    subject.insert("type".into(), json!(["ClrSubject"]));
    if let Some(id) = &request.learner.id {
        subject.insert("id".into(), Value::String(id.clone()));
    }
    let mut identifiers = vec![json!({
        "type": "IdentityObject",
        "identityType": "name",
        "hashed": false,
        "identityHash": request.learner.name,
    })];
    identifiers.extend(request.learner.identifiers.iter().cloned());
    subject.insert("identifier".into(), Value::Array(identifiers));
    if !achievements.is_empty() {
        subject.insert("achievement".into(), Value::Array(achievements));
    }
    if !associations.is_empty() {
        subject.insert("association".into(), Value::Array(associations));
    }
    subject.insert("verifiableCredential".into(), Value::Array(embedded));
    subject.insert(
        vocab::TIME_VARIABLE_RECORD.into(),
        Value::Array(chosen.iter().map(|r| record(r)).collect()),
    );
    subject.insert(
        vocab::COVERS.into(),
        json!({
            "type": vocab::PERIOD,
            (vocab::START): date_time(period_start),
            (vocab::END): date_time(request.issued_at),
        }),
    );
    subject.insert(
        vocab::PACING.into(),
        pacing(&chosen, period_start, request.issued_at),
    );
    subject.insert(vocab::SELECTED.into(), selection(&request.selection));

    let name = request
        .name
        .clone()
        .unwrap_or_else(|| format!("Mastery Transcript — {}", request.learner.name));
    let issued = rfc3339(request.issued_at);
    let mut clr = Map::new();
    clr.insert("@context".into(), json!(CONTEXTS));
    clr.insert("id".into(), Value::String(request.id.clone()));
    clr.insert(
        "type".into(),
        json!(["VerifiableCredential", "ClrCredential"]),
    );
    clr.insert("issuer".into(), request.issuer.clone());
    clr.insert("validFrom".into(), Value::String(issued.clone()));
    clr.insert("awardedDate".into(), Value::String(issued));
    clr.insert("name".into(), Value::String(name));
    if let Some(description) = &request.description {
        clr.insert("description".into(), Value::String(description.clone()));
    }
    clr.insert("partial".into(), Value::Bool(partial));
    clr.insert("credentialSubject".into(), Value::Object(subject));
    Ok(Value::Object(clr))
}

/// The competency a credential awards: its `credentialSubject.achievement.id`.
pub fn competency_of(credential: &Value, index: usize) -> Result<String, Error> {
    let name = || {
        credential
            .get("id")
            .and_then(Value::as_str)
            .map_or_else(|| format!("#{index}"), str::to_owned)
    };
    if !credential.is_object() {
        return Err(Error::Credential {
            credential: name(),
            reason: "is not a JSON object".into(),
        });
    }
    credential
        .pointer("/credentialSubject/achievement/id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::Credential {
            credential: name(),
            reason: "has no credentialSubject.achievement.id".into(),
        })
}

fn select<'a>(
    selection: &Selection,
    universe: &BTreeSet<&'a str>,
    nodes: &HashMap<&str, &RegistryNode>,
) -> Result<BTreeSet<&'a str>, Error> {
    match selection {
        Selection::Everything => Ok(universe.clone()),
        Selection::Framework(framework) => {
            let chosen: BTreeSet<&str> = universe
                .iter()
                .copied()
                .filter(|c| nodes.get(c).is_some_and(|n| &n.framework_id == framework))
                .collect();
            if chosen.is_empty() {
                return Err(Error::UnknownFramework(framework.clone()));
            }
            Ok(chosen)
        }
        Selection::Competencies(ids) => ids
            .iter()
            .map(|id| {
                universe
                    .get(id.as_str())
                    .copied()
                    .ok_or_else(|| Error::UnknownCompetency(id.clone()))
            })
            .collect(),
    }
}

/// Each node's parent by `isChildOf` (the first one, if the registry lists several).
fn parent_map(request: &TranscriptRequest) -> HashMap<&str, &str> {
    let mut parents = HashMap::new();
    for a in &request.associations {
        if a.kind == AssociationType::IsChildOf {
            parents
                .entry(a.source.as_str())
                .or_insert(a.target.as_str());
        }
    }
    parents
}

fn achievement(node: &RegistryNode) -> Value {
    let mut a = Map::new();
    a.insert("id".into(), Value::String(node.id.clone()));
    a.insert("type".into(), json!(["Achievement"]));
    a.insert(
        "achievementType".into(),
        Value::String(
            match node.kind {
                NodeKind::Framework => FRAMEWORK_TYPE,
                NodeKind::Area => AREA_TYPE,
                NodeKind::Competency => "Competency",
            }
            .into(),
        ),
    );
    a.insert("name".into(), Value::String(node.name.clone()));
    let description = if node.statement.trim().is_empty() {
        &node.name
    } else {
        &node.statement
    };
    a.insert("description".into(), Value::String(description.clone()));
    a.insert(
        "criteria".into(),
        json!({ "narrative": match node.kind {
            NodeKind::Competency => "Mastery is decided by teachers reviewing the learner's evidence against the competency's rubric.",
            _ => "Groups the competencies associated with it (isChildOf).",
        }}),
    );
    if let Some(code) = &node.code {
        a.insert("humanCode".into(), Value::String(code.clone()));
    }
    Value::Object(a)
}

fn record(r: &CompetencyRecord) -> Value {
    let mut m = Map::new();
    m.insert(
        "type".into(),
        Value::String(vocab::COMPETENCY_RECORD.into()),
    );
    m.insert(vocab::COMPETENCY.into(), json!({ "@id": r.competency_id }));
    m.insert(vocab::FIRST_ACTIVITY.into(), date_time(r.first_activity));
    m.insert(vocab::ATTEMPTS.into(), json!(r.attempts));
    if let Some(mastered) = r.mastered_at {
        m.insert(vocab::MASTERED_AT.into(), date_time(mastered));
        m.insert(
            vocab::TIME_TO_MASTERY.into(),
            duration(mastered - r.first_activity),
        );
    }
    if let Some(level) = &r.level {
        m.insert(vocab::LEVEL.into(), Value::String(level.clone()));
    }
    Value::Object(m)
}

fn pacing(records: &[&CompetencyRecord], start: DateTime<Utc>, end: DateTime<Utc>) -> Value {
    let mastered: Vec<&CompetencyRecord> = records
        .iter()
        .copied()
        .filter(|r| r.mastered_at.is_some())
        .collect();
    let mut m = Map::new();
    m.insert("type".into(), Value::String(vocab::PACING_SUMMARY.into()));
    m.insert(vocab::MASTERED_COUNT.into(), json!(mastered.len()));
    m.insert(
        vocab::IN_PROGRESS_COUNT.into(),
        json!(records.len() - mastered.len()),
    );
    let mut times: Vec<chrono::TimeDelta> = mastered
        .iter()
        .filter_map(|r| r.mastered_at.map(|m| m - r.first_activity))
        .collect();
    times.sort();
    if !times.is_empty() {
        let mid = times.len() / 2;
        let median = if times.len() % 2 == 1 {
            times[mid]
        } else {
            (times[mid - 1] + times[mid]) / 2
        };
        m.insert(vocab::MEDIAN_TIME_TO_MASTERY.into(), duration(median));
        let attempts: u64 = mastered.iter().map(|r| u64::from(r.attempts)).sum();
        m.insert(
            vocab::MEAN_ATTEMPTS.into(),
            decimal(attempts as f64 / mastered.len() as f64),
        );
        let days = ((end - start).num_seconds() as f64 / 86_400.0).max(1.0);
        m.insert(
            vocab::MASTERIES_PER_MONTH.into(),
            decimal(mastered.len() as f64 * 30.0 / days),
        );
    }
    Value::Object(m)
}

fn selection(selection: &Selection) -> Value {
    let (scope, includes): (&str, Vec<&str>) = match selection {
        Selection::Everything => ("everything", Vec::new()),
        Selection::Framework(f) => ("framework", vec![f.as_str()]),
        Selection::Competencies(ids) => ("competencies", ids.iter().map(String::as_str).collect()),
    };
    let mut m = Map::new();
    m.insert("type".into(), Value::String(vocab::SELECTION.into()));
    m.insert(vocab::SCOPE.into(), Value::String(scope.into()));
    if !includes.is_empty() {
        m.insert(
            vocab::INCLUDES.into(),
            Value::Array(includes.into_iter().map(|i| json!({ "@id": i })).collect()),
        );
    }
    Value::Object(m)
}

/// XSD dateTime text, whole seconds, `Z`.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn date_time(t: DateTime<Utc>) -> Value {
    json!({ "@value": rfc3339(t), "@type": vocab::xsd::DATE_TIME })
}

fn decimal(x: f64) -> Value {
    json!({ "@value": format!("{x:.2}"), "@type": vocab::xsd::DECIMAL })
}

/// An xsd:duration in days, hours and minutes (`P120DT4H`), the precision a transcript needs.
fn duration(d: chrono::TimeDelta) -> Value {
    json!({ "@value": format_duration(d), "@type": vocab::xsd::DURATION })
}

/// Formats a non-negative span as `PnDTnHnM` (zero parts left out; `PT0M` for nothing).
pub fn format_duration(d: chrono::TimeDelta) -> String {
    let minutes = d.num_minutes().max(0);
    let (days, hours, mins) = (minutes / 1440, (minutes % 1440) / 60, minutes % 60);
    let mut out = String::from("P");
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if hours > 0 || mins > 0 || days == 0 {
        out.push('T');
        if hours > 0 {
            out.push_str(&format!("{hours}H"));
        }
        if mins > 0 || hours == 0 {
            out.push_str(&format!("{mins}M"));
        }
    }
    out
}

/// Parses the `PnDTnHnM` form [`format_duration`] writes back into days (fractional).
pub fn duration_days(text: &str) -> Option<f64> {
    let rest = text.strip_prefix('P')?;
    let (date, time) = rest.split_once('T').unwrap_or((rest, ""));
    let mut days = 0.0;
    if !date.is_empty() {
        days += date.strip_suffix('D')?.parse::<f64>().ok()?;
    }
    let mut number = String::new();
    for c in time.chars() {
        match c {
            '0'..='9' | '.' => number.push(c),
            'H' => days += number.parse::<f64>().ok()? / 24.0,
            'M' => days += number.parse::<f64>().ok()? / 1440.0,
            'S' => days += number.parse::<f64>().ok()? / 86_400.0,
            _ => return None,
        }
        if c.is_ascii_alphabetic() {
            number.clear();
        }
    }
    Some(days)
}
