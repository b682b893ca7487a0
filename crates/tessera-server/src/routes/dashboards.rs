//! The progress dashboards, cohorts, flag thresholds and teachers' decisions on flags.
//!
//! - `GET …/learners/{user}/dashboard`: the learner's own dashboard (standing per competency,
//!   attempts, elapsed time, pace against target dates, next steps with reasons). The learner
//!   themself and the organisation's staff (`may_read_learner`); anyone else 404.
//! - `GET …/orgs/{slug}/dashboard`: learners × competencies of one course (framework), for the
//!   organisation or one cohort, with filters and flags. Reviewers, teachers and admins only.
//! - Flag thresholds per course; a teacher dismisses or overrides a flag with a note (stored,
//!   audited, shown) or clears that decision. Flags only inform: nothing here changes a record.
//! - Cohorts: named groups of the organisation's learners, kept by teachers and admins.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tessera_core::account::Role;
use tessera_review::flags::{DecisionKind, FlagKind, Thresholds};
use tessera_store::accounts::Org;
use tessera_store::cohorts::Cohort;
use tessera_store::dashboards::{
    DashCompetency, FlagDecision, GridRow, LearnerDashboard, TeacherDashboard,
};
use tessera_store::registry::Framework;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Auth, Caller};
use crate::error::{AppError, ProblemDoc};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::routes::evidence::may_read_learner;
use crate::routes::{MAX_PAGE, PageQuery};
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(learner_dashboard))
        .routes(routes!(teacher_dashboard))
        .routes(routes!(get_thresholds, put_thresholds))
        .routes(routes!(decide_flag, clear_flag))
        .routes(routes!(list_cohorts, create_cohort))
        .routes(routes!(get_cohort))
        .routes(routes!(change_members))
}

/// Passes for the organisation's reviewers, teachers and admins (and platform admins): who may
/// see the teacher dashboard and the cohorts.
pub fn require_staff(caller: &Caller, org_id: &str) -> Result<(), AppError> {
    caller.require_role(org_id, |r| {
        matches!(r, Role::Reviewer | Role::Teacher | Role::Admin)
    })
}

/// Passes for the organisation's teachers (and platform admins): who decides on flags.
pub fn require_teacher(caller: &Caller, org_id: &str) -> Result<(), AppError> {
    caller.require_role(org_id, |r| r == Role::Teacher)
}

/// The organisation, if the caller may read `learner`'s dashboard there (a staff member asking
/// for a non-member sees nothing either).
pub async fn readable_learner(
    state: &AppState,
    caller: &Caller,
    slug: &str,
    learner: &str,
) -> Result<Org, AppError> {
    let org = state.store.org_by_slug(slug).await?;
    may_read_learner(caller, &org.id, learner)?;
    if caller.user_id() != learner && !state.store.is_member(&org.id, learner).await? {
        return Err(AppError::NotFound);
    }
    Ok(org)
}

/// A learner's own dashboard. The learner, and the organisation's reviewers, teachers and
/// admins.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/learners/{user}/dashboard", tag = "dashboards",
    params(("slug" = String, Path), ("user" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = LearnerDashboard), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn learner_dashboard(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, user)): AppPath<(String, String)>,
) -> Result<AppJson<LearnerDashboard>, AppError> {
    let org = readable_learner(&state, &caller, &slug, &user).await?;
    Ok(AppJson(
        state
            .store
            .learner_dashboard(&org.id, &user, state.clock.now())
            .await?,
    ))
}

/// Which cells the state filter keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StateFilter {
    /// No activity.
    NotStarted,
    /// Started, nothing submitted.
    InProgress,
    /// Awaiting review.
    Submitted,
    /// Mastered.
    Mastered,
    /// Reviewed "not yet".
    NotYet,
}

