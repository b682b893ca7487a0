//! Open Badges 3.0 baking (`ob_v3p0/docformat.md`): a signed credential carried inside the
//! badge image, so the picture a learner posts is itself verifiable.
//!
//! - **PNG**: one `iTXt` chunk with keyword `openbadgecredential`, not compressed, holding the
//!   credential JSON (or a compact JWS), placed before `IEND`.
//! - **SVG**: `xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"` on the root element and,
//!   right after its start tag, one `<openbadges:credential>` with the JSON as CDATA (or a
//!   `verify="<compact JWS>"` attribute).
//!
//! Baking never touches the image itself: every byte of the original PNG or SVG is kept and the
//! credential is inserted; baking an already baked image replaces its credential. Extraction
//! returns the credential's bytes exactly as they were baked, so a signature over them still
//! verifies. Everything here is pure: no file system, no network.

use std::borrow::Cow;

mod error;
pub mod png;
pub mod svg;

pub use error::BakeError;

/// The largest image a verifier should accept (a badge picture, not a poster). The credential
/// inside still has the verifier's own, smaller limit.
pub const MAX_IMAGE_BYTES: usize = 32 * 1024 * 1024;

/// The container a credential came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain JSON (nothing to extract).
    Json,
    /// A baked PNG.
    Png,
    /// A baked SVG.
    Svg,
}

impl Format {
    /// The usual media type.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Png => "image/png",
            Format::Svg => "image/svg+xml",
        }
    }

    /// A short name for messages ("PNG").
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "JSON",
            Format::Png => "PNG",
            Format::Svg => "SVG",
        }
    }
}

/// Guesses the container from the bytes: the PNG signature, or markup whose root element is
/// `svg`; anything else is taken as JSON (and judged by the verifier).
pub fn sniff(bytes: &[u8]) -> Format {
    if bytes.starts_with(&png::SIGNATURE) {
        Format::Png
    } else if svg::looks_like_svg(bytes) {
        Format::Svg
    } else {
        Format::Json
    }
}

/// The credential inside `bytes`: extracted from a baked PNG or SVG, or `bytes` itself when
/// they are neither. The format found comes with it.
pub fn extract(bytes: &[u8]) -> Result<(Format, Cow<'_, [u8]>), BakeError> {
    match sniff(bytes) {
        Format::Png => Ok((Format::Png, Cow::Borrowed(png::extract(bytes)?))),
        Format::Svg => Ok((Format::Svg, Cow::Owned(svg::extract(bytes)?))),
        Format::Json => Ok((Format::Json, Cow::Borrowed(bytes))),
    }
}

/// Is `text` a compact JWS (VC-JWT) rather than a JSON credential? Three base64url parts.
pub fn is_compact_jws(text: &[u8]) -> bool {
    let trimmed = text.trim_ascii();
    let parts: Vec<&[u8]> = trimmed.split(|b| *b == b'.').collect();
    parts.len() == 3
        && parts[0].starts_with(b"eyJ")
        && parts.iter().all(|p| {
            p.iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        })
}
