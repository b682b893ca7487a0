//! Rubrics: the versions an organisation can score against, and uploading a new one.
//!
//! The rubrics shipped in the repository's `rubrics/` folder are built into the binary and
//! stored at start ([`load_at_start`]), together with any `*.toml` in `<data_dir>/rubrics/`.
//! An upload is the TOML file itself as the body; every problem in it comes back in the
//! problem detail as `FILE:LINE:COLUMN: message`. A version is immutable: the same id and
//! version with other content is a 409.

use std::path::Path;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_core::account::Role;
use tessera_review::Rubric;
use tessera_store::rubrics::{Published, RubricSummary};
use tessera_store::{Store, StoreError};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{AppError, ProblemDoc};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::state::AppState;

/// The rubrics shipped with Tessera (`rubrics/*.toml`), built in so a fresh install has them.
const SHIPPED: [(&str, &str); 3] = [
    (
        "rubrics/argumentative-writing.toml",
        include_str!("../../../../rubrics/argumentative-writing.toml"),
    ),
    (
        "rubrics/math-problem-solving.toml",
        include_str!("../../../../rubrics/math-problem-solving.toml"),
    ),
    (
        "rubrics/science-lab-report.toml",
        include_str!("../../../../rubrics/science-lab-report.toml"),
    ),
];

/// Stores the shipped rubrics and every `<data_dir>/rubrics/*.toml` (already stored versions
/// are left alone). A file that does not parse, or reuses a stored version for other content,
/// stops the start with its `FILE:LINE:COLUMN` message.
pub async fn load_at_start(
    store: &Store,
    data_dir: &Path,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut files: Vec<(String, String)> = SHIPPED
        .iter()
        .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
        .collect();
    let dir = data_dir.join("rubrics");
    if let Ok(entries) = std::fs::read_dir(&dir) {
        let mut paths: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|source| {
                StoreError::Review(tessera_review::Error::Read {
                    path: path.clone(),
                    source,
                })
            })?;
            files.push((path.display().to_string(), text));
        }
    }
    let mut created = 0;
    for (name, text) in files {
        let rubric = Rubric::from_toml_str(&text, &name)?;
        if store.publish_rubric(None, &rubric, now).await? == Published::Created {
            created += 1;
        }
    }
    Ok(created)
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_rubrics, upload_rubric))
        .routes(routes!(get_rubric))
}

/// Where an upload's problems are said to be (`?file=`; default `rubric.toml`).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// The file name to use in error locations.
    pub file: Option<String>,
}

/// An upload as JSON (`Content-Type: application/json`) instead of the bare TOML file.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonUpload {
    /// The rubric file's text (TOML).
    pub toml: String,
    /// The file name to use in error locations.
    pub file: Option<String>,
}

/// The result of an upload.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadedRubric {
    /// Whether a new version was stored (`false`: this exact version was already there).
    pub created: bool,
    /// The stored version.
    pub rubric: RubricSummary,
}

/// A rubric version in full.
#[derive(Debug, Serialize, ToSchema)]
pub struct RubricDetail {
    /// The stored version.
    #[serde(flatten)]
    pub summary: RubricSummary,
    /// The rubric: competencies, criteria with their levels, the mastery rule.
    #[schema(value_type = Object)]
    pub rubric: Value,
}

/// The rubric versions the organisation can use. Members.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/rubrics", tag = "review",
    params(("slug" = String, Path)), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<RubricSummary>), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn list_rubrics(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
) -> Result<AppJson<Vec<RubricSummary>>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_member(&org.id)?;
    Ok(AppJson(state.store.rubrics(&org.id).await?))
}

/// Uploads a rubric version: the TOML file as the body, or JSON `{"toml": …, "file": …}`.
/// Admins and teachers. 201 for a new
/// version, 200 for an identical re-upload, 409 for a changed file that kept its version.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/rubrics", tag = "review",
    params(("slug" = String, Path), UploadQuery),
    request_body(content = String, content_type = "application/toml"),
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = UploadedRubric), (status = 200, body = UploadedRubric),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn upload_rubric(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
    AppQuery(q): AppQuery<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, AppJson<UploadedRubric>), AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, Role::can_edit_registry)?;
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let (text, file) = if json {
        let upload: JsonUpload =
            serde_json::from_slice(&body).map_err(|e| AppError::InvalidBody(e.to_string()))?;
        (upload.toml, upload.file.or(q.file))
    } else {
        let text = String::from_utf8(body.to_vec()).map_err(|_| AppError::Validation {
            field: "body",
            reason: "the rubric file must be UTF-8 text".into(),
        })?;
        (text, q.file)
    };
    let file = file.unwrap_or_else(|| "rubric.toml".to_owned());
    let rubric = Rubric::from_toml_str(&text, &file)?;
    publish(&state, &org.id, &rubric).await
}

/// Publishes `rubric` for `org_id` and answers as an upload does: 201 with the new version, or
/// 200 when the same content was already published (adopting a CASE CFRubric answers the same way).
pub(crate) async fn publish(
    state: &AppState,
    org_id: &str,
    rubric: &Rubric,
) -> Result<(StatusCode, AppJson<UploadedRubric>), AppError> {
    let published = state
        .store
        .publish_rubric(Some(org_id), rubric, state.clock.now())
        .await?;
    let version = rubric.version().to_string();
    let (summary, _) = state
        .store
        .rubric(org_id, rubric.id(), Some(&version))
        .await?;
    let status = match published {
        Published::Created => StatusCode::CREATED,
        Published::Unchanged => StatusCode::OK,
    };
    Ok((
        status,
        AppJson(UploadedRubric {
            created: published == Published::Created,
            rubric: summary,
        }),
    ))
}

/// One rubric version (`version` = `latest` for the newest). Members.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/rubrics/{id}/{version}", tag = "review",
    params(("slug" = String, Path), ("id" = String, Path), ("version" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = RubricDetail), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn get_rubric(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, id, version)): AppPath<(String, String, String)>,
) -> Result<AppJson<RubricDetail>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_member(&org.id)?;
    let version = (version != "latest").then_some(version);
    let (summary, rubric) = state.store.rubric(&org.id, &id, version.as_deref()).await?;
    let rubric = serde_json::to_value(&rubric).map_err(AppError::internal)?;
    Ok(AppJson(RubricDetail { summary, rubric }))
}
