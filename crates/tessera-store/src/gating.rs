//! Mastery before progression: whether a framework's prerequisites gate submissions, and the
//! per-learner exceptions a teacher grants.
//!
//! A framework gates by default (no `framework_settings` row); a teacher or admin may switch it
//! off. [`Store::unmet_prerequisites`] is what the evidence route asks before it stores a
//! submission: the active prerequisites of the competency (origins of `precedes`) that the
//! learner has not mastered — empty when the framework does not gate or the learner has an
//! exception for that competency. Setting changes and exceptions are audited.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tessera_review::AuditKind;

use crate::audit::append_audit;
use crate::mastery::subject;
use crate::{Store, StoreError, read, write};

/// A prerequisite the learner has not mastered yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnmetPrerequisite {
    /// The prerequisite competency's id.
    pub id: String,
    /// Its human-readable code, if any.
    pub code: Option<String>,
    /// Its statement.
    pub statement: String,
    /// The learner's state on it (`not_started` when there is no activity).
    pub state: String,
}

/// A teacher's exception for one learner × competency.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PrerequisiteException {
    /// The learner.
    pub learner_id: String,
    /// The competency the learner may submit for.
    pub competency_id: String,
    /// Why (required).
    pub reason: String,
    /// The teacher who granted it.
    pub granted_by: String,
    /// When.
    pub granted_at: DateTime<Utc>,
}

impl Store {
    /// Whether prerequisites gate submissions in `framework_id` (true unless switched off).
    #[tracing::instrument(skip_all)]
    pub async fn gates_prerequisites(&self, framework_id: &str) -> Result<bool, StoreError> {
        let row: Option<(bool,)> = read!(self, |pool| {
            sqlx::query_as(
                "SELECT gate_prerequisites FROM framework_settings WHERE framework_id = $1",
            )
            .bind(framework_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.is_none_or(|(gate,)| gate))
    }

    /// Switches prerequisite gating of a framework on or off (audited; `by_user` is the teacher
    /// or admin, `org_id` the framework's organisation).
    #[tracing::instrument(skip_all)]
    pub async fn set_prerequisite_gating(
        &self,
        org_id: &str,
        framework_id: &str,
        gate: bool,
        by_user: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let subjects = [
            subject("org", org_id),
            subject("framework", framework_id),
            subject("user", by_user),
        ];
        let subjects: Vec<&str> = subjects.iter().map(String::as_str).collect();
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO framework_settings (framework_id, gate_prerequisites, updated_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (framework_id) DO UPDATE \
                 SET gate_prerequisites = $2, updated_at = $3",
            )
            .bind(framework_id)
            .bind(gate)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let payload = serde_json::json!({
                "setting": "gate_prerequisites",
                "framework": framework_id,
                "value": gate,
            })
            .to_string();
            append_audit!(tx, AuditKind::SettingChanged, &subjects, payload, now);
            tx.commit().await?;
            Ok(())
        })
    }

    /// The prerequisites of `competency_id` (in framework `framework_id`) that block
    /// `learner_id` from submitting: none if the framework does not gate or the learner has an
    /// exception; otherwise every active prerequisite not currently mastered, by id.
    #[tracing::instrument(skip_all)]
    pub async fn unmet_prerequisites(
        &self,
        framework_id: &str,
        learner_id: &str,
        competency_id: &str,
    ) -> Result<Vec<UnmetPrerequisite>, StoreError> {
        if !self.gates_prerequisites(framework_id).await? {
            return Ok(Vec::new());
        }
        read!(self, |pool| {
            let exception: Option<(String,)> = sqlx::query_as(
                "SELECT learner_id FROM prerequisite_exceptions \
                 WHERE learner_id = $1 AND competency_id = $2",
            )
            .bind(learner_id)
            .bind(competency_id)
            .fetch_optional(pool)
            .await?;
            if exception.is_some() {
                return Ok(Vec::new());
            }
            // The state after each prerequisite's latest event (mastery_events' primary key
            // serves the lookup).
            Ok(sqlx::query_as(
                "SELECT c.id, c.code, c.statement, \
                 COALESCE((SELECT m.state FROM mastery_events m \
                   WHERE m.learner_id = $1 AND m.competency_id = c.id \
                   ORDER BY m.seq DESC LIMIT 1), 'not_started') AS state \
                 FROM associations a JOIN competencies c ON c.id = a.origin_id \
                 WHERE a.destination_id = $2 AND a.association_type = 'precedes' \
                 AND c.status = 'active' \
                 AND COALESCE((SELECT m.state FROM mastery_events m \
                   WHERE m.learner_id = $1 AND m.competency_id = c.id \
                   ORDER BY m.seq DESC LIMIT 1), 'not_started') <> 'mastered' \
                 ORDER BY c.id",
            )
            .bind(learner_id)
            .bind(competency_id)
            .fetch_all(pool)
            .await?)
        })
    }

    /// Lets `learner_id` submit for `competency_id` before its prerequisites are mastered, with
    /// the teacher's written reason (audited). Granting again replaces the reason.
    #[tracing::instrument(skip_all)]
    pub async fn grant_prerequisite_exception(
        &self,
        org_id: &str,
        learner_id: &str,
        competency_id: &str,
        reason: &str,
        teacher_id: &str,
        now: DateTime<Utc>,
    ) -> Result<PrerequisiteException, StoreError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(tessera_core::DomainError::Invalid {
                field: "reason",
                reason: "a written reason is required".into(),
            }
            .into());
        }
        let subjects = [
            subject("teacher", teacher_id),
            subject("learner", learner_id),
            subject("competency", competency_id),
        ];
        let subjects: Vec<&str> = subjects.iter().map(String::as_str).collect();
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO prerequisite_exceptions (learner_id, competency_id, org_id, reason, \
                 granted_by, granted_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (learner_id, competency_id) DO UPDATE \
                 SET reason = $4, granted_by = $5, granted_at = $6",
            )
            .bind(learner_id)
            .bind(competency_id)
            .bind(org_id)
            .bind(reason)
            .bind(teacher_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let payload = serde_json::json!({ "reason": reason }).to_string();
            append_audit!(
                tx,
                AuditKind::PrerequisiteExceptionGranted,
                &subjects,
                payload,
                now
            );
            tx.commit().await?;
            Ok(PrerequisiteException {
                learner_id: learner_id.to_owned(),
                competency_id: competency_id.to_owned(),
                reason: reason.to_owned(),
                granted_by: teacher_id.to_owned(),
                granted_at: now,
            })
        })
    }

    /// A learner's exceptions in the organisation, by competency id.
    #[tracing::instrument(skip_all)]
    pub async fn prerequisite_exceptions(
        &self,
        org_id: &str,
        learner_id: &str,
    ) -> Result<Vec<PrerequisiteException>, StoreError> {
        read!(self, |pool| {
            Ok(sqlx::query_as(
                "SELECT learner_id, competency_id, reason, granted_by, granted_at \
                 FROM prerequisite_exceptions WHERE org_id = $1 AND learner_id = $2 \
                 ORDER BY competency_id",
            )
            .bind(org_id)
            .bind(learner_id)
            .fetch_all(pool)
            .await?)
        })
    }
}
