//! Bulk and automatic issuance in the API: batches (JSON rows or a CSV file) that the workers of
//! [`crate::bulk_worker`] issue, their progress and per-row errors; the issuance setting of a
//! framework; the masteries waiting for a teacher's approval.
//!
//! Teachers and admins of the organisation make and read batches (the same people who issue
//! one credential); admins set a framework's issuance. Batch bodies may be as large as the
//! import limit (`import_max_body_bytes`, 64 MiB by default), not the general 1 MiB.

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_core::account::Role;
use tessera_store::batches::{BatchRow, BatchSummary};
use tessera_store::issuance::AwaitingCredential;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::bulk_worker::{self, RawRow};
use crate::error::{AppError, ProblemDoc};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::routes::PageQuery;
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    // The two uploads read their own, larger limit (see `read_body`).
    let uploads = OpenApiRouter::new()
        .routes(routes!(create_batch, list_batches))
        .routes(routes!(upload_csv))
        .layer(DefaultBodyLimit::disable());
    OpenApiRouter::new()
        .merge(uploads)
        .routes(routes!(get_batch))
        .routes(routes!(batch_rows))
        .routes(routes!(get_framework_issuance, put_framework_issuance))
        .routes(routes!(awaiting))
}

pub(crate) fn is_issuer_role(r: Role) -> bool {
    matches!(r, Role::Teacher | Role::Admin)
}

/// Reads a request body up to `limit` bytes.
pub(crate) async fn read_body(body: Body, limit: usize) -> Result<Bytes, AppError> {
    use http_body_util::BodyExt as _;
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(AppError::PayloadTooLarge),
        Err(_) => Err(AppError::MalformedJson("the body could not be read".into())),
    }
}

/// A batch: one object per row. Each row is checked on its own: a malformed one is stored as
/// failed with its reason and the others are issued.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// The rows, each `{"key", "learner", "competency", "level"?, "activity_start"?,
    /// "activity_end"?}`: `key` is the caller's unique key for the row (a row whose key was
    /// used before is not issued again), `learner` a learner's user id or e-mail, `competency`
    /// a competency's code or id, dates `YYYY-MM-DD` or RFC 3339 (`activity_end` defaults to
    /// now).
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<Value>,
}

async fn enqueue(
    state: &AppState,
    slug: &str,
    caller: &crate::auth::Caller,
    source: &str,
    raw: Vec<RawRow>,
) -> Result<BatchSummary, AppError> {
    let org = state.store.org_by_slug(slug).await?;
    caller.require_role(&org.id, is_issuer_role)?;
    let now = state.clock.now();
    let rows = bulk_worker::prepare_rows(&state.store, &org.id, raw, now).await?;
    Ok(state
        .store
        .create_batch(&org.id, Some(caller.user_id()), source, &rows, now)
        .await?)
}

/// Makes a batch from JSON rows (teachers and admins). 201 with the batch: rows refused at once
/// (malformed, unknown learner or competency, duplicate key) are already counted as failed,
/// rows whose key an earlier batch issued as issued; the rest are issued by the workers. Watch
/// progress at `GET …/issue-batches/{id}`.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/issue-batches", tag = "credentials",
    params(("slug" = String, Path)), request_body = BatchRequest,
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = BatchSummary),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn create_batch(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, AppJson<BatchSummary>), AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, is_issuer_role)?;
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return Err(AppError::UnsupportedMediaType);
    }
    let bytes = read_body(body, state.config.import_max_body_bytes).await?;
    let request: BatchRequest = serde_json::from_slice(&bytes).map_err(|e| {
        if e.is_data() {
            AppError::InvalidBody(e.to_string())
        } else {
            AppError::MalformedJson(e.to_string())
        }
    })?;
    let raw = bulk_worker::parse_json_rows(&request.rows);
    let summary = enqueue(&state, &slug, &caller, "api", raw).await?;
    Ok((StatusCode::CREATED, AppJson(summary)))
}

/// Makes a batch from a CSV file (the body, `text/csv`; teachers and admins). The header names
/// the columns: `key`, `learner`, `competency` and optionally `level`, `activity_start`,
/// `activity_end`. A bad header refuses the file (422 `validation-failed`); a bad record only
/// its row. 201 with the batch.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/issue-batches/csv", tag = "credentials",
    params(("slug" = String, Path)),
    request_body(content = String, content_type = "text/csv"),
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = BatchSummary),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn upload_csv(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
    body: Body,
) -> Result<(StatusCode, AppJson<BatchSummary>), AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, is_issuer_role)?;
    let bytes = read_body(body, state.config.import_max_body_bytes).await?;
    let raw = bulk_worker::parse_csv(&bytes)?;
    let summary = enqueue(&state, &slug, &caller, "csv", raw).await?;
    Ok((StatusCode::CREATED, AppJson(summary)))
}

/// The organisation's batches with their counts, newest first (teachers and admins).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/issue-batches", tag = "credentials",
    params(("slug" = String, Path), PageQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<BatchSummary>),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn list_batches(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
    AppQuery(page): AppQuery<PageQuery>,
) -> Result<AppJson<Vec<BatchSummary>>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, is_issuer_role)?;
    let (limit, offset) = page.bounds()?;
    Ok(AppJson(state.store.batches(&org.id, limit, offset).await?))
}