impl StateFilter {
    /// The state's stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            StateFilter::NotStarted => "not_started",
            StateFilter::InProgress => "in_progress",
            StateFilter::Submitted => "submitted",
            StateFilter::Mastered => "mastered",
            StateFilter::NotYet => "not_yet",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            StateFilter::NotStarted,
            StateFilter::InProgress,
            StateFilter::Submitted,
            StateFilter::Mastered,
            StateFilter::NotYet,
        ]
        .into_iter()
        .find(|f| f.as_str() == s)
    }
}

/// Filters and paging of the teacher dashboard.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DashboardQuery {
    /// The course (framework id); default: the organisation's first active course by title.
    pub framework: Option<String>,
    /// Only this cohort's learners.
    pub cohort: Option<String>,
    /// Only learners with a cell in this state (on `competency` if given, else on any).
    pub state: Option<StateFilter>,
    /// The competency the state filter looks at.
    pub competency: Option<String>,
    /// Only learners with an open flag (not set aside by a teacher).
    pub flagged: Option<bool>,
    /// How many learners (1–500, default 50).
    pub limit: Option<u32>,
    /// How many learners to skip.
    pub offset: Option<u32>,
}

/// A course's flag thresholds (`null`: the rule is off).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdsDoc {
    /// Flag after this many attempts without mastery (1–100).
    pub attempts_without_mastery: Option<u32>,
    /// Flag work in progress with no activity for this many days (1–365).
    pub days_without_activity: Option<u32>,
    /// Flag a competency not mastered more than this many days after its target date (0–365).
    pub days_past_target: Option<u32>,
}

impl From<Thresholds> for ThresholdsDoc {
    fn from(t: Thresholds) -> Self {
        Self {
            attempts_without_mastery: t.attempts_without_mastery,
            days_without_activity: t.days_without_activity,
            days_past_target: t.days_past_target,
        }
    }
}

impl From<ThresholdsDoc> for Thresholds {
    fn from(t: ThresholdsDoc) -> Self {
        Self {
            attempts_without_mastery: t.attempts_without_mastery,
            days_without_activity: t.days_without_activity,
            days_past_target: t.days_past_target,
        }
    }
}

/// The teacher dashboard.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeacherDashboardResponse {
    /// The course.
    pub framework_id: String,
    /// Its title.
    pub framework_title: String,
    /// The cohort, if filtered.
    pub cohort_id: Option<String>,
    /// The thresholds the flags use.
    pub thresholds: ThresholdsDoc,
    /// Columns: the course's active competencies.
    pub competencies: Vec<DashCompetency>,
    /// Learners in scope (organisation or cohort), before the filters.
    pub learners: usize,
    /// Of those, learners with an open flag.
    pub flagged_learners: usize,
    /// Learners matching the filters.
    pub total: usize,
    /// This page of them, by name.
    pub rows: Vec<GridRow>,
}

/// The dashboard's course and cohort, checked to belong to the organisation.
pub struct Scope {
    /// The course.
    pub framework: Framework,
    /// The cohort, if any.
    pub cohort: Option<Cohort>,
}

/// Resolves the course (the given one, or the organisation's first active one) and cohort.
pub async fn scope(
    state: &AppState,
    org: &Org,
    framework: Option<&str>,
    cohort: Option<&str>,
) -> Result<Scope, AppError> {
    let framework = match framework.filter(|f| !f.is_empty()) {
        Some(id) => {
            let f = state.store.framework(id).await?;
            if f.org_id != org.id {
                return Err(AppError::NotFound);
            }
            f
        }
        None => state
            .store
            .frameworks(&org.id, false, 1, 0)
            .await?
            .items
            .into_iter()
            .next()
            .ok_or(AppError::NotFound)?,
    };
    let cohort = match cohort.filter(|c| !c.is_empty()) {
        Some(id) => Some(state.store.cohort(&org.id, id).await?),
        None => None,
    };
    Ok(Scope { framework, cohort })
}

