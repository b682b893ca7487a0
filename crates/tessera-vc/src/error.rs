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
    Did(String),

    /// A signing option is invalid (for example a `created` that is not an XSD dateTime).
    #[error("invalid proof option `{option}`: {reason}")]
    ProofOption {
        option: &'static str,
        reason: String,
    },

    /// A Bitstring Status List could not be encoded or decoded.
    #[error("status list: {0}")]
    StatusList(String),
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
