//! The Open Badges 3.0 `AchievementCredential` for one mastered competency.
//!
//! What goes in, and where (<https://www.imsglobal.org/spec/ob/v3p0/#achievementcredential>):
//! - `issuer`: the organisation's Profile (its DID as `id`, its name, its public URL);
//! - `credentialSubject` (AchievementSubject): the learner's DID or pairwise `urn:uuid`, the
//!   Achievement, one `Result` per rubric criterion (the achieved level), and the
//!   time-variable record: `activityStartDate` (first activity) and `activityEndDate` (mastery)
//!   are OB's own terms; `attemptsToMastery`, `timeToMastery` and `masteryByOverride` come from
//!   Tessera's context;
//! - `achievement`: name, description, criteria, `achievementType: Competency`, `humanCode`,
//!   `image` (an `Image` with a caption), an
//!   Alignment to the CASE item (`targetType: CFItem`), the rubric's ResultDescriptions (and its
//!   CASE Alignment when it came from CASE);
//! - `evidence`: references and SHA-256 digests (`digestSRI`) only, never the learner's content;
//! - `credentialStatus`: one revocation and one suspension `BitstringStatusListEntry`;
//! - `relatedResource`: Tessera's context, pinned by `digestSRI`.

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{Map, Value, json};
use tessera_review::{MasteryRecord, Rubric};

use crate::{Error, context};

/// The OB context version Tessera writes.
pub const OB_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";
/// The VC 2.0 context.
pub const VC_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";

/// The issuing organisation as its Profile shows it.
#[derive(Debug, Clone)]
pub struct IssuerProfile {
    /// The issuer id (did:web or did:key).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Its web address.
    pub url: Option<String>,
}

/// The registry item (a CASE CFItem) the credential certifies.
#[derive(Debug, Clone)]
pub struct CompetencyItem {
    /// CASE identifier.
    pub id: String,
    /// CASE URI.
    pub uri: String,
    /// Human coding scheme, e.g. `C.4`.
    pub code: Option<String>,
    /// Full statement.
    pub statement: String,
    /// Abbreviated statement.
    pub abbreviated: Option<String>,
    /// Longer description (CASE notes).
    pub description: Option<String>,
    /// The framework's title.
    pub framework: Option<String>,
}

/// One piece of evidence, by reference and digest.
#[derive(Debug, Clone)]
pub struct EvidenceRef {
    /// Where it can be fetched (with permission).
    pub url: String,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256_hex: String,
    /// Its media type.
    pub media_type: Option<String>,
    /// A neutral label (never the learner's file name or text).
    pub name: String,
}

/// Everything the credential is built from.
#[derive(Debug, Clone)]
pub struct CredentialInput<'a> {
    /// The credential's UUID (its `id` is `urn:uuid:<this>`).
    pub id: &'a str,
    /// The issuer.
    pub issuer: &'a IssuerProfile,
    /// The Achievement's id (an https URL under the service).
    pub achievement_id: &'a str,
    /// The competency.
    pub competency: &'a CompetencyItem,
    /// The rubric version that gave mastery, if a review did.
    pub rubric: Option<&'a Rubric>,
    /// Base URL of rubric pages, for ResultDescription ids (`tessera_review::ob`).
    pub rubric_base: &'a str,
    /// The learner's record for the competency (must be mastered).
    pub record: &'a MasteryRecord,
    /// `credentialSubject.id`.
    pub subject_id: &'a str,
    /// `validFrom`.
    pub valid_from: DateTime<Utc>,
    /// The `BitstringStatusListEntry` objects (see [`crate::status::entry`]).
    pub status: Vec<Value>,
    /// Evidence references.
    pub evidence: &'a [EvidenceRef],
    /// The Achievement's `image` (an https URL of a PNG or SVG), if it has one.
    pub image: Option<&'a str>,
    /// `credentialSubject.identifier`: an IdentityObject such as [`hashed_email`], when the
    /// issuer names the learner that way too.
    pub identifier: Option<Value>,
}

/// An OB 3.0 `IdentityObject` naming the learner by e-mail without showing it:
/// `sha256$<hex>` of the trimmed, lower-cased address with `salt` appended. Anyone who knows the
/// address can check it ([`names_email`]); anyone with a list of addresses can also find it,
/// which is why issuers turn it on only when their consumers need it.
pub fn hashed_email(email: &str, salt: &str) -> Value {
    json!({
        "type": "IdentityObject",
        "identityType": "emailAddress",
        "hashed": true,
        "identityHash": email_hash(email, salt),
        "salt": salt,
    })
}

fn email_hash(email: &str, salt: &str) -> String {
    use sha2::{Digest, Sha256};
    let normalised = email.trim().to_lowercase();
    let digest = Sha256::digest(format!("{normalised}{salt}").as_bytes());
    format!("sha256${}", hex::encode(digest))
}

