//! The progress dashboards as pages: the learner's own ("My progress": standing per
//! competency, attempts, elapsed time, pace against target dates, what to work on next and
//! why) and the teacher's (a course's learners × competencies, filters, flags with their
//! reasons, a teacher's dismissal or override with a note, the course's thresholds), plus the
//! cohorts page. Same rules as the API (`routes/dashboards.rs`); plain forms, no script.

use std::collections::{HashMap, HashSet};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tessera_core::account::Role;
use tessera_review::flags::{DecisionKind, FlagKind, Thresholds};
use tessera_store::accounts::Org;
use tessera_store::cohorts::Cohort;
use tessera_store::dashboards::LearnerDashboard;

use super::learning::{day, moment};
use super::{Chrome, PageError, PageForm, Viewer, encode_component, render, see_other};
use crate::error::AppError;
use crate::routes::dashboards::{
    StateFilter, decide, filter_rows, load, readable_learner, require_staff, require_teacher,
};
use crate::state::AppState;

/// Learners per page of the teacher dashboard (keeps the page light: ~2,000 cells at most).
const PAGE_SIZE: usize = 20;
/// Flags with their forms per page (each is a small form); the rest are counted, and the
/// filters narrow them down.
const MAX_FLAGS: usize = 25;

// ---------------------------------------------------------------------------------------------
// The learner dashboard.

#[derive(Template)]
#[template(path = "dashboard_learner.html")]
struct LearnerPage {
    chrome: Chrome,
    org_name: String,
    org_slug: String,
    learner_id: String,
    learner_name: String,
    is_self: bool,
    links: bool,
    dash: LearnerDashboard,
}

impl LearnerPage {
    fn standing_label(&self, s: &str) -> (&'static str, &'static str) {
        match s {
            "mastered" => ("Mastered", "st-ok"),
            "in_progress" => ("In progress", "st-wait"),
            "open_now" => ("Open now", "st-notyet"),
            _ => ("Not started", "st-none"),
        }
    }

    fn state_note(&self, s: &str) -> &'static str {
        match s {
            "submitted" => "awaiting review",
            "not_yet" => "reviewed “not yet”",
            "in_progress" => "started",
            _ => "",
        }
    }

    fn date(&self, t: &Option<chrono::DateTime<chrono::Utc>>) -> String {
        t.map(day).unwrap_or_default()
    }
}

/// `GET /orgs/{slug}/my-progress`: the viewer's own dashboard.
pub async fn my_progress(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    super::to_own_page(&state, &viewer, &slug, "/progress").await
}

/// `GET /orgs/{slug}/learners/{user}/progress`: a learner's dashboard (the learner, and the
/// organisation's staff).
pub async fn learner_progress(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, learner)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let org = readable_learner(&state, &viewer.caller, &slug, &learner).await?;
    let dash = state
        .store
        .learner_dashboard(&org.id, &learner, state.clock.now())
        .await?;
    let learner_name = state.store.user(&learner).await?.name;
    let page = LearnerPage {
        chrome: viewer.chrome.clone(),
        is_self: viewer.caller.user_id() == learner,
        links: crate::routes::evidence::may_read_evidence(&viewer.caller, &org.id, &learner)
            .is_ok(),
        org_name: org.name,
        org_slug: org.slug,
        learner_id: learner,
        learner_name,
        dash,
    };
    Ok(render(StatusCode::OK, &page))
}

// ---------------------------------------------------------------------------------------------
// The teacher dashboard.

/// The filters, as the filter form sends them (empty means "all").
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TeacherQuery {
    #[serde(default)]
    framework: String,
    #[serde(default)]
    cohort: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    competency: String,
    #[serde(default)]
    flagged: String,
    #[serde(default)]
    page: String,
}

impl TeacherQuery {
    /// The query string that shows the same view again (page included).
    fn query_string(&self) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("framework", &self.framework),
            ("cohort", &self.cohort),
            ("state", &self.state),
            ("competency", &self.competency),
            ("flagged", &self.flagged),
            ("page", &self.page),
        ] {
            if !v.is_empty() {
                parts.push(format!("{k}={}", encode_component(v)));
            }
        }
        parts.join("&")
    }
}

