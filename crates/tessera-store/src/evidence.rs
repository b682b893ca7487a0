//! Evidence submissions: each one is an attempt at a competency, with text, links and files.
//!
//! Files are content-addressed: the server writes the bytes under the data directory by their
//! SHA-256 and the store keeps one `evidence_blobs` row per digest, so the same file submitted
//! twice is stored once. Submitting starts the learner's record if needed (`start`), records
//! `submit` through the state machine (a second submission while one is pending, or after
//! mastery, is refused with the transition it would have made), opens a pending review and
//! appends the audit entries — all in one transaction.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tessera_review::{AuditKind, EventKind, MasteryState};

use crate::audit::append_audit;
use crate::mastery::{load_record, record_event, subject};
use crate::{Store, StoreError, new_id, read, write};

/// A file already written under the data directory.
#[derive(Debug, Clone)]
pub struct NewFile {
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    /// The checked media type.
    pub media_type: String,
    /// The name the learner gave it.
    pub filename: Option<String>,
    /// Its size.
    pub size_bytes: i64,
}

/// A submission to store.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    /// The organisation.
    pub org_id: String,
    /// The learner (the caller).
    pub learner_id: String,
    /// The competency.
    pub competency_id: String,
    /// The rubric it will be scored against (already checked to assess the competency).
    pub rubric_id: String,
    /// Its version.
    pub rubric_version: String,
    /// Text evidence.
    pub text: Option<String>,
    /// Links.
    pub links: Vec<String>,
    /// Files.
    pub files: Vec<NewFile>,
}

/// A stored file of a submission.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvidenceFile {
    /// Lower-case hex SHA-256 (the file's address).
    pub sha256: String,
    /// Media type.
    pub media_type: String,
    /// The learner's file name.
    pub filename: Option<String>,
    /// Size in bytes.
    pub size_bytes: i64,
}

/// A submission (attempt) as shown to the learner and reviewers.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Submission {
    /// Id.
    pub id: String,
    /// The review opened for it.
    pub review_id: String,
    /// The learner.
    pub learner_id: String,
    /// The competency.
    pub competency_id: String,
    /// Rubric id.
    pub rubric_id: String,
    /// Rubric version.
    pub rubric_version: String,
    /// 1-based attempt number for this learner and competency.
    pub attempt: i64,
    /// Text evidence.
    pub text: Option<String>,
    /// Links.
    pub links: Vec<String>,
    /// Files.
    pub files: Vec<EvidenceFile>,
    /// When submitted.
    pub submitted_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct SubmissionRow {
    id: String,
    review_id: String,
    learner_id: String,
    competency_id: String,
    rubric_id: String,
    rubric_version: String,
    attempt: i64,
    body_text: Option<String>,
    links: String,
    submitted_at: DateTime<Utc>,
}

