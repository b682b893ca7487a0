//! The crate's error type.
//!
//! # Error policy
//! An [`Error`] means "could not process": the input broke a resource limit (too large, too deep,
//! a poison graph), a key or option given by the *caller* is malformed, or signing was refused
//! because the document would not be covered by its own signature (safe mode). A credential that
//! was processed but is wrong — a bad signature, an expired date, a missing field — is never an
//! `Error`: it is a verdict, a [`crate::report::VerificationReport`] with failed checks.

use crate::canon::CanonError;

/// Everything that can stop this crate from processing an input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The document is larger than the configured limit; nothing was parsed.
    #[error("document is {size} bytes, more than the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },

    /// The JSON nests deeper than the parser allows (serde_json stops at 128 levels).
    #[error("document nests deeper than {limit} levels; no credential is that deep")]
    TooDeep { limit: usize },

    /// A credential embeds credentials deeper than [`crate::verify::MAX_EMBEDDING_DEPTH`].
    #[error("credentials are embedded more than {limit} levels deep")]
    EmbeddingTooDeep { limit: usize },

    /// The input to a signing or key operation is not JSON.
    #[error("not JSON: {0}")]
    Json(#[source] serde_json::Error),

    /// The document to sign is not a JSON object.
    #[error("the document to sign must be a JSON object")]
    NotAnObject,

    /// JSON-LD processing or RDF canonicalization failed (unknown context, safe-mode violation,
    /// poison graph, size limits …). The inner error names the URL or the JSON path.
    #[error(transparent)]
    Canon(#[from] CanonError),

    /// JCS (RFC 8785) canonicalization failed.
    #[error("JCS canonicalization failed: {0}")]
    Jcs(#[source] serde_json::Error),

    /// A multibase value is malformed.
    #[error("invalid multibase value {value:?}: {reason}")]
    Multibase { value: String, reason: &'static str },

    /// A key is malformed, of an unsupported type, or cannot do what was asked.
    #[error("invalid key: {0}")]
    Key(#[from] KeyError),

    /// A DID, verification method id or controller document is malformed.
    #[error("invalid DID or controller document: {0}")]
    Did(#[from] DidError),

    /// A signing option, or a proof field `tessera canon` reads, is invalid (for example a
    /// `created` that is not an XSD dateTime).
    #[error("invalid proof option `{option}`: {error}", option = .0.option(), error = .0)]
    ProofOption(#[from] ProofOptionError),

    /// A Bitstring Status List could not be built, encoded or decoded.
    #[error("status list: {0}")]
    StatusList(#[from] StatusListError),
}

impl Error {
    /// A stable, machine-readable code for the kind of error (for logs, problem+json `code`s and
    /// exit-status decisions); the `Display` text is for people and may be reworded.
    pub fn code(&self) -> &'static str {
        match self {
            Error::TooLarge { .. } => "too_large",
            Error::TooDeep { .. } => "too_deep",
            Error::EmbeddingTooDeep { .. } => "embedding_too_deep",
            Error::Json(_) => "json",
            Error::NotAnObject => "not_an_object",
            Error::Canon(_) => "canon",
            Error::Jcs(_) => "jcs",
            Error::Multibase { .. } => "multibase",
            Error::Key(_) => "key",
            Error::Did(_) => "did",
            Error::ProofOption(_) => "proof_option",
            Error::StatusList(_) => "status_list",
        }
    }
}

/// What is wrong with a DID, a verification method or a controller document supplied by the
/// caller (a DID document for did:web, an https controller document, a stand-alone Multikey).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DidError {
    /// The controller document is not a JSON object.
    #[error("a controller document must be a JSON object")]
    DocumentNotAnObject,
    /// The controller document has no string `id`.
    #[error("the controller document has no `id`")]
    DocumentWithoutId,
    /// An `assertionMethod` entry is neither a reference nor an embedded method.
    #[error("assertionMethod entries must be ids or objects")]
    BadAssertionMethod,
    /// The identifier is not a did:key.
    #[error("{did} is not a did:key")]
    NotDidKey { did: String },
    /// A did:key whose value is not base58btc multibase.
    #[error("{did}: a did:key value must be base58btc (start with `z`)")]
    DidKeyNotBase58 { did: String },
    /// A verification method is not a JSON object.
    #[error("a verification method must be an object")]
    MethodNotAnObject,
    /// A verification method has no string `id`.
    #[error("a verification method has no `id`")]
    MethodWithoutId,
    /// A published JWK carries its private part.
    #[error("a published JWK must not contain the private key `d`")]
    JwkWithPrivateKey,
    /// An Ed25519 JWK without `x`.
    #[error("an Ed25519 JWK has no `x`")]
    JwkWithoutX,
    /// The JWK `x` is not base64url.
    #[error("the JWK `x` is not base64url")]
    JwkXNotBase64url,
    /// A stand-alone key document that holds no Ed25519 key.
    #[error("{id} is not an Ed25519 key")]
    NotEd25519 { id: String },
}

impl DidError {
    /// A stable code for this case.
    pub fn code(&self) -> &'static str {
        match self {
            DidError::DocumentNotAnObject => "did_document_not_an_object",
            DidError::DocumentWithoutId => "did_document_without_id",
            DidError::BadAssertionMethod => "did_bad_assertion_method",
            DidError::NotDidKey { .. } => "did_not_did_key",
            DidError::DidKeyNotBase58 { .. } => "did_key_not_base58btc",
            DidError::MethodNotAnObject => "did_method_not_an_object",
            DidError::MethodWithoutId => "did_method_without_id",
            DidError::JwkWithPrivateKey => "did_jwk_with_private_key",
            DidError::JwkWithoutX => "did_jwk_without_x",
            DidError::JwkXNotBase64url => "did_jwk_x_not_base64url",
            DidError::NotEd25519 { .. } => "did_not_ed25519",
        }
    }
}

/// What is wrong with a proof's `type` and `cryptosuite`. In verification this is a failed
/// `proof` check (a verdict); it is an [`Error`] only where the caller asked for the signing
/// input of the proof (`tessera canon`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofSuiteError {
    /// The proof has no `type`.
    #[error("the proof has no type")]
    NoType,
    /// A `DataIntegrityProof` without `cryptosuite`.
    #[error("a DataIntegrityProof must name its cryptosuite")]
    NoCryptosuite,
    /// A cryptosuite this crate does not implement.
    #[error("the cryptosuite {cryptosuite:?} is not supported (eddsa-rdfc-2022, eddsa-jcs-2022)")]
    UnsupportedCryptosuite { cryptosuite: String },
    /// A proof type this crate does not implement.
    #[error(
        "the proof type {proof_type:?} is not supported (DataIntegrityProof, Ed25519Signature2020)"
    )]
    UnsupportedType { proof_type: String },
}

/// What is wrong with a proof's `previousProof` (Data Integrity proof chains).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PreviousProofError {
    /// `previousProof` is neither a string nor a list.
    #[error("previousProof must be a string or a list of strings")]
    NotStringOrList,
    /// A list entry is not a string.
    #[error("previousProof entries must be strings")]
    EntryNotString,
    /// The referenced proof is not in the document's proof set.
    #[error("previousProof {id} is not in the proof set")]
    NotInProofSet { id: String },
}

