//! The learner's side of the review flow, and the teacher's view of it: a learner's record
//! ("my competencies" when it is one's own), one competency with every attempt, its evidence
//! and the reviewer's feedback, the evidence form (text, links, files) and the teacher's
//! override form.
//!
//! Who sees what is the API's rule ([`may_read_learner`]): the learner themself and the
//! organisation's reviewers, teachers and admins; anyone else gets "not found". Only the
//! learner submits their own evidence; only teachers override, always with a written reason,
//! and an override is marked as such wherever the outcome is shown.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tessera_core::account::Role;
use tessera_review::{MasteryRecord, MasteryState, Outcome, Rubric, ScoredReview};
use tessera_store::StoreError;
use tessera_store::accounts::Org;
use tessera_store::evidence::{NewFile, NewSubmission, Submission};
use tessera_store::reviews::{Override, OverrideAction};
use tessera_store::views::{CompetencyLabel, RubricChoice};

use super::{Chrome, PageError, PageForm, Viewer, render, see_other};
use crate::error::AppError;
use crate::routes::evidence::{
    ALLOWED_MEDIA_TYPES, content_disposition, content_matches, may_read_evidence, may_read_learner,
    store_blob,
};
use crate::state::AppState;

/// Most links per submission and longest text, as the API.
const MAX_LINKS: usize = 20;
const MAX_LINK_LEN: usize = 2048;
const MAX_TEXT_LEN: usize = 100_000;

