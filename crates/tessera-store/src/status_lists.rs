//! Bitstring Status Lists: per organisation and purpose (`revocation`, `suspension`), numbered
//! 1, 2, …; a new list is opened when one fills.
//!
//! An index is **reserved** before the credential that carries it is signed (the index is part of
//! the signed bytes) and never given out again, whether or not the signing went through. Indexes
//! are drawn at random (the spec's herd privacy: issue order must not show); a slot counter
//! (`used`) is claimed first with a conditional `UPDATE … WHERE used < size`, which serialises
//! racing issuers on PostgreSQL and is trivially serial on SQLite's one writer.
//!
//! A list's bits are its entries with `value = 1`. Every change bumps `version`; the signed
//! list credential is kept in `published` for `published_version`, and whoever finds the two
//! apart republishes ([`Store::publish_status_list`] only ever moves forward).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Store, StoreError, new_id, read, write};

/// Entries per list: the spec's minimum (16 KiB of bits), which keeps a list small to serve.
pub const STATUS_LIST_SIZE: i64 = 131_072;

/// The two purposes Tessera issues entries for.
pub const STATUS_PURPOSES: [&str; 2] = ["revocation", "suspension"];

/// One reserved index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSlot {
    /// The list's id.
    pub list_id: String,
    /// The list's number within (organisation, purpose): its URL.
    pub list_seq: i64,
    /// The index in the list.
    pub index: i64,
}

/// The two entries a credential carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservedStatus {
    /// Revocation entry.
    pub revocation: StatusSlot,
    /// Suspension entry.
    pub suspension: StatusSlot,
}

/// A status list as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StatusListRow {
    /// Id.
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// `revocation` or `suspension`.
    pub purpose: String,
    /// Its number.
    pub seq: i64,
    /// Entries.
    pub size: i64,
    /// Indexes handed out.
    pub used: i64,
    /// Changes to its bits so far.
    pub version: i64,
    /// The version `published` was made for.
    pub published_version: Option<i64>,
    /// The signed BitstringStatusListCredential, exact bytes.
    pub published: Option<String>,
}

const LIST_COLUMNS: &str =
    "id, org_id, purpose, seq, size, used, version, published_version, published";

/// A uniform random index below `size` (`size` is far below 2^32, so the modulo bias is nil).
fn random_index(size: i64) -> Result<i64, StoreError> {
    let r = getrandom::u64().map_err(|e| StoreError::Corrupt(format!("no randomness: {e}")))?;
    let size = u64::try_from(size.max(1)).unwrap_or(1);
    Ok(i64::try_from(r % size).unwrap_or(0))
}

/// How many rounds of random draws before falling back to choosing among the free indexes. Each
/// round draws fresh candidates for the indexes still wanted and inserts them at once; the
/// fallback reads every taken index of the list, so it must stay rare: a wanted index is still
/// missing after 64 rounds with probability fill^64 (1e-8 at 75 % full).
const RANDOM_TRIES: usize = 64;

/// Rows per multi-row insert of status entries (2 parameters each).
const ENTRY_INSERT_ROWS: usize = 1000;

