//! Errors of the renderers.

use std::path::PathBuf;

/// What can go wrong rendering or reading back a transcript.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A template file has an error; `file` and `line` say where, so a school can fix it.
    #[error("{file}, line {line}: {detail}")]
    Template {
        /// The template file's name in the template folder.
        file: String,
        /// Its line (1-based; 0 when the engine could not tell).
        line: usize,
        /// What is wrong.
        detail: String,
    },
    /// `theme.toml` could not be read.
    #[error("{file}: {detail}")]
    Theme {
        /// The theme file.
        file: PathBuf,
        /// What is wrong (the TOML parser names line and column).
        detail: String,
    },
    /// The logo file named in `theme.toml` is not a usable PNG or SVG.
    #[error("logo {file}: {detail}")]
    Logo {
        /// The logo file.
        file: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A file of the template folder could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The bytes given as a transcript are not a readable transcript.
    #[error("not a transcript: {0}")]
    Transcript(#[from] tessera_transcript::Error),
    /// The bytes given as a transcript are not JSON.
    #[error("the transcript is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The bundled fonts could not be read (a build problem, not an input one).
    #[error("font: {0}")]
    Font(String),
    /// The verify URL cannot be put in a QR code.
    #[error("QR code: {0}")]
    Qr(String),
    /// Writing the PDF failed.
    #[error("PDF: {0}")]
    Pdf(String),
    /// The file is not a PDF, or it cannot be parsed.
    #[error("not a readable PDF: {0}")]
    NotPdf(String),
    /// The PDF carries no transcript attachment.
    #[error("the PDF has no attached transcript ({0})")]
    NoAttachment(String),
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
