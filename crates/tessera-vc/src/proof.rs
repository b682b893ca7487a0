//! Data Integrity proofs: `eddsa-rdfc-2022` and `eddsa-jcs-2022` (sign and verify), and the legacy
//! `Ed25519Signature2020` (verify).
//!
//! See: <https://www.w3.org/TR/vc-data-integrity/> and <https://www.w3.org/TR/vc-di-eddsa/>.
//!
//! The signed bytes are always `SHA-256(canonical proof configuration) ‖ SHA-256(canonical
//! document)` — proof first — where "canonical" is RDFC-1.0 N-Quads for the RDFC suites and JCS
//! (RFC 8785) for `eddsa-jcs-2022`. Nothing here reads a clock or draws randomness: `created` is
//! passed in, and Ed25519 is deterministic, so the same key, document and `created` give the same
//! `proofValue` as any other correct implementation.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::canon;
use crate::datetime;
use crate::error::{Error, PreviousProofError, ProofOptionError, ProofSuiteError};
use crate::keys::{self, KeyPair};

/// A cryptosuite this crate can sign with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cryptosuite {
    /// `eddsa-rdfc-2022`: RDFC-1.0 canonical N-Quads. The one 1EdTech conformance requires.
    EddsaRdfc2022,
    /// `eddsa-jcs-2022`: JCS canonical JSON. Not accepted by the 1EdTech validator; offer it as a
    /// second proof in a set, or for non-OB documents.
    EddsaJcs2022,
}

impl Cryptosuite {
    /// The `cryptosuite` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Cryptosuite::EddsaRdfc2022 => "eddsa-rdfc-2022",
            Cryptosuite::EddsaJcs2022 => "eddsa-jcs-2022",
        }
    }
}

impl std::str::FromStr for Cryptosuite {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "eddsa-rdfc-2022" => Ok(Cryptosuite::EddsaRdfc2022),
            "eddsa-jcs-2022" => Ok(Cryptosuite::EddsaJcs2022),
            other => Err(ProofOptionError::UnsupportedCryptosuite {
                value: other.to_owned(),
            }
            .into()),
        }
    }
}

/// How a proof's bytes were made, for verification (one more than we sign with).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProofSuite {
    /// `DataIntegrityProof` + `eddsa-rdfc-2022` (or the deprecated `eddsa-2022`, same bytes).
    EddsaRdfc2022,
    /// `DataIntegrityProof` + `eddsa-jcs-2022`.
    EddsaJcs2022,
    /// The legacy `Ed25519Signature2020` (RDFC canonicalization, no `cryptosuite`).
    Ed25519Signature2020,
}

impl ProofSuite {
    /// Reads the suite from a proof's `type` and `cryptosuite`.
    pub fn of(proof: &Map<String, Value>) -> Result<Self, ProofSuiteError> {
        let ty = proof.get("type").and_then(Value::as_str);
        let suite = proof.get("cryptosuite").and_then(Value::as_str);
        match (ty, suite) {
            (Some("DataIntegrityProof"), Some("eddsa-rdfc-2022" | "eddsa-2022")) => {
                Ok(ProofSuite::EddsaRdfc2022)
            }
            (Some("DataIntegrityProof"), Some("eddsa-jcs-2022")) => Ok(ProofSuite::EddsaJcs2022),
            (Some("Ed25519Signature2020"), None) => Ok(ProofSuite::Ed25519Signature2020),
            (Some("DataIntegrityProof"), None) => Err(ProofSuiteError::NoCryptosuite),
            (Some("DataIntegrityProof"), Some(other)) => {
                Err(ProofSuiteError::UnsupportedCryptosuite {
                    cryptosuite: other.to_owned(),
                })
            }
            (Some(other), _) => Err(ProofSuiteError::UnsupportedType {
                proof_type: other.to_owned(),
            }),
            (None, _) => Err(ProofSuiteError::NoType),
        }
    }

