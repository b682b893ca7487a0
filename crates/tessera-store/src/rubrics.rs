//! Rubric versions. A version, once stored, never changes: publishing the same id and version
//! again with other content is refused (`tessera_review::Error::VersionReused`), an identical
//! re-upload is a no-op, and an older version number than the newest stored one is refused.
//! Ids are one namespace: an organisation may publish versions of its own rubrics and of the
//! shipped ones, never of another organisation's (409).
//!
//! The canonical TOML form (`Rubric::to_toml`) is stored, and parsed back on read, so a stored
//! rubric goes through the same validation as an uploaded one.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tessera_review::{AuditKind, Publish, Rubric, RubricRef, RubricVersion, check_new_version};

use crate::audit::append_audit;
use crate::{Store, StoreError, read, write};

/// A stored rubric version, as listed.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RubricSummary {
    /// Rubric id.
    pub id: String,
    /// Version (`MAJOR.MINOR.PATCH`).
    pub version: String,
    /// Title.
    pub title: String,
    /// `sha256:<hex>` of the canonical form.
    pub digest: String,
    /// The organisation that uploaded it; none for the rubrics shipped with Tessera.
    pub org_id: Option<String>,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

/// Whether publishing stored a new version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// A new version was stored.
    Created,
    /// Exactly this version was already stored.
    Unchanged,
}

#[derive(sqlx::FromRow)]
struct FullRow {
    id: String,
    version: String,
    title: String,
    digest: String,
    org_id: Option<String>,
    created_at: DateTime<Utc>,
    source: String,
}

#[derive(sqlx::FromRow)]
struct RefRow {
    version: String,
    digest: String,
    org_id: Option<String>,
}

fn pseudonym(prefix: &str, id: &str) -> String {
    // Rubric ids are slugs; anything else is replaced so the audit subject stays opaque-safe.
    let clean: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    format!("{prefix}:{clean}")
}

impl Store {
    /// Stores a rubric version (see the module docs for the rules). `org_id` is the uploading
    /// organisation, or none for the shipped rubrics. A new version is audited.
    #[tracing::instrument(skip_all)]
    pub async fn publish_rubric(
        &self,
        org_id: Option<&str>,
        rubric: &Rubric,
        now: DateTime<Utc>,
    ) -> Result<Published, StoreError> {
        let candidate = rubric.reference();
        let version = rubric.version();
        let to_i64 = |v: u64| i64::try_from(v).map_err(|_| StoreError::Corrupt("version".into()));
        let (major, minor, patch) = (
            to_i64(version.major)?,
            to_i64(version.minor)?,
            to_i64(version.patch)?,
        );
        let competencies = serde_json::to_string(rubric.competencies())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let source = rubric.to_toml();
        let subject = pseudonym("rubric", rubric.id());
        let payload = serde_json::json!({
            "rubric": candidate.id,
            "version": candidate.version.to_string(),
            "digest": candidate.digest,
            "org": org_id,
        })
        .to_string();
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let rows: Vec<RefRow> =
                sqlx::query_as("SELECT version, digest, org_id FROM rubrics WHERE id = $1")
                    .bind(rubric.id())
                    .fetch_all(&mut *tx)
                    .await?;
            // Rubric ids are one namespace: an organisation may add versions to its own
            // rubrics and to the shipped ones, never to another organisation's.
            if let Some(uploader) = org_id
                && rows
                    .iter()
                    .any(|r| r.org_id.as_deref().is_some_and(|o| o != uploader))
            {
                return Err(StoreError::Conflict(
                    "this rubric id belongs to another organisation",
                ));
            }
            let stored = rows
                .into_iter()
                .map(|r| {
                    Ok(RubricRef {
                        id: candidate.id.clone(),
                        version: r.version.parse::<RubricVersion>().map_err(|()| {
                            tessera_review::Error::InvalidStoredValue {
                                what: "rubric version",
                                value: r.version.clone(),
                            }
                        })?,
                        digest: r.digest,
                    })
                })
                .collect::<Result<Vec<_>, tessera_review::Error>>()?;
            if check_new_version(&stored, &candidate)? == Publish::AlreadyStored {
                return Ok(Published::Unchanged);
            }
            sqlx::query(
                "INSERT INTO rubrics (id, version, major, minor, patch, org_id, title, digest, \
                 competencies, source, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(rubric.id())
            .bind(version.to_string())
            .bind(major)
            .bind(minor)
            .bind(patch)
            .bind(org_id)
            .bind(rubric.title())
            .bind(&candidate.digest)
            .bind(&competencies)
            .bind(&source)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            append_audit!(
                tx,
                AuditKind::RubricPublished,
                &[subject.as_str()],
                payload,
                now
            );
            tx.commit().await?;
            Ok(Published::Created)
        })
    }

    /// The rubric versions an organisation can use (its own and the shipped ones), by id and
    /// newest version first.
    #[tracing::instrument(skip_all)]
    pub async fn rubrics(&self, org_id: &str) -> Result<Vec<RubricSummary>, StoreError> {
        read!(self, |pool| {
            Ok(sqlx::query_as(
                "SELECT id, version, title, digest, org_id, created_at FROM rubrics \
                 WHERE org_id IS NULL OR org_id = $1 \
                 ORDER BY id, major DESC, minor DESC, patch DESC",
            )
            .bind(org_id)
            .fetch_all(pool)
            .await?)
        })
    }

    /// One rubric version visible to `org_id` (the newest if `version` is none).
    #[tracing::instrument(skip_all)]
    pub async fn rubric(
        &self,
        org_id: &str,
        id: &str,
        version: Option<&str>,
    ) -> Result<(RubricSummary, Rubric), StoreError> {
        let row: Option<FullRow> = read!(self, |pool| {
            sqlx::query_as(
                "SELECT id, version, title, digest, org_id, created_at, source FROM rubrics \
                     WHERE id = $1 AND ($2 IS NULL OR version = $2) \
                     AND (org_id IS NULL OR org_id = $3) \
                     ORDER BY major DESC, minor DESC, patch DESC LIMIT 1",
            )
            .bind(id)
            .bind(version)
            .bind(org_id)
            .fetch_optional(pool)
            .await?
        });
        let FullRow {
            id,
            version,
            title,
            digest,
            org_id: org,
            created_at,
            source,
        } = row.ok_or(StoreError::NotFound)?;
        let rubric = Rubric::from_toml_str(&source, &format!("stored rubric {id} {version}"))
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok((
            RubricSummary {
                id,
                version,
                title,
                digest,
                org_id: org,
                created_at,
            },
            rubric,
        ))
    }
}