/// An invalid signing option, or a proof field read to compute a signing input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofOptionError {
    /// A cryptosuite name this crate cannot sign with.
    #[error("{value:?} is not supported (eddsa-rdfc-2022, eddsa-jcs-2022)")]
    UnsupportedCryptosuite { value: String },
    /// `created` or `expires` is not an XSD dateTime.
    #[error("{value:?} is not an XSD dateTime (e.g. 2024-05-01T12:00:00Z)")]
    NotDateTime { option: &'static str, value: String },
    /// The verification method is empty or not a URL.
    #[error("{value:?} must be an absolute URL or DID URL")]
    VerificationMethod { value: String },
    /// A proof in the document is not a JSON object.
    #[error("a proof must be a JSON object")]
    ProofNotAnObject,
    /// A proof in the document names a type or cryptosuite this crate does not know.
    #[error(transparent)]
    Suite(#[from] ProofSuiteError),
    /// A proof in the document has a broken `previousProof`.
    #[error(transparent)]
    PreviousProof(#[from] PreviousProofError),
}

impl ProofOptionError {
    /// The option or proof field at fault.
    pub fn option(&self) -> &'static str {
        match self {
            ProofOptionError::UnsupportedCryptosuite { .. } => "cryptosuite",
            ProofOptionError::NotDateTime { option, .. } => option,
            ProofOptionError::VerificationMethod { .. } => "verificationMethod",
            ProofOptionError::ProofNotAnObject => "proof",
            ProofOptionError::Suite(_) => "type",
            ProofOptionError::PreviousProof(_) => "previousProof",
        }
    }

    /// A stable code for this case.
    pub fn code(&self) -> &'static str {
        match self {
            ProofOptionError::UnsupportedCryptosuite { .. } => "unsupported_cryptosuite",
            ProofOptionError::NotDateTime { .. } => "not_a_datetime",
            ProofOptionError::VerificationMethod { .. } => "bad_verification_method",
            ProofOptionError::ProofNotAnObject => "proof_not_an_object",
            ProofOptionError::Suite(ProofSuiteError::NoType) => "proof_without_type",
            ProofOptionError::Suite(ProofSuiteError::NoCryptosuite) => "proof_without_cryptosuite",
            ProofOptionError::Suite(ProofSuiteError::UnsupportedCryptosuite { .. }) => {
                "unsupported_cryptosuite"
            }
            ProofOptionError::Suite(ProofSuiteError::UnsupportedType { .. }) => {
                "unsupported_proof_type"
            }
            ProofOptionError::PreviousProof(_) => "bad_previous_proof",
        }
    }
}