/// `2026-11-23`.
pub(super) fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// `2026-11-23 09:00 UTC`.
pub(super) fn moment(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A state as people read it, and the CSS class of its badge.
pub(super) fn state_label(s: MasteryState) -> (&'static str, &'static str) {
    match s {
        MasteryState::NotStarted => ("Not started", "st-none"),
        MasteryState::InProgress => ("In progress", "st-none"),
        MasteryState::Submitted => ("Submitted, awaiting review", "st-wait"),
        MasteryState::Mastered => ("Mastered", "st-ok"),
        MasteryState::NotYet => ("Not yet", "st-notyet"),
    }
}

/// An outcome as people read it ("not yet", never "fail").
pub(super) fn outcome_label(o: Outcome) -> (&'static str, &'static str) {
    match o {
        Outcome::Mastered => ("Mastered", "st-ok"),
        Outcome::NotYet => ("Not yet", "st-notyet"),
    }
}

/// `code statement`, or the statement alone.
pub(super) fn competency_text(c: &CompetencyLabel) -> String {
    match &c.code {
        Some(code) => format!("{code} {}", c.statement),
        None => c.statement.clone(),
    }
}

/// A byte count for people.
pub(super) fn size(bytes: i64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} bytes"),
        b if b < 1024 * 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// A file of a submission, linked for download.
pub(super) struct FileView {
    pub href: String,
    pub name: String,
    pub media_type: String,
    pub size: String,
}

/// What a learner handed in.
pub(super) struct EvidenceView {
    pub text: Option<String>,
    pub links: Vec<String>,
    pub files: Vec<FileView>,
}

impl EvidenceView {
    pub(super) fn of(org_slug: &str, s: &Submission) -> Self {
        Self {
            text: s.text.clone(),
            links: s.links.clone(),
            files: s
                .files
                .iter()
                .enumerate()
                .map(|(i, f)| FileView {
                    href: format!("/orgs/{org_slug}/submissions/{}/files/{i}", s.id),
                    name: f
                        .filename
                        .clone()
                        .unwrap_or_else(|| format!("file {}", i + 1)),
                    media_type: f.media_type.clone(),
                    size: size(f.size_bytes),
                })
                .collect(),
        }
    }
}

/// One criterion of a scored review, with names from the rubric.
pub(super) struct CriterionView {
    pub name: String,
    pub level: String,
    pub points: u64,
    pub meets: Option<bool>,
    pub comment: Option<String>,
}

/// The scored criteria with the rubric's names (ids when the rubric is not at hand).
pub(super) fn criteria_views(scored: &ScoredReview, rubric: Option<&Rubric>) -> Vec<CriterionView> {
    scored
        .criteria
        .iter()
        .map(|c| {
            let criterion = rubric.and_then(|r| r.criterion(&c.criterion));
            let level = criterion
                .and_then(|cr| cr.levels().iter().find(|l| l.id() == c.level))
                .map_or_else(|| c.level.clone(), |l| l.name().to_owned());
            CriterionView {
                name: criterion.map_or_else(|| c.criterion.clone(), |cr| cr.name().to_owned()),
                level,
                points: c.points,
                meets: c.meets_required,
                comment: c.comment.clone(),
            }
        })
        .collect()
}

/// The teacher's id from an event's pseudonymous `teacher:<id>`.
fn actor_id(by: &str) -> &str {
    by.split_once(':').map_or(by, |(_, id)| id)
}

/// The organisation, if the viewer may read `learner`'s record there.
async fn readable(
    state: &AppState,
    viewer: &Viewer,
    slug: &str,
    learner: &str,
) -> Result<Org, PageError> {
    let org = state.store.org_by_slug(slug).await?;
    may_read_learner(&viewer.caller, &org.id, learner)?;
    // A staff member asking for someone who is not a member sees nothing either.
    if viewer.caller.user_id() != learner && !state.store.is_member(&org.id, learner).await? {
        return Err(AppError::NotFound.into());
    }
    Ok(org)
}

/// Whether the viewer teaches in the organisation (may override).
fn teaches(viewer: &Viewer, org_id: &str) -> bool {
    viewer.caller.is_platform_admin() || viewer.caller.roles_in(org_id).any(|r| r == Role::Teacher)
}

// ---------------------------------------------------------------------------------------------
// "My competencies" and a learner's record.

struct CompetencyRow {
    id: String,
    code: String,
    statement: String,
    state: &'static str,
    state_class: &'static str,
    mastered_on: Option<String>,
    attempts: usize,
    last_activity: Option<String>,
    by_override: bool,
    target: Option<String>,
}

struct FrameworkGroup {
    title: String,
    rows: Vec<CompetencyRow>,
}

#[derive(Template)]
#[template(path = "learner_record.html")]
struct RecordPage {
    chrome: Chrome,
    org_name: String,
    org_slug: String,
    learner_id: String,
    learner_name: String,
    is_self: bool,
    /// Whether the viewer may open the competency pages (they show the evidence): the learner,
    /// reviewers and teachers; an admin sees the record without links.
    links: bool,
    groups: Vec<FrameworkGroup>,
    mastered: usize,
    total: usize,
}

/// `GET /orgs/{slug}/my-competencies`: the viewer's own record.
pub async fn my_competencies(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    super::to_own_page(&state, &viewer, &slug, "").await
}

/// `GET /orgs/{slug}/learners/{user}`: every competency the learner can work on (assessed by
/// a rubric) or has worked on, with its state.
pub async fn record(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, learner)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let org = readable(&state, &viewer, &slug, &learner).await?;
    let record = state.store.learner_record(&org.id, &learner).await?;
    let rubrics = state.store.rubric_choices(&org.id).await?;
    let mut competencies: Vec<CompetencyLabel> = state
        .store
        .org_competencies(&org.id)
        .await?
        .into_iter()
        .filter(|c| {
            record.competencies.contains_key(&c.id) || rubrics.iter().any(|r| r.assesses(c))
        })
        .collect();
    // Worked-on competencies that were retired since still belong in the record.
    let missing: Vec<String> = record
        .competencies
        .keys()
        .filter(|id| !competencies.iter().any(|c| &c.id == *id))
        .cloned()
        .collect();
    for chunk in missing.chunks(tessera_store::views::MAX_IDS) {
        competencies.extend(state.store.competency_labels(chunk).await?.into_values());
    }
    let targets: HashMap<String, String> = state
        .store
        .target_dates(&org.id, &learner)
        .await?
        .into_iter()
        .map(|t| {
            (
                t.competency_id,
                t.target_date.format("%Y-%m-%d").to_string(),
            )
        })
        .collect();
    let mut groups: BTreeMap<(String, String), Vec<CompetencyRow>> = BTreeMap::new();
    let mut mastered = 0;
    for c in &competencies {
        let r = record.competencies.get(&c.id);
        let st = r.map_or(MasteryState::NotStarted, |r| r.state);
        if st == MasteryState::Mastered {
            mastered += 1;
        }
        let (label, class) = state_label(st);
        groups
            .entry((c.framework_title.clone(), c.framework_id.clone()))
            .or_default()
            .push(CompetencyRow {
                id: c.id.clone(),
                code: c.code.clone().unwrap_or_default(),
                statement: c.statement.clone(),
                state: label,
                state_class: class,
                mastered_on: r.and_then(|r| r.mastered_at).map(day),
                attempts: r.map_or(0, |r| r.attempts.len()),
                last_activity: r.and_then(|r| r.last_activity).map(day),
                by_override: r.is_some_and(|r| r.by_override),
                target: targets.get(&c.id).cloned(),
            });
    }
    let learner_name = state.store.user(&learner).await?.name;
    let page = RecordPage {
        chrome: viewer.chrome.clone(),
        org_name: org.name,
        org_slug: org.slug,
        is_self: viewer.caller.user_id() == learner,
        links: may_read_evidence(&viewer.caller, &org.id, &learner).is_ok(),
        learner_id: learner,
        learner_name,
        total: competencies.len(),
        mastered,
        groups: groups
            .into_iter()
            .map(|((title, _), rows)| FrameworkGroup { title, rows })
            .collect(),
    };
    Ok(render(StatusCode::OK, &page))
}

// ---------------------------------------------------------------------------------------------
// One competency: attempts, feedback, the evidence form and the override form.

struct AttemptView {
    number: u32,
    submitted_at: String,
    evidence: EvidenceView,
    status: &'static str,
    status_class: &'static str,
    reviewed_at: Option<String>,
    reviewer: Option<String>,
    rubric: String,
    criteria: Vec<CriterionView>,
    points: Option<String>,
    override_note: Option<String>,
}

struct OverrideView {
    what: String,
    at: String,
    by: String,
    reason: String,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "learner_competency.html")]
