//! Share links: a learner hands out a link to one thing they own (a credential, a transcript);
//! whoever holds the link sees that thing and nothing else of the learner, without an account.
//!
//! The raw token is made here, returned once by [`Store::create_share_link`] and never stored:
//! the table keeps its SHA-256, so reading the database opens no link. Looking a link up
//! ([`Store::find_share_link`]) hashes the presented token, checks the kind (a credential token
//! never opens a transcript), revocation and expiry, and says which of those failed so pages can
//! answer 404 (no such link) or 410 (revoked, expired).
//!
//! Opens are recorded with their time only ([`Store::record_share_link_open`]): no IP address or
//! user agent is kept, because the learner needs to know *when* a link was used, not by whom.
//!
//! Every owner-facing call takes the owner's id and matches on it, so a learner can neither list
//! nor revoke another learner's links (they are simply not found).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{Store, StoreError, new_id, read, write};

/// What a share link opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ShareKind {
    /// One issued credential (`target_id` is the credential id).
    Credential,
    /// A mastery transcript (`target_id` is what the transcript code names it by).
    Transcript,
}

impl ShareKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Credential => "credential",
            Self::Transcript => "transcript",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "credential" => Ok(Self::Credential),
            "transcript" => Ok(Self::Transcript),
            other => Err(StoreError::Corrupt(format!("share link kind {other:?}"))),
        }
    }
}

/// A share link as its owner sees it (never the token or its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShareLink {
    /// Stable id (used to revoke it).
    pub id: String,
    /// The organisation the target belongs to.
    pub org_id: String,
    /// The learner who made it.
    pub owner_id: String,
    /// What it opens.
    pub kind: ShareKind,
    /// The credential (or transcript) it opens.
    pub target_id: String,
    /// The owner's note ("for Acme job application").
    pub label: Option<String>,
    /// When it stops working on its own, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When the owner revoked it, if they did.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// How many times it was opened.
    pub open_count: i64,
    /// When it was last opened.
    pub last_opened_at: Option<DateTime<Utc>>,
}

impl ShareLink {
    /// Whether it opens at `now` (not revoked, not expired).
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

#[derive(sqlx::FromRow)]
struct ShareLinkRow {
    id: String,
    org_id: String,
    owner_id: String,
    kind: String,
    target_id: String,
    label: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    open_count: i64,
    last_opened_at: Option<DateTime<Utc>>,
}

impl TryFrom<ShareLinkRow> for ShareLink {
    type Error = StoreError;
    fn try_from(r: ShareLinkRow) -> Result<Self, StoreError> {
        Ok(ShareLink {
            kind: ShareKind::parse(&r.kind)?,
            id: r.id,
            org_id: r.org_id,
            owner_id: r.owner_id,
            target_id: r.target_id,
            label: r.label,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            created_at: r.created_at,
            open_count: r.open_count,
            last_opened_at: r.last_opened_at,
        })
    }
}

/// A link to make.
#[derive(Debug, Clone)]
pub struct NewShareLink<'a> {
    /// The organisation the target belongs to.
    pub org_id: &'a str,
    /// The learner making it (the caller checks they own the target).
    pub owner_id: &'a str,
    /// What it opens.
    pub kind: ShareKind,
    /// The credential (or transcript) id.
    pub target_id: &'a str,
    /// An optional note for the owner.
    pub label: Option<&'a str>,
    /// Optional end of validity (must be after `now`).
    pub expires_at: Option<DateTime<Utc>>,
}

/// What a presented token turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShareLinkLookup {
    /// It opens: show the target.
    Open(ShareLink),
    /// It existed but its owner revoked it (410).
    Revoked,
    /// It existed but expired (410).
    Expired,
    /// No link of this kind has this token (404). A token of the other kind lands here too.
    NotFound,
}

/// Length of a raw token: 32 random bytes in lower-case hex.
pub const SHARE_TOKEN_LEN: usize = 64;

/// Lower-case hex SHA-256 of a token: what is stored and looked up.
fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// 256 bits from the OS: unguessable, so the link itself is the capability.
fn new_token() -> Result<String, StoreError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Corrupt(format!("no randomness: {e}")))?;
    Ok(hex::encode(bytes))
}

/// Longest label kept (a note, not a document).
pub const SHARE_LABEL_MAX: usize = 200;

/// The columns of [`ShareLinkRow`], with the open count and last open for `l`.
const LINK_COLUMNS: &str = "l.id, l.org_id, l.owner_id, l.kind, l.target_id, l.label, \
     l.expires_at, l.revoked_at, l.created_at, \
     (SELECT COUNT(*) FROM share_link_opens o WHERE o.link_id = l.id) AS open_count, \
     (SELECT o.opened_at FROM share_link_opens o WHERE o.link_id = l.id \
      ORDER BY o.opened_at DESC LIMIT 1) AS last_opened_at";

