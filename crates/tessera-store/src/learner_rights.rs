//! Learner rights (issue 7), the parts that are plain records: consents (what a learner agreed to
//! share, with whom, when, with history), the staff access log, retention settings and their
//! housekeeping, and the organisation's privacy and AI-use note. Erasure and the export are in
//! [`crate::erasure`].

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::{Store, StoreError, new_id, read, write};

/// What a consent covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConsentScope {
    /// The mastery record (states, dates, outcomes).
    Record,
    /// Evidence (text, links, files).
    Evidence,
    /// Issued credentials.
    Credentials,
    /// Transcripts.
    Transcripts,
    /// Optional subgroup attributes for the equity audit.
    SubgroupAttributes,
    /// Anonymised use in research.
    Research,
}

impl ConsentScope {
    /// Every scope, in the order forms list them.
    pub const ALL: [ConsentScope; 6] = [
        ConsentScope::Record,
        ConsentScope::Evidence,
        ConsentScope::Credentials,
        ConsentScope::Transcripts,
        ConsentScope::SubgroupAttributes,
        ConsentScope::Research,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Record => "record",
            Self::Evidence => "evidence",
            Self::Credentials => "credentials",
            Self::Transcripts => "transcripts",
            Self::SubgroupAttributes => "subgroup_attributes",
            Self::Research => "research",
        }
    }

    /// Plain words for pages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Record => "My mastery record",
            Self::Evidence => "My evidence (text, links, files)",
            Self::Credentials => "My credentials",
            Self::Transcripts => "My transcripts",
            Self::SubgroupAttributes => "My subgroup attributes (equity audit)",
            Self::Research => "Anonymised use in research",
        }
    }

    /// Parses a stored or submitted name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// One consent: granted at a time, possibly withdrawn later (the row stays as history).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Consent {
    /// Id.
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// The learner who gave it.
    pub learner_id: String,
    /// What it covers (`record`, `evidence`, `credentials`, `transcripts`,
    /// `subgroup_attributes`, `research`).
    pub scope: String,
    /// With whom, in the learner's words.
    pub recipient: String,
    /// What for, if the learner said.
    pub purpose: Option<String>,
    /// When it was given.
    pub granted_at: DateTime<Utc>,
    /// When it was withdrawn, if it was.
    pub withdrawn_at: Option<DateTime<Utc>>,
}

/// One read of a learner's data by someone else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessEntry {
    /// Id.
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// Whose data was read.
    pub learner_id: String,
    /// Who read it.
    pub staff_id: String,
    /// Their name now.
    pub staff_name: String,
    /// Their roles in the organisation at the time ("teacher", "platform admin", …).
    pub staff_roles: String,
    /// `record` or `evidence`.
    pub what: String,
    /// The HTTP method.
    pub method: String,
    /// The page or API path read.
    pub path: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// An access to log (see [`Store::log_access`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccess {
    /// The organisation.
    pub org_id: String,
    /// Whose data.
    pub learner_id: String,
    /// Who read it.
    pub staff_id: String,
    /// Their roles there.
    pub staff_roles: String,
    /// `record` or `evidence`.
    pub what: &'static str,
    /// The HTTP method.
    pub method: String,
    /// The path.
    pub path: String,
}

/// Retention of one organisation. `None` keeps forever.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Retention {
    /// Evidence files of a mastered competency are deleted this many days after the mastery
    /// (0–36500).
    pub evidence_files_days: Option<i64>,
    /// Access log entries are deleted after this many days (1–36500).
    pub access_log_days: Option<i64>,
}

/// The organisation's privacy and AI-use note as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PrivacyNote {
    /// The text (plain text, paragraphs separated by blank lines).
    pub body: String,
    /// Who last changed it.
    pub updated_by: Option<String>,
    /// When.
    pub updated_at: DateTime<Utc>,
}

/// What a retention run removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionRun {
    /// Submissions whose files were deleted.
    pub submissions: u64,
    /// File contents no submission uses any more: the caller deletes them from disk.
    pub orphaned_blobs: Vec<String>,
    /// Access log entries deleted.
    pub access_entries: u64,
}

const CONSENT_COLUMNS: &str =
    "id, org_id, learner_id, scope, recipient, purpose, granted_at, withdrawn_at";

