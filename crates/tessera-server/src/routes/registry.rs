//! The competency registry: frameworks and competencies, their hierarchy and prerequisites.
//!
//! Reading needs any role in the owning organisation; changing needs admin or teacher there.
//! Edits carry the framework `revision` the editor read, so concurrent edits conflict (409)
//! instead of overwriting each other. Retiring is an edit (`"status": "retired"`); nothing is
//! ever deleted.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tessera_core::account::Role;
use tessera_core::registry::{self as reg, Status, limits};
use tessera_store::registry::{
    Competency, CompetencyFields, CompetencySearch, Framework, FrameworkFields,
};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Auth, Caller};
use crate::error::{AppError, ProblemDoc};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::routes::{PageQuery, nullable};
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_frameworks, create_framework))
        .routes(routes!(get_framework, update_framework))
        .routes(routes!(list_competencies, create_competency))
        .routes(routes!(get_competency, update_competency))
        .routes(routes!(put_prerequisites))
}

/// A new framework.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFrameworkRequest {
    /// CASE `title`.
    pub title: String,
    /// CASE `creator`.
    pub creator: Option<String>,
    /// CASE `description`.
    pub description: Option<String>,
    /// CASE `language` (BCP 47).
    pub language: Option<String>,
    /// CASE `version`, the publisher's label.
    pub version: Option<String>,
    /// CASE `adoptionStatus`.
    pub adoption_status: Option<String>,
}

/// Changes to a framework. Absent fields stay; `null` clears an optional field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FrameworkPatch {
    /// The `revision` the editor read; a different current revision is a 409.
    pub revision: i64,
    /// New title.
    pub title: Option<String>,
    /// New creator.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub creator: Option<Option<String>>,
    /// New description.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// New language.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub language: Option<Option<String>>,
    /// New version label.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub version: Option<Option<String>>,
    /// New adoption status.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub adoption_status: Option<Option<String>>,
    /// `retired` to retire, `active` to bring back.
    pub status: Option<Status>,
}

/// A new competency.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCompetencyRequest {
    /// CASE `humanCodingScheme`, e.g. `C.4`.
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
    /// The parent competency (same framework); none for the top level.
    pub parent_id: Option<String>,
}

/// Changes to a competency. Absent fields stay; `null` clears an optional field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompetencyPatch {
    /// The framework `revision` the editor read.
    pub revision: i64,
    /// New code.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub code: Option<Option<String>>,
    /// New statement.
    pub statement: Option<String>,
    /// New abbreviated statement.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub abbreviated_statement: Option<Option<String>>,
    /// New description.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// New item type.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub item_type: Option<Option<String>>,
    /// New language.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub language: Option<Option<String>>,
    /// New parent; `null` moves it to the top level.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub parent_id: Option<Option<String>>,
    /// `retired` to retire, `active` to bring back.
    pub status: Option<Status>,
}

/// The complete set of prerequisites of a competency.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrerequisitesRequest {
    /// Competencies (of this organisation) that must come first.
    pub prerequisites: Vec<String>,
}

/// A competency with its prerequisites.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompetencyView {
    /// The competency.
    #[serde(flatten)]
    pub competency: Competency,
    /// Identifiers of its prerequisites.
    pub prerequisites: Vec<String>,
}

/// A page of frameworks.
#[derive(Debug, Serialize, ToSchema)]
pub struct FrameworkPage {
    /// The frameworks.
    pub items: Vec<Framework>,
    /// `offset` of the next page, if any.
    pub next_offset: Option<i64>,
}

/// A page of competencies.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompetencyPage {
    /// The competencies (without prerequisites; fetch one for those).
    pub items: Vec<Competency>,
    /// `offset` of the next page, if any.
    pub next_offset: Option<i64>,
}

/// Filters for listing frameworks.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FrameworkQuery {
    /// Include retired frameworks.
    #[serde(default)]
    pub include_retired: bool,
    /// Page size (1–500, default 50).
    pub limit: Option<u32>,
    /// Items to skip.
    pub offset: Option<u32>,
}

/// Filters for listing and searching competencies.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CompetencyQuery {
    /// Case-insensitive text in the code, statement or abbreviated statement.
    pub q: Option<String>,
    /// Exact code.
    pub code: Option<String>,
    /// Include retired competencies.
    #[serde(default)]
    pub include_retired: bool,
    /// Page size (1–500, default 50).
    pub limit: Option<u32>,
    /// Items to skip.
    pub offset: Option<u32>,
}

fn framework_fields(
    title: &str,
    creator: Option<&str>,
    description: Option<&str>,
    language: Option<&str>,
    version: Option<&str>,
    adoption_status: Option<&str>,
) -> Result<FrameworkFields, AppError> {
    Ok(FrameworkFields {
        title: reg::required_text("title", title, limits::TITLE)?,
        creator: reg::optional_text("creator", creator, limits::SHORT)?,
        description: reg::optional_text("description", description, limits::DESCRIPTION)?,
        language: reg::language_tag(language)?,
        version: reg::optional_text("version", version, limits::SHORT)?,
        adoption_status: reg::optional_text("adoption_status", adoption_status, limits::SHORT)?,
    })
}

