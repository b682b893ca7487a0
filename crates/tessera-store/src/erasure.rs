//! Erasure of a person's personal data, the data export, and the scan that checks erasure.
//!
//! **Erasure** ([`Store::erase_user`]) runs in one transaction:
//! - *kept*, because others rely on them and they hold no personal data: the `users` row (its
//!   id is what credentials, reviews by staff and the audit chain point at) with name, e-mail
//!   and password replaced; issued credentials (the exact signed bytes: their subject is a
//!   pairwise `urn:uuid`, so they hold no personal data and keep verifying), status list entries,
//!   issuer keys and DID documents; the pairwise subject ids; the audit chain (it hashes only
//!   opaque ids and payload digests).
//! - *deleted*: evidence (text, links, file rows, and file contents no one else submitted),
//!   reviews of their work (with the reviewers' comments), the mastery events (reasons are free
//!   text), target dates, prerequisite exceptions (a teacher's reason), consents, the access
//!   log about them, sessions, API tokens, invitations to their e-mail, memberships, their own
//!   DID, share links, transcripts (a signed CLR names the learner inside the signature, so it
//!   cannot be pseudonymised; the learner's own copy still verifies), the audit payloads of
//!   entries about them (the payloads sit beside the chain, so the chain still verifies), and
//!   their rows in every other table with a `learner_id` or `user_id` column (tables added
//!   later, like cohorts, flags and subgroup attributes, are covered without naming them).
//! - *cleared*: free-text reasons on their credentials' status and bulk-issue errors.
//!
//! One `personal_data_erased` audit entry records that it happened (ids only).
//!
//! **Export** ([`Store::learner_export`]) gathers everything about a person as JSON plus the
//! exact signed bytes of their credentials and transcripts.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use tessera_review::AuditKind;

use crate::audit::append_audit;
use crate::{Backend, Store, StoreError, read, sqlf, write};

/// Deletes the `evidence_blobs` rows of `$shas` that no submission uses any more, inside the
/// open transaction `$tx`; evaluates to those digests (the caller removes the files on disk
/// after commit).
macro_rules! drop_unused_blobs {
    ($tx:expr, $shas:expr) => {{
        let mut shas: Vec<String> = $shas;
        shas.sort();
        shas.dedup();
        let mut orphaned = Vec::new();
        for sha in shas {
            let used: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM submission_files WHERE sha256 = $1")
                    .bind(&sha)
                    .fetch_one(&mut *$tx)
                    .await?;
            if used == 0 {
                sqlx::query("DELETE FROM evidence_blobs WHERE sha256 = $1")
                    .bind(&sha)
                    .execute(&mut *$tx)
                    .await?;
                orphaned.push(sha);
            }
        }
        orphaned
    }};
}
pub(crate) use drop_unused_blobs;

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Erasure {
    /// The erased user (the id stays; nothing links it to the person any more).
    pub user_id: String,
    /// Who executed it (the user themself or an admin).
    pub erased_by: String,
    /// When.
    pub erased_at: DateTime<Utc>,
    /// The `personal_data_erased` audit entry.
    pub audit_seq: i64,
    /// Audit payloads removed from beside the chain.
    pub audit_payloads_removed: u64,
    /// Evidence file contents no one uses any more (the server deletes them from disk).
    #[serde(skip)]
    pub orphaned_blobs: Vec<String>,
}

/// Tables with a `learner_id` or `user_id` column that erasure handles by name: kept on purpose
/// (credentials and what verifying them needs, the erasure record) or deleted in order below.
/// The generic pass deletes the person's rows of every other such table.
const NAMED_LEARNER_TABLES: [&str; 18] = [
    "share_links",
    "memberships",
    "sessions",
    "api_tokens",
    "learner_dids",
    "credentials",
    "credential_subjects",
    "issue_batch_rows",
    "transcripts",
    "reviews",
    "submissions",
    "mastery_events",
    "target_dates",
    "prerequisite_exceptions",
    "consents",
    "access_log",
    "erasures",
    "users",
];

/// The display name an erased user gets.
pub const ERASED_NAME: &str = "Erased user";