struct Opt {
    value: String,
    label: String,
    selected: bool,
}

struct Cell {
    mark: &'static str,
    class: &'static str,
    flagged: bool,
}

struct Row {
    id: String,
    name: String,
    mastered: u32,
    in_progress: u32,
    open_flags: usize,
    cells: Vec<Cell>,
}

struct FlagView {
    learner_id: String,
    learner_name: String,
    competency_id: String,
    competency: String,
    kind: &'static str,
    kind_label: &'static str,
    reason: String,
    /// "Dismissed by … on …: note" when a teacher's decision sets it aside.
    decision: Option<String>,
    overridden: bool,
    error: Option<String>,
    note: String,
}

/// A problem with a form of the teacher page, shown next to that form.
#[derive(Default)]
struct Problems {
    /// (learner, competency, kind, message, note sent).
    flag: Option<(String, String, String, String, String)>,
    thresholds: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard_teacher.html")]
struct TeacherPage {
    chrome: Chrome,
    org_name: String,
    org_slug: String,
    framework_id: String,
    framework_title: String,
    frameworks: Vec<Opt>,
    cohorts: Vec<Opt>,
    states: Vec<Opt>,
    competency_opts: Vec<Opt>,
    flagged_only: bool,
    columns: Vec<(String, String)>,
    rows: Vec<Row>,
    flags: Vec<FlagView>,
    /// Flags of the learners shown that did not fit on the page.
    more_flags: usize,
    learners: usize,
    flagged_learners: usize,
    total: usize,
    page: usize,
    pages: usize,
    prev: Option<String>,
    next: Option<String>,
    /// The filters, to come back to after a form.
    back: TeacherQuery,
    can_decide: bool,
    can_set_thresholds: bool,
    attempts: String,
    inactive_days: String,
    target_days: String,
    thresholds_error: Option<String>,
    thresholds_text: String,
    notice: Option<&'static str>,
}

fn opt_text(v: Option<u32>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn thresholds_text(t: &Thresholds) -> String {
    let mut parts = Vec::new();
    parts.push(match t.attempts_without_mastery {
        Some(n) => format!("{n} attempts without mastery"),
        None => "attempts: off".into(),
    });
    parts.push(match t.days_without_activity {
        Some(n) => format!("{n} days without activity"),
        None => "inactivity: off".into(),
    });
    parts.push(match t.days_past_target {
        Some(0) => "any day past a target date".into(),
        Some(n) => format!("more than {n} days past a target date"),
        None => "target dates: off".into(),
    });
    parts.join(" · ")
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "attempts_without_mastery" => "Attempts without mastery",
        "no_recent_activity" => "No recent activity",
        _ => "Past the target date",
    }
}

fn cell_mark(state: &str) -> (&'static str, &'static str) {
    match state {
        "mastered" => ("M", "g-m"),
        "not_yet" => ("N", "g-n"),
        "submitted" => ("S", "g-s"),
        "in_progress" => ("P", "g-p"),
        _ => ("", ""),
    }
}

async fn teacher_page(
    state: &AppState,
    viewer: &Viewer,
    org: Org,
    q: TeacherQuery,
    problems: Problems,
    notice: Option<&'static str>,
) -> Result<TeacherPage, PageError> {
    require_staff(&viewer.caller, &org.id)?;
    let state_filter = match q.state.as_str() {
        "" => None,
        s => Some(StateFilter::parse(s).ok_or_else(|| {
            AppError::InvalidParameter("state must be one of the listed states".into())
        })?),
    };
    let flagged_only = !q.flagged.is_empty();
    let (scope, dash) = load(
        state,
        &org,
        Some(q.framework.as_str()),
        Some(q.cohort.as_str()),
    )
    .await?;
    let kept = filter_rows(
        &dash,
        state_filter,
        Some(q.competency.as_str()),
        flagged_only,
    )?;
    let total = kept.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = q.page.parse::<usize>().unwrap_or(1).clamp(1, pages);
    let shown: Vec<_> = kept
        .into_iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .collect();
    // The grid shows each learner's record: a staff read, logged and shown to the learner.
    for r in &shown {
        crate::routes::rights::note_access(&viewer.caller, &org.id, &r.learner_id, "record");
    }
    let label_of: HashMap<&str, String> = dash
        .competencies
        .iter()
        .map(|c| (c.id.as_str(), c.label()))
        .collect();
    let mut flags = Vec::new();
    let mut rows = Vec::new();
    for r in &shown {
        let flagged_cols: HashSet<&str> = r
            .flags
            .iter()
            .filter(|f| f.decision.is_none())
            .map(|f| f.competency_id.as_str())
            .collect();
        rows.push(Row {
            id: r.learner_id.clone(),
            name: r.name.clone(),
            mastered: r.mastered,
            in_progress: r.in_progress,
            open_flags: r.flags.iter().filter(|f| f.decision.is_none()).count(),
            cells: r
                .cells
                .iter()
                .zip(&dash.competencies)
                .map(|(c, comp)| {
                    let (mark, class) = cell_mark(c.state);
                    Cell {
                        mark,
                        class,
                        flagged: flagged_cols.contains(comp.id.as_str()),
                    }
                })
                .collect(),
        });
        // With a competency chosen, only its flags.
        for f in r
            .flags
            .iter()
            .filter(|f| q.competency.is_empty() || f.competency_id == q.competency)
        {
            let error = problems.flag.as_ref().filter(|(l, c, k, _, _)| {
                *l == r.learner_id && *c == f.competency_id && *k == f.kind
            });
            flags.push(FlagView {
                learner_id: r.learner_id.clone(),
                learner_name: r.name.clone(),
                competency_id: f.competency_id.clone(),
                competency: label_of
                    .get(f.competency_id.as_str())
                    .cloned()
                    .unwrap_or_default(),
                kind: FlagKind::parse(&f.kind).map_or("", FlagKind::as_str),
                kind_label: kind_label(&f.kind),
                reason: f.reason.clone(),
                overridden: f
                    .decision
                    .as_ref()
                    .is_some_and(|d| d.decision == DecisionKind::Overridden.as_str()),
                decision: f.decision.as_ref().map(|d| {
                    format!(
                        "{} by {} on {}: {}",
                        if d.decision == "overridden" {
                            "Overridden"
                        } else {
                            "Dismissed"
                        },
                        d.decided_by_name.as_deref().unwrap_or("a teacher"),
                        moment(d.decided_at),
                        d.note
                    )
                }),
                error: error.map(|e| e.3.clone()),
                note: error.map(|e| e.4.clone()).unwrap_or_default(),
            });
        }
    }
    let more_flags = flags.len().saturating_sub(MAX_FLAGS);
    flags.truncate(MAX_FLAGS);
    let frameworks = state
        .store
        .frameworks(&org.id, false, 200, 0)
        .await?
        .items
        .into_iter()
        .map(|f| Opt {
            selected: f.id == scope.framework.id,
            value: f.id,
            label: f.title,
        })
        .collect();
    let cohort_list: Vec<Cohort> = state.store.cohorts(&org.id).await?;
    let cohort_id = scope.cohort.as_ref().map(|c| c.id.clone());
    let cohorts = cohort_list
        .into_iter()
        .map(|c| Opt {
            selected: Some(&c.id) == cohort_id.as_ref(),
            label: format!("{} ({})", c.name, c.members),
            value: c.id,
        })
        .collect();
    let states = [
        ("mastered", "Mastered"),
        ("not_yet", "Not yet"),
        ("submitted", "Awaiting review"),
        ("in_progress", "In progress"),
        ("not_started", "Not started"),
    ]
    .into_iter()
    .map(|(v, l)| Opt {
        value: v.into(),
        label: l.into(),
        selected: q.state == v,
    })
    .collect();
    let competency_opts = dash
        .competencies
        .iter()
        .map(|c| Opt {
            value: c.id.clone(),
            label: c.label(),
            selected: q.competency == c.id,
        })
        .collect();
    let with_page = |p: usize| {
        let mut q2 = q.clone();
        q2.page = p.to_string();
        format!("/orgs/{}/progress?{}", org.slug, q2.query_string())
    };
    let t = dash.thresholds;
    Ok(TeacherPage {
        chrome: viewer.chrome.clone(),
        can_decide: require_teacher(&viewer.caller, &org.id).is_ok(),
        can_set_thresholds: viewer
            .caller
            .require_role(&org.id, Role::can_edit_registry)
            .is_ok(),
        framework_id: scope.framework.id.clone(),
        framework_title: scope.framework.title.clone(),
        frameworks,
        cohorts,
        states,
        competency_opts,
        flagged_only,
        columns: dash
            .competencies
            .iter()
            .map(|c| (c.label(), c.statement.clone()))
            .collect(),
        learners: dash.rows.len(),
        flagged_learners: dash.rows.iter().filter(|r| r.flagged).count(),
        rows,
        flags,
        more_flags,
        total,
        page,
        pages,
        prev: (page > 1).then(|| with_page(page - 1)),
        next: (page < pages).then(|| with_page(page + 1)),
        attempts: opt_text(t.attempts_without_mastery),
        inactive_days: opt_text(t.days_without_activity),
        target_days: opt_text(t.days_past_target),
        thresholds_text: thresholds_text(&t),
        thresholds_error: problems.thresholds,
        back: TeacherQuery {
            framework: scope.framework.id,
            ..q
        },
        org_name: org.name,
        org_slug: org.slug,
        notice,
    })
}

/// Notices after a redirect.
#[derive(Debug, Deserialize)]
pub struct NoticeQuery {
    #[serde(flatten)]
    filters: TeacherQuery,
    #[serde(default)]
    done: String,
}

/// `GET /orgs/{slug}/progress`: the teacher dashboard (reviewers, teachers, admins).
pub async fn teacher(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let org = state.store.org_by_slug(&slug).await?;
    let notice = match q.done.as_str() {
        "flag" => Some("Your decision on the flag is saved and shown with it."),
        "cleared" => Some("The decision is cleared: the rule speaks again."),
        "thresholds" => Some("The course's thresholds are saved."),
        _ => None,
    };
    let page = teacher_page(&state, &viewer, org, q.filters, Problems::default(), notice).await?;
    Ok(render(StatusCode::OK, &page))
}

/// The flag form.
#[derive(Debug, Deserialize)]
pub struct FlagForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
    #[serde(flatten)]
    back: TeacherQuery,
}