/// What is wrong with a Bitstring Status List or a request to build one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatusListError {
    /// `statusSize` outside 1..=32 bits.
    #[error("statusSize must be between 1 and 32, not {size}")]
    StatusSize { size: u8 },
    /// More entries than the size limit allows.
    #[error("{entries} entries is too many")]
    TooManyEntries { entries: usize },
    /// An index past the end of the list.
    #[error("index {index} is past the end of a {len}-entry list")]
    IndexOutOfRange { index: usize, len: usize },
    /// A value wider than `statusSize` bits.
    #[error("value {value} does not fit in {bits} bits")]
    ValueTooWide { value: u32, bits: usize },
    /// `encodedList` is not base64url.
    #[error("encodedList is not base64url")]
    NotBase64url,
    /// `encodedList` is not GZIP data.
    #[error("encodedList is not GZIP data: {0}")]
    NotGzip(#[source] std::io::Error),
    /// The list inflates beyond the size limit (a decompression bomb).
    #[error("the list inflates to more than {limit} bytes")]
    Inflated { limit: usize },
    /// Shorter than the 131,072-bit minimum the specification requires.
    #[error(
        "the list has {bits} bits, fewer than the required minimum of {minimum} (STATUS_LIST_LENGTH_ERROR)"
    )]
    TooShort { bits: usize, minimum: usize },
    /// The status list credential has no `id` to be found by.
    #[error("the status list credential has no `id`")]
    CredentialWithoutId,
}

impl StatusListError {
    /// A stable code for this case.
    pub fn code(&self) -> &'static str {
        match self {
            StatusListError::StatusSize { .. } => "status_size",
            StatusListError::TooManyEntries { .. } => "too_many_entries",
            StatusListError::IndexOutOfRange { .. } => "index_out_of_range",
            StatusListError::ValueTooWide { .. } => "value_too_wide",
            StatusListError::NotBase64url => "not_base64url",
            StatusListError::NotGzip(_) => "not_gzip",
            StatusListError::Inflated { .. } => "inflated_too_large",
            // The name the Bitstring Status List specification gives this error.
            StatusListError::TooShort { .. } => "status_list_length_error",
            StatusListError::CredentialWithoutId => "credential_without_id",
        }
    }
}

/// What is wrong with a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The multicodec header is not the Ed25519 one (EdDSA suites must reject other key types).
    #[error("{value} is not an Ed25519 {kind} (multicodec header {expected} expected)")]
    WrongType {
        value: String,
        kind: &'static str,
        expected: &'static str,
    },
    /// The key has the wrong number of bytes.
    #[error("an Ed25519 {kind} has {expected} bytes, not {actual}")]
    WrongLength {
        kind: &'static str,
        expected: &'static str,
        actual: usize,
    },
    /// The public key bytes are not a point on the curve.
    #[error("not a point on the Ed25519 curve")]
    NotOnCurve,
    /// The secret does not belong to the public key given with it.
    #[error("the secret key does not belong to the public key {public}")]
    Mismatch { public: String },
    /// Signing needs the secret, and the key file has none.
    #[error("the key file has no secretKeyMultibase: it cannot sign")]
    NoSecret,
}
