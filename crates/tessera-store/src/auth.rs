//! Login sessions and personal API tokens. Only hashes of the secrets are stored; looking a
//! secret up means hashing it and finding the hash.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;
use tessera_core::account::Role;

use crate::{Store, StoreError, read, write};

/// Who is calling: the user, whether they run the platform, and their roles. Loaded once per
/// request by the server's auth extractor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user's id.
    pub user_id: String,
    /// Platform admins may act on every organisation.
    pub is_platform_admin: bool,
    /// (organisation id, role) pairs.
    pub roles: Vec<(String, Role)>,
    /// The session's CSRF token, when authenticated by session cookie (None for API tokens).
    pub csrf_token: Option<String>,
}

/// A personal API token as listed to its owner (never the secret or its hash).
#[derive(Debug, Clone, Serialize, FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiToken {
    /// Stable identifier, used to revoke it.
    pub id: String,
    /// The owner's label for it.
    pub name: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working on its own, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(FromRow)]
struct PrincipalRow {
    user_id: String,
    is_platform_admin: bool,
    csrf_token: Option<String>,
    org_id: Option<String>,
    role: Option<String>,
}

fn principal_from_rows(rows: Vec<PrincipalRow>) -> Result<Option<Principal>, StoreError> {
    let mut rows = rows.into_iter();
    let Some(first) = rows.next() else {
        return Ok(None);
    };
    let mut principal = Principal {
        user_id: first.user_id,
        is_platform_admin: first.is_platform_admin,
        roles: Vec::new(),
        csrf_token: first.csrf_token,
    };
    for (org, role) in
        std::iter::once((first.org_id, first.role)).chain(rows.map(|r| (r.org_id, r.role)))
    {
        if let (Some(org), Some(role)) = (org, role) {
            let role = crate::parse_stored(&role, Role::parse)?;
            principal.roles.push((org, role));
        }
    }
    Ok(Some(principal))
}

impl Store {
    /// Records a login session.
    #[tracing::instrument(skip_all)]
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: &str,
        csrf_token: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        write!(self, |pool| {
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token_hash)
            .bind(user_id)
            .bind(csrf_token)
            .bind(now)
            .bind(expires_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Ends a session (logout). Unknown hashes are ignored.
    #[tracing::instrument(skip_all)]
    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        write!(self, |pool| {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Deletes the sessions that expired at or before `now`; returns how many. Expired sessions
    /// are already refused at lookup, so this only keeps the table (and its index) small.
    #[tracing::instrument(skip_all)]
    pub async fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = write!(self, |pool| {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done)
    }

    /// The principal behind a live session, in one query.
    #[tracing::instrument(skip_all)]
    pub async fn principal_by_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Principal>, StoreError> {
        let rows: Vec<PrincipalRow> = read!(self, |pool| {
            sqlx::query_as(
                "SELECT u.id AS user_id, u.is_platform_admin, s.csrf_token, m.org_id, m.role \
                 FROM sessions s JOIN users u ON u.id = s.user_id \
                 LEFT JOIN memberships m ON m.user_id = u.id \
                 WHERE s.token_hash = $1 AND s.expires_at > $2",
            )
            .bind(token_hash)
            .bind(now)
            .fetch_all(pool)
            .await?
        });
        principal_from_rows(rows)
    }

    /// The principal behind a live (unrevoked, unexpired) API token, in one query.
    #[tracing::instrument(skip_all)]
    pub async fn principal_by_api_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Principal>, StoreError> {
        let rows: Vec<PrincipalRow> = read!(self, |pool| {
            sqlx::query_as(
                "SELECT u.id AS user_id, u.is_platform_admin, CAST(NULL AS TEXT) AS csrf_token, m.org_id, m.role \
                 FROM api_tokens t JOIN users u ON u.id = t.user_id \
                 LEFT JOIN memberships m ON m.user_id = u.id \
                 WHERE t.token_hash = $1 AND t.revoked_at IS NULL \
                 AND (t.expires_at IS NULL OR t.expires_at > $2)",
            )
            .bind(token_hash)
            .bind(now)
            .fetch_all(pool)
            .await?
        });
        principal_from_rows(rows)
    }

    /// Records a new API token for `user_id`.
    #[tracing::instrument(skip_all)]
    pub async fn create_api_token(
        &self,
        user_id: &str,
        name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<ApiToken, StoreError> {
        let id = crate::new_id();
        Ok(write!(self, |pool| {
            sqlx::query_as(
                "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, name, created_at, expires_at, revoked_at",
            )
            .bind(&id)
            .bind(user_id)
            .bind(name)
            .bind(token_hash)
            .bind(now)
            .bind(expires_at)
            .fetch_one(pool)
            .await?
        }))
    }

    /// A user's API tokens, newest first.
    #[tracing::instrument(skip_all)]
    pub async fn api_tokens(&self, user_id: &str) -> Result<Vec<ApiToken>, StoreError> {
        Ok(read!(self, |pool| {
            sqlx::query_as(
                "SELECT id, name, created_at, expires_at, revoked_at FROM api_tokens \
                 WHERE user_id = $1 ORDER BY created_at DESC, id",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Revokes one of `user_id`'s tokens; [`StoreError::NotFound`] if it is not theirs or
    /// already revoked.
    #[tracing::instrument(skip_all)]
    pub async fn revoke_api_token(
        &self,
        user_id: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let done = write!(self, |pool| {
            sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
                .bind(now)
                .bind(id)
                .bind(user_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if done == 1 {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }
}
