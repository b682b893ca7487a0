//! The reviewer's pages: the review queue (oldest first, filtered by competency, learner or
//! rubric) and the scoring page, which shows the evidence next to the rubric's criteria (a
//! level per criterion as radio buttons, a comment per criterion) and records the outcome the
//! rubric's rule gives: *mastered* or *not yet*.
//!
//! The access rules are the API's: the queue is for the organisation's reviewers, teachers and
//! admins; scoring for its reviewers and teachers, never for the learner who submitted. A
//! review decided meanwhile by someone else is refused (409) with the page saying so; there is
//! never a second outcome.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use serde::Deserialize;
use tessera_core::account::Role;
use tessera_review::{Combine, CriterionScore, Rubric};
use tessera_store::StoreError;
use tessera_store::accounts::Org;
use tessera_store::reviews::{QueueFilter, Review, ReviewStage, ReviewStep};

use super::learning::{EvidenceView, competency_text, moment, outcome_label};
use super::{Chrome, PageError, PageForm, Viewer, render, see_other};
use crate::error::AppError;
use crate::routes::evidence::assesses;
use crate::state::AppState;

/// Queue page size.
const PAGE: i64 = 50;

fn reviews(r: Role) -> bool {
    matches!(r, Role::Reviewer | Role::Teacher)
}

/// Moderators settle reviews whose two reviewers disagreed: the organisation's teachers (the
/// API's rule; they read the evidence, which admins do not).
fn moderates(r: Role) -> bool {
    r == Role::Teacher
}

/// A stage as people read it.
fn stage_label(s: ReviewStage) -> &'static str {
    match s {
        ReviewStage::First => "First review",
        ReviewStage::Second => "Second review",
        ReviewStage::Moderation => "Moderation",
    }
}

struct Opt {
    value: String,
    label: String,
    selected: bool,
}

struct QueueRow {
    review_id: String,
    stage: &'static str,
    learner: String,
    competency: String,
    rubric: String,
    submitted_at: String,
    waiting: String,
}

#[derive(Template)]
#[template(path = "review_queue.html")]
struct QueuePage {
    chrome: Chrome,
    org_name: String,
    org_slug: String,
    rows: Vec<QueueRow>,
    competencies: Vec<Opt>,
    learners: Vec<Opt>,
    rubrics: Vec<Opt>,
    filtered: bool,
    query: String,
    prev: Option<i64>,
    next: Option<i64>,
    first: i64,
    notice: Option<String>,
}

/// Queue filters, paging and the notice after scoring.
#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    competency: Option<String>,
    learner: Option<String>,
    rubric: Option<String>,
    offset: Option<i64>,
    done: Option<String>,
}

