//! Bulk issuance and automatic issuance: the rows of a batch checked and enqueued, the workers
//! that claim and issue them, and the sweep that issues masteries in `automatic` frameworks.
//!
//! # Batches
//! [`prepare_rows`] checks what a caller sent (API JSON, CSV upload, `tessera issue bulk`): every
//! row becomes a stored row, either pending or refused with a reason in plain words (malformed,
//! unknown learner or competency, duplicate key, bad dates), so nothing sent is lost and good
//! rows are issued whatever their neighbours look like. [`process_chunk`] claims rows
//! (`tessera_store::batches`: `FOR UPDATE SKIP LOCKED` on PostgreSQL, the single writer on
//! SQLite), builds each credential from its row (level as the `Result`, the dates as
//! `activityStartDate`/`activityEndDate`), reserves status entries for the whole chunk in one
//! transaction, signs off the async threads, and stores the chunk and marks its rows in one
//! transaction. See `tessera_store::batches` for why a kill at any point issues nothing twice.
//!
//! # Background tasks of `tessera serve` ([`spawn`]), set in [`crate::Config`]
//! - `TESSERA_BULK_WORKERS` worker loops (default: one per core, at most 4; `0` turns bulk
//!   work off in this process). Two loops on two cores overlap one chunk's signing with another
//!   chunk's storing. Every process behind one database runs its own loops: they share the
//!   rows without a coordinator.
//! - A claim older than `TESSERA_BULK_CLAIM_TIMEOUT_SECS` (default 60) is taken over: its
//!   process died. A chunk takes well under a second, so a live claim is never that old.
//! - The automatic sweep every `TESSERA_AUTO_ISSUE_SECS` (default 30, `0`: off) issues the
//!   credential of each mastery waiting in an `automatic` framework ([`sweep_automatic`]).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde_json::{Value, json};
use tessera_core::account::Role;
use tessera_issue::achievement::{self, CompetencyItem, CredentialInput, IssuerProfile};
use tessera_issue::status;
use tessera_issue::tessera_vc::keys::KeyPair;
use tessera_review::{MasteryRecord, MasteryState};
use tessera_store::accounts::Org;
use tessera_store::batches::{ClaimedRow, NewBatchRow, RowOutcome};
use tessera_store::credentials::NewCredential;
use tessera_store::status_lists::STATUS_LIST_SIZE;
use tessera_store::{Store, StoreError};

use crate::error::AppError;
use crate::routes::issuing;
use crate::state::AppState;

/// Rows a worker claims at a time.
pub const CHUNK: i64 = 250;
/// Rows one batch may hold.
pub const MAX_ROWS: usize = 200_000;
/// Longest row key, level or learner/competency reference.
const MAX_FIELD: usize = 200;

/// How the background tasks run (see the module doc for the variables).
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Worker loops in this process.
    pub workers: usize,
    /// When a claim is taken over.
    pub claim_timeout: Duration,
    /// How often the automatic sweep runs (None: never).
    pub sweep_every: Option<Duration>,
    /// How long an idle worker waits before looking again.
    pub idle_poll: Duration,
}

impl WorkerOptions {
    /// From the configuration (`bulk_workers`, `bulk_claim_timeout_secs`, `auto_issue_secs`).
    pub fn from_config(config: &crate::Config) -> Self {
        Self {
            workers: config.bulk_workers,
            claim_timeout: config.bulk_claim_timeout,
            sweep_every: config.auto_issue_every,
            idle_poll: Duration::from_millis(500),
        }
    }
}

/// One row as sent, before checking: the fields, or why it could not even be read.
#[derive(Debug, Clone, Default)]
pub struct RawRow {
    /// The caller's key.
    pub key: String,
    /// A member's user id or e-mail.
    pub learner: String,
    /// A competency's code or id.
    pub competency: String,
    /// The achieved level.
    pub level: Option<String>,
    /// First activity: `YYYY-MM-DD` or RFC 3339.
    pub activity_start: Option<String>,
    /// Mastery date: `YYYY-MM-DD` or RFC 3339 (default: when the batch is made).
    pub activity_end: Option<String>,
    /// Set when the row is malformed (then the other fields hold what could be read).
    pub malformed: Option<String>,
}