/// Whether the `IdentityObject` `identity` names `email` (the OB 3.0 check of a known
/// identifier: hashed with its salt when `hashed`, else compared as is).
pub fn names_email(identity: &Value, email: &str) -> bool {
    if identity["identityType"] != "emailAddress" {
        return false;
    }
    let Some(hash) = identity["identityHash"].as_str() else {
        return false;
    };
    if identity["hashed"] == true {
        let salt = identity["salt"].as_str().unwrap_or("");
        hash.eq_ignore_ascii_case(&email_hash(email, salt))
    } else {
        hash.trim().eq_ignore_ascii_case(email.trim())
    }
}

/// The Achievement's `name`: the code with the short statement (or the statement).
pub fn achievement_name(c: &CompetencyItem) -> String {
    match (&c.code, &c.abbreviated) {
        (Some(code), Some(short)) => format!("{code} {short}"),
        (None, Some(short)) => short.clone(),
        (Some(code), None) => format!("{code} {}", c.statement),
        (None, None) => c.statement.clone(),
    }
}

/// An XSD dateTime in UTC with `Z`, to the second.
pub fn xsd_date_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An `xsd:duration` (`P1DT2H3M4S`; `PT0S` for zero).
pub fn xsd_duration(delta: TimeDelta) -> String {
    let total = delta.num_seconds().max(0);
    let (days, rest) = (total / 86_400, total % 86_400);
    let (hours, rest) = (rest / 3_600, rest % 3_600);
    let (minutes, seconds) = (rest / 60, rest % 60);
    let mut out = String::from("P");
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if hours > 0 || minutes > 0 || seconds > 0 || days == 0 {
        out.push('T');
        if hours > 0 {
            out.push_str(&format!("{hours}H"));
        }
        if minutes > 0 {
            out.push_str(&format!("{minutes}M"));
        }
        if seconds > 0 || (hours == 0 && minutes == 0) {
            out.push_str(&format!("{seconds}S"));
        }
    }
    out
}

/// `sha256-<base64>` for a hex SHA-256.
pub fn sri_from_hex(sha256_hex: &str) -> Result<String, Error> {
    use base64::Engine as _;
    let raw = hex::decode(sha256_hex)
        .map_err(|_| Error::Invalid(format!("{sha256_hex:?} is not a hex digest")))?;
    Ok(format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    ))
}

fn achievement(input: &CredentialInput<'_>) -> Value {
    let c = input.competency;
    let name = achievement_name(c);
    let description = c.description.clone().unwrap_or_else(|| c.statement.clone());
    let narrative = match input.rubric {
        Some(r) => format!(
            "Mastery of \"{}\", shown by evidence a teacher scored against the rubric \"{}\" (version {}) and found to meet its mastery rule.",
            c.statement,
            r.title(),
            r.version()
        ),
        None => format!(
            "Mastery of \"{}\", confirmed by a teacher of the issuing organisation.",
            c.statement
        ),
    };
    let mut alignment = Map::new();
    alignment.insert("type".into(), json!(["Alignment"]));
    alignment.insert("targetName".into(), json!(c.statement));
    alignment.insert("targetUrl".into(), json!(c.uri));
    alignment.insert("targetCode".into(), json!(c.id));
    alignment.insert("targetType".into(), json!("CFItem"));
    if let Some(fw) = &c.framework {
        alignment.insert("targetFramework".into(), json!(fw));
    }
    let mut alignments = vec![Value::Object(alignment)];
    let mut a = Map::new();
    a.insert("id".into(), json!(input.achievement_id));
    a.insert("type".into(), json!(["Achievement"]));
    a.insert("achievementType".into(), json!("Competency"));
    a.insert("name".into(), json!(name));
    a.insert("description".into(), json!(description));
    a.insert("criteria".into(), json!({ "narrative": narrative }));
    if let Some(code) = &c.code {
        a.insert("humanCode".into(), json!(code));
    }
    if let Some(image) = input.image {
        a.insert(
            "image".into(),
            json!({ "id": image, "type": "Image", "caption": format!("Badge: {name}") }),
        );
    }
    if let Some(rubric) = input.rubric {
        if let Some(link) = tessera_review::ob::rubric_alignment(rubric) {
            alignments.push(link);
        }
        a.insert(
            "resultDescription".into(),
            tessera_review::ob::result_descriptions(rubric, input.rubric_base),
        );
    }
    a.insert("alignment".into(), Value::Array(alignments));
    Value::Object(a)
}

