//! The CASE import page: upload a CFPackage file, validate it (Tessera's CASE JSON Schema
//! and the semantic rules of `tessera-case`), write it in one transaction with the store's
//! [`import_case`](tessera_store::Store::import_case), and show what was imported or every
//! problem with its JSON path. Same rule as the API: admins and teachers of the organisation.
//! The upload's body limit is the import limit from the configuration (`import_max_body_bytes`),
//! applied in the handler instead of the general one (see the page table in `mod.rs`).

use askama::Template;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use tessera_case::{CaseError, ValidationOptions};
use tessera_core::account::Role;
use tessera_store::accounts::Org;
use tessera_store::case::CaseImportReport;

use super::account::form_problem;
use super::{Chrome, PageError, Viewer, render};
use crate::error::AppError;
use crate::state::AppState;

/// A validation problem as listed.
struct ViolationRow {
    path: String,
    rule: String,
    message: String,
}

/// What an import did, as shown.
struct ReportView {
    framework_id: String,
    created: bool,
    case_version: String,
    competencies: usize,
    associations: usize,
    rubrics: usize,
    retired: usize,
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    chrome: Chrome,
    org_name: String,
    org_slug: String,
    max_mib: usize,
    report: Option<ReportView>,
    error: Option<String>,
    violations: Vec<ViolationRow>,
    truncated: bool,
}

async fn editable_org(state: &AppState, viewer: &Viewer, slug: &str) -> Result<Org, PageError> {
    let org = state.store.org_by_slug(slug).await?;
    viewer
        .caller
        .require_role(&org.id, Role::can_edit_registry)?;
    Ok(org)
}

fn page(state: &AppState, viewer: Viewer, org: Org) -> ImportPage {
    ImportPage {
        chrome: viewer.chrome,
        org_name: org.name,
        org_slug: org.slug,
        max_mib: state.config.import_max_body_bytes.div_ceil(1024 * 1024),
        report: None,
        error: None,
        violations: Vec::new(),
        truncated: false,
    }
}

/// `GET /orgs/{slug}/import`.
pub async fn form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    let org = editable_org(&state, &viewer, &slug).await?;
    Ok(render(StatusCode::OK, &page(&state, viewer, org)))
}

/// Why an upload could not be read.
enum Upload {
    Page(PageError),
    /// A problem to show on the form.
    Problem(StatusCode, String),
}

/// Reads the multipart form: the CSRF token must come before the file (browsers send fields in
/// document order), so a forged request is refused before its file is read.
async fn read_upload(
    state: &AppState,
    viewer: &Viewer,
    request: Request,
) -> Result<Vec<u8>, Upload> {
    let limit = state.config.import_max_body_bytes;
    let too_large = || {
        Upload::Problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "The file is too large: the limit is {} MiB.",
                limit.div_ceil(1024 * 1024)
            ),
        )
    };
    let (parts, body) = request.into_parts();
    let body = Body::new(http_body_util::Limited::new(body, limit));
    let mut multipart = Multipart::from_request(Request::from_parts(parts, body), state)
        .await
        .map_err(|_| {
            Upload::Problem(
                StatusCode::BAD_REQUEST,
                "The form must be sent as a file upload (multipart/form-data).".into(),
            )
        })?;
    let mut csrf_ok = false;
    let mut package = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(_) => {
                return Err(Upload::Problem(
                    StatusCode::BAD_REQUEST,
                    "The upload was cut off or malformed. Please try again.".into(),
                ));
            }
        };
        match field.name() {
            Some("csrf_token") => {
                let sent = field.text().await.unwrap_or_default();
                viewer.check_csrf(&sent).map_err(Upload::Page)?;
                csrf_ok = true;
            }
            Some("package") if csrf_ok => match field.bytes().await {
                Ok(b) => package = Some(b.to_vec()),
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
                Err(_) => {
                    return Err(Upload::Problem(
                        StatusCode::BAD_REQUEST,
                        "The upload was cut off. Please try again.".into(),
                    ));
                }
            },
            Some("package") => return Err(Upload::Page(PageError::Csrf)),
            _ => {}
        }
    }
    if !csrf_ok {
        return Err(Upload::Page(PageError::Csrf));
    }
    match package {
        Some(bytes) if !bytes.is_empty() => Ok(bytes),
        _ => Err(Upload::Problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Choose a CFPackage file to import.".into(),
        )),
    }
}

/// `POST /orgs/{slug}/import`: validate and import, then show the result or the problems.
pub async fn upload(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    request: Request,
) -> Result<Response, PageError> {
    let org = editable_org(&state, &viewer, &slug).await?;
    let org_id = org.id.clone();
    let bytes = match read_upload(&state, &viewer, request).await {
        Ok(b) => b,
        Err(Upload::Page(e)) => return Err(e),
        Err(Upload::Problem(status, message)) => {
            let mut p = page(&state, viewer, org);
            p.error = Some(message);
            return Ok(render(status, &p));
        }
    };
    // Validating thousands of items takes a slice of a core: off the async workers.
    let parsed = tokio::task::spawn_blocking(move || {
        tessera_case::import(&bytes, &ValidationOptions::default())
    })
    .await
    .map_err(AppError::internal)?;
    let mut p = page(&state, viewer, org);
    let framework = match parsed {
        Ok(f) => f,
        Err(CaseError::Json {
            line,
            column,
            message,
        }) => {
            p.error = Some(format!(
                "The file is not JSON (line {line}, column {column}: {message}). Nothing was imported."
            ));
            return Ok(render(StatusCode::BAD_REQUEST, &p));
        }
        Err(CaseError::Invalid {
            version,
            violations,
            truncated,
        }) => {
            p.error = Some(format!(
                "The file is not a valid CASE {} package. Nothing was imported.",
                version.as_str()
            ));
            p.violations = violations
                .into_iter()
                .map(|v| ViolationRow {
                    rule: v.rule.code().to_string(),
                    path: v.path,
                    message: v.message,
                })
                .collect();
            p.truncated = truncated;
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &p));
        }
        Err(e @ CaseError::Serialize(_)) => return Err(AppError::internal(e).into()),
    };
    let version = framework.case_version.as_str().to_owned();
    match state
        .store
        .import_case(&org_id, &framework, state.clock.now())
        .await
    {
        Ok(report) => {
            let CaseImportReport {
                framework_id,
                created,
                competencies,
                retired,
                associations,
                rubrics,
                ..
            } = report;
            tracing::info!(framework = %framework_id, created, competencies, "CASE package imported from the page");
            p.report = Some(ReportView {
                framework_id,
                created,
                case_version: version,
                competencies,
                associations,
                rubrics,
                retired,
            });
            Ok(render(StatusCode::OK, &p))
        }
        Err(e) => {
            let (status, message) = form_problem(e.into())?;
            p.error = Some(format!("{message} Nothing was imported."));
            Ok(render(status, &p))
        }
    }
}
