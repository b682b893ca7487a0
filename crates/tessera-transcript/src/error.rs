//! The crate's error type.
//!
//! # Error policy
//! An [`Error`] means the transcript could not be made or read: the caller's input is
//! inconsistent (a selection naming an unknown competency, a credential with no achievement id),
//! nothing is left to put in it, or signing failed. A transcript that was made but does not verify
//! is not an `Error`: that is a verdict ([`crate::verify::TranscriptVerdict`]).

/// Everything that can stop a transcript from being assembled, signed or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The learner selected a competency that is not in their record.
    #[error("the selection names competency {0}, which is not in the learner's record")]
    UnknownCompetency(String),

    /// The learner selected a framework none of their competencies belongs to.
    #[error("the selection names framework {0}, which holds none of the learner's competencies")]
    UnknownFramework(String),

    /// A competency names a framework that was not supplied.
    #[error("competency {competency} belongs to framework {framework}, which was not supplied")]
    MissingFramework {
        /// The competency's id.
        competency: String,
        /// The framework id it names.
        framework: String,
    },

    /// An AchievementCredential could not be tied to a competency.
    #[error("credential {credential}: {reason}")]
    Credential {
        /// The credential's `id`, or its position when it has none.
        credential: String,
        /// What is wrong.
        reason: String,
    },

    /// A CLR must embed at least one credential, and the selection left none.
    #[error("the selection leaves no earned credential to put in the transcript")]
    Empty,

    /// The document is not a transcript this crate can read (for rendering).
    #[error("not a Tessera transcript: {0}")]
    NotATranscript(String),

    /// Signing or verification could not process the document.
    #[error(transparent)]
    Vc(#[from] tessera_vc::Error),
}
