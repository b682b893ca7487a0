//! The review queue, scoring, moderation and agreement statistics.
//!
//! The queue lists an organisation's pending reviews oldest first, filtered by competency,
//! learner, rubric or stage (`first`, `second`, `moderation`), paged. Scoring takes a level (and
//! an optional comment) per criterion, scores it with the review's exact rubric version
//! (`Rubric::score`: a level not in the rubric, a missing or unknown criterion → 422
//! `invalid-review`), and records it; the outcome — *mastered* or *not yet* — is recorded
//! exactly once: a second reviewer finishing the same step gets 409.
//!
//! Moderation (see `tessera_store::reviews`): a borderline or sampled first review waits for a
//! second reviewer, who must be someone else (409 `second-reviewer-required`); when the two
//! disagree, a teacher or admin who was neither reviewer decides (`…/moderate`). The share
//! sampled is the organisation's review setting. Agreement per rubric version and reviewer
//! pair is for teachers and admins.
//!
//! Submodules: [`progress`] (prerequisite gating, exceptions, target dates) and [`adopt`]
//! (imported CASE CFRubrics as rubric versions).

pub mod adopt;
pub mod progress;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use tessera_core::account::Role;
use tessera_review::{CriterionScore, ScoredReview};
use tessera_store::reviews::{
    QueueFilter, Review, ReviewSettings, ReviewStage, ReviewStep, RubricAgreement,
};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{AppError, ProblemDoc};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::routes::PageQuery;
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(review_queue))
        .routes(routes!(score_review))
        .routes(routes!(moderate_review))
        .routes(routes!(review_agreement))
        .routes(routes!(get_review_settings, put_review_settings))
        .merge(progress::router())
        .merge(adopt::router())
}

/// Moderators read the evidence they settle, so they are teachers (admins do not read evidence).
fn is_moderator(r: Role) -> bool {
    r == Role::Teacher
}

fn is_reviewer(r: Role) -> bool {
    matches!(r, Role::Reviewer | Role::Teacher)
}

/// Queue filters and paging.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// Only this competency (id).
    pub competency: Option<String>,
    /// Only this learner (user id).
    pub learner: Option<String>,
    /// Only this rubric (id).
    pub rubric: Option<String>,
    /// Only reviews waiting for this stage: `first`, `second` or `moderation`.
    pub stage: Option<ReviewStage>,
    /// Page size (1–500, default 50).
    pub limit: Option<u32>,
    /// Items to skip.
    pub offset: Option<u32>,
}

/// A page of the queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueuePage {
    /// Pending reviews, oldest first.
    pub items: Vec<Review>,
    /// The offset of the next page, if there may be one.
    pub next_offset: Option<i64>,
}

/// Pending reviews, oldest first. Reviewers, teachers and admins of the organisation.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/reviews", tag = "review",
    params(("slug" = String, Path), QueueQuery), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = QueuePage), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn review_queue(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
    AppQuery(q): AppQuery<QueueQuery>,
) -> Result<AppJson<QueuePage>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, |r| is_reviewer(r) || r == Role::Admin)?;
    let (limit, offset) = PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .bounds()?;
    let filter = QueueFilter {
        competency: q.competency,
        learner: q.learner,
        rubric: q.rubric,
        stage: q.stage,
    };
    let items = state
        .store
        .review_queue(&org.id, &filter, limit, offset)
        .await?;
    let next_offset = (items.len() as i64 == limit).then_some(offset + limit);
    Ok(AppJson(QueuePage { items, next_offset }))
}

/// A reviewer's rating of one criterion.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CriterionInput {
    /// Criterion id.
    pub criterion: String,
    /// Level id.
    pub level: String,
    /// Feedback for the learner.
    pub comment: Option<String>,
}

/// A score for every criterion of the review's rubric.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreRequest {
    /// One entry per criterion.
    pub criteria: Vec<CriterionInput>,
}

