//! Issuing credentials from the pages: the masteries waiting for a teacher's approval (each with
//! an Issue button), each framework's issuance setting (admins), the bulk upload of a CSV file
//! and a batch's progress (counts, and every failed row with its reason).
//!
//! Same rules as the API: the organisation's teachers and admins issue and upload; admins set a
//! framework's issuance. The progress page refreshes itself (a `<meta>` refresh, no script)
//! while rows are still waiting.

use std::collections::HashMap;

use askama::Template;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tessera_core::account::Role;
use tessera_store::accounts::Org;

use super::account::form_problem;
use super::{Chrome, PageError, PageForm, Viewer, render, see_other};
use crate::bulk_worker;
use crate::error::AppError;
use crate::routes::bulk::is_issuer_role;
use crate::routes::issuing;
use crate::state::AppState;

/// How many waiting masteries and failed rows a page lists.
const LIST_LIMIT: i64 = 200;

struct WaitingRow {
    learner_id: String,
    learner: String,
    competency_id: String,
    competency: String,
    framework: String,
    at: String,
}

struct FrameworkRow {
    id: String,
    title: String,
    own: String,
    effective: String,
}

struct BatchLine {
    id: String,
    created: String,
    source: String,
    total: i64,
    issued: i64,
    failed: i64,
    waiting: i64,
}

#[derive(Template)]
#[template(path = "issuance.html")]
struct IssuancePage {
    chrome: Chrome,
    org_name: String,
    org_slug: String,
    notice: Option<String>,
    error: Option<String>,
    waiting: Vec<WaitingRow>,
    is_admin: bool,
    frameworks: Vec<FrameworkRow>,
    org_default: String,
    batches: Vec<BatchLine>,
    max_mib: usize,
}

async fn issuer_org(state: &AppState, viewer: &Viewer, slug: &str) -> Result<Org, PageError> {
    let org = state.store.org_by_slug(slug).await?;
    viewer.caller.require_role(&org.id, is_issuer_role)?;
    Ok(org)
}

fn day(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

async fn issuance_page(
    state: &AppState,
    viewer: Viewer,
    org: Org,
) -> Result<IssuancePage, PageError> {
    let store = &state.store;
    let waiting =
        bulk_worker::awaiting_credentials(store, "approval", Some(&org.id), LIST_LIMIT, 0).await?;
    let mut learner_ids: Vec<String> = waiting.iter().map(|w| w.learner_id.clone()).collect();
    learner_ids.sort();
    learner_ids.dedup();
    let names = store.user_names(&learner_ids).await?;
    let labels: HashMap<String, tessera_store::views::CompetencyLabel> = store
        .org_competencies(&org.id)
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let waiting = waiting
        .into_iter()
        .map(|w| {
            let label = labels.get(&w.competency_id);
            WaitingRow {
                learner: names
                    .get(&w.learner_id)
                    .cloned()
                    .unwrap_or_else(|| w.learner_id.clone()),
                competency: label.map_or_else(
                    || w.competency_id.clone(),
                    |c| match &c.code {
                        Some(code) => format!("{code} {}", c.statement),
                        None => c.statement.clone(),
                    },
                ),
                framework: label.map_or_else(String::new, |c| c.framework_title.clone()),
                learner_id: w.learner_id,
                competency_id: w.competency_id,
                at: day(w.at),
            }
        })
        .collect();
    let is_admin = viewer
        .caller
        .require_role(&org.id, |r| r == Role::Admin)
        .is_ok();
    let org_default = store.issuer_settings(&org.id).await?.issuance;
    let mut frameworks = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for c in labels.values() {
        if seen.insert(c.framework_id.clone()) {
            let own = store.framework_issuance(&c.framework_id).await?;
            frameworks.push(FrameworkRow {
                id: c.framework_id.clone(),
                title: c.framework_title.clone(),
                effective: own.clone().unwrap_or_else(|| org_default.clone()),
                own: own.unwrap_or_else(|| "default".into()),
            });
        }
    }
    frameworks.sort_by(|a, b| a.title.cmp(&b.title).then(a.id.cmp(&b.id)));
    let batches = store
        .batches(&org.id, 20, 0)
        .await?
        .into_iter()
        .map(|b| BatchLine {
            created: b.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            source: b.source.clone().unwrap_or_default(),
            total: b.total,
            issued: b.issued,
            failed: b.failed,
            waiting: b.pending + b.claimed,
            id: b.id,
        })
        .collect();
    Ok(IssuancePage {
        chrome: viewer.chrome,
        org_name: org.name,
        org_slug: org.slug,
        notice: None,
        error: None,
        waiting,
        is_admin,
        frameworks,
        org_default,
        batches,
        max_mib: state.config.import_max_body_bytes.div_ceil(1024 * 1024),
    })
}

/// `?done=…` after a successful form.
#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// `GET /orgs/{slug}/issuance`.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let org = issuer_org(&state, &viewer, &slug).await?;
    let mut p = issuance_page(&state, viewer, org).await?;
    p.notice = match q.done.as_deref() {
        Some("issued") => Some("The credential was issued.".into()),
        Some("setting") => Some("The framework's issuance was saved.".into()),
        _ => None,
    };
    Ok(render(StatusCode::OK, &p))
}

