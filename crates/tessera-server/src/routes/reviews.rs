//! The review queue and scoring.
//!
//! The queue lists an organisation's pending reviews oldest first, filtered by competency,
//! learner or rubric, paged. Scoring takes a level (and an optional comment) per criterion,
//! scores it with the review's exact rubric version (`Rubric::score`: a level not in the
//! rubric, a missing or unknown criterion → 422 `invalid-review`), and records the outcome —
//! *mastered* or *not yet* — exactly once: a second reviewer finishing the same review gets 409.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use tessera_core::account::Role;
use tessera_review::{CriterionScore, MasteryState, ScoredReview};
use tessera_store::reviews::{QueueFilter, Review};
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
        stage: None,
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

/// The decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreResult {
    /// The review.
    pub review_id: String,
    /// `mastered` or `not_yet`.
    pub outcome: String,
    /// The learner's record state for the competency after the decision.
    pub state: String,
    /// The scored review (levels, points, comments, whether borderline).
    #[schema(value_type = Object)]
    pub scored: ScoredReview,
}

/// Scores a pending review against its rubric version. Reviewers and teachers (never the
/// learner who submitted). 409 if the review was already decided.
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
    let review = state.store.review(&id).await?;
    if review.org_id != org.id {
        return Err(AppError::NotFound.into());
    }
    if review.learner_id == caller.user_id() {
        return Err(AppError::Forbidden.into());
    }
    if review.state != "pending" {
        return Err(AppError::Conflict("this review was already decided").into());
    }
    let (_, rubric) = state
        .store
        .rubric(&org.id, &review.rubric_id, Some(&review.rubric_version))
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
    let new_state: MasteryState = state
        .store
        .decide_review(&review, caller.user_id(), &scored, state.clock.now())
        .await?;
    Ok(AppJson(ScoreResult {
        review_id: review.id,
        outcome: new_state.as_str().to_owned(),
        state: new_state.as_str().to_owned(),
        scored,
    }))
}