/// `POST /orgs/{slug}/learners/{user}/competencies/{competency}/flag`: a teacher dismisses or
/// overrides a flag with a note, or clears that decision.
pub async fn decide_flag(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, learner, competency)): Path<(String, String, String)>,
    PageForm(form): PageForm<FlagForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let org = state.store.org_by_slug(&slug).await?;
    require_teacher(&viewer.caller, &org.id)?;
    let kind = FlagKind::parse(&form.kind)
        .ok_or_else(|| AppError::InvalidParameter("unknown kind of flag".into()))?;
    let back = form.back.query_string();
    let decision = match form.decision.as_str() {
        "dismissed" => DecisionKind::Dismissed,
        "overridden" => DecisionKind::Overridden,
        "clear" => {
            let c = state.store.competency(&competency).await?;
            if c.org_id != org.id {
                return Err(AppError::NotFound.into());
            }
            state
                .store
                .clear_flag_decision(
                    &org.id,
                    &learner,
                    &c.id,
                    kind,
                    viewer.caller.user_id(),
                    state.clock.now(),
                )
                .await?;
            return Ok(see_other(&format!(
                "/orgs/{}/progress?{back}&done=cleared#flags",
                org.slug
            )));
        }
        _ => {
            return Err(AppError::InvalidParameter(
                "choose to dismiss or to override the flag".into(),
            )
            .into());
        }
    };
    match decide(
        &state,
        &viewer.caller,
        &org,
        &learner,
        &competency,
        kind,
        decision,
        &form.note,
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/orgs/{}/progress?{back}&done=flag#flags",
            org.slug
        ))),
        Err(AppError::Validation { reason, .. }) => {
            let problems = Problems {
                flag: Some((
                    learner,
                    competency,
                    kind.as_str().to_owned(),
                    format!("Write a note: {reason}."),
                    form.note,
                )),
                thresholds: None,
            };
            let page = teacher_page(&state, &viewer, org, form.back, problems, None).await?;
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => Err(e.into()),
    }
}