/// The Issue button.
#[derive(Debug, Deserialize)]
pub struct IssueForm {
    csrf_token: String,
    #[serde(default)]
    learner: String,
    #[serde(default)]
    competency: String,
}

/// `POST /orgs/{slug}/issuance/issue`: a teacher approves one mastery's credential.
pub async fn issue(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    PageForm(form): PageForm<IssueForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let org = issuer_org(&state, &viewer, &slug).await?;
    let outcome = if form.learner.is_empty() || form.competency.is_empty() {
        Err(AppError::Validation {
            field: "mastery",
            reason: "choose a mastery to issue".into(),
        })
    } else if !state.store.is_member(&org.id, &form.learner).await? {
        Err(AppError::Validation {
            field: "learner",
            reason: "not a member of this organisation".into(),
        })
    } else {
        issuing::issue_for_mastery(
            &state,
            &org,
            &form.learner,
            &form.competency,
            Some(viewer.caller.user_id()),
        )
        .await
        .map(|_| ())
    };
    match outcome {
        Ok(()) => Ok(see_other(&format!(
            "/orgs/{}/issuance?done=issued",
            org.slug
        ))),
        Err(AppError::NotFound) => Err(AppError::NotFound.into()),
        Err(e) => {
            let (status, message) = form_problem(e)?;
            let mut p = issuance_page(&state, viewer, org).await?;
            p.error = Some(message);
            Ok(render(status, &p))
        }
    }
}

/// A framework's issuance setting.
#[derive(Debug, Deserialize)]
pub struct SettingForm {
    csrf_token: String,
    #[serde(default)]
    issuance: String,
}

/// `POST /orgs/{slug}/issuance/frameworks/{framework}`: admins set `approval`, `automatic` or
/// `default`.
pub async fn set_framework(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, framework_id)): Path<(String, String)>,
    PageForm(form): PageForm<SettingForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let org = state.store.org_by_slug(&slug).await?;
    viewer.caller.require_role(&org.id, |r| r == Role::Admin)?;
    let framework = state.store.framework(&framework_id).await?;
    if framework.org_id != org.id {
        return Err(AppError::NotFound.into());
    }
    let value = match form.issuance.as_str() {
        "approval" | "automatic" => Some(form.issuance.as_str()),
        "default" => None,
        _ => {
            let mut p = issuance_page(&state, viewer, org).await?;
            p.error = Some("Choose approval, automatic or the organisation's default.".into());
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &p));
        }
    };
    state
        .store
        .set_framework_issuance(&framework.id, value, state.clock.now())
        .await?;
    Ok(see_other(&format!(
        "/orgs/{}/issuance?done=setting",
        org.slug
    )))
}

/// Reads the upload form: the CSRF token must come before the file (see `import.rs`).
async fn read_csv(
    state: &AppState,
    viewer: &Viewer,
    request: Request,
) -> Result<Vec<u8>, Result<String, PageError>> {
    let limit = state.config.import_max_body_bytes;
    let (parts, body) = request.into_parts();
    let body = Body::new(http_body_util::Limited::new(body, limit));
    let mut multipart = Multipart::from_request(Request::from_parts(parts, body), state)
        .await
        .map_err(|_| Ok("The form must be sent as a file upload (multipart/form-data).".into()))?;
    let too_large = || {
        format!(
            "The file is too large: the limit is {} MiB.",
            limit.div_ceil(1024 * 1024)
        )
    };
    let mut csrf_ok = false;
    let mut file = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(Ok(too_large())),
            Err(_) => {
                return Err(Ok(
                    "The upload was cut off or malformed. Please try again.".into()
                ));
            }
        };
        match field.name() {
            Some("csrf_token") => {
                let sent = field.text().await.unwrap_or_default();
                viewer.check_csrf(&sent).map_err(Err)?;
                csrf_ok = true;
            }
            Some("file") if csrf_ok => match field.bytes().await {
                Ok(b) => file = Some(b.to_vec()),
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    return Err(Ok(too_large()));
                }
                Err(_) => return Err(Ok("The upload was cut off. Please try again.".into())),
            },
            Some("file") => return Err(Err(PageError::Csrf)),
            _ => {}
        }
    }
    if !csrf_ok {
        return Err(Err(PageError::Csrf));
    }
    match file {
        Some(bytes) if !bytes.is_empty() => Ok(bytes),
        _ => Err(Ok("Choose a CSV file to upload.".into())),
    }
}

