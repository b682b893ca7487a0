//! Frameworks (CASE `CFDocument`), competencies (`CFItem`) and associations (`CFAssociation`).
//!
//! Every change to a framework or anything in it bumps the framework's `revision` and
//! `last_changed` in the same transaction; a competency records the revision it last changed
//! in. Updates take the revision the caller read (`expected_revision`) so two editors cannot
//! silently overwrite each other. Nothing here deletes a framework or competency: they are
//! retired.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;
use tessera_core::dag::find_cycle;
use tessera_core::registry::{CaseUris, IS_CHILD_OF, PRECEDES, Status};

use crate::{Backend, ResultExt, Store, StoreError, like_pattern, new_id, read, sqlf, write};

/// A framework.
#[derive(Debug, Clone, Serialize, FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Framework {
    /// CASE identifier (UUID).
    pub id: String,
    /// CASE URI.
    pub uri: String,
    /// The owning organisation.
    pub org_id: String,
    /// CASE `title`.
    pub title: String,
    /// CASE `creator`.
    pub creator: Option<String>,
    /// CASE `description`.
    pub description: Option<String>,
    /// CASE `language`.
    pub language: Option<String>,
    /// CASE `version`: the publisher's version label.
    pub version: Option<String>,
    /// CASE `adoptionStatus`.
    pub adoption_status: Option<String>,
    /// Active or retired.
    #[sqlx(try_from = "String")]
    pub status: Status,
    /// Counts every change to the framework or its contents; starts at 1.
    pub revision: i64,
    /// CASE `lastChangeDateTime`.
    pub last_changed: DateTime<Utc>,
    /// When it was created here.
    pub created_at: DateTime<Utc>,
    /// CASE fields not modelled above, as a JSON object text (kept for export).
    #[serde(skip)]
    pub case_extra: Option<String>,
}

/// The editable fields of a framework, already validated.
#[derive(Debug, Clone, Default)]
pub struct FrameworkFields {
    /// CASE `title`.
    pub title: String,
    /// CASE `creator`.
    pub creator: Option<String>,
    /// CASE `description`.
    pub description: Option<String>,
    /// CASE `language`.
    pub language: Option<String>,
    /// CASE `version`.
    pub version: Option<String>,
    /// CASE `adoptionStatus`.
    pub adoption_status: Option<String>,
}

/// A competency with what callers usually need alongside it.
#[derive(Debug, Clone, Serialize, FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Competency {
    /// CASE identifier (UUID).
    pub id: String,
    /// CASE URI.
    pub uri: String,
    /// The framework it belongs to.
    pub framework_id: String,
    /// The organisation owning the framework (for access checks).
    pub org_id: String,
    /// CASE `humanCodingScheme`, e.g. `C.4`.
    pub code: Option<String>,
    /// CASE `fullStatement`.
    pub statement: String,
    /// CASE `abbreviatedStatement`.
    pub abbreviated_statement: Option<String>,
    /// CASE `notes`: a longer description.
    pub description: Option<String>,
    /// CASE `CFItemType`, e.g. "Standard".
    pub item_type: Option<String>,
    /// CASE `language`.
    pub language: Option<String>,
    /// Active or retired.
    #[sqlx(try_from = "String")]
    pub status: Status,
    /// The framework revision in which it last changed.
    pub framework_revision: i64,
    /// CASE `lastChangeDateTime`.
    pub last_changed: DateTime<Utc>,
    /// When it was created here.
    pub created_at: DateTime<Utc>,
    /// The parent competency in the hierarchy (`isChildOf`), if not at the top.
    pub parent_id: Option<String>,
    /// CASE fields not modelled above, as a JSON object text.
    #[serde(skip)]
    pub case_extra: Option<String>,
}

/// The editable fields of a competency, already validated.
#[derive(Debug, Clone, Default)]
pub struct CompetencyFields {
    /// CASE `humanCodingScheme`.
    pub code: Option<String>,
    /// CASE `fullStatement`.
    pub statement: String,
    /// CASE `abbreviatedStatement`.
    pub abbreviated_statement: Option<String>,
    /// CASE `notes`.
    pub description: Option<String>,
    /// CASE `CFItemType`.
    pub item_type: Option<String>,
    /// CASE `language`.
    pub language: Option<String>,
}

