//! CASE packages in and out of the registry (issue #3), on top of the registry tables.
//!
//! - [`Store::import_case`] writes a validated [`tessera_case::Framework`] in **one
//!   transaction**: a failure anywhere (an identifier owned by another framework or organisation,
//!   a prerequisite cycle through another framework of the organisation, a database error) rolls
//!   everything back, so nothing is ever half-imported. Re-importing the same CFDocument
//!   identifier **updates** that framework: competencies are upserted by CASE identifier,
//!   competencies missing from the new package are retired (never deleted: credentials may point
//!   at them), and the framework's associations and rubrics are replaced by the package's.
//! - [`Store::export_case`] rebuilds the framework model from the rows; `tessera_case::export`
//!   turns it into a CFPackage. The full CASE record of everything imported is kept in the
//!   `case_extra` / `document` columns, and the registry's own columns override it on the way
//!   out, so edits made in Tessera are exported and everything else round-trips unchanged.
//! - The read side of the CASE REST binding: [`Store::case_documents`], [`Store::case_item`],
//!   [`Store::case_association`].
//!
//! Writes are batched (multi-row `INSERT … ON CONFLICT`), which is what keeps a 5,000-item
//! import well under the two-second budget on both databases.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use tessera_case::package::{
    CfAssociation, CfDefinitions, CfDocument, CfItem, CfRubric, JsonObject, LinkGenUri, LinkUri,
};
use tessera_case::{
    AssociationType, CaseVersion, Competency as CaseCompetency, Framework as CaseFramework,
    HierarchyLink, Parent, PrerequisiteLink,
};
use tessera_core::dag::find_cycle;
use uuid::Uuid;

use crate::{Store, StoreError, read, write};

/// Rows per multi-row statement: 14 columns × 400 rows stays far below SQLite's 32,766 bound
/// parameters and PostgreSQL's 65,535.
const BATCH: usize = 400;

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseImportReport {
    /// The framework (CFDocument identifier).
    pub framework_id: String,
    /// `true` for a new framework, `false` when an existing one was updated.
    pub created: bool,
    /// The framework's revision after the import.
    pub revision: i64,
    /// Competencies written (inserted or updated).
    pub competencies: usize,
    /// Competencies of the framework that the package no longer contains, now retired.
    pub retired: usize,
    /// Associations written.
    pub associations: usize,
    /// Rubrics written.
    pub rubrics: usize,
}

/// What `frameworks.case_extra` holds for an imported framework.
#[derive(Debug, Serialize, Deserialize)]
struct FrameworkCase {
    case_version: String,
    document: CfDocument,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    definitions: Option<CfDefinitions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    extensions: Option<JsonObject>,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    extra: JsonObject,
}

#[derive(Debug, FromRow)]
struct FrameworkRow {
    id: String,
    uri: String,
    org_id: String,
    title: String,
    creator: Option<String>,
    description: Option<String>,
    language: Option<String>,
    version: Option<String>,
    adoption_status: Option<String>,
    status: String,
    last_changed: DateTime<Utc>,
    case_extra: Option<String>,
}

#[derive(Debug, FromRow)]
struct CompetencyRow {
    id: String,
    uri: String,
    framework_id: String,
    code: Option<String>,
    statement: String,
    abbreviated_statement: Option<String>,
    description: Option<String>,
    item_type: Option<String>,
    language: Option<String>,
    status: String,
    last_changed: DateTime<Utc>,
    case_extra: Option<String>,
}

#[derive(Debug, FromRow)]
struct AssociationRow {
    id: String,
    uri: String,
    framework_id: String,
    association_type: String,
    origin_id: String,
    origin_uri: String,
    origin_title: Option<String>,
    destination_id: String,
    destination_uri: String,
    destination_title: Option<String>,
    sequence_number: Option<i64>,
    last_changed: DateTime<Utc>,
    case_extra: Option<String>,
}