impl Store {
    /// Records a consent given by a learner now.
    #[tracing::instrument(skip_all)]
    pub async fn grant_consent(
        &self,
        org_id: &str,
        learner_id: &str,
        scope: ConsentScope,
        recipient: &str,
        purpose: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Consent, StoreError> {
        let id = new_id();
        write!(self, |pool| {
            Ok(sqlx::query_as(crate::sqlf!(
                "INSERT INTO consents (id, org_id, learner_id, scope, recipient, purpose, \
                 granted_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {CONSENT_COLUMNS}"
            ))
            .bind(&id)
            .bind(org_id)
            .bind(learner_id)
            .bind(scope.as_str())
            .bind(recipient)
            .bind(purpose)
            .bind(now)
            .fetch_one(pool)
            .await?)
        })
    }

    /// Withdraws one of the learner's consents. [`StoreError::NotFound`] if it is not theirs,
    /// [`StoreError::Conflict`] if it was already withdrawn.
    #[tracing::instrument(skip_all)]
    pub async fn withdraw_consent(
        &self,
        org_id: &str,
        learner_id: &str,
        consent_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Consent, StoreError> {
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let found: Option<Consent> = sqlx::query_as(crate::sqlf!(
                "SELECT {CONSENT_COLUMNS} FROM consents \
                 WHERE id = $1 AND org_id = $2 AND learner_id = $3"
            ))
            .bind(consent_id)
            .bind(org_id)
            .bind(learner_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(found) = found else {
                return Err(StoreError::NotFound);
            };
            if found.withdrawn_at.is_some() {
                return Err(StoreError::Conflict("this consent was already withdrawn"));
            }
            let updated: Consent = sqlx::query_as(crate::sqlf!(
                "UPDATE consents SET withdrawn_at = $2 WHERE id = $1 RETURNING {CONSENT_COLUMNS}"
            ))
            .bind(consent_id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(updated)
        })
    }

    /// A learner's consents in the organisation, the whole history, oldest first.
    #[tracing::instrument(skip_all)]
    pub async fn consents(
        &self,
        org_id: &str,
        learner_id: &str,
    ) -> Result<Vec<Consent>, StoreError> {
        read!(self, |pool| {
            Ok(sqlx::query_as(crate::sqlf!(
                "SELECT {CONSENT_COLUMNS} FROM consents WHERE org_id = $1 AND learner_id = $2 \
                 ORDER BY granted_at, id"
            ))
            .bind(org_id)
            .bind(learner_id)
            .fetch_all(pool)
            .await?)
        })
    }

    /// Logs reads of learners' data, all in one transaction (one request's worth).
    #[tracing::instrument(skip_all)]
    pub async fn log_access(
        &self,
        entries: &[NewAccess],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            for e in entries {
                sqlx::query(
                    "INSERT INTO access_log (id, org_id, learner_id, staff_id, staff_roles, \
                     what, method, path, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(new_id())
                .bind(&e.org_id)
                .bind(&e.learner_id)
                .bind(&e.staff_id)
                .bind(&e.staff_roles)
                .bind(e.what)
                .bind(&e.method)
                .bind(&e.path)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Who read a learner's data in the organisation, newest first.
    #[tracing::instrument(skip_all)]
    pub async fn access_log(
        &self,
        org_id: &str,
        learner_id: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<AccessEntry>, StoreError> {
        read!(self, |pool| {
            Ok(sqlx::query_as(
                "SELECT a.id, a.org_id, a.learner_id, a.staff_id, u.name AS staff_name, \
                 a.staff_roles, a.what, a.method, a.path, a.at \
                 FROM access_log a JOIN users u ON u.id = a.staff_id \
                 WHERE a.org_id = $1 AND a.learner_id = $2 \
                 ORDER BY a.at DESC, a.id LIMIT $3 OFFSET $4",
            )
            .bind(org_id)
            .bind(learner_id)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?)
        })
    }

    /// The organisation's retention (all `None` when never set).
    #[tracing::instrument(skip_all)]
    pub async fn retention(&self, org_id: &str) -> Result<Retention, StoreError> {
        let row: Option<(Option<i64>, Option<i64>)> = read!(self, |pool| {
            sqlx::query_as(
                "SELECT evidence_files_days, access_log_days FROM retention_settings \
                 WHERE org_id = $1",
            )
            .bind(org_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map_or_else(Retention::default, |(e, a)| Retention {
            evidence_files_days: e,
            access_log_days: a,
        }))
    }

    /// Sets the organisation's retention. Out-of-range values are refused by the caller and,
    /// as a last line, by the table's CHECK (a database error).
    #[tracing::instrument(skip_all)]
    pub async fn set_retention(
        &self,
        org_id: &str,
        retention: &Retention,
        by_user: &str,
        now: DateTime<Utc>,
    ) -> Result<Retention, StoreError> {
        write!(self, |pool| {
            sqlx::query(
                "INSERT INTO retention_settings (org_id, evidence_files_days, access_log_days, \
                 updated_by, updated_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (org_id) DO UPDATE SET evidence_files_days = $2, \
                 access_log_days = $3, updated_by = $4, updated_at = $5",
            )
            .bind(org_id)
            .bind(retention.evidence_files_days)
            .bind(retention.access_log_days)
            .bind(by_user)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(retention.clone())
    }

    /// Applies every organisation's retention as of `now`: deletes evidence files of
    /// competencies mastered at least `evidence_files_days` ago (the submission stays, with a
    /// note that its files were purged) and access log entries older than `access_log_days`.
    /// Idempotent, so several processes may run it.
    #[tracing::instrument(skip_all)]
    pub async fn apply_retention(&self, now: DateTime<Utc>) -> Result<RetentionRun, StoreError> {
        let settings: Vec<(String, Option<i64>, Option<i64>)> = read!(self, |pool| {
            sqlx::query_as(
                "SELECT org_id, evidence_files_days, access_log_days FROM retention_settings \
                 WHERE evidence_files_days IS NOT NULL OR access_log_days IS NOT NULL",
            )
            .fetch_all(pool)
            .await?
        });
        let mut run = RetentionRun::default();
        for (org_id, files_days, log_days) in settings {
            if let Some(days) = files_days {
                let cutoff = now - Duration::days(days);
                let (n, blobs) = self.purge_mastered_files(&org_id, cutoff, now).await?;
                run.submissions += n;
                run.orphaned_blobs.extend(blobs);
            }
            if let Some(days) = log_days {
                let cutoff = now - Duration::days(days);
                let done = write!(self, |pool| {
                    sqlx::query("DELETE FROM access_log WHERE org_id = $1 AND at < $2")
                        .bind(&org_id)
                        .bind(cutoff)
                        .execute(pool)
                        .await?
                        .rows_affected()
                });
                run.access_entries += done;
            }
        }
        Ok(run)
    }

    /// Deletes the files of the organisation's submissions whose competency is mastered now and
    /// has been since at least `cutoff` (the newest event is a mastery at or before it).
    async fn purge_mastered_files(
        &self,
        org_id: &str,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(u64, Vec<String>), StoreError> {
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let due: Vec<(String, i64)> = sqlx::query_as(
                "SELECT s.id, (SELECT COUNT(*) FROM submission_files f \
                   WHERE f.submission_id = s.id) AS files \
                 FROM submissions s \
                 WHERE s.org_id = $1 \
                   AND EXISTS (SELECT 1 FROM submission_files f WHERE f.submission_id = s.id) \
                   AND EXISTS (SELECT 1 FROM mastery_events e \
                     WHERE e.learner_id = s.learner_id AND e.competency_id = s.competency_id \
                       AND e.state = 'mastered' AND e.at <= $2 \
                       AND e.seq = (SELECT MAX(e2.seq) FROM mastery_events e2 \
                         WHERE e2.learner_id = e.learner_id \
                           AND e2.competency_id = e.competency_id))",
            )
            .bind(org_id)
            .bind(cutoff)
            .fetch_all(&mut *tx)
            .await?;
            let mut shas = Vec::new();
            for (submission, files) in &due {
                let mut these: Vec<String> = sqlx::query_scalar(
                    "SELECT sha256 FROM submission_files WHERE submission_id = $1",
                )
                .bind(submission)
                .fetch_all(&mut *tx)
                .await?;
                shas.append(&mut these);
                sqlx::query("DELETE FROM submission_files WHERE submission_id = $1")
                    .bind(submission)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO evidence_purges (submission_id, files, purged_at) \
                     VALUES ($1, $2, $3) ON CONFLICT (submission_id) \
                     DO UPDATE SET files = evidence_purges.files + $2, purged_at = $3",
                )
                .bind(submission)
                .bind(files)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            let orphaned = crate::erasure::drop_unused_blobs!(tx, shas);
            tx.commit().await?;
            Ok((due.len() as u64, orphaned))
        })
    }

    /// When retention purged a submission's files, and how many.
    #[tracing::instrument(skip_all)]
    pub async fn evidence_purge(
        &self,
        submission_id: &str,
    ) -> Result<Option<(i64, DateTime<Utc>)>, StoreError> {
        read!(self, |pool| {
            Ok(sqlx::query_as(
                "SELECT files, purged_at FROM evidence_purges WHERE submission_id = $1",
            )
            .bind(submission_id)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// The organisation's privacy and AI-use note, if an admin wrote one.
    #[tracing::instrument(skip_all)]
    pub async fn privacy_note(&self, org_id: &str) -> Result<Option<PrivacyNote>, StoreError> {
        read!(self, |pool| {
            Ok(sqlx::query_as(
                "SELECT body, updated_by, updated_at FROM privacy_notes WHERE org_id = $1",
            )
            .bind(org_id)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// Replaces the organisation's privacy and AI-use note.
    #[tracing::instrument(skip_all)]
    pub async fn set_privacy_note(
        &self,
        org_id: &str,
        body: &str,
        by_user: &str,
        now: DateTime<Utc>,
    ) -> Result<PrivacyNote, StoreError> {
        write!(self, |pool| {
            Ok(sqlx::query_as(
                "INSERT INTO privacy_notes (org_id, body, updated_by, updated_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (org_id) \
                 DO UPDATE SET body = $2, updated_by = $3, updated_at = $4 \
                 RETURNING body, updated_by, updated_at",
            )
            .bind(org_id)
            .bind(body)
            .bind(by_user)
            .bind(now)
            .fetch_one(pool)
            .await?)
        })
    }
}
