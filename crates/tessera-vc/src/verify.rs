//! Credential verification: every check, one report.
//!
//! [`verify_bytes`] and [`verify`] return `Ok(report)` for every credential they could process —
//! whether it verified or not — and `Err` only when they could not process it: the input broke a
//! resource limit (size, nesting, a poison graph) or processing failed internally. A tampered,
//! expired, revoked or malformed credential is `Ok` with failed checks.
//!
//! Nothing here touches the network or reads the clock: the time, the controller documents and
//! the status list credentials come in through [`VerifyOptions`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::canon::{self, CanonError};
use crate::contexts;
use crate::datetime;
use crate::did::{KeyResolver, VerificationMethod};
use crate::error::{Error, StatusListError};
use crate::keys;
use crate::proof::{self, ProofSuite};
use crate::report::{Check, CheckCode, CheckStatus, EmbeddedReport, VerificationReport};
use crate::shape::{self, DataModel};
use crate::status_list::{self, has_type};

/// How deep credentials may nest inside credentials (a CLR's achievements, a status list).
pub const MAX_EMBEDDING_DEPTH: usize = 4;
/// The default size limit of a document: the canonicalizer's (8 MiB), far above any real transcript.
pub const DEFAULT_MAX_BYTES: usize = crate::canon::MAX_DOCUMENT_BYTES;
/// serde_json's nesting limit.
pub const MAX_JSON_DEPTH: usize = 128;
/// Clock skew tolerated for a proof `created` in the future.
const CREATED_SKEW_SECONDS: i64 = 300;

/// What the verifier knows besides the credential.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The verifier's "now", for validity periods and proof expiry.
    pub now: DateTime<Utc>,
    /// did:key plus the controller documents the caller supplied.
    resolver: KeyResolver,
    /// Status list credentials the caller supplied, by `id`.
    status_lists: HashMap<String, Value>,
    /// Documents larger than this are not parsed.
    pub max_bytes: usize,
    /// The proof purpose a credential's proofs must have.
    pub proof_purpose: String,
    /// Verdicts on status list credentials, shared by clones (and so by worker threads).
    cache: ListCache,
}

type ListKey = (String, i64, String);

/// What verifying a status list credential concluded: a problem to report (`None` if its proof
/// verified), and the decoded list.
#[derive(Debug, Clone)]
struct ListVerdict {
    problem: Option<(CheckStatus, String)>,
    parsed: Arc<Result<status_list::ParsedList, status_list::StatusFailure>>,
}

/// Remembers status-list verdicts per (list id, `now`, proof purpose). Clones share it (so worker
/// threads do); adding a controller document or a list starts a new one, since either can change
/// a verdict.
#[derive(Debug, Clone, Default)]
struct ListCache(Arc<Mutex<HashMap<ListKey, ListVerdict>>>);

impl ListCache {
    fn get(&self, key: &ListKey) -> Option<ListVerdict> {
        self.0.lock().ok().and_then(|m| m.get(key).cloned())
    }
    fn put(&self, key: ListKey, verdict: ListVerdict) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(key, verdict);
        }
    }
}

impl VerifyOptions {
    /// Options with only did:key resolution and no status lists.
    pub fn new(now: DateTime<Utc>) -> Self {
        VerifyOptions {
            now,
            resolver: KeyResolver::new(),
            status_lists: HashMap::new(),
            max_bytes: DEFAULT_MAX_BYTES,
            proof_purpose: "assertionMethod".into(),
            cache: ListCache::default(),
        }
    }

    /// Adds a controller document (did:web DID document, https controller document or a
    /// stand-alone Multikey).
    pub fn add_controller_document(&mut self, document: &Value) -> Result<(), Error> {
        self.cache = ListCache::default();
        self.resolver.add_document(document)
    }

    /// Replaces the key resolver.
    pub fn with_resolver(mut self, resolver: KeyResolver) -> Self {
        self.cache = ListCache::default();
        self.resolver = resolver;
        self
    }

    /// The key resolver.
    pub fn resolver(&self) -> &KeyResolver {
        &self.resolver
    }

    /// The status list credentials supplied, by `id`.
    pub fn status_lists(&self) -> &HashMap<String, Value> {
        &self.status_lists
    }