// A framework made in Tessera may have no creator, which CASE requires: its organisation's name
// stands in.
const FRAMEWORK_SELECT: &str = "SELECT f.id, f.uri, f.org_id, f.title, COALESCE(f.creator, o.name) AS creator, \
     f.description, f.language, f.version, f.adoption_status, f.status, f.last_changed, f.case_extra \
     FROM frameworks f JOIN organisations o ON o.id = f.org_id";
const COMPETENCY_SELECT: &str = "SELECT id, uri, framework_id, code, statement, abbreviated_statement, \
     description, item_type, language, status, last_changed, case_extra FROM competencies";
const ASSOCIATION_SELECT: &str = "SELECT id, uri, framework_id, association_type, origin_id, origin_uri, \
     origin_title, destination_id, destination_uri, destination_title, sequence_number, last_changed, \
     case_extra FROM associations";

/// A CASE `lastChangeDateTime` as a timestamp; publishers' text that does not parse (the schema
/// already checked the format, so this is rare) falls back to the import time.
fn parse_time(text: &str, fallback: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).map_or(fallback, |t| t.with_timezone(&Utc))
}

/// The CASE text for `stored`: the publisher's own spelling while it still means the same
/// instant, otherwise (the registry changed it) RFC 3339 in UTC.
fn case_time(record: &str, stored: DateTime<Utc>) -> String {
    match DateTime::parse_from_rfc3339(record) {
        Ok(t) if t.with_timezone(&Utc) == stored => record.to_owned(),
        _ => stored.to_rfc3339_opts(SecondsFormat::AutoSi, true),
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(format!("CASE record: {e}")))
}

fn from_json<T: for<'de> Deserialize<'de>>(text: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("stored CASE {what}: {e}")))
}

fn parse_uuid(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|_| StoreError::Corrupt(format!("not a UUID: {text}")))
}

/// One competency ready to write.
struct CompetencyWrite {
    id: String,
    uri: String,
    code: Option<String>,
    statement: String,
    abbreviated: Option<String>,
    notes: Option<String>,
    item_type: Option<String>,
    language: Option<String>,
    last_changed: DateTime<Utc>,
    record: String,
}

/// One rubric ready to write: id, uri, title, the CFRubric JSON, last change.
type RubricWrite = (String, String, Option<String>, String, DateTime<Utc>);

/// One association ready to write.
struct AssociationWrite {
    id: String,
    uri: String,
    kind: String,
    origin: LinkGenUri,
    destination: LinkGenUri,
    sequence_number: Option<i64>,
    last_changed: DateTime<Utc>,
    record: String,
}

fn association_write(
    a: &CfAssociation,
    now: DateTime<Utc>,
) -> Result<AssociationWrite, StoreError> {
    Ok(AssociationWrite {
        id: a.identifier.to_lowercase(),
        uri: a.uri.clone(),
        kind: a.association_type.clone(),
        origin: a.origin.clone(),
        destination: a.destination.clone(),
        sequence_number: a.sequence_number,
        last_changed: parse_time(&a.last_change_date_time, now),
        record: to_json(a)?,
    })
}

/// Ends of a stored association are stored as CASE identifiers in lower case, so that they join
/// with competency ids whatever case the publisher wrote.
fn node_id(link: &LinkGenUri) -> String {
    match tessera_case::check::parse_case_uuid(&link.identifier) {
        Some(id) => id.to_string(),
        None => link.identifier.clone(),
    }
}

