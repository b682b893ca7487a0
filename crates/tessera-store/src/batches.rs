//! Bulk issuance: batches of rows (learner, competency, level, dates), each issued at most once.
//!
//! # Exactly once
//! A row's caller-chosen key is claimed by `issue_batch_rows.row_key`, unique per organisation:
//! rerunning a batch (or any batch reusing a key) adds nothing to issue. The credential a row
//! makes carries the idempotency key `batch:<org>:<row key>` (unique in `credentials`), and the
//! worker stores it **and** marks the row issued in one transaction
//! ([`Store::finish_batch_rows`]). So a worker killed anywhere (before signing, between signing
//! and storing, after storing) leaves either nothing or a stored credential with its row marked;
//! a worker that takes the row over later signs again, and the insert keeps the first
//! credential if one was stored (`ON CONFLICT DO NOTHING`). At worst a status index reserved
//! for the lost signature stays unused, which the status list design allows.
//!
//! # Claims
//! Workers claim rows with [`Store::claim_batch_rows`]: `state = 'claimed'` and `claimed_at`.
//! On PostgreSQL the candidate rows are selected `FOR UPDATE SKIP LOCKED`, so several
//! `tessera serve` processes claim disjoint rows without waiting on each other; on SQLite the
//! one writer connection serialises claims, which gives the same guarantee. A claim older than
//! the caller's timeout is taken over (its process died or stalled); correctness never depends
//! on that timeout, only how soon a dead worker's rows are picked up.
//!
//! # Refused rows
//! A row refused when the batch is created (malformed, unknown learner or competency, key
//! repeated in the batch, key still being issued by an earlier batch) is stored as `failed`
//! with its reason, so nothing the caller sent is lost. It gives up its claim on the key: its
//! `row_key` becomes `!<batch>:<row>`, the caller's key stays in `source_key`. A row whose key
//! an earlier batch already issued is stored as `issued` with that credential (and the same
//! synthetic `row_key`): rerunning a batch reports every row issued and issues nothing.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::credentials::{NewCredential, insert_credentials_tx};
use crate::{Store, StoreError, new_id, read, write};

/// A claimed row's end, as written: (batch, row, state, credential, error, the key a failed row
/// takes instead of the caller's).
type RowUpdate<'a> = (
    &'a str,
    i64,
    &'a str,
    Option<String>,
    Option<&'a str>,
    String,
);

/// One row of a new batch, already checked by the caller.
#[derive(Debug, Clone)]
pub struct NewBatchRow {
    /// Its number in the batch (1-based, as the caller counts rows).
    pub row_no: i64,
    /// The caller's key (may be empty for a refused row).
    pub row_key: String,
    /// The learner's user id (or what the caller wrote, for a refused row).
    pub learner_id: String,
    /// The competency id (or what the caller wrote, for a refused row).
    pub competency_id: String,
    /// The achieved level, if given.
    pub level: Option<String>,
    /// First activity (`xsd:dateTime`), if given.
    pub activity_start: Option<String>,
    /// Mastery date (`xsd:dateTime`), if given.
    pub activity_end: Option<String>,
    /// Why the row is refused, if it is.
    pub refused: Option<String>,
}

/// A batch with its row counts.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchSummary {
    /// Id.
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// Who made it (None from the CLI).
    pub created_by: Option<String>,
    /// Where it came from: `api`, `csv` or `cli`.
    pub source: Option<String>,
    /// Rows.
    pub total: i64,
    /// Rows waiting for a worker.
    pub pending: i64,
    /// Rows a worker is issuing.
    pub claimed: i64,
    /// Rows issued (now or by an earlier batch with the same key).
    pub issued: i64,
    /// Rows refused or failed, each with its reason.
    pub failed: i64,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl BatchSummary {
    /// Whether every row is issued or failed.
    pub fn done(&self) -> bool {
        self.pending == 0 && self.claimed == 0
    }
}