impl Store {
    /// Reserves, in one transaction, a revocation and a suspension index for each of `count`
    /// credentials, opening new lists of `list_size` entries as lists fill. A few statements per
    /// list touched, whatever `count` is: the slot counter moves by the number granted, and the
    /// random indexes go in as multi-row inserts that report which were free.
    #[tracing::instrument(skip_all, fields(count))]
    pub async fn reserve_status_slots(
        &self,
        org_id: &str,
        count: usize,
        list_size: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<ReservedStatus>, StoreError> {
        if list_size < 1 {
            return Err(StoreError::Config("list_size must be positive".into()));
        }
        // PostgreSQL: lock the list row so racing issuers take turns moving its counter; SQLite's
        // one writer already serialises them.
        let lock = match self.backend() {
            crate::Backend::Postgres => "FOR UPDATE",
            crate::Backend::Sqlite => "",
        };
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let mut per_purpose: Vec<Vec<StatusSlot>> = Vec::with_capacity(2);
            for purpose in STATUS_PURPOSES {
                let mut slots = Vec::with_capacity(count);
                while slots.len() < count {
                    let want = i64::try_from(count - slots.len()).unwrap_or(i64::MAX);
                    // The newest list with room, or the next list opened.
                    let open: Option<(String, i64, i64, i64)> = sqlx::query_as(crate::sqlf!(
                        "SELECT id, seq, size, used FROM status_lists WHERE org_id = $1 \
                         AND purpose = $2 AND used < size ORDER BY seq DESC LIMIT 1 {lock}"
                    ))
                    .bind(org_id)
                    .bind(purpose)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let (list_id, list_seq, size, granted) = match open {
                        Some((id, seq, size, used)) => {
                            let granted = want.min(size - used);
                            sqlx::query("UPDATE status_lists SET used = used + $2 WHERE id = $1")
                                .bind(&id)
                                .bind(granted)
                                .execute(&mut *tx)
                                .await?;
                            (id, seq, size, granted)
                        }
                        None => {
                            let (last,): (Option<i64>,) = sqlx::query_as(
                                "SELECT MAX(seq) FROM status_lists \
                                 WHERE org_id = $1 AND purpose = $2",
                            )
                            .bind(org_id)
                            .bind(purpose)
                            .fetch_one(&mut *tx)
                            .await?;
                            let id = new_id();
                            let seq = last.unwrap_or(0) + 1;
                            let granted = want.min(list_size);
                            sqlx::query(
                                "INSERT INTO status_lists (id, org_id, purpose, seq, size, used, \
                                 version, created_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7)",
                            )
                            .bind(&id)
                            .bind(org_id)
                            .bind(purpose)
                            .bind(seq)
                            .bind(list_size)
                            .bind(granted)
                            .bind(now)
                            .execute(&mut *tx)
                            .await
                            .map_err(StoreError::from)
                            .map_err(|e| match e {
                                StoreError::Conflict(_) => StoreError::Conflict(
                                    "a status list was opened at the same time; retry",
                                ),
                                other => other,
                            })?;
                            (id, seq, list_size, granted)
                        }
                    };
                    let granted = usize::try_from(granted).unwrap_or(0);
                    let mut indexes: Vec<i64> = Vec::with_capacity(granted);
                    let mut tried: std::collections::HashSet<i64> =
                        std::collections::HashSet::new();
                    for _ in 0..RANDOM_TRIES {
                        if indexes.len() == granted
                            || i64::try_from(tried.len()).unwrap_or(i64::MAX) >= size
                        {
                            break;
                        }
                        let mut candidates = Vec::with_capacity(granted - indexes.len());
                        let mut draws = 0;
                        while candidates.len() < granted - indexes.len() && draws < 4 * granted {
                            draws += 1;
                            let c = random_index(size)?;
                            if tried.insert(c) {
                                candidates.push(c);
                            }
                        }
                        for part in candidates.chunks(ENTRY_INSERT_ROWS) {
                            let mut qb = sqlx::QueryBuilder::new(
                                "INSERT INTO status_entries (list_id, idx) ",
                            );
                            qb.push_values(part, |mut b, idx| {
                                b.push_bind(list_id.as_str()).push_bind(*idx);
                            });
                            qb.push(" ON CONFLICT (list_id, idx) DO NOTHING RETURNING idx");
                            let free: Vec<(i64,)> = qb.build_query_as().fetch_all(&mut *tx).await?;
                            indexes.extend(free.into_iter().map(|(i,)| i));
                        }
                    }
                    if indexes.len() < granted {
                        // A nearly full list: draw among the free indexes directly.
                        let taken: Vec<(i64,)> =
                            sqlx::query_as("SELECT idx FROM status_entries WHERE list_id = $1")
                                .bind(&list_id)
                                .fetch_all(&mut *tx)
                                .await?;
                        let taken: std::collections::HashSet<i64> =
                            taken.into_iter().map(|(i,)| i).collect();
                        let mut free: Vec<i64> = (0..size).filter(|i| !taken.contains(i)).collect();
                        let mut picked = Vec::with_capacity(granted - indexes.len());
                        while picked.len() < granted - indexes.len() {
                            if free.is_empty() {
                                return Err(StoreError::Corrupt(format!(
                                    "status list {list_id} counts a free slot but has none"
                                )));
                            }
                            let pick =
                                usize::try_from(random_index(free.len() as i64)?).unwrap_or(0);
                            picked.push(free.swap_remove(pick));
                        }
                        for part in picked.chunks(ENTRY_INSERT_ROWS) {
                            let mut qb = sqlx::QueryBuilder::new(
                                "INSERT INTO status_entries (list_id, idx) ",
                            );
                            qb.push_values(part, |mut b, idx| {
                                b.push_bind(list_id.as_str()).push_bind(*idx);
                            });
                            qb.build().execute(&mut *tx).await?;
                        }
                        indexes.extend(picked);
                    }
                    slots.extend(indexes.into_iter().map(|index| StatusSlot {
                        list_id: list_id.clone(),
                        list_seq,
                        index,
                    }));
                }
                per_purpose.push(slots);
            }
            tx.commit().await?;
            let suspension = per_purpose.pop().unwrap_or_default();
            let revocation = per_purpose.pop().unwrap_or_default();
            Ok(revocation
                .into_iter()
                .zip(suspension)
                .map(|(revocation, suspension)| ReservedStatus {
                    revocation,
                    suspension,
                })
                .collect())
        })
    }

    /// A list by (organisation, purpose, number).
    #[tracing::instrument(skip_all)]
    pub async fn status_list(
        &self,
        org_id: &str,
        purpose: &str,
        seq: i64,
    ) -> Result<StatusListRow, StoreError> {
        read!(self, |pool| {
            Ok(sqlx::query_as(crate::sqlf!(
                "SELECT {LIST_COLUMNS} FROM status_lists \
                 WHERE org_id = $1 AND purpose = $2 AND seq = $3"
            ))
            .bind(org_id)
            .bind(purpose)
            .bind(seq)
            .fetch_one(pool)
            .await?)
        })
    }

    /// The organisation's lists.
    #[tracing::instrument(skip_all)]
    pub async fn status_lists(&self, org_id: &str) -> Result<Vec<StatusListRow>, StoreError> {
        read!(self, |pool| {
            Ok(sqlx::query_as(crate::sqlf!(
                "SELECT {LIST_COLUMNS} FROM status_lists WHERE org_id = $1 ORDER BY purpose, seq"
            ))
            .bind(org_id)
            .fetch_all(pool)
            .await?)
        })
    }

    /// A list's current version (the cheap check behind the in-memory cache).
    #[tracing::instrument(skip_all)]
    pub async fn status_list_version(&self, list_id: &str) -> Result<i64, StoreError> {
        let (v,): (i64,) = read!(self, |pool| {
            sqlx::query_as("SELECT version FROM status_lists WHERE id = $1")
                .bind(list_id)
                .fetch_one(pool)
                .await?
        });
        Ok(v)
    }

    /// The set indexes of a list and the version they are for, read together.
    #[tracing::instrument(skip_all)]
    pub async fn status_list_bits(&self, list_id: &str) -> Result<(i64, Vec<i64>), StoreError> {
        // One transaction so that the bits and the version agree.
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let (version,): (i64,) =
                sqlx::query_as("SELECT version FROM status_lists WHERE id = $1")
                    .bind(list_id)
                    .fetch_one(&mut *tx)
                    .await?;
            let rows: Vec<(i64,)> = sqlx::query_as(
                "SELECT idx FROM status_entries WHERE list_id = $1 AND value <> 0 ORDER BY idx",
            )
            .bind(list_id)
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok((version, rows.into_iter().map(|(i,)| i).collect()))
        })
    }

    /// Keeps the signed list credential for `version`, unless a newer one is already kept.
    /// Returns whether it was kept.
    #[tracing::instrument(skip_all)]
    pub async fn publish_status_list(
        &self,
        list_id: &str,
        version: i64,
        signed: &str,
    ) -> Result<bool, StoreError> {
        write!(self, |pool| {
            let done = sqlx::query(
                "UPDATE status_lists SET published_version = $2, published = $3 \
                 WHERE id = $1 AND (published_version IS NULL OR published_version < $2)",
            )
            .bind(list_id)
            .bind(version)
            .bind(signed)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }
}
