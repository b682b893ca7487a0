//! Cohorts: named groups of an organisation's learners (a class, a year group), kept by its
//! teachers and admins, used to filter the teacher dashboard. Only learners of the organisation
//! can be members; changes are audited.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tessera_review::AuditKind;

use crate::audit::append_audit;
use crate::mastery::subject;
use crate::{ResultExt, Store, StoreError, new_id, read, write};

/// Longest cohort name.
pub const MAX_NAME: usize = 120;
/// Most learners added or removed in one change.
pub const MAX_CHANGE: usize = 1000;

/// A cohort.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cohort {
    /// Id.
    pub id: String,
    /// Its name, unique in the organisation.
    pub name: String,
    /// How many learners are in it.
    pub members: i64,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// The organisation's cohorts, by name.
    #[tracing::instrument(skip_all)]
    pub async fn cohorts(&self, org_id: &str) -> Result<Vec<Cohort>, StoreError> {
        Ok(read!(self, |pool| {
            sqlx::query_as(
                "SELECT c.id, c.name, c.created_at, \
                 (SELECT COUNT(*) FROM cohort_members m WHERE m.cohort_id = c.id) AS members \
                 FROM cohorts c WHERE c.org_id = $1 ORDER BY c.name, c.id",
            )
            .bind(org_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// One cohort of the organisation (not found if it belongs to another).
    #[tracing::instrument(skip_all)]
    pub async fn cohort(&self, org_id: &str, cohort_id: &str) -> Result<Cohort, StoreError> {
        Ok(read!(self, |pool| {
            sqlx::query_as(
                "SELECT c.id, c.name, c.created_at, \
                 (SELECT COUNT(*) FROM cohort_members m WHERE m.cohort_id = c.id) AS members \
                 FROM cohorts c WHERE c.org_id = $1 AND c.id = $2",
            )
            .bind(org_id)
            .bind(cohort_id)
            .fetch_one(pool)
            .await?
        }))
    }

    /// The learner ids of a cohort.
    #[tracing::instrument(skip_all)]
    pub async fn cohort_member_ids(&self, cohort_id: &str) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = read!(self, |pool| {
            sqlx::query_as(
                "SELECT learner_id FROM cohort_members WHERE cohort_id = $1 ORDER BY learner_id",
            )
            .bind(cohort_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Makes a cohort (409 `conflict` when the name is taken in the organisation).
    #[tracing::instrument(skip_all)]
    pub async fn create_cohort(
        &self,
        org_id: &str,
        name: &str,
        by_user: &str,
        now: DateTime<Utc>,
    ) -> Result<Cohort, StoreError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            return Err(tessera_core::DomainError::invalid(
                "name",
                format!("a name of 1 to {MAX_NAME} characters is required"),
            )
            .into());
        }
        let id = new_id();
        let subjects = [
            subject("org", org_id),
            subject("cohort", &id),
            subject("user", by_user),
        ];
        let subjects: Vec<&str> = subjects.iter().map(String::as_str).collect();
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO cohorts (id, org_id, name, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&id)
            .bind(org_id)
            .bind(name)
            .bind(by_user)
            .bind(now)
            .execute(&mut *tx)
            .await
            .on_conflict("a cohort with this name exists in the organisation")?;
            let payload =
                serde_json::json!({ "setting": "cohort_created", "name": name }).to_string();
            append_audit!(tx, AuditKind::SettingChanged, &subjects, payload, now);
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        Ok(Cohort {
            id,
            name: name.to_owned(),
            members: 0,
            created_at: now,
        })
    }

    /// Adds and removes learners of a cohort in one transaction. Every id added must be a
    /// learner of the organisation (else `invalid` naming it, and nothing changes); adding a
    /// member twice or removing a non-member does nothing.
    #[tracing::instrument(skip_all)]
    pub async fn change_cohort_members(
        &self,
        org_id: &str,
        cohort_id: &str,
        add: &[String],
        remove: &[String],
        by_user: &str,
        now: DateTime<Utc>,
    ) -> Result<Cohort, StoreError> {
        if add.len() + remove.len() > MAX_CHANGE {
            return Err(tessera_core::DomainError::invalid(
                "add",
                format!("at most {MAX_CHANGE} learners per change"),
            )
            .into());
        }
        self.cohort(org_id, cohort_id).await?;
        let subjects = [
            subject("org", org_id),
            subject("cohort", cohort_id),
            subject("user", by_user),
        ];
        let subjects: Vec<&str> = subjects.iter().map(String::as_str).collect();
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            for learner in add {
                let is_learner: Option<(String,)> = sqlx::query_as(
                    "SELECT user_id FROM memberships \
                     WHERE org_id = $1 AND user_id = $2 AND role = 'learner'",
                )
                .bind(org_id)
                .bind(learner)
                .fetch_optional(&mut *tx)
                .await?;
                if is_learner.is_none() {
                    return Err(tessera_core::DomainError::invalid(
                        "add",
                        format!("{learner} is not a learner of this organisation"),
                    )
                    .into());
                }
                sqlx::query(
                    "INSERT INTO cohort_members (cohort_id, learner_id, added_at) \
                     VALUES ($1, $2, $3) ON CONFLICT (cohort_id, learner_id) DO NOTHING",
                )
                .bind(cohort_id)
                .bind(learner)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            for learner in remove {
                sqlx::query("DELETE FROM cohort_members WHERE cohort_id = $1 AND learner_id = $2")
                    .bind(cohort_id)
                    .bind(learner)
                    .execute(&mut *tx)
                    .await?;
            }
            // Ids only: names are personal data and stay out of the chain's payload too.
            let payload = serde_json::json!({
                "setting": "cohort_members",
                "added": add.len(),
                "removed": remove.len(),
            })
            .to_string();
            append_audit!(tx, AuditKind::SettingChanged, &subjects, payload, now);
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        self.cohort(org_id, cohort_id).await
    }
}
