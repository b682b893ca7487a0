//! The crate's one error type.

/// Why issuing could not go on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The master key is not 32 bytes of hex or base64.
    #[error("the master key must be 32 bytes, as 64 hex digits or base64: {0}")]
    MasterKey(&'static str),
    /// A sealed secret does not open under this master key (another key, or tampered with).
    #[error("the sealed issuer key does not open with this master key")]
    Unseal,
    /// The public URL cannot name a did:web DID.
    #[error("the public URL {url:?} cannot be a did:web: {reason}")]
    PublicUrl {
        /// The URL.
        url: String,
        /// Why.
        reason: &'static str,
    },
    /// The record holds no mastery to certify.
    #[error("the competency is not mastered")]
    NotMastered,
    /// Signing failed (the credential core refused the document).
    #[error(transparent)]
    Vc(#[from] tessera_vc::Error),
    /// A date or number could not be written.
    #[error("{0}")]
    Invalid(String),
}
