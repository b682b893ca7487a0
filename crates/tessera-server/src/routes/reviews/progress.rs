//! Progression around the reviews: prerequisite gating per framework, per-learner exceptions,
//! and optional target dates.
//!
//! A framework gates by default: a learner may submit evidence for a competency only once its
//! prerequisites are mastered (the evidence route refuses otherwise, 409
//! `prerequisites-not-mastered`). Editors of the organisation may switch gating off per
//! framework; a teacher may open one competency to one learner with a written reason. Both are
//! audited. Target dates are set by the learner or a teacher, shown with the record, never
//! enforced.

use axum::extract::State;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tessera_core::account::Role;
use tessera_store::gating::PrerequisiteException;
use tessera_store::targets::TargetDate;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Auth, Caller};
use crate::error::{AppError, ProblemDoc};
use crate::extract::{AppJson, AppPath};
use crate::routes::evidence::may_read_learner;
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_gating, put_gating))
        .routes(routes!(list_exceptions))
        .routes(routes!(grant_exception))
        .routes(routes!(list_target_dates))
        .routes(routes!(set_target_date))
}

/// Whether a framework's prerequisites gate submissions.
#[derive(Debug, Serialize, ToSchema)]
pub struct Gating {
    /// The framework.
    pub framework_id: String,
    /// True: a competency is open only once its prerequisites are mastered (or by exception).
    pub gate_prerequisites: bool,
}

/// The new gating setting.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GatingRequest {
    /// True to gate (the default), false to let learners submit in any order.
    pub gate_prerequisites: bool,
}

/// Whether prerequisites gate submissions in a framework (true unless switched off). Members.
#[utoipa::path(get, path = "/api/v1/frameworks/{id}/gating", tag = "review",
    params(("id" = String, Path)), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Gating), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn get_gating(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(id): AppPath<String>,
) -> Result<AppJson<Gating>, AppError> {
    let framework = state.store.framework(&id).await?;
    caller.require_member(&framework.org_id)?;
    Ok(AppJson(Gating {
        gate_prerequisites: state.store.gates_prerequisites(&framework.id).await?,
        framework_id: framework.id,
    }))
}

/// Switches prerequisite gating of a framework on or off (audited). Teachers and admins.
#[utoipa::path(put, path = "/api/v1/frameworks/{id}/gating", tag = "review",
    params(("id" = String, Path)), request_body = GatingRequest,
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Gating), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn put_gating(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<GatingRequest>,
) -> Result<AppJson<Gating>, AppError> {
    let framework = state.store.framework(&id).await?;
    caller.require_role(&framework.org_id, Role::can_edit_registry)?;
    state
        .store
        .set_prerequisite_gating(
            &framework.org_id,
            &framework.id,
            body.gate_prerequisites,
            caller.user_id(),
            state.clock.now(),
        )
        .await?;
    Ok(AppJson(Gating {
        framework_id: framework.id,
        gate_prerequisites: body.gate_prerequisites,
    }))
}

/// A learner's prerequisite exceptions in the organisation. The learner, and the
/// organisation's reviewers, teachers and admins.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/learners/{user}/prerequisite-exceptions", tag = "review",
    params(("slug" = String, Path), ("user" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<PrerequisiteException>), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn list_exceptions(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, user)): AppPath<(String, String)>,
) -> Result<AppJson<Vec<PrerequisiteException>>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    may_read_learner(&caller, &org.id, &user)?;
    Ok(AppJson(
        state.store.prerequisite_exceptions(&org.id, &user).await?,
    ))
}

/// An exception's written reason.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExceptionRequest {
    /// Why this learner may go ahead (required).
    pub reason: String,
}

/// The competency `id` of organisation `org_id` and learner `user`, who must be a member.
async fn learner_and_competency(
    state: &AppState,
    org_id: &str,
    user: &str,
    competency_id: &str,
) -> Result<String, AppError> {
    let competency = state.store.competency(competency_id).await?;
    if competency.org_id != org_id || !state.store.is_member(org_id, user).await? {
        return Err(AppError::NotFound);
    }
    Ok(competency.id)
}

/// Lets a learner submit for a competency before its prerequisites are mastered, with a
/// written reason (audited; granting again replaces the reason). Teachers of the organisation.
/// 422 `validation-failed` without a reason.
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/learners/{user}/competencies/{id}/prerequisite-exception", tag = "review",
    params(("slug" = String, Path), ("user" = String, Path), ("id" = String, Path)),
    request_body = ExceptionRequest, security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = PrerequisiteException), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn grant_exception(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, user, competency_id)): AppPath<(String, String, String)>,
    AppJson(body): AppJson<ExceptionRequest>,
) -> Result<AppJson<PrerequisiteException>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, |r| r == Role::Teacher)?;
    let competency = learner_and_competency(&state, &org.id, &user, &competency_id).await?;
    Ok(AppJson(
        state
            .store
            .grant_prerequisite_exception(
                &org.id,
                &user,
                &competency,
                &body.reason,
                caller.user_id(),
                state.clock.now(),
            )
            .await?,
    ))
}

/// A learner's target dates in the organisation. The learner, and the organisation's
/// reviewers, teachers and admins.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/learners/{user}/target-dates", tag = "review",
    params(("slug" = String, Path), ("user" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<TargetDate>), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn list_target_dates(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, user)): AppPath<(String, String)>,
) -> Result<AppJson<Vec<TargetDate>>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    may_read_learner(&caller, &org.id, &user)?;
    Ok(AppJson(state.store.target_dates(&org.id, &user).await?))
}

/// A target date, or none to clear it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetDateRequest {
    /// `YYYY-MM-DD`, or `null` to clear.
    #[schema(value_type = Option<String>, format = Date)]
    pub target_date: Option<NaiveDate>,
}

/// The target date after a change.
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetDateResult {
    /// The date now set; `null` when cleared.
    pub target: Option<TargetDate>,
}

/// Whether `caller` may set `user`'s target dates: the learner themself (as a member) or a
/// teacher of the organisation (platform admins pass too).
fn may_set_target(caller: &Caller, org_id: &str, user: &str) -> Result<(), AppError> {
    if caller.user_id() == user {
        caller.require_member(org_id)
    } else {
        caller.require_role(org_id, |r| r == Role::Teacher)
    }
}

/// Sets or clears a learner's target date for a competency: never a deadline, only shown with
/// the record. The learner themself, or a teacher of the organisation.
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/learners/{user}/competencies/{id}/target-date", tag = "review",
    params(("slug" = String, Path), ("user" = String, Path), ("id" = String, Path)),
    request_body = TargetDateRequest, security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = TargetDateResult), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn set_target_date(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, user, competency_id)): AppPath<(String, String, String)>,
    AppJson(body): AppJson<TargetDateRequest>,
) -> Result<AppJson<TargetDateResult>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    may_set_target(&caller, &org.id, &user)?;
    let competency = learner_and_competency(&state, &org.id, &user, &competency_id).await?;
    let target = state
        .store
        .set_target_date(
            &org.id,
            &user,
            &competency,
            body.target_date,
            caller.user_id(),
            state.clock.now(),
        )
        .await?;
    Ok(AppJson(TargetDateResult { target }))
}
