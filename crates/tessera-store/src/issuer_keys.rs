//! Issuer keys, issuer settings and credential subject ids, per organisation.
//!
//! The store keeps only what the server hands it: the public key and the secret **sealed** under
//! the master key (the server seals and opens; the store never sees a plain secret). One key per
//! organisation is `current`; [`Store::add_issuer_key`] makes a new current key and turns the old
//! one into a `past` key in the same transaction, so the DID document can keep listing it and
//! credentials it signed keep verifying.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Utc};
use tessera_review::AuditKind;

use crate::audit::append_audit;
use crate::mastery::subject;
use crate::{Store, StoreError, new_id, read, write};

/// Learners per statement when looking up or making subject ids.
const SUBJECT_ROWS: usize = 500;

/// A stored issuer key. `Debug` leaves the sealed secret out.
#[derive(Clone, sqlx::FromRow)]
pub struct IssuerKey {
    /// Key id (UUID), recorded by every credential it signs.
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// 1, 2, … per organisation: the verification method is `<DID>#key-<seq>`.
    pub seq: i64,
    /// The Ed25519 public key, multibase (`z6Mk…`).
    pub public_key_multibase: String,
    /// Hex of nonce ‖ ciphertext ‖ tag (the server's `keyring` opens it).
    pub sealed_secret: String,
    /// Which master key sealed it.
    pub master_key_id: String,
    /// `current` or `past`.
    pub status: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stopped being the current key.
    pub retired_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuerKey")
            .field("id", &self.id)
            .field("org_id", &self.org_id)
            .field("seq", &self.seq)
            .field("public_key_multibase", &self.public_key_multibase)
            .field("sealed_secret", &"[redacted]")
            .field("master_key_id", &self.master_key_id)
            .field("status", &self.status)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish()
    }
}

/// A key to add (already sealed by the caller).
pub struct NewIssuerKey<'a> {
    /// Its id, chosen by the caller because the sealing binds it (associated data).
    pub id: &'a str,
    /// The organisation.
    pub org_id: &'a str,
    /// Public key, multibase.
    pub public_key_multibase: &'a str,
    /// Sealed secret (hex).
    pub sealed_secret: &'a str,
    /// The master key's id.
    pub master_key_id: &'a str,
    /// Who asked for it (audit), if a person did.
    pub actor: Option<&'a str>,
    /// `true`: the current key (if any) becomes a past key. `false`: only a first key is added;
    /// if the organisation already has a current key this is [`StoreError::Conflict`] (two
    /// requests racing to make the first key: one wins, the other reads the winner's).
    pub rotate: bool,
}

impl fmt::Debug for NewIssuerKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewIssuerKey")
            .field("id", &self.id)
            .field("org_id", &self.org_id)
            .field("public_key_multibase", &self.public_key_multibase)
            .finish_non_exhaustive()
    }
}

/// How an organisation issues.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssuerSettings {
    /// `web` (did:web under the public URL, the default) or `key` (did:key of the current key).
    pub did_method: String,
    /// `approval` (a teacher issues, the default) or `automatic` (the sweep issues every
    /// mastered, unissued record).
    pub issuance: String,
    /// Whether credentials carry a second proof, `eddsa-jcs-2022`, beside the `eddsa-rdfc-2022`
    /// one (default false).
    #[serde(default)]
    pub jcs_proof: bool,
    /// Whether credentials also carry the learner's e-mail as a salted SHA-256 (an OB 3.0
    /// `IdentityObject`); default false, the subject being a DID or a pairwise id.
    #[serde(default)]
    pub email_identifier: bool,
}

impl Default for IssuerSettings {
    fn default() -> Self {
        Self {
            did_method: "web".into(),
            issuance: "approval".into(),
            jcs_proof: false,
            email_identifier: false,
        }
    }
}

const KEY_COLUMNS: &str = "id, org_id, seq, public_key_multibase, sealed_secret, master_key_id, \
     status, created_at, retired_at";

impl Store {
    /// Every key of the organisation, oldest first.
    #[tracing::instrument(skip_all)]
    pub async fn issuer_keys(&self, org_id: &str) -> Result<Vec<IssuerKey>, StoreError> {
        read!(self, |pool| {
            Ok(sqlx::query_as(crate::sqlf!(
                "SELECT {KEY_COLUMNS} FROM issuer_keys WHERE org_id = $1 ORDER BY seq"
            ))
            .bind(org_id)
            .fetch_all(pool)
            .await?)
        })
    }

