//! Subgroup attributes and the equity audit.
//!
//! - The organisation's admins define which subgroup attributes exist (a key, the question and
//!   the answers offered); every member may read the definitions.
//! - A learner answers for themself only, with explicit consent (`consent: true`), and may
//!   withdraw (the answer is deleted). No route returns another person's answer: the answers
//!   are read only into the audit's aggregates.
//! - Teachers and admins read the audit (`tessera_store::equity`): mastery rate and median time
//!   to mastery per group, per framework or competency, with every cell under 10 learners
//!   suppressed (and a second cell where one could be recomputed from the total), as JSON or
//!   CSV with the same suppression.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tessera_core::account::Role;
use tessera_store::equity::{Cell, EquityReport, ScopeKind, Suppression, THRESHOLD};
use tessera_store::subgroups::{AttributeDefinition, InvalidAttribute, LearnerSubgroup};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Auth, Caller};
use crate::error::{AppError, ProblemDoc};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_attributes))
        .routes(routes!(put_attribute, delete_attribute))
        .routes(routes!(my_subgroups))
        .routes(routes!(set_my_subgroup, withdraw_my_subgroup))
        .routes(routes!(equity_report))
        .routes(routes!(equity_csv))
}

/// Who reads the audit: teachers and admins (platform admins pass every role check).
pub fn is_auditor(r: Role) -> bool {
    matches!(r, Role::Teacher | Role::Admin)
}

/// Passes if the caller is a learner of the organisation: answers are a learner's own.
/// Outsiders get 404, other members 403.
pub fn require_learner(caller: &Caller, org_id: &str) -> Result<(), AppError> {
    caller.require_member(org_id)?;
    if caller.roles_in(org_id).any(|r| r == Role::Learner) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

impl From<InvalidAttribute> for AppError {
    fn from(e: InvalidAttribute) -> Self {
        AppError::Validation {
            field: e.field,
            reason: e.reason,
        }
    }
}

/// The subgroup attributes the organisation asks about. Any member.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/subgroup-attributes", tag = "equity",
    params(("slug" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = [AttributeDefinition]), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn list_attributes(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
) -> Result<AppJson<Vec<AttributeDefinition>>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_member(&org.id)?;
    Ok(AppJson(state.store.subgroup_attributes(&org.id).await?))
}

/// A definition as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeRequest {
    /// The question shown to learners.
    pub label: String,
    /// The answers offered (2 to 20, distinct), in display order.
    pub values: Vec<String>,
}

/// The definition stored, and how many learners' answers were deleted because their answer is
/// no longer offered.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttributeSaved {
    /// The definition.
    pub attribute: AttributeDefinition,
    /// Answers deleted.
    pub answers_removed: u64,
}

/// Creates or replaces a subgroup attribute. Admins. 422 `validation-failed` for a bad key,
/// label or answer list.
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/subgroup-attributes/{name}", tag = "equity",
    params(("slug" = String, Path), ("name" = String, Path)),
    request_body = AttributeRequest, security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = AttributeSaved), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn put_attribute(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, name)): AppPath<(String, String)>,
    AppJson(body): AppJson<AttributeRequest>,
) -> Result<AppJson<AttributeSaved>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, |r| r == Role::Admin)?;
    let def = AttributeDefinition::parse(&name, &body.label, &body.values)?;
    let answers_removed = state
        .store
        .put_subgroup_attribute(&org.id, &def, state.clock.now())
        .await?;
    Ok(AppJson(AttributeSaved {
        attribute: def,
        answers_removed,
    }))
}

/// Removes a subgroup attribute and every learner's answer to it. Admins.
#[utoipa::path(delete, path = "/api/v1/orgs/{slug}/subgroup-attributes/{name}", tag = "equity",
    params(("slug" = String, Path), ("name" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 204), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn delete_attribute(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, name)): AppPath<(String, String)>,
) -> Result<StatusCode, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    caller.require_role(&org.id, |r| r == Role::Admin)?;
    state
        .store
        .delete_subgroup_attribute(&org.id, &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's own answers in the organisation. Learners of the organisation.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/me/subgroups", tag = "equity",
    params(("slug" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = [LearnerSubgroup]), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn my_subgroups(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
) -> Result<AppJson<Vec<LearnerSubgroup>>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    require_learner(&caller, &org.id)?;
    Ok(AppJson(
        state
            .store
            .learner_subgroups(&org.id, caller.user_id())
            .await?,
    ))
}

/// A learner's answer with their consent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubgroupAnswer {
    /// One of the answers the attribute offers.
    pub value: String,
    /// Must be `true`: the learner agrees that the answer is used, only in aggregates with
    /// groups under 10 learners hidden, in the organisation's equity audit.
    pub consent: bool,
}

/// Gives (or changes) the caller's answer, consented now. Learners of the organisation.
/// 422 `validation-failed` without `consent: true`; 404 for an attribute the organisation does
/// not ask about; 422 `invalid-reference` for an answer it does not offer.
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/me/subgroups/{name}", tag = "equity",
    params(("slug" = String, Path), ("name" = String, Path)),
    request_body = SubgroupAnswer, security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = LearnerSubgroup), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn set_my_subgroup(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, name)): AppPath<(String, String)>,
    AppJson(body): AppJson<SubgroupAnswer>,
) -> Result<AppJson<LearnerSubgroup>, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    require_learner(&caller, &org.id)?;
    if !body.consent {
        return Err(AppError::Validation {
            field: "consent",
            reason: "an answer is stored only with your consent (consent: true)".into(),
        });
    }
    let saved = state
        .store
        .set_learner_subgroup(
            &org.id,
            caller.user_id(),
            &name,
            body.value.trim(),
            state.clock.now(),
        )
        .await?;
    Ok(AppJson(saved))
}