    /// Forgets every status list (status is then reported as not checked).
    pub fn clear_status_lists(&mut self) {
        self.cache = ListCache::default();
        self.status_lists.clear();
    }

    /// Adds a `BitstringStatusListCredential` (its proof is checked when it is used).
    pub fn add_status_list(&mut self, credential: Value) -> Result<(), Error> {
        let id = credential
            .get("id")
            .and_then(Value::as_str)
            .ok_or(StatusListError::CredentialWithoutId)?
            .to_owned();
        self.cache = ListCache::default();
        self.status_lists.insert(id, credential);
        Ok(())
    }
}

/// Verifies a credential given as bytes (a file, a request body).
pub fn verify_bytes(bytes: &[u8], options: &VerifyOptions) -> Result<VerificationReport, Error> {
    if bytes.len() > options.max_bytes {
        return Err(Error::TooLarge {
            size: bytes.len(),
            limit: options.max_bytes,
        });
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(doc) => verify(&doc, options),
        Err(e) if e.to_string().contains("recursion limit exceeded") => Err(Error::TooDeep {
            limit: MAX_JSON_DEPTH,
        }),
        Err(e) => Ok(not_json(format!("the file is not JSON: {e}"))),
    }
}

fn not_json(message: String) -> VerificationReport {
    let mut report = empty_report(None);
    report
        .checks
        .push(Check::new(CheckCode::Json, CheckStatus::Failed, message));
    for code in [
        CheckCode::Contexts,
        CheckCode::SafeMode,
        CheckCode::Proof,
        CheckCode::IssuerBinding,
        CheckCode::ValidityPeriod,
        CheckCode::Status,
        CheckCode::Shape,
    ] {
        report.checks.push(Check::new(
            code,
            CheckStatus::NotChecked,
            "not checked: the input is not a JSON object",
        ));
    }
    report.finish()
}