impl Store {
    /// Imports (or re-imports) a validated CASE framework for organisation `org_id`, all or
    /// nothing. See the module docs for the update rules.
    ///
    /// # Errors
    /// - [`StoreError::Conflict`] when the framework, or one of its competencies, associations or
    ///   rubrics, already exists under another organisation or framework, or the framework is
    ///   retired.
    /// - [`StoreError::Domain`] (a cycle) when the package's `precedes` links close a cycle with
    ///   prerequisites of other frameworks of the organisation.
    #[tracing::instrument(skip_all, fields(framework = %framework.id, items = framework.competencies.len()))]
    pub async fn import_case(
        &self,
        org_id: &str,
        framework: &CaseFramework,
        now: DateTime<Utc>,
    ) -> Result<CaseImportReport, StoreError> {
        let framework_id = framework.id.to_string();
        let doc = &framework.document;
        let extra = FrameworkCase {
            case_version: framework.case_version.as_str().to_owned(),
            document: doc.clone(),
            definitions: framework.definitions.clone(),
            extensions: framework.package_extensions.clone(),
            extra: framework.package_extra.clone(),
        };
        let framework_extra = to_json(&extra)?;
        let doc_changed = parse_time(&doc.last_change_date_time, now);

        let competencies: Vec<CompetencyWrite> = framework
            .competencies
            .iter()
            .map(|c| {
                Ok(CompetencyWrite {
                    id: c.id.to_string(),
                    uri: c.uri.clone(),
                    code: c.code.clone(),
                    statement: c.statement.clone(),
                    abbreviated: c.item.abbreviated_statement.clone(),
                    notes: c.item.notes.clone(),
                    item_type: c.item.item_type.clone(),
                    language: c.item.language.clone(),
                    last_changed: parse_time(&c.item.last_change_date_time, now),
                    record: to_json(&c.item)?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        let associations: Vec<AssociationWrite> = framework
            .hierarchy
            .iter()
            .map(|l| &l.association)
            .chain(framework.prerequisites.iter().map(|l| &l.association))
            .chain(framework.associations.iter())
            .map(|a| association_write(a, now))
            .collect::<Result<_, StoreError>>()?;
        let rubrics: Vec<RubricWrite> = framework
            .rubrics
            .iter()
            .map(|r| {
                Ok((
                    r.identifier.to_lowercase(),
                    r.uri.clone(),
                    r.title.clone(),
                    to_json(r)?,
                    parse_time(&r.last_change_date_time, now),
                ))
            })
            .collect::<Result<_, StoreError>>()?;

        let report = write!(self, |pool| {
            let mut tx = pool.begin().await?;

            // The framework row: insert, or update ours (never another organisation's).
            let existing: Option<(String, String, i64)> =
                sqlx::query_as("SELECT org_id, status, revision FROM frameworks WHERE id = $1")
                    .bind(&framework_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let (created, revision) = match existing {
                Some((owner, _, _)) if owner != org_id => {
                    return Err(StoreError::Conflict(
                        "a framework with this CASE identifier belongs to another organisation",
                    ));
                }
                Some((_, status, _)) if status != "active" => {
                    return Err(StoreError::Conflict(
                        "the framework is retired; bring it back before re-importing",
                    ));
                }
                Some((_, _, revision)) => {
                    sqlx::query(
                        "UPDATE frameworks SET uri = $1, title = $2, creator = $3, description = $4, \
                         language = $5, version = $6, adoption_status = $7, revision = $8, \
                         last_changed = $9, case_extra = $10 WHERE id = $11",
                    )
                    .bind(&doc.uri)
                    .bind(&doc.title)
                    .bind(&doc.creator)
                    .bind(&doc.description)
                    .bind(&doc.language)
                    .bind(&doc.version)
                    .bind(&doc.adoption_status)
                    .bind(revision + 1)
                    .bind(doc_changed)
                    .bind(&framework_extra)
                    .bind(&framework_id)
                    .execute(&mut *tx)
                    .await?;
                    (false, revision + 1)
                }
                None => {
                    sqlx::query(
                        "INSERT INTO frameworks (id, uri, org_id, title, creator, description, language, \
                         version, adoption_status, status, revision, last_changed, created_at, case_extra) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', 1, $10, $11, $12)",
                    )
                    .bind(&framework_id)
                    .bind(&doc.uri)
                    .bind(org_id)
                    .bind(&doc.title)
                    .bind(&doc.creator)
                    .bind(&doc.description)
                    .bind(&doc.language)
                    .bind(&doc.version)
                    .bind(&doc.adoption_status)
                    .bind(doc_changed)
                    .bind(now)
                    .bind(&framework_extra)
                    .execute(&mut *tx)
                    .await?;
                    (true, 1)
                }
            };

            // Competencies: upsert by CASE identifier. The WHERE on the update leaves a row of
            // another framework untouched, which the row count then reveals.
            for chunk in competencies.chunks(BATCH) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO competencies (id, uri, framework_id, code, statement, abbreviated_statement, \
                     description, item_type, language, status, framework_revision, last_changed, created_at, \
                     case_extra) ",
                );
                q.push_values(chunk, |mut row, c| {
                    row.push_bind(c.id.clone())
                        .push_bind(c.uri.clone())
                        .push_bind(framework_id.clone())
                        .push_bind(c.code.clone())
                        .push_bind(c.statement.clone())
                        .push_bind(c.abbreviated.clone())
                        .push_bind(c.notes.clone())
                        .push_bind(c.item_type.clone())
                        .push_bind(c.language.clone())
                        .push_bind("active")
                        .push_bind(revision)
                        .push_bind(c.last_changed)
                        .push_bind(now)
                        .push_bind(c.record.clone());
                });
                q.push(
                    " ON CONFLICT (id) DO UPDATE SET uri = excluded.uri, code = excluded.code, \
                     statement = excluded.statement, abbreviated_statement = excluded.abbreviated_statement, \
                     description = excluded.description, item_type = excluded.item_type, \
                     language = excluded.language, status = 'active', \
                     framework_revision = excluded.framework_revision, last_changed = excluded.last_changed, \
                     case_extra = excluded.case_extra \
                     WHERE competencies.framework_id = excluded.framework_id",
                );
                let written = q.build().execute(&mut *tx).await?.rows_affected();
                if written != chunk.len() as u64 {
                    return Err(StoreError::Conflict(
                        "a competency identifier in the package belongs to another framework",
                    ));
                }
            }
            // Competencies the package no longer has were not touched at this revision.
            let retired = sqlx::query(
                "UPDATE competencies SET status = 'retired', framework_revision = $1, last_changed = $2 \
                 WHERE framework_id = $3 AND status = 'active' AND framework_revision <> $1",
            )
            .bind(revision)
            .bind(now)
            .bind(&framework_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();

            // Associations and rubrics: the package's replace the framework's.
            sqlx::query("DELETE FROM associations WHERE framework_id = $1")
                .bind(&framework_id)
                .execute(&mut *tx)
                .await?;
            for chunk in associations.chunks(BATCH) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO associations (id, uri, framework_id, association_type, origin_id, origin_uri, \
                     origin_title, destination_id, destination_uri, destination_title, sequence_number, \
                     last_changed, case_extra) ",
                );
                q.push_values(chunk, |mut row, a| {
                    row.push_bind(a.id.clone())
                        .push_bind(a.uri.clone())
                        .push_bind(framework_id.clone())
                        .push_bind(a.kind.clone())
                        .push_bind(node_id(&a.origin))
                        .push_bind(a.origin.uri.clone())
                        .push_bind(a.origin.title.clone())
                        .push_bind(node_id(&a.destination))
                        .push_bind(a.destination.uri.clone())
                        .push_bind(a.destination.title.clone())
                        .push_bind(a.sequence_number)
                        .push_bind(a.last_changed)
                        .push_bind(a.record.clone());
                });
                q.push(" ON CONFLICT (id) DO NOTHING");
                let written = q.build().execute(&mut *tx).await?.rows_affected();
                if written != chunk.len() as u64 {
                    return Err(StoreError::Conflict(
                        "an association identifier in the package belongs to another framework",
                    ));
                }
            }
            sqlx::query("DELETE FROM case_rubrics WHERE framework_id = $1")
                .bind(&framework_id)
                .execute(&mut *tx)
                .await?;
            for (id, uri, title, document, changed) in &rubrics {
                let written = sqlx::query(
                    "INSERT INTO case_rubrics (id, uri, framework_id, title, document, last_changed) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
                )
                .bind(id)
                .bind(uri)
                .bind(&framework_id)
                .bind(title)
                .bind(document)
                .bind(changed)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if written != 1 {
                    return Err(StoreError::Conflict(
                        "a rubric identifier in the package belongs to another framework",
                    ));
                }
            }

            // Prerequisites stay acyclic across the organisation's frameworks, not only inside
            // this package (which tessera-case already checked).
            if !framework.prerequisites.is_empty()
                || framework
                    .associations
                    .iter()
                    .any(|a| a.association_type == "precedes")
            {
                let edges: Vec<(String, String)> = sqlx::query_as(
                    "SELECT a.origin_id, a.destination_id FROM associations a \
                     JOIN frameworks f ON f.id = a.framework_id \
                     WHERE f.org_id = $1 AND a.association_type = 'precedes'",
                )
                .bind(org_id)
                .fetch_all(&mut *tx)
                .await?;
                if let Some(cycle) = find_cycle(&edges) {
                    let mut names = Vec::with_capacity(cycle.len());
                    for id in cycle {
                        let row: Option<(Option<String>, String)> = sqlx::query_as(
                            "SELECT code, statement FROM competencies WHERE id = $1",
                        )
                        .bind(&id)
                        .fetch_optional(&mut *tx)
                        .await?;
                        names.push(match row {
                            Some((Some(code), _)) => code,
                            Some((None, statement)) => statement.chars().take(40).collect(),
                            None => id,
                        });
                    }
                    return Err(StoreError::Domain(tessera_core::DomainError::Cycle {
                        cycle: names,
                    }));
                }
            }

            tx.commit().await?;
            CaseImportReport {
                framework_id: framework_id.clone(),
                created,
                revision,
                competencies: competencies.len(),
                retired: usize::try_from(retired).unwrap_or(usize::MAX),
                associations: associations.len(),
                rubrics: rubrics.len(),
            }
        });
        Ok(report)
    }

    /// The organisation owning a framework (for access checks before an import or export).
    pub async fn framework_org(&self, framework_id: &str) -> Result<String, StoreError> {
        let row: Option<(String,)> = read!(self, |pool| {
            sqlx::query_as("SELECT org_id FROM frameworks WHERE id = $1")
                .bind(framework_id)
                .fetch_optional(pool)
                .await?
        });
        row.map(|r| r.0).ok_or(StoreError::NotFound)
    }

    /// Rebuilds a framework for CASE export: its document, active competencies, the associations
    /// between them (and to outside nodes), definitions and rubrics. Retired competencies and
    /// the links that touch them are left out.
    #[tracing::instrument(skip_all)]
    pub async fn export_case(&self, framework_id: &str) -> Result<CaseFramework, StoreError> {
        let (framework, competencies, associations, rubrics) = read!(self, |pool| {
            let framework: Option<FrameworkRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{FRAMEWORK_SELECT} WHERE f.id = $1"
            )))
            .bind(framework_id)
            .fetch_optional(pool)
            .await?;
            let competencies: Vec<CompetencyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{COMPETENCY_SELECT} WHERE framework_id = $1 ORDER BY created_at, id"
            )))
            .bind(framework_id)
            .fetch_all(pool)
            .await?;
            let associations: Vec<AssociationRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{ASSOCIATION_SELECT} WHERE framework_id = $1 ORDER BY id"
            )))
            .bind(framework_id)
            .fetch_all(pool)
            .await?;
            let rubrics: Vec<(String,)> = sqlx::query_as(
                "SELECT document FROM case_rubrics WHERE framework_id = $1 ORDER BY id",
            )
            .bind(framework_id)
            .fetch_all(pool)
            .await?;
            (framework, competencies, associations, rubrics)
        });
        let framework = framework.ok_or(StoreError::NotFound)?;
        build_framework(framework, competencies, associations, rubrics)
    }

    /// One page of CFDocuments (active frameworks, by title) and the total count, for
    /// `GET /ims/case/v1p1/CFDocuments`.
    #[tracing::instrument(skip_all)]
    pub async fn case_documents(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<CfDocument>, i64), StoreError> {
        let (rows, total) = read!(self, |pool| {
            let rows: Vec<FrameworkRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{FRAMEWORK_SELECT} WHERE f.status = 'active' ORDER BY f.title, f.id LIMIT $1 OFFSET $2"
            )))
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
            let total: (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM frameworks WHERE status = 'active'")
                    .fetch_one(pool)
                    .await?;
            (rows, total.0)
        });
        let documents = rows
            .into_iter()
            .map(|row| document_of(&row).map(|(doc, _)| doc))
            .collect::<Result<_, _>>()?;
        Ok((documents, total))
    }

    /// One active framework's CFDocument, for `GET /ims/case/v1p1/CFDocuments/{id}`.
    pub async fn case_document(&self, id: &str) -> Result<CfDocument, StoreError> {
        let row: Option<FrameworkRow> = read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{FRAMEWORK_SELECT} WHERE f.id = $1 AND f.status = 'active'"
            )))
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        Ok(document_of(&row.ok_or(StoreError::NotFound)?)?.0)
    }

    /// One active competency as a CFItem, with a link to its framework's document.
    pub async fn case_item(&self, id: &str) -> Result<(CfItem, LinkUri), StoreError> {
        let (item, framework) = read!(self, |pool| {
            let item: Option<CompetencyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{COMPETENCY_SELECT} WHERE id = $1 AND status = 'active'"
            )))
            .bind(id)
            .fetch_optional(pool)
            .await?;
            let framework: Option<FrameworkRow> = match &item {
                Some(item) => {
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "{FRAMEWORK_SELECT} WHERE f.id = $1 AND f.status = 'active'"
                    )))
                    .bind(&item.framework_id)
                    .fetch_optional(pool)
                    .await?
                }
                None => None,
            };
            (item, framework)
        });
        let (item, framework) = item.zip(framework).ok_or(StoreError::NotFound)?;
        Ok((item_of(&item)?, document_link(&framework)))
    }

    /// One association as a CFAssociation, with a link to its framework's document.
    pub async fn case_association(&self, id: &str) -> Result<(CfAssociation, LinkUri), StoreError> {
        let (row, framework) = read!(self, |pool| {
            let row: Option<AssociationRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{ASSOCIATION_SELECT} WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(pool)
            .await?;
            let framework: Option<FrameworkRow> = match &row {
                Some(row) => {
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "{FRAMEWORK_SELECT} WHERE f.id = $1 AND f.status = 'active'"
                    )))
                    .bind(&row.framework_id)
                    .fetch_optional(pool)
                    .await?
                }
                None => None,
            };
            (row, framework)
        });
        let (row, framework) = row.zip(framework).ok_or(StoreError::NotFound)?;
        let labels = HashMap::new();
        Ok((association_of(&row, &labels)?, document_link(&framework)))
    }
}