struct CompetencyPage {
    chrome: Chrome,
    org_name: String,
    org_slug: String,
    learner_id: String,
    learner_name: String,
    is_self: bool,
    competency_id: String,
    code: String,
    statement: String,
    framework_title: String,
    state: &'static str,
    state_class: &'static str,
    summary: String,
    by_override: bool,
    attempts: Vec<AttemptView>,
    overrides: Vec<OverrideView>,
    notice: Option<&'static str>,
    // The evidence form (the learner, when the state allows a submission).
    can_submit: bool,
    submit_note: Option<String>,
    rubrics: Vec<Choice>,
    text: String,
    links: String,
    max_mib: usize,
    submit_error: Option<String>,
    // Prerequisites not mastered yet (when the framework gates), and the teacher's exception
    // form.
    unmet: Vec<String>,
    can_grant: bool,
    exception: Option<String>,
    // The optional target date (never enforced): the learner themself or a teacher sets it.
    target: Option<String>,
    target_value: String,
    can_set_target: bool,
    target_error: Option<String>,
    exception_error: Option<String>,
    // The override form (teachers).
    can_override: bool,
    override_options: Vec<Choice>,
    override_note: Option<String>,
    reason: String,
    override_error: Option<String>,
}

/// Notices after a redirect.
#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// What a state allows a teacher to set, from the state machine's transitions.
fn override_choices(s: MasteryState) -> Vec<(&'static str, &'static str)> {
    match s {
        MasteryState::Submitted => vec![
            ("mastered", "Mastered (against the rubric's rule)"),
            ("not_yet", "Not yet (against the rubric's rule)"),
        ],
        MasteryState::NotYet => vec![("mastered", "Mastered (against the rubric's rule)")],
        MasteryState::Mastered => vec![
            ("not_yet", "Not yet (against the rubric's rule)"),
            ("withdrawn", "Withdraw the mastery"),
        ],
        MasteryState::NotStarted | MasteryState::InProgress => Vec::new(),
    }
}

fn summary(r: &MasteryRecord) -> String {
    let attempts = r.attempts.len();
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    match r.state {
        MasteryState::Mastered => {
            let when = r.mastered_at.map(day).unwrap_or_default();
            let mut s = format!("Mastered on {when}");
            if let Some(n) = r.attempts_to_mastery {
                s.push_str(&format!(" (attempt {n})"));
            }
            if r.by_override {
                s.push_str(", by a teacher's override");
            }
            s.push('.');
            s
        }
        MasteryState::NotYet => format!(
            "Not yet, after {attempts} attempt{}. Read the feedback and submit again when ready; there is no deadline.",
            plural(attempts)
        ),
        MasteryState::Submitted => "Evidence submitted; it is waiting for a reviewer.".to_owned(),
        MasteryState::InProgress | MasteryState::NotStarted => {
            "No evidence submitted yet.".to_owned()
        }
    }
}