/// A batch's progress: rows pending, being issued, issued and failed (teachers and admins).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/issue-batches/{id}", tag = "credentials",
    params(("slug" = String, Path), ("id" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = BatchSummary),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn get_batch(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, id)): AppPath<(String, String)>,
) -> Result<AppJson<BatchSummary>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, is_issuer_role)?;
    Ok(AppJson(state.store.batch(&org.id, &id).await?))
}

/// Which rows of a batch to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RowsQuery {
    /// Only rows in this state: `pending`, `claimed`, `issued` or `failed`.
    pub state: Option<String>,
    /// How many rows (1–500, default 50).
    pub limit: Option<u32>,
    /// How many to skip.
    pub offset: Option<u32>,
}

/// A batch's rows in order, each with its state, credential and error (teachers and admins).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/issue-batches/{id}/rows", tag = "credentials",
    params(("slug" = String, Path), ("id" = String, Path), RowsQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<BatchRow>),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn batch_rows(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, id)): AppPath<(String, String)>,
    AppQuery(q): AppQuery<RowsQuery>,
) -> Result<AppJson<Vec<BatchRow>>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, is_issuer_role)?;
    let batch = state.store.batch(&org.id, &id).await?;
    if let Some(s) = &q.state
        && !matches!(s.as_str(), "pending" | "claimed" | "issued" | "failed")
    {
        return Err(AppError::InvalidParameter(
            "state must be pending, claimed, issued or failed".into(),
        ));
    }
    let (limit, offset) = PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .bounds()?;
    Ok(AppJson(
        state
            .store
            .batch_rows(&batch.id, q.state.as_deref(), limit, offset)
            .await?,
    ))
}

/// A framework's issuance.
#[derive(Debug, Serialize, ToSchema)]
pub struct FrameworkIssuance {
    /// The framework's own setting (`approval`, `automatic`), or null: the organisation's.
    pub issuance: Option<String>,
    /// What applies: the framework's setting, else the organisation's default.
    pub effective: String,
}

/// A change of a framework's issuance.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FrameworkIssuanceRequest {
    /// `approval` (a teacher issues each credential), `automatic` (issued when mastered), or
    /// null (follow the organisation's default).
    pub issuance: Option<String>,
}

async fn framework_issuance_view(
    state: &AppState,
    framework_id: &str,
    org_id: &str,
) -> Result<FrameworkIssuance, AppError> {
    let own = state.store.framework_issuance(framework_id).await?;
    let effective = match &own {
        Some(s) => s.clone(),
        None => state.store.issuer_settings(org_id).await?.issuance,
    };
    Ok(FrameworkIssuance {
        issuance: own,
        effective,
    })
}

/// How masteries in the framework become credentials (admins of its organisation).
#[utoipa::path(get, path = "/api/v1/frameworks/{id}/issuance", tag = "credentials",
    params(("id" = String, Path)), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = FrameworkIssuance),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn get_framework_issuance(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(id): AppPath<String>,
) -> Result<AppJson<FrameworkIssuance>, AppError> {
    let framework = state.store.framework(&id).await?;
    caller.require_role(&framework.org_id, |r| r == Role::Admin)?;
    Ok(AppJson(
        framework_issuance_view(&state, &framework.id, &framework.org_id).await?,
    ))
}

/// Sets how masteries in the framework become credentials: `automatic` (the background sweep
/// issues each mastery's credential), `approval` (a teacher issues it from the approval list),
/// or null for the organisation's default (admins of its organisation).
#[utoipa::path(put, path = "/api/v1/frameworks/{id}/issuance", tag = "credentials",
    params(("id" = String, Path)), request_body = FrameworkIssuanceRequest,
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = FrameworkIssuance),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn put_framework_issuance(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<FrameworkIssuanceRequest>,
) -> Result<AppJson<FrameworkIssuance>, AppError> {
    let framework = state.store.framework(&id).await?;
    caller.require_role(&framework.org_id, |r| r == Role::Admin)?;
    if let Some(s) = &body.issuance
        && !matches!(s.as_str(), "approval" | "automatic")
    {
        return Err(AppError::Validation {
            field: "issuance",
            reason: "must be approval, automatic or null".into(),
        });
    }
    state
        .store
        .set_framework_issuance(&framework.id, body.issuance.as_deref(), state.clock.now())
        .await?;
    Ok(AppJson(
        framework_issuance_view(&state, &framework.id, &framework.org_id).await?,
    ))
}

/// Masteries in `approval` frameworks still waiting for a teacher to issue their credential,
/// oldest first (teachers and admins). Issue one with
/// `POST …/learners/{user}/competencies/{id}/credential`.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/awaiting-credentials", tag = "credentials",
    params(("slug" = String, Path), PageQuery), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<AwaitingCredential>),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn awaiting(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
    AppQuery(page): AppQuery<PageQuery>,
) -> Result<AppJson<Vec<AwaitingCredential>>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, is_issuer_role)?;
    let (limit, offset) = page.bounds()?;
    Ok(AppJson(
        bulk_worker::awaiting_credentials(&state.store, "approval", Some(&org.id), limit, offset)
            .await?,
    ))
}