/// Withdraws the caller's answer (it is deleted). Learners of the organisation; 204 whether or
/// not there was one.
#[utoipa::path(delete, path = "/api/v1/orgs/{slug}/me/subgroups/{name}", tag = "equity",
    params(("slug" = String, Path), ("name" = String, Path)),
    security(("bearer" = []), ("session" = [])),
    responses((status = 204), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn withdraw_my_subgroup(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath((slug, name)): AppPath<(String, String)>,
) -> Result<StatusCode, AppError> {
    let org = state.store.org_by_slug(&slug).await?;
    require_learner(&caller, &org.id)?;
    state
        .store
        .withdraw_learner_subgroup(&org.id, caller.user_id(), &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Which audit.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EquityQuery {
    /// The subgroup attribute's key.
    pub attribute: String,
    /// One framework (its competencies become the sections); absent: every framework.
    pub framework: Option<String>,
}

/// The audit for the caller, after the access checks: teachers and admins; the framework must
/// be the organisation's (404 otherwise), the attribute defined (404 otherwise).
pub async fn load_report(
    state: &AppState,
    caller: &Caller,
    slug: &str,
    attribute: &str,
    framework: Option<&str>,
) -> Result<EquityReport, AppError> {
    let org = state.store.org_by_slug(slug).await?;
    caller.require_role(&org.id, is_auditor)?;
    if let Some(id) = framework
        && state.store.framework(id).await?.org_id != org.id
    {
        return Err(AppError::NotFound);
    }
    Ok(state
        .store
        .equity_report(&org.id, attribute, framework)
        .await?)
}

/// The equity audit as JSON: per section and group, learners, mastery rate and median days to
/// mastery; a cell under 10 learners (or hidden to protect one) has `suppressed` and no figures.
/// Teachers and admins.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/equity", tag = "equity",
    params(("slug" = String, Path), EquityQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = EquityReport), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn equity_report(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
    AppQuery(q): AppQuery<EquityQuery>,
) -> Result<AppJson<EquityReport>, AppError> {
    let report = load_report(&state, &caller, &slug, &q.attribute, q.framework.as_deref()).await?;
    Ok(AppJson(report))
}

/// The equity audit as CSV, with the same suppression (a hidden figure is the words "fewer
/// than 10" or "suppressed", never a number). Teachers and admins.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/equity.csv", tag = "equity",
    params(("slug" = String, Path), EquityQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, content_type = "text/csv", body = String), (status = "4XX", body = ProblemDoc, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
async fn equity_csv(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AppPath(slug): AppPath<String>,
    AppQuery(q): AppQuery<EquityQuery>,
) -> Result<Response, AppError> {
    let report = load_report(&state, &caller, &slug, &q.attribute, q.framework.as_deref()).await?;
    Ok(csv_response(
        &report,
        &format!("equity-{slug}-{}.csv", q.attribute),
    ))
}

/// A CSV download of `report`.
pub fn csv_response(report: &EquityReport, filename: &str) -> Response {
    let disposition = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"",
        filename.replace(
            |c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '-',
            "_"
        )
    ))
    .unwrap_or(HeaderValue::from_static("attachment"));
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        report_csv(report),
    )
        .into_response()
}

/// What a hidden figure reads as, in the CSV and on the page.
pub fn hidden_text(why: Suppression) -> String {
    match why {
        Suppression::FewerThanThreshold => format!("fewer than {THRESHOLD}"),
        Suppression::Complementary => "suppressed".to_owned(),
    }
}

/// One CSV field: quoted when needed (RFC 4180), and a leading `=`, `+`, `-`, `@` made inert
/// so a spreadsheet does not run a title as a formula.
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The report as CSV: one row per section and group (the total last in each section).
pub fn report_csv(report: &EquityReport) -> String {
    let mut out = String::from(
        "attribute,scope,id,code,title,group,learners,mastery_rate_percent,median_days_to_mastery,note\r\n",
    );
    for s in &report.sections {
        let scope = match s.scope {
            ScopeKind::All => "all",
            ScopeKind::Framework => "framework",
            ScopeKind::Competency => "competency",
        };
        for c in s.cells.iter().chain([&s.total]) {
            let (learners, rate, median, note) = csv_figures(c);
            let row = [
                field(&report.attribute),
                scope.to_owned(),
                field(s.id.as_deref().unwrap_or("")),
                field(s.code.as_deref().unwrap_or("")),
                field(&s.title),
                field(&c.group),
                learners,
                rate,
                median,
                note,
            ];
            out.push_str(&row.join(","));
            out.push_str("\r\n");
        }
    }
    out
}

fn csv_figures(c: &Cell) -> (String, String, String, String) {
    if let Some(why) = c.suppressed {
        let t = hidden_text(why);
        let note = match why {
            Suppression::FewerThanThreshold => "fewer than 10 learners: not shown",
            Suppression::Complementary => "hidden so that a smaller group cannot be worked out",
        };
        return (t.clone(), t.clone(), t, note.to_owned());
    }
    let learners = c.learners.map(|n| n.to_string()).unwrap_or_default();
    let rate = c
        .mastery_rate_percent
        .map(|r| format!("{r:.1}"))
        .unwrap_or_default();
    let (median, note) = match c.median_days_to_mastery {
        Some(d) => (format!("{d:.1}"), String::new()),
        None if c.median_suppressed => (
            format!("fewer than {THRESHOLD} mastered"),
            "median not shown: fewer than 10 learners mastered".to_owned(),
        ),
        None => (String::new(), String::new()),
    };
    (learners, rate, median, note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(field("plain"), "plain");
    }
}