    /// A short name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ProofSuite::EddsaRdfc2022 => "eddsa-rdfc-2022",
            ProofSuite::EddsaJcs2022 => "eddsa-jcs-2022",
            ProofSuite::Ed25519Signature2020 => "Ed25519Signature2020",
        }
    }

    fn uses_rdfc(self) -> bool {
        !matches!(self, ProofSuite::EddsaJcs2022)
    }
}

impl From<Cryptosuite> for ProofSuite {
    fn from(suite: Cryptosuite) -> Self {
        match suite {
            Cryptosuite::EddsaRdfc2022 => ProofSuite::EddsaRdfc2022,
            Cryptosuite::EddsaJcs2022 => ProofSuite::EddsaJcs2022,
        }
    }
}

/// What to put in a new proof.
#[derive(Debug, Clone, PartialEq)]
pub struct ProofOptions {
    /// The cryptosuite.
    pub cryptosuite: Cryptosuite,
    /// The key's verification method id (`did:key:z6Mk…#z6Mk…`, `https://…/issuers/1#key-1`).
    pub verification_method: String,
    /// `created`, exactly as it will appear (an XSD dateTime), or `None` to omit it.
    pub created: Option<String>,
    /// `expires`, if the proof should stop verifying at some time.
    pub expires: Option<String>,
    /// `proofPurpose`; `assertionMethod` for credentials.
    pub proof_purpose: String,
    /// An `id` for the proof (needed if a later proof will chain to it).
    pub id: Option<String>,
}

impl ProofOptions {
    /// Options for an assertion proof.
    pub fn new(
        cryptosuite: Cryptosuite,
        verification_method: impl Into<String>,
        created: Option<String>,
    ) -> Self {
        ProofOptions {
            cryptosuite,
            verification_method: verification_method.into(),
            created,
            expires: None,
            proof_purpose: "assertionMethod".into(),
            id: None,
        }
    }
}

/// The canonical forms and hashes a proof's signature covers: what `tessera canon` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningInput {
    /// The suite.
    pub suite: ProofSuite,
    /// The canonical document (N-Quads, or JCS JSON).
    pub canonical_document: String,
    /// The canonical proof configuration.
    pub canonical_proof_config: String,
    /// SHA-256 of the canonical document.
    pub document_hash: [u8; 32],
    /// SHA-256 of the canonical proof configuration.
    pub proof_hash: [u8; 32],
}

impl SigningInput {
    /// The 64 signed bytes: proof hash, then document hash.
    pub fn hash_data(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&self.proof_hash);
        out[32..].copy_from_slice(&self.document_hash);
        out
    }
}

