//! A learner's own DID: when set, it is the subject of credentials issued to them from then on
//! (see [`Store::credential_subject_id`]); credentials already issued keep the subject they were
//! signed with. Setting it is [`Store::set_learner_did`] (beside the subject ids it overrides).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Store, StoreError, read, write};

/// A learner's DID as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LearnerDid {
    /// The DID (`did:key:…` or `did:web:…`).
    pub did: String,
    /// When it was set (or last changed).
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// The learner's own DID, if they gave one.
    #[tracing::instrument(skip_all)]
    pub async fn learner_did(&self, user_id: &str) -> Result<Option<LearnerDid>, StoreError> {
        read!(self, |pool| {
            Ok(
                sqlx::query_as("SELECT did, created_at FROM learner_dids WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_optional(pool)
                    .await?,
            )
        })
    }

    /// Forgets the learner's DID: later credentials use their pairwise `urn:uuid:` subject
    /// again. Returns whether there was one.
    #[tracing::instrument(skip_all)]
    pub async fn clear_learner_did(&self, user_id: &str) -> Result<bool, StoreError> {
        write!(self, |pool| {
            Ok(sqlx::query("DELETE FROM learner_dids WHERE user_id = $1")
                .bind(user_id)
                .execute(pool)
                .await?
                .rows_affected()
                > 0)
        })
    }
}