/// One `Result` per criterion of the review that gave mastery.
fn results(input: &CredentialInput<'_>) -> Vec<Value> {
    let (Some(rubric), Some(n)) = (input.rubric, input.record.attempts_to_mastery) else {
        return Vec::new();
    };
    let Some(review) = input
        .record
        .attempts
        .iter()
        .find(|a| a.number == n)
        .and_then(|a| a.review.as_ref())
    else {
        return Vec::new();
    };
    review
        .levels
        .iter()
        .map(|l| {
            json!({
                "type": ["Result"],
                "resultDescription":
                    tessera_review::ob::result_description_id(input.rubric_base, rubric, &l.criterion),
                "achievedLevel":
                    tessera_review::ob::level_id(input.rubric_base, rubric, &l.criterion, &l.level),
            })
        })
        .collect()
}

/// The unsigned credential.
pub fn build(input: &CredentialInput<'_>) -> Result<Value, Error> {
    let record = input.record;
    let mastered_at = record.mastered_at.ok_or(Error::NotMastered)?;
    let mut subject = Map::new();
    subject.insert("id".into(), json!(input.subject_id));
    subject.insert("type".into(), json!(["AchievementSubject"]));
    if let Some(identity) = &input.identifier {
        subject.insert("identifier".into(), json!([identity]));
    }
    if let Some(first) = record.first_activity {
        subject.insert("activityStartDate".into(), json!(xsd_date_time(first)));
    }
    subject.insert("activityEndDate".into(), json!(xsd_date_time(mastered_at)));
    if let Some(n) = record.attempts_to_mastery {
        subject.insert("attemptsToMastery".into(), json!(n));
    }
    if let Some(d) = record.time_to_mastery {
        subject.insert("timeToMastery".into(), json!(xsd_duration(d)));
    }
    subject.insert("masteryByOverride".into(), json!(record.by_override));
    subject.insert("achievement".into(), achievement(input));
    let results = results(input);
    if !results.is_empty() {
        subject.insert("result".into(), Value::Array(results));
    }

    let mut issuer = Map::new();
    issuer.insert("id".into(), json!(input.issuer.id));
    issuer.insert("type".into(), json!(["Profile"]));
    issuer.insert("name".into(), json!(input.issuer.name));
    if let Some(url) = &input.issuer.url {
        issuer.insert("url".into(), json!(url));
    }

    let evidence = input
        .evidence
        .iter()
        .map(|e| {
            let mut ev = Map::new();
            ev.insert("id".into(), json!(e.url));
            ev.insert("type".into(), json!(["Evidence"]));
            ev.insert("name".into(), json!(e.name));
            ev.insert("digestSRI".into(), json!(sri_from_hex(&e.sha256_hex)?));
            if let Some(mt) = &e.media_type {
                ev.insert("mediaType".into(), json!(mt));
            }
            Ok(Value::Object(ev))
        })
        .collect::<Result<Vec<_>, Error>>()?;

    let mut doc = Map::new();
    doc.insert(
        "@context".into(),
        json!([VC_CONTEXT, OB_CONTEXT, context::URL]),
    );
    doc.insert("id".into(), json!(format!("urn:uuid:{}", input.id)));
    doc.insert(
        "type".into(),
        json!(["VerifiableCredential", "AchievementCredential"]),
    );
    let name = subject["achievement"]["name"].clone();
    doc.insert("name".into(), name);
    doc.insert("issuer".into(), Value::Object(issuer));
    doc.insert("validFrom".into(), json!(xsd_date_time(input.valid_from)));
    doc.insert("credentialSubject".into(), Value::Object(subject));
    if !evidence.is_empty() {
        doc.insert("evidence".into(), Value::Array(evidence));
    }
    if !input.status.is_empty() {
        doc.insert(
            "credentialStatus".into(),
            Value::Array(input.status.clone()),
        );
    }
    doc.insert(
        "relatedResource".into(),
        json!([context::related_resource()]),
    );
    Ok(Value::Object(doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_email_hash_is_sha256_of_the_lowercased_address_and_salt() {
        // printf 'a@b.examples' | sha256sum
        let identity = hashed_email(" A@B.example ", "s");
        assert_eq!(
            identity["identityHash"],
            "sha256$d518465c85c21bdab062d6f37057f7f5fd5a35ace376db67bb22f2f7b4e15de7"
        );
        assert!(names_email(&identity, "a@b.example"));
        assert!(!names_email(&identity, "a@b.example.org"));
        let plain =
            json!({"identityType": "emailAddress", "hashed": false, "identityHash": "a@b.example"});
        assert!(names_email(&plain, "A@B.example"));
    }

    #[test]
    fn durations_are_xsd() {
        assert_eq!(xsd_duration(TimeDelta::seconds(0)), "PT0S");
        assert_eq!(xsd_duration(TimeDelta::seconds(59)), "PT59S");
        assert_eq!(xsd_duration(TimeDelta::seconds(3_600)), "PT1H");
        assert_eq!(xsd_duration(TimeDelta::days(3)), "P3D");
        assert_eq!(
            xsd_duration(TimeDelta::seconds(86_400 + 7_200 + 180 + 4)),
            "P1DT2H3M4S"
        );
    }
}