    /// One key by id.
    #[tracing::instrument(skip_all)]
    pub async fn issuer_key(&self, id: &str) -> Result<IssuerKey, StoreError> {
        read!(self, |pool| {
            Ok(sqlx::query_as(crate::sqlf!(
                "SELECT {KEY_COLUMNS} FROM issuer_keys WHERE id = $1"
            ))
            .bind(id)
            .fetch_one(pool)
            .await?)
        })
    }

    /// The organisation's current key, if it has one yet.
    #[tracing::instrument(skip_all)]
    pub async fn current_issuer_key(&self, org_id: &str) -> Result<Option<IssuerKey>, StoreError> {
        read!(self, |pool| {
            Ok(sqlx::query_as(crate::sqlf!(
                "SELECT {KEY_COLUMNS} FROM issuer_keys WHERE org_id = $1 AND status = 'current'"
            ))
            .bind(org_id)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// Adds a key as the organisation's current one; the previous current key becomes a past
    /// key. Two racing rotations collide on `(org_id, seq)`: one gets [`StoreError::Conflict`].
    #[tracing::instrument(skip_all)]
    pub async fn add_issuer_key(
        &self,
        key: &NewIssuerKey<'_>,
        now: DateTime<Utc>,
    ) -> Result<IssuerKey, StoreError> {
        let id = key.id;
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let (last,): (Option<i64>,) =
                sqlx::query_as("SELECT MAX(seq) FROM issuer_keys WHERE org_id = $1")
                    .bind(key.org_id)
                    .fetch_one(&mut *tx)
                    .await?;
            if key.rotate {
                sqlx::query(
                    "UPDATE issuer_keys SET status = 'past', retired_at = $2 \
                     WHERE org_id = $1 AND status = 'current'",
                )
                .bind(key.org_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            let row: IssuerKey = sqlx::query_as(crate::sqlf!(
                "INSERT INTO issuer_keys (id, org_id, seq, public_key_multibase, sealed_secret, \
                 master_key_id, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'current', $7) \
                 RETURNING {KEY_COLUMNS}"
            ))
            .bind(id)
            .bind(key.org_id)
            .bind(last.unwrap_or(0) + 1)
            .bind(key.public_key_multibase)
            .bind(key.sealed_secret)
            .bind(key.master_key_id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::from)
            .map_err(|e| match e {
                StoreError::Conflict(_) => {
                    StoreError::Conflict("the issuer key was rotated at the same time")
                }
                other => other,
            })?;
            let mut subjects = vec![subject("org", key.org_id), subject("key", id)];
            if let Some(actor) = key.actor {
                subjects.push(subject("user", actor));
            }
            let subjects: Vec<&str> = subjects.iter().map(String::as_str).collect();
            let payload = serde_json::json!({
                "key": id, "seq": row.seq, "public_key": key.public_key_multibase,
            })
            .to_string();
            append_audit!(tx, AuditKind::IssuerKeyRotated, &subjects, payload, now);
            tx.commit().await?;
            Ok(row)
        })
    }

    /// The organisation's issuer settings (the defaults if never set).
    #[tracing::instrument(skip_all)]
    pub async fn issuer_settings(&self, org_id: &str) -> Result<IssuerSettings, StoreError> {
        let row: Option<IssuerSettings> = read!(self, |pool| {
            sqlx::query_as(
                "SELECT did_method, issuance, jcs_proof, email_identifier FROM issuer_settings \
                 WHERE org_id = $1",
            )
            .bind(org_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.unwrap_or_default())
    }

    /// Sets the organisation's issuer settings. Values are checked by the database
    /// (`web`|`key`, `approval`|`automatic`).
    #[tracing::instrument(skip_all)]
    pub async fn set_issuer_settings(
        &self,
        org_id: &str,
        settings: &IssuerSettings,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if !matches!(settings.did_method.as_str(), "web" | "key")
            || !matches!(settings.issuance.as_str(), "approval" | "automatic")
        {
            return Err(StoreError::InvalidReference(
                "did_method must be web or key; issuance approval or automatic",
            ));
        }
        write!(self, |pool| {
            sqlx::query(
                "INSERT INTO issuer_settings (org_id, did_method, issuance, jcs_proof, \
                 email_identifier, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (org_id) DO UPDATE SET did_method = $2, issuance = $3, \
                 jcs_proof = $4, email_identifier = $5, updated_at = $6",
            )
            .bind(org_id)
            .bind(&settings.did_method)
            .bind(&settings.issuance)
            .bind(settings.jcs_proof)
            .bind(settings.email_identifier)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Records a learner's own DID (used as the subject of credentials issued from then on).
    #[tracing::instrument(skip_all)]
    pub async fn set_learner_did(
        &self,
        user_id: &str,
        did: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        write!(self, |pool| {
            sqlx::query(
                "INSERT INTO learner_dids (user_id, did, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id) DO UPDATE SET did = $2, created_at = $3",
            )
            .bind(user_id)
            .bind(did)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The subject id for a learner in the organisation's credentials: their own DID if they
    /// gave one, else their pairwise `urn:uuid:…` (made on first use, then always the same).
    #[tracing::instrument(skip_all)]
    pub async fn credential_subject_id(
        &self,
        org_id: &str,
        learner_id: &str,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let mut ids = self
            .credential_subject_ids(org_id, &[learner_id], now)
            .await?;
        ids.remove(learner_id)
            .ok_or_else(|| StoreError::Corrupt(format!("no subject id for {learner_id}")))
    }

    /// [`Store::credential_subject_id`] for many learners at once (bulk issuance: a few
    /// statements per chunk instead of two per learner). Returns learner id → subject id.
    #[tracing::instrument(skip_all, fields(learners = learner_ids.len()))]
    pub async fn credential_subject_ids(
        &self,
        org_id: &str,
        learner_ids: &[&str],
        now: DateTime<Utc>,
    ) -> Result<HashMap<String, String>, StoreError> {
        let mut found: HashMap<String, String> = HashMap::new();
        for part in learner_ids.chunks(SUBJECT_ROWS) {
            let dids: Vec<(String, String)> = read!(self, |pool| {
                let mut qb =
                    sqlx::QueryBuilder::new("SELECT user_id, did FROM learner_dids WHERE user_id");
                crate::push_in(&mut qb, part.iter().copied());
                qb.build_query_as().fetch_all(pool).await?
            });
            found.extend(dids);
        }
        let pairwise: Vec<&str> = learner_ids
            .iter()
            .copied()
            .filter(|id| !found.contains_key(*id))
            .collect();
        for part in pairwise.chunks(SUBJECT_ROWS) {
            let existing = self.pairwise_subjects(org_id, part, false).await?;
            let missing: Vec<&str> = part
                .iter()
                .copied()
                .filter(|id| !existing.contains_key(*id))
                .collect();
            found.extend(existing);
            if missing.is_empty() {
                continue;
            }
            let fresh: Vec<(&str, String)> = missing
                .iter()
                .map(|id| (*id, format!("urn:uuid:{}", new_id())))
                .collect();
            write!(self, |pool| {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO credential_subjects (org_id, learner_id, subject_id, created_at) ",
                );
                qb.push_values(&fresh, |mut b, (learner, subject)| {
                    b.push_bind(org_id)
                        .push_bind(*learner)
                        .push_bind(subject.as_str())
                        .push_bind(now);
                });
                qb.push(" ON CONFLICT (org_id, learner_id) DO NOTHING");
                qb.build().execute(pool).await?;
            });
            // Whoever inserted first, that id is the one that stays.
            found.extend(self.pairwise_subjects(org_id, &missing, true).await?);
        }
        Ok(found)
    }

    /// The stored pairwise subject ids of these learners (read from the writer when `fresh`, so
    /// a row just written is seen).
    async fn pairwise_subjects(
        &self,
        org_id: &str,
        learner_ids: &[&str],
        fresh: bool,
    ) -> Result<HashMap<String, String>, StoreError> {
        macro_rules! query {
            ($pool:ident) => {{
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT learner_id, subject_id FROM credential_subjects WHERE org_id = ",
                );
                qb.push_bind(org_id);
                qb.push(" AND learner_id");
                crate::push_in(&mut qb, learner_ids.iter().copied());
                let rows: Vec<(String, String)> = qb.build_query_as().fetch_all($pool).await?;
                rows
            }};
        }
        let rows = if fresh {
            write!(self, |pool| query!(pool))
        } else {
            read!(self, |pool| query!(pool))
        };
        Ok(rows.into_iter().collect())
    }
}