/// Everything the competency page shows, without form state.
async fn competency_page(
    state: &AppState,
    viewer: &Viewer,
    org: &Org,
    learner: &str,
    competency_id: &str,
) -> Result<CompetencyPage, PageError> {
    let labels = state
        .store
        .competency_labels(&[competency_id.to_owned()])
        .await?;
    let competency = labels
        .get(competency_id)
        .cloned()
        .ok_or(AppError::NotFound)?;
    let framework = state.store.framework(&competency.framework_id).await?;
    if framework.org_id != org.id {
        return Err(AppError::NotFound.into());
    }
    let full = state.store.learner_record(&org.id, learner).await?;
    let record = full
        .competencies
        .get(competency_id)
        .cloned()
        .unwrap_or_else(|| MasteryRecord::new(competency_id));
    let submissions = state
        .store
        .submissions(&org.id, learner, Some(competency_id))
        .await?;
    let feedback = state
        .store
        .learner_feedback(&org.id, learner, Some(competency_id))
        .await?;
    // The rubric versions the attempts were scored with, read once each.
    let mut rubrics: HashMap<(String, String), Option<Rubric>> = HashMap::new();
    for s in &submissions {
        let key = (s.rubric_id.clone(), s.rubric_version.clone());
        if let std::collections::hash_map::Entry::Vacant(slot) = rubrics.entry(key) {
            let r = match state
                .store
                .rubric(&org.id, &s.rubric_id, Some(&s.rubric_version))
                .await
            {
                Ok((_, r)) => Some(r),
                Err(StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            };
            slot.insert(r);
        }
    }
    let teacher_ids: Vec<String> = record
        .overrides
        .iter()
        .map(|o| actor_id(&o.by).to_owned())
        .collect();
    let names = state.store.user_names(&teacher_ids).await?;
    let name_of = |by: &str| {
        names
            .get(actor_id(by))
            .cloned()
            .unwrap_or_else(|| "a teacher".to_owned())
    };
    let mut attempts: Vec<AttemptView> = record
        .attempts
        .iter()
        .map(|a| {
            let sub = submissions.iter().find(|s| s.id == a.submission);
            let fb = feedback.iter().find(|f| f.submission_id == a.submission);
            let scored: Option<ScoredReview> = fb
                .and_then(|f| f.scored.as_deref())
                .and_then(|j| serde_json::from_str(j).ok());
            let rubric = sub.and_then(|s| {
                rubrics
                    .get(&(s.rubric_id.clone(), s.rubric_version.clone()))
                    .and_then(Option::as_ref)
            });
            let (status, status_class) = match a.outcome() {
                Some(o) => outcome_label(o),
                None => ("Awaiting review", "st-wait"),
            };
            AttemptView {
                number: a.number,
                submitted_at: moment(a.submitted_at),
                evidence: sub.map_or(
                    EvidenceView {
                        text: None,
                        links: Vec::new(),
                        files: Vec::new(),
                    },
                    |s| EvidenceView::of(&org.slug, s),
                ),
                status,
                status_class,
                reviewed_at: a.reviewed_at.map(moment),
                reviewer: fb
                    .filter(|_| a.review.is_some())
                    .and_then(|f| f.reviewer_name.clone()),
                rubric: match (rubric, sub) {
                    (Some(r), Some(s)) => format!("{} (version {})", r.title(), s.rubric_version),
                    (None, Some(s)) => format!("{} {}", s.rubric_id, s.rubric_version),
                    _ => String::new(),
                },
                points: scored
                    .as_ref()
                    .map(|s| format!("{} of {} points", s.total_points, s.max_points)),
                criteria: scored
                    .as_ref()
                    .map(|s| criteria_views(s, rubric))
                    .unwrap_or_default(),
                override_note: a.overridden.as_ref().map(|o| {
                    format!(
                        "Overridden by {} on {}: set to {}. Reason: {}",
                        name_of(&o.by),
                        day(o.at),
                        state_label(o.to).0.to_lowercase(),
                        o.reason
                    )
                }),
            }
        })
        .collect();
    attempts.reverse(); // newest first: the latest feedback is what the learner needs
    let overrides = record
        .overrides
        .iter()
        .rev()
        .map(|o| OverrideView {
            what: o.event.to_string(),
            at: moment(o.at),
            by: name_of(&o.by),
            reason: o.reason.clone(),
        })
        .collect();
    let is_self = viewer.caller.user_id() == learner;
    let is_learner = viewer.caller.roles_in(&org.id).any(|r| r == Role::Learner);
    let open = matches!(
        record.state,
        MasteryState::NotStarted | MasteryState::InProgress | MasteryState::NotYet
    );
    let choices: Vec<RubricChoice> = state
        .store
        .rubric_choices(&org.id)
        .await?
        .into_iter()
        .filter(|r| r.assesses(&competency))
        .collect();
    let unmet: Vec<String> = if open {
        state
            .store
            .unmet_prerequisites(&competency.framework_id, learner, competency_id)
            .await?
            .into_iter()
            .map(|u| {
                let text = match u.code {
                    Some(code) => format!("{code} {}", u.statement),
                    None => u.statement,
                };
                let (st, _) = state_label(match u.state.as_str() {
                    "in_progress" => MasteryState::InProgress,
                    "submitted" => MasteryState::Submitted,
                    "not_yet" => MasteryState::NotYet,
                    _ => MasteryState::NotStarted,
                });
                format!("{text} ({})", st.to_lowercase())
            })
            .collect()
    } else {
        Vec::new()
    };
    let submit_note = if !is_self || !is_learner {
        None
    } else if !unmet.is_empty() {
        Some("This competency opens once you have mastered its prerequisites (listed above), or when your teacher allows it.".to_owned())
    } else if !open {
        Some(match record.state {
            MasteryState::Submitted => {
                "Your evidence is waiting for a reviewer; you can submit again after the review."
                    .to_owned()
            }
            _ => "You have mastered this competency.".to_owned(),
        })
    } else if choices.is_empty() {
        Some("No rubric assesses this competency yet, so evidence cannot be reviewed. Ask your teacher.".to_owned())
    } else {
        None
    };
    let can_submit = is_self && is_learner && open && unmet.is_empty() && !choices.is_empty();
    let can_override = teaches(viewer, &org.id) && !is_self;
    let override_options: Vec<Choice> = override_choices(record.state)
        .into_iter()
        .map(|(v, l)| Choice {
            value: v.to_owned(),
            label: l.to_owned(),
            selected: false,
        })
        .collect();
    let override_note = (can_override && override_options.is_empty())
        .then(|| "Nothing to override until the learner has submitted evidence.".to_owned());
    let (state_text, state_class) = state_label(record.state);
    let learner_name = state.store.user(learner).await?.name;
    let target = state
        .store
        .target_dates(&org.id, learner)
        .await?
        .into_iter()
        .find(|t| t.competency_id == competency_id);
    let exception = state
        .store
        .prerequisite_exceptions(&org.id, learner)
        .await?
        .into_iter()
        .find(|e| e.competency_id == competency_id);
    let mut people: Vec<String> = target.iter().map(|t| t.set_by.clone()).collect();
    people.extend(exception.iter().map(|e| e.granted_by.clone()));
    let people = state.store.user_names(&people).await?;
    let person = |id: &str| {
        if id == viewer.caller.user_id() {
            "you".to_owned()
        } else if id == learner {
            learner_name.clone()
        } else {
            people
                .get(id)
                .cloned()
                .unwrap_or_else(|| "a teacher".to_owned())
        }
    };
    let target_text = target.as_ref().map(|t| {
        format!(
            "{} (set by {} on {}; a goal, not a deadline)",
            t.target_date.format("%Y-%m-%d"),
            person(&t.set_by),
            day(t.set_at)
        )
    });
    let exception_text = exception.as_ref().map(|e| {
        format!(
            "Allowed before its prerequisites by {} on {}. Reason: {}",
            person(&e.granted_by),
            day(e.granted_at),
            e.reason
        )
    });
    Ok(CompetencyPage {
        chrome: viewer.chrome.clone(),
        org_name: org.name.clone(),
        org_slug: org.slug.clone(),
        learner_id: learner.to_owned(),
        learner_name,
        is_self,
        competency_id: competency.id.clone(),
        code: competency.code.clone().unwrap_or_default(),
        statement: competency.statement.clone(),
        framework_title: competency.framework_title.clone(),
        state: state_text,
        state_class,
        summary: summary(&record),
        by_override: record.by_override,
        attempts,
        overrides,
        notice: None,
        can_submit,
        submit_note,
        rubrics: choices
            .iter()
            .enumerate()
            .map(|(i, r)| Choice {
                value: r.id.clone(),
                label: format!("{} (version {})", r.title, r.version),
                selected: i == 0,
            })
            .collect(),
        text: String::new(),
        links: String::new(),
        max_mib: state.config.evidence_max_bytes.div_ceil(1024 * 1024),
        submit_error: None,
        can_grant: teaches(viewer, &org.id) && !is_self && !unmet.is_empty(),
        unmet,
        exception_error: None,
        exception: exception_text,
        target: target_text,
        target_value: target
            .map(|t| t.target_date.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        can_set_target: is_self || teaches(viewer, &org.id),
        target_error: None,
        can_override,
        override_options,
        override_note,
        reason: String::new(),
        override_error: None,
    })
}

/// `GET /orgs/{slug}/learners/{user}/competencies/{competency}`.
pub async fn competency(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, learner, competency_id)): Path<(String, String, String)>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let org = readable(&state, &viewer, &slug, &learner).await?;
    // The competency page shows the evidence: the learner, reviewers and teachers only.
    may_read_evidence(&viewer.caller, &org.id, &learner)?;
    let mut page = competency_page(&state, &viewer, &org, &learner, &competency_id).await?;
    page.notice = match q.done.as_deref() {
        Some("submitted") => Some("Your evidence was submitted. A reviewer will score it."),
        Some("override") => Some("The override was recorded."),
        Some("exception") => Some("The learner may now submit evidence for this competency."),
        Some("target") => Some("The target date was saved."),
        _ => None,
    };
    Ok(render(StatusCode::OK, &page))
}

