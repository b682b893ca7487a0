use thiserror::Error;

/// Why an image could not be baked, or no credential could be read from it.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum BakeError {
    /// The bytes do not start with the PNG signature.
    #[error("not a PNG file (the PNG signature is missing)")]
    NotPng,
    /// The PNG's chunk structure is broken (truncated, a bad CRC, data after IEND …).
    #[error("the PNG file is damaged: {0}")]
    CorruptPng(String),
    /// The markup is not well-formed XML, or its root element is not `svg`.
    #[error("not an SVG file: {0}")]
    NotSvg(String),
    /// The image carries no Open Badges credential.
    #[error("the {0} image carries no Open Badges credential (it is not a baked badge)")]
    NoCredential(&'static str),
    /// More than one credential: the format allows exactly one, so none can be trusted to be
    /// "the" credential.
    #[error(
        "the {0} image carries more than one Open Badges credential; a baked badge has exactly one"
    )]
    SeveralCredentials(&'static str),
    /// The credential chunk or element is malformed (compressed, not UTF-8, a bad header …).
    #[error("the baked credential is malformed: {0}")]
    MalformedCredential(String),
    /// The credential to bake is not UTF-8 text.
    #[error("the credential to bake must be UTF-8 text (JSON or a compact JWS)")]
    CredentialNotText,
}
