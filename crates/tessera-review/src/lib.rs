//! `tessera-review`: rubric-based evidence review and the time-variable mastery record, as pure
//! code. No database, no HTTP, no clock: plain values in, plain values or a typed [`Error`] out.
//! The service stores what these functions produce and calls them again when it reads it back.
//!
//! # Layout
//! - [`rubric`]: the rubric model, TOML loading with `FILE:LINE:COLUMN` diagnostics, versions,
//!   the content digest and version comparison. The file format is documented in `rubrics/README.md`.
//! - [`case`]: import of a CASE 1.1 `CFRubric`.
//! - [`ob`]: the rubric as OB 3.0 `ResultDescription`s and a scored review as `Result`s.
//! - [`scoring`]: a review's per-criterion levels → mastered / not yet, total, borderline.
//! - [`mastery`]: the per learner × competency state machine and the fold over dated events.
//! - [`moderation`]: which reviews get a second reviewer; reconciling two reviews.
//! - [`agreement`]: inter-rater agreement (percent, Cohen's kappa, linear and quadratic weights).
//! - [`audit`]: the hash-chained audit entry and chain verification.
//! - [`flags`]: the dashboard's flag rules (attempts without mastery, no recent activity, past
//!   target date), each with its reason in plain words; teachers decide.
//! - [`progress`]: the learner dashboard's reading of a record: standing, pace against target
//!   dates, what to work on next and why.
//! - [`error`]: the one error enum.

pub mod agreement;
pub mod audit;
pub mod case;
pub mod error;
pub mod flags;
pub mod mastery;
pub mod moderation;
pub mod ob;
pub mod progress;
pub mod rubric;
pub mod scoring;

pub use agreement::{
    Agreement, ConfusionMatrix, DoubleRating, PairAgreement, Weights, agreement_by_pair,
};
pub use audit::{
    AuditEntry, AuditKind, ChainFault, ChainHead, Hash32, SubjectId, verify_chain,
    verify_chain_to_head,
};
pub use case::{CaseImport, rubric_from_cf_rubric};
pub use error::{Diagnostic, Diagnostics, Error, Location, Problem};
pub use mastery::{
    Attempt, EventKind, EventName, LearnerRecord, LevelAchieved, MasteryEvent, MasteryRecord,
    MasteryState, OverrideRecord, ReviewDecision,
};
pub use moderation::{
    ModerationPolicy, Reconciliation, SecondReview, double_ratings, reconcile, second_review,
};
pub use rubric::{
    Borderline, CaseLink, Combine, Criterion, Level, MasteryRule, Publish, Rubric, RubricChange,
    RubricDigest, RubricRef, RubricVersion, VersionRelation, check_new_version,
};
pub use scoring::{CriterionScore, Outcome, ReviewProblem, ScoredCriterion, ScoredReview};
