//! The mastery record and teacher overrides.
//!
//! `GET …/learners/{user}/record` is the learner's whole record in the organisation — every
//! competency with activity: state, first activity, attempts with dates and levels, mastery
//! date, attempts and time to mastery, the rubric version, overrides — read in one query and
//! folded. Only the learner themself and the organisation's reviewers, teachers and admins see
//! it. A teacher may set mastered / not yet against the rubric's rule, or withdraw a mastery,
//! always with a written reason; the record marks it as an override.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use tessera_core::account::Role;
use tessera_review::{LearnerRecord, Outcome};
use tessera_store::reviews::{Override, OverrideAction};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{AppError, ProblemDoc};
use crate::extract::{AppJson, AppPath};
use crate::routes::evidence::may_read_learner;
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(learner_record))
        .routes(routes!(override_outcome))
}

/// A learner's mastery record.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordResponse {
    /// The learner.
    pub learner_id: String,
    /// Per competency id: the record (see `tessera_review::MasteryRecord`).
    #[schema(value_type = Object)]
    pub competencies: serde_json::Value,
}

/// A learner's whole mastery record in the organisation. The learner, and the organisation's
/// reviewers, teachers and admins.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/learners/{user}/record", tag = "review",
    params(("slug" = String, Path), ("user" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = RecordResponse), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn learner_record(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, user)): AppPath<(String, String)>,
) -> Result<AppJson<RecordResponse>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    may_read_learner(&caller, &org.id, &user)?;
    let record: LearnerRecord = state.store.learner_record(&org.id, &user).await?;
    let competencies = serde_json::to_value(&record.competencies).map_err(AppError::internal)?;
    Ok(AppJson(RecordResponse {
        learner_id: user,
        competencies,
    }))
}

/// What the teacher decides.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OverrideTo {
    /// Mastered, against the rule.
    Mastered,
    /// Not yet, against the rule.
    NotYet,
    /// Withdraw a mastery.
    Withdrawn,
}

/// An override with its written reason.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideRequest {
    /// The outcome to set, or `withdrawn`.
    pub to: OverrideTo,
    /// Why (required; shown wherever the outcome is).
    pub reason: String,
}

/// The record's state after the override.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverrideResult {
    /// The new state.
    pub state: String,
}

/// Overrides a learner's outcome for a competency, or withdraws a mastery. Teachers of the
/// organisation. 409 `invalid-transition` (with `from` and `to`) when the record is not in a
/// state the override applies to; 422 `reason-required` without a reason.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/learners/{user}/competencies/{id}/override", tag = "review",
    params(("slug" = String, Path), ("user" = String, Path), ("id" = String, Path)),
    request_body = OverrideRequest, security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = OverrideResult), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn override_outcome(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, user, competency_id)): AppPath<(String, String, String)>,
    AppJson(body): AppJson<OverrideRequest>,
) -> Result<AppJson<OverrideResult>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, |r| r == Role::Teacher)?;
    let competency = state.store.competency(&competency_id).await?;
    if competency.org_id != org.id || !state.store.is_member(&org.id, &user).await? {
        return Err(AppError::NotFound);
    }
    let action = match body.to {
        OverrideTo::Mastered => OverrideAction::Set(Outcome::Mastered),
        OverrideTo::NotYet => OverrideAction::Set(Outcome::NotYet),
        OverrideTo::Withdrawn => OverrideAction::Withdraw,
    };
    let new_state = state
        .store
        .override_outcome(
            &Override {
                org_id: &org.id,
                learner_id: &user,
                competency_id: &competency.id,
                action,
                reason: body.reason.trim(),
                teacher_id: caller.user_id(),
            },
            state.clock.now(),
        )
        .await?;
    Ok(AppJson(OverrideResult {
        state: new_state.as_str().to_owned(),
    }))
}