// ---------------------------------------------------------------------------------------------
// Submitting evidence.

/// The evidence form as sent.
#[derive(Default)]
struct EvidenceForm {
    rubric: String,
    text: String,
    links: String,
    files: Vec<(String, Option<String>, Vec<u8>)>,
}

/// Why the evidence form was not accepted.
enum Refusal {
    Page(PageError),
    Problem(StatusCode, String),
}

impl From<PageError> for Refusal {
    fn from(e: PageError) -> Self {
        Self::Page(e)
    }
}

fn problem(status: StatusCode, message: impl Into<String>) -> Refusal {
    Refusal::Problem(status, message.into())
}

/// Reads the multipart evidence form. The CSRF token must come first (browsers send fields in
/// document order), so a forged request is refused before any file is read.
async fn read_evidence(
    state: &AppState,
    viewer: &Viewer,
    request: Request,
    form: &mut EvidenceForm,
) -> Result<(), Refusal> {
    let limit = state.config.evidence_max_bytes;
    let max_mib = limit.div_ceil(1024 * 1024);
    let too_large = || {
        problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("A file is too large: each file may be at most {max_mib} MiB."),
        )
    };
    let (parts, body) = request.into_parts();
    let body = Body::new(http_body_util::Limited::new(
        body,
        limit.saturating_mul(4).saturating_add(1 << 20),
    ));
    let mut multipart = Multipart::from_request(Request::from_parts(parts, body), state)
        .await
        .map_err(|_| {
            problem(
                StatusCode::BAD_REQUEST,
                "The form must be sent as a file upload (multipart/form-data).",
            )
        })?;
    let cut = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            problem(
                StatusCode::BAD_REQUEST,
                "The upload was cut off or malformed. Please try again.",
            )
        }
    };
    let mut csrf_ok = false;
    while let Some(mut field) = multipart.next_field().await.map_err(cut)? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "csrf_token" {
            let sent = field.text().await.map_err(cut)?;
            viewer.check_csrf(&sent)?;
            csrf_ok = true;
            continue;
        }
        if !csrf_ok {
            return Err(Refusal::Page(PageError::Csrf));
        }
        if name == "file" {
            let filename = field
                .file_name()
                .map(str::to_owned)
                .filter(|n| !n.is_empty());
            let media_type = field
                .content_type()
                .map(|m| {
                    m.split(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_ascii_lowercase()
                })
                .unwrap_or_default();
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(cut)? {
                if bytes.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                bytes.extend_from_slice(&chunk);
            }
            // An empty file input is sent as a part without a name or content.
            if filename.is_none() && bytes.is_empty() {
                continue;
            }
            let shown = filename.clone().unwrap_or_else(|| "the file".to_owned());
            if !ALLOWED_MEDIA_TYPES.contains(&media_type.as_str()) {
                return Err(problem(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    format!(
                        "{shown}: this kind of file ({media_type}) cannot be submitted. Allowed: PDF, PNG, JPEG, WebP, GIF, MP3, MP4, WebM, Ogg and plain text."
                    ),
                ));
            }
            if bytes.is_empty() {
                return Err(problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("{shown} is empty."),
                ));
            }
            if !content_matches(&media_type, &bytes) {
                return Err(problem(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    format!(
                        "{shown} does not look like a {media_type} file: its content is something else."
                    ),
                ));
            }
            form.files.push((media_type, filename, bytes));
        } else {
            let value = field.text().await.map_err(cut)?;
            match name.as_str() {
                "rubric" => form.rubric = value,
                "text" => form.text = value,
                "links" => form.links = value,
                _ => {}
            }
        }
    }
    if !csrf_ok {
        return Err(Refusal::Page(PageError::Csrf));
    }
    Ok(())
}

