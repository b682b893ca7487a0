//! Moderation decisions: which reviews need a second reviewer, and what happens when two
//! reviews of the same attempt are in.
//!
//! Every borderline review goes to a second reviewer, and so does a configurable share of the
//! others. The random draw is a parameter (the service draws it once per review and stores it),
//! so the decision is reproducible and testable. Two reviews that reach the same outcome settle
//! the attempt; different outcomes go to a moderator. Both ratings feed inter-rater agreement.

use serde::{Deserialize, Serialize};

use crate::agreement::DoubleRating;
use crate::error::Error;
use crate::scoring::{Outcome, ScoredReview};

/// The moderation policy of an organisation (or a rubric).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModerationPolicy {
    /// Share of non-borderline reviews sampled for a second review, in per mille (0–1000).
    pub sample_per_mille: u16,
}

/// Whether a review needs a second reviewer, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecondReview {
    /// The outcome stands without a second review.
    NotRequired,
    /// Borderline under the rubric's definition: always double-marked.
    Borderline,
    /// Picked by the random sample.
    Sampled,
}

/// Decide whether `review` needs a second reviewer. `draw` is a uniform random number in
/// `0..1000` supplied by the caller; values of 1000 or more never sample.
pub fn second_review(policy: ModerationPolicy, review: &ScoredReview, draw: u16) -> SecondReview {
    if review.borderline {
        SecondReview::Borderline
    } else if draw < policy.sample_per_mille.min(1000) {
        SecondReview::Sampled
    } else {
        SecondReview::NotRequired
    }
}

/// The state of a double-marked attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Reconciliation {
    /// Both reviews reach this outcome; it stands (the first review's levels are recorded).
    Agreed {
        /// The common outcome.
        outcome: Outcome,
    },
    /// The outcomes differ: a moderator decides.
    NeedsModerator {
        /// First reviewer's outcome.
        first: Outcome,
        /// Second reviewer's outcome.
        second: Outcome,
    },
}

/// Compare two reviews of the same attempt. They must be scored against the same rubric version
/// ([`Error::RubricMismatch`] otherwise).
pub fn reconcile(first: &ScoredReview, second: &ScoredReview) -> Result<Reconciliation, Error> {
    if first.rubric != second.rubric {
        return Err(Error::RubricMismatch {
            first: Box::new(first.rubric.clone()),
            second: Box::new(second.rubric.clone()),
        });
    }
    Ok(if first.outcome == second.outcome {
        Reconciliation::Agreed {
            outcome: first.outcome,
        }
    } else {
        Reconciliation::NeedsModerator {
            first: first.outcome,
            second: second.outcome,
        }
    })
}

/// The per-criterion double ratings of two reviews of one attempt, for agreement statistics.
pub fn double_ratings(
    first: &ScoredReview,
    first_reviewer: &str,
    second: &ScoredReview,
    second_reviewer: &str,
) -> Vec<DoubleRating> {
    first
        .criteria
        .iter()
        .filter_map(|a| {
            let b = second
                .criteria
                .iter()
                .find(|b| b.criterion == a.criterion)?;
            Some(DoubleRating {
                rubric: first.rubric.id.clone(),
                criterion: a.criterion.clone(),
                reviewer_a: first_reviewer.to_owned(),
                level_a: a.level.clone(),
                reviewer_b: second_reviewer.to_owned(),
                level_b: b.level.clone(),
            })
        })
        .collect()
}