fn sha256(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// Canonicalizes a document (already without `proof`, or with only the chained proofs) for `suite`.
pub fn canonicalize_document(suite: ProofSuite, document: &Value) -> Result<String, Error> {
    if suite.uses_rdfc() {
        Ok(canon::canonicalize(document)?)
    } else {
        serde_json_canonicalizer::to_string(document).map_err(Error::Jcs)
    }
}

/// Builds the signing input from an unsecured document and a proof configuration (the proof
/// without `proofValue`; for the RDFC suites its `@context` is replaced by the document's).
pub fn signing_input(
    suite: ProofSuite,
    unsecured: &Value,
    proof_config: &Map<String, Value>,
) -> Result<SigningInput, Error> {
    let canonical_document = canonicalize_document(suite, unsecured)?;
    signing_input_with_document(suite, unsecured, proof_config, canonical_document)
}

/// Like [`signing_input`] with the document already canonicalized (reused across a proof set).
pub(crate) fn signing_input_with_document(
    suite: ProofSuite,
    unsecured: &Value,
    proof_config: &Map<String, Value>,
    canonical_document: String,
) -> Result<SigningInput, Error> {
    let mut config = proof_config.clone();
    config.remove("proofValue");
    let canonical_proof_config = if suite.uses_rdfc() {
        match unsecured.get("@context") {
            Some(ctx) => {
                config.insert("@context".into(), ctx.clone());
            }
            None => {
                config.remove("@context");
            }
        }
        canon::canonicalize(&Value::Object(config))?
    } else {
        serde_json_canonicalizer::to_string(&Value::Object(config)).map_err(Error::Jcs)?
    };
    Ok(SigningInput {
        suite,
        document_hash: sha256(&canonical_document),
        proof_hash: sha256(&canonical_proof_config),
        canonical_document,
        canonical_proof_config,
    })
}

/// The proof configuration for `options`: `type`, `cryptosuite`, `created`, `expires`,
/// `verificationMethod`, `proofPurpose` (and `@context` for JCS).
fn proof_config(
    document: &Map<String, Value>,
    options: &ProofOptions,
) -> Result<Map<String, Value>, Error> {
    for (option, value) in [("created", &options.created), ("expires", &options.expires)] {
        if let Some(text) = value
            && datetime::parse(text).is_none()
        {
            return Err(ProofOptionError::NotDateTime {
                option,
                value: text.clone(),
            }
            .into());
        }
    }
    if options.verification_method.is_empty() || options.verification_method.contains(' ') {
        return Err(ProofOptionError::VerificationMethod {
            value: options.verification_method.clone(),
        }
        .into());
    }
    let mut config = Map::new();
    if let Some(id) = &options.id {
        config.insert("id".into(), Value::String(id.clone()));
    }
    config.insert("type".into(), "DataIntegrityProof".into());
    config.insert("cryptosuite".into(), options.cryptosuite.as_str().into());
    if let Some(created) = &options.created {
        config.insert("created".into(), Value::String(created.clone()));
    }
    if let Some(expires) = &options.expires {
        config.insert("expires".into(), Value::String(expires.clone()));
    }
    config.insert(
        "verificationMethod".into(),
        Value::String(options.verification_method.clone()),
    );
    config.insert(
        "proofPurpose".into(),
        Value::String(options.proof_purpose.clone()),
    );
    if options.cryptosuite == Cryptosuite::EddsaJcs2022
        && let Some(ctx) = document.get("@context")
    {
        // eddsa-jcs-2022 §3.3.1: the proof carries the document's context, so a verifier can
        // tell if someone swapped contexts under the signature.
        config.insert("@context".into(), ctx.clone());
    }
    Ok(config)
}

/// Creates a proof over `document` (any existing `proof` is left out of the signed data, as proof
/// sets require) and returns the proof object, `proofValue` included.
///
/// Refuses (`Err`) a document that JSON-LD safe mode rejects — an undefined term, a relative IRI,
/// an unknown context — since the signature would not cover what the reader sees. That check also
/// runs for `eddsa-jcs-2022`.
pub fn create_proof(
    document: &Value,
    key: &KeyPair,
    options: &ProofOptions,
) -> Result<Map<String, Value>, Error> {
    let mut unsecured = document.as_object().ok_or(Error::NotAnObject)?.clone();
    unsecured.remove("proof");
    create_proof_over(&Value::Object(unsecured), key, options)
}

/// Creates the proof over `unsecured` (a JSON object without `proof`).
fn create_proof_over(
    unsecured: &Value,
    key: &KeyPair,
    options: &ProofOptions,
) -> Result<Map<String, Value>, Error> {
    let obj = unsecured.as_object().ok_or(Error::NotAnObject)?;
    let mut config = proof_config(obj, options)?;
    let suite = ProofSuite::from(options.cryptosuite);
    if suite == ProofSuite::EddsaJcs2022 && obj.contains_key("@context") {
        // Safe mode for JCS too: the JSON-LD reading of the document must be lossless.
        canon::canonicalize(unsecured)?;
    }
    let input = signing_input(suite, unsecured, &config)?;
    let signature = key.sign(&input.hash_data());
    config.insert(
        "proofValue".into(),
        Value::String(keys::encode_base58btc(&signature)),
    );
    Ok(config)
}

/// Signs `document`: adds a proof, turning an existing proof into a proof set. Returns the
/// signed document.
pub fn sign(document: &Value, key: &KeyPair, options: &ProofOptions) -> Result<Value, Error> {
    // One copy of the document: the proof is made over it without `proof`, then the proofs go back.
    let mut doc = Value::Object(document.as_object().ok_or(Error::NotAnObject)?.clone());
    let existing = doc.as_object_mut().and_then(|o| o.remove("proof"));
    let proof = Value::Object(create_proof_over(&doc, key, options)?);
    let proofs = match existing {
        None => proof,
        Some(Value::Array(mut proofs)) => {
            proofs.push(proof);
            Value::Array(proofs)
        }
        Some(one) => Value::Array(vec![one, proof]),
    };
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("proof".into(), proofs);
    }
    Ok(doc)
}