impl Store {
    /// Stores a submission as a new attempt (see the module docs).
    #[tracing::instrument(skip_all)]
    pub async fn submit_evidence(
        &self,
        s: &NewSubmission,
        now: DateTime<Utc>,
    ) -> Result<Submission, StoreError> {
        let id = new_id();
        let review_id = new_id();
        let links =
            serde_json::to_string(&s.links).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let attempt = write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let (mut record, mut seq) = load_record!(tx, &s.learner_id, &s.competency_id);
            if record.state == MasteryState::NotStarted {
                record_event!(
                    tx,
                    &s.org_id,
                    &s.learner_id,
                    record,
                    &mut seq,
                    EventKind::Started,
                    now
                );
            }
            record_event!(
                tx,
                &s.org_id,
                &s.learner_id,
                record,
                &mut seq,
                EventKind::Submitted {
                    submission: id.clone()
                },
                now
            );
            let attempt = i64::try_from(record.attempts.len()).unwrap_or(i64::MAX);
            sqlx::query(
                "INSERT INTO submissions (id, org_id, learner_id, competency_id, rubric_id, \
                 rubric_version, attempt, body_text, links, submitted_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&id)
            .bind(&s.org_id)
            .bind(&s.learner_id)
            .bind(&s.competency_id)
            .bind(&s.rubric_id)
            .bind(&s.rubric_version)
            .bind(attempt)
            .bind(&s.text)
            .bind(&links)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            for (position, f) in (0i64..).zip(&s.files) {
                sqlx::query(
                    "INSERT INTO evidence_blobs (sha256, size_bytes, created_at) \
                     VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING",
                )
                .bind(&f.sha256)
                .bind(f.size_bytes)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO submission_files (submission_id, position, sha256, media_type, \
                     filename, size_bytes) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&id)
                .bind(position)
                .bind(&f.sha256)
                .bind(&f.media_type)
                .bind(&f.filename)
                .bind(f.size_bytes)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "INSERT INTO reviews (id, org_id, submission_id, learner_id, competency_id, \
                 rubric_id, rubric_version, state, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8)",
            )
            .bind(&review_id)
            .bind(&s.org_id)
            .bind(&id)
            .bind(&s.learner_id)
            .bind(&s.competency_id)
            .bind(&s.rubric_id)
            .bind(&s.rubric_version)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let payload = serde_json::json!({
                "submission": id,
                "attempt": attempt,
                "rubric": s.rubric_id,
                "rubric_version": s.rubric_version,
                "files": s.files.iter().map(|f| &f.sha256).collect::<Vec<_>>(),
            })
            .to_string();
            let learner = subject("learner", &s.learner_id);
            let competency = subject("competency", &s.competency_id);
            let submission = subject("submission", &id);
            append_audit!(
                tx,
                AuditKind::EvidenceSubmitted,
                &[learner.as_str(), competency.as_str(), submission.as_str()],
                payload,
                now
            );
            tx.commit().await?;
            attempt
        });
        Ok(Submission {
            id,
            review_id,
            learner_id: s.learner_id.clone(),
            competency_id: s.competency_id.clone(),
            rubric_id: s.rubric_id.clone(),
            rubric_version: s.rubric_version.clone(),
            attempt,
            text: s.text.clone(),
            links: s.links.clone(),
            files: s
                .files
                .iter()
                .map(|f| EvidenceFile {
                    sha256: f.sha256.clone(),
                    media_type: f.media_type.clone(),
                    filename: f.filename.clone(),
                    size_bytes: f.size_bytes,
                })
                .collect(),
            submitted_at: now,
        })
    }

    /// A learner's submissions in the organisation (optionally for one competency), oldest
    /// first.
    #[tracing::instrument(skip_all)]
    pub async fn submissions(
        &self,
        org_id: &str,
        learner_id: &str,
        competency_id: Option<&str>,
    ) -> Result<Vec<Submission>, StoreError> {
        let (rows, files): (Vec<SubmissionRow>, Vec<(String, EvidenceFileRow)>) =
            read!(self, |pool| {
                let rows = sqlx::query_as(
                    "SELECT s.id, r.id AS review_id, s.learner_id, s.competency_id, s.rubric_id, \
                     s.rubric_version, s.attempt, s.body_text, s.links, s.submitted_at \
                     FROM submissions s JOIN reviews r ON r.submission_id = s.id \
                     WHERE s.org_id = $1 AND s.learner_id = $2 \
                     AND ($3 IS NULL OR s.competency_id = $3) \
                     ORDER BY s.submitted_at, s.attempt",
                )
                .bind(org_id)
                .bind(learner_id)
                .bind(competency_id)
                .fetch_all(pool)
                .await?;
                let files: Vec<EvidenceFileRow> = sqlx::query_as(
                    "SELECT f.submission_id, f.sha256, f.media_type, f.filename, f.size_bytes \
                     FROM submission_files f JOIN submissions s ON s.id = f.submission_id \
                     WHERE s.org_id = $1 AND s.learner_id = $2 \
                     ORDER BY f.submission_id, f.position",
                )
                .bind(org_id)
                .bind(learner_id)
                .fetch_all(pool)
                .await?;
                (
                    rows,
                    files
                        .into_iter()
                        .map(|f| (f.submission_id.clone(), f))
                        .collect(),
                )
            });
        rows.into_iter()
            .map(|r| {
                let links: Vec<String> = serde_json::from_str(&r.links)
                    .map_err(|e| StoreError::Corrupt(format!("links: {e}")))?;
                Ok(Submission {
                    files: files
                        .iter()
                        .filter(|(s, _)| *s == r.id)
                        .map(|(_, f)| EvidenceFile {
                            sha256: f.sha256.clone(),
                            media_type: f.media_type.clone(),
                            filename: f.filename.clone(),
                            size_bytes: f.size_bytes,
                        })
                        .collect(),
                    id: r.id,
                    review_id: r.review_id,
                    learner_id: r.learner_id,
                    competency_id: r.competency_id,
                    rubric_id: r.rubric_id,
                    rubric_version: r.rubric_version,
                    attempt: r.attempt,
                    text: r.body_text,
                    links,
                    submitted_at: r.submitted_at,
                })
            })
            .collect()
    }
}

#[derive(sqlx::FromRow)]
struct EvidenceFileRow {
    submission_id: String,
    sha256: String,
    media_type: String,
    filename: Option<String>,
    size_bytes: i64,
}

/// One stored file of a submission, with whose it is (for the access check).
#[derive(Debug, Clone)]
pub struct StoredFile {
    /// The submission's organisation.
    pub org_id: String,
    /// The learner who submitted it.
    pub learner_id: String,
    /// The file.
    pub file: EvidenceFile,
}

#[derive(sqlx::FromRow)]
struct StoredFileRow {
    org_id: String,
    learner_id: String,
    sha256: String,
    media_type: String,
    filename: Option<String>,
    size_bytes: i64,
}

impl Store {
    /// File `position` (0-based, in submission order) of a submission, with its organisation
    /// and learner. The bytes are under the data directory by `sha256`.
    #[tracing::instrument(skip_all)]
    pub async fn evidence_file(
        &self,
        submission_id: &str,
        position: i64,
    ) -> Result<StoredFile, StoreError> {
        let row: StoredFileRow = read!(self, |pool| {
            sqlx::query_as(
                "SELECT s.org_id, s.learner_id, f.sha256, f.media_type, f.filename, f.size_bytes \
                 FROM submission_files f JOIN submissions s ON s.id = f.submission_id \
                 WHERE f.submission_id = $1 AND f.position = $2",
            )
            .bind(submission_id)
            .bind(position)
            .fetch_one(pool)
            .await?
        });
        Ok(StoredFile {
            org_id: row.org_id,
            learner_id: row.learner_id,
            file: EvidenceFile {
                sha256: row.sha256,
                media_type: row.media_type,
                filename: row.filename,
                size_bytes: row.size_bytes,
            },
        })
    }
}