/// One row as the progress view shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchRow {
    /// Its number in the batch.
    pub row_no: i64,
    /// The caller's key.
    pub row_key: String,
    /// The learner (user id; what was written, for a refused row).
    pub learner_id: String,
    /// The competency (id; what was written, for a refused row).
    pub competency_id: String,
    /// The level.
    pub level: Option<String>,
    /// `pending`, `claimed`, `issued` or `failed`.
    pub state: String,
    /// The credential, once issued.
    pub credential_id: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
}

/// A row claimed by a worker.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedRow {
    /// Its batch.
    pub batch_id: String,
    /// Its number.
    pub row_no: i64,
    /// The organisation.
    pub org_id: String,
    /// The caller's key (the credential's idempotency key is made from it).
    pub row_key: String,
    /// The learner's user id.
    pub learner_id: String,
    /// The competency id.
    pub competency_id: String,
    /// The level.
    pub level: Option<String>,
    /// First activity.
    pub activity_start: Option<String>,
    /// Mastery date.
    pub activity_end: Option<String>,
}

impl ClaimedRow {
    /// The idempotency key of the row's credential.
    pub fn credential_key(&self) -> String {
        batch_credential_key(&self.org_id, &self.row_key)
    }
}

/// The idempotency key of the credential for `row_key` in the organisation.
pub fn batch_credential_key(org_id: &str, row_key: &str) -> String {
    format!("batch:{org_id}:{row_key}")
}

/// How a claimed row ended.
#[derive(Debug)]
pub enum RowOutcome<'a> {
    /// Signed: store it (or find the one stored first) and mark the row issued.
    Signed(NewCredential<'a>),
    /// Permanently impossible (the learner left, the competency is gone …).
    Failed(String),
}

/// Rows inserted per statement (well under both databases' bind limits).
const INSERT_CHUNK: usize = 500;

const SUMMARY_SELECT: &str = "SELECT b.id, b.org_id, b.created_by, b.source, b.total, \
     COALESCE(SUM(CASE WHEN r.state = 'pending' THEN 1 ELSE 0 END), 0) AS pending, \
     COALESCE(SUM(CASE WHEN r.state = 'claimed' THEN 1 ELSE 0 END), 0) AS claimed, \
     COALESCE(SUM(CASE WHEN r.state = 'issued' THEN 1 ELSE 0 END), 0) AS issued, \
     COALESCE(SUM(CASE WHEN r.state = 'failed' THEN 1 ELSE 0 END), 0) AS failed, \
     b.created_at \
     FROM issue_batches b LEFT JOIN issue_batch_rows r ON r.batch_id = b.id";

const SUMMARY_GROUP: &str =
    "GROUP BY b.id, b.org_id, b.created_by, b.source, b.total, b.created_at";

