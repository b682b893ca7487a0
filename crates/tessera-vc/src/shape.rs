//! Data-model shape rules: VC 2.0 / 1.1, Open Badges 3.0, CLR 2.0, Bitstring Status List.
//!
//! These are the structural rules a JSON-LD processor does not enforce: required properties,
//! required `type` values, cardinalities and enumerations. Each finding names the JSON path.
//!
//! - VC: <https://www.w3.org/TR/vc-data-model-2.0/#basic-concepts>
//! - OB 3.0: <https://www.imsglobal.org/spec/ob/v3p0/#achievementcredential>
//! - CLR 2.0: <https://www.imsglobal.org/spec/clr/v2p0/#clrcredential>

use serde_json::Value;

use crate::datetime;
use crate::status_list::has_type;

/// The VC 2.0 base context.
pub const VC_V2: &str = "https://www.w3.org/ns/credentials/v2";
/// The VC 1.1 base context.
pub const VC_V1: &str = "https://www.w3.org/2018/credentials/v1";

/// Which data model version a credential uses (from its first context).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataModel {
    /// VC 2.0 (`https://www.w3.org/ns/credentials/v2`).
    V2,
    /// VC 1.1 (`https://www.w3.org/2018/credentials/v1`).
    V1,
}

/// Reads the data model version from `@context`.
pub fn data_model(doc: &Value) -> Option<DataModel> {
    let first = match doc.get("@context") {
        Some(Value::Array(items)) => items.first(),
        Some(one) => Some(one),
        None => None,
    };
    match first.and_then(Value::as_str) {
        Some(VC_V2) => Some(DataModel::V2),
        Some(VC_V1) => Some(DataModel::V1),
        _ => None,
    }
}

/// One shape finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// True for a rule violation; false for a recommendation (reported as a warning).
    pub error: bool,
    /// JSON path, `credentialSubject.achievement.criteria`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

struct Findings(Vec<Finding>);

impl Findings {
    fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Finding {
            error: true,
            path: path.into(),
            message: message.into(),
        });
    }
    fn warn(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Finding {
            error: false,
            path: path.into(),
            message: message.into(),
        });
    }
    /// Requires a non-empty string.
    fn string(&mut self, obj: &Value, parent: &str, key: &str) {
        match obj.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => {}
            Some(Value::String(_)) => self.error(join(parent, key), "must not be empty"),
            Some(_) => self.error(join(parent, key), "must be a string"),
            None => self.error(join(parent, key), "is required"),
        }
    }
    fn requires_type(&mut self, obj: &Value, parent: &str, ty: &str) {
        if !has_type(obj, ty) {
            self.error(join(parent, "type"), format!("must include {ty:?}"));
        }
    }
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// `value` as a list (a single value is a list of one; absent is empty).
pub(crate) fn list(value: Option<&Value>) -> Vec<&Value> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
    }
}

/// The issuer's id (`issuer` as a URL or as an object with `id`).
pub fn issuer_id(doc: &Value) -> Option<&str> {
    match doc.get("issuer")? {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id").and_then(Value::as_str),
        _ => None,
    }
}

/// The credential's `type` values.
pub fn types(doc: &Value) -> Vec<String> {
    list(doc.get("type"))
        .into_iter()
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect()
}

/// Checks the shape rules that apply to `doc` (by its types) and returns the findings.
pub fn check(doc: &Value) -> Vec<Finding> {
    let mut f = Findings(Vec::new());
    if !doc.is_object() {
        f.error("", "a credential must be a JSON object");
        return f.0;
    }
    let model = data_model(doc);
    check_vc(doc, model, &mut f);
    let is_ob = has_type(doc, "OpenBadgeCredential") || has_type(doc, "AchievementCredential");
    if is_ob {
        check_ob(doc, model, &mut f);
    }
    if has_type(doc, "ClrCredential") {
        check_clr(doc, model, &mut f);
    }
    if has_type(doc, "EndorsementCredential") {
        f.string(doc, "", "name");
        for (i, subject) in list(doc.get("credentialSubject")).into_iter().enumerate() {
            let path = format!("credentialSubject[{i}]");
            f.string(subject, &path, "id");
            f.requires_type(subject, &path, "EndorsementSubject");
        }
    }
    for (i, entry) in list(doc.get("credentialStatus")).into_iter().enumerate() {
        let path = format!("credentialStatus[{i}]");
        if !entry.is_object() {
            f.error(path, "must be an object");
            continue;
        }
        if has_type(entry, "BitstringStatusListEntry") {
            f.string(entry, &path, "statusPurpose");
            f.string(entry, &path, "statusListCredential");
            match entry.get("statusListIndex") {
                Some(Value::String(s))
                    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {}
                _ => f.error(
                    join(&path, "statusListIndex"),
                    "must be a base-10 integer string",
                ),
            }
        }
    }
    f.0
}