impl Store {
    /// The names of the tables in the database (either backend).
    pub async fn table_names(&self) -> Result<Vec<String>, StoreError> {
        let sql = match self.backend() {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' ORDER BY name"
            }
            Backend::Postgres => {
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
                 ORDER BY table_name"
            }
        };
        read!(self, |pool| Ok(sqlx::query_scalar(sql)
            .fetch_all(pool)
            .await?))
    }

    /// Every (table, column) that can hold text (on SQLite every column: it is not typed).
    pub async fn text_columns(&self) -> Result<Vec<(String, String)>, StoreError> {
        match self.backend() {
            Backend::Postgres => read!(self, |pool| {
                Ok(sqlx::query_as(
                    "SELECT c.table_name::text, c.column_name::text \
                     FROM information_schema.columns c \
                     JOIN information_schema.tables t ON t.table_name = c.table_name \
                       AND t.table_schema = c.table_schema AND t.table_type = 'BASE TABLE' \
                     WHERE c.table_schema = current_schema() \
                       AND c.data_type IN ('text', 'character varying', 'character', 'json', \
                         'jsonb', 'bytea') \
                     ORDER BY c.table_name, c.ordinal_position",
                )
                .fetch_all(pool)
                .await?)
            }),
            Backend::Sqlite => {
                let mut out = Vec::new();
                for table in self.table_names().await? {
                    let cols: Vec<String> = read!(self, |pool| {
                        sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY cid")
                            .bind(&table)
                            .fetch_all(pool)
                            .await?
                    });
                    out.extend(cols.into_iter().map(|c| (table.clone(), c)));
                }
                Ok(out)
            }
        }
    }

    /// Every `table.column` of the whole database whose text contains `needle` (ignoring
    /// case). The check after an erasure: it enumerates the catalogue, so tables added later
    /// are searched too.
    pub async fn find_text_everywhere(&self, needle: &str) -> Result<Vec<String>, StoreError> {
        let mut found = Vec::new();
        for (table, column) in self.text_columns().await? {
            let t = quote_ident(&table);
            let c = quote_ident(&column);
            let sql = match self.backend() {
                Backend::Sqlite => sqlf!(
                    "SELECT COUNT(*) FROM {t} WHERE instr(lower(CAST({c} AS TEXT)), lower($1)) > 0"
                ),
                Backend::Postgres => {
                    sqlf!("SELECT COUNT(*) FROM {t} WHERE strpos(lower({c}::text), lower($1)) > 0")
                }
            };
            let n: i64 = read!(self, |pool| {
                sqlx::query_scalar(sql).bind(needle).fetch_one(pool).await?
            });
            if n > 0 {
                found.push(format!("{table}.{column}"));
            }
        }
        Ok(found)
    }

    /// Whether the user's personal data was erased, and when.
    pub async fn erased_at(&self, user_id: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        read!(self, |pool| {
            Ok(
                sqlx::query_scalar("SELECT erased_at FROM erasures WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_optional(pool)
                    .await?,
            )
        })
    }

    /// Erases a user's personal data (see the module docs for what is kept, deleted and
    /// cleared). [`StoreError::NotFound`] for an unknown user, [`StoreError::Conflict`] for one
    /// already erased or a platform admin (the service must keep someone who runs it).
    #[tracing::instrument(skip_all)]
    pub async fn erase_user(
        &self,
        user_id: &str,
        erased_by: &str,
        now: DateTime<Utc>,
    ) -> Result<Erasure, StoreError> {
        // Tables other parts may or may not have (added by later migrations), and the tables
        // with a `learner_id` column for the generic pass.
        let tables = self.table_names().await?;
        let has = |t: &str| tables.iter().any(|n| n == t);
        let mut learner_tables = Vec::new();
        for (table, column) in self.text_columns().await? {
            if matches!(column.as_str(), "learner_id" | "user_id")
                && !NAMED_LEARNER_TABLES.contains(&table.as_str())
            {
                learner_tables.push((table, column));
            }
        }
        let has_share_links = has("share_links");
        let has_transcripts = has("transcripts");
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let user: Option<(String, bool)> =
                sqlx::query_as("SELECT email, is_platform_admin FROM users WHERE id = $1")
                    .bind(user_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some((email, platform_admin)) = user else {
                return Err(StoreError::NotFound);
            };
            let already: Option<String> =
                sqlx::query_scalar("SELECT user_id FROM erasures WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if already.is_some() {
                return Err(StoreError::Conflict("this account was already erased"));
            }
            if platform_admin {
                return Err(StoreError::Conflict(
                    "a platform admin cannot be erased (hand the role on first)",
                ));
            }

            // Audit payloads about them (beside the chain: the chain keeps verifying). Subjects
            // are a JSON array of "prefix:id" strings; ids are UUIDs, so the match is exact.
            let mut subject_patterns = vec![format!("%\"learner:{user_id}\"%")];
            let credential_ids: Vec<String> =
                sqlx::query_scalar("SELECT id FROM credentials WHERE learner_id = $1")
                    .bind(user_id)
                    .fetch_all(&mut *tx)
                    .await?;
            subject_patterns.extend(
                credential_ids
                    .iter()
                    .map(|c| format!("%\"credential:{c}\"%")),
            );
            let mut payloads_removed = 0;
            for pattern in &subject_patterns {
                let done = sqlx::query(
                    "DELETE FROM audit_payloads WHERE seq IN \
                     (SELECT seq FROM audit_log WHERE subjects LIKE $1)",
                )
                .bind(pattern)
                .execute(&mut *tx)
                .await?;
                payloads_removed += done.rows_affected();
            }

            // Anything about them in tables added by later issues (first: such rows may point
            // at their submissions or reviews, never the other way round).
            for (table, column) in &learner_tables {
                let t = quote_ident(table);
                let c = quote_ident(column);
                sqlx::query(sqlf!("DELETE FROM {t} WHERE {c} = $1"))
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
            }

            // Sharing and transcripts (tables of later issues, when present).
            if has_share_links {
                sqlx::query(
                    "DELETE FROM share_link_opens WHERE link_id IN \
                     (SELECT id FROM share_links WHERE owner_id = $1)",
                )
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM share_links WHERE owner_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
            }
            if has_transcripts {
                if has_share_links {
                    sqlx::query(
                        "DELETE FROM share_link_opens WHERE link_id IN (SELECT id FROM \
                         share_links WHERE kind = 'transcript' AND target_id IN \
                         (SELECT id FROM transcripts WHERE learner_id = $1))",
                    )
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "DELETE FROM share_links WHERE kind = 'transcript' AND target_id IN \
                         (SELECT id FROM transcripts WHERE learner_id = $1)",
                    )
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query("DELETE FROM transcripts WHERE learner_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
            }

            // Evidence and its reviews.
            let shas: Vec<String> = sqlx::query_scalar(
                "SELECT f.sha256 FROM submission_files f JOIN submissions s \
                 ON s.id = f.submission_id WHERE s.learner_id = $1",
            )
            .bind(user_id)
            .fetch_all(&mut *tx)
            .await?;
            for sql in [
                "DELETE FROM submission_files WHERE submission_id IN \
                 (SELECT id FROM submissions WHERE learner_id = $1)",
                "DELETE FROM evidence_purges WHERE submission_id IN \
                 (SELECT id FROM submissions WHERE learner_id = $1)",
                "DELETE FROM reviews WHERE learner_id = $1",
                "DELETE FROM submissions WHERE learner_id = $1",
                "DELETE FROM mastery_events WHERE learner_id = $1",
                "DELETE FROM target_dates WHERE learner_id = $1",
                "DELETE FROM prerequisite_exceptions WHERE learner_id = $1",
                "DELETE FROM consents WHERE learner_id = $1",
                "DELETE FROM access_log WHERE learner_id = $1",
                "DELETE FROM learner_dids WHERE user_id = $1",
                "DELETE FROM sessions WHERE user_id = $1",
                "DELETE FROM api_tokens WHERE user_id = $1",
                "DELETE FROM memberships WHERE user_id = $1",
                "UPDATE credentials SET status_reason = NULL WHERE learner_id = $1",
                "UPDATE issue_batch_rows SET error = NULL WHERE learner_id = $1",
            ] {
                sqlx::query(sql).bind(user_id).execute(&mut *tx).await?;
            }
            let orphaned = drop_unused_blobs!(tx, shas);
            sqlx::query("DELETE FROM invitations WHERE lower(email) = lower($1)")
                .bind(&email)
                .execute(&mut *tx)
                .await?;

            // The user row stays, with nothing that names the person.
            sqlx::query(
                "UPDATE users SET name = $2, email = $3, password_hash = '!erased', \
                 is_platform_admin = FALSE WHERE id = $1",
            )
            .bind(user_id)
            .bind(ERASED_NAME)
            .bind(format!("erased-{user_id}@erased.invalid"))
            .execute(&mut *tx)
            .await?;

            let erased = crate::mastery::subject("learner", user_id);
            let by = crate::mastery::subject("user", erased_by);
            let payload = json!({ "self": erased_by == user_id }).to_string();
            let entry = append_audit!(
                tx,
                AuditKind::PersonalDataErased,
                &[erased.as_str(), by.as_str()],
                payload,
                now
            );
            let audit_seq = i64::try_from(entry.seq)
                .map_err(|_| StoreError::Corrupt("audit seq overflow".into()))?;
            sqlx::query(
                "INSERT INTO erasures (user_id, erased_by, erased_at, audit_seq) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(user_id)
            .bind(erased_by)
            .bind(now)
            .bind(audit_seq)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Erasure {
                user_id: user_id.to_owned(),
                erased_by: erased_by.to_owned(),
                erased_at: now,
                audit_seq,
                audit_payloads_removed: payloads_removed,
                orphaned_blobs: orphaned,
            })
        })
    }
}

