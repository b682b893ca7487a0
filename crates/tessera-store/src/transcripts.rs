//! Mastery transcripts: signed CLR 2.0 `ClrCredential`s, stored as the exact signed bytes with
//! their SHA-256, the learner's choice of what went in, and who asked for it.
//!
//! A transcript is a snapshot: it is made once, never changed, and a newer record means a new
//! transcript. What goes in it is decided and signed outside the store (`tessera-transcript`);
//! the store only keeps it and hands it back byte for byte.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use tessera_review::AuditKind;

use crate::audit::append_audit;
use crate::mastery::subject;
use crate::{Store, StoreError, read, write};

/// A stored transcript (without its bytes: [`Store::transcript_bytes`] reads those).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Transcript {
    /// Id (the ClrCredential's `id` is `urn:uuid:<id>`).
    pub id: String,
    /// The issuing organisation.
    pub org_id: String,
    /// The learner it is about.
    pub learner_id: String,
    /// `learner` (made by the learner) or `official` (by a teacher or admin, the full record).
    pub kind: String,
    /// The learner's choice: `everything`, `framework` or `competencies`.
    pub scope: String,
    /// The framework chosen (scope `framework`).
    pub framework_id: Option<String>,
    /// The competencies chosen (scope `competencies`), as a JSON array text.
    #[serde(skip)]
    pub competency_ids: Option<String>,
    /// True when the choice left out part of the learner's record (the CLR's `partial`).
    pub partial: bool,
    /// How many AchievementCredentials it embeds.
    pub credentials: i64,
    /// The issuer key that signed it.
    pub key_id: String,
    /// SHA-256 of the signed bytes (hex).
    pub sha256: String,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl Transcript {
    /// The competency ids of a `competencies` choice.
    pub fn selected_competencies(&self) -> Vec<String> {
        self.competency_ids
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default()
    }
}

/// A signed transcript to store.
#[derive(Debug, Clone)]
pub struct NewTranscript<'a> {
    /// Its id (as in the signed `id`, without `urn:uuid:`).
    pub id: &'a str,
    /// The organisation.
    pub org_id: &'a str,
    /// The learner.
    pub learner_id: &'a str,
    /// `learner` or `official`.
    pub kind: &'a str,
    /// `everything`, `framework` or `competencies`.
    pub scope: &'a str,
    /// The framework chosen.
    pub framework_id: Option<&'a str>,
    /// The competencies chosen.
    pub competency_ids: Option<&'a [String]>,
    /// The CLR's `partial`.
    pub partial: bool,
    /// Embedded credentials.
    pub credentials: i64,
    /// Signing key id.
    pub key_id: &'a str,
    /// The exact signed bytes.
    pub signed: &'a str,
    /// Who made it.
    pub created_by: &'a str,
}

const TRANSCRIPT_COLUMNS: &str = "id, org_id, learner_id, kind, scope, framework_id, \
     competency_ids, partial, credentials, key_id, sha256, created_by, created_at";

impl Store {
    /// Stores a signed transcript.
    #[tracing::instrument(skip_all)]
    pub async fn insert_transcript(
        &self,
        t: &NewTranscript<'_>,
        now: DateTime<Utc>,
    ) -> Result<Transcript, StoreError> {
        let digest = hex::encode(Sha256::digest(t.signed.as_bytes()));
        let competency_ids = t
            .competency_ids
            .map(|ids| serde_json::to_string(ids).unwrap_or_else(|_| "[]".into()));
        let subjects = [
            subject("transcript", t.id),
            subject("org", t.org_id),
            subject("learner", t.learner_id),
            subject("key", t.key_id),
            subject("user", t.created_by),
        ];
        let subjects: Vec<&str> = subjects.iter().map(String::as_str).collect();
        let payload = serde_json::json!({
            "transcript": t.id,
            "sha256": digest,
            "kind": t.kind,
            "scope": t.scope,
            "partial": t.partial,
            "credentials": t.credentials,
            "created_by": t.created_by,
        })
        .to_string();
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let stored: Transcript = sqlx::query_as(crate::sqlf!(
                "INSERT INTO transcripts (id, org_id, learner_id, kind, scope, framework_id, \
                 competency_ids, partial, credentials, key_id, signed, sha256, created_by, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                 RETURNING {TRANSCRIPT_COLUMNS}"
            ))
            .bind(t.id)
            .bind(t.org_id)
            .bind(t.learner_id)
            .bind(t.kind)
            .bind(t.scope)
            .bind(t.framework_id)
            .bind(&competency_ids)
            .bind(t.partial)
            .bind(t.credentials)
            .bind(t.key_id)
            .bind(t.signed)
            .bind(&digest)
            .bind(t.created_by)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            append_audit!(tx, AuditKind::TranscriptIssued, &subjects, payload, now);
            tx.commit().await?;
            Ok(stored)
        })
    }

    /// A transcript by id (without its bytes).
    #[tracing::instrument(skip_all)]
    pub async fn transcript(&self, id: &str) -> Result<Transcript, StoreError> {
        read!(self, |pool| {
            Ok(sqlx::query_as(crate::sqlf!(
                "SELECT {TRANSCRIPT_COLUMNS} FROM transcripts WHERE id = $1"
            ))
            .bind(id)
            .fetch_one(pool)
            .await?)
        })
    }

    /// The exact signed bytes of a transcript.
    #[tracing::instrument(skip_all)]
    pub async fn transcript_bytes(&self, id: &str) -> Result<String, StoreError> {
        read!(self, |pool| {
            Ok(
                sqlx::query_scalar("SELECT signed FROM transcripts WHERE id = $1")
                    .bind(id)
                    .fetch_one(pool)
                    .await?,
            )
        })
    }

    /// A learner's transcripts in the organisation, newest first.
    #[tracing::instrument(skip_all)]
    pub async fn learner_transcripts(
        &self,
        org_id: &str,
        learner_id: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Transcript>, StoreError> {
        read!(self, |pool| {
            Ok(sqlx::query_as(crate::sqlf!(
                "SELECT {TRANSCRIPT_COLUMNS} FROM transcripts \
                 WHERE org_id = $1 AND learner_id = $2 \
                 ORDER BY created_at DESC, id LIMIT $3 OFFSET $4"
            ))
            .bind(org_id)
            .bind(learner_id)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?)
        })
    }

    /// The signed bytes of every credential issued to the learner in the organisation, oldest
    /// first, with the competency each awards (what a transcript embeds). Only active ones: a
    /// transcript must not carry what the school revoked, nor what it suspended for now.
    #[tracing::instrument(skip_all)]
    pub async fn transcript_credentials(
        &self,
        org_id: &str,
        learner_id: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        read!(self, |pool| {
            Ok(sqlx::query_as(
                "SELECT competency_id, signed FROM credentials \
                 WHERE org_id = $1 AND learner_id = $2 AND status = 'active' \
                 ORDER BY issued_at, id",
            )
            .bind(org_id)
            .bind(learner_id)
            .fetch_all(pool)
            .await?)
        })
    }
}