fn check_vc(doc: &Value, model: Option<DataModel>, f: &mut Findings) {
    match doc.get("@context") {
        None => f.error("@context", "is required"),
        Some(_) if model.is_none() => f.error(
            "@context",
            format!("must start with {VC_V2} (VC 2.0) or {VC_V1} (VC 1.1)"),
        ),
        _ => {}
    }
    if !has_type(doc, "VerifiableCredential") {
        f.error("type", "must include \"VerifiableCredential\"");
    }
    if let Some(id) = doc.get("id")
        && !id.as_str().is_some_and(|s| s.contains(':'))
    {
        f.error("id", "must be an absolute URL");
    }
    match doc.get("issuer") {
        None => f.error("issuer", "is required"),
        Some(Value::String(s)) if s.contains(':') => {}
        Some(Value::Object(o))
            if o.get("id")
                .and_then(Value::as_str)
                .is_some_and(|s| s.contains(':')) => {}
        Some(_) => f.error("issuer", "must be a URL or an object with an absolute `id`"),
    }
    let subjects = list(doc.get("credentialSubject"));
    if subjects.is_empty() {
        f.error("credentialSubject", "is required");
    }
    for (i, s) in subjects.iter().enumerate() {
        if !s.is_object() {
            f.error(format!("credentialSubject[{i}]"), "must be an object");
        }
    }
    let dates: &[&str] = match model {
        Some(DataModel::V1) => &["issuanceDate", "expirationDate"],
        _ => &["validFrom", "validUntil"],
    };
    if model == Some(DataModel::V1) && doc.get("issuanceDate").is_none() {
        f.error("issuanceDate", "is required in a VC 1.1 credential");
    }
    for key in dates {
        if let Some(v) = doc.get(*key) {
            match v.as_str().and_then(datetime::parse) {
                None => f.error(*key, "must be an XSD dateTime"),
                Some(t) if !t.has_zone && model == Some(DataModel::V2) => f.error(
                    *key,
                    "must carry a time zone (Z or ±hh:mm): VC 2.0 requires dateTimeStamp",
                ),
                _ => {}
            }
        }
    }
}

/// OB 3.0 requires an OB context right after the VC one.
fn has_context_prefix(doc: &Value, prefix: &str) -> bool {
    list(doc.get("@context"))
        .iter()
        .any(|c| c.as_str().is_some_and(|s| s.starts_with(prefix)))
}

fn check_issuer_profile(doc: &Value, f: &mut Findings) {
    match doc.get("issuer") {
        Some(issuer @ Value::Object(_)) => {
            f.requires_type(issuer, "issuer", "Profile");
            if issuer.get("name").is_none() {
                f.warn(
                    "issuer.name",
                    "displayers must show the issuer's name; it is missing",
                );
            }
        }
        Some(Value::String(_)) => f.warn(
            "issuer",
            "the issuer is only a URL; displayers need its Profile (name) to show it",
        ),
        _ => {}
    }
}

fn check_ob(doc: &Value, model: Option<DataModel>, f: &mut Findings) {
    if !has_context_prefix(doc, "https://purl.imsglobal.org/spec/ob/v3p0/context") {
        f.error("@context", "an Open Badge must include the OB 3.0 context");
    }
    f.string(doc, "", "id");
    if model != Some(DataModel::V1) && doc.get("validFrom").is_none() {
        f.error("validFrom", "is required for an Open Badge");
    }
    if doc.get("name").is_none() {
        f.warn("name", "wallets show the credential's name; it is missing");
    }
    check_issuer_profile(doc, f);
    for (i, subject) in list(doc.get("credentialSubject")).into_iter().enumerate() {
        let path = if i == 0 && !doc["credentialSubject"].is_array() {
            "credentialSubject".to_owned()
        } else {
            format!("credentialSubject[{i}]")
        };
        check_achievement_subject(subject, &path, f);
    }
    for (i, evidence) in list(doc.get("evidence")).into_iter().enumerate() {
        f.requires_type(evidence, &format!("evidence[{i}]"), "Evidence");
    }
}