fn document_link(row: &FrameworkRow) -> LinkUri {
    LinkUri {
        title: row.title.clone(),
        identifier: row.id.clone(),
        uri: row.uri.clone(),
    }
}

/// The CFDocument of a framework row (the stored record with the registry's columns applied)
/// and the rest of what was stored with it.
fn document_of(row: &FrameworkRow) -> Result<(CfDocument, Option<FrameworkCase>), StoreError> {
    let stored: Option<FrameworkCase> = match &row.case_extra {
        Some(text) => Some(from_json(text, "document")?),
        None => None,
    };
    let mut doc = match &stored {
        Some(s) => s.document.clone(),
        None => CfDocument {
            identifier: row.id.clone(),
            uri: row.uri.clone(),
            framework_type: None,
            case_version: Some(CaseVersion::V1_1.as_str().to_owned()),
            creator: String::new(),
            title: String::new(),
            last_change_date_time: String::new(),
            official_source_url: None,
            publisher: None,
            description: None,
            subject: Vec::new(),
            subject_uri: Vec::new(),
            language: None,
            version: None,
            adoption_status: None,
            status_start_date: None,
            status_end_date: None,
            license_uri: None,
            notes: None,
            extensions: None,
            extra: JsonObject::new(),
        },
    };
    if tessera_case::check::parse_case_uuid(&doc.identifier) != Uuid::parse_str(&row.id).ok() {
        doc.identifier.clone_from(&row.id);
    }
    doc.uri.clone_from(&row.uri);
    doc.title.clone_from(&row.title);
    // CASE requires a creator; the query already substitutes the organisation's name.
    doc.creator = row.creator.clone().unwrap_or_else(|| row.org_id.clone());
    doc.description.clone_from(&row.description);
    doc.language.clone_from(&row.language);
    doc.version.clone_from(&row.version);
    doc.adoption_status.clone_from(&row.adoption_status);
    doc.last_change_date_time = case_time(&doc.last_change_date_time, row.last_changed);
    Ok((doc, stored))
}