/// Reads a date as `YYYY-MM-DD` (midnight UTC) or RFC 3339; normalised to `xsd:dateTime`.
fn parse_date(field: &str, text: &str) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| format!("{field} {t:?} is not a date (YYYY-MM-DD or RFC 3339)"))
}

fn clean(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// Checks rows against the organisation (its learners and active competencies); every row
/// comes back, refused ones with their reason.
pub async fn prepare_rows(
    store: &Store,
    org_id: &str,
    raw: Vec<RawRow>,
    now: DateTime<Utc>,
) -> Result<Vec<NewBatchRow>, AppError> {
    if raw.is_empty() {
        return Err(AppError::Validation {
            field: "rows",
            reason: "the batch has no rows".into(),
        });
    }
    if raw.len() > MAX_ROWS {
        return Err(AppError::Validation {
            field: "rows",
            reason: format!("at most {MAX_ROWS} rows per batch; split the file"),
        });
    }
    let members = store.members(org_id).await?;
    let mut learners: HashMap<String, String> = HashMap::new();
    for m in members.iter().filter(|m| m.role == Role::Learner) {
        learners.insert(m.user_id.clone(), m.user_id.clone());
        learners.insert(m.email.to_lowercase(), m.user_id.clone());
    }
    let competencies = store.org_competencies(org_id).await?;
    let mut by_ref: HashMap<String, Vec<String>> = HashMap::new();
    for c in &competencies {
        by_ref.entry(c.id.clone()).or_default().push(c.id.clone());
        if let Some(code) = &c.code {
            by_ref.entry(code.clone()).or_default().push(c.id.clone());
        }
    }
    let mut seen: HashMap<String, i64> = HashMap::new();
    let mut out = Vec::with_capacity(raw.len());
    for (i, r) in raw.into_iter().enumerate() {
        let row_no = i64::try_from(i + 1).unwrap_or(i64::MAX);
        let key = r.key.trim().to_owned();
        let mut row = NewBatchRow {
            row_no,
            row_key: key.chars().take(MAX_FIELD).collect(),
            learner_id: r.learner.trim().chars().take(MAX_FIELD).collect(),
            competency_id: r.competency.trim().chars().take(MAX_FIELD).collect(),
            level: r.level.as_deref().and_then(clean),
            activity_start: None,
            activity_end: None,
            refused: None,
        };
        let checked = (|| -> Result<(), String> {
            if let Some(why) = &r.malformed {
                return Err(format!("malformed row: {why}"));
            }
            if key.is_empty() {
                return Err("the row key is missing".into());
            }
            if key.len() > MAX_FIELD || key.starts_with('!') || key.chars().any(char::is_control) {
                return Err(format!(
                    "the row key must be 1 to {MAX_FIELD} characters, without control characters, not starting with '!'"
                ));
            }
            if let Some(first) = seen.get(&key) {
                return Err(format!(
                    "duplicate row key {key:?} (first used on row {first})"
                ));
            }
            seen.insert(key.clone(), row_no);
            let learner = r.learner.trim();
            if learner.is_empty() {
                return Err("the learner is missing".into());
            }
            let Some(user) = learners
                .get(learner)
                .or_else(|| learners.get(&learner.to_lowercase()))
            else {
                return Err(format!(
                    "unknown learner {learner:?}: not a learner of this organisation"
                ));
            };
            row.learner_id = user.clone();
            let competency = r.competency.trim();
            if competency.is_empty() {
                return Err("the competency is missing".into());
            }
            match by_ref.get(competency).map(Vec::as_slice) {
                Some([one]) => row.competency_id = one.clone(),
                Some(_) => {
                    return Err(format!(
                        "competency code {competency:?} is in several frameworks; use the competency id"
                    ));
                }
                None => {
                    return Err(format!(
                        "unknown competency {competency:?}: no active competency with this code or id"
                    ));
                }
            }
            if row.level.as_ref().is_some_and(|l| l.len() > MAX_FIELD) {
                return Err(format!("the level is longer than {MAX_FIELD} characters"));
            }
            let start = match r.activity_start.as_deref().and_then(clean) {
                Some(t) => Some(parse_date("activity_start", &t)?),
                None => None,
            };
            let end = match r.activity_end.as_deref().and_then(clean) {
                Some(t) => parse_date("activity_end", &t)?,
                None => now,
            };
            if start.is_some_and(|s| s > end) {
                return Err("activity_start is after activity_end".into());
            }
            row.activity_start = start.map(achievement::xsd_date_time);
            row.activity_end = Some(achievement::xsd_date_time(end));
            Ok(())
        })();
        if let Err(reason) = checked {
            row.refused = Some(reason);
        }
        out.push(row);
    }
    Ok(out)
}

/// The header every CSV file starts with (order free; `level`, `activity_start`,
/// `activity_end` optional).
pub const CSV_COLUMNS: [&str; 6] = [
    "key",
    "learner",
    "competency",
    "level",
    "activity_start",
    "activity_end",
];

/// Splits CSV text (RFC 4180: `"` quotes, `""` inside quotes, CRLF or LF) into records, each
/// with its line number; a record that cannot be read (an unterminated quote) is an `Err`.
fn csv_records(text: &str) -> Vec<(usize, Result<Vec<String>, String>)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1usize;
    while chars.peek().is_some() {
        let start_line = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut error = None;
        loop {
            match chars.next() {
                None => {
                    if quoted {
                        error = Some("a quoted field is not closed".to_owned());
                    }
                    fields.push(std::mem::take(&mut field));
                    break;
                }
                Some('"') if quoted => {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        field.push('"');
                    } else {
                        quoted = false;
                    }
                }
                Some('"') if field.is_empty() => quoted = true,
                Some(c) if quoted => {
                    if c == '\n' {
                        line += 1;
                    }
                    field.push(c);
                }
                Some(',') => fields.push(std::mem::take(&mut field)),
                Some('\r') if chars.peek() == Some(&'\n') => {}
                Some('\n') => {
                    line += 1;
                    fields.push(std::mem::take(&mut field));
                    break;
                }
                Some(c) => field.push(c),
            }
        }
        // Blank lines are not rows.
        if fields.len() == 1 && fields[0].trim().is_empty() && error.is_none() {
            continue;
        }
        out.push((start_line, error.map_or(Ok(fields), Err)));
    }
    out
}

