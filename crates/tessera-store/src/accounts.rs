//! Organisations, users, memberships, invitations and the first-run setup token.
//!
//! One-time secrets (setup and invitation links) are stored only as hashes; the server makes
//! the secret, shows it once and passes the hash here.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;
use tessera_core::account::{OrgKind, Role};

use crate::{ResultExt, Store, StoreError, new_id, read, sqlf, write};

/// An organisation.
#[derive(Debug, Clone, Serialize, FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Org {
    /// Stable identifier (UUID).
    pub id: String,
    /// URL name, unique.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// School, district, university or employer.
    #[sqlx(try_from = "String")]
    pub kind: OrgKind,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A user as other parts see it (never the password hash).
#[derive(Debug, Clone, Serialize, FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    /// Stable identifier (UUID).
    pub id: String,
    /// Login e-mail, lowercased, unique.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Whether the user runs the whole service (created by the setup link).
    pub is_platform_admin: bool,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
}

/// A user's login record: the id and the argon2id PHC string to check a password against.
#[derive(Debug, Clone, FromRow)]
pub struct Credentials {
    /// The user.
    pub id: String,
    /// The argon2id hash in PHC format.
    pub password_hash: String,
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Lowercased e-mail.
    pub email: String,
    /// Display name.
    pub name: String,
    /// argon2id PHC string.
    pub password_hash: String,
}

/// One role a user holds in one organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Membership {
    /// The organisation's id.
    pub org_id: String,
    /// The organisation's slug.
    pub org_slug: String,
    /// The role.
    #[sqlx(try_from = "String")]
    pub role: Role,
}

/// A member of an organisation with one of their roles (one row per role).
#[derive(Debug, Clone, Serialize, FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Member {
    /// The user's id.
    pub user_id: String,
    /// The user's e-mail.
    pub email: String,
    /// The user's name.
    pub name: String,
    /// The role.
    #[sqlx(try_from = "String")]
    pub role: Role,
}

/// An invitation as listed to organisation admins (never the token).
#[derive(Debug, Clone, Serialize, FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Invitation {
    /// Stable identifier.
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// Who is invited.
    pub email: String,
    /// The role they will get.
    #[sqlx(try_from = "String")]
    pub role: Role,
    /// Who sent it.
    pub created_by: String,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
    /// After this instant the link no longer works.
    pub expires_at: DateTime<Utc>,
    /// When it was used, if it was.
    pub accepted_at: Option<DateTime<Utc>>,
    /// When an admin withdrew it, if they did.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// An invitation to create.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    /// The organisation.
    pub org_id: String,
    /// Lowercased e-mail of the invitee.
    pub email: String,
    /// The role to grant.
    pub role: Role,
    /// SHA-256 (hex) of the link's secret.
    pub token_hash: String,
    /// The admin sending it.
    pub created_by: String,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}

const ORG_COLUMNS: &str = "id, slug, name, kind, created_at";
const USER_COLUMNS: &str = "id, email, name, is_platform_admin, created_at";
const INVITATION_COLUMNS: &str =
    "id, org_id, email, role, created_by, created_at, expires_at, accepted_at, revoked_at";

