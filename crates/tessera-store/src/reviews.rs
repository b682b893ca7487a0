//! Reviews: the queue of pending submissions, scoring, moderation and teacher overrides.
//!
//! A review goes `pending → scored` exactly once: every step is a conditional
//! `UPDATE … WHERE state = 'pending' AND stage = …` checked by rows affected, so of two reviewers
//! (or moderators) finishing the same step at once one wins and the other gets
//! [`StoreError::Conflict`] — one outcome, never two. The mastery event (`review`) and the audit
//! entries are written in the same transaction as the decision.
//!
//! # Moderation
//! A pending review has a [`ReviewStage`]. A first review that is borderline under its rubric, or
//! picked by the organisation's sample ([`Store::review_settings`]), does not decide: the review
//! moves to stage `second` and waits for a second reviewer, who must be someone else. If the two
//! outcomes agree ([`tessera_review::reconcile`]) the outcome stands (with the first review's
//! levels); if not, the review moves to stage `moderation` and a moderator's decision
//! ([`Store::moderate_review`]) sets it. Both ratings are kept for inter-rater agreement
//! ([`Store::review_agreement`]).
//!
//! The sample is deterministic: the n-th non-borderline first review of an organisation is drawn
//! with `draw = 999 − ((n − 1) · share mod 1000)`, which picks exactly `share` of every 1000
//! consecutive reviews, evenly spread (with 500 ‰: every second one, starting with the second).

use chrono::{DateTime, Utc};
use serde::Serialize;
use tessera_review::{
    AuditKind, EventKind, MasteryState, ModerationPolicy, Outcome, PairAgreement, Reconciliation,
    ReviewDecision, ScoredReview, SecondReview,
};

use crate::audit::append_audit;
use crate::mastery::{load_record, record_event, subject};
use crate::{Store, StoreError, read, write};

/// A review, pending or decided.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Review {
    /// Review id.
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// The submission reviewed.
    pub submission_id: String,
    /// The learner.
    pub learner_id: String,
    /// The competency.
    pub competency_id: String,
    /// Rubric id.
    pub rubric_id: String,
    /// Rubric version.
    pub rubric_version: String,
    /// `pending` or `scored`.
    pub state: String,
    /// When the submission came in (queue order).
    pub created_at: DateTime<Utc>,
    /// Who decided it.
    pub reviewer_id: Option<String>,
    /// `mastered` or `not_yet`, once decided.
    pub outcome: Option<String>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Which step it waits for (or was decided at): `first`, `second` or `moderation`.
    pub stage: String,
    /// Why it went to a second reviewer: `borderline` or `sampled`.
    pub second_reason: Option<String>,
    /// The first reviewer, once a second review is needed.
    pub first_reviewer_id: Option<String>,
    /// The first reviewer's outcome, once a second review is needed.
    pub first_outcome: Option<String>,
    /// The second reviewer.
    pub second_reviewer_id: Option<String>,
    /// The second reviewer's outcome.
    pub second_outcome: Option<String>,
    /// The moderator whose decision set the outcome.
    pub moderator_id: Option<String>,
}

impl Review {
    /// The stage as a type.
    pub fn stage(&self) -> Result<ReviewStage, StoreError> {
        ReviewStage::parse(&self.stage)
            .ok_or_else(|| StoreError::Corrupt(format!("review stage {}", self.stage)))
    }

    /// Whether it still waits for a decision.
    pub fn is_pending(&self) -> bool {
        self.state == "pending"
    }
}

/// The step a pending review waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ReviewStage {
    /// The first review of a submission.
    First,
    /// A second review (the first was borderline or sampled).
    Second,
    /// The two reviews disagreed: a moderator decides.
    Moderation,
}

impl ReviewStage {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::First => "first",
            Self::Second => "second",
            Self::Moderation => "moderation",
        }
    }

    /// The stage from its stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::First, Self::Second, Self::Moderation]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// What a score did to a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum ReviewStep {
    /// The outcome stands.
    Decided {
        /// The outcome.
        outcome: Outcome,
        /// The learner's record state for the competency after it.
        state: MasteryState,
        /// Whether a second reviewer or a moderator was involved.
        moderated: bool,
    },
    /// The review waits for a second reviewer.
    AwaitingSecondReview {
        /// Why (`borderline` or `sampled`).
        reason: SecondReview,
    },
    /// The two reviews disagree: the review waits for a moderator.
    AwaitingModerator {
        /// First reviewer's outcome.
        first: Outcome,
        /// Second reviewer's outcome.
        second: Outcome,
    },
}