fn item_of(row: &CompetencyRow) -> Result<CfItem, StoreError> {
    let mut item = match &row.case_extra {
        Some(text) => from_json::<CfItem>(text, "item")?,
        None => CfItem {
            identifier: row.id.clone(),
            full_statement: String::new(),
            alternative_label: None,
            item_type: None,
            uri: row.uri.clone(),
            human_coding_scheme: None,
            list_enumeration: None,
            abbreviated_statement: None,
            concept_keywords: Vec::new(),
            concept_keywords_uri: None,
            notes: None,
            subject: Vec::new(),
            subject_uri: Vec::new(),
            language: None,
            education_level: Vec::new(),
            item_type_uri: None,
            license_uri: None,
            status_start_date: None,
            status_end_date: None,
            last_change_date_time: String::new(),
            extensions: None,
            extra: JsonObject::new(),
        },
    };
    if tessera_case::check::parse_case_uuid(&item.identifier) != Uuid::parse_str(&row.id).ok() {
        item.identifier.clone_from(&row.id);
    }
    item.uri.clone_from(&row.uri);
    item.human_coding_scheme.clone_from(&row.code);
    item.full_statement.clone_from(&row.statement);
    item.abbreviated_statement
        .clone_from(&row.abbreviated_statement);
    item.notes.clone_from(&row.description);
    item.item_type.clone_from(&row.item_type);
    item.language.clone_from(&row.language);
    item.last_change_date_time = case_time(&item.last_change_date_time, row.last_changed);
    Ok(item)
}