fn chosen(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// "3 days", "5 hours", "12 minutes".
fn waited(since: chrono::DateTime<Utc>, now: chrono::DateTime<Utc>) -> String {
    let d = now - since;
    let (n, unit) = if d.num_days() >= 1 {
        (d.num_days(), "day")
    } else if d.num_hours() >= 1 {
        (d.num_hours(), "hour")
    } else {
        (d.num_minutes().max(0), "minute")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// `GET /orgs/{slug}/reviews`: pending reviews, oldest first.
pub async fn queue(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    Query(q): Query<QueueQuery>,
) -> Result<Response, PageError> {
    let org = state.store.org_by_slug(&slug).await?;
    viewer
        .caller
        .require_role(&org.id, |r| reviews(r) || r == Role::Admin)?;
    let filter = QueueFilter {
        competency: chosen(q.competency),
        learner: chosen(q.learner),
        rubric: chosen(q.rubric),
        ..QueueFilter::default()
    };
    let offset = q.offset.unwrap_or(0).max(0);
    let items = state
        .store
        .review_queue(&org.id, &filter, PAGE + 1, offset)
        .await?;
    let more = items.len() as i64 > PAGE;
    let items: Vec<Review> = items.into_iter().take(PAGE as usize).collect();
    let mut learner_ids: Vec<String> = items.iter().map(|r| r.learner_id.clone()).collect();
    learner_ids.sort();
    learner_ids.dedup();
    let mut competency_ids: Vec<String> = items.iter().map(|r| r.competency_id.clone()).collect();
    competency_ids.sort();
    competency_ids.dedup();
    let names = state.store.user_names(&learner_ids).await?;
    let labels = state.store.competency_labels(&competency_ids).await?;
    let rubric_titles: HashMap<String, String> = state
        .store
        .rubric_choices(&org.id)
        .await?
        .into_iter()
        .map(|r| (r.id, r.title))
        .collect();
    let now = state.clock.now();
    let rows = items
        .iter()
        .map(|r| QueueRow {
            review_id: r.id.clone(),
            stage: r.stage().map_or("", stage_label),
            learner: names.get(&r.learner_id).cloned().unwrap_or_default(),
            competency: labels
                .get(&r.competency_id)
                .map(competency_text)
                .unwrap_or_default(),
            rubric: format!(
                "{} {}",
                rubric_titles.get(&r.rubric_id).unwrap_or(&r.rubric_id),
                r.rubric_version
            ),
            submitted_at: moment(r.created_at),
            waiting: waited(r.created_at, now),
        })
        .collect();
    let (pending_competencies, pending_learners) = state.store.queue_choices(&org.id).await?;
    let opt = |value: String, label: String, current: &Option<String>| Opt {
        selected: current.as_deref() == Some(value.as_str()),
        value,
        label,
    };
    let mut query = Vec::new();
    for (k, v) in [
        ("competency", &filter.competency),
        ("learner", &filter.learner),
        ("rubric", &filter.rubric),
    ] {
        if let Some(v) = v {
            query.push(format!("{k}={}", super::encode_component(v)));
        }
    }
    let notice = match q.done.as_deref() {
        Some("mastered") => Some("Review recorded: mastered.".to_owned()),
        Some("not_yet") => {
            Some("Review recorded: not yet. The learner sees your feedback.".to_owned())
        }
        Some("second") => Some(
            "Review recorded. It goes to a second reviewer before the outcome stands (it was borderline or sampled for moderation).".to_owned(),
        ),
        Some("moderation") => Some(
            "Review recorded. The two reviewers disagree, so a moderator decides.".to_owned(),
        ),
        _ => None,
    };
    let page = QueuePage {
        chrome: viewer.chrome,
        org_name: org.name,
        org_slug: org.slug,
        rows,
        competencies: pending_competencies
            .iter()
            .map(|c| opt(c.id.clone(), competency_text(c), &filter.competency))
            .collect(),
        learners: pending_learners
            .into_iter()
            .map(|p| opt(p.id, p.name, &filter.learner))
            .collect(),
        rubrics: rubric_titles
            .iter()
            .map(|(id, title)| opt(id.clone(), title.clone(), &filter.rubric))
            .collect::<Vec<_>>()
            .into_iter()
            .fold(Vec::new(), |mut v: Vec<Opt>, o| {
                v.push(o);
                v.sort_by(|a, b| a.label.cmp(&b.label));
                v
            }),
        filtered: filter.competency.is_some()
            || filter.learner.is_some()
            || filter.rubric.is_some(),
        query: query.join("&"),
        prev: (offset > 0).then(|| (offset - PAGE).max(0)),
        next: more.then_some(offset + PAGE),
        first: offset + 1,
        notice,
    };
    Ok(render(StatusCode::OK, &page))
}

struct LevelOpt {
    id: String,
    name: String,
    points: u64,
    description: String,
    checked: bool,
}

struct CriterionForm {
    id: String,
    name: String,
    description: String,
    levels: Vec<LevelOpt>,
    comment: String,
    missing: bool,
}

#[derive(Template)]
#[template(path = "review_score.html")]
struct ScorePage {
    chrome: Chrome,
    org_name: String,
    org_slug: String,
    review_id: String,
    learner_id: String,
    learner: String,
    competency_id: String,
    competency: String,
    attempt: i64,
    submitted_at: String,
    evidence: EvidenceView,
    rubric_title: String,
    rubric_version: String,
    rule: String,
    stage: String,
    stage_note: Option<String>,
    criteria: Vec<CriterionForm>,
    can_score: bool,
    decided: Option<String>,
    error: Option<String>,
}

/// The mastery rule in words.
fn rule_text(rubric: &Rubric) -> String {
    let m = rubric.mastery();
    let level_name = |id: &str| {
        rubric
            .criteria()
            .iter()
            .flat_map(|c| c.levels())
            .find(|l| l.id() == id)
            .map_or_else(|| id.to_owned(), |l| l.name().to_owned())
    };
    let levels = m
        .every_criterion_at_least()
        .map(|l| format!("every criterion at “{}” or above", level_name(l)));
    let points = m
        .min_total_points()
        .map(|p| format!("at least {p} of {} points", rubric.max_points()));
    let rule = match (levels, points) {
        (Some(l), Some(p)) => match m.combine() {
            Combine::All => format!("{l} and {p}"),
            Combine::Any => format!("{l} or {p}"),
        },
        (Some(l), None) => l,
        (None, Some(p)) => p,
        (None, None) => "the rubric's rule".to_owned(),
    };
    format!("Mastered with {rule}; otherwise not yet.")
}

/// The review, if it belongs to the organisation.
async fn org_review(state: &AppState, org: &Org, id: &str) -> Result<Review, PageError> {
    match state.store.review(id).await {
        Ok(r) if r.org_id == org.id => Ok(r),
        Ok(_) | Err(StoreError::NotFound) => Err(AppError::NotFound.into()),
        Err(e) => Err(e.into()),
    }
}

async fn score_page(
    state: &AppState,
    viewer: &Viewer,
    org: &Org,
    review: &Review,
) -> Result<ScorePage, PageError> {
    let (row, rubric) = state
        .store
        .rubric(&org.id, &review.rubric_id, Some(&review.rubric_version))
        .await?;
    let submissions = state
        .store
        .submissions(&org.id, &review.learner_id, Some(&review.competency_id))
        .await?;
    let submission = submissions
        .iter()
        .find(|s| s.id == review.submission_id)
        .ok_or(AppError::NotFound)?;
    let learner = state.store.user(&review.learner_id).await?.name;
    let labels = state
        .store
        .competency_labels(std::slice::from_ref(&review.competency_id))
        .await?;
    let decided = review.outcome.as_deref().map(|o| {
        let outcome = if o == "mastered" {
            outcome_label(tessera_review::Outcome::Mastered).0
        } else {
            outcome_label(tessera_review::Outcome::NotYet).0
        };
        match review.decided_at {
            Some(at) => format!(
                "This review was already decided on {}: {outcome}.",
                moment(at)
            ),
            None => format!("This review was already decided: {outcome}."),
        }
    });
    let stage = review.stage()?;
    let me = viewer.caller.user_id();
    let admin = viewer.caller.is_platform_admin();
    let mut can_score = me != review.learner_id && review.is_pending();
    let mut stage_note = None;
    match stage {
        ReviewStage::First => {
            can_score &= admin || viewer.caller.roles_in(&org.id).any(reviews);
        }
        ReviewStage::Second => {
            let why = match review.second_reason.as_deref() {
                Some("borderline") => "the first review was borderline",
                _ => "it was sampled for moderation",
            };
            if review.first_reviewer_id.as_deref() == Some(me) {
                can_score = false;
                stage_note = Some(format!(
                    "You made the first review; a second review ({why}) must be by someone else."
                ));
            } else {
                can_score &= admin || viewer.caller.roles_in(&org.id).any(reviews);
                stage_note = Some(format!(
                    "Second review: {why}. Score it on your own; if the two outcomes differ, a moderator decides."
                ));
            }
        }
        ReviewStage::Moderation => {
            let name = |o: Option<&str>| match o {
                Some("mastered") => "mastered",
                _ => "not yet",
            };
            can_score &= admin || viewer.caller.roles_in(&org.id).any(moderates);
            stage_note = Some(format!(
                "Moderation: the first reviewer gave “{}”, the second “{}”. {}",
                name(review.first_outcome.as_deref()),
                name(review.second_outcome.as_deref()),
                if can_score {
                    "Your scoring as moderator decides the outcome."
                } else {
                    "A teacher who was neither reviewer moderates and decides."
                }
            ));
        }
    }
    Ok(ScorePage {
        chrome: viewer.chrome.clone(),
        org_name: org.name.clone(),
        org_slug: org.slug.clone(),
        review_id: review.id.clone(),
        learner_id: review.learner_id.clone(),
        learner,
        competency_id: review.competency_id.clone(),
        competency: labels
            .get(&review.competency_id)
            .map(competency_text)
            .unwrap_or_default(),
        attempt: submission.attempt,
        submitted_at: moment(submission.submitted_at),
        evidence: EvidenceView::of(&org.slug, submission),
        rubric_title: row.title.clone(),
        rubric_version: row.version.clone(),
        rule: rule_text(&rubric),
        stage: stage_label(stage).to_owned(),
        stage_note,
        criteria: rubric
            .criteria()
            .iter()
            .map(|c| CriterionForm {
                id: c.id().to_owned(),
                name: c.name().to_owned(),
                description: c.description().unwrap_or_default().to_owned(),
                levels: c
                    .levels()
                    .iter()
                    .map(|l| LevelOpt {
                        id: l.id().to_owned(),
                        name: l.name().to_owned(),
                        points: l.points(),
                        description: l.description().unwrap_or_default().to_owned(),
                        checked: false,
                    })
                    .collect(),
                comment: String::new(),
                missing: false,
            })
            .collect(),
        can_score,
        decided,
        error: None,
    })
}

/// `GET /orgs/{slug}/reviews/{review}`: the evidence and the scoring form.
pub async fn score_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let org = state.store.org_by_slug(&slug).await?;
    viewer.caller.require_member(&org.id)?;
    // The page shows the evidence: reviewers and teachers only (not admins, not the platform).
    if !assesses(&viewer.caller, &org.id) {
        return Err(AppError::Forbidden.into());
    }
    let review = org_review(&state, &org, &id).await?;
    if review.learner_id == viewer.caller.user_id() {
        // Nobody reviews their own evidence (they see it on their record instead).
        return Err(AppError::Forbidden.into());
    }
    let page = score_page(&state, &viewer, &org, &review).await?;
    Ok(render(StatusCode::OK, &page))
}

/// `POST /orgs/{slug}/reviews/{review}`: records the scores; the rubric's rule gives the
/// outcome.
pub async fn score(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, id)): Path<(String, String)>,
    PageForm(fields): PageForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let sent = fields
        .iter()
        .find(|(k, _)| k == "csrf_token")
        .map_or("", |(_, v)| v.as_str());
    viewer.check_csrf(sent)?;
    let org = state.store.org_by_slug(&slug).await?;
    viewer.caller.require_member(&org.id)?;
    let review = org_review(&state, &org, &id).await?;
    let stage = review.stage()?;
    if stage == ReviewStage::Moderation {
        viewer.caller.require_role(&org.id, moderates)?;
    } else {
        viewer.caller.require_role(&org.id, reviews)?;
    }
    // A refused form is shown again with the evidence: reviewers and teachers only.
    if !assesses(&viewer.caller, &org.id) {
        return Err(AppError::Forbidden.into());
    }
    if review.learner_id == viewer.caller.user_id() {
        return Err(AppError::Forbidden.into());
    }
    let mut page = score_page(&state, &viewer, &org, &review).await?;
    let value = |prefix: &str, criterion: &str| {
        let key = format!("{prefix}:{criterion}");
        fields
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let mut scores = Vec::new();
    let mut missing = Vec::new();
    for c in &mut page.criteria {
        let level = value("level", &c.id);
        c.comment = value("comment", &c.id).unwrap_or_default();
        for l in &mut c.levels {
            l.checked = level.as_deref() == Some(l.id.as_str());
        }
        match level {
            Some(level) => scores.push(CriterionScore {
                criterion: c.id.clone(),
                level,
                comment: Some(c.comment.clone()).filter(|t| !t.is_empty()),
            }),
            None => {
                c.missing = true;
                missing.push(c.name.clone());
            }
        }
    }
    if !page.can_score {
        page.error = Some("This review was already decided; nothing was changed.".to_owned());
        return Ok(render(StatusCode::CONFLICT, &page));
    }
    if !missing.is_empty() {
        page.error = Some(format!(
            "Choose a level for every criterion: {} still need{} one. Nothing was recorded.",
            missing.join(", "),
            if missing.len() == 1 { "s" } else { "" }
        ));
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let (_, rubric) = state
        .store
        .rubric(&org.id, &review.rubric_id, Some(&review.rubric_version))
        .await?;
    let scored = match rubric.score(&scores) {
        Ok(s) => s,
        Err(e) => {
            page.error = Some(format!(
                "These scores do not fit the rubric: {e}. Nothing was recorded."
            ));
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
        }
    };
    let me = viewer.caller.user_id();
    let now = state.clock.now();
    let step = match stage {
        ReviewStage::Moderation => state.store.moderate_review(&review, me, &scored, now).await,
        ReviewStage::First | ReviewStage::Second => {
            state.store.score_review(&review, me, &scored, now).await
        }
    };
    match step {
        Ok(step) => {
            let done = match step {
                ReviewStep::Decided {
                    outcome: tessera_review::Outcome::Mastered,
                    ..
                } => "mastered",
                ReviewStep::Decided { .. } => "not_yet",
                ReviewStep::AwaitingSecondReview { .. } => "second",
                ReviewStep::AwaitingModerator { .. } => "moderation",
            };
            Ok(see_other(&format!(
                "/orgs/{}/reviews?done={done}",
                org.slug
            )))
        }
        Err(StoreError::Conflict(what)) => {
            page.error = Some(format!(
                "Nothing was recorded: {what} (someone may have scored it a moment ago). Go back to the queue to see where it stands."
            ));
            page.can_score = false;
            Ok(render(StatusCode::CONFLICT, &page))
        }
        Err(StoreError::Review(e)) => {
            page.error = Some(format!("The review could not be recorded: {e}."));
            Ok(render(StatusCode::CONFLICT, &page))
        }
        Err(e) => Err(e.into()),
    }
}