fn empty_report(doc: Option<&Value>) -> VerificationReport {
    VerificationReport {
        verified: false,
        id: doc
            .and_then(|d| d.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        issuer: doc.and_then(shape::issuer_id).map(str::to_owned),
        types: doc.map(shape::types).unwrap_or_default(),
        checks: Vec::new(),
        embedded: Vec::new(),
    }
}

/// Verifies a parsed credential.
pub fn verify(doc: &Value, options: &VerifyOptions) -> Result<VerificationReport, Error> {
    verify_at(doc, options, 0, true)
}

/// Sorts a canonicalization error into a verdict (the credential is wrong: an unknown context,
/// a safe-mode violation, invalid JSON-LD) or an error (a resource limit: could not process).
fn classify(error: CanonError) -> Result<(CheckCode, String), Error> {
    match error {
        CanonError::UnknownContext { .. } => Ok((CheckCode::Contexts, error.to_string())),
        CanonError::SafeMode { .. } | CanonError::InvalidJsonLd { .. } => {
            Ok((CheckCode::SafeMode, error.to_string()))
        }
        other => Err(Error::Canon(other)),
    }
}

/// `check_status` is false for a status list credential itself: its own status is not consulted,
/// which also rules out loops.
fn verify_at(
    doc: &Value,
    options: &VerifyOptions,
    depth: usize,
    check_status: bool,
) -> Result<VerificationReport, Error> {
    if depth > MAX_EMBEDDING_DEPTH {
        return Err(Error::EmbeddingTooDeep {
            limit: MAX_EMBEDDING_DEPTH,
        });
    }
    let Some(obj) = doc.as_object() else {
        return Ok(not_json(format!(
            "the input is JSON but not an object (it is {})",
            json_kind(doc)
        )));
    };
    let mut report = empty_report(Some(doc));
    report.checks.push(Check::new(
        CheckCode::Json,
        CheckStatus::Passed,
        "the input is a JSON object",
    ));

    // Shape: structural rules, independent of JSON-LD.
    report.checks.push(shape_check(doc));

    // Contexts: every URL must be one we bundle (verification never fetches).
    let (contexts_check, contexts_ok) = contexts_check(obj);

    // Safe mode: expand the unsecured document strictly; the canonical form is reused by the
    // RDFC proofs below.
    let mut unsecured = obj.clone();
    unsecured.remove("proof");
    let unsecured = Value::Object(unsecured);
    let mut contexts_check = contexts_check;
    let (safe_mode_check, canonical_document) = if !contexts_ok {
        (
            Check::new(
                CheckCode::SafeMode,
                CheckStatus::NotChecked,
                "not checked: the contexts check failed",
            ),
            None,
        )
    } else {
        match canon::canonicalize(&unsecured) {
            Ok(nquads) => (
                Check::new(
                    CheckCode::SafeMode,
                    CheckStatus::Passed,
                    "JSON-LD expansion keeps every term and value (no undefined term, no relative IRI)",
                ),
                Some(nquads),
            ),
            Err(e) => match classify(e)? {
                (CheckCode::Contexts, message) => {
                    contexts_check = Check::new(CheckCode::Contexts, CheckStatus::Failed, message);
                    (
                        Check::new(
                            CheckCode::SafeMode,
                            CheckStatus::NotChecked,
                            "not checked: the contexts check failed",
                        ),
                        None,
                    )
                }
                (_, message) => (
                    Check::new(
                        CheckCode::SafeMode,
                        CheckStatus::Failed,
                        format!("the document is not lossless JSON-LD: {message}"),
                    ),
                    None,
                ),
            },
        }
    };
    report.checks.push(contexts_check);
    report.checks.push(safe_mode_check);

    // Proofs.
    let (proof_check, signers) =
        proofs_check(doc, obj, &unsecured, canonical_document, options, depth)?;
    report.checks.push(proof_check);
    report
        .checks
        .push(issuer_binding_check(doc, &report, &signers));
    report.checks.push(validity_check(doc, options.now));
    report.checks.push(if check_status {
        status_check(doc, options, depth)?
    } else {
        Check::new(
            CheckCode::Status,
            CheckStatus::NotChecked,
            "not checked: the status of a status list credential is not consulted",
        )
    });

    // Embedded credentials (a CLR's verifiableCredential).
    let embedded: Vec<&Value> = doc
        .get("credentialSubject")
        .map(|s| shape::list(Some(s)))
        .unwrap_or_default()
        .into_iter()
        .flat_map(|s| shape::list(s.get("verifiableCredential")))
        .collect();
    if !embedded.is_empty() {
        let single = matches!(
            doc.pointer("/credentialSubject/verifiableCredential"),
            Some(Value::Object(_))
        );
        for (i, credential) in embedded.into_iter().enumerate() {
            let path = if single {
                "credentialSubject.verifiableCredential".to_owned()
            } else {
                format!("credentialSubject.verifiableCredential[{i}]")
            };
            let sub = verify_at(credential, options, depth + 1, check_status)?;
            report.embedded.push(EmbeddedReport { path, report: sub });
        }
        report.checks.push(embedded_check(&report.embedded));
    }
    Ok(report.finish())
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn shape_check(doc: &Value) -> Check {
    let findings = shape::check(doc);
    let details: Vec<String> = findings
        .iter()
        .map(|f| {
            format!(
                "{}{}: {}",
                if f.error { "" } else { "(recommended) " },
                if f.path.is_empty() {
                    "(document)"
                } else {
                    &f.path
                },
                f.message
            )
        })
        .collect();
    let errors = findings.iter().filter(|f| f.error).count();
    let kind = kind_of(doc);
    if errors > 0 {
        let first = findings
            .iter()
            .find(|f| f.error)
            .map(|f| format!("{}: {}", f.path, f.message))
            .unwrap_or_default();
        Check::new(
            CheckCode::Shape,
            CheckStatus::Failed,
            format!(
                "not a valid {kind}: {first}{}",
                if errors > 1 {
                    format!(" (and {} more)", errors - 1)
                } else {
                    String::new()
                }
            ),
        )
        .with_details(details)
    } else if !findings.is_empty() {
        Check::new(
            CheckCode::Shape,
            CheckStatus::Warning,
            format!("a valid {kind}, with recommendations"),
        )
        .with_details(details)
    } else {
        Check::new(
            CheckCode::Shape,
            CheckStatus::Passed,
            format!("a valid {kind}"),
        )
    }
}

fn kind_of(doc: &Value) -> &'static str {
    let version = match shape::data_model(doc) {
        Some(DataModel::V1) => " (VC 1.1)",
        _ => "",
    };
    let kind = if has_type(doc, "ClrCredential") {
        "CLR 2.0 credential"
    } else if has_type(doc, "OpenBadgeCredential") || has_type(doc, "AchievementCredential") {
        "Open Badges 3.0 credential"
    } else if has_type(doc, "EndorsementCredential") {
        "Open Badges 3.0 endorsement"
    } else if has_type(doc, "BitstringStatusListCredential") {
        "status list credential"
    } else {
        "verifiable credential"
    };
    match (kind, version) {
        (k, "") => k,
        ("Open Badges 3.0 credential", _) => "Open Badges 3.0 credential (VC 1.1)",
        ("CLR 2.0 credential", _) => "CLR 2.0 credential (VC 1.1)",
        _ => "verifiable credential (VC 1.1)",
    }
}

fn contexts_check(obj: &Map<String, Value>) -> (Check, bool) {
    let Some(ctx) = obj.get("@context") else {
        return (
            Check::new(
                CheckCode::Contexts,
                CheckStatus::Failed,
                "the credential has no @context",
            ),
            false,
        );
    };
    let entries = shape::list(Some(ctx));
    let mut unknown = Vec::new();
    let mut inline = 0;
    for entry in &entries {
        match entry {
            Value::String(url) if contexts::bundled(url).is_some() => {}
            Value::String(url) => unknown.push(url.clone()),
            Value::Object(_) => inline += 1,
            _ => unknown.push(entry.to_string()),
        }
    }
    if !unknown.is_empty() {
        return (
            Check::new(
                CheckCode::Contexts,
                CheckStatus::Failed,
                format!(
                    "unknown context {}: this verifier only uses the contexts it bundles and never fetches one",
                    unknown.join(", ")
                ),
            ),
            false,
        );
    }
    let first = entries.first().and_then(|v| v.as_str());
    if !matches!(first, Some(shape::VC_V2 | shape::VC_V1)) {
        return (
            Check::new(
                CheckCode::Contexts,
                CheckStatus::Failed,
                format!(
                    "the first context must be {} or {}",
                    shape::VC_V2,
                    shape::VC_V1
                ),
            ),
            true,
        );
    }
    if inline > 0 {
        return (
            Check::new(
                CheckCode::Contexts,
                CheckStatus::Warning,
                format!("{inline} inline context(s): terms defined inside the credential itself"),
            ),
            true,
        );
    }
    (
        Check::new(
            CheckCode::Contexts,
            CheckStatus::Passed,
            format!("{} known context(s), all bundled", entries.len()),
        ),
        true,
    )
}

/// The outcome of one proof.
struct ProofOutcome {
    status: CheckStatus,
    message: String,
    method: Option<VerificationMethod>,
}

impl ProofOutcome {
    fn failed(message: impl Into<String>) -> Self {
        ProofOutcome {
            status: CheckStatus::Failed,
            message: message.into(),
            method: None,
        }
    }
}

fn proofs_check(
    doc: &Value,
    obj: &Map<String, Value>,
    unsecured: &Value,
    canonical_document: Option<String>,
    options: &VerifyOptions,
    depth: usize,
) -> Result<(Check, Vec<VerificationMethod>), Error> {
    let proofs = proof::proofs_of(doc);
    if proofs.is_empty() {
        return Ok((
            if depth > 0 {
                Check::new(
                    CheckCode::Proof,
                    CheckStatus::NotChecked,
                    "no proof of its own: only the enclosing credential's proof vouches for it",
                )
            } else {
                Check::new(
                    CheckCode::Proof,
                    CheckStatus::Failed,
                    "the credential has no proof",
                )
            },
            Vec::new(),
        ));
    }
    let mut outcomes = Vec::with_capacity(proofs.len());
    for proof_value in &proofs {
        outcomes.push(verify_one(
            obj,
            unsecured,
            proof_value,
            &proofs,
            canonical_document.as_deref(),
            options,
        )?);
    }
    let details: Vec<String> = outcomes
        .iter()
        .enumerate()
        .map(|(i, o)| format!("proof[{i}] {}: {}", o.status.as_str(), o.message))
        .collect();
    let signers: Vec<VerificationMethod> = outcomes
        .iter()
        .filter(|o| o.status == CheckStatus::Passed)
        .filter_map(|o| o.method.clone())
        .collect();
    let n = outcomes.len();
    let check = if let Some((i, bad)) = outcomes
        .iter()
        .enumerate()
        .find(|(_, o)| o.status == CheckStatus::Failed)
    {
        let which = if n > 1 {
            format!("proof {} of {n}: ", i + 1)
        } else {
            String::new()
        };
        Check::new(
            CheckCode::Proof,
            CheckStatus::Failed,
            format!("{which}{}", bad.message),
        )
    } else if let Some(o) = outcomes.iter().find(|o| o.status != CheckStatus::Passed) {
        Check::new(CheckCode::Proof, CheckStatus::NotChecked, o.message.clone())
    } else if n == 1 {
        Check::new(
            CheckCode::Proof,
            CheckStatus::Passed,
            outcomes[0].message.clone(),
        )
    } else {
        Check::new(
            CheckCode::Proof,
            CheckStatus::Passed,
            format!("all {n} proofs of the proof set verify"),
        )
    };
    Ok((
        if n > 1 {
            check.with_details(details)
        } else {
            check
        },
        signers,
    ))
}

fn verify_one(
    document: &Map<String, Value>,
    unsecured: &Value,
    proof_value: &Value,
    all_proofs: &[&Value],
    canonical_document: Option<&str>,
    options: &VerifyOptions,
) -> Result<ProofOutcome, Error> {
    let Some(proof) = proof_value.as_object() else {
        return Ok(ProofOutcome::failed("a proof must be a JSON object"));
    };
    let suite = match ProofSuite::of(proof) {
        Ok(s) => s,
        Err(reason) => return Ok(ProofOutcome::failed(reason.to_string())),
    };
    let purpose = proof.get("proofPurpose").and_then(Value::as_str);
    if purpose != Some(options.proof_purpose.as_str()) {
        return Ok(ProofOutcome::failed(format!(
            "the proof's purpose is {}, not {}",
            purpose.map_or("missing".to_owned(), |p| format!("{p:?}")),
            options.proof_purpose
        )));
    }
    for key in ["created", "expires"] {
        if let Some(v) = proof.get(key)
            && v.as_str().and_then(datetime::parse).is_none()
        {
            return Ok(ProofOutcome::failed(format!(
                "the proof's {key} ({v}) is not an XSD dateTime"
            )));
        }
    }
    let parse = |key: &str| {
        proof
            .get(key)
            .and_then(Value::as_str)
            .and_then(datetime::parse)
    };
    if let Some(created) = parse("created")
        && (created.instant - options.now).num_seconds() > CREATED_SKEW_SECONDS
    {
        return Ok(ProofOutcome::failed(format!(
            "the proof was created in the future ({})",
            created.instant.to_rfc3339()
        )));
    }
    if let Some(expires) = parse("expires")
        && expires.instant <= options.now
    {
        return Ok(ProofOutcome::failed(format!(
            "the proof expired at {}",
            expires.instant.to_rfc3339()
        )));
    }
    let Some(vm_id) = proof.get("verificationMethod").and_then(Value::as_str) else {
        return Ok(ProofOutcome::failed(
            "the proof has no verificationMethod (a URL naming the key)",
        ));
    };
    let Some(proof_text) = proof.get("proofValue").and_then(Value::as_str) else {
        return Ok(ProofOutcome::failed("the proof has no proofValue"));
    };
    let signature = match keys::decode_base58btc(proof_text) {
        Ok(bytes) if bytes.len() == 64 => bytes,
        Ok(bytes) => {
            return Ok(ProofOutcome::failed(format!(
                "the proofValue decodes to {} bytes; an Ed25519 signature has 64",
                bytes.len()
            )));
        }
        Err(e) => return Ok(ProofOutcome::failed(format!("the proofValue: {e}"))),
    };
    let method = match options.resolver.resolve(vm_id, &options.proof_purpose) {
        Ok(m) => m,
        Err(failure) if failure.is_missing_document() => {
            return Ok(ProofOutcome {
                status: CheckStatus::NotChecked,
                message: format!("cannot check the {} proof: {failure}", suite.as_str()),
                method: None,
            });
        }
        Err(failure) => return Ok(ProofOutcome::failed(failure.to_string())),
    };

    // The unsecured document this proof was made over.
    let chained = proof.contains_key("previousProof");
    let mut own_unsecured = if chained {
        match proof::unsecured_document_for(document, proof, all_proofs) {
            Ok(d) => Some(d),
            Err(reason) => return Ok(ProofOutcome::failed(reason.to_string())),
        }
    } else {
        None
    };
    if suite == ProofSuite::EddsaJcs2022
        && let Some(proof_ctx) = proof.get("@context")
    {
        // eddsa-jcs-2022 §3.3.2: the document's contexts must start with the proof's.
        let doc_ctx = shape::list(document.get("@context"));
        let proof_ctx_list = shape::list(Some(proof_ctx));
        if doc_ctx.len() < proof_ctx_list.len()
            || doc_ctx.iter().zip(&proof_ctx_list).any(|(a, b)| a != b)
        {
            return Ok(ProofOutcome::failed(
                "the document's @context does not start with the contexts the proof was made with",
            ));
        }
        let mut d = own_unsecured.take().unwrap_or_else(|| unsecured.clone());
        if let Some(map) = d.as_object_mut() {
            map.insert("@context".into(), proof_ctx.clone());
        }
        own_unsecured = Some(d);
    }
    let target = own_unsecured.as_ref().unwrap_or(unsecured);
    let canonical = match (suite, canonical_document, &own_unsecured) {
        (ProofSuite::EddsaJcs2022, _, _) => proof::canonicalize_document(suite, target),
        (_, Some(c), None) => Ok(c.to_owned()),
        (_, None, None) => {
            return Ok(ProofOutcome {
                status: CheckStatus::NotChecked,
                message: format!(
                    "cannot check the {} proof: the document is not lossless JSON-LD (see contexts and safe_mode)",
                    suite.as_str()
                ),
                method: None,
            });
        }
        (_, _, Some(_)) => proof::canonicalize_document(suite, target),
    };
    let canonical = match canonical {
        Ok(c) => c,
        Err(Error::Canon(e)) => {
            let (_, message) = classify(e)?;
            return Ok(ProofOutcome::failed(format!(
                "the signed document cannot be canonicalized: {message}"
            )));
        }
        Err(e) => return Err(e),
    };
    let input = match proof::signing_input_with_document(suite, target, proof, canonical) {
        Ok(i) => i,
        Err(Error::Canon(e)) => {
            let (_, message) = classify(e)?;
            return Ok(ProofOutcome::failed(format!(
                "the proof configuration is not lossless JSON-LD: {message}"
            )));
        }
        Err(e) => return Err(e),
    };
    if method.public_key.verify(&input.hash_data(), &signature) {
        Ok(ProofOutcome {
            status: CheckStatus::Passed,
            message: format!("{} signature by {} verifies", suite.as_str(), method.id),
            method: Some(method),
        })
    } else {
        Ok(ProofOutcome::failed(format!(
            "the {} signature does not match: the credential or its proof changed after signing, or another key signed it ({vm_id})",
            suite.as_str()
        )))
    }
}

fn issuer_binding_check(
    doc: &Value,
    report: &VerificationReport,
    signers: &[VerificationMethod],
) -> Check {
    let Some(issuer) = shape::issuer_id(doc) else {
        return Check::new(
            CheckCode::IssuerBinding,
            CheckStatus::Failed,
            "the credential names no issuer id",
        );
    };
    if report.status(CheckCode::Proof) != CheckStatus::Passed || signers.is_empty() {
        return Check::new(
            CheckCode::IssuerBinding,
            CheckStatus::NotChecked,
            "not checked: no proof verified",
        );
    }
    if let Some(m) = signers.iter().find(|m| m.controller == issuer) {
        Check::new(
            CheckCode::IssuerBinding,
            CheckStatus::Passed,
            format!("signed by {}, a key the issuer {issuer} controls", m.id),
        )
    } else {
        let controllers: Vec<&str> = signers.iter().map(|m| m.controller.as_str()).collect();
        Check::new(
            CheckCode::IssuerBinding,
            CheckStatus::Failed,
            format!(
                "the credential's issuer must match the verification method's controller: the issuer is {issuer}, but the signing key is controlled by {}",
                controllers.join(", ")
            ),
        )
    }
}

fn validity_check(doc: &Value, now: DateTime<Utc>) -> Check {
    let (from_key, until_key) = match shape::data_model(doc) {
        Some(DataModel::V1) => ("issuanceDate", "expirationDate"),
        _ => ("validFrom", "validUntil"),
    };
    let read = |key: &str| -> Result<Option<DateTime<Utc>>, String> {
        match doc.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .and_then(datetime::parse)
                .map(|t| Some(t.instant))
                .ok_or_else(|| format!("{key} ({v}) is not a date-time")),
        }
    };
    let (from, until) = match (read(from_key), read(until_key)) {
        (Ok(f), Ok(u)) => (f, u),
        (Err(e), _) | (_, Err(e)) => {
            return Check::new(CheckCode::ValidityPeriod, CheckStatus::Failed, e);
        }
    };
    let now_text = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if let Some(f) = from
        && now < f
    {
        return Check::new(
            CheckCode::ValidityPeriod,
            CheckStatus::Failed,
            format!("not yet valid: {from_key} is {f}, it is now {now_text}"),
        );
    }
    if let Some(u) = until
        && now >= u
    {
        return Check::new(
            CheckCode::ValidityPeriod,
            CheckStatus::Failed,
            format!("expired: {until_key} was {u}, it is now {now_text}"),
        );
    }
    if let (Some(f), Some(u)) = (from, until)
        && u < f
    {
        return Check::new(
            CheckCode::ValidityPeriod,
            CheckStatus::Failed,
            format!("{until_key} ({u}) is before {from_key} ({f})"),
        );
    }
    let message = match (from, until) {
        (None, None) => "no validity period given".to_owned(),
        (Some(f), None) => format!("valid since {f}"),
        (None, Some(u)) => format!("valid until {u}"),
        (Some(f), Some(u)) => format!("valid from {f} until {u}"),
    };
    Check::new(CheckCode::ValidityPeriod, CheckStatus::Passed, message)
}