/// The course's grid for the scope (course and cohort ids as given, empty meaning none).
pub async fn load(
    state: &AppState,
    org: &Org,
    framework: Option<&str>,
    cohort: Option<&str>,
) -> Result<(Scope, TeacherDashboard), AppError> {
    let scope = scope(state, org, framework, cohort).await?;
    let dash = state
        .store
        .teacher_dashboard(
            &org.id,
            &scope.framework.id,
            scope.cohort.as_ref().map(|c| c.id.as_str()),
            None,
            state.clock.now(),
        )
        .await?;
    Ok((scope, dash))
}

/// The rows the filters keep, in order.
pub fn filter_rows<'a>(
    dash: &'a TeacherDashboard,
    state: Option<StateFilter>,
    competency: Option<&str>,
    flagged_only: bool,
) -> Result<Vec<&'a GridRow>, AppError> {
    let column = match competency.filter(|c| !c.is_empty()) {
        Some(id) => Some(
            dash.competencies
                .iter()
                .position(|c| c.id == id)
                .ok_or_else(|| {
                    AppError::InvalidParameter("competency is not one of the course's".into())
                })?,
        ),
        None => None,
    };
    Ok(dash
        .rows
        .iter()
        .filter(|r| !flagged_only || r.flagged)
        .filter(|r| match (state, column) {
            (None, _) => true,
            (Some(s), Some(k)) => r.cells[k].state == s.as_str(),
            (Some(s), None) => r.cells.iter().any(|c| c.state == s.as_str()),
        })
        .collect())
}

/// Learners × competencies of one course, with flags and their reasons. The organisation's
/// reviewers, teachers and admins. Filters: cohort, state (optionally on one competency),
/// flagged only; paged by learner.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/dashboard", tag = "dashboards",
    params(("slug" = String, Path), DashboardQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = TeacherDashboardResponse), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn teacher_dashboard(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
    AppQuery(q): AppQuery<DashboardQuery>,
) -> Result<AppJson<TeacherDashboardResponse>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    require_staff(&caller, &org.id)?;
    let (limit, offset) = PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .bounds()?;
    let (scope, dash) = load(&state, &org, q.framework.as_deref(), q.cohort.as_deref()).await?;
    let kept = filter_rows(
        &dash,
        q.state,
        q.competency.as_deref(),
        q.flagged.unwrap_or(false),
    )?;
    let total = kept.len();
    let rows: Vec<_> = kept
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(MAX_PAGE as usize))
        .cloned()
        .collect();
    // Each row is a learner's record: a staff read, logged and shown to the learner.
    for r in &rows {
        crate::routes::rights::note_access(&caller, &org.id, &r.learner_id, "record");
    }
    Ok(AppJson(TeacherDashboardResponse {
        framework_id: scope.framework.id,
        framework_title: scope.framework.title,
        cohort_id: scope.cohort.map(|c| c.id),
        thresholds: dash.thresholds.into(),
        learners: dash.rows.len(),
        flagged_learners: dash.rows.iter().filter(|r| r.flagged).count(),
        competencies: dash.competencies,
        total,
        rows,
    }))
}

/// A course's flag thresholds. The organisation's staff.
#[utoipa::path(get, path = "/api/v1/frameworks/{id}/flag-thresholds", tag = "dashboards",
    params(("id" = String, Path)), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = ThresholdsDoc), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn get_thresholds(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(id): AppPath<String>,
) -> Result<AppJson<ThresholdsDoc>, AppError> {
    let framework = state.store.framework(&id).await?;
    require_staff(&caller, &framework.org_id)?;
    Ok(AppJson(
        state.store.flag_thresholds(&framework.id).await?.into(),
    ))
}

/// Sets a course's flag thresholds (audited). Teachers and admins. 422 `validation-failed`
/// naming the field out of range.
#[utoipa::path(put, path = "/api/v1/frameworks/{id}/flag-thresholds", tag = "dashboards",
    params(("id" = String, Path)), request_body = ThresholdsDoc,
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = ThresholdsDoc), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn put_thresholds(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<ThresholdsDoc>,
) -> Result<AppJson<ThresholdsDoc>, AppError> {
    let framework = state.store.framework(&id).await?;
    caller.require_role(&framework.org_id, Role::can_edit_registry)?;
    let t = state
        .store
        .set_flag_thresholds(
            &framework.org_id,
            &framework.id,
            &body.into(),
            caller.user_id(),
            state.clock.now(),
        )
        .await?;
    Ok(AppJson(t.into()))
}