/// An organisation's review settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewSettings {
    /// Share of non-borderline first reviews sent to a second reviewer, in per mille (0–1000).
    pub sample_per_mille: u16,
}

/// Agreement of the reviewer pairs on one rubric version.
#[derive(Debug, Clone, Serialize)]
pub struct RubricAgreement {
    /// Rubric id.
    pub rubric_id: String,
    /// Rubric version.
    pub rubric_version: String,
    /// How many reviews were double-rated.
    pub double_rated_reviews: u64,
    /// Per reviewer pair (user ids, the one that sorts first as `reviewer_a`).
    pub pairs: Vec<PairAgreement>,
}

/// Queue filters (all optional).
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// Only this competency.
    pub competency: Option<String>,
    /// Only this learner.
    pub learner: Option<String>,
    /// Only this rubric id.
    pub rubric: Option<String>,
    /// Only reviews waiting for this stage (first reviews, second reviews, moderation).
    pub stage: Option<ReviewStage>,
}

const REVIEW_COLUMNS: &str = "id, org_id, submission_id, learner_id, competency_id, rubric_id, \
     rubric_version, state, created_at, reviewer_id, outcome, decided_at, stage, second_reason, \
     first_reviewer_id, first_outcome, second_reviewer_id, second_outcome, moderator_id";

/// What an override does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverrideAction {
    /// Set the outcome against the rubric's rule.
    Set(Outcome),
    /// Withdraw a mastery.
    Withdraw,
}

/// A teacher's override of one learner × competency.
#[derive(Debug, Clone, Copy)]
pub struct Override<'a> {
    /// The organisation.
    pub org_id: &'a str,
    /// The learner.
    pub learner_id: &'a str,
    /// The competency.
    pub competency_id: &'a str,
    /// What to do.
    pub action: OverrideAction,
    /// The written reason.
    pub reason: &'a str,
    /// The teacher.
    pub teacher_id: &'a str,
}

fn to_json(scored: &ScoredReview) -> Result<String, StoreError> {
    serde_json::to_string(scored).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The sample draw for the `n`-th (1-based) non-borderline first review under `share` ‰: below
/// `share` for exactly `share` of every 1000 consecutive `n` (see the module docs).
pub fn sample_draw(share: u16, n: i64) -> u16 {
    let step = (n.max(1) - 1).rem_euclid(1000) * i64::from(share.min(1000));
    u16::try_from(999 - step.rem_euclid(1000)).unwrap_or(999)
}

/// Records the outcome that now stands for `$review` in `$tx`: the `review` event on the
/// learner's record (through the state machine, with its own audit entry). Evaluates to the
/// record's new state.
macro_rules! settle {
    ($tx:expr, $review:expr, $decision:expr, $now:expr) => {{
        let review: &Review = $review;
        let (mut record, mut seq) = load_record!($tx, &review.learner_id, &review.competency_id);
        record_event!(
            $tx,
            &review.org_id,
            &review.learner_id,
            record,
            &mut seq,
            EventKind::Reviewed($decision),
            $now
        );
        record.state
    }};
}

fn outcome_str(o: Outcome) -> &'static str {
    match o {
        Outcome::Mastered => "mastered",
        Outcome::NotYet => "not_yet",
    }
}