/// Reads a CSV file into rows. The header must name `key`, `learner` and `competency` (and may
/// name the optional columns); a header problem refuses the whole file, a bad record only its
/// row.
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<RawRow>, AppError> {
    let text = std::str::from_utf8(bytes).map_err(|_| AppError::Validation {
        field: "file",
        reason: "the file is not UTF-8 text".into(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = csv_records(text).into_iter();
    let header = match records.next() {
        Some((_, Ok(h))) => h,
        _ => {
            return Err(AppError::Validation {
                field: "file",
                reason: format!(
                    "the first line must be the header: {}",
                    CSV_COLUMNS.join(",")
                ),
            });
        }
    };
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, name) in header.iter().enumerate() {
        let name = name.trim();
        let Some(known) = CSV_COLUMNS.iter().find(|c| c.eq_ignore_ascii_case(name)) else {
            return Err(AppError::Validation {
                field: "file",
                reason: format!(
                    "unknown column {name:?} in the header; the columns are {}",
                    CSV_COLUMNS.join(",")
                ),
            });
        };
        if index.insert(known, i).is_some() {
            return Err(AppError::Validation {
                field: "file",
                reason: format!("the column {known:?} appears twice in the header"),
            });
        }
    }
    for required in &CSV_COLUMNS[..3] {
        if !index.contains_key(required) {
            return Err(AppError::Validation {
                field: "file",
                reason: format!("the header has no {required:?} column"),
            });
        }
    }
    let width = header.len();
    Ok(records
        .map(|(line, record)| {
            let mut raw = RawRow::default();
            let fields = match record {
                Ok(f) => f,
                Err(e) => {
                    raw.malformed = Some(format!("line {line}: {e}"));
                    return raw;
                }
            };
            let get = |name: &str| index.get(name).and_then(|&i| fields.get(i)).cloned();
            raw.key = get("key").unwrap_or_default();
            raw.learner = get("learner").unwrap_or_default();
            raw.competency = get("competency").unwrap_or_default();
            raw.level = get("level");
            raw.activity_start = get("activity_start");
            raw.activity_end = get("activity_end");
            if fields.len() != width {
                raw.malformed = Some(format!(
                    "line {line}: {} fields where the header has {width}",
                    fields.len()
                ));
            }
            raw
        })
        .collect())
}

/// Reads the rows of an API batch: each a JSON object; one that is not (or has fields of the
/// wrong type or unknown fields) is a malformed row, not a refused request.
pub fn parse_json_rows(rows: &[Value]) -> Vec<RawRow> {
    rows.iter()
        .map(|v| {
            let mut raw = RawRow::default();
            let Some(obj) = v.as_object() else {
                raw.malformed = Some("the row is not a JSON object".into());
                return raw;
            };
            let mut problems = Vec::new();
            for (name, value) in obj {
                let text = match value {
                    Value::String(s) => Some(s.clone()),
                    Value::Null => None,
                    _ => {
                        problems.push(format!("{name} must be a string"));
                        continue;
                    }
                };
                match name.as_str() {
                    "key" => raw.key = text.unwrap_or_default(),
                    "learner" => raw.learner = text.unwrap_or_default(),
                    "competency" => raw.competency = text.unwrap_or_default(),
                    "level" => raw.level = text,
                    "activity_start" => raw.activity_start = text,
                    "activity_end" => raw.activity_end = text,
                    other => problems.push(format!("unknown field {other:?}")),
                }
            }
            if !problems.is_empty() {
                raw.malformed = Some(problems.join("; "));
            }
            raw
        })
        .collect()
}

/// What one [`process_chunk`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChunkReport {
    /// Rows claimed.
    pub claimed: usize,
    /// Credentials stored by this call.
    pub issued: usize,
    /// Rows that failed.
    pub failed: usize,
}

/// The signing material of an organisation, loaded once per chunk.
struct Signer {
    org: Org,
    key_id: String,
    pair: KeyPair,
    method: String,
    jcs_proof: bool,
    /// The learners' e-mails, when the issuer names learners by a salted e-mail hash too.
    emails: Option<HashMap<String, String>>,
    issuer: IssuerProfile,
}

/// Claims up to `limit` rows and issues them (see the module doc). A database or key error
/// leaves the claimed rows to be taken over later.
pub async fn process_chunk(
    state: &AppState,
    limit: i64,
    claim_timeout: Duration,
) -> Result<ChunkReport, AppError> {
    let store = &state.store;
    let now = state.clock.now();
    let stale = now - TimeDelta::from_std(claim_timeout).unwrap_or(TimeDelta::seconds(60));
    let rows = store.claim_batch_rows(limit, stale, now).await?;
    let mut report = ChunkReport {
        claimed: rows.len(),
        ..ChunkReport::default()
    };
    if rows.is_empty() {
        return Ok(report);
    }
    // Rows whose credential a taken-over worker stored already: mark them, sign nothing.
    let keys: Vec<String> = rows.iter().map(ClaimedRow::credential_key).collect();
    let stored = store.credential_ids_by_keys(&keys).await?;
    let done: Vec<(&ClaimedRow, String)> = rows
        .iter()
        .zip(&keys)
        .filter_map(|(r, k)| stored.get(k).map(|id| (r, id.clone())))
        .collect();
    if !done.is_empty() {
        store.mark_batch_rows_issued(&done).await?;
    }
    let mut by_org: HashMap<&str, Vec<&ClaimedRow>> = HashMap::new();
    for (row, key) in rows.iter().zip(&keys) {
        if !stored.contains_key(key) {
            by_org.entry(row.org_id.as_str()).or_default().push(row);
        }
    }
    for (org_id, rows) in by_org {
        let (issued, failed) = issue_rows(state, org_id, &rows, now).await?;
        report.issued += issued;
        report.failed += failed;
    }
    Ok(report)
}

/// A row's credential, unsigned, with what is stored beside it.
struct Prepared<'a> {
    row: &'a ClaimedRow,
    id: String,
    idempotency_key: String,
    subject_id: String,
    document: Value,
    status: tessera_store::status_lists::ReservedStatus,
}