/// A teacher's decision on a flag.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagDecisionRequest {
    /// `dismissed` (until something new happens on the competency) or `overridden` (until
    /// cleared).
    pub decision: DecisionDoc,
    /// Why (required, 1–2000 characters; shown with the flag).
    pub note: String,
}

/// `dismissed` or `overridden`.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionDoc {
    /// Set aside until something new happens.
    Dismissed,
    /// Set aside until cleared.
    Overridden,
}

impl From<DecisionDoc> for DecisionKind {
    fn from(d: DecisionDoc) -> Self {
        match d {
            DecisionDoc::Dismissed => DecisionKind::Dismissed,
            DecisionDoc::Overridden => DecisionKind::Overridden,
        }
    }
}

/// Parses a flag kind from the path.
fn flag_kind(kind: &str) -> Result<FlagKind, AppError> {
    FlagKind::parse(kind).ok_or_else(|| {
        AppError::InvalidParameter(
            "kind must be attempts_without_mastery, no_recent_activity or past_target".into(),
        )
    })
}

/// Records a teacher's decision on a flag that is raised now (the flag's current reason is kept
/// with the note). The organisation's teachers. 409 `conflict` when the rule does not raise this
/// flag now; 422 `validation-failed` without a note.
#[allow(clippy::too_many_arguments)] // one call site per surface (API, page); a struct would only rename them
pub async fn decide(
    state: &AppState,
    caller: &Caller,
    org: &Org,
    learner: &str,
    competency_id: &str,
    kind: FlagKind,
    decision: DecisionKind,
    note: &str,
) -> Result<FlagDecision, AppError> {
    require_teacher(caller, &org.id)?;
    let competency = state.store.competency(competency_id).await?;
    if competency.org_id != org.id || !state.store.is_member(&org.id, learner).await? {
        return Err(AppError::NotFound);
    }
    let dash = state
        .store
        .teacher_dashboard(
            &org.id,
            &competency.framework_id,
            None,
            Some(learner),
            state.clock.now(),
        )
        .await?;
    let reason = dash
        .rows
        .first()
        .and_then(|r| {
            r.flags
                .iter()
                .find(|f| f.competency_id == competency.id && f.kind == kind.as_str())
        })
        .map(|f| f.reason.clone())
        .ok_or(AppError::Conflict("this flag is not raised now"))?;
    Ok(state
        .store
        .decide_flag(
            &org.id,
            learner,
            &competency.id,
            kind,
            decision,
            &reason,
            note,
            caller.user_id(),
            state.clock.now(),
        )
        .await?)
}

/// Dismisses or overrides a flag with a note (stored, audited, shown with the flag). Teachers
/// of the organisation. 409 `conflict` when the flag is not raised now.
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/learners/{user}/competencies/{id}/flags/{kind}", tag = "dashboards",
    params(("slug" = String, Path), ("user" = String, Path), ("id" = String, Path), ("kind" = String, Path)),
    request_body = FlagDecisionRequest, security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = FlagDecision), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn decide_flag(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, user, id, kind)): AppPath<(String, String, String, String)>,
    AppJson(body): AppJson<FlagDecisionRequest>,
) -> Result<AppJson<FlagDecision>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    require_teacher(&caller, &org.id)?;
    let kind = flag_kind(&kind)?;
    let d = decide(
        &state,
        &caller,
        &org,
        &user,
        &id,
        kind,
        body.decision.into(),
        &body.note,
    )
    .await?;
    Ok(AppJson(d))
}