/// A stored association as CASE. `labels` gives titles for ends whose title was not stored
/// (associations created in Tessera), by node id.
fn association_of(
    row: &AssociationRow,
    labels: &HashMap<String, String>,
) -> Result<CfAssociation, StoreError> {
    let stored: Option<CfAssociation> = match &row.case_extra {
        Some(text) => Some(from_json(text, "association")?),
        None => None,
    };
    let end = |id: &str, uri: &str, title: &Option<String>, old: Option<&LinkGenUri>| {
        let title = title
            .clone()
            .or_else(|| labels.get(id).cloned())
            .unwrap_or_else(|| id.to_owned());
        match old {
            Some(old) if node_id(old) == id && old.uri == uri => {
                let mut link = old.clone();
                link.title = title;
                link
            }
            _ => LinkGenUri {
                title,
                identifier: id.to_owned(),
                uri: uri.to_owned(),
                target_type: None,
            },
        }
    };
    let origin = end(
        &row.origin_id,
        &row.origin_uri,
        &row.origin_title,
        stored.as_ref().map(|s| &s.origin),
    );
    let destination = end(
        &row.destination_id,
        &row.destination_uri,
        &row.destination_title,
        stored.as_ref().map(|s| &s.destination),
    );
    let mut a = stored.unwrap_or_else(|| CfAssociation {
        identifier: row.id.clone(),
        association_type: row.association_type.clone(),
        sequence_number: None,
        uri: row.uri.clone(),
        origin: origin.clone(),
        destination: destination.clone(),
        grouping_uri: None,
        last_change_date_time: String::new(),
        notes: None,
        extensions: None,
        extra: JsonObject::new(),
    });
    if tessera_case::check::parse_case_uuid(&a.identifier) != Uuid::parse_str(&row.id).ok() {
        a.identifier.clone_from(&row.id);
    }
    a.uri.clone_from(&row.uri);
    a.association_type.clone_from(&row.association_type);
    a.origin = origin;
    a.destination = destination;
    a.sequence_number = row.sequence_number;
    a.last_change_date_time = case_time(&a.last_change_date_time, row.last_changed);
    Ok(a)
}