fn status_check(doc: &Value, options: &VerifyOptions, depth: usize) -> Result<Check, Error> {
    let entries = shape::list(doc.get("credentialStatus"));
    if entries.is_empty() {
        return Ok(Check::new(
            CheckCode::Status,
            CheckStatus::Passed,
            "the credential has no credentialStatus (its issuer cannot revoke it)",
        ));
    }
    let mut results: Vec<(CheckStatus, String)> = Vec::new();
    for entry in entries {
        results.push(check_status_entry(doc, entry, options, depth)?);
    }
    let worst = [
        CheckStatus::Failed,
        CheckStatus::NotChecked,
        CheckStatus::Warning,
    ]
    .into_iter()
    .find(|s| results.iter().any(|(r, _)| r == s))
    .unwrap_or(CheckStatus::Passed);
    let message = results
        .iter()
        .find(|(s, _)| *s == worst)
        .map(|(_, m)| m.clone())
        .unwrap_or_default();
    let details = if results.len() > 1 {
        results.iter().map(|(_, m)| m.clone()).collect()
    } else {
        Vec::new()
    };
    Ok(Check::new(CheckCode::Status, worst, message).with_details(details))
}

fn check_status_entry(
    doc: &Value,
    entry: &Value,
    options: &VerifyOptions,
    depth: usize,
) -> Result<(CheckStatus, String), Error> {
    if !has_type(entry, "BitstringStatusListEntry") {
        let ty = entry.get("type").map(Value::to_string).unwrap_or_default();
        return Ok((
            CheckStatus::NotChecked,
            format!("status type {ty} is not supported; only BitstringStatusListEntry is"),
        ));
    }
    let Some(list_id) = entry.get("statusListCredential").and_then(Value::as_str) else {
        return Ok((
            CheckStatus::Failed,
            "the status entry names no statusListCredential".into(),
        ));
    };
    let Some(list) = options.status_lists.get(list_id) else {
        return Ok((
            CheckStatus::NotChecked,
            format!(
                "not checked: the status list {list_id} was not supplied (pass it with --status-list)"
            ),
        ));
    };
    if !has_type(list, "BitstringStatusListCredential") {
        return Ok((
            CheckStatus::Failed,
            format!("{list_id} is not a BitstringStatusListCredential"),
        ));
    }
    // The list is a credential too: its proof must verify (STATUS_VERIFICATION_ERROR).
    let verdict = list_verdict(list_id, list, options, depth)?;
    if let Some(problem) = verdict.problem {
        return Ok(problem);
    }
    if let (Some(a), Some(b)) = (shape::issuer_id(doc), shape::issuer_id(list))
        && a != b
    {
        return Ok((
            CheckStatus::Failed,
            format!(
                "the status list {list_id} was issued by {b}, not by the credential's issuer {a}"
            ),
        ));
    }
    let checked = match verdict.parsed.as_ref() {
        Ok(parsed) => parsed.check(entry),
        Err(failure) => Err(failure.clone()),
    };
    match checked {
        Err(failure) => Ok((CheckStatus::Failed, failure.to_string())),
        Ok(status) if !status.is_set() => Ok((
            CheckStatus::Passed,
            format!(
                "not {} (checked against {list_id})",
                describe_purpose(&status.purpose)
            ),
        )),
        Ok(status) => Ok(match status.purpose.as_str() {
            "revocation" => (
                CheckStatus::Failed,
                format!("the issuer has revoked this credential ({list_id})"),
            ),
            "suspension" => (
                CheckStatus::Failed,
                format!("the issuer has suspended this credential ({list_id})"),
            ),
            "refresh" => (
                CheckStatus::Warning,
                "the issuer has a refreshed version of this credential".into(),
            ),
            _ => (
                CheckStatus::Warning,
                format!(
                    "status message: {}",
                    status
                        .message
                        .unwrap_or_else(|| format!("status value {:#x}", status.value))
                ),
            ),
        }),
    }
}