/// `"name"` with inner quotes doubled: table and column names come from the catalogue.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A person's data, as the export gives it: one JSON document (`data`) plus the exact signed
/// bytes of credentials and transcripts and the evidence files to put beside it.
#[derive(Debug, Clone)]
pub struct LearnerExport {
    /// Everything as JSON.
    pub data: Value,
    /// (credential id, exact signed JSON).
    pub credentials: Vec<(String, String)>,
    /// (transcript id, exact signed JSON).
    pub transcripts: Vec<(String, String)>,
    /// (sha256, media type, file name) of every evidence file of theirs.
    pub files: Vec<(String, String, Option<String>)>,
}

#[derive(sqlx::FromRow)]
struct ReviewExportRow {
    id: String,
    org_id: String,
    submission_id: String,
    competency_id: String,
    rubric_id: String,
    rubric_version: String,
    state: String,
    stage: String,
    outcome: Option<String>,
    scored: Option<String>,
    first_outcome: Option<String>,
    first_scored: Option<String>,
    second_outcome: Option<String>,
    second_scored: Option<String>,
    created_at: DateTime<Utc>,
    decided_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct EventExportRow {
    org_id: String,
    competency_id: String,
    seq: i64,
    at: DateTime<Utc>,
    state: String,
    event: String,
}

#[derive(sqlx::FromRow)]
struct TranscriptExportRow {
    id: String,
    kind: String,
    signed: String,
    created_at: DateTime<Utc>,
}

fn json_text(text: Option<String>) -> Value {
    text.map_or(Value::Null, |t| {
        serde_json::from_str(&t).unwrap_or(Value::String(t))
    })
}

impl Store {
    /// Everything stored about `user_id`, across every organisation they belong to.
    #[tracing::instrument(skip_all)]
    pub async fn learner_export(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> Result<LearnerExport, StoreError> {
        let user = self.user(user_id).await?;
        let memberships = self.memberships(user_id).await?;
        let mut org_ids: Vec<String> = memberships.iter().map(|m| m.org_id.clone()).collect();
        org_ids.sort();
        org_ids.dedup();
        let has_transcripts = self.table_names().await?.iter().any(|t| t == "transcripts");
        let mut orgs = Vec::new();
        let mut credentials_out = Vec::new();
        let mut transcripts_out = Vec::new();
        let mut files = Vec::new();
        for org_id in &org_ids {
            let org = self.org(org_id).await?;
            let submissions = self.submissions(org_id, user_id, None).await?;
            for s in &submissions {
                for f in &s.files {
                    files.push((f.sha256.clone(), f.media_type.clone(), f.filename.clone()));
                }
            }
            let (reviews, events): (Vec<ReviewExportRow>, Vec<EventExportRow>) =
                read!(self, |pool| {
                    let reviews = sqlx::query_as(
                        "SELECT id, org_id, submission_id, competency_id, rubric_id, \
                         rubric_version, state, stage, outcome, scored, first_outcome, \
                         first_scored, second_outcome, second_scored, created_at, decided_at \
                         FROM reviews WHERE org_id = $1 AND learner_id = $2 \
                         ORDER BY created_at, id",
                    )
                    .bind(org_id)
                    .bind(user_id)
                    .fetch_all(pool)
                    .await?;
                    let events = sqlx::query_as(
                        "SELECT org_id, competency_id, seq, at, state, event \
                         FROM mastery_events WHERE org_id = $1 AND learner_id = $2 \
                         ORDER BY competency_id, seq",
                    )
                    .bind(org_id)
                    .bind(user_id)
                    .fetch_all(pool)
                    .await?;
                    (reviews, events)
                });
            let record = self.learner_record(org_id, user_id).await?;
            let credentials = self.credentials(org_id, Some(user_id), i64::MAX, 0).await?;
            for c in &credentials {
                credentials_out.push((c.id.clone(), c.signed.clone()));
            }
            let transcripts: Vec<TranscriptExportRow> = if has_transcripts {
                read!(self, |pool| {
                    sqlx::query_as(
                        "SELECT id, kind, signed, created_at FROM transcripts \
                         WHERE org_id = $1 AND learner_id = $2 ORDER BY created_at, id",
                    )
                    .bind(org_id)
                    .bind(user_id)
                    .fetch_all(pool)
                    .await?
                })
            } else {
                Vec::new()
            };
            for t in &transcripts {
                transcripts_out.push((t.id.clone(), t.signed.clone()));
            }
            let purges: Vec<(String, i64, DateTime<Utc>)> = read!(self, |pool| {
                sqlx::query_as(
                    "SELECT p.submission_id, p.files, p.purged_at FROM evidence_purges p \
                     JOIN submissions s ON s.id = p.submission_id \
                     WHERE s.org_id = $1 AND s.learner_id = $2",
                )
                .bind(org_id)
                .bind(user_id)
                .fetch_all(pool)
                .await?
            });
            orgs.push(json!({
                "organisation": { "id": org.id, "slug": org.slug, "name": org.name },
                "roles": memberships.iter().filter(|m| &m.org_id == org_id)
                    .map(|m| m.role.as_str()).collect::<Vec<_>>(),
                "mastery_record": record,
                "mastery_events": events.into_iter().map(|e| json!({
                    "competency_id": e.competency_id, "seq": e.seq, "at": e.at,
                    "state": e.state, "event": json_text(Some(e.event)), "org_id": e.org_id,
                })).collect::<Vec<_>>(),
                "submissions": submissions,
                "files_purged_by_retention": purges.into_iter().map(|(s, n, at)| json!({
                    "submission_id": s, "files": n, "purged_at": at,
                })).collect::<Vec<_>>(),
                "reviews": reviews.into_iter().map(|r| json!({
                    "id": r.id, "org_id": r.org_id, "submission_id": r.submission_id,
                    "competency_id": r.competency_id, "rubric_id": r.rubric_id,
                    "rubric_version": r.rubric_version, "state": r.state, "stage": r.stage,
                    "outcome": r.outcome, "scored": json_text(r.scored),
                    "first_outcome": r.first_outcome, "first_scored": json_text(r.first_scored),
                    "second_outcome": r.second_outcome,
                    "second_scored": json_text(r.second_scored),
                    "created_at": r.created_at, "decided_at": r.decided_at,
                })).collect::<Vec<_>>(),
                "target_dates": self.target_dates(org_id, user_id).await?,
                "prerequisite_exceptions": self.prerequisite_exceptions(org_id, user_id).await?,
                "credentials": credentials.iter().map(|c| json!({
                    "metadata": c,
                    "file": format!("credentials/{}.json", c.id),
                })).collect::<Vec<_>>(),
                "transcripts": transcripts.iter().map(|t| json!({
                    "id": t.id, "kind": t.kind, "created_at": t.created_at,
                    "file": format!("transcripts/{}.json", t.id),
                })).collect::<Vec<_>>(),
                "consents": self.consents(org_id, user_id).await?,
                "staff_access_log": self.access_log(org_id, user_id, i64::MAX, 0).await?,
            }));
        }
        let did: Option<String> = read!(self, |pool| {
            sqlx::query_scalar("SELECT did FROM learner_dids WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(pool)
                .await?
        });
        let data = json!({
            "format": "tessera-learner-export/1",
            "exported_at": now,
            "profile": {
                "id": user.id, "name": user.name, "email": user.email,
                "created_at": user.created_at, "did": did,
            },
            "memberships": memberships,
            "organisations": orgs,
        });
        Ok(LearnerExport {
            data,
            credentials: credentials_out,
            transcripts: transcripts_out,
            files,
        })
    }
}