impl Store {
    /// Makes a share link and returns it with its raw token: the only time the token exists
    /// outside the holder's hands. An expiry not after `now` or an over-long label is refused
    /// ([`StoreError::InvalidReference`]); nothing is stored then.
    #[tracing::instrument(skip_all, fields(kind = new.kind.as_str()))]
    pub async fn create_share_link(
        &self,
        new: &NewShareLink<'_>,
        now: DateTime<Utc>,
    ) -> Result<(ShareLink, String), StoreError> {
        if new.expires_at.is_some_and(|e| e <= now) {
            return Err(StoreError::InvalidReference(
                "expires_at must be in the future",
            ));
        }
        let label = new.label.map(str::trim).filter(|l| !l.is_empty());
        if label.is_some_and(|l| l.chars().count() > SHARE_LABEL_MAX) {
            return Err(StoreError::InvalidReference(
                "the label is longer than 200 characters",
            ));
        }
        let token = new_token()?;
        let id = new_id();
        write!(self, |pool| {
            sqlx::query(
                "INSERT INTO share_links (id, org_id, owner_id, kind, target_id, token_hash, \
                 label, expires_at, revoked_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9)",
            )
            .bind(&id)
            .bind(new.org_id)
            .bind(new.owner_id)
            .bind(new.kind.as_str())
            .bind(new.target_id)
            .bind(token_hash(&token))
            .bind(label)
            .bind(new.expires_at)
            .bind(now)
            .execute(pool)
            .await?;
        });
        let link = ShareLink {
            id,
            org_id: new.org_id.to_owned(),
            owner_id: new.owner_id.to_owned(),
            kind: new.kind,
            target_id: new.target_id.to_owned(),
            label: label.map(str::to_owned),
            expires_at: new.expires_at,
            revoked_at: None,
            created_at: now,
            open_count: 0,
            last_opened_at: None,
        };
        Ok((link, token))
    }

    /// What a presented token opens at `now`. Only a link of `kind` matches; a malformed token
    /// is [`ShareLinkLookup::NotFound`] without touching the database.
    #[tracing::instrument(skip_all, fields(kind = kind.as_str()))]
    pub async fn find_share_link(
        &self,
        kind: ShareKind,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<ShareLinkLookup, StoreError> {
        if token.len() != SHARE_TOKEN_LEN || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(ShareLinkLookup::NotFound);
        }
        let hash = token_hash(&token.to_ascii_lowercase());
        let row: Option<ShareLinkRow> = read!(self, |pool| {
            sqlx::query_as(crate::sqlf!(
                "SELECT {LINK_COLUMNS} FROM share_links l WHERE l.token_hash = $1 AND l.kind = $2"
            ))
            .bind(&hash)
            .bind(kind.as_str())
            .fetch_optional(pool)
            .await?
        });
        let Some(row) = row else {
            return Ok(ShareLinkLookup::NotFound);
        };
        let link = ShareLink::try_from(row)?;
        Ok(if link.revoked_at.is_some() {
            ShareLinkLookup::Revoked
        } else if !link.is_open(now) {
            ShareLinkLookup::Expired
        } else {
            ShareLinkLookup::Open(link)
        })
    }

    /// Notes that a link was opened at `now` (the time only).
    #[tracing::instrument(skip_all)]
    pub async fn record_share_link_open(
        &self,
        link_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        write!(self, |pool| {
            sqlx::query("INSERT INTO share_link_opens (link_id, opened_at) VALUES ($1, $2)")
                .bind(link_id)
                .bind(now)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// One of the owner's links ([`StoreError::NotFound`] for anyone else's).
    #[tracing::instrument(skip_all)]
    pub async fn share_link(&self, owner_id: &str, link_id: &str) -> Result<ShareLink, StoreError> {
        let row: ShareLinkRow = read!(self, |pool| {
            sqlx::query_as(crate::sqlf!(
                "SELECT {LINK_COLUMNS} FROM share_links l WHERE l.id = $1 AND l.owner_id = $2"
            ))
            .bind(link_id)
            .bind(owner_id)
            .fetch_one(pool)
            .await?
        });
        row.try_into()
    }

    /// Revokes one of the owner's links. Revoking twice keeps the first time;
    /// [`StoreError::NotFound`] for a link that is not the owner's.
    #[tracing::instrument(skip_all)]
    pub async fn revoke_share_link(
        &self,
        owner_id: &str,
        link_id: &str,
        now: DateTime<Utc>,
    ) -> Result<ShareLink, StoreError> {
        let affected = write!(self, |pool| {
            sqlx::query(
                "UPDATE share_links SET revoked_at = COALESCE(revoked_at, $3) \
                 WHERE id = $1 AND owner_id = $2",
            )
            .bind(link_id)
            .bind(owner_id)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if affected == 0 {
            return Err(StoreError::NotFound);
        }
        self.share_link(owner_id, link_id).await
    }

    /// The owner's links, newest first, optionally only those of one kind and target, each with
    /// its open count and last open.
    #[tracing::instrument(skip_all)]
    pub async fn share_links(
        &self,
        owner_id: &str,
        kind: Option<ShareKind>,
        target_id: Option<&str>,
    ) -> Result<Vec<ShareLink>, StoreError> {
        let rows: Vec<ShareLinkRow> = read!(self, |pool| {
            sqlx::query_as(crate::sqlf!(
                "SELECT {LINK_COLUMNS} FROM share_links l WHERE l.owner_id = $1 \
                 AND ($2 IS NULL OR l.kind = $2) AND ($3 IS NULL OR l.target_id = $3) \
                 ORDER BY l.created_at DESC, l.id"
            ))
            .bind(owner_id)
            .bind(kind.map(ShareKind::as_str))
            .bind(target_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(ShareLink::try_from).collect()
    }
}
