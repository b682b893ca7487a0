//! Issued credentials: the exact signed bytes, the key that signed them, their status entries,
//! and their state (active, suspended, revoked).
//!
//! Issuing is idempotent by `idempotency_key` (unique): the insert is
//! `ON CONFLICT (idempotency_key) DO NOTHING`, and a second call with the same key returns the
//! credential stored first, so a retried request or a rerun batch never issues twice. The insert,
//! the binding of the reserved status entries and the audit entry are one transaction.
//!
//! Revocation is permanent; suspension is reversible. A change sets the entry's bit, bumps the
//! list's version (so the published list is remade), updates the credential and appends an audit
//! entry with the reason, all in one transaction.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tessera_review::AuditKind;

use crate::audit::append_audit;
use crate::mastery::subject;
use crate::status_lists::ReservedStatus;
use crate::{Store, StoreError, read, write};

/// A stored credential.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Credential {
    /// Id (the credential's `id` is `urn:uuid:<id>`).
    pub id: String,
    /// The issuing organisation.
    pub org_id: String,
    /// The learner.
    pub learner_id: String,
    /// The competency.
    pub competency_id: String,
    /// What made it unique (`mastery:…` or the caller's key).
    pub idempotency_key: String,
    /// The issuer key that signed it.
    pub key_id: String,
    /// `credentialSubject.id`.
    pub subject_id: String,
    /// `issuer.id`.
    pub issuer_id: String,
    /// `validFrom`.
    pub valid_from: DateTime<Utc>,
    /// The exact signed JSON.
    #[serde(skip)]
    pub signed: String,
    /// SHA-256 of the signed bytes (hex).
    pub sha256: String,
    /// Revocation list id.
    pub revocation_list: String,
    /// Revocation index.
    pub revocation_index: i64,
    /// Suspension list id.
    pub suspension_list: String,
    /// Suspension index.
    pub suspension_index: i64,
    /// `active`, `suspended` or `revoked`.
    pub status: String,
    /// Reason for the last status change.
    pub status_reason: Option<String>,
    /// When the status last changed.
    pub status_changed_at: Option<DateTime<Utc>>,
    /// Who issued it (None for automatic issuance).
    pub issued_by: Option<String>,
    /// When.
    pub issued_at: DateTime<Utc>,
}

/// A signed credential to store.
#[derive(Debug, Clone)]
pub struct NewCredential<'a> {
    /// Its id (as in the signed `id`, without `urn:uuid:`).
    pub id: &'a str,
    /// The organisation.
    pub org_id: &'a str,
    /// The learner.
    pub learner_id: &'a str,
    /// The competency.
    pub competency_id: &'a str,
    /// Idempotency key.
    pub idempotency_key: &'a str,
    /// Signing key id.
    pub key_id: &'a str,
    /// Subject id.
    pub subject_id: &'a str,
    /// Issuer id.
    pub issuer_id: &'a str,
    /// validFrom.
    pub valid_from: DateTime<Utc>,
    /// The exact signed bytes.
    pub signed: &'a str,
    /// The status entries it carries (reserved before signing).
    pub status: &'a ReservedStatus,
    /// Who issued it.
    pub issued_by: Option<&'a str>,
}

/// What to do to a credential's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusAction {
    /// Permanent.
    Revoke,
    /// Until reinstated.
    Suspend,
    /// Lift a suspension.
    Reinstate,
}

impl StatusAction {
    fn audit_kind(self) -> AuditKind {
        match self {
            Self::Revoke => AuditKind::CredentialRevoked,
            Self::Suspend => AuditKind::CredentialSuspended,
            Self::Reinstate => AuditKind::CredentialReinstated,
        }
    }
}

/// The outcome of a status change.
#[derive(Debug, Clone)]
pub struct StatusChange {
    /// The credential after the change.
    pub credential: Credential,
    /// The list whose bits changed.
    pub list_id: String,
}