/// The proofs of a document, as a list (a single proof object is a set of one).
pub fn proofs_of(document: &Value) -> Vec<&Value> {
    match document.get("proof") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
    }
}

/// The unsecured document a given proof was made over: the document without `proof`, or — for a
/// proof that names `previousProof` — with `proof` set to exactly the proofs it chains to
/// (Data Integrity §4.2, "Add Proof", steps for `previousProof`).
pub fn unsecured_document_for(
    document: &Map<String, Value>,
    proof: &Map<String, Value>,
    all_proofs: &[&Value],
) -> Result<Value, PreviousProofError> {
    let mut unsecured = document.clone();
    unsecured.remove("proof");
    let previous: Vec<&str> = match proof.get("previousProof") {
        None => return Ok(Value::Object(unsecured)),
        Some(Value::String(id)) => vec![id.as_str()],
        Some(Value::Array(ids)) => ids
            .iter()
            .map(|v| v.as_str().ok_or(PreviousProofError::EntryNotString))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(PreviousProofError::NotStringOrList),
    };
    let mut matching = Vec::with_capacity(previous.len());
    for id in previous {
        let found = all_proofs
            .iter()
            .find(|p| p.get("id").and_then(Value::as_str) == Some(id))
            .ok_or_else(|| PreviousProofError::NotInProofSet { id: id.to_owned() })?;
        matching.push((*found).clone());
    }
    unsecured.insert("proof".into(), Value::Array(matching));
    Ok(Value::Object(unsecured))
}

/// The signing input of each proof in a signed document, for `tessera canon`. For a document
/// without proofs, the canonical document alone (with an empty proof configuration).
pub fn signing_inputs(document: &Value) -> Result<Vec<SigningInput>, Error> {
    let obj = document.as_object().ok_or(Error::NotAnObject)?;
    let proofs = proofs_of(document);
    if proofs.is_empty() {
        let mut unsecured = obj.clone();
        unsecured.remove("proof");
        let canonical_document = canon::canonicalize(&Value::Object(unsecured))?;
        return Ok(vec![SigningInput {
            suite: ProofSuite::EddsaRdfc2022,
            document_hash: sha256(&canonical_document),
            proof_hash: sha256(""),
            canonical_document,
            canonical_proof_config: String::new(),
        }]);
    }
    let mut out = Vec::with_capacity(proofs.len());
    for proof in &proofs {
        let proof = proof
            .as_object()
            .ok_or(ProofOptionError::ProofNotAnObject)?;
        let suite = ProofSuite::of(proof).map_err(ProofOptionError::from)?;
        let mut unsecured =
            unsecured_document_for(obj, proof, &proofs).map_err(ProofOptionError::from)?;
        if suite == ProofSuite::EddsaJcs2022
            && let (Some(ctx), Some(map)) = (proof.get("@context"), unsecured.as_object_mut())
        {
            map.insert("@context".into(), ctx.clone());
        }
        out.push(signing_input(suite, &unsecured, proof)?);
    }
    Ok(out)
}