/// Checks the form and stores the submission.
async fn submit(
    state: &AppState,
    org: &Org,
    learner: &str,
    competency_id: &str,
    form: EvidenceForm,
) -> Result<(), Refusal> {
    let text = Some(form.text.trim().to_owned()).filter(|t| !t.is_empty());
    if text.as_ref().is_some_and(|t| t.len() > MAX_TEXT_LEN) {
        return Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("The text is too long: at most {MAX_TEXT_LEN} characters."),
        ));
    }
    let links: Vec<String> = form
        .links
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if links.len() > MAX_LINKS {
        return Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("Too many links: at most {MAX_LINKS}."),
        ));
    }
    if let Some(bad) = links.iter().find(|l| {
        !(l.starts_with("https://") || l.starts_with("http://"))
            || l.len() > MAX_LINK_LEN
            || l.chars().any(char::is_whitespace)
    }) {
        return Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "“{}” is not a web address. Put one link per line, each starting with https:// or http://.",
                bad.chars().take(80).collect::<String>()
            ),
        ));
    }
    if text.is_none() && links.is_empty() && form.files.is_empty() {
        return Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Add your evidence: some text, a link or a file.",
        ));
    }
    let competency = state
        .store
        .competency(competency_id)
        .await
        .map_err(|e| Refusal::Page(e.into()))?;
    let unmet = state
        .store
        .unmet_prerequisites(&competency.framework_id, learner, &competency.id)
        .await
        .map_err(|e| Refusal::Page(e.into()))?;
    if !unmet.is_empty() {
        let names: Vec<String> = unmet
            .into_iter()
            .map(|u| u.code.unwrap_or(u.statement))
            .collect();
        return Err(problem(
            StatusCode::CONFLICT,
            format!(
                "This competency is not open yet: master {} first, or ask your teacher to allow it.",
                names.join(", ")
            ),
        ));
    }
    let rubric = state
        .store
        .rubric(&org.id, form.rubric.trim(), None)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Choose one of the rubrics listed.",
            ),
            other => Refusal::Page(other.into()),
        })?;
    let (row, rubric) = rubric;
    let assesses = [
        Some(competency.id.as_str()),
        Some(competency.uri.as_str()),
        competency.code.as_deref(),
    ]
    .into_iter()
    .flatten()
    .any(|c| rubric.assesses(c));
    if !assesses {
        return Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "The rubric “{}” does not assess this competency. Choose one of the rubrics listed.",
                rubric.title()
            ),
        ));
    }
    let mut files = Vec::with_capacity(form.files.len());
    for (media_type, filename, bytes) in form.files {
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let root = state.config.data_dir.clone();
        let digest = sha256.clone();
        let size = bytes.len();
        tokio::task::spawn_blocking(move || store_blob(&root, &digest, &bytes))
            .await
            .map_err(|e| Refusal::Page(AppError::internal(e).into()))?
            .map_err(|e| Refusal::Page(AppError::internal(e).into()))?;
        files.push(NewFile {
            sha256,
            media_type,
            filename,
            size_bytes: i64::try_from(size).unwrap_or(i64::MAX),
        });
    }
    let stored = state
        .store
        .submit_evidence(
            &NewSubmission {
                org_id: org.id.clone(),
                learner_id: learner.to_owned(),
                competency_id: competency.id.clone(),
                rubric_id: row.id,
                rubric_version: row.version,
                text,
                links,
                files,
            },
            state.clock.now(),
        )
        .await;
    match stored {
        Ok(_) => Ok(()),
        Err(StoreError::Conflict(_)) => Err(problem(
            StatusCode::CONFLICT,
            "Evidence cannot be submitted now: another change to this record happened at the same moment. Reload the page and try again.",
        )),
        Err(StoreError::Review(tessera_review::Error::InvalidTransition { from, .. })) => {
            Err(problem(
                StatusCode::CONFLICT,
                match from {
                    MasteryState::Submitted => {
                        "Evidence cannot be submitted now: your earlier submission is still waiting for review."
                    }
                    _ => "Evidence cannot be submitted now: this competency is already mastered.",
                },
            ))
        }
        Err(StoreError::Review(e)) => Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("Evidence cannot be submitted: {e}."),
        )),
        Err(StoreError::InvalidReference(what)) => Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("Evidence cannot be submitted: {what}."),
        )),
        Err(e) => Err(Refusal::Page(e.into())),
    }
}

