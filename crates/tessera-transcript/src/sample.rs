//! Synthetic learners for tests, benchmarks and demos: a registry, a time-variable record and
//! signed AchievementCredentials (did:key issuer), with long statements and non-Latin names so
//! renderings are exercised at their hardest. Deterministic for a given size.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Value, json};
use tessera_vc::keys::KeyPair;
use tessera_vc::proof::{Cryptosuite, ProofOptions};

use crate::assemble::rfc3339;
use crate::error::Error;
use crate::model::{
    AssociationType, CompetencyRecord, Learner, NodeKind, RegistryAssociation, RegistryNode,
    Selection, TranscriptRequest,
};

/// The test organisation's key (a fixed seed: never use it for anything real).
pub fn organisation_key() -> KeyPair {
    KeyPair::from_seed([7u8; 32])
}

/// The learner name used by samples: Latin with diacritics, Cyrillic, Greek and Georgian.
pub const LEARNER_NAME: &str = "Алёна Κωνσταντίνου-Nguyễn (ალიონა)";

const AREA_NAMES: [&str; 6] = [
    "Scientific Inquiry",
    "Quantitative Reasoning",
    "Communication — Коммуникация",
    "Civic Engagement · Πολιτότητα",
    "Creative Practice",
    "Habits of Mind — ჩვევები",
];

const LEVELS: [&str; 4] = ["Beginning", "Developing", "Proficient", "Advanced"];

fn at(day: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2023, 9, 1, 8, 0, 0)
        .single()
        .unwrap_or_default()
        + Duration::days(day)
}

/// The registry node id of competency `i`.
pub fn competency_id(i: usize) -> String {
    format!("https://tessera.example/competencies/c{i:04}")
}

fn statement(i: usize, long: bool) -> String {
    let base = format!(
        "Constructs, tests and revises an explanation for phenomenon {i}, using evidence gathered \
         over several investigations and weighing alternative explanations"
    );
    if long {
        format!(
            "{base}; communicates the reasoning to a non-specialist audience in writing and orally, \
             cites every source, and reflects on how the explanation changed as new evidence arrived \
             — including data that did not fit the first model (Объясняет явления на основе данных)."
        )
    } else {
        format!("{base}.")
    }
}

fn competency_name(i: usize) -> String {
    match i % 5 {
        0 => format!("Evidence-based argument {i}"),
        1 => format!("Моделирование систем {i}"),
        2 => format!("Ανάλυση δεδομένων {i}"),
        3 => format!("Collaborative design and iteration across disciplines, part {i}"),
        _ => format!("მონაცემთა კომუნიკაცია {i}"),
    }
}

/// One signed AchievementCredential for a mastered competency, as the service issues them
/// (OB 3.0 contexts only).
pub fn credential(
    key: &KeyPair,
    node: &RegistryNode,
    record: &CompetencyRecord,
    learner_id: &str,
) -> Result<Value, Error> {
    let issuer = key.public_key().did_key();
    let mastered = record.mastered_at.unwrap_or(record.first_activity);
    let base = &node.id;
    let achieved = LEVELS
        .iter()
        .position(|l| Some(*l) == record.level.as_deref())
        .unwrap_or(2)
        + 1;
    let levels: Vec<Value> = LEVELS
        .iter()
        .enumerate()
        .map(|(n, l)| {
            json!({
                "id": format!("{base}/levels/{}", n + 1),
                "type": ["RubricCriterionLevel"],
                "name": l,
                "description": format!("{l}: performance on the criterion is {}.", l.to_lowercase()),
                "level": l,
            })
        })
        .collect();
    let unsigned = json!({
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
        ],
        "id": format!("urn:uuid:00000000-0000-4000-8000-{:012}", node_number(base)),
        "type": ["VerifiableCredential", "AchievementCredential"],
        "issuer": { "id": issuer, "type": ["Profile"], "name": "Lincoln High School" },
        "validFrom": rfc3339(mastered),
        "name": format!("{} — {}", node.name, record.level.as_deref().unwrap_or("Mastered")),
        "credentialSubject": {
            "id": learner_id,
            "type": ["AchievementSubject"],
            "activityStartDate": rfc3339(record.first_activity),
            "activityEndDate": rfc3339(mastered),
            "achievement": {
                "id": base,
                "type": ["Achievement"],
                "achievementType": "Competency",
                "name": node.name,
                "description": node.statement,
                "humanCode": node.code,
                "criteria": { "narrative": "Rated Proficient or above on the rubric for two independently reviewed artifacts." },
                "resultDescription": [{
                    "id": format!("{base}/results/level"),
                    "type": ["ResultDescription"],
                    "name": "Mastery level",
                    "resultType": "RubricCriterionLevel",
                    "requiredLevel": format!("{base}/levels/3"),
                    "rubricCriterionLevel": levels,
                }]
            },
            "result": [{
                "type": ["Result"],
                "resultDescription": format!("{base}/results/level"),
                "achievedLevel": format!("{base}/levels/{achieved}"),
                "status": "Completed"
            }]
        },
        "evidence": [{
            "id": format!("https://tessera.example/evidence/{}", node_number(base)),
            "type": ["Evidence"],
            "name": format!("Project portfolio entry for {}", node.name),
            "narrative": "Reviewed by two teachers against the rubric; the scores agreed."
        }]
    });
    let options = ProofOptions::new(
        Cryptosuite::EddsaRdfc2022,
        key.public_key().did_key_verification_method(),
        Some(rfc3339(mastered)),
    );
    Ok(tessera_vc::proof::sign(&unsigned, key, &options)?)
}