#[allow(clippy::too_many_arguments)] // one argument per CASE field, named at the call
fn competency_fields(
    code: Option<&str>,
    statement: &str,
    abbreviated_statement: Option<&str>,
    description: Option<&str>,
    item_type: Option<&str>,
    language: Option<&str>,
) -> Result<CompetencyFields, AppError> {
    Ok(CompetencyFields {
        code: reg::code(code)?,
        statement: reg::required_text("statement", statement, limits::STATEMENT)?,
        abbreviated_statement: reg::optional_text(
            "abbreviated_statement",
            abbreviated_statement,
            limits::SHORT,
        )?,
        description: reg::optional_text("description", description, limits::DESCRIPTION)?,
        item_type: reg::optional_text("item_type", item_type, limits::SHORT)?,
        language: reg::language_tag(language)?,
    })
}

/// Patched value of a nullable field: the patch's when present, else the current one.
fn merged<'a>(patch: &'a Option<Option<String>>, current: &'a Option<String>) -> Option<&'a str> {
    match patch {
        Some(v) => v.as_deref(),
        None => current.as_deref(),
    }
}

fn editor(caller: &Caller, org_id: &str) -> Result<(), AppError> {
    caller.require_role(org_id, Role::can_edit_registry)
}

/// An organisation's frameworks, by title. Members.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/frameworks", tag = "registry",
    params(("slug" = String, Path), FrameworkQuery), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = FrameworkPage), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn list_frameworks(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
    AppQuery(q): AppQuery<FrameworkQuery>,
) -> Result<AppJson<FrameworkPage>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_member(&org.id)?;
    let (limit, offset) = PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .bounds()?;
    let page = state
        .store
        .frameworks(&org.id, q.include_retired, limit, offset)
        .await?;
    Ok(AppJson(FrameworkPage {
        items: page.items,
        next_offset: page.next_offset,
    }))
}

/// Creates a framework. Admins and teachers of the organisation.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/frameworks", tag = "registry",
    params(("slug" = String, Path)), request_body = NewFrameworkRequest, security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = Framework), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn create_framework(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
    AppJson(req): AppJson<NewFrameworkRequest>,
) -> Result<(StatusCode, AppJson<Framework>), AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    editor(&caller, &org.id)?;
    let fields = framework_fields(
        &req.title,
        req.creator.as_deref(),
        req.description.as_deref(),
        req.language.as_deref(),
        req.version.as_deref(),
        req.adoption_status.as_deref(),
    )?;
    let fw = state
        .store
        .create_framework(&org.id, &fields, &state.uris, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, AppJson(fw)))
}

/// One framework. Members of the owning organisation.
#[utoipa::path(get, path = "/api/v1/frameworks/{id}", tag = "registry", params(("id" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Framework), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn get_framework(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(id): AppPath<String>,
) -> Result<AppJson<Framework>, AppError> {
    let fw = state.store.framework(&id).await?;
    caller.require_member(&fw.org_id)?;
    Ok(AppJson(fw))
}

/// Edits, retires or restores a framework. Admins and teachers of the owning organisation.
#[utoipa::path(patch, path = "/api/v1/frameworks/{id}", tag = "registry", params(("id" = String, Path)),
    request_body = FrameworkPatch, security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Framework), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn update_framework(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(id): AppPath<String>,
    AppJson(patch): AppJson<FrameworkPatch>,
) -> Result<AppJson<Framework>, AppError> {
    let fw = state.store.framework(&id).await?;
    editor(&caller, &fw.org_id)?;
    let fields = framework_fields(
        patch.title.as_deref().unwrap_or(&fw.title),
        merged(&patch.creator, &fw.creator),
        merged(&patch.description, &fw.description),
        merged(&patch.language, &fw.language),
        merged(&patch.version, &fw.version),
        merged(&patch.adoption_status, &fw.adoption_status),
    )?;
    let status = patch.status.unwrap_or(fw.status);
    let updated = state
        .store
        .update_framework(&id, patch.revision, &fields, status, state.clock.now())
        .await?;
    Ok(AppJson(updated))
}

