//! The hash-chained audit log (`tessera_review::AuditEntry` rows) and its verification.
//!
//! Every review, moderation, override and mastery change appends one entry **in the same
//! transaction** as the change it records, through the crate macro `append_audit!`. An append
//! first touches the single `audit_head` row (`UPDATE … SET seq = seq … RETURNING`): on
//! PostgreSQL that takes the row lock, so concurrent appends queue behind each other and each
//! one links to the hash its predecessor committed; on SQLite all writes already go through the
//! one writer connection. The new entry's hash then becomes the head, in the same transaction.
//! `append_audits!` appends many entries with one head read and multi-row inserts (bulk
//! issuance writes a chunk's entries at once); `append_audit!` is that macro with one entry.
//!
//! The payload (which may name people) is kept in `audit_payloads`, beside the chain: only its
//! SHA-256 is hashed, so erasing a learner's payloads later leaves the chain verifiable. Each
//! stored payload carries a random salt of its own (`{"salt":…,"record":…}`): once the payload is
//! erased, its digest confirms no guess of what it said.
//! [`Store::verify_audit`] reloads the rows by `seq` and checks them with
//! `tessera_review::verify_chain_to_head` against the head row.

use chrono::{DateTime, Utc};
use tessera_review::{
    AuditEntry, AuditKind, ChainFault, ChainHead, Error as ReviewError, Hash32, SubjectId,
};

use crate::{Store, StoreError, read};

/// The result of checking the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditVerdict {
    /// Every entry verifies, and the log reaches the stored head.
    Intact {
        /// How many entries the log has.
        entries: u64,
    },
    /// The first entry at which the chain stops verifying.
    Broken {
        /// Its seq.
        seq: u64,
        /// What is wrong there.
        fault: ChainFault,
    },
    /// The chain is intact but a payload kept beside it no longer matches its recorded digest.
    PayloadAltered {
        /// The entry whose payload was changed.
        seq: u64,
    },
}

/// The entry that follows the head `(seq, hash)` read from `audit_head`.
pub(crate) fn next_entry(
    head_seq: i64,
    head_hash: &str,
    kind: AuditKind,
    subjects: &[&str],
    payload: &[u8],
    now: DateTime<Utc>,
) -> Result<AuditEntry, StoreError> {
    let subjects = subjects
        .iter()
        .map(|s| SubjectId::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    if head_seq == 0 {
        return Ok(AuditEntry::first(kind, subjects, payload, now));
    }
    let seq = u64::try_from(head_seq)
        .map_err(|_| StoreError::Corrupt(format!("audit head seq {head_seq}")))?;
    let hash = Hash32::from_hex(head_hash)?;
    // `next` only uses the previous entry's seq and hash.
    let head = AuditEntry::from_stored(
        seq,
        Hash32::GENESIS,
        kind,
        Vec::new(),
        Hash32::GENESIS,
        now,
        hash,
    );
    Ok(head.next(kind, subjects, payload, now))
}

/// An entry waiting to be appended: what [`append_audits!`] chains and stores.
pub(crate) struct PendingAudit {
    pub kind: AuditKind,
    /// `subject(kind, id)` strings (opaque ids only).
    pub subjects: Vec<String>,
    /// The salted JSON kept beside the chain, exactly the bytes its digest covers.
    pub payload: String,
}

impl PendingAudit {
    /// An entry recording `record` (JSON), salted.
    pub fn new(kind: AuditKind, subjects: Vec<String>, record: &str) -> Result<Self, StoreError> {
        Ok(Self {
            kind,
            subjects,
            payload: salted(record)?,
        })
    }
}

/// `record` wrapped with 128 random bits. Without them the digest of a short, structured payload
/// (a learner id, a level, a date) could be confirmed by hashing guesses after the payload itself
/// was erased.
fn salted(record: &str) -> Result<String, StoreError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| StoreError::Corrupt(format!("no randomness: {e}")))?;
    Ok(format!(
        "{{\"salt\":\"{}\",\"record\":{record}}}",
        hex::encode(salt)
    ))
}

/// The entries that follow the head `(seq, hash)`, in order, each linked to the one before.
pub(crate) fn chain_entries(
    head_seq: i64,
    head_hash: &str,
    pending: &[PendingAudit],
    now: DateTime<Utc>,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut entries: Vec<AuditEntry> = Vec::with_capacity(pending.len());
    for p in pending {
        let subjects: Vec<&str> = p.subjects.iter().map(String::as_str).collect();
        let entry = match entries.last() {
            None => next_entry(
                head_seq,
                head_hash,
                p.kind,
                &subjects,
                p.payload.as_bytes(),
                now,
            )?,
            Some(prev) => {
                let subjects = subjects
                    .iter()
                    .map(|s| SubjectId::parse(s))
                    .collect::<Result<Vec<_>, _>>()?;
                prev.next(p.kind, subjects, p.payload.as_bytes(), now)
            }
        };
        entries.push(entry);
    }
    Ok(entries)
}