/// A search over one framework's competencies.
#[derive(Debug, Clone, Default)]
pub struct CompetencySearch {
    /// Case-insensitive substring of the code, statement or abbreviated statement.
    pub text: Option<String>,
    /// Exact code.
    pub code: Option<String>,
    /// Include retired competencies.
    pub include_retired: bool,
}

/// One page of results.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The offset of the next page, if there is one.
    pub next_offset: Option<i64>,
}

const FRAMEWORK_COLUMNS: &str = "id, uri, org_id, title, creator, description, language, version, \
     adoption_status, status, revision, last_changed, created_at, case_extra";

/// The competency columns (with the derived `parent_id`), as a literal for `concat!`.
macro_rules! competency_columns {
    () => {
        "SELECT c.id, c.uri, c.framework_id, f.org_id, c.code, c.statement, \
     c.abbreviated_statement, c.description, c.item_type, c.language, c.status, c.framework_revision, \
     c.last_changed, c.created_at, c.case_extra, \
     (SELECT a.destination_id FROM associations a WHERE a.origin_id = c.id \
       AND a.association_type = 'isChildOf' AND a.destination_id <> c.framework_id \
       ORDER BY a.id LIMIT 1) AS parent_id"
    };
}

const COMPETENCY_SELECT: &str = concat!(
    competency_columns!(),
    " FROM competencies c JOIN frameworks f ON f.id = c.framework_id"
);

/// One competency and its prerequisites as a JSON array, in one statement (the hot read path).
const COMPETENCY_WITH_PREREQUISITES_SQLITE: &str = concat!(
    competency_columns!(),
    ", (SELECT json_group_array(origin_id) FROM (SELECT origin_id FROM associations \
       WHERE destination_id = c.id AND association_type = 'precedes' ORDER BY origin_id)) AS prerequisites \
     FROM competencies c JOIN frameworks f ON f.id = c.framework_id WHERE c.id = $1"
);
const COMPETENCY_WITH_PREREQUISITES_POSTGRES: &str = concat!(
    competency_columns!(),
    ", (SELECT COALESCE(json_agg(origin_id ORDER BY origin_id), '[]'::json)::text FROM associations \
       WHERE destination_id = c.id AND association_type = 'precedes') AS prerequisites \
     FROM competencies c JOIN frameworks f ON f.id = c.framework_id WHERE c.id = $1"
);

#[derive(FromRow)]
struct CompetencyWithPrerequisites {
    #[sqlx(flatten)]
    competency: Competency,
    prerequisites: String,
}

/// Bumps a framework's revision inside a transaction and gives the new one. Fails with
/// `InvalidReference` if the framework is retired (retired frameworks are read-only apart from
/// being brought back).
macro_rules! bump_revision {
    ($tx:expr, $framework_id:expr, $now:expr) => {{
        let revision: Option<i64> = sqlx::query_scalar(
            "UPDATE frameworks SET revision = revision + 1, last_changed = $1 \
             WHERE id = $2 AND status = 'active' RETURNING revision",
        )
        .bind($now)
        .bind($framework_id)
        .fetch_optional(&mut *$tx)
        .await?;
        revision.ok_or(StoreError::InvalidReference("the framework is retired"))?
    }};
}

fn page<T>(mut items: Vec<T>, limit: i64, offset: i64) -> Page<T> {
    let more = usize::try_from(limit).is_ok_and(|l| items.len() > l);
    if more {
        items.pop();
    }
    Page {
        items,
        next_offset: more.then_some(offset + limit),
    }
}