impl Store {
    /// How many platform admins exist (0 means the setup link is needed).
    #[tracing::instrument(skip_all)]
    pub async fn count_platform_admins(&self) -> Result<i64, StoreError> {
        let n: i64 = read!(self, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE is_platform_admin")
                .fetch_one(pool)
                .await?
        });
        Ok(n)
    }

    /// Replaces any unused setup token with a new one (only the newest link works).
    #[tracing::instrument(skip_all)]
    pub async fn replace_setup_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM setup_tokens WHERE used_at IS NULL")
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES ($1, $2, $3)",
            )
            .bind(token_hash)
            .bind(now)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Uses the setup token to create the first platform admin. Fails with
    /// [`StoreError::NotFound`] if the token is unknown, used or expired, and with
    /// [`StoreError::Conflict`] if a platform admin already exists.
    #[tracing::instrument(skip_all)]
    pub async fn complete_setup(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        user: NewUser,
    ) -> Result<User, StoreError> {
        let id = new_id();
        let created = write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let used = sqlx::query(
                "UPDATE setup_tokens SET used_at = $1 \
                 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
            )
            .bind(now)
            .bind(token_hash)
            .execute(&mut *tx)
            .await?;
            if used.rows_affected() != 1 {
                return Err(StoreError::NotFound);
            }
            let admins: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE is_platform_admin")
                    .fetch_one(&mut *tx)
                    .await?;
            if admins > 0 {
                return Err(StoreError::Conflict("the service is already set up"));
            }
            let created: User = sqlx::query_as(sqlf!(
                "INSERT INTO users (id, email, name, password_hash, is_platform_admin, created_at) \
                 VALUES ($1, $2, $3, $4, TRUE, $5) RETURNING {USER_COLUMNS}"
            ))
            .bind(&id)
            .bind(&user.email)
            .bind(&user.name)
            .bind(&user.password_hash)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .on_conflict("a user with this e-mail exists")?;
            tx.commit().await?;
            created
        });
        Ok(created)
    }

    /// Creates an organisation; a taken slug is a conflict.
    #[tracing::instrument(skip_all)]
    pub async fn create_org(
        &self,
        slug: &str,
        name: &str,
        kind: OrgKind,
        now: DateTime<Utc>,
    ) -> Result<Org, StoreError> {
        let id = new_id();
        let org = write!(self, |pool| {
            sqlx::query_as(sqlf!(
                "INSERT INTO organisations (id, slug, name, kind, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING {ORG_COLUMNS}"
            ))
            .bind(&id)
            .bind(slug)
            .bind(name)
            .bind(kind.as_str())
            .bind(now)
            .fetch_one(pool)
            .await
            .on_conflict("an organisation with this slug exists")?
        });
        Ok(org)
    }

    /// One organisation by id.
    #[tracing::instrument(skip_all)]
    pub async fn org(&self, id: &str) -> Result<Org, StoreError> {
        let org = read!(self, |pool| {
            sqlx::query_as(sqlf!(
                "SELECT {ORG_COLUMNS} FROM organisations WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        org.ok_or(StoreError::NotFound)
    }

    /// One organisation by slug.
    #[tracing::instrument(skip_all)]
    pub async fn org_by_slug(&self, slug: &str) -> Result<Org, StoreError> {
        let org = read!(self, |pool| {
            sqlx::query_as(sqlf!(
                "SELECT {ORG_COLUMNS} FROM organisations WHERE slug = $1"
            ))
            .bind(slug)
            .fetch_optional(pool)
            .await?
        });
        org.ok_or(StoreError::NotFound)
    }

    /// All organisations (platform admins) or those `user_id` belongs to, by name.
    #[tracing::instrument(skip_all)]
    pub async fn list_orgs(&self, user_id: Option<&str>) -> Result<Vec<Org>, StoreError> {
        let orgs = read!(self, |pool| match user_id {
            None => {
                sqlx::query_as(sqlf!(
                    "SELECT {ORG_COLUMNS} FROM organisations ORDER BY name, id"
                ))
                .fetch_all(pool)
                .await?
            }
            Some(user) => {
                sqlx::query_as(sqlf!(
                    "SELECT {ORG_COLUMNS} FROM organisations WHERE id IN \
                     (SELECT org_id FROM memberships WHERE user_id = $1) ORDER BY name, id"
                ))
                .bind(user)
                .fetch_all(pool)
                .await?
            }
        });
        Ok(orgs)
    }

    /// One user.
    #[tracing::instrument(skip_all)]
    pub async fn user(&self, id: &str) -> Result<User, StoreError> {
        let user = read!(self, |pool| {
            sqlx::query_as(sqlf!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        user.ok_or(StoreError::NotFound)
    }

    /// The login record for an e-mail, if there is such a user.
    #[tracing::instrument(skip_all)]
    pub async fn credentials_by_email(
        &self,
        email: &str,
    ) -> Result<Option<Credentials>, StoreError> {
        Ok(read!(self, |pool| {
            sqlx::query_as("SELECT id, password_hash FROM users WHERE email = $1")
                .bind(email)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Every role of a user, by organisation slug.
    #[tracing::instrument(skip_all)]
    pub async fn memberships(&self, user_id: &str) -> Result<Vec<Membership>, StoreError> {
        Ok(read!(self, |pool| {
            sqlx::query_as(
                "SELECT m.org_id, o.slug AS org_slug, m.role FROM memberships m \
                 JOIN organisations o ON o.id = m.org_id WHERE m.user_id = $1 ORDER BY o.slug, m.role",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// The members of an organisation, one row per role, by name.
    #[tracing::instrument(skip_all)]
    pub async fn members(&self, org_id: &str) -> Result<Vec<Member>, StoreError> {
        Ok(read!(self, |pool| {
            sqlx::query_as(
                "SELECT u.id AS user_id, u.email, u.name, m.role FROM memberships m \
                 JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 ORDER BY u.name, u.id, m.role",
            )
            .bind(org_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Whether `user_id` holds any role in `org_id`.
    #[tracing::instrument(skip_all)]
    pub async fn is_member(&self, org_id: &str, user_id: &str) -> Result<bool, StoreError> {
        let n: i64 = read!(self, |pool| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND user_id = $2",
            )
            .bind(org_id)
            .bind(user_id)
            .fetch_one(pool)
            .await?
        });
        Ok(n > 0)
    }

    /// Grants a role (idempotent).
    #[tracing::instrument(skip_all)]
    pub async fn add_membership(
        &self,
        org_id: &str,
        user_id: &str,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        write!(self, |pool| {
            sqlx::query(
                "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (org_id, user_id, role) DO NOTHING",
            )
            .bind(org_id)
            .bind(user_id)
            .bind(role.as_str())
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Removes one role; [`StoreError::NotFound`] if the user did not hold it.
    #[tracing::instrument(skip_all)]
    pub async fn remove_membership(
        &self,
        org_id: &str,
        user_id: &str,
        role: Role,
    ) -> Result<(), StoreError> {
        let done = write!(self, |pool| {
            sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2 AND role = $3")
                .bind(org_id)
                .bind(user_id)
                .bind(role.as_str())
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

    /// Records an invitation.
    #[tracing::instrument(skip_all)]
    pub async fn create_invitation(
        &self,
        invitation: &NewInvitation,
        now: DateTime<Utc>,
    ) -> Result<Invitation, StoreError> {
        let id = new_id();
        Ok(write!(self, |pool| {
            sqlx::query_as(sqlf!(
                "INSERT INTO invitations (id, org_id, email, role, token_hash, created_by, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {INVITATION_COLUMNS}"
            ))
            .bind(&id)
            .bind(&invitation.org_id)
            .bind(&invitation.email)
            .bind(invitation.role.as_str())
            .bind(&invitation.token_hash)
            .bind(&invitation.created_by)
            .bind(now)
            .bind(invitation.expires_at)
            .fetch_one(pool)
            .await?
        }))
    }

    /// An organisation's invitations, newest first.
    #[tracing::instrument(skip_all)]
    pub async fn invitations(&self, org_id: &str) -> Result<Vec<Invitation>, StoreError> {
        Ok(read!(self, |pool| {
            sqlx::query_as(sqlf!(
                "SELECT {INVITATION_COLUMNS} FROM invitations WHERE org_id = $1 ORDER BY created_at DESC, id"
            ))
            .bind(org_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Withdraws an unused invitation of `org_id`.
    #[tracing::instrument(skip_all)]
    pub async fn revoke_invitation(
        &self,
        org_id: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let done = write!(self, |pool| {
            sqlx::query(
                "UPDATE invitations SET revoked_at = $1 \
                 WHERE id = $2 AND org_id = $3 AND accepted_at IS NULL AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(id)
            .bind(org_id)
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

    /// The usable invitation with this token hash (not used, revoked or expired).
    #[tracing::instrument(skip_all)]
    pub async fn open_invitation(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Invitation, StoreError> {
        let inv = read!(self, |pool| {
            sqlx::query_as(sqlf!(
                "SELECT {INVITATION_COLUMNS} FROM invitations WHERE token_hash = $1 \
                 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2"
            ))
            .bind(token_hash)
            .bind(now)
            .fetch_optional(pool)
            .await?
        });
        inv.ok_or(StoreError::NotFound)
    }

    /// Uses an invitation: marks it accepted (exactly once, even under concurrent use), creates
    /// the user when `new_user` is given (otherwise `existing_user_id` must be set) and grants
    /// the role. All in one transaction. Returns the user's id.
    #[tracing::instrument(skip_all)]
    pub async fn accept_invitation(
        &self,
        invitation_id: &str,
        existing_user_id: Option<&str>,
        new_user: Option<&NewUser>,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let fresh_id = new_id();
        let user_id = write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let inv: Option<(String, String)> = sqlx::query_as(
                "UPDATE invitations SET accepted_at = $1 WHERE id = $2 \
                 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $1 \
                 RETURNING org_id, role",
            )
            .bind(now)
            .bind(invitation_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((org_id, role)) = inv else {
                return Err(StoreError::NotFound);
            };
            let user_id = match (existing_user_id, new_user) {
                (Some(id), _) => id.to_owned(),
                (None, Some(user)) => {
                    sqlx::query(
                        "INSERT INTO users (id, email, name, password_hash, is_platform_admin, created_at) \
                         VALUES ($1, $2, $3, $4, FALSE, $5)",
                    )
                    .bind(&fresh_id)
                    .bind(&user.email)
                    .bind(&user.name)
                    .bind(&user.password_hash)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .on_conflict("a user with this e-mail exists")?;
                    fresh_id.clone()
                }
                (None, None) => return Err(StoreError::InvalidReference("no user to add")),
            };
            sqlx::query(
                "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (org_id, user_id, role) DO NOTHING",
            )
            .bind(&org_id)
            .bind(&user_id)
            .bind(&role)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            user_id
        });
        Ok(user_id)
    }
}