/// `POST /orgs/{slug}/learners/{user}/competencies/{competency}/evidence`: the learner's own
/// evidence, as a new attempt.
pub async fn submit_evidence(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, learner, competency_id)): Path<(String, String, String)>,
    request: Request,
) -> Result<Response, PageError> {
    let org = readable(&state, &viewer, &slug, &learner).await?;
    let is_learner = viewer.caller.roles_in(&org.id).any(|r| r == Role::Learner);
    if viewer.caller.user_id() != learner || !is_learner {
        // Evidence is a learner's own: nobody submits on someone else's behalf.
        return Err(AppError::Forbidden.into());
    }
    let mut form = EvidenceForm::default();
    let read = read_evidence(&state, &viewer, request, &mut form).await;
    let (rubric, text, links) = (form.rubric.clone(), form.text.clone(), form.links.clone());
    let result = match read {
        Ok(()) => submit(&state, &org, &learner, &competency_id, form).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(see_other(&format!(
            "/orgs/{}/learners/{learner}/competencies/{competency_id}?done=submitted#attempts",
            org.slug
        ))),
        Err(Refusal::Page(e)) => Err(e),
        Err(Refusal::Problem(status, message)) => {
            let mut page = competency_page(&state, &viewer, &org, &learner, &competency_id).await?;
            page.submit_error = Some(format!("{message} Nothing was submitted."));
            page.text = text;
            page.links = links;
            for r in &mut page.rubrics {
                r.selected = r.value == rubric;
            }
            Ok(render(status, &page))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Overrides.

/// The override form.
#[derive(Debug, Deserialize)]
pub struct OverrideForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    reason: String,
}

/// `POST /orgs/{slug}/learners/{user}/competencies/{competency}/override`: teachers set the
/// outcome against the rule, or withdraw a mastery, with a written reason.
pub async fn override_outcome(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, learner, competency_id)): Path<(String, String, String)>,
    PageForm(form): PageForm<OverrideForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let org = readable(&state, &viewer, &slug, &learner).await?;
    viewer
        .caller
        .require_role(&org.id, |r| r == Role::Teacher)?;
    let competency = state.store.competency(&competency_id).await?;
    if competency.org_id != org.id {
        return Err(AppError::NotFound.into());
    }
    let reason = form.reason.trim();
    let action = match form.to.as_str() {
        "mastered" => Some(OverrideAction::Set(Outcome::Mastered)),
        "not_yet" => Some(OverrideAction::Set(Outcome::NotYet)),
        "withdrawn" => Some(OverrideAction::Withdraw),
        _ => None,
    };
    let problem = match (action, reason.is_empty()) {
        (None, _) => Some((
            StatusCode::UNPROCESSABLE_ENTITY,
            "Choose what to set: mastered, not yet, or withdraw.".to_owned(),
        )),
        (Some(_), true) => Some((
            StatusCode::UNPROCESSABLE_ENTITY,
            "Write the reason for the override: it is shown wherever the outcome is.".to_owned(),
        )),
        (Some(action), false) => {
            let done = state
                .store
                .override_outcome(
                    &Override {
                        org_id: &org.id,
                        learner_id: &learner,
                        competency_id: &competency.id,
                        action,
                        reason,
                        teacher_id: viewer.caller.user_id(),
                    },
                    state.clock.now(),
                )
                .await;
            match done {
                Ok(_) => None,
                Err(StoreError::Review(e)) => Some((
                    StatusCode::CONFLICT,
                    format!(
                        "This override does not fit the record as it is now: {e}. Reload the page to see the current state."
                    ),
                )),
                Err(StoreError::Conflict(what)) => Some((
                    StatusCode::CONFLICT,
                    format!(
                        "This override was not recorded: {what}. Reload the page and try again."
                    ),
                )),
                Err(e) => return Err(e.into()),
            }
        }
    };
    match problem {
        None => Ok(see_other(&format!(
            "/orgs/{}/learners/{learner}/competencies/{}?done=override",
            org.slug, competency.id
        ))),
        Some((status, message)) => {
            let mut page = competency_page(&state, &viewer, &org, &learner, &competency.id).await?;
            page.override_error = Some(message);
            page.reason = form.reason;
            for o in &mut page.override_options {
                o.selected = o.value == form.to;
            }
            Ok(render(status, &page))
        }
    }
}

/// The exception form.
#[derive(Debug, Deserialize)]
pub struct ExceptionForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    reason: String,
}

/// `POST /orgs/{slug}/learners/{user}/competencies/{competency}/exception`: a teacher lets the
/// learner submit before the prerequisites are mastered, with a written reason.
pub async fn grant_exception(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, learner, competency_id)): Path<(String, String, String)>,
    PageForm(form): PageForm<ExceptionForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let org = readable(&state, &viewer, &slug, &learner).await?;
    viewer
        .caller
        .require_role(&org.id, |r| r == Role::Teacher)?;
    let competency = state.store.competency(&competency_id).await?;
    if competency.org_id != org.id {
        return Err(AppError::NotFound.into());
    }
    let reason = form.reason.trim();
    let problem = if reason.is_empty() {
        Some((
            StatusCode::UNPROCESSABLE_ENTITY,
            "Write the reason for the exception.".to_owned(),
        ))
    } else {
        match state
            .store
            .grant_prerequisite_exception(
                &org.id,
                &learner,
                &competency.id,
                reason,
                viewer.caller.user_id(),
                state.clock.now(),
            )
            .await
        {
            Ok(_) => None,
            Err(StoreError::Domain(e)) => Some((StatusCode::UNPROCESSABLE_ENTITY, e.to_string())),
            Err(e) => return Err(e.into()),
        }
    };
    match problem {
        None => Ok(see_other(&format!(
            "/orgs/{}/learners/{learner}/competencies/{}?done=exception",
            org.slug, competency.id
        ))),
        Some((status, message)) => {
            let mut page = competency_page(&state, &viewer, &org, &learner, &competency.id).await?;
            page.exception_error = Some(message);
            Ok(render(status, &page))
        }
    }
}

