//! Optional target dates per learner × competency: set by the learner or a teacher, shown with
//! the record, never enforced (no deadline ever blocks a submission).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::{Store, StoreError, read, write};

/// A target date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TargetDate {
    /// The competency.
    pub competency_id: String,
    /// The date aimed at.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub target_date: NaiveDate,
    /// Who set it (the learner or a teacher).
    pub set_by: String,
    /// When it was set.
    pub set_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct TargetRow {
    competency_id: String,
    target_date: String,
    set_by: String,
    set_at: DateTime<Utc>,
}

impl TryFrom<TargetRow> for TargetDate {
    type Error = StoreError;
    fn try_from(r: TargetRow) -> Result<Self, StoreError> {
        Ok(TargetDate {
            target_date: NaiveDate::parse_from_str(&r.target_date, "%Y-%m-%d")
                .map_err(|e| StoreError::Corrupt(format!("target date: {e}")))?,
            competency_id: r.competency_id,
            set_by: r.set_by,
            set_at: r.set_at,
        })
    }
}

impl Store {
    /// Sets (or, with `None`, clears) a learner's target date for a competency.
    #[tracing::instrument(skip_all)]
    pub async fn set_target_date(
        &self,
        org_id: &str,
        learner_id: &str,
        competency_id: &str,
        date: Option<NaiveDate>,
        by_user: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<TargetDate>, StoreError> {
        write!(self, |pool| {
            match date {
                None => {
                    sqlx::query(
                        "DELETE FROM target_dates WHERE learner_id = $1 AND competency_id = $2",
                    )
                    .bind(learner_id)
                    .bind(competency_id)
                    .execute(pool)
                    .await?;
                    Ok(None)
                }
                Some(d) => {
                    sqlx::query(
                        "INSERT INTO target_dates (learner_id, competency_id, org_id, \
                         target_date, set_by, set_at) VALUES ($1, $2, $3, $4, $5, $6) \
                         ON CONFLICT (learner_id, competency_id) DO UPDATE \
                         SET target_date = $4, set_by = $5, set_at = $6",
                    )
                    .bind(learner_id)
                    .bind(competency_id)
                    .bind(org_id)
                    .bind(d.format("%Y-%m-%d").to_string())
                    .bind(by_user)
                    .bind(now)
                    .execute(pool)
                    .await?;
                    Ok(Some(TargetDate {
                        competency_id: competency_id.to_owned(),
                        target_date: d,
                        set_by: by_user.to_owned(),
                        set_at: now,
                    }))
                }
            }
        })
    }

    /// A learner's target dates in the organisation, by competency id.
    #[tracing::instrument(skip_all)]
    pub async fn target_dates(
        &self,
        org_id: &str,
        learner_id: &str,
    ) -> Result<Vec<TargetDate>, StoreError> {
        let rows: Vec<TargetRow> = read!(self, |pool| {
            sqlx::query_as(
                "SELECT competency_id, target_date, set_by, set_at FROM target_dates \
                 WHERE org_id = $1 AND learner_id = $2 ORDER BY competency_id",
            )
            .bind(org_id)
            .bind(learner_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(TargetDate::try_from).collect()
    }
}