/// Clears a teacher's decision on a flag (audited), so the rule speaks again. Teachers of the
/// organisation. 404 when there is none.
#[utoipa::path(delete, path = "/api/v1/orgs/{slug}/learners/{user}/competencies/{id}/flags/{kind}", tag = "dashboards",
    params(("slug" = String, Path), ("user" = String, Path), ("id" = String, Path), ("kind" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 204), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn clear_flag(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, user, id, kind)): AppPath<(String, String, String, String)>,
) -> Result<StatusCode, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    require_teacher(&caller, &org.id)?;
    let kind = flag_kind(&kind)?;
    state
        .store
        .clear_flag_decision(
            &org.id,
            &user,
            &id,
            kind,
            caller.user_id(),
            state.clock.now(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The organisation's cohorts. Its reviewers, teachers and admins.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/cohorts", tag = "dashboards",
    params(("slug" = String, Path)), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Vec<Cohort>), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn list_cohorts(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
) -> Result<AppJson<Vec<Cohort>>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    require_staff(&caller, &org.id)?;
    Ok(AppJson(state.store.cohorts(&org.id).await?))
}

/// A new cohort.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCohortRequest {
    /// Its name (1–120 characters, unique in the organisation).
    pub name: String,
    /// Learners to put in it (user ids of the organisation's learners).
    #[serde(default)]
    pub learners: Vec<String>,
}

/// Makes a cohort (audited). Teachers and admins. 409 `conflict` when the name is taken;
/// 422 `validation-failed` naming an id that is not a learner of the organisation.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/cohorts", tag = "dashboards",
    params(("slug" = String, Path)), request_body = NewCohortRequest,
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = Cohort), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn create_cohort(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
    AppJson(body): AppJson<NewCohortRequest>,
) -> Result<(StatusCode, AppJson<Cohort>), AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, Role::can_edit_registry)?;
    let now = state.clock.now();
    let mut cohort = state
        .store
        .create_cohort(&org.id, &body.name, caller.user_id(), now)
        .await?;
    if !body.learners.is_empty() {
        cohort = state
            .store
            .change_cohort_members(
                &org.id,
                &cohort.id,
                &body.learners,
                &[],
                caller.user_id(),
                now,
            )
            .await?;
    }
    Ok((StatusCode::CREATED, AppJson(cohort)))
}

/// A cohort with its learners.
#[derive(Debug, Serialize, ToSchema)]
pub struct CohortDetail {
    /// The cohort.
    #[serde(flatten)]
    pub cohort: Cohort,
    /// Its learners' user ids.
    pub learner_ids: Vec<String>,
}

/// One cohort with its learners. The organisation's reviewers, teachers and admins.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/cohorts/{id}", tag = "dashboards",
    params(("slug" = String, Path), ("id" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = CohortDetail), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn get_cohort(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, id)): AppPath<(String, String)>,
) -> Result<AppJson<CohortDetail>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    require_staff(&caller, &org.id)?;
    let cohort = state.store.cohort(&org.id, &id).await?;
    let learner_ids = state.store.cohort_member_ids(&cohort.id).await?;
    Ok(AppJson(CohortDetail {
        cohort,
        learner_ids,
    }))
}

/// Learners to add to and remove from a cohort.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembersRequest {
    /// User ids to add (learners of the organisation).
    #[serde(default)]
    pub add: Vec<String>,
    /// User ids to remove.
    #[serde(default)]
    pub remove: Vec<String>,
}

/// Adds and removes learners of a cohort in one change (audited). Teachers and admins.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/cohorts/{id}/members", tag = "dashboards",
    params(("slug" = String, Path), ("id" = String, Path)), request_body = MembersRequest,
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = Cohort), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn change_members(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, id)): AppPath<(String, String)>,
    AppJson(body): AppJson<MembersRequest>,
) -> Result<AppJson<Cohort>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, Role::can_edit_registry)?;
    Ok(AppJson(
        state
            .store
            .change_cohort_members(
                &org.id,
                &id,
                &body.add,
                &body.remove,
                caller.user_id(),
                state.clock.now(),
            )
            .await?,
    ))
}