/// What the score did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreResult {
    /// The review.
    pub review_id: String,
    /// `decided`, `awaiting_second_review` or `awaiting_moderator`.
    pub step: String,
    /// `mastered` or `not_yet` once the outcome stands; none while it waits.
    pub outcome: Option<String>,
    /// The learner's record state for the competency afterwards (`submitted` while waiting).
    pub state: String,
    /// Whether a second reviewer or moderator was involved in the outcome.
    pub moderated: bool,
    /// The full step (`{"step": …}` with its details).
    #[schema(value_type = Object)]
    pub detail: ReviewStep,
    /// This score (levels, points, comments, whether borderline).
    #[schema(value_type = Object)]
    pub scored: ScoredReview,
}

impl ScoreResult {
    fn new(review_id: String, step: ReviewStep, scored: ScoredReview) -> Self {
        let (name, outcome, state, moderated) = match step {
            ReviewStep::Decided {
                outcome,
                state,
                moderated,
            } => (
                "decided",
                Some(outcome_name(outcome).to_owned()),
                state.as_str(),
                moderated,
            ),
            ReviewStep::AwaitingSecondReview { .. } => {
                ("awaiting_second_review", None, "submitted", false)
            }
            ReviewStep::AwaitingModerator { .. } => {
                ("awaiting_moderator", None, "submitted", false)
            }
        };
        ScoreResult {
            review_id,
            step: name.to_owned(),
            outcome,
            state: state.to_owned(),
            moderated,
            detail: step,
            scored,
        }
    }
}

fn outcome_name(o: tessera_review::Outcome) -> &'static str {
    match o {
        tessera_review::Outcome::Mastered => "mastered",
        tessera_review::Outcome::NotYet => "not_yet",
    }
}

/// The review `id` of organisation `org_id`, scored by `body` against its rubric version.
async fn load_and_score(
    state: &AppState,
    org_id: &str,
    id: &str,
    body: ScoreRequest,
) -> Result<(Review, ScoredReview), AppError> {
    let review = state.store.review(id).await?;
    if review.org_id != org_id {
        return Err(AppError::NotFound);
    }
    let (_, rubric) = state
        .store
        .rubric(org_id, &review.rubric_id, Some(&review.rubric_version))
        .await?;
    let scores: Vec<CriterionScore> = body
        .criteria
        .into_iter()
        .map(|c| CriterionScore {
            criterion: c.criterion,
            level: c.level,
            comment: c.comment.filter(|t| !t.trim().is_empty()),
        })
        .collect();
    let scored = rubric.score(&scores)?;
    Ok((review, scored))
}

/// Scores a pending review against its rubric version: a first review, or the second review
/// of a borderline or sampled one. Reviewers and teachers (never the learner who submitted,
/// never the first reviewer for the second review: 409 `second-reviewer-required`). 409 if the
/// step was already taken or the review waits for a moderator.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/reviews/{id}/score", tag = "review",
    params(("slug" = String, Path), ("id" = String, Path)), request_body = ScoreRequest,
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = ScoreResult), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn score_review(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, id)): AppPath<(String, String)>,
    AppJson(body): AppJson<ScoreRequest>,
) -> Result<AppJson<ScoreResult>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, is_reviewer)?;
    let (review, scored) = load_and_score(&state, &org.id, &id, body).await?;
    if review.learner_id == caller.user_id() {
        return Err(AppError::Forbidden);
    }
    if !review.is_pending() {
        return Err(AppError::Conflict("this review was already decided"));
    }
    match review.stage()? {
        ReviewStage::Moderation => {
            return Err(AppError::Conflict(
                "the reviewers disagreed: this review waits for a moderator",
            ));
        }
        ReviewStage::Second if review.first_reviewer_id.as_deref() == Some(caller.user_id()) => {
            return Err(AppError::SameReviewer(
                "the second review must be by someone other than the first reviewer",
            ));
        }
        _ => {}
    }
    let step = state
        .store
        .score_review(&review, caller.user_id(), &scored, state.clock.now())
        .await?;
    Ok(AppJson(ScoreResult::new(review.id, step, scored)))
}