fn check_achievement_subject(subject: &Value, path: &str, f: &mut Findings) {
    f.requires_type(subject, path, "AchievementSubject");
    let identifiers = list(subject.get("identifier"));
    if subject.get("id").is_none() && identifiers.is_empty() {
        f.error(
            path,
            "an AchievementSubject needs an `id` or an `identifier`",
        );
    }
    for (i, identity) in identifiers.into_iter().enumerate() {
        let p = format!("{path}.identifier[{i}]");
        f.requires_type(identity, &p, "IdentityObject");
        if !identity.get("hashed").is_some_and(Value::is_boolean) {
            f.error(join(&p, "hashed"), "is required and must be a boolean");
        }
        f.string(identity, &p, "identityHash");
        f.string(identity, &p, "identityType");
    }
    match subject.get("achievement") {
        None => f.error(join(path, "achievement"), "is required"),
        Some(a) => check_achievement(a, &join(path, "achievement"), f),
    }
    let descriptions: Vec<&str> = subject
        .get("achievement")
        .map(|a| {
            list(a.get("resultDescription"))
                .into_iter()
                .filter_map(|d| d.get("id").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    for (i, result) in list(subject.get("result")).into_iter().enumerate() {
        let p = format!("{path}.result[{i}]");
        f.requires_type(result, &p, "Result");
        if let Some(rd) = result.get("resultDescription").and_then(Value::as_str)
            && !descriptions.contains(&rd)
        {
            f.error(
                join(&p, "resultDescription"),
                format!("{rd} is not a ResultDescription of this achievement"),
            );
        }
        for (j, alignment) in list(result.get("alignment")).into_iter().enumerate() {
            check_alignment(alignment, &format!("{p}.alignment[{j}]"), f);
        }
    }
}

const RESULT_TYPES: [&str; 12] = [
    "GradePointAverage",
    "LetterGrade",
    "Percent",
    "PerformanceLevel",
    "PredictedScore",
    "RawScore",
    "Result",
    "RubricCriterion",
    "RubricCriterionLevel",
    "RubricScore",
    "ScaledScore",
    "Status",
];

fn check_achievement(a: &Value, path: &str, f: &mut Findings) {
    if !a.is_object() {
        f.error(path, "must be an Achievement object");
        return;
    }
    f.string(a, path, "id");
    f.requires_type(a, path, "Achievement");
    f.string(a, path, "name");
    f.string(a, path, "description");
    match a.get("criteria") {
        None => f.error(join(path, "criteria"), "is required"),
        Some(c) if c.get("id").is_none() && c.get("narrative").is_none() => f.warn(
            join(path, "criteria"),
            "has neither an `id` nor a `narrative`",
        ),
        Some(_) => {}
    }
    if let Some(t) = a.get("achievementType").and_then(Value::as_str)
        && !is_achievement_type(t)
    {
        f.error(
            join(path, "achievementType"),
            format!("{t:?} is not an AchievementType (extensions must start with `ext:`)"),
        );
    }
    for (i, alignment) in list(a.get("alignment")).into_iter().enumerate() {
        check_alignment(alignment, &format!("{path}.alignment[{i}]"), f);
    }
    for (i, rd) in list(a.get("resultDescription")).into_iter().enumerate() {
        let p = format!("{path}.resultDescription[{i}]");
        f.string(rd, &p, "id");
        f.requires_type(rd, &p, "ResultDescription");
        f.string(rd, &p, "name");
        match rd.get("resultType").and_then(Value::as_str) {
            Some(t) if RESULT_TYPES.contains(&t) || t.starts_with("ext:") => {}
            Some(t) => f.error(join(&p, "resultType"), format!("{t:?} is not a ResultType")),
            None => f.error(join(&p, "resultType"), "is required"),
        }
        for (j, level) in list(rd.get("rubricCriterionLevel")).into_iter().enumerate() {
            let lp = format!("{p}.rubricCriterionLevel[{j}]");
            f.string(level, &lp, "id");
            f.requires_type(level, &lp, "RubricCriterionLevel");
            f.string(level, &lp, "name");
        }
    }
}

const ACHIEVEMENT_TYPES: [&str; 31] = [
    "Achievement",
    "ApprenticeshipCertificate",
    "Assessment",
    "Assignment",
    "AssociateDegree",
    "Award",
    "Badge",
    "BachelorDegree",
    "Certificate",
    "CertificateOfCompletion",
    "Certification",
    "CommunityService",
    "Competency",
    "Course",
    "CoCurricular",
    "Degree",
    "Diploma",
    "DoctoralDegree",
    "Fieldwork",
    "GeneralEducationDevelopment",
    "JourneymanCertificate",
    "LearningProgram",
    "License",
    "Membership",
    "ProfessionalDoctorate",
    "QualityAssuranceCredential",
    "MasterCertificate",
    "MasterDegree",
    "MicroCredential",
    "ResearchDoctorate",
    "SecondarySchoolDiploma",
];

fn is_achievement_type(t: &str) -> bool {
    ACHIEVEMENT_TYPES.contains(&t)
        || t.strip_prefix("ext:").is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '|'))
        })
}