pub(crate) const CREDENTIAL_COLUMNS: &str = "id, org_id, learner_id, competency_id, idempotency_key, key_id, \
     subject_id, issuer_id, valid_from, signed, sha256, revocation_list, revocation_index, \
     suspension_list, suspension_index, status, status_reason, status_changed_at, issued_by, \
     issued_at";

/// Lower-case hex SHA-256.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Rows per multi-row statement of [`insert_credentials_tx!`] (17 parameters a credential: far
/// below SQLite's 32,766 and PostgreSQL's 65,535 bound parameters).
pub(crate) const CREDENTIAL_INSERT_ROWS: usize = 250;

/// The audit entry recording a credential's issue.
pub(crate) fn issued_audit(
    c: &NewCredential<'_>,
    digest: &str,
) -> Result<crate::audit::PendingAudit, StoreError> {
    let record = serde_json::json!({
        "credential": c.id,
        "sha256": digest,
        "idempotency_key": c.idempotency_key,
        "issued_by": c.issued_by,
    });
    crate::audit::PendingAudit::new(
        AuditKind::CredentialIssued,
        vec![
            subject("credential", c.id),
            subject("org", c.org_id),
            subject("learner", c.learner_id),
            subject("competency", c.competency_id),
            subject("key", c.key_id),
        ],
        &record.to_string(),
    )
}

/// Inserts the [`NewCredential`]s of the slice `$creds` inside the open transaction `$tx`,
/// each unless its idempotency key is taken: binds the new ones' reserved status entries and
/// appends their `CredentialIssued` audit entries. Multi-row statements throughout (bulk
/// issuance stores a chunk of 250 in about ten statements instead of three thousand).
/// Evaluates to `(credential id, created)` per input, in order: the id stored first for a key
/// that was taken. The caller commits. Shared by [`Store::insert_credential`] and the bulk
/// worker's one-transaction-per-chunk store (`batches.rs`), so both write exactly the same rows.
macro_rules! insert_credentials_tx {
    ($tx:expr, $creds:expr, $now:expr) => {{
        use $crate::credentials::{CREDENTIAL_INSERT_ROWS, sha256_hex, issued_audit};
        let creds: &[$crate::credentials::NewCredential<'_>] = $creds;
        let now: chrono::DateTime<chrono::Utc> = $now;
        let digests: Vec<String> = creds.iter().map(|c| sha256_hex(c.signed.as_bytes())).collect();
        let mut created: std::collections::HashSet<String> = std::collections::HashSet::new();
        for (part, digests) in creds
            .chunks(CREDENTIAL_INSERT_ROWS)
            .zip(digests.chunks(CREDENTIAL_INSERT_ROWS))
        {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO credentials (id, org_id, learner_id, competency_id, idempotency_key, \
                 key_id, subject_id, issuer_id, valid_from, signed, sha256, revocation_list, \
                 revocation_index, suspension_list, suspension_index, status, issued_by, issued_at) ",
            );
            qb.push_values(part.iter().zip(digests), |mut b, (c, digest)| {
                b.push_bind(c.id)
                    .push_bind(c.org_id)
                    .push_bind(c.learner_id)
                    .push_bind(c.competency_id)
                    .push_bind(c.idempotency_key)
                    .push_bind(c.key_id)
                    .push_bind(c.subject_id)
                    .push_bind(c.issuer_id)
                    .push_bind(c.valid_from)
                    .push_bind(c.signed)
                    .push_bind(digest.as_str())
                    .push_bind(c.status.revocation.list_id.as_str())
                    .push_bind(c.status.revocation.index)
                    .push_bind(c.status.suspension.list_id.as_str())
                    .push_bind(c.status.suspension.index)
                    .push_bind("active")
                    .push_bind(c.issued_by)
                    .push_bind(now);
            });
            qb.push(" ON CONFLICT (idempotency_key) DO NOTHING RETURNING id");
            let ids: Vec<(String,)> = qb.build_query_as().fetch_all(&mut *$tx).await?;
            created.extend(ids.into_iter().map(|(id,)| id));
        }
        // Keys stored before: the credential stored first is the one that stays.
        let taken: Vec<&str> = creds
            .iter()
            .filter(|c| !created.contains(c.id))
            .map(|c| c.idempotency_key)
            .collect();
        let mut existing: std::collections::HashMap<String, String> =
            std::collections::HashMap::new();
        for part in taken.chunks(CREDENTIAL_INSERT_ROWS) {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT idempotency_key, id FROM credentials WHERE idempotency_key",
            );
            $crate::push_in(&mut qb, part.iter().copied());
            let rows: Vec<(String, String)> = qb.build_query_as().fetch_all(&mut *$tx).await?;
            existing.extend(rows);
        }
        // The new credentials' status entries, bound to them (`VALUES` columns are named
        // column1, column2, … on both backends).
        let fresh: Vec<(&$crate::credentials::NewCredential<'_>, &String)> = creds
            .iter()
            .zip(&digests)
            .filter(|(c, _)| created.contains(c.id))
            .collect();
        let slots: Vec<(&str, i64, &str)> = fresh
            .iter()
            .flat_map(|(c, _)| {
                [&c.status.revocation, &c.status.suspension]
                    .map(|s| (s.list_id.as_str(), s.index, c.id))
            })
            .collect();
        for part in slots.chunks(CREDENTIAL_INSERT_ROWS * 2) {
            let mut qb = sqlx::QueryBuilder::new(
                "UPDATE status_entries SET credential_id = v.column3 FROM (",
            );
            qb.push_values(part, |mut b, (list, idx, id)| {
                b.push_bind(*list).push_bind(*idx).push_bind(*id);
            });
            qb.push(
                ") AS v WHERE status_entries.list_id = v.column1 \
                 AND status_entries.idx = v.column2 AND status_entries.credential_id IS NULL",
            );
            qb.build().execute(&mut *$tx).await?;
        }
        let audits = fresh
            .iter()
            .map(|(c, digest)| issued_audit(c, digest))
            .collect::<Result<Vec<_>, $crate::StoreError>>()?;
        if !audits.is_empty() {
            $crate::audit::append_audits!($tx, &audits, now);
        }
        let mut out: Vec<(String, bool)> = Vec::with_capacity(creds.len());
        for c in creds {
            if created.contains(c.id) {
                out.push((c.id.to_owned(), true));
            } else {
                let id = existing.get(c.idempotency_key).ok_or_else(|| {
                    $crate::StoreError::Corrupt(format!(
                        "credential key {} neither inserted nor found",
                        c.idempotency_key
                    ))
                })?;
                out.push((id.clone(), false));
            }
        }
        out
    }};
}
pub(crate) use insert_credentials_tx;