/// Rows per multi-row `INSERT` (7 parameters each: well under both backends' limits).
pub(crate) const AUDIT_INSERT_ROWS: usize = 500;

/// The stored columns of an entry: `(seq, prev_hash, kind, subjects JSON, payload digest, at,
/// hash)`.
pub(crate) type AuditColumns = (
    i64,
    String,
    &'static str,
    String,
    String,
    DateTime<Utc>,
    String,
);

pub(crate) fn audit_columns(entry: &AuditEntry) -> Result<AuditColumns, StoreError> {
    Ok((
        i64::try_from(entry.seq).map_err(|_| StoreError::Corrupt("audit seq overflow".into()))?,
        entry.prev_hash.to_hex(),
        entry.kind.as_str(),
        serde_json::to_string(&entry.subjects).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        entry.payload_digest.to_hex(),
        entry.at,
        entry.hash.to_hex(),
    ))
}

/// Appends the [`PendingAudit`] entries of a slice, in order, inside an open transaction `$tx`
/// (a `sqlx::Transaction` of either backend) and moves the head: one head read, multi-row
/// inserts, one head write, whatever the count. Evaluates to the new `AuditEntry`s; `?` returns
/// on failure so the caller's transaction rolls back with the change it was recording.
///
/// The head is read with `UPDATE … SET seq = seq … RETURNING`: on PostgreSQL that takes the row
/// lock, so concurrent appends queue behind each other and each links to the hash its
/// predecessor committed.
macro_rules! append_audits {
    ($tx:expr, $pending:expr, $now:expr) => {{
        let pending: &[$crate::audit::PendingAudit] = $pending;
        let (head_seq, head_hash): (i64, String) =
            sqlx::query_as("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
                .fetch_one(&mut *$tx)
                .await?;
        let entries = $crate::audit::chain_entries(head_seq, &head_hash, pending, $now)?;
        let columns = entries
            .iter()
            .map($crate::audit::audit_columns)
            .collect::<Result<Vec<_>, $crate::StoreError>>()?;
        for (part, payloads) in columns
            .chunks($crate::audit::AUDIT_INSERT_ROWS)
            .zip(pending.chunks($crate::audit::AUDIT_INSERT_ROWS))
        {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO audit_log (seq, prev_hash, kind, subjects, payload_digest, at, hash) ",
            );
            qb.push_values(part, |mut b, c| {
                b.push_bind(c.0)
                    .push_bind(&c.1)
                    .push_bind(c.2)
                    .push_bind(&c.3)
                    .push_bind(&c.4)
                    .push_bind(c.5)
                    .push_bind(&c.6);
            });
            qb.build().execute(&mut *$tx).await?;
            let mut qb = sqlx::QueryBuilder::new("INSERT INTO audit_payloads (seq, payload) ");
            qb.push_values(part.iter().zip(payloads), |mut b, (c, p)| {
                b.push_bind(c.0).push_bind(&p.payload);
            });
            qb.build().execute(&mut *$tx).await?;
        }
        if let Some(last) = columns.last() {
            sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
                .bind(last.0)
                .bind(&last.6)
                .execute(&mut *$tx)
                .await?;
        }
        entries
    }};
}
pub(crate) use append_audits;

/// Appends one audit entry inside an open transaction `$tx` ([`append_audits!`] with one entry).
/// Evaluates to the new `AuditEntry`.
macro_rules! append_audit {
    ($tx:expr, $kind:expr, $subjects:expr, $payload:expr, $now:expr) => {{
        let pending = [$crate::audit::PendingAudit::new(
            $kind,
            $subjects.iter().map(|s| s.to_string()).collect(),
            &$payload,
        )?];
        let mut entries = $crate::audit::append_audits!($tx, &pending, $now);
        entries
            .pop()
            .ok_or_else(|| $crate::StoreError::Corrupt("no audit entry appended".into()))?
    }};
}
pub(crate) use append_audit;

#[derive(sqlx::FromRow)]
struct AuditRow {
    seq: i64,
    prev_hash: String,
    kind: String,
    subjects: String,
    payload_digest: String,
    at: DateTime<Utc>,
    hash: String,
}

