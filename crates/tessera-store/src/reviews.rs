//! Reviews: the queue of pending submissions, scoring, and teacher overrides.
//!
//! A review goes `pending → scored` exactly once: scoring is a conditional
//! `UPDATE … WHERE state = 'pending'` checked by rows affected, so of two reviewers finishing
//! the same review at once one wins and the other gets [`StoreError::Conflict`] — one outcome,
//! never two. The mastery event (`review`) and the audit entries are written in the same
//! transaction as the decision.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tessera_review::{AuditKind, EventKind, MasteryState, Outcome, ReviewDecision, ScoredReview};

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
}

const REVIEW_COLUMNS: &str = "id, org_id, submission_id, learner_id, competency_id, rubric_id, \
     rubric_version, state, created_at, reviewer_id, outcome, decided_at";

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

fn outcome_str(o: Outcome) -> &'static str {
    match o {
        Outcome::Mastered => "mastered",
        Outcome::NotYet => "not_yet",
    }
}

impl Store {
    /// Pending reviews of the organisation, oldest first.
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
                 ORDER BY created_at, id LIMIT $5 OFFSET $6"
            ))
            .bind(org_id)
            .bind(&filter.competency)
            .bind(&filter.learner)
            .bind(&filter.rubric)
            .bind(limit)
            .bind(offset)
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

    /// Records a scored review as the decision, if it is still pending (else
    /// [`StoreError::Conflict`]). `scored` comes from `Rubric::score` on the review's rubric.
    #[tracing::instrument(skip_all)]
    pub async fn decide_review(
        &self,
        review: &Review,
        reviewer_id: &str,
        scored: &ScoredReview,
        now: DateTime<Utc>,
    ) -> Result<MasteryState, StoreError> {
        let scored_json =
            serde_json::to_string(scored).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let reviewer = subject("reviewer", reviewer_id);
        let decision = ReviewDecision::from_scored(scored, reviewer.clone(), false);
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(
                "UPDATE reviews SET state = 'scored', reviewer_id = $2, outcome = $3, \
                 scored = $4, decided_at = $5 WHERE id = $1 AND state = 'pending'",
            )
            .bind(&review.id)
            .bind(reviewer_id)
            .bind(outcome_str(scored.outcome))
            .bind(&scored_json)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Conflict("this review was already decided"));
            }
            let (mut record, mut seq) = load_record!(tx, &review.learner_id, &review.competency_id);
            record_event!(
                tx,
                &review.org_id,
                &review.learner_id,
                record,
                &mut seq,
                EventKind::Reviewed(decision.clone()),
                now
            );
            let payload = serde_json::json!({
                "review": review.id,
                "submission": review.submission_id,
                "scored": scored,
            })
            .to_string();
            let subjects = [
                subject("review", &review.id),
                reviewer.clone(),
                subject("learner", &review.learner_id),
                subject("competency", &review.competency_id),
            ];
            let subjects: Vec<&str> = subjects.iter().map(String::as_str).collect();
            append_audit!(tx, AuditKind::ReviewRecorded, &subjects, payload, now);
            tx.commit().await?;
            Ok(record.state)
        })
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