/// A framework's competencies ordered by code, with search by text (`q`) or exact `code`.
/// Members of the owning organisation.
#[utoipa::path(get, path = "/api/v1/frameworks/{id}/competencies", tag = "registry",
    params(("id" = String, Path), CompetencyQuery), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = CompetencyPage), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn list_competencies(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(id): AppPath<String>,
    AppQuery(q): AppQuery<CompetencyQuery>,
) -> Result<AppJson<CompetencyPage>, AppError> {
    let fw = state.store.framework(&id).await?;
    caller.require_member(&fw.org_id)?;
    let (limit, offset) = PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .bounds()?;
    let text = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if text.is_some_and(|t| t.chars().count() > 200) {
        return Err(AppError::InvalidParameter(
            "q must be at most 200 characters".into(),
        ));
    }
    let search = CompetencySearch {
        text: text.map(str::to_owned),
        code: q.code.filter(|c| !c.is_empty()),
        include_retired: q.include_retired,
    };
    let page = state
        .store
        .competencies(&id, &search, limit, offset)
        .await?;
    Ok(AppJson(CompetencyPage {
        items: page.items,
        next_offset: page.next_offset,
    }))
}

/// Creates a competency in an active framework. Admins and teachers of the owning organisation.
#[utoipa::path(post, path = "/api/v1/frameworks/{id}/competencies", tag = "registry",
    params(("id" = String, Path)), request_body = NewCompetencyRequest, security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = CompetencyView), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn create_competency(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(id): AppPath<String>,
    AppJson(req): AppJson<NewCompetencyRequest>,
) -> Result<(StatusCode, AppJson<CompetencyView>), AppError> {
    let fw = state.store.framework(&id).await?;
    editor(&caller, &fw.org_id)?;
    let fields = competency_fields(
        req.code.as_deref(),
        &req.statement,
        req.abbreviated_statement.as_deref(),
        req.description.as_deref(),
        req.item_type.as_deref(),
        req.language.as_deref(),
    )?;
    let competency = state
        .store
        .create_competency(
            &id,
            &fields,
            req.parent_id.as_deref(),
            &state.uris,
            state.clock.now(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        AppJson(CompetencyView {
            competency,
            prerequisites: Vec::new(),
        }),
    ))
}

/// One competency with its prerequisites. Members of the owning organisation.
#[utoipa::path(get, path = "/api/v1/competencies/{id}", tag = "registry", params(("id" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = CompetencyView), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn get_competency(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(id): AppPath<String>,
) -> Result<AppJson<CompetencyView>, AppError> {
    let (competency, prerequisites) = state.store.competency_with_prerequisites(&id).await?;
    caller.require_member(&competency.org_id)?;
    Ok(AppJson(CompetencyView {
        competency,
        prerequisites,
    }))
}

/// Edits, moves, retires or restores a competency. Admins and teachers of the owning
/// organisation. Moving it under its own descendant is a 422 `prerequisite-cycle` naming the loop.
#[utoipa::path(patch, path = "/api/v1/competencies/{id}", tag = "registry", params(("id" = String, Path)),
    request_body = CompetencyPatch, security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = CompetencyView), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn update_competency(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(id): AppPath<String>,
    AppJson(patch): AppJson<CompetencyPatch>,
) -> Result<AppJson<CompetencyView>, AppError> {
    let c = state.store.competency(&id).await?;
    editor(&caller, &c.org_id)?;
    let fields = competency_fields(
        merged(&patch.code, &c.code),
        patch.statement.as_deref().unwrap_or(&c.statement),
        merged(&patch.abbreviated_statement, &c.abbreviated_statement),
        merged(&patch.description, &c.description),
        merged(&patch.item_type, &c.item_type),
        merged(&patch.language, &c.language),
    )?;
    let parent = merged(&patch.parent_id, &c.parent_id);
    let status = patch.status.unwrap_or(c.status);
    let competency = state
        .store
        .update_competency(
            &id,
            patch.revision,
            &fields,
            status,
            parent,
            &state.uris,
            state.clock.now(),
        )
        .await?;
    let prerequisites = state.store.prerequisites(&id).await?;
    Ok(AppJson(CompetencyView {
        competency,
        prerequisites,
    }))
}

/// Replaces a competency's prerequisites. A set that would close a cycle is a 422
/// `prerequisite-cycle` whose `cycle` names it (`C.4 → C.2 → C.4`); nothing is written.
/// Admins and teachers of the owning organisation.
#[utoipa::path(put, path = "/api/v1/competencies/{id}/prerequisites", tag = "registry",
    params(("id" = String, Path)), request_body = PrerequisitesRequest, security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = CompetencyView), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn put_prerequisites(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(id): AppPath<String>,
    AppJson(req): AppJson<PrerequisitesRequest>,
) -> Result<AppJson<CompetencyView>, AppError> {
    let c = state.store.competency(&id).await?;
    editor(&caller, &c.org_id)?;
    if req.prerequisites.len() > 1000 {
        return Err(AppError::Validation {
            field: "prerequisites",
            reason: "at most 1000".into(),
        });
    }
    let prerequisites = state
        .store
        .replace_prerequisites(&id, &req.prerequisites, &state.uris, state.clock.now())
        .await?;
    let competency = state.store.competency(&id).await?;
    Ok(AppJson(CompetencyView {
        competency,
        prerequisites,
    }))
}