impl AuditRow {
    /// Rebuilds the entry; a field that does not even parse was edited by hand.
    fn entry(self) -> Result<AuditEntry, u64> {
        let seq = u64::try_from(self.seq).unwrap_or(0);
        let parse = || -> Result<AuditEntry, ReviewError> {
            let subjects: Vec<SubjectId> = serde_json::from_str(&self.subjects).map_err(|_| {
                ReviewError::InvalidStoredValue {
                    what: "audit subjects",
                    value: self.subjects.clone(),
                }
            })?;
            Ok(AuditEntry::from_stored(
                seq,
                Hash32::from_hex(&self.prev_hash)?,
                self.kind.parse()?,
                subjects,
                Hash32::from_hex(&self.payload_digest)?,
                self.at,
                Hash32::from_hex(&self.hash)?,
            ))
        };
        parse().map_err(|_| seq)
    }
}

impl Store {
    /// Appends one entry on its own (for events with no other row to write, e.g. a rubric
    /// publication). Subjects must be opaque ids; `payload` is JSON kept beside the chain.
    #[tracing::instrument(skip_all)]
    pub async fn append_audit(
        &self,
        kind: AuditKind,
        subjects: &[&str],
        payload: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<AuditEntry, StoreError> {
        let payload = payload.to_string();
        crate::write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let entry = append_audit!(tx, kind, subjects, payload, now);
            tx.commit().await?;
            Ok(entry)
        })
    }

    /// Every audit entry by seq, and the stored head.
    #[tracing::instrument(skip_all)]
    pub async fn audit_entries(&self) -> Result<(Vec<AuditEntry>, ChainHead), StoreError> {
        let (rows, head) = self.audit_rows().await?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            entries.push(
                row.entry()
                    .map_err(|seq| StoreError::Corrupt(format!("audit entry {seq}")))?,
            );
        }
        Ok((entries, head))
    }

    async fn audit_rows(&self) -> Result<(Vec<AuditRow>, ChainHead), StoreError> {
        read!(self, |pool| {
            let rows: Vec<AuditRow> = sqlx::query_as(
                "SELECT seq, prev_hash, kind, subjects, payload_digest, at, hash \
                 FROM audit_log ORDER BY seq",
            )
            .fetch_all(pool)
            .await?;
            let (seq, hash): (i64, String) =
                sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                    .fetch_one(pool)
                    .await?;
            let head = ChainHead {
                seq: u64::try_from(seq)
                    .map_err(|_| StoreError::Corrupt(format!("audit head seq {seq}")))?,
                hash: Hash32::from_hex(&hash)?,
            };
            Ok((rows, head))
        })
    }

    /// Checks the whole log: every entry's hash and link, the head, and the payloads kept
    /// beside the chain. A row edited so badly it no longer parses counts as edited.
    #[tracing::instrument(skip_all)]
    pub async fn verify_audit(&self) -> Result<AuditVerdict, StoreError> {
        let (rows, head) = self.audit_rows().await?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            match row.entry() {
                Ok(e) => entries.push(e),
                Err(seq) => {
                    // Report an earlier break first, if the entries before it already break.
                    if let Err(ReviewError::ChainBroken { seq, fault }) =
                        tessera_review::verify_chain(&entries)
                    {
                        return Ok(AuditVerdict::Broken { seq, fault });
                    }
                    return Ok(AuditVerdict::Broken {
                        seq,
                        fault: ChainFault::Edited,
                    });
                }
            }
        }
        let verified = if head.seq == 0 && entries.is_empty() {
            Ok(None)
        } else {
            tessera_review::verify_chain_to_head(&entries, &head).map(Some)
        };
        match verified {
            Ok(_) => {}
            Err(ReviewError::ChainBroken { seq, fault }) => {
                return Ok(AuditVerdict::Broken { seq, fault });
            }
            Err(other) => return Err(other.into()),
        }
        let payloads: Vec<(i64, String)> = read!(self, |pool| {
            sqlx::query_as("SELECT seq, payload FROM audit_payloads ORDER BY seq")
                .fetch_all(pool)
                .await?
        });
        for (seq, payload) in payloads {
            let found = u64::try_from(seq)
                .ok()
                .and_then(|s| entries.get(usize::try_from(s).ok()?.checked_sub(1)?));
            match found {
                Some(e) if e.payload_matches(payload.as_bytes()) => {}
                _ => {
                    return Ok(AuditVerdict::PayloadAltered {
                        seq: u64::try_from(seq).unwrap_or(0),
                    });
                }
            }
        }
        Ok(AuditVerdict::Intact {
            entries: entries.len() as u64,
        })
    }
}