/// A moderator's decision on a review whose two reviewers disagreed: the moderator scores it
/// against the rubric version and that sets the outcome. Teachers who were neither reviewer (409 `second-reviewer-required`); 409 if the review is not waiting for a moderator
/// (or another moderator decided first).
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/reviews/{id}/moderate", tag = "review",
    params(("slug" = String, Path), ("id" = String, Path)), request_body = ScoreRequest,
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = ScoreResult), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn moderate_review(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, id)): AppPath<(String, String)>,
    AppJson(body): AppJson<ScoreRequest>,
) -> Result<AppJson<ScoreResult>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, is_moderator)?;
    let (review, scored) = load_and_score(&state, &org.id, &id, body).await?;
    if review.learner_id == caller.user_id() {
        return Err(AppError::Forbidden);
    }
    if !review.is_pending() || review.stage()? != ReviewStage::Moderation {
        return Err(AppError::Conflict(
            "this review is not waiting for a moderator",
        ));
    }
    let me = Some(caller.user_id());
    if review.first_reviewer_id.as_deref() == me || review.second_reviewer_id.as_deref() == me {
        return Err(AppError::SameReviewer(
            "the moderator must be someone other than the two reviewers",
        ));
    }
    let step = state
        .store
        .moderate_review(&review, caller.user_id(), &scored, state.clock.now())
        .await?;
    Ok(AppJson(ScoreResult::new(review.id, step, scored)))
}

/// Agreement filter.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AgreementQuery {
    /// Only this rubric (id).
    pub rubric: Option<String>,
}

/// Agreement statistics.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgreementResponse {
    /// Per rubric version: `rubric_id`, `rubric_version`, `double_rated_reviews`, and `pairs`
    /// (`reviewer_a`, `reviewer_b`, `agreement`: `n`, `exact`, `adjacent`, `kappa`,
    /// `kappa_linear`, `kappa_quadratic`; shares are fractions, `null` where undefined).
    #[schema(value_type = Vec<Object>)]
    pub rubrics: Vec<RubricAgreement>,
}

/// Inter-rater agreement per rubric version and reviewer pair, from every double-rated review:
/// percent agreement (`exact`, and `adjacent` within one level) and Cohen's kappa
/// (unweighted, linear and quadratic weights). Teachers and admins.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/reviews/agreement", tag = "review",
    params(("slug" = String, Path), AgreementQuery), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = AgreementResponse), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn review_agreement(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
    AppQuery(q): AppQuery<AgreementQuery>,
) -> Result<AppJson<AgreementResponse>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, |r| matches!(r, Role::Teacher | Role::Admin))?;
    Ok(AppJson(AgreementResponse {
        rubrics: state
            .store
            .review_agreement(&org.id, q.rubric.as_deref())
            .await?,
    }))
}

/// The organisation's review settings. Reviewers, teachers and admins.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/review-settings", tag = "review",
    params(("slug" = String, Path)), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = ReviewSettings), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn get_review_settings(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
) -> Result<AppJson<ReviewSettings>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, |r| is_reviewer(r) || r == Role::Admin)?;
    Ok(AppJson(state.store.review_settings(&org.id).await?))
}

/// New review settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewSettingsRequest {
    /// Share of non-borderline first reviews sent to a second reviewer, in per mille (0–1000).
    /// Borderline reviews always go.
    pub sample_per_mille: u16,
}

/// Sets the organisation's review settings (audited). Admins.
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/review-settings", tag = "review",
    params(("slug" = String, Path)), request_body = ReviewSettingsRequest,
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = ReviewSettings), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn put_review_settings(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
    AppJson(body): AppJson<ReviewSettingsRequest>,
) -> Result<AppJson<ReviewSettings>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, |r| r == Role::Admin)?;
    Ok(AppJson(
        state
            .store
            .set_review_settings(
                &org.id,
                ReviewSettings {
                    sample_per_mille: body.sample_per_mille,
                },
                caller.user_id(),
                state.clock.now(),
            )
            .await?,
    ))
}