fn build_framework(
    framework: FrameworkRow,
    competencies: Vec<CompetencyRow>,
    associations: Vec<AssociationRow>,
    rubrics: Vec<(String,)>,
) -> Result<CaseFramework, StoreError> {
    if framework.status != "active" {
        return Err(StoreError::NotFound);
    }
    let (document, stored) = document_of(&framework)?;
    let id = parse_uuid(&framework.id)?;
    let version = stored
        .as_ref()
        .and_then(|s| CaseVersion::parse(&s.case_version))
        .unwrap_or(CaseVersion::V1_1);

    let mut labels: HashMap<String, String> = HashMap::with_capacity(competencies.len() + 1);
    labels.insert(framework.id.clone(), framework.title.clone());
    let mut members: HashSet<String> = HashSet::with_capacity(competencies.len());
    let mut retired: HashSet<String> = HashSet::new();
    let mut out_competencies = Vec::with_capacity(competencies.len());
    for row in &competencies {
        if row.status != "active" {
            retired.insert(row.id.clone());
            continue;
        }
        let item = item_of(row)?;
        labels.insert(
            row.id.clone(),
            row.code.clone().unwrap_or_else(|| row.statement.clone()),
        );
        members.insert(row.id.clone());
        out_competencies.push(CaseCompetency {
            id: parse_uuid(&row.id)?,
            uri: row.uri.clone(),
            code: row.code.clone(),
            statement: row.statement.clone(),
            item,
        });
    }

    let mut hierarchy = Vec::new();
    let mut prerequisites = Vec::new();
    let mut others = Vec::new();
    for row in &associations {
        let origin_in = members.contains(&row.origin_id);
        let destination_in = members.contains(&row.destination_id);
        let destination_doc = row.destination_id == framework.id;
        let kind = AssociationType::parse(&row.association_type);
        // Links to retired competencies are not exported: their node is no longer in the
        // package and would dangle.
        if retired.contains(&row.origin_id) || retired.contains(&row.destination_id) {
            continue;
        }
        let association = association_of(row, &labels)?;
        match kind {
            AssociationType::IsChildOf if origin_in && (destination_in || destination_doc) => {
                hierarchy.push(HierarchyLink {
                    child: parse_uuid(&row.origin_id)?,
                    parent: if destination_doc {
                        Parent::Document
                    } else {
                        Parent::Competency(parse_uuid(&row.destination_id)?)
                    },
                    sequence_number: row.sequence_number,
                    association,
                });
            }
            AssociationType::Precedes if origin_in && destination_in => {
                prerequisites.push(PrerequisiteLink {
                    before: parse_uuid(&row.origin_id)?,
                    after: parse_uuid(&row.destination_id)?,
                    association,
                });
            }
            // The hierarchy of a package lies inside it; a parent link leaving the framework is
            // not CASE the importer (ours included) accepts, so it is not exported.
            AssociationType::IsChildOf => {}
            AssociationType::Precedes => {
                // A prerequisite in another framework: exported as a link to it.
                if origin_in || destination_in {
                    others.push(association);
                }
            }
            _ => {
                if origin_in || destination_in || destination_doc || row.origin_id == framework.id {
                    others.push(association);
                }
            }
        }
    }

    let rubrics = rubrics
        .iter()
        .map(|(text,)| from_json::<CfRubric>(text, "rubric"))
        .collect::<Result<Vec<_>, _>>()?;
    let (definitions, package_extensions, package_extra) = match stored {
        Some(s) => (s.definitions, s.extensions, s.extra),
        None => (None, None, JsonObject::new()),
    };
    Ok(CaseFramework {
        case_version: version,
        id,
        document,
        competencies: out_competencies,
        hierarchy,
        prerequisites,
        associations: others,
        definitions,
        rubrics,
        package_extensions,
        package_extra,
    })
}