async fn issue_rows(
    state: &AppState,
    org_id: &str,
    rows: &[&ClaimedRow],
    now: DateTime<Utc>,
) -> Result<(usize, usize), AppError> {
    let store = &state.store;
    let public = state.config.public_url.as_str();
    let org = store.org(org_id).await?;
    let master = state.issuing.master_key(&state.config.data_dir)?;
    let (key, pair) = issuing::current_key(store, master, &org.id, now).await?;
    let issuing::SigningIdentity {
        id: issuer_id,
        method,
        jcs_proof,
        email_identifier,
    } = issuing::issuer_of(state, &org, &key).await?;
    // Check each row against the organisation as it is now.
    let members: Vec<_> = store
        .members(org_id)
        .await?
        .into_iter()
        .filter(|m| m.role == Role::Learner)
        .collect();
    let learners: HashSet<String> = members.iter().map(|m| m.user_id.clone()).collect();
    let emails = email_identifier.then(|| {
        members
            .into_iter()
            .map(|m| (m.user_id, m.email))
            .collect::<HashMap<_, _>>()
    });
    let signer = Arc::new(Signer {
        issuer: IssuerProfile {
            id: issuer_id.clone(),
            name: org.name.clone(),
            url: Some(public.to_owned()),
        },
        org,
        key_id: key.id.clone(),
        pair,
        method,
        jcs_proof,
        emails,
    });
    let mut items: HashMap<String, Option<CompetencyItem>> = HashMap::new();
    let mut failed: Vec<(&ClaimedRow, String)> = Vec::new();
    let mut good: Vec<(&ClaimedRow, CompetencyItem)> = Vec::new();
    for &row in rows {
        if !learners.contains(&row.learner_id) {
            failed.push((
                row,
                "the learner is no longer a learner of this organisation".into(),
            ));
            continue;
        }
        if !items.contains_key(&row.competency_id) {
            let item = match store.competency(&row.competency_id).await {
                Ok(c) if c.org_id == org_id => {
                    let framework = store.framework(&c.framework_id).await?;
                    Some(CompetencyItem {
                        id: c.id.clone(),
                        uri: c.uri.clone(),
                        code: c.code.clone(),
                        statement: c.statement.clone(),
                        abbreviated: c.abbreviated_statement.clone(),
                        description: c.description.clone(),
                        framework: Some(framework.title),
                    })
                }
                Ok(_) | Err(StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            };
            items.insert(row.competency_id.clone(), item);
        }
        let Some(Some(item)) = items.get(&row.competency_id) else {
            failed.push((
                row,
                "the competency no longer exists in this organisation".into(),
            ));
            continue;
        };
        good.push((row, item.clone()));
    }
    let learners: Vec<&str> = good
        .iter()
        .map(|(row, _)| row.learner_id.as_str())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let subjects = store.credential_subject_ids(org_id, &learners, now).await?;
    let mut good: Vec<(&ClaimedRow, CompetencyItem, String)> = good
        .into_iter()
        .map(|(row, item)| {
            let subject = subjects.get(&row.learner_id).cloned().unwrap_or_default();
            (row, item, subject)
        })
        .collect();
    // A learner without a subject id would be a store fault: fail the row rather than sign it.
    good.retain(|(row, _, subject)| {
        if subject.is_empty() {
            failed.push((*row, "no subject id could be made for the learner".into()));
        }
        !subject.is_empty()
    });

    let reserved = if good.is_empty() {
        Vec::new()
    } else {
        reserve(store, org_id, good.len(), now).await?
    };
    let mut prepared = Vec::with_capacity(good.len());
    for ((row, item, subject_id), slots) in good.into_iter().zip(reserved) {
        match build_row(state, &signer, row, &item, &subject_id, &slots, now) {
            Ok(document) => prepared.push(Prepared {
                row,
                id: document.0,
                idempotency_key: row.credential_key(),
                subject_id,
                document: document.1,
                status: slots,
            }),
            Err(reason) => failed.push((row, reason)),
        }
    }

    // Sign off the async threads. The documents go in by value and come back in order.
    let documents: Vec<Value> = prepared
        .iter_mut()
        .map(|p| std::mem::take(&mut p.document))
        .collect();
    let sign_with = signer.clone();
    let signed: Vec<Result<String, tessera_issue::Error>> =
        tokio::task::spawn_blocking(move || {
            documents
                .iter()
                .map(|d| {
                    tessera_issue::sign::sign_to_string(
                        d,
                        &sign_with.pair,
                        &sign_with.method,
                        now,
                        sign_with.jcs_proof,
                    )
                })
                .collect()
        })
        .await
        .map_err(AppError::internal)?;

    let mut outcomes: Vec<(&ClaimedRow, RowOutcome<'_>)> = Vec::with_capacity(rows.len());
    for (p, s) in prepared.iter().zip(&signed) {
        match s {
            Ok(text) => outcomes.push((
                p.row,
                RowOutcome::Signed(NewCredential {
                    id: &p.id,
                    org_id,
                    learner_id: &p.row.learner_id,
                    competency_id: &p.row.competency_id,
                    idempotency_key: &p.idempotency_key,
                    key_id: &signer.key_id,
                    subject_id: &p.subject_id,
                    issuer_id: &issuer_id,
                    valid_from: now,
                    signed: text,
                    status: &p.status,
                    issued_by: None,
                }),
            )),
            Err(e) => {
                // Signing a document we built ourselves failing is a bug: log it, fail the row.
                tracing::error!(error = %e, batch = %p.row.batch_id, row = p.row.row_no, "signing a bulk row failed");
                outcomes.push((
                    p.row,
                    RowOutcome::Failed("the credential could not be signed".into()),
                ));
            }
        }
    }
    let failed_count = failed.len()
        + outcomes
            .iter()
            .filter(|(_, o)| matches!(o, RowOutcome::Failed(_)))
            .count();
    outcomes.extend(
        failed
            .into_iter()
            .map(|(r, why)| (r, RowOutcome::Failed(why))),
    );
    let created = store.finish_batch_rows(&outcomes, now).await?;
    Ok((created, failed_count))
}

/// Reserves status entries, retrying when another worker opened a new status list at the same
/// moment (PostgreSQL reports that as a conflict; the retry finds the new list).
async fn reserve(
    store: &Store,
    org_id: &str,
    count: usize,
    now: DateTime<Utc>,
) -> Result<Vec<tessera_store::status_lists::ReservedStatus>, StoreError> {
    let mut tries = 0;
    loop {
        match store
            .reserve_status_slots(org_id, count, STATUS_LIST_SIZE, now)
            .await
        {
            Err(StoreError::Conflict(_)) if tries < 5 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(20 * tries)).await;
            }
            other => return other,
        }
    }
}

