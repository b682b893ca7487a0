//! How masteries become credentials: the issuance setting per framework (`approval` or
//! `automatic`; unset, the organisation's default from `issuer_settings`) and the masteries
//! still waiting for a credential.
//!
//! "Waiting" is read from the data, not kept as a queue: a learner × competency whose latest
//! mastery event leaves it `mastered` and that has no mastery credential issued after its last
//! non-mastered event. Timestamps can tie (a fixed clock, or the same instant), so this list
//! may still hold a mastery already issued; the server drops those by their exact idempotency
//! key (`mastery:<learner>:<competency>:<mastered_at>`), which this list's `mastered_at` gives. The automatic sweep issues these for `automatic` frameworks; the approval
//! page lists them for `approval` frameworks. Because nothing is claimed, a process killed
//! mid-sweep loses nothing: the next sweep (of any process) finds the same masteries, and the
//! mastery idempotency key keeps two sweeps from issuing twice.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Store, StoreError, read, write};

/// A mastery waiting for its credential.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AwaitingCredential {
    /// The organisation.
    pub org_id: String,
    /// The learner.
    pub learner_id: String,
    /// The competency.
    pub competency_id: String,
    /// Its framework.
    pub framework_id: String,
    /// When the latest mastery event happened.
    pub at: DateTime<Utc>,
    /// When the current mastery was reached (the first event of the latest run of `mastered`
    /// states): the date in the mastery's idempotency key.
    pub mastered_at: DateTime<Utc>,
}

/// The query behind both lists; `$1` is the issuance wanted, `$2` an organisation or NULL.
const AWAITING: &str = "SELECT e.org_id, e.learner_id, e.competency_id, c.framework_id, e.at, \
     (SELECT MIN(x.at) FROM mastery_events x \
      WHERE x.learner_id = e.learner_id AND x.competency_id = e.competency_id \
        AND x.seq > COALESCE((SELECT MAX(y.seq) FROM mastery_events y \
            WHERE y.learner_id = e.learner_id AND y.competency_id = e.competency_id \
              AND y.state <> 'mastered'), 0)) AS mastered_at \
     FROM mastery_events e \
     JOIN competencies c ON c.id = e.competency_id \
     LEFT JOIN framework_issuance fi ON fi.framework_id = c.framework_id \
     LEFT JOIN issuer_settings s ON s.org_id = e.org_id \
     WHERE e.state = 'mastered' \
       AND ($2 IS NULL OR e.org_id = $2) \
       AND COALESCE(fi.issuance, s.issuance, 'approval') = $1 \
       AND e.seq = (SELECT MAX(m.seq) FROM mastery_events m \
                    WHERE m.learner_id = e.learner_id AND m.competency_id = e.competency_id) \
       AND EXISTS (SELECT 1 FROM memberships ms \
                   WHERE ms.org_id = e.org_id AND ms.user_id = e.learner_id) \
       AND NOT EXISTS (SELECT 1 FROM credentials cr \
            WHERE cr.learner_id = e.learner_id AND cr.competency_id = e.competency_id \
              AND cr.idempotency_key LIKE 'mastery:%' \
              AND NOT EXISTS (SELECT 1 FROM mastery_events w \
                   WHERE w.learner_id = e.learner_id AND w.competency_id = e.competency_id \
                     AND w.state <> 'mastered' AND w.at >= cr.issued_at)) \
     ORDER BY e.at, e.learner_id, e.competency_id LIMIT $3 OFFSET $4";

impl Store {
    /// The framework's own issuance setting, if it has one.
    #[tracing::instrument(skip_all)]
    pub async fn framework_issuance(
        &self,
        framework_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = read!(self, |pool| {
            sqlx::query_as("SELECT issuance FROM framework_issuance WHERE framework_id = $1")
                .bind(framework_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(s,)| s))
    }

    /// Sets (`Some`: `approval` or `automatic`) or clears (`None`: the organisation's default)
    /// the framework's issuance setting.
    #[tracing::instrument(skip_all)]
    pub async fn set_framework_issuance(
        &self,
        framework_id: &str,
        issuance: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if let Some(value) = issuance
            && !matches!(value, "approval" | "automatic")
        {
            return Err(StoreError::InvalidReference(
                "issuance must be approval or automatic",
            ));
        }
        write!(self, |pool| {
            match issuance {
                Some(value) => {
                    sqlx::query(
                        "INSERT INTO framework_issuance (framework_id, issuance, updated_at) \
                         VALUES ($1, $2, $3) ON CONFLICT (framework_id) \
                         DO UPDATE SET issuance = $2, updated_at = $3",
                    )
                    .bind(framework_id)
                    .bind(value)
                    .bind(now)
                    .execute(pool)
                    .await?;
                }
                None => {
                    sqlx::query("DELETE FROM framework_issuance WHERE framework_id = $1")
                        .bind(framework_id)
                        .execute(pool)
                        .await?;
                }
            }
            Ok(())
        })
    }

    /// Masteries waiting for a credential under `issuance` (`automatic` or `approval`), in one
    /// organisation or all, oldest first.
    #[tracing::instrument(skip_all)]
    pub async fn awaiting_credentials(
        &self,
        issuance: &str,
        org_id: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<AwaitingCredential>, StoreError> {
        read!(self, |pool| {
            Ok(sqlx::query_as(AWAITING)
                .bind(issuance)
                .bind(org_id)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?)
        })
    }
}