/// [`insert_credentials_tx!`] for one credential. Evaluates to `(Credential, created)`.
macro_rules! insert_credential_tx {
    ($tx:expr, $c:expr, $now:expr) => {{
        let c: &$crate::credentials::NewCredential<'_> = $c;
        let stored =
            $crate::credentials::insert_credentials_tx!($tx, std::slice::from_ref(c), $now);
        let (id, created) = stored
            .into_iter()
            .next()
            .ok_or_else(|| $crate::StoreError::Corrupt("no credential stored".into()))?;
        let credential: $crate::credentials::Credential = sqlx::query_as($crate::sqlf!(
            "SELECT {} FROM credentials WHERE id = $1",
            $crate::credentials::CREDENTIAL_COLUMNS
        ))
        .bind(&id)
        .fetch_one(&mut *$tx)
        .await?;
        (credential, created)
    }};
}

impl Store {
    /// Stores a signed credential, unless one with the same idempotency key exists: returns the
    /// stored credential and whether this call created it.
    #[tracing::instrument(skip_all)]
    pub async fn insert_credential(
        &self,
        c: &NewCredential<'_>,
        now: DateTime<Utc>,
    ) -> Result<(Credential, bool), StoreError> {
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let stored = insert_credential_tx!(tx, c, now);
            tx.commit().await?;
            Ok(stored)
        })
    }

    /// A credential by id.
    #[tracing::instrument(skip_all)]
    pub async fn credential(&self, id: &str) -> Result<Credential, StoreError> {
        read!(self, |pool| {
            Ok(sqlx::query_as(crate::sqlf!(
                "SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE id = $1"
            ))
            .bind(id)
            .fetch_one(pool)
            .await?)
        })
    }

    /// A credential by idempotency key, if issued.
    #[tracing::instrument(skip_all)]
    pub async fn credential_by_key(&self, key: &str) -> Result<Option<Credential>, StoreError> {
        read!(self, |pool| {
            Ok(sqlx::query_as(crate::sqlf!(
                "SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE idempotency_key = $1"
            ))
            .bind(key)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// The organisation's credentials, newest first, optionally only one learner's.
    #[tracing::instrument(skip_all)]
    pub async fn credentials(
        &self,
        org_id: &str,
        learner_id: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Credential>, StoreError> {
        read!(self, |pool| {
            Ok(sqlx::query_as(crate::sqlf!(
                "SELECT {CREDENTIAL_COLUMNS} FROM credentials \
                 WHERE org_id = $1 AND ($2 IS NULL OR learner_id = $2) \
                 ORDER BY issued_at DESC, id LIMIT $3 OFFSET $4"
            ))
            .bind(org_id)
            .bind(learner_id)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?)
        })
    }

    /// Revokes, suspends or reinstates a credential with a reason. Revoked is final
    /// ([`StoreError::Conflict`] for any later change); suspend needs an active credential and
    /// reinstate a suspended one.
    #[tracing::instrument(skip_all)]
    pub async fn change_credential_status(
        &self,
        credential_id: &str,
        action: StatusAction,
        reason: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<StatusChange, StoreError> {
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let c: Credential = sqlx::query_as(crate::sqlf!(
                "SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE id = $1"
            ))
            .bind(credential_id)
            .fetch_one(&mut *tx)
            .await?;
            let (to, list_id, index, bit) = match (action, c.status.as_str()) {
                (_, "revoked") => {
                    return Err(StoreError::Conflict("the credential is revoked"));
                }
                (StatusAction::Revoke, _) => {
                    ("revoked", &c.revocation_list, c.revocation_index, 1i64)
                }
                (StatusAction::Suspend, "active") => {
                    ("suspended", &c.suspension_list, c.suspension_index, 1)
                }
                (StatusAction::Suspend, _) => {
                    return Err(StoreError::Conflict("the credential is already suspended"));
                }
                (StatusAction::Reinstate, "suspended") => {
                    ("active", &c.suspension_list, c.suspension_index, 0)
                }
                (StatusAction::Reinstate, _) => {
                    return Err(StoreError::Conflict("the credential is not suspended"));
                }
            };
            sqlx::query("UPDATE status_entries SET value = $3 WHERE list_id = $1 AND idx = $2")
                .bind(list_id)
                .bind(index)
                .bind(bit)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE status_lists SET version = version + 1 WHERE id = $1")
                .bind(list_id)
                .execute(&mut *tx)
                .await?;
            // Conditional on the state read above, so two racing changes cannot both apply.
            let updated: Option<Credential> = sqlx::query_as(crate::sqlf!(
                "UPDATE credentials SET status = $2, status_reason = $3, status_changed_at = $4 \
                 WHERE id = $1 AND status = $5 RETURNING {CREDENTIAL_COLUMNS}"
            ))
            .bind(&c.id)
            .bind(to)
            .bind(reason)
            .bind(now)
            .bind(&c.status)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(updated) = updated else {
                return Err(StoreError::Conflict(
                    "the credential's status changed at the same time",
                ));
            };
            let subjects = [
                subject("credential", &c.id),
                subject("org", &c.org_id),
                subject("user", actor),
            ];
            let subjects: Vec<&str> = subjects.iter().map(String::as_str).collect();
            let payload = serde_json::json!({
                "credential": c.id, "from": c.status, "to": to, "reason": reason,
            })
            .to_string();
            append_audit!(tx, action.audit_kind(), &subjects, payload, now);
            tx.commit().await?;
            let list_id = list_id.clone();
            Ok(StatusChange {
                credential: updated,
                list_id,
            })
        })
    }
}