/// The unsigned credential for a row: `(credential id, document)`.
fn build_row(
    state: &AppState,
    signer: &Signer,
    row: &ClaimedRow,
    item: &CompetencyItem,
    subject_id: &str,
    slots: &tessera_store::status_lists::ReservedStatus,
    now: DateTime<Utc>,
) -> Result<(String, Value), String> {
    let public = state.config.public_url.as_str();
    let slug = &signer.org.slug;
    let parse = |v: &Option<String>| -> Result<Option<DateTime<Utc>>, String> {
        v.as_deref().map(|t| parse_date("date", t)).transpose()
    };
    let start = parse(&row.activity_start)?;
    let end = parse(&row.activity_end)?.unwrap_or(now);
    let mut record = MasteryRecord::new(item.id.clone());
    record.state = MasteryState::Mastered;
    record.first_activity = start;
    record.last_activity = Some(end);
    record.mastered_at = Some(end);
    record.time_to_mastery = start.map(|s| end - s);
    let entries = [
        ("revocation", &slots.revocation),
        ("suspension", &slots.suspension),
    ]
    .map(|(purpose, slot)| {
        status::entry(
            &status::list_url(public, slug, purpose, slot.list_seq),
            purpose,
            slot.index,
        )
    });
    let id = uuid::Uuid::new_v4().to_string();
    let input = CredentialInput {
        id: &id,
        issuer: &signer.issuer,
        achievement_id: &issuing::achievement_id(public, slug, &item.id),
        image: Some(&issuing::achievement_image(public, slug, &item.id)),
        identifier: match signer.emails.as_ref().and_then(|m| m.get(&row.learner_id)) {
            Some(email) => Some(issuing::email_identifier(email).map_err(|e| e.to_string())?),
            None => None,
        },
        competency: item,
        rubric: None,
        rubric_base: &format!("{public}/rubrics"),
        record: &record,
        subject_id,
        valid_from: now,
        status: entries.to_vec(),
        evidence: &[],
    };
    let mut document = achievement::build(&input).map_err(|e| e.to_string())?;
    // The level the row states is the Result (OB 3.0 `Result.value`).
    if let Some(level) = &row.level
        && let Some(subject) = document
            .get_mut("credentialSubject")
            .and_then(Value::as_object_mut)
    {
        subject.insert(
            "result".into(),
            json!([{ "type": ["Result"], "value": level }]),
        );
    }
    Ok((id, document))
}