/// `POST /orgs/{slug}/issue-batches`: upload a CSV file; on to its progress page.
pub async fn upload(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    request: Request,
) -> Result<Response, PageError> {
    let org = issuer_org(&state, &viewer, &slug).await?;
    let problem = match read_csv(&state, &viewer, request).await {
        Ok(bytes) => {
            let now = state.clock.now();
            let made = match bulk_worker::parse_csv(&bytes) {
                Ok(raw) => bulk_worker::prepare_rows(&state.store, &org.id, raw, now).await,
                Err(e) => Err(e),
            };
            match made {
                Ok(rows) => {
                    let batch = state
                        .store
                        .create_batch(&org.id, Some(viewer.caller.user_id()), "csv", &rows, now)
                        .await?;
                    return Ok(see_other(&format!(
                        "/orgs/{}/issue-batches/{}",
                        org.slug, batch.id
                    )));
                }
                Err(e) => {
                    let (status, message) = form_problem(e)?;
                    (status, format!("{message} Nothing was uploaded."))
                }
            }
        }
        Err(Ok(message)) => (StatusCode::UNPROCESSABLE_ENTITY, message),
        Err(Err(e)) => return Err(e),
    };
    let mut p = issuance_page(&state, viewer, org).await?;
    p.error = Some(problem.1);
    Ok(render(problem.0, &p))
}

struct FailedLine {
    row_no: i64,
    key: String,
    error: String,
}

#[derive(Template)]
#[template(path = "issuance_batch.html")]
struct BatchPage {
    chrome: Chrome,
    org_name: String,
    org_slug: String,
    id: String,
    created: String,
    total: i64,
    pending: i64,
    claimed: i64,
    issued: i64,
    failed: i64,
    done: bool,
    percent: i64,
    failures: Vec<FailedLine>,
    more_failures: bool,
}

/// `GET /orgs/{slug}/issue-batches/{batch}`: the progress view.
pub async fn batch(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, batch_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let org = issuer_org(&state, &viewer, &slug).await?;
    let b = state.store.batch(&org.id, &batch_id).await?;
    let failed_rows = state
        .store
        .batch_rows(&b.id, Some("failed"), LIST_LIMIT + 1, 0)
        .await?;
    let more_failures = failed_rows.len() > usize::try_from(LIST_LIMIT).unwrap_or(usize::MAX);
    let failures = failed_rows
        .into_iter()
        .take(usize::try_from(LIST_LIMIT).unwrap_or(usize::MAX))
        .map(|r| FailedLine {
            row_no: r.row_no,
            key: r.row_key,
            error: r.error.unwrap_or_default(),
        })
        .collect();
    let finished = b.issued + b.failed;
    let page = BatchPage {
        chrome: viewer.chrome,
        org_name: org.name,
        org_slug: org.slug,
        done: b.done(),
        percent: if b.total > 0 {
            finished * 100 / b.total
        } else {
            100
        },
        created: b.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        total: b.total,
        pending: b.pending,
        claimed: b.claimed,
        issued: b.issued,
        failed: b.failed,
        id: b.id,
        failures,
        more_failures,
    };
    Ok(render(StatusCode::OK, &page))
}

/// A batch of one refused row, for the page matrix (`http_tests.rs`): its id.
#[cfg(test)]
pub(super) async fn fixture(
    state: &AppState,
    org_id: &str,
    learner_id: &str,
    competency_id: &str,
) -> String {
    let row = tessera_store::batches::NewBatchRow {
        row_no: 1,
        row_key: "matrix".into(),
        learner_id: learner_id.to_owned(),
        competency_id: competency_id.to_owned(),
        level: None,
        activity_start: None,
        activity_end: None,
        refused: Some("a fixture row".into()),
    };
    state
        .store
        .create_batch(org_id, None, "csv", &[row], state.clock.now())
        .await
        .expect("batch")
        .id
}