fn node_number(id: &str) -> u64 {
    id.rsplit('c')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// A learner with `n` competencies over about two years: most mastered, every seventh still in
/// progress, grouped in six areas of one framework, with `precedes` chains. `long` gives every
/// competency a three-line statement.
pub fn request(n: usize, long: bool) -> Result<TranscriptRequest, Error> {
    let key = organisation_key();
    let framework = "https://tessera.example/frameworks/lincoln-graduate-profile".to_owned();
    let learner_id = "did:example:learner-alena";
    let mut nodes = vec![RegistryNode {
        id: framework.clone(),
        framework_id: framework.clone(),
        kind: NodeKind::Framework,
        code: None,
        name: "Lincoln Graduate Profile — Профиль выпускника".into(),
        statement: "The competencies a Lincoln graduate demonstrates.".into(),
    }];
    let mut associations = Vec::new();
    for (a, name) in AREA_NAMES.iter().enumerate() {
        let id = format!("https://tessera.example/areas/a{a}");
        nodes.push(RegistryNode {
            id: id.clone(),
            framework_id: framework.clone(),
            kind: NodeKind::Area,
            code: None,
            name: (*name).into(),
            statement: format!("Performance area: {name}."),
        });
        associations.push(RegistryAssociation {
            source: id,
            kind: AssociationType::IsChildOf,
            target: framework.clone(),
        });
    }
    let mut records = Vec::new();
    let mut credentials = Vec::new();
    for i in 0..n {
        let id = competency_id(i);
        let area = i % AREA_NAMES.len();
        let node = RegistryNode {
            id: id.clone(),
            framework_id: framework.clone(),
            kind: NodeKind::Competency,
            code: Some(format!("LGP-{}.{}", area + 1, i / AREA_NAMES.len() + 1)),
            name: competency_name(i),
            statement: statement(i, long),
        };
        associations.push(RegistryAssociation {
            source: id.clone(),
            kind: AssociationType::IsChildOf,
            target: format!("https://tessera.example/areas/a{area}"),
        });
        if i >= AREA_NAMES.len() {
            associations.push(RegistryAssociation {
                source: competency_id(i - AREA_NAMES.len()),
                kind: AssociationType::Precedes,
                target: id.clone(),
            });
        }
        let start = (i as i64 * 700) / n.max(1) as i64;
        let in_progress = i % 7 == 6;
        let record = CompetencyRecord {
            competency_id: id,
            first_activity: at(start),
            attempts: 1 + (i % 4) as u32,
            mastered_at: (!in_progress).then(|| at(start + 14 + (i % 9) as i64 * 11)),
            level: (!in_progress).then(|| LEVELS[2 + i % 2].to_owned()),
        };
        if !in_progress {
            credentials.push(credential(&key, &node, &record, learner_id)?);
        }
        records.push(record);
        nodes.push(node);
    }
    Ok(TranscriptRequest {
        id: "urn:uuid:7a3c9e51-2b4d-4f60-9a8b-1c2d3e4f5a6b".into(),
        issuer: json!({
            "id": key.public_key().did_key(),
            "type": ["Profile"],
            "name": "Lincoln High School",
            "url": "https://lincoln.example.edu"
        }),
        name: None,
        description: Some(
            "Competencies mastered at Lincoln High School, with when and how.".into(),
        ),
        learner: Learner {
            id: Some(learner_id.into()),
            name: LEARNER_NAME.into(),
            identifiers: Vec::new(),
        },
        // After the last mastery (start ≤ 700 days, mastery ≤ 14 + 8 × 11 days later): a
        // transcript issued before one of its credentials would embed a not-yet-valid one.
        issued_at: at(830),
        period_start: None,
        nodes,
        associations,
        records,
        credentials,
        selection: Selection::Everything,
    })
}

/// Assembles and signs the sample transcript with the organisation's key.
pub fn signed_transcript(request: &TranscriptRequest) -> Result<Value, Error> {
    let key = organisation_key();
    let unsigned = crate::assemble(request)?;
    crate::sign(
        &unsigned,
        &key,
        &key.public_key().did_key_verification_method(),
        request.issued_at,
    )
}