impl Store {
    /// Makes a batch of `rows` in one transaction (see the module doc for refused rows and keys
    /// used before). Returns its summary.
    #[tracing::instrument(skip_all, fields(rows = rows.len()))]
    pub async fn create_batch(
        &self,
        org_id: &str,
        created_by: Option<&str>,
        source: &str,
        rows: &[NewBatchRow],
        now: DateTime<Utc>,
    ) -> Result<BatchSummary, StoreError> {
        let batch_id = new_id();
        let total =
            i64::try_from(rows.len()).map_err(|_| StoreError::Config("too many rows".into()))?;
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO issue_batches (id, org_id, created_by, total, created_at, source) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&batch_id)
            .bind(org_id)
            .bind(created_by)
            .bind(total)
            .bind(now)
            .bind(source)
            .execute(&mut *tx)
            .await?;
            let synthetic = |row_no: i64| format!("!{batch_id}:{row_no}");
            let mut taken: Vec<&NewBatchRow> = Vec::new();
            for chunk in rows.chunks(INSERT_CHUNK) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO issue_batch_rows (batch_id, row_no, org_id, row_key, source_key, \
                     learner_id, competency_id, level, activity_start, activity_end, state, error) ",
                );
                qb.push_values(chunk, |mut b, r| {
                    let key = match r.refused {
                        Some(_) => synthetic(r.row_no),
                        None => r.row_key.clone(),
                    };
                    b.push_bind(batch_id.clone())
                        .push_bind(r.row_no)
                        .push_bind(org_id.to_owned())
                        .push_bind(key)
                        .push_bind(r.row_key.clone())
                        .push_bind(r.learner_id.clone())
                        .push_bind(r.competency_id.clone())
                        .push_bind(r.level.clone())
                        .push_bind(r.activity_start.clone())
                        .push_bind(r.activity_end.clone())
                        .push_bind(if r.refused.is_some() {
                            "failed"
                        } else {
                            "pending"
                        })
                        .push_bind(r.refused.clone());
                });
                qb.push(" ON CONFLICT (org_id, row_key) DO NOTHING RETURNING row_no");
                let inserted: Vec<(i64,)> = qb.build_query_as().fetch_all(&mut *tx).await?;
                if inserted.len() < chunk.len() {
                    let inserted: std::collections::HashSet<i64> =
                        inserted.into_iter().map(|(n,)| n).collect();
                    taken.extend(chunk.iter().filter(|r| !inserted.contains(&r.row_no)));
                }
            }
            // Keys an earlier batch holds: issued there means issued here; otherwise refused.
            for r in taken {
                let earlier: (String, i64, String, Option<String>) = sqlx::query_as(
                    "SELECT batch_id, row_no, state, credential_id FROM issue_batch_rows \
                     WHERE org_id = $1 AND row_key = $2",
                )
                .bind(org_id)
                .bind(&r.row_key)
                .fetch_one(&mut *tx)
                .await?;
                let (state, credential, error) = match (earlier.2.as_str(), earlier.3) {
                    ("issued", Some(credential)) => ("issued", Some(credential), None),
                    (state, _) => (
                        "failed",
                        None,
                        Some(format!(
                            "row key {:?} is already in batch {} (row {}, {state}); not issued again",
                            r.row_key, earlier.0, earlier.1
                        )),
                    ),
                };
                sqlx::query(
                    "INSERT INTO issue_batch_rows (batch_id, row_no, org_id, row_key, source_key, \
                     learner_id, competency_id, level, activity_start, activity_end, state, \
                     credential_id, error) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(&batch_id)
                .bind(r.row_no)
                .bind(org_id)
                .bind(synthetic(r.row_no))
                .bind(&r.row_key)
                .bind(&r.learner_id)
                .bind(&r.competency_id)
                .bind(&r.level)
                .bind(&r.activity_start)
                .bind(&r.activity_end)
                .bind(state)
                .bind(credential)
                .bind(error)
                .execute(&mut *tx)
                .await?;
            }
            let summary: BatchSummary = sqlx::query_as(crate::sqlf!(
                "{SUMMARY_SELECT} WHERE b.id = $1 {SUMMARY_GROUP}"
            ))
            .bind(&batch_id)
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(summary)
        })
    }

    /// A batch of the organisation with its counts.
    #[tracing::instrument(skip_all)]
    pub async fn batch(&self, org_id: &str, batch_id: &str) -> Result<BatchSummary, StoreError> {
        read!(self, |pool| {
            Ok(sqlx::query_as(crate::sqlf!(
                "{SUMMARY_SELECT} WHERE b.id = $1 AND b.org_id = $2 {SUMMARY_GROUP}"
            ))
            .bind(batch_id)
            .bind(org_id)
            .fetch_one(pool)
            .await?)
        })
    }

    /// The organisation's batches, newest first.
    #[tracing::instrument(skip_all)]
    pub async fn batches(
        &self,
        org_id: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<BatchSummary>, StoreError> {
        read!(self, |pool| {
            Ok(sqlx::query_as(crate::sqlf!(
                "{SUMMARY_SELECT} WHERE b.org_id = $1 {SUMMARY_GROUP} \
                 ORDER BY b.created_at DESC, b.id LIMIT $2 OFFSET $3"
            ))
            .bind(org_id)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?)
        })
    }

    /// A batch's rows in order, optionally only those in `state`.
    #[tracing::instrument(skip_all)]
    pub async fn batch_rows(
        &self,
        batch_id: &str,
        state: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<BatchRow>, StoreError> {
        read!(self, |pool| {
            Ok(sqlx::query_as(
                "SELECT row_no, COALESCE(source_key, row_key) AS row_key, learner_id, \
                 competency_id, level, state, credential_id, error FROM issue_batch_rows \
                 WHERE batch_id = $1 AND ($2 IS NULL OR state = $2) \
                 ORDER BY row_no LIMIT $3 OFFSET $4",
            )
            .bind(batch_id)
            .bind(state)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?)
        })
    }

    /// Claims up to `limit` rows to issue: pending ones, and claimed ones whose claim is older
    /// than `stale_before` (their worker died). Oldest batches first.
    #[tracing::instrument(skip_all)]
    pub async fn claim_batch_rows(
        &self,
        limit: i64,
        stale_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<ClaimedRow>, StoreError> {
        // The one difference between the backends: PostgreSQL skips rows another transaction
        // is claiming; SQLite has a single writer, so no other claim can be in flight.
        let lock = match self.backend() {
            crate::Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            crate::Backend::Sqlite => "",
        };
        // Two statements, each served by an index: stale claims first (state, claimed_at), then
        // pending rows in order (state, batch_id, row_no). One `OR` query would scan the table.
        let mut claimed: Vec<ClaimedRow> = Vec::new();
        for (condition, order) in [
            ("state = 'claimed' AND claimed_at < $2", "claimed_at"),
            ("state = 'pending' AND $2 = $2", "batch_id, row_no"),
        ] {
            let want = limit - i64::try_from(claimed.len()).unwrap_or(limit);
            if want <= 0 {
                break;
            }
            let rows: Vec<ClaimedRow> = write!(self, |pool| {
                sqlx::query_as(crate::sqlf!(
                    "UPDATE issue_batch_rows SET state = 'claimed', claimed_at = $1 \
                     WHERE (batch_id, row_no) IN (\
                       SELECT batch_id, row_no FROM issue_batch_rows WHERE {condition} \
                       ORDER BY {order} LIMIT $3 {lock}) \
                     RETURNING batch_id, row_no, org_id, row_key, learner_id, competency_id, \
                     level, activity_start, activity_end"
                ))
                .bind(now)
                .bind(stale_before)
                .bind(want)
                .fetch_all(pool)
                .await?
            });
            claimed.extend(rows);
        }
        Ok(claimed)
    }

    /// Gives claimed rows back (a worker stopping without finishing them).
    #[tracing::instrument(skip_all)]
    pub async fn release_batch_rows(&self, rows: &[ClaimedRow]) -> Result<(), StoreError> {
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            for r in rows {
                sqlx::query(
                    "UPDATE issue_batch_rows SET state = 'pending', claimed_at = NULL \
                     WHERE batch_id = $1 AND row_no = $2 AND state = 'claimed'",
                )
                .bind(&r.batch_id)
                .bind(r.row_no)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// The credential ids already stored for these idempotency keys.
    #[tracing::instrument(skip_all)]
    pub async fn credential_ids_by_keys(
        &self,
        keys: &[String],
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        let mut found = std::collections::HashMap::new();
        for chunk in keys.chunks(INSERT_CHUNK) {
            let rows: Vec<(String, String)> = read!(self, |pool| {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT idempotency_key, id FROM credentials WHERE idempotency_key",
                );
                crate::push_in(&mut qb, chunk.iter().cloned());
                qb.build_query_as().fetch_all(pool).await?
            });
            found.extend(rows);
        }
        Ok(found)
    }

    /// Ends claimed rows in one transaction: each signed credential is stored (or the one
    /// stored first for its key is found) and its row marked `issued` with it; rows already
    /// issued are marked with `issued`'s credential ids; failed rows get their reason.
    #[tracing::instrument(skip_all, fields(rows = outcomes.len()))]
    pub async fn finish_batch_rows(
        &self,
        outcomes: &[(&ClaimedRow, RowOutcome<'_>)],
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let signed: Vec<NewCredential<'_>> = outcomes
            .iter()
            .filter_map(|(_, o)| match o {
                RowOutcome::Signed(c) => Some(c.clone()),
                RowOutcome::Failed(_) => None,
            })
            .collect();
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let stored = insert_credentials_tx!(tx, &signed, now);
            let created = stored.iter().filter(|(_, new)| *new).count();
            let mut stored = stored.into_iter();
            let mut updates: Vec<RowUpdate<'_>> = Vec::with_capacity(outcomes.len());
            for (row, outcome) in outcomes {
                let (state, credential, error) = match outcome {
                    RowOutcome::Signed(_) => {
                        let (id, _) = stored.next().ok_or_else(|| {
                            StoreError::Corrupt("a signed row has no stored credential".into())
                        })?;
                        ("issued", Some(id), None)
                    }
                    RowOutcome::Failed(reason) => ("failed", None, Some(reason.as_str())),
                };
                updates.push((
                    row.batch_id.as_str(),
                    row.row_no,
                    state,
                    credential,
                    error,
                    format!("!{}:{}", row.batch_id, row.row_no),
                ));
            }
            // A failed row gives its key up (so the caller can send it again, fixed).
            for part in updates.chunks(INSERT_CHUNK) {
                let mut qb = sqlx::QueryBuilder::new(
                    "UPDATE issue_batch_rows SET state = v.column3, credential_id = v.column4, \
                     error = v.column5, source_key = COALESCE(source_key, row_key), \
                     row_key = CASE WHEN v.column3 = 'failed' THEN v.column6 ELSE row_key END \
                     FROM (",
                );
                qb.push_values(part, |mut b, u| {
                    b.push_bind(u.0)
                        .push_bind(u.1)
                        .push_bind(u.2)
                        .push_bind(u.3.as_deref())
                        .push_bind(u.4)
                        .push_bind(u.5.as_str());
                });
                qb.push(
                    ") AS v WHERE issue_batch_rows.batch_id = v.column1 \
                     AND issue_batch_rows.row_no = v.column2 AND issue_batch_rows.state <> 'issued'",
                );
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(created)
        })
    }

    /// Marks claimed rows issued with credentials stored earlier (by a worker whose claim was
    /// taken over after it had stored them).
    #[tracing::instrument(skip_all)]
    pub async fn mark_batch_rows_issued(
        &self,
        rows: &[(&ClaimedRow, String)],
    ) -> Result<(), StoreError> {
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            for (row, credential) in rows {
                sqlx::query(
                    "UPDATE issue_batch_rows SET state = 'issued', credential_id = $3, error = NULL \
                     WHERE batch_id = $1 AND row_no = $2",
                )
                .bind(&row.batch_id)
                .bind(row.row_no)
                .bind(credential)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Whether any row waits for a worker (cheap: the state index).
    #[tracing::instrument(skip_all)]
    pub async fn batch_work_waiting(
        &self,
        stale_before: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let row: Option<(i64,)> = read!(self, |pool| {
            sqlx::query_as(
                "SELECT row_no FROM issue_batch_rows WHERE state = 'pending' \
                 OR (state = 'claimed' AND claimed_at < $1) LIMIT 1",
            )
            .bind(stale_before)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.is_some())
    }
}