impl Store {
    /// Pending reviews of the organisation, oldest first, filtered (by stage too: first
    /// reviews, second reviews or moderation).
    #[tracing::instrument(skip_all)]
    pub async fn review_queue(
        &self,
        org_id: &str,
        filter: &QueueFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Review>, StoreError> {
        read!(self, |pool| {
            Ok(sqlx::query_as(crate::sqlf!(
                "SELECT {REVIEW_COLUMNS} FROM reviews \
                 WHERE org_id = $1 AND state = 'pending' \
                 AND ($2 IS NULL OR competency_id = $2) \
                 AND ($3 IS NULL OR learner_id = $3) \
                 AND ($4 IS NULL OR rubric_id = $4) \
                 AND ($7 IS NULL OR stage = $7) \
                 ORDER BY created_at, id LIMIT $5 OFFSET $6"
            ))
            .bind(org_id)
            .bind(&filter.competency)
            .bind(&filter.learner)
            .bind(&filter.rubric)
            .bind(limit)
            .bind(offset)
            .bind(filter.stage.map(ReviewStage::as_str))
            .fetch_all(pool)
            .await?)
        })
    }

    /// One review.
    #[tracing::instrument(skip_all)]
    pub async fn review(&self, id: &str) -> Result<Review, StoreError> {
        read!(self, |pool| {
            Ok(sqlx::query_as(crate::sqlf!(
                "SELECT {REVIEW_COLUMNS} FROM reviews WHERE id = $1"
            ))
            .bind(id)
            .fetch_one(pool)
            .await?)
        })
    }

    /// Records a reviewer's score for a pending review at stage `first` or `second` (see the
    /// module docs). `scored` comes from `Rubric::score` on the review's rubric version. A review
    /// already decided or moved on gives [`StoreError::Conflict`], and so does a second review
    /// by the first reviewer or a review that waits for a moderator.
    #[tracing::instrument(skip_all)]
    pub async fn score_review(
        &self,
        review: &Review,
        reviewer_id: &str,
        scored: &ScoredReview,
        now: DateTime<Utc>,
    ) -> Result<ReviewStep, StoreError> {
        let stage = review.stage()?;
        let scored_json = to_json(scored)?;
        let reviewer = subject("reviewer", reviewer_id);
        let subjects = [
            subject("review", &review.id),
            reviewer.clone(),
            subject("learner", &review.learner_id),
            subject("competency", &review.competency_id),
        ];
        let subjects: Vec<&str> = subjects.iter().map(String::as_str).collect();
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let step = match stage {
                ReviewStage::First => {
                    let second = if scored.borderline {
                        SecondReview::Borderline
                    } else {
                        // Count this first review and read the share in one statement.
                        let (share, n): (i64, i64) = sqlx::query_as(
                            "INSERT INTO review_settings (org_id, sample_per_mille, first_reviews, \
                             updated_at) VALUES ($1, 0, 1, $2) ON CONFLICT (org_id) DO UPDATE \
                             SET first_reviews = review_settings.first_reviews + 1 \
                             RETURNING sample_per_mille, first_reviews",
                        )
                        .bind(&review.org_id)
                        .bind(now)
                        .fetch_one(&mut *tx)
                        .await?;
                        let share = u16::try_from(share.clamp(0, 1000)).unwrap_or(0);
                        tessera_review::second_review(
                            ModerationPolicy {
                                sample_per_mille: share,
                            },
                            scored,
                            sample_draw(share, n),
                        )
                    };
                    match second {
                        SecondReview::NotRequired => {
                            let done = sqlx::query(
                                "UPDATE reviews SET state = 'scored', reviewer_id = $2, \
                                 outcome = $3, scored = $4, decided_at = $5 \
                                 WHERE id = $1 AND state = 'pending' AND stage = 'first'",
                            )
                            .bind(&review.id)
                            .bind(reviewer_id)
                            .bind(outcome_str(scored.outcome))
                            .bind(&scored_json)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                            if done.rows_affected() != 1 {
                                return Err(StoreError::Conflict(
                                    "this review was already decided",
                                ));
                            }
                            let decision =
                                ReviewDecision::from_scored(scored, reviewer.clone(), false);
                            let state = settle!(tx, review, decision, now);
                            let payload = serde_json::json!({
                                "review": review.id,
                                "submission": review.submission_id,
                                "stage": "first",
                                "scored": scored,
                            })
                            .to_string();
                            append_audit!(tx, AuditKind::ReviewRecorded, &subjects, payload, now);
                            ReviewStep::Decided {
                                outcome: scored.outcome,
                                state,
                                moderated: false,
                            }
                        }
                        reason => {
                            let reason_str = match reason {
                                SecondReview::Borderline => "borderline",
                                _ => "sampled",
                            };
                            let done = sqlx::query(
                                "UPDATE reviews SET stage = 'second', second_reason = $2, \
                                 first_reviewer_id = $3, first_scored = $4, first_outcome = $5 \
                                 WHERE id = $1 AND state = 'pending' AND stage = 'first'",
                            )
                            .bind(&review.id)
                            .bind(reason_str)
                            .bind(reviewer_id)
                            .bind(&scored_json)
                            .bind(outcome_str(scored.outcome))
                            .execute(&mut *tx)
                            .await?;
                            if done.rows_affected() != 1 {
                                return Err(StoreError::Conflict("this review was already scored"));
                            }
                            let payload = serde_json::json!({
                                "review": review.id,
                                "submission": review.submission_id,
                                "stage": "first",
                                "second_review": reason_str,
                                "scored": scored,
                            })
                            .to_string();
                            append_audit!(tx, AuditKind::ReviewRecorded, &subjects, payload, now);
                            ReviewStep::AwaitingSecondReview { reason }
                        }
                    }
                }
                ReviewStage::Second => {
                    let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
                        "SELECT first_reviewer_id, first_scored FROM reviews \
                         WHERE id = $1 AND state = 'pending' AND stage = 'second'",
                    )
                    .bind(&review.id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some((Some(first_reviewer), Some(first_json))) = row else {
                        return Err(StoreError::Conflict(
                            "this review is no longer waiting for a second review",
                        ));
                    };
                    if first_reviewer == reviewer_id {
                        return Err(StoreError::Conflict(
                            "the second review must be by another reviewer",
                        ));
                    }
                    let first: ScoredReview = serde_json::from_str(&first_json)
                        .map_err(|e| StoreError::Corrupt(format!("first review: {e}")))?;
                    // Only while still waiting, and never by the first reviewer: of two second
                    // reviewers at once, one wins.
                    const SECOND_STILL_PENDING: &str = "WHERE id = $1 AND state = 'pending' \
                         AND stage = 'second' AND first_reviewer_id <> $2";
                    match tessera_review::reconcile(&first, scored)? {
                        Reconciliation::Agreed { outcome } => {
                            let done = sqlx::query(crate::sqlf!(
                                "UPDATE reviews SET state = 'scored', \
                                 reviewer_id = first_reviewer_id, outcome = $3, \
                                 scored = first_scored, second_reviewer_id = $2, \
                                 second_scored = $4, second_outcome = $3, decided_at = $5 \
                                 {SECOND_STILL_PENDING}"
                            ))
                            .bind(&review.id)
                            .bind(reviewer_id)
                            .bind(outcome_str(outcome))
                            .bind(&scored_json)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                            if done.rows_affected() != 1 {
                                return Err(StoreError::Conflict(
                                    "this review was already decided",
                                ));
                            }
                            // The first review's levels are recorded; both are in the audit log.
                            let decision = ReviewDecision::from_scored(
                                &first,
                                subject("reviewer", &first_reviewer),
                                true,
                            );
                            let state = settle!(tx, review, decision, now);
                            let payload = serde_json::json!({
                                "review": review.id,
                                "stage": "second",
                                "result": "agreed",
                                "outcome": outcome_str(outcome),
                                "scored": scored,
                            })
                            .to_string();
                            append_audit!(tx, AuditKind::ReviewModerated, &subjects, payload, now);
                            ReviewStep::Decided {
                                outcome,
                                state,
                                moderated: true,
                            }
                        }
                        Reconciliation::NeedsModerator { first, second } => {
                            let done = sqlx::query(crate::sqlf!(
                                "UPDATE reviews SET stage = 'moderation', second_reviewer_id = $2, \
                                 second_scored = $3, second_outcome = $4 {SECOND_STILL_PENDING}"
                            ))
                            .bind(&review.id)
                            .bind(reviewer_id)
                            .bind(&scored_json)
                            .bind(outcome_str(second))
                            .execute(&mut *tx)
                            .await?;
                            if done.rows_affected() != 1 {
                                return Err(StoreError::Conflict("this review was already scored"));
                            }
                            let payload = serde_json::json!({
                                "review": review.id,
                                "stage": "second",
                                "result": "needs_moderator",
                                "first": outcome_str(first),
                                "second": outcome_str(second),
                                "scored": scored,
                            })
                            .to_string();
                            append_audit!(tx, AuditKind::ReviewModerated, &subjects, payload, now);
                            ReviewStep::AwaitingModerator { first, second }
                        }
                    }
                }
                ReviewStage::Moderation => {
                    return Err(StoreError::Conflict("this review waits for a moderator"));
                }
            };
            tx.commit().await?;
            Ok(step)
        })
    }

    /// Scores a review like [`Store::score_review`] and returns the learner's record state
    /// afterwards (still `submitted` while the review waits for a second reviewer or a
    /// moderator). Kept for callers that only show the state.
    #[tracing::instrument(skip_all)]
    pub async fn decide_review(
        &self,
        review: &Review,
        reviewer_id: &str,
        scored: &ScoredReview,
        now: DateTime<Utc>,
    ) -> Result<MasteryState, StoreError> {
        Ok(
            match self.score_review(review, reviewer_id, scored, now).await? {
                ReviewStep::Decided { state, .. } => state,
                _ => MasteryState::Submitted,
            },
        )
    }

    /// A moderator's decision on a review whose two reviewers disagreed (stage `moderation`):
    /// `scored` (the moderator's own scoring against the review's rubric version) sets the
    /// outcome. Of two moderators deciding at once, one wins; the other gets
    /// [`StoreError::Conflict`].
    #[tracing::instrument(skip_all)]
    pub async fn moderate_review(
        &self,
        review: &Review,
        moderator_id: &str,
        scored: &ScoredReview,
        now: DateTime<Utc>,
    ) -> Result<ReviewStep, StoreError> {
        let scored_json = to_json(scored)?;
        let moderator = subject("moderator", moderator_id);
        let subjects = [
            subject("review", &review.id),
            moderator.clone(),
            subject("learner", &review.learner_id),
            subject("competency", &review.competency_id),
        ];
        let subjects: Vec<&str> = subjects.iter().map(String::as_str).collect();
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(
                "UPDATE reviews SET state = 'scored', reviewer_id = $2, moderator_id = $2, \
                 outcome = $3, scored = $4, decided_at = $5 \
                 WHERE id = $1 AND state = 'pending' AND stage = 'moderation'",
            )
            .bind(&review.id)
            .bind(moderator_id)
            .bind(outcome_str(scored.outcome))
            .bind(&scored_json)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Conflict(
                    "this review is not waiting for a moderator (already decided?)",
                ));
            }
            let decision = ReviewDecision::from_scored(scored, moderator.clone(), true);
            let state = settle!(tx, review, decision, now);
            let payload = serde_json::json!({
                "review": review.id,
                "stage": "moderation",
                "result": "moderator_decided",
                "outcome": outcome_str(scored.outcome),
                "scored": scored,
            })
            .to_string();
            append_audit!(tx, AuditKind::ReviewModerated, &subjects, payload, now);
            tx.commit().await?;
            Ok(ReviewStep::Decided {
                outcome: scored.outcome,
                state,
                moderated: true,
            })
        })
    }

    /// An organisation's review settings (share 0 ‰ until set).
    #[tracing::instrument(skip_all)]
    pub async fn review_settings(&self, org_id: &str) -> Result<ReviewSettings, StoreError> {
        let share: Option<(i64,)> = read!(self, |pool| {
            sqlx::query_as("SELECT sample_per_mille FROM review_settings WHERE org_id = $1")
                .bind(org_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(ReviewSettings {
            sample_per_mille: share
                .and_then(|(s,)| u16::try_from(s).ok())
                .unwrap_or(0)
                .min(1000),
        })
    }

    /// Sets the share of first reviews sampled for a second review (0–1000 ‰; more is a
    /// validation error), audited with the user who changed it.
    #[tracing::instrument(skip_all)]
    pub async fn set_review_settings(
        &self,
        org_id: &str,
        settings: ReviewSettings,
        by_user: &str,
        now: DateTime<Utc>,
    ) -> Result<ReviewSettings, StoreError> {
        if settings.sample_per_mille > 1000 {
            return Err(tessera_core::DomainError::Invalid {
                field: "sample_per_mille",
                reason: "a share in per mille: 0 to 1000".into(),
            }
            .into());
        }
        let subjects = [subject("org", org_id), subject("user", by_user)];
        let subjects: Vec<&str> = subjects.iter().map(String::as_str).collect();
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO review_settings (org_id, sample_per_mille, first_reviews, updated_at) \
                 VALUES ($1, $2, 0, $3) ON CONFLICT (org_id) DO UPDATE \
                 SET sample_per_mille = $2, updated_at = $3",
            )
            .bind(org_id)
            .bind(i64::from(settings.sample_per_mille))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let payload = serde_json::json!({
                "setting": "sample_per_mille",
                "value": settings.sample_per_mille,
            })
            .to_string();
            append_audit!(tx, AuditKind::SettingChanged, &subjects, payload, now);
            tx.commit().await?;
            Ok(settings)
        })
    }

    /// Inter-rater agreement of the organisation's double-rated reviews, per rubric version and
    /// reviewer pair (percent agreement and Cohen's kappa, unweighted, linear and quadratic),
    /// optionally for one rubric id.
    #[tracing::instrument(skip_all)]
    pub async fn review_agreement(
        &self,
        org_id: &str,
        rubric_id: Option<&str>,
    ) -> Result<Vec<RubricAgreement>, StoreError> {
        let rows: Vec<(String, String, String, String, String, String)> = read!(self, |pool| {
            sqlx::query_as(
                "SELECT rubric_id, rubric_version, first_reviewer_id, first_scored, \
                 second_reviewer_id, second_scored FROM reviews \
                 WHERE org_id = $1 AND second_scored IS NOT NULL \
                 AND ($2 IS NULL OR rubric_id = $2) ORDER BY rubric_id, rubric_version",
            )
            .bind(org_id)
            .bind(rubric_id)
            .fetch_all(pool)
            .await?
        });
        let mut out: Vec<RubricAgreement> = Vec::new();
        let mut ratings = Vec::new();
        let mut reviews = 0u64;
        let mut iter = rows.into_iter().peekable();
        while let Some((id, version, a, a_json, b, b_json)) = iter.next() {
            let parse = |j: &str| {
                serde_json::from_str::<ScoredReview>(j)
                    .map_err(|e| StoreError::Corrupt(format!("stored review: {e}")))
            };
            ratings.extend(tessera_review::double_ratings(
                &parse(&a_json)?,
                &a,
                &parse(&b_json)?,
                &b,
            ));
            reviews += 1;
            let last_of_group = iter
                .peek()
                .is_none_or(|next| next.0 != id || next.1 != version);
            if last_of_group {
                let (_, rubric) = self.rubric(org_id, &id, Some(&version)).await?;
                let pairs = tessera_review::agreement_by_pair(&rubric, &ratings)?;
                out.push(RubricAgreement {
                    rubric_id: id,
                    rubric_version: version,
                    double_rated_reviews: reviews,
                    pairs,
                });
                ratings.clear();
                reviews = 0;
            }
        }
        Ok(out)
    }

    /// A teacher's override (or withdrawal) with a written reason. A pending review of the
    /// record is closed with the overridden outcome.
    #[tracing::instrument(skip_all)]
    pub async fn override_outcome(
        &self,
        o: &Override<'_>,
        now: DateTime<Utc>,
    ) -> Result<MasteryState, StoreError> {
        let Override {
            org_id,
            learner_id,
            competency_id,
            action,
            reason,
            teacher_id,
        } = *o;
        let by = subject("teacher", teacher_id);
        let (kind, audit_kind) = match action {
            OverrideAction::Set(to) => (
                EventKind::Overridden {
                    to,
                    reason: reason.to_owned(),
                    by: by.clone(),
                },
                AuditKind::OutcomeOverridden,
            ),
            OverrideAction::Withdraw => (
                EventKind::Withdrawn {
                    reason: reason.to_owned(),
                    by: by.clone(),
                },
                AuditKind::MasteryWithdrawn,
            ),
        };
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let (mut record, mut seq) = load_record!(tx, learner_id, competency_id);
            let from = record.state;
            record_event!(tx, org_id, learner_id, record, &mut seq, kind, now);
            if from == MasteryState::Submitted
                && let OverrideAction::Set(to) = action
            {
                sqlx::query(
                    "UPDATE reviews SET state = 'scored', reviewer_id = $3, outcome = $4, \
                     decided_at = $5 WHERE learner_id = $1 AND competency_id = $2 \
                     AND state = 'pending'",
                )
                .bind(learner_id)
                .bind(competency_id)
                .bind(teacher_id)
                .bind(outcome_str(to))
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            let payload = serde_json::json!({
                "reason": reason,
                "from": from.as_str(),
                "to": record.state.as_str(),
            })
            .to_string();
            let subjects = [
                by.clone(),
                subject("learner", learner_id),
                subject("competency", competency_id),
            ];
            let subjects: Vec<&str> = subjects.iter().map(String::as_str).collect();
            append_audit!(tx, audit_kind, &subjects, payload, now);
            tx.commit().await?;
            Ok(record.state)
        })
    }
}