fn check_alignment(alignment: &Value, path: &str, f: &mut Findings) {
    f.requires_type(alignment, path, "Alignment");
    f.string(alignment, path, "targetName");
    f.string(alignment, path, "targetUrl");
}

const ASSOCIATION_TYPES: [&str; 8] = [
    "exactMatchOf",
    "isChildOf",
    "isParentOf",
    "isPartOf",
    "isPeerOf",
    "isRelatedTo",
    "precedes",
    "replacedBy",
];

fn check_clr(doc: &Value, model: Option<DataModel>, f: &mut Findings) {
    if !has_context_prefix(doc, "https://purl.imsglobal.org/spec/clr/v2p0/context") {
        f.error("@context", "a CLR must include the CLR 2.0 context");
    }
    f.string(doc, "", "id");
    f.string(doc, "", "name");
    if model != Some(DataModel::V1) && doc.get("validFrom").is_none() {
        f.error("validFrom", "is required for a CLR");
    }
    if let Some(partial) = doc.get("partial")
        && !partial.is_boolean()
    {
        f.error("partial", "must be a boolean");
    }
    check_issuer_profile(doc, f);
    let Some(subject) = doc.get("credentialSubject") else {
        return;
    };
    let path = "credentialSubject";
    f.requires_type(subject, path, "ClrSubject");
    let embedded = list(subject.get("verifiableCredential"));
    if embedded.is_empty() {
        f.error(
            join(path, "verifiableCredential"),
            "a ClrSubject must hold at least one credential",
        );
    }
    for (i, a) in list(subject.get("achievement")).into_iter().enumerate() {
        check_achievement(a, &format!("{path}.achievement[{i}]"), f);
    }
    for (i, assoc) in list(subject.get("association")).into_iter().enumerate() {
        let p = format!("{path}.association[{i}]");
        f.requires_type(assoc, &p, "Association");
        f.string(assoc, &p, "sourceId");
        f.string(assoc, &p, "targetId");
        match assoc.get("associationType").and_then(Value::as_str) {
            Some(t) if ASSOCIATION_TYPES.contains(&t) => {}
            Some(t) => f.error(
                join(&p, "associationType"),
                format!("{t:?} is not an AssociationType"),
            ),
            None => f.error(join(&p, "associationType"), "is required"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors(doc: &Value) -> Vec<String> {
        check(doc)
            .into_iter()
            .filter(|f| f.error)
            .map(|f| format!("{}: {}", f.path, f.message))
            .collect()
    }

    #[test]
    fn not_a_credential_names_what_is_missing() {
        let errs = errors(&json!({"hello": "world"}));
        for needle in ["@context", "type", "issuer", "credentialSubject"] {
            assert!(
                errs.iter().any(|e| e.starts_with(needle)),
                "{needle}: {errs:?}"
            );
        }
    }

    #[test]
    fn vc11_needs_issuance_date() {
        let doc = json!({"@context": [VC_V1], "type": ["VerifiableCredential"],
                         "issuer": "did:example:1", "credentialSubject": {"id": "did:example:2"}});
        assert_eq!(
            errors(&doc),
            vec!["issuanceDate: is required in a VC 1.1 credential"]
        );
    }

    #[test]
    fn ob_achievement_requires_its_fields() {
        let doc = json!({
            "@context": [VC_V2, "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
            "id": "urn:uuid:1", "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "issuer": {"id": "https://example.edu", "type": ["Profile"], "name": "X"},
            "validFrom": "2024-01-01T00:00:00Z", "name": "n",
            "credentialSubject": {"type": ["AchievementSubject"],
                "achievement": {"id": "urn:uuid:2", "type": ["Achievement"], "name": "a"}}
        });
        let errs = errors(&doc);
        assert!(
            errs.contains(
                &"credentialSubject: an AchievementSubject needs an `id` or an `identifier`"
                    .to_owned()
            ),
            "{errs:?}"
        );
        assert!(
            errs.contains(&"credentialSubject.achievement.description: is required".to_owned()),
            "{errs:?}"
        );
        assert!(
            errs.contains(&"credentialSubject.achievement.criteria: is required".to_owned()),
            "{errs:?}"
        );
    }
}