/// The thresholds form. A field left empty switches its rule off; a missing field is a problem.
#[derive(Debug, Deserialize)]
pub struct ThresholdsForm {
    #[serde(default)]
    csrf_token: String,
    attempts: Option<String>,
    inactive_days: Option<String>,
    target_days: Option<String>,
    #[serde(flatten)]
    back: TeacherQuery,
}

fn parse_threshold(v: &str, what: &str) -> Result<Option<u32>, String> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    v.parse::<u32>().map(Some).map_err(|_| {
        format!(
            "{what}: “{}” is not a whole number.",
            v.chars().take(20).collect::<String>()
        )
    })
}

/// `POST /frameworks/{framework}/flag-thresholds`: a teacher or admin sets the course's
/// thresholds.
pub async fn set_thresholds(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(framework_id): Path<String>,
    PageForm(form): PageForm<ThresholdsForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let framework = state.store.framework(&framework_id).await?;
    viewer
        .caller
        .require_role(&framework.org_id, Role::can_edit_registry)?;
    let org = state.store.org(&framework.org_id).await?;
    let parsed = match (&form.attempts, &form.inactive_days, &form.target_days) {
        (Some(a), Some(d), Some(t)) => parse_threshold(a, "Attempts")
            .and_then(|a| Ok((a, parse_threshold(d, "Days without activity")?)))
            .and_then(|(a, d)| Ok((a, d, parse_threshold(t, "Days past the target date")?)))
            .and_then(|(a, d, t)| {
                let th = Thresholds {
                    attempts_without_mastery: a,
                    days_without_activity: d,
                    days_past_target: t,
                };
                th.check()
                    .map(|()| th)
                    .map_err(|(field, reason)| format!("{field} {reason}."))
            }),
        _ => Err("Fill in the three thresholds (leave one empty to switch its rule off).".into()),
    };
    let mut back = form.back;
    back.framework = framework.id.clone();
    match parsed {
        Ok(t) => {
            state
                .store
                .set_flag_thresholds(
                    &org.id,
                    &framework.id,
                    &t,
                    viewer.caller.user_id(),
                    state.clock.now(),
                )
                .await?;
            Ok(see_other(&format!(
                "/orgs/{}/progress?{}&done=thresholds",
                org.slug,
                back.query_string()
            )))
        }
        Err(message) => {
            let problems = Problems {
                flag: None,
                thresholds: Some(message),
            };
            let page = teacher_page(&state, &viewer, org, back, problems, None).await?;
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Cohorts.

struct CohortView {
    id: String,
    name: String,
    members: i64,
    learners: Vec<(String, String, bool)>,
}

#[derive(Template)]
#[template(path = "dashboard_cohorts.html")]
struct CohortsPage {
    chrome: Chrome,
    org_name: String,
    org_slug: String,
    can_edit: bool,
    cohorts: Vec<CohortView>,
    name: String,
    error: Option<String>,
    notice: Option<&'static str>,
}

async fn cohorts_page(
    state: &AppState,
    viewer: &Viewer,
    org: Org,
    name: String,
    error: Option<String>,
    notice: Option<&'static str>,
) -> Result<CohortsPage, PageError> {
    require_staff(&viewer.caller, &org.id)?;
    let can_edit = viewer
        .caller
        .require_role(&org.id, Role::can_edit_registry)
        .is_ok();
    let learners = state.store.people_with_role(&org.id, "learner").await?;
    let mut cohorts = Vec::new();
    for c in state.store.cohorts(&org.id).await? {
        let members: HashSet<String> = state
            .store
            .cohort_member_ids(&c.id)
            .await?
            .into_iter()
            .collect();
        cohorts.push(CohortView {
            learners: learners
                .iter()
                .map(|l| (l.id.clone(), l.name.clone(), members.contains(&l.id)))
                .collect(),
            id: c.id,
            name: c.name,
            members: c.members,
        });
    }
    Ok(CohortsPage {
        chrome: viewer.chrome.clone(),
        org_name: org.name,
        org_slug: org.slug,
        can_edit,
        cohorts,
        name,
        error,
        notice,
    })
}

/// Notices after a redirect.
#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// `GET /orgs/{slug}/cohorts`: the organisation's cohorts (staff; teachers and admins edit).
pub async fn cohorts(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let org = state.store.org_by_slug(&slug).await?;
    let notice = match q.done.as_deref() {
        Some("created") => Some("The cohort is made. Choose its learners below."),
        Some("members") => Some("The cohort's learners are saved."),
        _ => None,
    };
    let page = cohorts_page(&state, &viewer, org, String::new(), None, notice).await?;
    Ok(render(StatusCode::OK, &page))
}

/// The new-cohort form.
#[derive(Debug, Deserialize)]
pub struct CohortForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
}

/// `POST /orgs/{slug}/cohorts`: a teacher or admin makes a cohort.
pub async fn create_cohort(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    PageForm(form): PageForm<CohortForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let org = state.store.org_by_slug(&slug).await?;
    viewer
        .caller
        .require_role(&org.id, Role::can_edit_registry)?;
    match state
        .store
        .create_cohort(
            &org.id,
            &form.name,
            viewer.caller.user_id(),
            state.clock.now(),
        )
        .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/orgs/{}/cohorts?done=created",
            org.slug
        ))),
        Err(
            e @ (tessera_store::StoreError::Domain(_) | tessera_store::StoreError::Conflict(_)),
        ) => {
            let message = match AppError::from(e) {
                AppError::Validation { reason, .. } => format!("Name: {reason}."),
                other => format!("{other}."),
            };
            let page = cohorts_page(&state, &viewer, org, form.name, Some(message), None).await?;
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /orgs/{slug}/cohort-members`: a teacher or admin sets a cohort's learners (fields
/// `cohort` and one `learner` per ticked box).
pub async fn set_members(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    PageForm(fields): PageForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    viewer.check_csrf(field("csrf_token"))?;
    let org = state.store.org_by_slug(&slug).await?;
    viewer
        .caller
        .require_role(&org.id, Role::can_edit_registry)?;
    let cohort_id = field("cohort");
    if cohort_id.is_empty() {
        return Err(AppError::InvalidParameter("which cohort?".into()).into());
    }
    let cohort = state.store.cohort(&org.id, cohort_id).await?;
    let wanted: HashSet<String> = fields
        .iter()
        .filter(|(k, _)| k == "learner")
        .map(|(_, v)| v.clone())
        .collect();
    let current: HashSet<String> = state
        .store
        .cohort_member_ids(&cohort.id)
        .await?
        .into_iter()
        .collect();
    let add: Vec<String> = wanted.difference(&current).cloned().collect();
    let remove: Vec<String> = current.difference(&wanted).cloned().collect();
    state
        .store
        .change_cohort_members(
            &org.id,
            &cohort.id,
            &add,
            &remove,
            viewer.caller.user_id(),
            state.clock.now(),
        )
        .await?;
    Ok(see_other(&format!(
        "/orgs/{}/cohorts?done=members",
        org.slug
    )))
}
