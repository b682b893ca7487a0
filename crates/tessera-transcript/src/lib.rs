//! The mastery transcript as pure code: a CLR 2.0 `ClrCredential` (context 2.0.1) for a learner
//! at a point in time, signed by the organisation, and the view a renderer reads back from it.
//!
//! # Layout
//! - [`model`]: what the service hands over — registry nodes and associations, the learner's
//!   time-variable record, their signed AchievementCredentials (exact JSON), their choice.
//! - [`assemble`]: the unsigned ClrCredential (credentials embedded as issued, `achievement[]`,
//!   `association[]`, `partial`, and the time-variable record in [`vocab`] terms).
//! - [`sign`]: `eddsa-rdfc-2022` signing, and a verdict that names each failing credential.
//! - [`view`]: the signed transcript read back into what a page or a PDF shows, so a rendering
//!   shows exactly what was signed.
//!
//! # Making one
//! ```ignore
//! let unsigned = tessera_transcript::assemble(&request)?;
//! let signed = tessera_transcript::sign(&unsigned, &key, &vm_id, now)?;
//! let view = tessera_transcript::TranscriptView::from_clr(&signed)?;
//! ```

pub mod assemble;
pub mod error;
pub mod model;
pub mod sample;
pub mod sign;
pub mod view;
pub mod vocab;

pub use assemble::assemble;
pub use error::Error;
pub use model::{
    AssociationType, CompetencyRecord, Learner, NodeKind, RegistryAssociation, RegistryNode,
    Selection, TranscriptRequest,
};
pub use sign::{FailedCredential, TranscriptVerdict, sign, verify};
pub use view::TranscriptView;