/// Verifies a status list credential once per (list, time) and remembers the outcome: a batch of
/// credentials usually shares one list.
fn list_verdict(
    list_id: &str,
    list: &Value,
    options: &VerifyOptions,
    depth: usize,
) -> Result<ListVerdict, Error> {
    let key = (
        list_id.to_owned(),
        options.now.timestamp_micros(),
        options.proof_purpose.clone(),
    );
    if let Some(cached) = options.cache.get(&key) {
        return Ok(cached);
    }
    let list_report = verify_at(list, options, depth + 1, false)?;
    let problem = if !list_report.failed().is_empty() {
        let failed: Vec<&str> = list_report.failed().iter().map(|c| c.as_str()).collect();
        Some((
            CheckStatus::Failed,
            format!(
                "the status list credential {list_id} did not verify (failed: {}) (STATUS_VERIFICATION_ERROR)",
                failed.join(", ")
            ),
        ))
    } else if !list_report.verified {
        let why = list_report
            .check(CheckCode::Proof)
            .map(|c| c.message.clone())
            .unwrap_or_default();
        Some((
            CheckStatus::NotChecked,
            format!(
                "not checked: the proof of the status list {list_id} could not be checked: {why}"
            ),
        ))
    } else {
        None
    };
    let verdict = ListVerdict {
        problem,
        parsed: Arc::new(status_list::ParsedList::from_credential(list)),
    };
    options.cache.put(key, verdict.clone());
    Ok(verdict)
}