/// The target date form.
#[derive(Debug, Deserialize)]
pub struct TargetForm {
    #[serde(default)]
    csrf_token: String,
    /// `YYYY-MM-DD` (what `<input type=date>` sends); empty clears the date.
    #[serde(default)]
    date: String,
}

/// `POST /orgs/{slug}/learners/{user}/competencies/{competency}/target`: the learner (for
/// themself) or a teacher sets or clears the target date. It is shown, never enforced.
pub async fn set_target(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, learner, competency_id)): Path<(String, String, String)>,
    PageForm(form): PageForm<TargetForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let org = readable(&state, &viewer, &slug, &learner).await?;
    if viewer.caller.user_id() != learner {
        viewer
            .caller
            .require_role(&org.id, |r| r == Role::Teacher)?;
    }
    let competency = state.store.competency(&competency_id).await?;
    if competency.org_id != org.id {
        return Err(AppError::NotFound.into());
    }
    let sent = form.date.trim();
    let date = if sent.is_empty() {
        Ok(None)
    } else {
        chrono::NaiveDate::parse_from_str(sent, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                format!(
                    "“{}” is not a date: use the form 2026-12-31.",
                    sent.chars().take(40).collect::<String>()
                )
            })
    };
    match date {
        Ok(date) => {
            state
                .store
                .set_target_date(
                    &org.id,
                    &learner,
                    &competency.id,
                    date,
                    viewer.caller.user_id(),
                    state.clock.now(),
                )
                .await?;
            Ok(see_other(&format!(
                "/orgs/{}/learners/{learner}/competencies/{}?done=target",
                org.slug, competency.id
            )))
        }
        Err(message) => {
            let mut page = competency_page(&state, &viewer, &org, &learner, &competency.id).await?;
            page.target_error = Some(message);
            page.target_value = sent.to_owned();
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Evidence files and the list of learners.

/// `GET /orgs/{slug}/submissions/{submission}/files/{n}`: a file of a submission, for whoever
/// may read the learner's evidence. Sent as an attachment with its checked media type, so a
/// file never runs as a page of this site.
pub async fn evidence_file(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, submission_id, n)): Path<(String, String, usize)>,
) -> Result<Response, PageError> {
    let org = state.store.org_by_slug(&slug).await?;
    viewer.caller.require_member(&org.id)?;
    let position = i64::try_from(n).map_err(|_| AppError::NotFound)?;
    let stored = match state.store.evidence_file(&submission_id, position).await {
        Ok(s) if s.org_id == org.id => s,
        Ok(_) | Err(StoreError::NotFound) => return Err(AppError::NotFound.into()),
        Err(e) => return Err(e.into()),
    };
    may_read_evidence(&viewer.caller, &org.id, &stored.learner_id)?;
    let file = stored.file;
    // The address is ours (hex SHA-256), but check it before it becomes a path.
    if file.sha256.len() != 64 || !file.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::internal(std::io::Error::other(
            "stored evidence digest is not hex SHA-256",
        ))
        .into());
    }
    let path = state
        .config
        .data_dir
        .join("evidence")
        .join(&file.sha256[..2])
        .join(&file.sha256);
    let bytes = tokio::fs::read(&path).await.map_err(AppError::internal)?;
    // Only the media types evidence may have, checked at submission; anything else is bytes.
    let media_type = match file.media_type.as_str() {
        "text/plain" => "text/plain; charset=utf-8".to_owned(),
        m if ALLOWED_MEDIA_TYPES.contains(&m) => m.to_owned(),
        _ => "application/octet-stream".to_owned(),
    };
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, media_type),
            (
                header::CONTENT_DISPOSITION,
                content_disposition(file.filename.as_deref(), &file.sha256),
            ),
        ],
        bytes,
    )
        .into_response())
}

struct LearnerRow {
    id: String,
    name: String,
    email: String,
    mastered: usize,
    pending: usize,
}

#[derive(Template)]
#[template(path = "learners.html")]
struct LearnersPage {
    chrome: Chrome,
    org_name: String,
    org_slug: String,
    learners: Vec<LearnerRow>,
}

/// `GET /orgs/{slug}/learners`: the organisation's learners, for its reviewers, teachers and
/// admins.
pub async fn learners(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    let org = state.store.org_by_slug(&slug).await?;
    viewer.caller.require_role(&org.id, |r| {
        matches!(r, Role::Reviewer | Role::Teacher | Role::Admin)
    })?;
    let people = state.store.people_with_role(&org.id, "learner").await?;
    let counts = state.store.learner_state_counts(&org.id).await?;
    let learners = people
        .into_iter()
        .map(|p| {
            let of = |s: MasteryState| {
                counts
                    .get(&p.id)
                    .and_then(|c| c.get(s.as_str()))
                    .map_or(0, |n| usize::try_from(*n).unwrap_or(0))
            };
            LearnerRow {
                mastered: of(MasteryState::Mastered),
                pending: of(MasteryState::Submitted),
                id: p.id,
                name: p.name,
                email: p.email,
            }
        })
        .collect();
    let page = LearnersPage {
        chrome: viewer.chrome,
        org_name: org.name,
        org_slug: org.slug,
        learners,
    };
    Ok(render(StatusCode::OK, &page))
}