/// Works until no row is left to claim (tests, the CLI). Returns the totals.
pub async fn run_until_idle(
    state: &AppState,
    claim_timeout: Duration,
) -> Result<ChunkReport, AppError> {
    let mut total = ChunkReport::default();
    loop {
        let r = process_chunk(state, CHUNK, claim_timeout).await?;
        if r.claimed == 0 {
            return Ok(total);
        }
        total.claimed += r.claimed;
        total.issued += r.issued;
        total.failed += r.failed;
    }
}

/// Masteries waiting for a credential under `issuance` (`automatic`, `approval`), in one
/// organisation or all: the store's list without those whose exact mastery key is issued.
pub async fn awaiting_credentials(
    store: &Store,
    issuance: &str,
    org_id: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<tessera_store::issuance::AwaitingCredential>, AppError> {
    let listed = store
        .awaiting_credentials(issuance, org_id, limit, offset)
        .await?;
    let keys: Vec<String> = listed
        .iter()
        .map(|w| issuing::mastery_key(&w.learner_id, &w.competency_id, w.mastered_at))
        .collect();
    let issued = store.credential_ids_by_keys(&keys).await?;
    Ok(listed
        .into_iter()
        .zip(keys)
        .filter(|(_, k)| !issued.contains_key(k))
        .map(|(w, _)| w)
        .collect())
}

/// Issues the credential of every mastery waiting in an `automatic` framework (up to `limit`).
/// Returns how many were made. A mastery that cannot be issued (withdrawn meanwhile) is
/// logged and skipped; the next sweep looks again.
pub async fn sweep_automatic(state: &AppState, limit: i64) -> Result<usize, AppError> {
    let waiting = awaiting_credentials(&state.store, "automatic", None, limit, 0).await?;
    let mut made = 0;
    let mut orgs: HashMap<String, Org> = HashMap::new();
    for w in waiting {
        if !orgs.contains_key(&w.org_id) {
            orgs.insert(w.org_id.clone(), state.store.org(&w.org_id).await?);
        }
        let org = &orgs[&w.org_id];
        match issuing::issue_for_mastery(state, org, &w.learner_id, &w.competency_id, None).await {
            Ok((_, true)) => made += 1,
            Ok((_, false)) => {}
            Err(AppError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(made)
}

/// Starts the worker loops and the automatic sweep; abort the handle to stop them. A killed
/// process leaves claimed rows that another process (or this one restarted) takes over after
/// the claim timeout.
pub fn spawn(state: AppState, options: WorkerOptions) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..options.workers {
            let state = state.clone();
            let options = options.clone();
            tasks.spawn(async move {
                loop {
                    match process_chunk(&state, CHUNK, options.claim_timeout).await {
                        Ok(r) if r.claimed > 0 => {
                            tracing::debug!(
                                claimed = r.claimed,
                                issued = r.issued,
                                failed = r.failed,
                                "bulk chunk"
                            );
                        }
                        Ok(_) => tokio::time::sleep(options.idle_poll).await,
                        Err(e) => {
                            // The claim stays; it is taken over after the timeout.
                            tracing::warn!(error = %e, "bulk issuance chunk failed");
                            tokio::time::sleep(options.idle_poll * 4).await;
                        }
                    }
                }
            });
        }
        if let Some(every) = options.sweep_every {
            let state = state.clone();
            tasks.spawn(async move {
                let mut tick = tokio::time::interval(every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    match sweep_automatic(&state, 500).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(credentials = n, "issued automatically"),
                        Err(e) => tracing::warn!(error = %e, "automatic issuance sweep failed"),
                    }
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    })
}