fn describe_purpose(purpose: &str) -> &'static str {
    match purpose {
        "revocation" => "revoked",
        "suspension" => "suspended",
        "refresh" => "due for refresh",
        _ => "flagged",
    }
}

fn embedded_check(embedded: &[EmbeddedReport]) -> Check {
    let mut failed = Vec::new();
    let mut unsigned = Vec::new();
    for e in embedded {
        let label = format!("{} ({})", e.path, e.report.id.as_deref().unwrap_or("no id"));
        let codes = e.report.failed();
        if !codes.is_empty() {
            let names: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
            failed.push(format!("{label} failed {}", names.join(", ")));
        } else if !e.report.verified {
            unsigned.push(label);
        }
    }
    let n = embedded.len();
    if !failed.is_empty() {
        Check::new(
            CheckCode::EmbeddedCredentials,
            CheckStatus::Failed,
            format!(
                "{} of {n} embedded credential(s) did not verify: {}",
                failed.len(),
                failed.join("; ")
            ),
        )
    } else if !unsigned.is_empty() {
        Check::new(
            CheckCode::EmbeddedCredentials,
            CheckStatus::Warning,
            format!(
                "{} of {n} embedded credential(s) have no checkable proof of their own: {}",
                unsigned.len(),
                unsigned.join("; ")
            ),
        )
    } else {
        Check::new(
            CheckCode::EmbeddedCredentials,
            CheckStatus::Passed,
            format!("all {n} embedded credential(s) verify"),
        )
    }
}