impl Store {
    fn code_order(&self) -> &'static str {
        // Byte order on both backends, so pages come out the same everywhere.
        match self.backend() {
            Backend::Sqlite => "COALESCE(c.code, '') COLLATE BINARY, c.id",
            Backend::Postgres => "COALESCE(c.code, '') COLLATE \"C\", c.id",
        }
    }

    /// Creates a framework owned by `org_id` with a fresh identifier, at revision 1.
    #[tracing::instrument(skip_all)]
    pub async fn create_framework(
        &self,
        org_id: &str,
        fields: &FrameworkFields,
        uris: &CaseUris,
        now: DateTime<Utc>,
    ) -> Result<Framework, StoreError> {
        let id = new_id();
        let uri = uris.document(&id);
        Ok(write!(self, |pool| {
            sqlx::query_as(sqlf!(
                "INSERT INTO frameworks (id, uri, org_id, title, creator, description, language, version, \
                 adoption_status, status, revision, last_changed, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', 1, $10, $10) RETURNING {FRAMEWORK_COLUMNS}"
            ))
            .bind(&id)
            .bind(&uri)
            .bind(org_id)
            .bind(&fields.title)
            .bind(&fields.creator)
            .bind(&fields.description)
            .bind(&fields.language)
            .bind(&fields.version)
            .bind(&fields.adoption_status)
            .bind(now)
            .fetch_one(pool)
            .await
            .on_conflict("a framework with this identifier exists")?
        }))
    }

    /// One framework.
    #[tracing::instrument(skip_all)]
    pub async fn framework(&self, id: &str) -> Result<Framework, StoreError> {
        let f = read!(self, |pool| {
            sqlx::query_as(sqlf!(
                "SELECT {FRAMEWORK_COLUMNS} FROM frameworks WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        f.ok_or(StoreError::NotFound)
    }

    /// An organisation's frameworks by title.
    #[tracing::instrument(skip_all)]
    pub async fn frameworks(
        &self,
        org_id: &str,
        include_retired: bool,
        limit: i64,
        offset: i64,
    ) -> Result<Page<Framework>, StoreError> {
        let items = read!(self, |pool| {
            sqlx::query_as(sqlf!(
                "SELECT {FRAMEWORK_COLUMNS} FROM frameworks WHERE org_id = $1 AND ($2 OR status = 'active') \
                 ORDER BY title, id LIMIT $3 OFFSET $4"
            ))
            .bind(org_id)
            .bind(include_retired)
            .bind(limit + 1)
            .bind(offset)
            .fetch_all(pool)
            .await?
        });
        Ok(page(items, limit, offset))
    }

    /// Replaces a framework's editable fields and sets its status, if the caller saw
    /// `expected_revision` (otherwise a conflict: someone else edited it meanwhile).
    #[tracing::instrument(skip_all)]
    pub async fn update_framework(
        &self,
        id: &str,
        expected_revision: i64,
        fields: &FrameworkFields,
        status: Status,
        now: DateTime<Utc>,
    ) -> Result<Framework, StoreError> {
        let updated: Option<Framework> = write!(self, |pool| {
            sqlx::query_as(sqlf!(
                "UPDATE frameworks SET title = $1, creator = $2, description = $3, language = $4, version = $5, \
                 adoption_status = $6, status = $7, revision = revision + 1, last_changed = $8 \
                 WHERE id = $9 AND revision = $10 RETURNING {FRAMEWORK_COLUMNS}"
            ))
            .bind(&fields.title)
            .bind(&fields.creator)
            .bind(&fields.description)
            .bind(&fields.language)
            .bind(&fields.version)
            .bind(&fields.adoption_status)
            .bind(status.as_str())
            .bind(now)
            .bind(id)
            .bind(expected_revision)
            .fetch_optional(pool)
            .await?
        });
        match updated {
            Some(f) => Ok(f),
            None => {
                self.framework(id).await?;
                Err(StoreError::Conflict(
                    "the framework changed since it was read",
                ))
            }
        }
    }

    /// Creates a competency in an active framework, under `parent_id` (a competency of the same
    /// framework) or at the top, and bumps the framework's revision.
    #[tracing::instrument(skip_all)]
    pub async fn create_competency(
        &self,
        framework_id: &str,
        fields: &CompetencyFields,
        parent_id: Option<&str>,
        uris: &CaseUris,
        now: DateTime<Utc>,
    ) -> Result<Competency, StoreError> {
        let id = new_id();
        let uri = uris.item(&id);
        let assoc_id = new_id();
        let assoc_uri = uris.association(&assoc_id);
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let revision = bump_revision!(tx, framework_id, now);
            let (dest_id, dest_uri): (String, String) = match parent_id {
                Some(parent) => sqlx::query_as(
                    "SELECT id, uri FROM competencies WHERE id = $1 AND framework_id = $2",
                )
                .bind(parent)
                .bind(framework_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::InvalidReference(
                    "the parent is not a competency of this framework",
                ))?,
                None => {
                    sqlx::query_as("SELECT id, uri FROM frameworks WHERE id = $1")
                        .bind(framework_id)
                        .fetch_one(&mut *tx)
                        .await?
                }
            };
            sqlx::query(
                "INSERT INTO competencies (id, uri, framework_id, code, statement, abbreviated_statement, \
                 description, item_type, language, status, framework_revision, last_changed, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $10, $11, $11)",
            )
            .bind(&id)
            .bind(&uri)
            .bind(framework_id)
            .bind(&fields.code)
            .bind(&fields.statement)
            .bind(&fields.abbreviated_statement)
            .bind(&fields.description)
            .bind(&fields.item_type)
            .bind(&fields.language)
            .bind(revision)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO associations (id, uri, framework_id, association_type, origin_id, origin_uri, \
                 destination_id, destination_uri, last_changed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&assoc_id)
            .bind(&assoc_uri)
            .bind(framework_id)
            .bind(IS_CHILD_OF)
            .bind(&id)
            .bind(&uri)
            .bind(&dest_id)
            .bind(&dest_uri)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        self.competency(&id).await
    }

    /// One competency.
    #[tracing::instrument(skip_all)]
    pub async fn competency(&self, id: &str) -> Result<Competency, StoreError> {
        let c = read!(self, |pool| {
            sqlx::query_as(sqlf!("{COMPETENCY_SELECT} WHERE c.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        c.ok_or(StoreError::NotFound)
    }

    /// One competency and the identifiers of its prerequisites (sorted), in one query.
    #[tracing::instrument(skip_all)]
    pub async fn competency_with_prerequisites(
        &self,
        id: &str,
    ) -> Result<(Competency, Vec<String>), StoreError> {
        let sql = match self.backend() {
            Backend::Sqlite => COMPETENCY_WITH_PREREQUISITES_SQLITE,
            Backend::Postgres => COMPETENCY_WITH_PREREQUISITES_POSTGRES,
        };
        let row: Option<CompetencyWithPrerequisites> = read!(self, |pool| {
            sqlx::query_as(sql).bind(id).fetch_optional(pool).await?
        });
        let row = row.ok_or(StoreError::NotFound)?;
        let prerequisites: Vec<String> = serde_json::from_str(&row.prerequisites)
            .map_err(|e| StoreError::Corrupt(format!("prerequisite list: {e}")))?;
        Ok((row.competency, prerequisites))
    }

    /// The identifiers of a competency's prerequisites (origins of `precedes` into it), sorted.
    #[tracing::instrument(skip_all)]
    pub async fn prerequisites(&self, id: &str) -> Result<Vec<String>, StoreError> {
        Ok(read!(self, |pool| {
            sqlx::query_scalar(
                "SELECT origin_id FROM associations WHERE destination_id = $1 AND association_type = 'precedes' \
                 ORDER BY origin_id",
            )
            .bind(id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// A page of a framework's competencies ordered by code, filtered by `search`.
    #[tracing::instrument(skip_all)]
    pub async fn competencies(
        &self,
        framework_id: &str,
        search: &CompetencySearch,
        limit: i64,
        offset: i64,
    ) -> Result<Page<Competency>, StoreError> {
        let text = search.text.as_deref().map(like_pattern);
        let sql = format!(
            "{COMPETENCY_SELECT} WHERE c.framework_id = $1 AND ($2 OR c.status = 'active') \
             AND ($3 IS NULL OR c.code = $3) \
             AND ($4 IS NULL OR lower(COALESCE(c.code, '')) LIKE $4 ESCAPE '\\' \
                  OR lower(c.statement) LIKE $4 ESCAPE '\\' \
                  OR lower(COALESCE(c.abbreviated_statement, '')) LIKE $4 ESCAPE '\\') \
             ORDER BY {} LIMIT $5 OFFSET $6",
            self.code_order()
        );
        let items = read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(framework_id)
                .bind(search.include_retired)
                .bind(&search.code)
                .bind(&text)
                .bind(limit + 1)
                .bind(offset)
                .fetch_all(pool)
                .await?
        });
        Ok(page(items, limit, offset))
    }

    /// Replaces a competency's fields, status and parent if the framework is still at
    /// `expected_revision`. Moving it under one of its own descendants is rejected naming the
    /// loop.
    #[tracing::instrument(skip_all)]
    #[allow(clippy::too_many_arguments)] // each is one named part of the change
    pub async fn update_competency(
        &self,
        id: &str,
        expected_revision: i64,
        fields: &CompetencyFields,
        status: Status,
        parent_id: Option<&str>,
        uris: &CaseUris,
        now: DateTime<Utc>,
    ) -> Result<Competency, StoreError> {
        let current = self.competency(id).await?;
        let framework_id = current.framework_id.clone();
        let assoc_id = new_id();
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let seen: Option<i64> =
                sqlx::query_scalar("SELECT revision FROM frameworks WHERE id = $1")
                    .bind(&framework_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if seen != Some(expected_revision) {
                return Err(StoreError::Conflict(
                    "the framework changed since it was read",
                ));
            }
            let revision = bump_revision!(tx, &framework_id, now);
            if parent_id != current.parent_id.as_deref() {
                let (dest_id, dest_uri): (String, String) = match parent_id {
                    Some(parent) => {
                        let found: (String, String) = sqlx::query_as(
                            "SELECT id, uri FROM competencies WHERE id = $1 AND framework_id = $2",
                        )
                        .bind(parent)
                        .bind(&framework_id)
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or(StoreError::InvalidReference(
                            "the parent is not a competency of this framework",
                        ))?;
                        let mut edges: Vec<(String, String)> = sqlx::query_as(
                            "SELECT origin_id, destination_id FROM associations \
                             WHERE framework_id = $1 AND association_type = 'isChildOf' AND origin_id <> $2",
                        )
                        .bind(&framework_id)
                        .bind(id)
                        .fetch_all(&mut *tx)
                        .await?;
                        edges.push((id.to_owned(), parent.to_owned()));
                        if let Some(cycle) = find_cycle(&edges) {
                            let labels = labels(&mut tx, cycle).await?;
                            return Err(StoreError::Domain(tessera_core::DomainError::Cycle {
                                cycle: labels,
                            }));
                        }
                        found
                    }
                    None => {
                        sqlx::query_as("SELECT id, uri FROM frameworks WHERE id = $1")
                            .bind(&framework_id)
                            .fetch_one(&mut *tx)
                            .await?
                    }
                };
                sqlx::query("DELETE FROM associations WHERE origin_id = $1 AND association_type = 'isChildOf'")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO associations (id, uri, framework_id, association_type, origin_id, origin_uri, \
                     destination_id, destination_uri, last_changed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&assoc_id)
                .bind(uris.association(&assoc_id))
                .bind(&framework_id)
                .bind(IS_CHILD_OF)
                .bind(id)
                .bind(&current.uri)
                .bind(&dest_id)
                .bind(&dest_uri)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "UPDATE competencies SET code = $1, statement = $2, abbreviated_statement = $3, description = $4, \
                 item_type = $5, language = $6, status = $7, framework_revision = $8, last_changed = $9 WHERE id = $10",
            )
            .bind(&fields.code)
            .bind(&fields.statement)
            .bind(&fields.abbreviated_statement)
            .bind(&fields.description)
            .bind(&fields.item_type)
            .bind(&fields.language)
            .bind(status.as_str())
            .bind(revision)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        self.competency(id).await
    }

    /// Replaces the prerequisites of competency `id` with `prerequisite_ids` (competencies of
    /// frameworks of the same organisation). Rejects, writing nothing, a set that would make the
    /// prerequisite graph cyclic, naming the cycle by codes: `C.4 → C.2 → C.4`.
    #[tracing::instrument(skip_all)]
    pub async fn replace_prerequisites(
        &self,
        id: &str,
        prerequisite_ids: &[String],
        uris: &CaseUris,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        let current = self.competency(id).await?;
        let mut wanted: Vec<String> = prerequisite_ids.to_vec();
        wanted.sort();
        wanted.dedup();
        write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let revision = bump_revision!(tx, &current.framework_id, now);
            let mut origins = Vec::with_capacity(wanted.len());
            for p in &wanted {
                let found: Option<(String, String)> = sqlx::query_as(
                    "SELECT c.id, c.uri FROM competencies c JOIN frameworks f ON f.id = c.framework_id \
                     WHERE c.id = $1 AND f.org_id = $2",
                )
                .bind(p)
                .bind(&current.org_id)
                .fetch_optional(&mut *tx)
                .await?;
                origins.push(found.ok_or(StoreError::InvalidReference(
                    "a prerequisite is not a competency of this organisation",
                ))?);
            }
            let mut edges: Vec<(String, String)> = sqlx::query_as(
                "SELECT a.origin_id, a.destination_id FROM associations a JOIN frameworks f ON f.id = a.framework_id \
                 WHERE f.org_id = $1 AND a.association_type = 'precedes' AND a.destination_id <> $2",
            )
            .bind(&current.org_id)
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            edges.extend(wanted.iter().map(|p| (p.clone(), id.to_owned())));
            if let Some(cycle) = find_cycle(&edges) {
                let labels = labels(&mut tx, cycle).await?;
                return Err(StoreError::Domain(tessera_core::DomainError::Cycle {
                    cycle: labels,
                }));
            }
            sqlx::query("DELETE FROM associations WHERE destination_id = $1 AND association_type = 'precedes'")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            for (origin_id, origin_uri) in &origins {
                let assoc_id = new_id();
                sqlx::query(
                    "INSERT INTO associations (id, uri, framework_id, association_type, origin_id, origin_uri, \
                     destination_id, destination_uri, last_changed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&assoc_id)
                .bind(uris.association(&assoc_id))
                .bind(&current.framework_id)
                .bind(PRECEDES)
                .bind(origin_id)
                .bind(origin_uri)
                .bind(id)
                .bind(&current.uri)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "UPDATE competencies SET framework_revision = $1, last_changed = $2 WHERE id = $3",
            )
            .bind(revision)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(wanted)
    }

    /// The hierarchy of a framework as (child, parent) pairs; top-level competencies have the
    /// framework's id as parent.
    #[tracing::instrument(skip_all)]
    pub async fn hierarchy(&self, framework_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        Ok(read!(self, |pool| {
            sqlx::query_as(
                "SELECT origin_id, destination_id FROM associations \
                 WHERE framework_id = $1 AND association_type = 'isChildOf' ORDER BY sequence_number, origin_id",
            )
            .bind(framework_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Row counts of the registry tables (tests use them to prove a rejected request wrote
    /// nothing).
    pub async fn registry_counts(&self) -> Result<[i64; 3], StoreError> {
        Ok(read!(self, |pool| {
            let row: (i64, i64, i64) = sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM frameworks), (SELECT COUNT(*) FROM competencies), \
                 (SELECT COUNT(*) FROM associations)",
            )
            .fetch_one(pool)
            .await?;
            [row.0, row.1, row.2]
        }))
    }
}

/// Names the nodes of a cycle by code (or the start of the statement when there is none).
async fn labels<E: CycleLabels>(tx: &mut E, cycle: Vec<String>) -> Result<Vec<String>, StoreError> {
    tx.labels(cycle).await
}

/// Looking up labels inside whichever backend's transaction is open.
trait CycleLabels {
    async fn labels(&mut self, cycle: Vec<String>) -> Result<Vec<String>, StoreError>;
}

macro_rules! impl_cycle_labels {
    ($db:ty) => {
        impl CycleLabels for sqlx::Transaction<'_, $db> {
            async fn labels(&mut self, cycle: Vec<String>) -> Result<Vec<String>, StoreError> {
                let mut out = Vec::with_capacity(cycle.len());
                for id in cycle {
                    let row: Option<(Option<String>, String)> =
                        sqlx::query_as("SELECT code, statement FROM competencies WHERE id = $1")
                            .bind(&id)
                            .fetch_optional(&mut **self)
                            .await?;
                    out.push(match row {
                        Some((Some(code), _)) => code,
                        Some((None, statement)) => statement.chars().take(40).collect(),
                        None => id,
                    });
                }
                Ok(out)
            }
        }
    };
}
impl_cycle_labels!(sqlx::Sqlite);
impl_cycle_labels!(sqlx::Postgres);
