//! CASE `CFRubric`s imported with a framework, and adopting one as a Tessera rubric version.
//!
//! CASE rubrics have criteria and scored levels but no version and no mastery rule; the caller
//! supplies both. The result is validated exactly like an uploaded TOML file (problems come back
//! as `DOCUMENT#/JSON-pointer: message`, 422 `invalid-rubric`) and published with the same
//! immutability rules: 201 for a new version, 200 for the identical version again, 409 for other
//! content under a version that exists.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use tessera_core::account::Role;
use tessera_review::{Borderline, CaseImport, Combine, rubric_from_cf_rubric};
use tessera_store::case_rubrics::CaseRubric;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{AppError, ProblemDoc};
use crate::extract::{AppJson, AppPath};
use crate::routes::rubrics::UploadedRubric;
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_case_rubrics))
        .routes(routes!(adopt_case_rubric))
}

/// The CFRubrics imported with the organisation's CASE frameworks (verbatim). Members.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/case-rubrics", tag = "review",
    params(("slug" = String, Path)), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<CaseRubric>), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn list_case_rubrics(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
) -> Result<AppJson<Vec<CaseRubric>>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_member(&org.id)?;
    Ok(AppJson(state.store.case_rubrics(&org.id).await?))
}

fn one_level() -> u64 {
    1
}

/// What CASE does not say: the version and the mastery rule.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdoptRequest {
    /// The Tessera version to publish (`MAJOR.MINOR.PATCH`).
    pub version: String,
    /// Mastery: every criterion at or above this level (a slugged CASE `quality`, e.g. `meets`).
    pub every_criterion_at_least: Option<String>,
    /// Mastery: total weighted points needed.
    pub min_total_points: Option<u64>,
    /// How the two conditions combine: `all` (default) or `any`.
    #[serde(default = "all")]
    #[schema(value_type = Option<String>)]
    pub combine: Combine,
    /// Borderline (second review) when one criterion this many levels up or down would flip the
    /// outcome; default 1, 0 switches it off.
    #[serde(default = "one_level")]
    pub borderline_within_levels: u64,
    /// Borderline when the total is within this many points of `min_total_points`.
    pub borderline_within_points: Option<u64>,
    /// Competencies assessed (ids, URIs or codes); default: the criteria's `CFItemURI`s.
    #[serde(default)]
    pub competencies: Vec<String>,
}

fn all() -> Combine {
    Combine::All
}

/// Adopts an imported CFRubric as a Tessera rubric version of the organisation (id = the
/// CFRubric identifier). Teachers and admins. 201 new, 200 identical again; 422
/// `invalid-rubric` naming each problem; 409 `rubric-version-conflict` for other content under
/// an existing version.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/case-rubrics/{id}/adopt", tag = "review",
    params(("slug" = String, Path), ("id" = String, Path)), request_body = AdoptRequest,
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = UploadedRubric), (status = 200, body = UploadedRubric),
        (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn adopt_case_rubric(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, id)): AppPath<(String, String)>,
    AppJson(body): AppJson<AdoptRequest>,
) -> Result<(StatusCode, AppJson<UploadedRubric>), AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, Role::can_edit_registry)?;
    let cf = state.store.case_rubric(&id).await?;
    if cf.org_id != org.id {
        return Err(AppError::NotFound);
    }
    let options = CaseImport {
        document: cf.uri.clone(),
        version: body.version,
        every_criterion_at_least: body.every_criterion_at_least,
        min_total_points: body.min_total_points,
        combine: body.combine,
        borderline: Borderline {
            within_levels: body.borderline_within_levels,
            within_points: body.borderline_within_points,
        },
        competencies: body.competencies,
    };
    let rubric = rubric_from_cf_rubric(&cf.document, &options)?;
    crate::routes::rubrics::publish(&state, &org.id, &rubric).await
}
